//! The read path's shortcuts: the catalog (flavors, datastore versions) held in memory, and a
//! page of instances with everything its views need read in one statement.
//!
//! The catalog changes only through this store's own writes (the operator's API and seeding at
//! start), each of which drops what is held ([`Store::catalog_write`]). That holds on SQLite,
//! whose file one process serves; on PostgreSQL other hosts may write, so nothing is held there
//! and every read goes to the database as before.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::instances::COLUMNS;
use super::tasks::{ACTIVE, TaskState};
use super::{
    DatastoreVersion, Flavor, Instance, InstanceFilter, Store, StoreError, StoreResult, Task,
    on_db,
};

/// One cached list and the catalog generation it was read at.
type Slot<T> = Mutex<Option<(u64, Arc<Vec<T>>)>>;

/// The catalog as last read, with a generation every write bumps.
#[derive(Default)]
pub(crate) struct Catalog {
    generation: AtomicU64,
    flavors: Slot<Flavor>,
    versions: Slot<DatastoreVersion>,
}

impl Catalog {
    /// What is held if it is still current, else reads it and holds it unless a write came
    /// in between (a write bumps the generation after it commits, so a list read across it is
    /// never kept).
    async fn get<T>(
        &self,
        slot: impl Fn(&Catalog) -> &Slot<T>,
        read: impl Future<Output = StoreResult<Vec<T>>>,
    ) -> StoreResult<Arc<Vec<T>>> {
        let generation = self.generation.load(Ordering::Acquire);
        if let Some((at, held)) = &*slot(self).lock().unwrap()
            && *at == generation
        {
            return Ok(held.clone());
        }
        let fresh = Arc::new(read.await?);
        let mut held = slot(self).lock().unwrap();
        if self.generation.load(Ordering::Acquire) == generation {
            *held = Some((generation, fresh.clone()));
        }
        Ok(fresh)
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        *self.flavors.lock().unwrap() = None;
        *self.versions.lock().unwrap() = None;
    }
}

/// Held while a write to the catalog runs: dropping it (after the commit, at the end of the
/// writing function) drops what is held.
pub(crate) struct CatalogWrite(Option<Arc<Catalog>>);

impl Drop for CatalogWrite {
    fn drop(&mut self) {
        if let Some(catalog) = &self.0 {
            catalog.changed();
        }
    }
}

/// An instance of a page with what its views need besides the catalog.
#[derive(Debug, Clone)]
pub struct ListedInstance {
    /// The instance.
    pub instance: Instance,
    /// The name of its configuration group (when the group is the project's).
    pub configuration_name: Option<String>,
    /// The name and last heartbeat of the host its node is placed on.
    pub host: Option<(String, i64)>,
    /// Its active task.
    pub task: Option<Task>,
    /// Ids and names of its live replicas in the project, oldest first.
    pub replicas: Vec<(String, String)>,
}

/// A row of the page: an instance, its group's name, host, active task (`t_…`, all NULL
/// without one) and one replica (NULL without any; an instance with several has a row each).
#[derive(sqlx::FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    instance: Instance,
    c_name: Option<String>,
    h_name: Option<String>,
    h_heartbeat_at: Option<i64>,
    r_id: Option<String>,
    r_name: Option<String>,
    t_id: Option<String>,
    t_resource_id: Option<String>,
    t_kind: Option<String>,
    t_state: Option<String>,
    t_workflow_version: Option<i64>,
    t_payload: Option<String>,
    t_stage: Option<String>,
    t_last_step: Option<String>,
    t_step_number: Option<i64>,
    t_step_count: Option<i64>,
    t_parent_id: Option<String>,
    t_join_policy: Option<String>,
    t_wake_at: Option<i64>,
    t_host_id: Option<String>,
    t_cancel_requested: Option<bool>,
    t_progress: Option<String>,
    t_step_started_at: Option<i64>,
    t_driver: Option<String>,
    t_lease_owner: Option<String>,
    t_lease_until: Option<i64>,
    t_attempts: Option<i64>,
    t_error: Option<String>,
    t_created_at: Option<i64>,
    t_updated_at: Option<i64>,
}

impl PageRow {
    fn task(&mut self) -> StoreResult<Option<Task>> {
        let Some(id) = self.t_id.take() else {
            return Ok(None);
        };
        Ok(Some(Task {
            id,
            resource_id: self.t_resource_id.take().unwrap_or_default(),
            kind: self.t_kind.take().unwrap_or_default(),
            state: TaskState::parse(self.t_state.as_deref().unwrap_or_default())?,
            workflow_version: self.t_workflow_version.unwrap_or_default(),
            input: self.t_payload.take().unwrap_or_default(),
            stage: self.t_stage.take(),
            last_step: self.t_last_step.take(),
            step_number: self.t_step_number.unwrap_or_default(),
            step_count: self.t_step_count.unwrap_or_default(),
            parent_id: self.t_parent_id.take(),
            join_policy: self.t_join_policy.take(),
            wake_at: self.t_wake_at,
            host_id: self.t_host_id.take(),
            cancel_requested: self.t_cancel_requested.unwrap_or_default(),
            progress: self.t_progress.take(),
            step_started_at: self.t_step_started_at,
            driver: self.t_driver.take(),
            lease_owner: self.t_lease_owner.take(),
            lease_until: self.t_lease_until,
            attempts: self.t_attempts.unwrap_or_default(),
            error: self.t_error.take(),
            created_at: self.t_created_at.unwrap_or_default(),
            updated_at: self.t_updated_at.unwrap_or_default(),
        }))
    }
}

impl Store {
    /// Starts a write to flavors, datastores or versions: keep the value until the write has
    /// committed.
    pub(crate) fn catalog_write(&self) -> CatalogWrite {
        CatalogWrite(self.catalog.clone())
    }

    /// Every flavor, ordered by memory then id, as [`Store::flavors`] reads them; held in
    /// memory on SQLite.
    pub async fn flavors_shared(&self) -> StoreResult<Arc<Vec<Flavor>>> {
        match &self.catalog {
            Some(catalog) => {
                catalog
                    .get(|c| &c.flavors, self.read_flavors())
                    .await
            }
            None => Ok(Arc::new(self.read_flavors().await?)),
        }
    }

    /// Every datastore version, as [`Store::datastore_versions`] reads them; held in memory on
    /// SQLite.
    pub async fn datastore_versions_shared(&self) -> StoreResult<Arc<Vec<DatastoreVersion>>> {
        match &self.catalog {
            Some(catalog) => {
                catalog
                    .get(|c| &c.versions, self.read_datastore_versions())
                    .await
            }
            None => Ok(Arc::new(self.read_datastore_versions().await?)),
        }
    }

    /// A page of a project's live instances as [`Store::instances`] lists them, each with its
    /// group's name, its host, its active task and its replicas, in one statement.
    pub async fn instance_page(&self, filter: &InstanceFilter) -> StoreResult<Vec<ListedInstance>> {
        let project = filter.project_id.clone().ok_or_else(|| {
            StoreError::Corrupt("a page of instances is listed for a project".into())
        })?;
        let mut page = format!(
            "SELECT {COLUMNS} FROM instances WHERE deleted_at IS NULL AND project_id = $1"
        );
        if !filter.include_clustered {
            page.push_str(" AND cluster_id IS NULL");
        }
        if !filter.include_replicas {
            page.push_str(" AND replica_of_id IS NULL");
        }
        if filter.marker.is_some() {
            page.push_str(
                " AND (created_at, id) > (SELECT created_at, id FROM instances WHERE id = $2)",
            );
        } else {
            page.push_str(" AND $2 = $2");
        }
        page.push_str(" ORDER BY created_at, id LIMIT $3");
        let sql = format!(
            "SELECT i.*, c.name AS c_name, h.name AS h_name, h.heartbeat_at AS h_heartbeat_at, \
             r.id AS r_id, r.name AS r_name, \
             t.id AS t_id, t.resource_id AS t_resource_id, t.kind AS t_kind, t.state AS t_state, \
             t.workflow_version AS t_workflow_version, t.payload AS t_payload, t.stage AS t_stage, \
             t.last_step AS t_last_step, t.step_number AS t_step_number, t.step_count AS t_step_count, \
             t.parent_id AS t_parent_id, t.join_policy AS t_join_policy, t.wake_at AS t_wake_at, \
             t.host_id AS t_host_id, t.cancel_requested AS t_cancel_requested, t.progress AS t_progress, \
             t.step_started_at AS t_step_started_at, t.driver AS t_driver, t.lease_owner AS t_lease_owner, \
             t.lease_until AS t_lease_until, t.attempts AS t_attempts, t.error AS t_error, \
             t.created_at AS t_created_at, t.updated_at AS t_updated_at \
             FROM ({page}) i \
             LEFT JOIN configurations c ON c.id = i.configuration_id AND c.project_id = $1 \
             LEFT JOIN hosts h ON h.id = i.host_id \
             LEFT JOIN tasks t ON t.resource_id = i.id AND t.state IN {ACTIVE} \
             LEFT JOIN instances r ON r.replica_of_id = i.id AND r.project_id = $1 AND r.deleted_at IS NULL \
             ORDER BY i.created_at, i.id, r.created_at, r.id"
        );
        let marker = filter.marker.clone().unwrap_or_default();
        let limit = filter.limit.unwrap_or(i64::MAX);
        let rows: Vec<PageRow> = on_db!(self, pool => sqlx::query_as(&sql).bind(&project).bind(&marker).bind(limit).fetch_all(pool).await?);
        let mut page: Vec<ListedInstance> = Vec::with_capacity(rows.len());
        for mut row in rows {
            let replica = row.r_id.take().zip(row.r_name.take());
            if let Some(last) = page.last_mut()
                && last.instance.id == row.instance.id
            {
                last.replicas.extend(replica);
                continue;
            }
            page.push(ListedInstance {
                task: row.task()?,
                configuration_name: row.c_name.take(),
                host: row.h_name.take().zip(row.h_heartbeat_at),
                replicas: replica.into_iter().collect(),
                instance: row.instance,
            });
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_drops_the_held_catalog_and_a_read_across_it_is_not_kept() {
        let catalog = Catalog::default();
        let read = |names: &[&str]| {
            let flavors: Vec<Flavor> = names
                .iter()
                .map(|name| Flavor {
                    id: (*name).into(),
                    name: (*name).into(),
                    ram_mb: 64,
                    vcpus: 1,
                    created_at: 0,
                })
                .collect();
            async move { Ok(flavors) }
        };
        let first = catalog.get(|c| &c.flavors, read(&["a"])).await.unwrap();
        // Held: the second read is not run.
        let again = catalog.get(|c| &c.flavors, read(&["b"])).await.unwrap();
        assert_eq!(again[0].name, "a");
        assert!(Arc::ptr_eq(&first, &again));
        catalog.changed();
        let after = catalog.get(|c| &c.flavors, read(&["c"])).await.unwrap();
        assert_eq!(after[0].name, "c");
        // A write committing while a read runs: what that read got is used, not kept.
        let racing = catalog
            .get(|c| &c.versions, async {
                catalog.changed();
                Ok(Vec::new())
            })
            .await
            .unwrap();
        assert!(racing.is_empty());
        assert!(catalog.versions.lock().unwrap().is_none());
        // A write drops the flavors too.
        assert!(catalog.flavors.lock().unwrap().is_none());
    }
}
