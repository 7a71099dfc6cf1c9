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
use super::tasks::{ACTIVE, COLUMNS as TASK_COLUMNS, TaskState};
use super::{
    DatastoreVersion, Flavor, Instance, InstanceFilter, Store, StoreError, StoreResult, Task, on_db,
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

/// An instance of the page as the statement writes it: its place in the page, the instance,
/// its group's name, and its host's name and heartbeat.
#[derive(serde::Deserialize)]
struct Entry {
    n: i64,
    i: Instance,
    c: Option<String>,
    h: Option<String>,
    hb: Option<i64>,
}

/// An active task's columns (SQLite writes booleans as 0 and 1, PostgreSQL as false and true).
#[derive(serde::Deserialize)]
struct TaskEntry {
    id: Option<String>,
    resource_id: Option<String>,
    kind: Option<String>,
    state: Option<String>,
    workflow_version: Option<i64>,
    payload: Option<String>,
    stage: Option<String>,
    last_step: Option<String>,
    step_number: Option<i64>,
    step_count: Option<i64>,
    parent_id: Option<String>,
    join_policy: Option<String>,
    wake_at: Option<i64>,
    host_id: Option<String>,
    cancel_requested: Option<serde_json::Value>,
    progress: Option<String>,
    step_started_at: Option<i64>,
    driver: Option<String>,
    lease_owner: Option<String>,
    lease_until: Option<i64>,
    attempts: Option<i64>,
    error: Option<String>,
    created_at: Option<i64>,
    updated_at: Option<i64>,
}

impl TaskEntry {
    fn task(self) -> StoreResult<Option<Task>> {
        let Some(id) = self.id else {
            return Ok(None);
        };
        Ok(Some(Task {
            id,
            resource_id: self.resource_id.unwrap_or_default(),
            kind: self.kind.unwrap_or_default(),
            state: TaskState::parse(self.state.as_deref().unwrap_or_default())?,
            workflow_version: self.workflow_version.unwrap_or_default(),
            input: self.payload.unwrap_or_default(),
            stage: self.stage,
            last_step: self.last_step,
            step_number: self.step_number.unwrap_or_default(),
            step_count: self.step_count.unwrap_or_default(),
            parent_id: self.parent_id,
            join_policy: self.join_policy,
            wake_at: self.wake_at,
            host_id: self.host_id,
            cancel_requested: match self.cancel_requested {
                Some(serde_json::Value::Bool(b)) => b,
                Some(serde_json::Value::Number(n)) => n.as_i64() != Some(0),
                _ => false,
            },
            progress: self.progress,
            step_started_at: self.step_started_at,
            driver: self.driver,
            lease_owner: self.lease_owner,
            lease_until: self.lease_until,
            attempts: self.attempts.unwrap_or_default(),
            error: self.error,
            created_at: self.created_at.unwrap_or_default(),
            updated_at: self.updated_at.unwrap_or_default(),
        }))
    }
}

/// `'name', prefix.name` for each of `columns`, the arguments of a JSON object builder.
fn pairs(prefix: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(str::trim)
        .map(|column| format!("'{column}', {prefix}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
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
            Some(catalog) => catalog.get(|c| &c.flavors, self.read_flavors()).await,
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
    /// group's name, its host, its active task and its replicas: one statement answering one
    /// row, the page as JSON. (Row by row, the SQLite driver hands each row from its thread to
    /// the caller's, which costs more than reading it.)
    pub async fn instance_page(&self, filter: &InstanceFilter) -> StoreResult<Vec<ListedInstance>> {
        let project = filter.project_id.clone().ok_or_else(|| {
            StoreError::Corrupt("a page of instances is listed for a project".into())
        })?;
        let mut page = format!(
            "SELECT {COLUMNS}, row_number() OVER (ORDER BY created_at, id) AS n \
             FROM instances WHERE deleted_at IS NULL AND project_id = $1"
        );
        super::instances::push_filter(&mut page, filter);
        // The same statement on both, but for the names of the JSON functions. The page comes
        // in any order with each instance's place in it (an aggregate sorting what it
        // gathers, on SQLite, copies each element into a temporary index). The active tasks
        // of the project's instances and its replicas are lists of their own: joined to each
        // instance, the tasks would add two dozen empty fields to most, and the replicas would
        // be looked for among all the project's instances once per instance (no index leads
        // from a source to its replicas).
        let (array, object, pair) = match self.db {
            super::Db::Sqlite(_) => ("json_group_array", "json_object", "json_array"),
            super::Db::Postgres(_) => ("json_agg", "json_build_object", "json_build_array"),
        };
        let instance = pairs("i", COLUMNS);
        let task = pairs("t", TASK_COLUMNS);
        let sql = format!(
            "SELECT CAST((SELECT {array}({object}('n', i.n, 'i', {object}({instance}), 'c', c.name, \
             'h', h.name, 'hb', h.heartbeat_at)) \
             FROM ({page}) i \
             LEFT JOIN configurations c ON c.id = i.configuration_id AND c.project_id = $1 \
             LEFT JOIN hosts h ON h.id = i.host_id) AS TEXT), \
             CAST((SELECT {array}({object}({task})) FROM tasks t WHERE t.state IN {ACTIVE} \
             AND t.resource_id IN (SELECT id FROM instances WHERE project_id = $1 AND deleted_at IS NULL)) AS TEXT), \
             CAST((SELECT {array}({pair}(r.replica_of_id, r.id, r.name) ORDER BY r.created_at, r.id) \
             FROM instances r WHERE r.project_id = $1 AND r.replica_of_id IS NOT NULL AND r.deleted_at IS NULL) AS TEXT)"
        );
        let marker = filter.marker.clone().unwrap_or_default();
        let limit = filter.limit.unwrap_or(i64::MAX);
        let (entries, tasks, replicas): (Option<String>, Option<String>, Option<String>) = on_db!(self, pool => sqlx::query_as(&sql).bind(&project).bind(&marker).bind(limit).fetch_one(pool).await?);
        let corrupt =
            |e: serde_json::Error| StoreError::Corrupt(format!("a page of instances: {e}"));
        let mut entries: Vec<Entry> = match entries {
            Some(json) => serde_json::from_str(&json).map_err(corrupt)?,
            None => Vec::new(),
        };
        entries.sort_unstable_by_key(|entry| entry.n);
        let tasks: Vec<TaskEntry> = match tasks {
            Some(json) => serde_json::from_str(&json).map_err(corrupt)?,
            None => Vec::new(),
        };
        let mut tasks: std::collections::HashMap<String, TaskEntry> = tasks
            .into_iter()
            .filter_map(|t| Some((t.resource_id.clone()?, t)))
            .collect();
        let replicas: Vec<(String, String, String)> = match replicas {
            Some(json) => serde_json::from_str(&json).map_err(corrupt)?,
            None => Vec::new(),
        };
        let mut page: Vec<ListedInstance> = Vec::with_capacity(entries.len());
        for entry in entries {
            page.push(ListedInstance {
                task: match tasks.remove(&entry.i.id) {
                    Some(task) => task.task()?,
                    None => None,
                },
                configuration_name: entry.c,
                host: entry.h.zip(entry.hb),
                replicas: replicas
                    .iter()
                    .filter(|(source, _, _)| *source == entry.i.id)
                    .map(|(_, id, name)| (id.clone(), name.clone()))
                    .collect(),
                instance: entry.i,
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
