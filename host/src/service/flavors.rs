//! Flavors: listed to everyone, created and deleted by admins.

use super::views::{FlavorInfo, all};

use super::{Ctx, ServiceError, ServiceResult, Services};

/// `GET /flavors`.
pub async fn list(services: &Services, ctx: &Ctx) -> ServiceResult<Vec<FlavorInfo>> {
    ctx.authorize(services, "flavor:index")?;
    Ok(all(services.store.flavors().await?))
}

/// `GET /flavors/{id}`.
pub async fn show(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<FlavorInfo> {
    ctx.authorize(services, "flavor:show")?;
    services
        .store
        .flavor(id)
        .await
        .map(FlavorInfo::from)
        .map_err(|_| ServiceError::NotFound(format!("Flavor '{id}' could not be found.")))
}

/// `POST /mgmt/flavors`.
pub async fn create(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    ram_mb: i64,
    vcpus: i64,
) -> ServiceResult<FlavorInfo> {
    ctx.authorize(services, "flavor:create")?;
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !id_ok {
        return Err(ServiceError::BadRequest(
            "id: 1 to 64 letters, digits, '-', '_' or '.'".into(),
        ));
    }
    if !super::is_name(name.trim()) {
        return Err(ServiceError::BadRequest("name: 1 to 255 characters".into()));
    }
    if !(64..=1 << 20).contains(&ram_mb) {
        return Err(ServiceError::BadRequest(format!(
            "ram: {ram_mb} MB is outside 64 to 1048576 MB"
        )));
    }
    if !(1..=256).contains(&vcpus) {
        return Err(ServiceError::BadRequest(format!(
            "vcpus: {vcpus} is outside 1 to 256"
        )));
    }
    Ok(services
        .store
        .create_flavor(id, name.trim(), ram_mb, vcpus)
        .await?
        .into())
}

/// `DELETE /mgmt/flavors/{id}`: refused while instances use it.
pub async fn delete(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    ctx.authorize(services, "flavor:delete")?;
    services
        .store
        .flavor(id)
        .await
        .map_err(|_| ServiceError::NotFound(format!("Flavor '{id}' could not be found.")))?;
    let users = services.store.instances_using_flavor(id).await?;
    if users > 0 {
        return Err(ServiceError::Conflict(format!(
            "Flavor '{id}' is used by {users} instance(s)."
        )));
    }
    Ok(services.store.delete_flavor(id).await?)
}
