//! Configuration groups and parameters. The catalogs and validation are the drivers'; a
//! group's values are stored as the driver normalised them, and every change to what an
//! instance runs with goes through an `ApplyConfiguration` task.

use super::lookup::{driver_for, resolve_version, visible_configuration, visible_instance};
use super::views::{ExcludedParameter, GroupInfo, Parameter, VersionInfo, all};
use super::{Ctx, ServiceError, ServiceResult, Services, datastores};
use crate::orchestrator::workflows::configure::{Apply, ApplyInput};
use crate::orchestrator::{
    Admission, settings_from_json, settings_to_json, value_from_json, value_to_json,
};
use crate::runtime::CallError;
use crate::runtime::types::{DriverError, Flavor, Setting, ValidationRequest};
use crate::store::{Configuration, DatastoreVersion, Instance, QuotaState};

/// `GET /datastores/{ds}/versions/{v}/parameters` (and by version id when `datastore` is
/// `None`): the version and its driver's catalog.
pub async fn parameters(
    services: &Services,
    ctx: &Ctx,
    datastore: Option<&str>,
    version: &str,
) -> ServiceResult<(VersionInfo, Vec<Parameter>)> {
    let rule = if datastore.is_some() {
        "configuration-parameter:index"
    } else {
        "configuration-parameter:index_by_version"
    };
    ctx.authorize(services, rule)?;
    let found = datastores::find_version(services, ctx, datastore, version).await?;
    let driver = driver_for(services, &found)?;
    let params = driver.parameters(&found.name).await?;
    Ok((found.into(), all(params)))
}

/// `GET /mgmt/datastores/versions/{id}/parameters`: the catalog and the parameters the
/// service controls, with the driver's reasons.
pub async fn parameters_for_operators(
    services: &Services,
    ctx: &Ctx,
    version: &str,
) -> ServiceResult<(VersionInfo, Vec<Parameter>, Vec<ExcludedParameter>)> {
    ctx.authorize(services, "configuration-parameter:mgmt_index")?;
    let found = services
        .store
        .datastore_version(version)
        .await
        .map_err(|_| {
            ServiceError::NotFound(format!("Datastore version '{version}' cannot be found."))
        })?;
    let driver = driver_for(services, &found)?;
    let params = driver.parameters(&found.name).await?;
    let excluded = driver.excluded(&found.name).await?;
    Ok((found.into(), all(params), all(excluded)))
}

/// `GET …/parameters/{name}`: one parameter; names match without regard to case, as in Trove.
pub async fn parameter(
    services: &Services,
    ctx: &Ctx,
    datastore: Option<&str>,
    version: &str,
    name: &str,
) -> ServiceResult<(VersionInfo, Parameter)> {
    let rule = if datastore.is_some() {
        "configuration-parameter:show"
    } else {
        "configuration-parameter:show_by_version"
    };
    ctx.authorize(services, rule)?;
    let found = datastores::find_version(services, ctx, datastore, version).await?;
    let driver = driver_for(services, &found)?;
    let param = driver
        .parameters(&found.name)
        .await?
        .into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            ServiceError::NotFound(format!(
                "No configuration parameter found by name {name} for datastore version {}.",
                found.name
            ))
        })?;
    Ok((found.into(), param.into()))
}

/// A configuration group with what the API shows beside it.
#[derive(Debug, Clone)]
pub struct GroupDetails {
    /// The group.
    pub group: GroupInfo,
    /// Its values, in order.
    pub values: Vec<(String, serde_json::Value)>,
    /// Its datastore version.
    pub version: VersionInfo,
    /// How many live instances use it.
    pub instance_count: i64,
}

/// What a create, update or edit asks for.
#[derive(Debug, Clone, Default)]
pub struct GroupRequest {
    /// A name.
    pub name: Option<String>,
    /// A description.
    pub description: Option<String>,
    /// Parameter → value.
    pub values: Vec<(String, serde_json::Value)>,
    /// The datastore (its type).
    pub datastore: Option<String>,
    /// The datastore version.
    pub datastore_version: Option<String>,
}

/// Validates values with the version's driver; bad values are 422s naming each one.
async fn validate(
    services: &Services,
    version: &DatastoreVersion,
    values: &[(String, serde_json::Value)],
    flavor: Option<Flavor>,
) -> ServiceResult<Vec<Setting>> {
    let mut settings = Vec::with_capacity(values.len());
    let mut bad = Vec::new();
    for (name, value) in values {
        match value_from_json(value) {
            Some(value) => settings.push(Setting {
                name: name.clone(),
                value,
            }),
            None => bad.push(format!(
                "{name}: the value must be a boolean, a number or a string, not {value}"
            )),
        }
    }
    if !bad.is_empty() {
        return Err(ServiceError::Unprocessable(bad.join("; ")));
    }
    let driver = driver_for(services, version)?;
    let request = ValidationRequest {
        datastore_version: version.name.clone(),
        settings,
        flavor,
    };
    match driver.validate(&request).await {
        Ok(validated) => Ok(validated.settings),
        Err(CallError::Driver(DriverError::Invalid(errors))) => Err(ServiceError::Unprocessable(
            errors
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join("; "),
        )),
        Err(other) => Err(other.into()),
    }
}

fn pairs(settings: &[Setting]) -> Vec<(String, serde_json::Value)> {
    settings
        .iter()
        .map(|s| (s.name.clone(), value_to_json(&s.value)))
        .collect()
}

async fn details(services: &Services, group: Configuration) -> ServiceResult<GroupDetails> {
    let version = services
        .store
        .datastore_version(&group.datastore_version_id)
        .await?;
    let instance_count = services
        .store
        .instances_with_configuration(&group.id)
        .await?
        .len() as i64;
    Ok(GroupDetails {
        values: pairs(&settings_from_json(&group.settings)),
        group: group.into(),
        version: version.into(),
        instance_count,
    })
}

/// `POST /configurations`.
pub async fn create(
    services: &Services,
    ctx: &Ctx,
    request: GroupRequest,
) -> ServiceResult<GroupDetails> {
    ctx.authorize(services, "configuration:create")?;
    let name = request.name.as_deref().map(str::trim).unwrap_or("");
    if !super::is_name(name) {
        return Err(ServiceError::BadRequest(
            "name: a configuration group needs a name of 1 to 255 characters.".into(),
        ));
    }
    let version = resolve_version(
        services,
        ctx,
        request.datastore.as_deref(),
        request.datastore_version.as_deref(),
    )
    .await?;
    let settings = validate(services, &version, &request.values, None).await?;
    let now = crate::store::now_ms();
    let group = Configuration {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: ctx.project_id.clone(),
        name: name.to_string(),
        description: request.description.unwrap_or_default(),
        datastore_version_id: version.id.clone(),
        settings: settings_to_json(&settings),
        created_at: now,
        updated_at: now,
    };
    let mut tx = services.store.write().await?;
    tx.insert_configuration(&group).await?;
    tx.commit().await?;
    Ok(GroupDetails {
        values: pairs(&settings),
        group: group.into(),
        version: version.into(),
        instance_count: 0,
    })
}

/// `GET /configurations`.
pub async fn list(services: &Services, ctx: &Ctx) -> ServiceResult<Vec<GroupDetails>> {
    ctx.authorize(services, "configuration:index")?;
    let mut all = Vec::new();
    for group in services.store.configurations(Some(&ctx.project_id)).await? {
        all.push(details(services, group).await?);
    }
    Ok(all)
}

/// `GET /configurations/{id}`.
pub async fn show(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<GroupDetails> {
    ctx.authorize(services, "configuration:show")?;
    let group = visible_configuration(services, ctx, id).await?;
    details(services, group).await
}

/// `GET /configurations/{id}/instances`: (id, name) of each instance using the group.
pub async fn instances(
    services: &Services,
    ctx: &Ctx,
    id: &str,
) -> ServiceResult<Vec<(String, String)>> {
    ctx.authorize(services, "configuration:instances")?;
    let group = visible_configuration(services, ctx, id).await?;
    Ok(services
        .store
        .instances_with_configuration(&group.id)
        .await?
        .into_iter()
        .map(|i| (i.id, i.name))
        .collect())
}

/// `PUT /configurations/{id}` replaces the values (`replace`) and `PATCH` merges them; either
/// way every attached instance gets the new values.
pub async fn change(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    request: GroupRequest,
    replace: bool,
) -> ServiceResult<()> {
    let group = visible_configuration(services, ctx, id).await?;
    let rule = if replace {
        "configuration:update"
    } else {
        "configuration:edit"
    };
    ctx.authorize_for(services, rule, &group.project_id)?;
    let version = services
        .store
        .datastore_version(&group.datastore_version_id)
        .await?;
    let mut values = if replace {
        Vec::new()
    } else {
        pairs(&settings_from_json(&group.settings))
    };
    for (name, value) in request.values {
        match values
            .iter_mut()
            .find(|(known, _)| known.eq_ignore_ascii_case(&name))
        {
            Some(slot) => slot.1 = value,
            None => values.push((name, value)),
        }
    }
    let settings = validate(services, &version, &values, None).await?;
    let attached = services
        .store
        .instances_with_configuration(&group.id)
        .await?;
    // Rules that depend on memory are checked against every attached instance's flavor.
    for instance in &attached {
        let flavor = flavor_of(services, instance).await?;
        validate(services, &version, &values, Some(flavor)).await?;
    }
    let name = request
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or(group.name.clone());
    let description = request.description.unwrap_or(group.description.clone());
    let target = settings_to_json(&settings);
    // The values first, on their own: an instance busy with a task (applying the previous
    // change, say) gets these once its task ends (the orchestrator's
    // `workflows::configure::apply_queued` reads them after that task's own commit), so a change is
    // never refused for being early.
    let mut tx = services.store.write().await?;
    tx.update_configuration(&group.id, &name, &description, &target)
        .await?;
    tx.commit().await?;
    for instance in &attached {
        if require_settled(instance).is_err() {
            continue;
        }
        let payload = apply_payload(services, instance, &version, &target, Some(&group.id))?;
        let mut tx = services.store.write().await?;
        match insert_apply_task(&mut tx, instance, &payload).await {
            Ok(()) => tx.commit().await?,
            Err(ServiceError::Unprocessable(_)) => {
                tracing::info!(instance = %instance.id, "the configuration change waits for the instance's task");
            }
            Err(other) => return Err(other),
        }
    }
    services.orchestrator.wake();
    Ok(())
}

/// `DELETE /configurations/{id}`: refused while an instance uses the group.
pub async fn delete(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    let group = visible_configuration(services, ctx, id).await?;
    ctx.authorize_for(services, "configuration:delete", &group.project_id)?;
    let mut tx = services.store.write().await?;
    if !tx.delete_unused_configuration(&group.id).await? {
        return Err(ServiceError::BadRequest(format!(
            "Configuration group {} is attached to instances; detach it from them first.",
            group.id
        )));
    }
    tx.commit().await?;
    Ok(())
}

/// The values a group gives an instance being created with it, validated for its flavor.
pub async fn for_new_instance(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    version: &DatastoreVersion,
    flavor: &crate::store::Flavor,
) -> ServiceResult<String> {
    let group = visible_configuration(services, ctx, id).await?;
    check_version(&group, version)?;
    let values = pairs(&settings_from_json(&group.settings));
    let settings = validate(services, version, &values, Some(wire_flavor(flavor))).await?;
    Ok(settings_to_json(&settings))
}

/// `PUT /instances/{id} {"instance": {"configuration": id}}` (attach) or `null` (detach).
pub async fn attach(
    services: &Services,
    ctx: &Ctx,
    instance_id: &str,
    configuration_id: Option<&str>,
) -> ServiceResult<()> {
    let instance = visible_instance(services, ctx, instance_id).await?;
    ctx.authorize_for(services, "instance:update", &instance.project_id)?;
    let version = services
        .store
        .datastore_version(&instance.datastore_version_id)
        .await?;
    let target = match configuration_id {
        Some(id) => {
            if let Some(current) = &instance.configuration_id {
                return Err(ServiceError::BadRequest(format!(
                    "Instance {} already has configuration group {current} attached; detach it first.",
                    instance.id
                )));
            }
            let group = visible_configuration(services, ctx, id).await?;
            check_version(&group, &version)?;
            let values = pairs(&settings_from_json(&group.settings));
            let flavor = flavor_of(services, &instance).await?;
            let settings = validate(services, &version, &values, Some(flavor)).await?;
            settings_to_json(&settings)
        }
        None => {
            if instance.configuration_id.is_none() {
                return Err(ServiceError::BadRequest(format!(
                    "Instance {} has no configuration group attached.",
                    instance.id
                )));
            }
            "[]".to_string()
        }
    };
    require_settled(&instance)?;
    let payload = apply_payload(
        services,
        &instance,
        &version,
        &target,
        instance.configuration_id.as_deref(),
    )?;
    let mut tx = services.store.write().await?;
    insert_apply_task(&mut tx, &instance, &payload).await?;
    tx.set_instance_configuration(&instance.id, configuration_id)
        .await?;
    tx.commit().await?;
    services.orchestrator.wake();
    Ok(())
}

fn check_version(group: &Configuration, version: &DatastoreVersion) -> ServiceResult<()> {
    if group.datastore_version_id != version.id {
        return Err(ServiceError::BadRequest(format!(
            "Configuration group {} is for another datastore version than the instance ({} {}).",
            group.id, version.datastore_name, version.name
        )));
    }
    Ok(())
}

/// Configuration changes apply to a running server, and to a stopped or failed one (its files
/// change, and it starts with them): an instance can always be repaired through the API.
fn require_settled(instance: &Instance) -> ServiceResult<()> {
    if instance.status.is_settled() && instance.quota_state == QuotaState::Committed {
        Ok(())
    } else {
        Err(ServiceError::Unprocessable(format!(
            "Instance {} is busy (status {}); try again when it has finished.",
            instance.id, instance.status
        )))
    }
}

fn wire_flavor(flavor: &crate::store::Flavor) -> Flavor {
    Flavor {
        id: flavor.id.clone(),
        name: flavor.name.clone(),
        ram_mb: flavor.ram_mb as u32,
        vcpus: flavor.vcpus as u32,
    }
}

async fn flavor_of(services: &Services, instance: &Instance) -> ServiceResult<Flavor> {
    Ok(wire_flavor(
        &services.store.flavor(&instance.flavor_id).await?,
    ))
}

fn apply_payload(
    services: &Services,
    instance: &Instance,
    version: &DatastoreVersion,
    target: &str,
    previous_configuration_id: Option<&str>,
) -> ServiceResult<Admission> {
    let driver = driver_for(services, version)?;
    let input = ApplyInput {
        driver: driver.digest().to_string(),
        target: target.to_string(),
        previous: instance.applied_settings.clone(),
        previous_configuration_id: previous_configuration_id.map(str::to_string),
        previous_status: instance.status,
    };
    Ok(Admission::of::<Apply>(&instance.id, &input))
}

async fn insert_apply_task(
    tx: &mut crate::store::Tx,
    instance: &Instance,
    admission: &Admission,
) -> ServiceResult<()> {
    admission
        .insert(tx, false)
        .await
        .map_err(|e| match e {
            // As every other action on a busy instance: Trove's 422, "try again".
            crate::store::StoreError::Conflict(_) => ServiceError::Unprocessable(format!(
                "Instance {} is busy with another operation (status {}); try again when it has finished.",
                instance.id, instance.status
            )),
            other => other.into(),
        })?;
    tx.clear_instance_fault(&instance.id).await?;
    Ok(())
}
