//! Lookups the use cases share: what a caller may see of an instance or a configuration group
//! (a 404 otherwise, whether it exists or not), the datastore version a request names, and the
//! driver that serves a version. Every service module may use these; this module uses none of
//! them.

use crate::runtime::Driver;
use crate::store::{Configuration, DatastoreVersion, Instance, Visibility};

use super::{Ctx, ServiceError, ServiceResult, Services};

/// Resolves a datastore version from a request's type and version (names or ids), applying
/// defaults, activity and visibility.
pub async fn resolve_version(
    services: &Services,
    ctx: &Ctx,
    datastore: Option<&str>,
    version: Option<&str>,
) -> ServiceResult<DatastoreVersion> {
    // As Trove: the named datastore (404 if unknown), or the configured default one (400 if
    // there is none or it is gone).
    let datastore =
        match (datastore, services.default_datastore.as_deref()) {
            (Some(name), _) => services.store.datastore(name).await.map_err(|_| {
                ServiceError::NotFound(format!("Datastore '{name}' cannot be found."))
            })?,
            (None, Some(default)) => services.store.datastore(default).await.map_err(|_| {
                ServiceError::BadRequest(format!(
                    "Please specify datastore: the default datastore '{default}' cannot be found."
                ))
            })?,
            (None, None) => {
                return Err(ServiceError::BadRequest(
                    "Please specify datastore. No default datastore is defined.".into(),
                ));
            }
        };
    // An unknown version is a 400 in Trove (`DatastoreVersionNotFound`).
    let version = match version.or(datastore.default_version_id.as_deref()) {
        Some(version) => services
            .store
            .datastore_version_of(&datastore.id, version)
            .await
            .map_err(|_| {
                ServiceError::BadRequest(format!("Datastore version '{version}' cannot be found."))
            })?,
        None => {
            return Err(ServiceError::BadRequest(format!(
                "Default version for datastore '{}' not found; please specify one.",
                datastore.name
            )));
        }
    };
    if version.visibility() == Visibility::Private && !ctx.is_admin() {
        let members = services
            .store
            .datastore_version_members(&version.id)
            .await?;
        if !members.contains(&ctx.project_id) {
            return Err(ServiceError::NotFound(format!(
                "Datastore version '{}' cannot be found.",
                version.name
            )));
        }
    }
    if !version.active {
        return Err(ServiceError::BadRequest(format!(
            "Datastore version '{}' is not active.",
            version.name
        )));
    }
    Ok(version)
}

/// The active driver for a version, or why there is none, as an API error.
pub fn driver_for(services: &Services, version: &DatastoreVersion) -> ServiceResult<Driver> {
    crate::orchestrator::resolve_active(&services.runtime, version)
        .map_err(ServiceError::Unprocessable)
}

/// The active driver for an instance's datastore version.
pub async fn driver_of(services: &Services, instance: &Instance) -> ServiceResult<Driver> {
    let version = services
        .store
        .datastore_version(&instance.datastore_version_id)
        .await?;
    driver_for(services, &version)
}

/// A live instance the caller may see: its project's, or any for an administrator; a 404
/// otherwise, as for an instance that does not exist.
pub async fn visible_instance(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<Instance> {
    let instance = services
        .store
        .instance(id)
        .await
        .map_err(|_| ServiceError::NotFound(format!("Instance {id} could not be found.")))?;
    if instance.project_id != ctx.project_id && !ctx.is_admin() {
        return Err(ServiceError::NotFound(format!(
            "Instance {id} could not be found."
        )));
    }
    Ok(instance)
}

/// A configuration group the caller may see: its project's, or any for an administrator; a
/// 404 otherwise.
pub async fn visible_configuration(
    services: &Services,
    ctx: &Ctx,
    id: &str,
) -> ServiceResult<Configuration> {
    let not_found =
        || ServiceError::NotFound(format!("Configuration group {id} could not be found."));
    let group = services
        .store
        .configuration(id)
        .await
        .map_err(|_| not_found())?;
    if group.project_id != ctx.project_id && !ctx.is_admin() {
        return Err(not_found());
    }
    Ok(group)
}

/// Whether a datastore version may run on a flavor: every flavor, unless the operator gave the
/// version a list of its own.
pub async fn flavor_allowed(
    services: &Services,
    version: &DatastoreVersion,
    flavor_id: &str,
) -> ServiceResult<bool> {
    let allowed = services
        .store
        .datastore_version_flavors(&version.id)
        .await?;
    Ok(allowed.is_empty() || allowed.iter().any(|f| f == flavor_id))
}
