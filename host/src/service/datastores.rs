//! Datastores and their versions: what users see, and the management API that registers them.

use crate::store::{DatastoreVersion, NewDatastoreVersion, Visibility};

use super::views::{DatastoreInfo, FlavorInfo, VersionInfo, all};

use super::{Ctx, ServiceError, ServiceResult, Services};

/// A datastore with the versions the caller may see.
/// What registering a datastore version records.
#[derive(Debug, Clone)]
pub struct NewVersion {
    /// The datastore's name (created if new).
    pub datastore_name: String,
    /// The version's name.
    pub name: String,
    /// The driver that serves it.
    pub driver_name: String,
    /// The driver versions that may serve it (a semver requirement).
    pub driver_requirement: String,
    /// Its image (informational).
    pub image: String,
    /// Its packages, comma-separated.
    pub packages: String,
    /// Whether new instances may use it.
    pub active: bool,
    /// Whether it becomes (or stops being) its datastore's default.
    pub default: Option<bool>,
    /// Who sees it.
    pub visibility: Visibility,
}

#[derive(Debug, Clone)]
pub struct DatastoreDetails {
    /// The datastore.
    pub datastore: DatastoreInfo,
    /// Its visible versions.
    pub versions: Vec<VersionInfo>,
}

/// A version with what the management API shows of it.
#[derive(Debug, Clone)]
pub struct VersionDetails {
    /// The version.
    pub version: VersionInfo,
    /// Whether it is its datastore's default.
    pub default: bool,
    /// Projects a private version is shared with.
    pub members: Vec<String>,
    /// Flavors it is limited to (empty: all).
    pub flavors: Vec<String>,
    /// Whether a loaded driver satisfies it, or why not.
    pub driver_status: Result<String, String>,
}

async fn visible(
    services: &Services,
    ctx: &Ctx,
    version: &DatastoreVersion,
) -> ServiceResult<bool> {
    if ctx.is_admin() {
        return Ok(true);
    }
    if !version.active {
        return Ok(false);
    }
    Ok(match version.visibility() {
        Visibility::Public => true,
        Visibility::Private => services
            .store
            .datastore_version_members(&version.id)
            .await?
            .contains(&ctx.project_id),
    })
}

async fn visible_versions(
    services: &Services,
    ctx: &Ctx,
    datastore_id: Option<&str>,
) -> ServiceResult<Vec<DatastoreVersion>> {
    let mut result = Vec::new();
    for version in services.store.datastore_versions().await? {
        if datastore_id.is_none_or(|id| version.datastore_id == id)
            && visible(services, ctx, &version).await?
        {
            result.push(version);
        }
    }
    Ok(result)
}

/// `GET /datastores`.
pub async fn list(services: &Services, ctx: &Ctx) -> ServiceResult<Vec<DatastoreDetails>> {
    ctx.authorize(services, "datastore:index")?;
    let versions = visible_versions(services, ctx, None).await?;
    Ok(services
        .store
        .datastores()
        .await?
        .into_iter()
        .map(|datastore| DatastoreDetails {
            versions: versions
                .iter()
                .filter(|v| v.datastore_id == datastore.id)
                .cloned()
                .map(VersionInfo::from)
                .collect(),
            datastore: datastore.into(),
        })
        .filter(|d| !d.versions.is_empty() || ctx.is_admin())
        .collect())
}

/// `GET /datastores/{id or name}`.
pub async fn show(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<DatastoreDetails> {
    ctx.authorize(services, "datastore:show")?;
    let datastore = services
        .store
        .datastore(id)
        .await
        .map_err(|_| ServiceError::NotFound(format!("Datastore '{id}' cannot be found.")))?;
    let versions = visible_versions(services, ctx, Some(&datastore.id)).await?;
    if versions.is_empty() && !ctx.is_admin() {
        return Err(ServiceError::NotFound(format!(
            "Datastore '{id}' cannot be found."
        )));
    }
    Ok(DatastoreDetails {
        datastore: datastore.into(),
        versions: all(versions),
    })
}

/// `GET /datastores/{ds}/versions/{v}` (and `/datastores/versions/{id}` with no datastore).
pub async fn version(
    services: &Services,
    ctx: &Ctx,
    datastore: Option<&str>,
    version: &str,
) -> ServiceResult<VersionInfo> {
    Ok(find_version(services, ctx, datastore, version)
        .await?
        .into())
}

/// A datastore version the caller may see, by id (or by name or id within `datastore`).
pub(super) async fn find_version(
    services: &Services,
    ctx: &Ctx,
    datastore: Option<&str>,
    version: &str,
) -> ServiceResult<DatastoreVersion> {
    ctx.authorize(services, "datastore:version_show")?;
    let found = match datastore {
        Some(ds) => {
            let datastore = services.store.datastore(ds).await.map_err(|_| {
                ServiceError::NotFound(format!("Datastore '{ds}' cannot be found."))
            })?;
            services
                .store
                .datastore_version_of(&datastore.id, version)
                .await
        }
        None => services.store.datastore_version(version).await,
    }
    .map_err(|_| {
        ServiceError::NotFound(format!("Datastore version '{version}' cannot be found."))
    })?;
    if !visible(services, ctx, &found).await? {
        return Err(ServiceError::NotFound(format!(
            "Datastore version '{version}' cannot be found."
        )));
    }
    Ok(found)
}

/// `GET /datastores/{ds}/versions`.
pub async fn versions(
    services: &Services,
    ctx: &Ctx,
    datastore: &str,
) -> ServiceResult<Vec<VersionInfo>> {
    Ok(show(services, ctx, datastore).await?.versions)
}

/// `GET /datastores/{ds}/versions/{v}/flavors`: the flavors the version may run on.
pub async fn version_flavors(
    services: &Services,
    ctx: &Ctx,
    datastore: Option<&str>,
    version_id: &str,
) -> ServiceResult<Vec<FlavorInfo>> {
    let found = find_version(services, ctx, datastore, version_id).await?;
    let allowed = services.store.datastore_version_flavors(&found.id).await?;
    let flavors = services.store.flavors().await?;
    Ok(flavors
        .into_iter()
        .filter(|f| allowed.is_empty() || allowed.contains(&f.id))
        .map(FlavorInfo::from)
        .collect())
}

async fn details(services: &Services, version: DatastoreVersion) -> ServiceResult<VersionDetails> {
    let datastore = services.store.datastore(&version.datastore_id).await?;
    Ok(VersionDetails {
        default: datastore.default_version_id.as_deref() == Some(version.id.as_str()),
        members: services
            .store
            .datastore_version_members(&version.id)
            .await?,
        flavors: services
            .store
            .datastore_version_flavors(&version.id)
            .await?,
        driver_status: crate::orchestrator::resolve_active(&services.runtime, &version)
            .map(|d| d.identity().label.clone()),
        version: version.into(),
    })
}

/// Checks a driver requirement.
fn check_requirement(requirement: &str) -> ServiceResult<()> {
    semver::VersionReq::parse(requirement)
        .map(|_| ())
        .map_err(|e| {
            ServiceError::BadRequest(format!(
                "driver.version_requirement: {requirement:?} is not a semver requirement: {e}"
            ))
        })
}

/// `POST /mgmt/datastore-versions`.
pub async fn register(
    services: &Services,
    ctx: &Ctx,
    new: NewVersion,
) -> ServiceResult<VersionDetails> {
    let new = NewDatastoreVersion {
        datastore_name: new.datastore_name,
        name: new.name,
        driver_name: new.driver_name,
        driver_requirement: new.driver_requirement,
        image: new.image,
        packages: new.packages,
        active: new.active,
        default: new.default,
        visibility: new.visibility,
    };
    ctx.authorize(services, "datastore:version_create")?;
    for (field, value) in [
        ("datastore_name", &new.datastore_name),
        ("name", &new.name),
        ("driver.name", &new.driver_name),
    ] {
        if value.trim().is_empty() || value.len() > 255 {
            return Err(ServiceError::BadRequest(format!(
                "{field}: 1 to 255 characters"
            )));
        }
    }
    check_requirement(&new.driver_requirement)?;
    let version = services
        .store
        .create_datastore_version(&new)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(message) => ServiceError::BadRequest(message),
            other => other.into(),
        })?;
    details(services, version).await
}

/// `GET /mgmt/datastore-versions`.
pub async fn list_registered(services: &Services, ctx: &Ctx) -> ServiceResult<Vec<VersionDetails>> {
    ctx.authorize(services, "datastore:version_mgmt_index")?;
    let mut result = Vec::new();
    for version in services.store.datastore_versions().await? {
        result.push(details(services, version).await?);
    }
    Ok(result)
}

/// `GET /mgmt/datastore-versions/{id}`.
pub async fn show_registered(
    services: &Services,
    ctx: &Ctx,
    id: &str,
) -> ServiceResult<VersionDetails> {
    ctx.authorize(services, "datastore:version_mgmt_index")?;
    let version = services.store.datastore_version(id).await.map_err(|_| {
        ServiceError::NotFound(format!("Datastore version '{id}' cannot be found."))
    })?;
    details(services, version).await
}

/// What `PATCH /mgmt/datastore-versions/{id}` may change.
#[derive(Debug, Clone, Default)]
pub struct VersionPatch {
    /// Driver name.
    pub driver_name: Option<String>,
    /// Driver requirement.
    pub driver_requirement: Option<String>,
    /// Image.
    pub image: Option<String>,
    /// Packages.
    pub packages: Option<String>,
    /// Active.
    pub active: Option<bool>,
    /// Visibility.
    pub visibility: Option<Visibility>,
    /// Default.
    pub default: Option<bool>,
    /// Member projects to add.
    pub add_members: Vec<String>,
    /// Member projects to remove.
    pub remove_members: Vec<String>,
    /// Flavors to limit it to.
    pub flavors: Option<Vec<String>>,
}

/// `PATCH /mgmt/datastore-versions/{id}`.
pub async fn update(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    patch: VersionPatch,
) -> ServiceResult<VersionDetails> {
    ctx.authorize(services, "datastore:version_update")?;
    services.store.datastore_version(id).await.map_err(|_| {
        ServiceError::NotFound(format!("Datastore version '{id}' cannot be found."))
    })?;
    if let Some(requirement) = &patch.driver_requirement {
        check_requirement(requirement)?;
    }
    services
        .store
        .update_datastore_version(
            id,
            patch.driver_name.as_deref(),
            patch.driver_requirement.as_deref(),
            patch.image.as_deref(),
            patch.packages.as_deref(),
            patch.active,
            patch.visibility,
            patch.default,
        )
        .await?;
    for project in &patch.add_members {
        services
            .store
            .add_datastore_version_member(id, project)
            .await?;
    }
    for project in &patch.remove_members {
        services
            .store
            .remove_datastore_version_member(id, project)
            .await?;
    }
    if let Some(flavors) = &patch.flavors {
        services
            .store
            .set_datastore_version_flavors(id, flavors)
            .await?;
    }
    show_registered(services, ctx, id).await
}

/// `DELETE /mgmt/datastore-versions/{id}`: refused while instances use it.
pub async fn delete(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    ctx.authorize(services, "datastore:version_delete")?;
    services.store.datastore_version(id).await.map_err(|_| {
        ServiceError::NotFound(format!("Datastore version '{id}' cannot be found."))
    })?;
    if services.store.instances_using_version(id).await? > 0 {
        return Err(ServiceError::Conflict(
            "Instance(s) exists for the datastore version.".into(),
        ));
    }
    Ok(services.store.delete_datastore_version(id).await?)
}
