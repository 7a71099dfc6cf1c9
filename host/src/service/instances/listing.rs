//! The page of `GET /instances`: one statement for the instances with their groups, hosts,
//! tasks and replicas ([`crate::store::Store::instance_page`]), and the catalog from memory.

use super::super::views::FlavorInfo;
use super::super::{Ctx, ServiceError, ServiceResult, Services};
use super::details::{HostState, InstanceDetails, InstancePage, MAX_PAGE, with_steps};
use crate::store::InstanceFilter;

/// What a kept page of `GET /instances` must have been built at to be sent again (see
/// `Store::data_version`), once the caller may list instances; `None`: build it again.
pub async fn page_version(services: &Services, ctx: &Ctx) -> ServiceResult<Option<i64>> {
    ctx.authorize(services, "instance:index")?;
    Ok(services.store.data_version().await?)
}

/// `GET /instances`.
pub async fn list(
    services: &Services,
    ctx: &Ctx,
    include_clustered: bool,
    include_replicas: bool,
    limit: Option<i64>,
    marker: Option<String>,
) -> ServiceResult<InstancePage> {
    ctx.authorize(services, "instance:index")?;
    let limit = limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let filter = InstanceFilter {
        project_id: Some(ctx.project_id.clone()),
        include_clustered,
        include_replicas,
        limit: Some(limit + 1),
        marker,
    };
    instance_page(services, &filter, limit).await
}

/// The page `filter` selects (asking for one more than `limit`, to know whether a next page
/// exists); `volume.used` is shown by `show` only, as in Trove's list view.
async fn instance_page(
    services: &Services,
    filter: &InstanceFilter,
    limit: i64,
) -> ServiceResult<InstancePage> {
    let mut rows = services.store.instance_page(filter).await?;
    let next_marker = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.instance.id.clone())
    } else {
        None
    };
    let flavors = services.store.flavors_shared().await?;
    let versions = services.store.datastore_versions_shared().await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let instance = row.instance;
        let Some(version) = versions
            .iter()
            .find(|v| v.id == instance.datastore_version_id)
            .cloned()
        else {
            return Err(ServiceError::Internal(format!(
                "instance {} has an unknown datastore version",
                instance.id
            )));
        };
        let host = row.host.map(|(name, heartbeat_at)| HostState {
            name,
            up: services.orchestrator.host_is_up(
                instance.host_id.as_deref().unwrap_or_default(),
                heartbeat_at,
            ),
            heartbeat_at,
        });
        let task = row.task.map(|task| with_steps(services, task));
        items.push(InstanceDetails {
            flavor: flavors
                .iter()
                .find(|f| f.id == instance.flavor_id)
                .cloned()
                .map(FlavorInfo::from),
            replicas: row.replicas,
            version: version.into(),
            used_gb: None,
            isolation: None,
            configuration_name: row.configuration_name,
            region: services.region.clone(),
            host,
            task,
            instance: instance.into(),
        });
    }
    Ok(InstancePage { items, next_marker })
}
