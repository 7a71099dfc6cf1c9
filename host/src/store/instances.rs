//! Instances: what the API shows, and the node each one runs on.

use std::collections::HashSet;

use super::{InstanceStatus, QuotaState, Store, StoreError, StoreResult, Tx, now_ms, on_db, on_tx};

/// An instance row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Deserialize)]
pub struct Instance {
    /// Its id (a UUID).
    pub id: String,
    /// The owning project.
    pub project_id: String,
    /// Its name.
    pub name: String,
    /// The status the API shows.
    pub status: InstanceStatus,
    /// Its flavor.
    pub flavor_id: String,
    /// Its volume size, GiB.
    pub volume_size: i64,
    /// Its datastore version.
    pub datastore_version_id: String,
    /// The digest of the driver it was built with.
    pub driver_digest: String,
    /// The attached configuration group.
    pub configuration_id: Option<String>,
    /// The instance this one is a replica of.
    pub replica_of_id: Option<String>,
    /// The cluster it belongs to.
    pub cluster_id: Option<String>,
    /// The node's serial.
    pub serial: i64,
    /// The node's directory name.
    pub node_dir: String,
    /// The node's port.
    pub port: i64,
    /// Where its quota stands.
    pub quota_state: QuotaState,
    /// The last fault, for the owner.
    pub fault_message: Option<String>,
    /// The last fault's details, for admins.
    pub fault_details: Option<String>,
    /// When the fault happened.
    pub fault_at: Option<i64>,
    /// When root was first enabled.
    pub root_enabled_at: Option<i64>,
    /// Who first enabled root (a user id, when the caller had one).
    pub root_enabled_by: Option<String>,
    /// When it was created.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// When it was deleted.
    pub deleted_at: Option<i64>,
    /// The values the node runs with: a JSON list of `[name, value]` pairs.
    pub applied_settings: String,
    /// For a replica: what its source's driver said replicas need (credentials), sealed (see
    /// [`Instance::replication_secret`]).
    pub replica_info: Option<String>,
    /// For a replica: `in_sync` or `out_of_sync`, as the health pass last saw it.
    pub replication_state: Option<String>,
    /// For a replica: how far behind its source it was, when the datastore said.
    pub replication_lag_ms: Option<i64>,
    /// For a source ejected from its set: the replica that took over.
    pub ejected_by: Option<String>,
    /// What the health pass last saw of the datastore service: `HEALTHY`, `SHUTDOWN`, `ERROR`
    /// or `STARTING`.
    pub service_status: Option<String>,
    /// When the health pass last saw it.
    pub service_status_at: Option<i64>,
    /// The host its node is placed on (`None`: written by a release before placement, until
    /// the host holding its directory adopts it).
    pub host_id: Option<String>,
    /// The backend its node runs on.
    pub backend: Option<String>,
    /// The address its node listens on, as its backend gave it.
    pub address: Option<String>,
}

/// What creating an instance records.
#[derive(Debug, Clone)]
pub struct NewInstance {
    /// Its id.
    pub id: String,
    /// The owning project.
    pub project_id: String,
    /// Its name.
    pub name: String,
    /// Its flavor.
    pub flavor_id: String,
    /// Its volume size, GiB.
    pub volume_size: i64,
    /// Its datastore version.
    pub datastore_version_id: String,
    /// The driver's digest.
    pub driver_digest: String,
    /// An attached configuration group.
    pub configuration_id: Option<String>,
    /// The instance it replicates.
    pub replica_of_id: Option<String>,
    /// Its node's port.
    pub port: u16,
    /// The values its node starts with (JSON `[name, value]` pairs).
    pub applied_settings: String,
    /// Where its node is placed: the host, its backend, and the address the node will
    /// listen on.
    pub placement: Placement,
}

/// Where a node is placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The host.
    pub host_id: String,
    /// The backend on that host.
    pub backend: String,
    /// The address the node listens on.
    pub address: String,
}

/// What [`Tx::update_instance`] changes of an instance; what it leaves unset stays as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct InstanceUpdate<'a> {
    status: Option<InstanceStatus>,
    flavor_id: Option<&'a str>,
    volume_size: Option<i64>,
    quota_state: Option<QuotaState>,
}

impl<'a> InstanceUpdate<'a> {
    /// Changes nothing (but `updated_at`).
    pub fn new() -> Self {
        InstanceUpdate::default()
    }

    /// Changes only the status.
    pub fn to_status(status: InstanceStatus) -> Self {
        InstanceUpdate::new().status(status)
    }

    /// Sets the status.
    pub fn status(mut self, status: InstanceStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the flavor.
    pub fn flavor(mut self, flavor_id: &'a str) -> Self {
        self.flavor_id = Some(flavor_id);
        self
    }

    /// Sets the volume size, GiB.
    pub fn volume_size(mut self, size: i64) -> Self {
        self.volume_size = Some(size);
        self
    }

    /// Sets the quota state.
    pub fn quota_state(mut self, state: QuotaState) -> Self {
        self.quota_state = Some(state);
        self
    }
}

/// Which instances a listing includes.
#[derive(Debug, Clone, Default)]
pub struct InstanceFilter {
    /// Only this project's (`None`: every project's, for admins).
    pub project_id: Option<String>,
    /// Include members of clusters.
    pub include_clustered: bool,
    /// Include replicas.
    pub include_replicas: bool,
    /// At most this many.
    pub limit: Option<i64>,
    /// Only those after this id (in listing order).
    pub marker: Option<String>,
}

pub(super) const COLUMNS: &str = "id, project_id, name, status, flavor_id, volume_size, datastore_version_id, driver_digest, \
     configuration_id, replica_of_id, cluster_id, serial, node_dir, port, quota_state, fault_message, fault_details, \
     fault_at, root_enabled_at, root_enabled_by, created_at, updated_at, deleted_at, applied_settings, replica_info, \
     replication_state, replication_lag_ms, ejected_by, service_status, service_status_at, host_id, backend, address";

impl Instance {
    /// What the replica's source said replicas need, opened.
    pub fn replication_secret(&self) -> Result<Option<String>, crate::secrets::SecretError> {
        self.replica_info
            .as_deref()
            .map(crate::secrets::open)
            .transpose()
    }
}

/// Appends what `filter` asks beyond the project (bound as `$1`): clustered instances,
/// replicas, the page after the marker (`$2`), in creation order, at most `$3`.
pub(super) fn push_filter(sql: &mut String, filter: &InstanceFilter) {
    if !filter.include_clustered {
        sql.push_str(" AND cluster_id IS NULL");
    }
    if !filter.include_replicas {
        sql.push_str(" AND replica_of_id IS NULL");
    }
    if filter.marker.is_some() {
        sql.push_str(
            " AND (created_at, id) > (SELECT created_at, id FROM instances WHERE id = $2)",
        );
    } else {
        sql.push_str(" AND $2 = $2");
    }
    sql.push_str(" ORDER BY created_at, id LIMIT $3");
}

impl Store {
    /// Live instances in creation order, filtered.
    pub async fn instances(&self, filter: &InstanceFilter) -> StoreResult<Vec<Instance>> {
        let mut sql = format!("SELECT {COLUMNS} FROM instances WHERE deleted_at IS NULL");
        if filter.project_id.is_some() {
            sql.push_str(" AND project_id = $1");
        } else {
            sql.push_str(" AND $1 = $1");
        }
        push_filter(&mut sql, filter);
        let project = filter.project_id.clone().unwrap_or_default();
        let marker = filter.marker.clone().unwrap_or_default();
        let limit = filter.limit.unwrap_or(i64::MAX);
        on_db!(self, pool => Ok(sqlx::query_as(&sql).bind(&project).bind(&marker).bind(limit).fetch_all(pool).await?))
    }

    /// Every project's instances (or one project's) for the management API, in creation
    /// order: live ones, deleted ones, or both (`deleted` None).
    pub async fn instances_for_operators(
        &self,
        project_id: Option<&str>,
        deleted: Option<bool>,
    ) -> StoreResult<Vec<Instance>> {
        let mut sql = format!("SELECT {COLUMNS} FROM instances WHERE ($1 = '' OR project_id = $1)");
        match deleted {
            Some(true) => sql.push_str(" AND deleted_at IS NOT NULL"),
            Some(false) => sql.push_str(" AND deleted_at IS NULL"),
            None => {}
        }
        sql.push_str(" ORDER BY created_at, id");
        let project = project_id.unwrap_or_default();
        on_db!(self, pool => Ok(sqlx::query_as(&sql).bind(project).fetch_all(pool).await?))
    }

    /// A live instance by id (any project).
    pub async fn instance(&self, id: &str) -> StoreResult<Instance> {
        let sql = format!("SELECT {COLUMNS} FROM instances WHERE id = $1 AND deleted_at IS NULL");
        on_db!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?)
            .ok_or_else(|| StoreError::NotFound(format!("Instance {id}")))
    }

    /// An instance by id, deleted or not (workflows that finish a delete).
    pub async fn instance_any(&self, id: &str) -> StoreResult<Instance> {
        let sql = format!("SELECT {COLUMNS} FROM instances WHERE id = $1");
        on_db!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?)
            .ok_or_else(|| StoreError::NotFound(format!("Instance {id}")))
    }

    /// The live instances a configuration group is attached to.
    pub async fn instances_with_configuration(
        &self,
        configuration_id: &str,
    ) -> StoreResult<Vec<Instance>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM instances WHERE configuration_id = $1 AND deleted_at IS NULL ORDER BY created_at, id"
        );
        on_db!(self, pool => Ok(sqlx::query_as(&sql).bind(configuration_id).fetch_all(pool).await?))
    }

    /// The replicas of an instance.
    pub async fn replicas_of(&self, source_id: &str) -> StoreResult<Vec<Instance>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM instances WHERE replica_of_id = $1 AND deleted_at IS NULL ORDER BY created_at, id"
        );
        on_db!(self, pool => Ok(sqlx::query_as(&sql).bind(source_id).fetch_all(pool).await?))
    }

    /// The live replicas of a project's instances.
    pub async fn replicas_in_project(&self, project_id: &str) -> StoreResult<Vec<Instance>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM instances WHERE project_id = $1 AND replica_of_id IS NOT NULL AND deleted_at IS NULL ORDER BY created_at, id"
        );
        on_db!(self, pool => Ok(sqlx::query_as(&sql).bind(project_id).fetch_all(pool).await?))
    }

    /// Ports held by live instances.
    pub async fn live_ports(&self) -> StoreResult<HashSet<u16>> {
        let ports: Vec<i64> = on_db!(self, pool => sqlx::query_scalar("SELECT port FROM instances WHERE deleted_at IS NULL").fetch_all(pool).await?);
        Ok(ports.into_iter().map(|p| p as u16).collect())
    }

    /// How many live instances use a datastore version.
    pub async fn instances_using_version(&self, version_id: &str) -> StoreResult<i64> {
        on_db!(self, pool => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM instances WHERE datastore_version_id = $1 AND deleted_at IS NULL")
            .bind(version_id)
            .fetch_one(pool)
            .await?))
    }

    /// How many live instances use a flavor.
    pub async fn instances_using_flavor(&self, flavor_id: &str) -> StoreResult<i64> {
        on_db!(self, pool => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM instances WHERE flavor_id = $1 AND deleted_at IS NULL")
            .bind(flavor_id)
            .fetch_one(pool)
            .await?))
    }

    /// Sets an instance's status.
    pub async fn set_instance_status(&self, id: &str, status: InstanceStatus) -> StoreResult<()> {
        let now = now_ms();
        on_db!(self, pool => sqlx::query("UPDATE instances SET status = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(status.as_str())
            .bind(now)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Sets an instance's status unless a task holds it (the health pass must not overwrite a
    /// workflow's status); returns whether it changed anything.
    pub async fn set_idle_instance_status(
        &self,
        id: &str,
        expected: InstanceStatus,
        status: InstanceStatus,
    ) -> StoreResult<bool> {
        let now = now_ms();
        let changed = on_db!(self, pool => sqlx::query(
            "UPDATE instances SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2 AND deleted_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM tasks WHERE resource_id = $1 AND state IN ('pending', 'running'))",
        )
        .bind(id)
        .bind(expected.as_str())
        .bind(status.as_str())
        .bind(now)
        .execute(pool)
        .await.map(|done| done.rows_affected()))?;
        Ok(changed > 0)
    }

    /// Records a fault: a message for the owner and details for admins.
    pub async fn set_instance_fault(
        &self,
        id: &str,
        message: &str,
        details: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        on_db!(self, pool => sqlx::query("UPDATE instances SET fault_message = $2, fault_details = $3, fault_at = $4, updated_at = $4 WHERE id = $1")
            .bind(id)
            .bind(message)
            .bind(details)
            .bind(now)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Records how a replica follows its source (the health pass's view; not a status).
    pub async fn set_replication_health(
        &self,
        id: &str,
        state: &str,
        lag_ms: Option<i64>,
    ) -> StoreResult<()> {
        on_db!(self, pool => sqlx::query("UPDATE instances SET replication_state = $2, replication_lag_ms = $3 WHERE id = $1")
            .bind(id)
            .bind(state)
            .bind(lag_ms)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Records what the health pass saw of an instance's datastore service, and when.
    pub async fn set_service_status(&self, id: &str, status: &str) -> StoreResult<()> {
        let now = now_ms();
        on_db!(self, pool => sqlx::query("UPDATE instances SET service_status = $2, service_status_at = $3 WHERE id = $1")
            .bind(id)
            .bind(status)
            .bind(now)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Records that root was enabled, and by whom, once.
    pub async fn mark_root_enabled(&self, id: &str, by: Option<&str>) -> StoreResult<()> {
        let now = now_ms();
        on_db!(self, pool => sqlx::query("UPDATE instances SET root_enabled_at = $2, root_enabled_by = $3 WHERE id = $1 AND root_enabled_at IS NULL")
            .bind(id)
            .bind(now)
            .bind(by)
            .execute(pool)
            .await.map(|done| done.rows_affected()))?;
        Ok(())
    }
}

impl Tx {
    /// The next node serial.
    pub async fn next_serial(&mut self) -> StoreResult<i64> {
        on_tx!(self, t => Ok(sqlx::query_scalar("UPDATE counters SET value = value + 1 WHERE name = 'node_serial' RETURNING value")
            .fetch_one(&mut **t)
            .await?))
    }

    /// Inserts a new instance with status BUILD and quota reserved; the node directory is named
    /// after the serial.
    pub async fn insert_instance(
        &mut self,
        new: &NewInstance,
        serial: i64,
    ) -> StoreResult<Instance> {
        let now = now_ms();
        let node_dir = format!("n{serial}");
        on_tx!(self, t => sqlx::query(
            "INSERT INTO instances (id, project_id, name, status, flavor_id, volume_size, datastore_version_id, driver_digest, \
             configuration_id, replica_of_id, cluster_id, serial, node_dir, port, quota_state, created_at, updated_at, applied_settings, \
             host_id, backend, address) \
             VALUES ($1, $2, $3, 'BUILD', $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12, 'reserved', $13, $13, $14, $15, $16, $17)",
        )
        .bind(&new.id)
        .bind(&new.project_id)
        .bind(&new.name)
        .bind(&new.flavor_id)
        .bind(new.volume_size)
        .bind(&new.datastore_version_id)
        .bind(&new.driver_digest)
        .bind(&new.configuration_id)
        .bind(&new.replica_of_id)
        .bind(serial)
        .bind(&node_dir)
        .bind(i64::from(new.port))
        .bind(now)
        .bind(&new.applied_settings)
        .bind(&new.placement.host_id)
        .bind(&new.placement.backend)
        .bind(&new.placement.address)
        .execute(&mut **t)
        .await
        .map(|done| done.rows_affected()))
        .map_err(|e| StoreError::unique(e, || format!("port {} is taken", new.port)))?;
        Ok(Instance {
            id: new.id.clone(),
            project_id: new.project_id.clone(),
            name: new.name.clone(),
            status: InstanceStatus::Build,
            flavor_id: new.flavor_id.clone(),
            volume_size: new.volume_size,
            datastore_version_id: new.datastore_version_id.clone(),
            driver_digest: new.driver_digest.clone(),
            configuration_id: new.configuration_id.clone(),
            replica_of_id: new.replica_of_id.clone(),
            cluster_id: None,
            serial,
            node_dir,
            port: i64::from(new.port),
            quota_state: QuotaState::Reserved,
            fault_message: None,
            fault_details: None,
            fault_at: None,
            root_enabled_at: None,
            root_enabled_by: None,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            applied_settings: new.applied_settings.clone(),
            replica_info: None,
            replication_state: None,
            replication_lag_ms: None,
            ejected_by: None,
            service_status: None,
            service_status_at: None,
            host_id: Some(new.placement.host_id.clone()),
            backend: Some(new.placement.backend.clone()),
            address: Some(new.placement.address.clone()),
        })
    }

    /// Updates what `update` sets of an instance (status, flavor, volume size, quota state) in
    /// this transaction, in one statement; `updated_at` is set in any case.
    pub async fn update_instance(
        &mut self,
        id: &str,
        update: InstanceUpdate<'_>,
    ) -> StoreResult<()> {
        let InstanceUpdate {
            status,
            flavor_id,
            volume_size,
            quota_state,
        } = update;
        let status = status.map(InstanceStatus::as_str);
        let quota_state = quota_state.map(QuotaState::as_str);
        let now = now_ms();
        on_tx!(self, t => sqlx::query(
            "UPDATE instances SET status = COALESCE($2, status), flavor_id = COALESCE($3, flavor_id), \
             volume_size = COALESCE($4, volume_size), quota_state = COALESCE($5, quota_state), updated_at = $6 WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(flavor_id)
        .bind(volume_size)
        .bind(quota_state)
        .bind(now)
        .execute(&mut **t)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Attaches a configuration group to an instance (`None` detaches).
    pub async fn set_instance_configuration(
        &mut self,
        id: &str,
        configuration_id: Option<&str>,
    ) -> StoreResult<()> {
        let now = now_ms();
        on_tx!(self, t => sqlx::query("UPDATE instances SET configuration_id = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(configuration_id)
            .bind(now)
            .execute(&mut **t)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Records what a replica needs to follow its source (`None` with `replica_of_id` cleared:
    /// the replica was detached). The information is sealed: it holds credentials.
    pub async fn set_replication(
        &mut self,
        id: &str,
        replica_of_id: Option<&str>,
        replica_info: Option<&str>,
    ) -> StoreResult<()> {
        let replica_info = replica_info.map(crate::secrets::seal);
        on_tx!(self, t => sqlx::query("UPDATE instances SET replica_of_id = $2, replica_info = $3, replication_state = NULL, replication_lag_ms = NULL WHERE id = $1")
            .bind(id)
            .bind(replica_of_id)
            .bind(replica_info)
            .execute(&mut **t)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Records the values an instance's node now runs with.
    pub async fn set_applied_settings(&mut self, id: &str, settings: &str) -> StoreResult<()> {
        on_tx!(self, t => sqlx::query("UPDATE instances SET applied_settings = $2 WHERE id = $1")
            .bind(id)
            .bind(settings)
            .execute(&mut **t)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Renames an instance.
    pub async fn rename_instance(&mut self, id: &str, name: &str) -> StoreResult<()> {
        let now = now_ms();
        on_tx!(self, t => sqlx::query("UPDATE instances SET name = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(name)
            .bind(now)
            .execute(&mut **t)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Marks an instance deleted.
    pub async fn mark_instance_deleted(&mut self, id: &str) -> StoreResult<()> {
        let now = now_ms();
        on_tx!(self, t => sqlx::query("UPDATE instances SET deleted_at = $2, updated_at = $2, status = 'DELETED' WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut **t)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Clears an instance's fault (a new workflow started).
    pub async fn clear_instance_fault(&mut self, id: &str) -> StoreResult<()> {
        on_tx!(self, t => sqlx::query("UPDATE instances SET fault_message = NULL, fault_details = NULL, fault_at = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut **t)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Records that a source was ejected from its replication set and who took over.
    pub async fn mark_ejected(&mut self, id: &str, by: &str) -> StoreResult<()> {
        on_tx!(self, t => sqlx::query("UPDATE instances SET ejected_by = $2 WHERE id = $1")
            .bind(id)
            .bind(by)
            .execute(&mut **t)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Records a fault in this transaction.
    pub async fn set_instance_fault(
        &mut self,
        id: &str,
        message: &str,
        details: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        on_tx!(self, t => sqlx::query("UPDATE instances SET fault_message = $2, fault_details = $3, fault_at = $4, updated_at = $4 WHERE id = $1")
            .bind(id)
            .bind(message)
            .bind(details)
            .bind(now)
            .execute(&mut **t)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }
}

impl Store {
    /// The live instances whose nodes are placed on `host_id`.
    pub async fn instances_on_host(&self, host_id: &str) -> StoreResult<Vec<Instance>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM instances WHERE host_id = $1 AND deleted_at IS NULL ORDER BY created_at, id"
        );
        on_db!(self, pool => Ok(sqlx::query_as(&sql).bind(host_id).fetch_all(pool).await?))
    }

    /// Live instances written before nodes recorded their placement.
    pub async fn unplaced_instances(&self) -> StoreResult<Vec<Instance>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM instances WHERE host_id IS NULL AND deleted_at IS NULL ORDER BY created_at, id"
        );
        on_db!(self, pool => Ok(sqlx::query_as(&sql).fetch_all(pool).await?))
    }

    /// Records where an unplaced instance's node is (the host that holds its directory).
    pub async fn place_instance(&self, id: &str, placement: &Placement) -> StoreResult<()> {
        on_db!(self, pool => sqlx::query("UPDATE instances SET host_id = $2, backend = $3, address = $4 WHERE id = $1 AND host_id IS NULL")
            .bind(id)
            .bind(&placement.host_id)
            .bind(&placement.backend)
            .bind(&placement.address)
            .execute(pool)
            .await
            .map(|_| ())?);
        // Tasks written before placement was recorded run where the node is.
        on_db!(self, pool => sqlx::query("UPDATE tasks SET host_id = $2 WHERE resource_id = $1 AND host_id IS NULL AND state IN ('queued', 'held', 'pending', 'running', 'waiting')")
            .bind(id)
            .bind(&placement.host_id)
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }
}

impl Tx {
    /// An instance by id, deleted or not, read in this transaction: a transaction that holds
    /// the write lock must not wait for another connection of the pool, which may all be
    /// waiting for that lock.
    pub async fn instance_any(&mut self, id: &str) -> StoreResult<Instance> {
        let sql = format!("SELECT {COLUMNS} FROM instances WHERE id = $1");
        on_tx!(self, t => sqlx::query_as(&sql).bind(id).fetch_optional(&mut **t).await?)
            .ok_or_else(|| StoreError::NotFound(format!("Instance {id}")))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{NewDatastoreVersion, Visibility};
    use super::*;

    async fn store_with_instance(dir: &std::path::Path) -> (Store, Instance) {
        let store = Store::connect(&format!("sqlite://{}", dir.join("store.db").display()))
            .await
            .unwrap();
        store.create_flavor("f1", "small", 512, 1).await.unwrap();
        store.create_flavor("f2", "large", 1024, 2).await.unwrap();
        let version = store
            .create_datastore_version(&NewDatastoreVersion {
                datastore_name: "kv".into(),
                name: "7".into(),
                driver_name: "kv".into(),
                driver_requirement: "*".into(),
                image: String::new(),
                packages: String::new(),
                active: true,
                default: None,
                visibility: Visibility::Public,
            })
            .await
            .unwrap();
        let new = NewInstance {
            id: "i1".into(),
            project_id: "p".into(),
            name: "one".into(),
            flavor_id: "f1".into(),
            volume_size: 1,
            datastore_version_id: version.id,
            driver_digest: "d".into(),
            configuration_id: None,
            replica_of_id: None,
            port: 40000,
            applied_settings: "[]".into(),
            placement: Placement {
                host_id: "h".into(),
                backend: "process".into(),
                address: "127.0.0.1:40000".into(),
            },
        };
        let mut tx = store.write().await.unwrap();
        let serial = tx.next_serial().await.unwrap();
        let inserted = tx.insert_instance(&new, serial).await.unwrap();
        tx.commit().await.unwrap();
        (store, inserted)
    }

    #[tokio::test]
    async fn rows_decode_to_states_and_updates_set_only_what_they_name() {
        let dir = tempfile::tempdir().unwrap();
        let (store, inserted) = store_with_instance(dir.path()).await;
        let read = store.instance("i1").await.unwrap();
        assert_eq!(read.status, InstanceStatus::Build);
        assert_eq!(read.quota_state, QuotaState::Reserved);
        assert_eq!(read.status, inserted.status);

        let mut tx = store.write().await.unwrap();
        tx.update_instance(
            "i1",
            InstanceUpdate::to_status(InstanceStatus::Active).quota_state(QuotaState::Committed),
        )
        .await
        .unwrap();
        tx.update_instance("i1", InstanceUpdate::new().flavor("f2").volume_size(3))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let read = store.instance("i1").await.unwrap();
        assert_eq!(read.status, InstanceStatus::Active);
        assert_eq!(read.quota_state, QuotaState::Committed);
        assert_eq!(read.flavor_id, "f2");
        assert_eq!(read.volume_size, 3);
    }

    #[tokio::test]
    async fn an_unknown_status_in_the_store_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = store_with_instance(dir.path()).await;
        on_db!(store, pool => sqlx::query("UPDATE instances SET status = 'BUILDING' WHERE id = 'i1'")
            .execute(pool)
            .await
            .map(|_| ()))
        .unwrap();
        match store.instance("i1").await {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains("BUILDING"), "{message}")
            }
            other => panic!("not corrupt: {other:?}"),
        }
    }
}
