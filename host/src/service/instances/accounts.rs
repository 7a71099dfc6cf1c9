//! The databases, users, access and root of a running instance, through its driver.

use crate::runtime::types::{self as wit, DriverError};
use crate::runtime::{Driver, NodeOps};
use crate::store::Instance;

use super::super::lookup::{driver_for, visible_instance};
use super::super::views::{Credentials, Database, User, UserUpdate, all};
use super::super::{Ctx, ServiceError, ServiceResult, Services};

/// A settled instance's node and driver, for the accounts calls.
async fn live_node(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    action: &str,
) -> ServiceResult<(Instance, Driver, std::sync::Arc<dyn NodeOps>)> {
    let instance = visible_instance(services, ctx, id).await?;
    ctx.authorize_for(services, action, &instance.project_id)?;
    if !instance.status.is_serving() {
        return Err(ServiceError::Unprocessable(format!(
            "Instance {id} is not ACTIVE (its status is {}).",
            instance.status
        )));
    }
    let target = services
        .orchestrator
        .instance_node(&instance.id)
        .await
        .map_err(ServiceError::Conflict)?;
    let driver = driver_for(services, &target.version)?;
    Ok((instance, driver, target.ops()))
}

/// `POST /instances/{id}/databases`.
pub async fn create_databases(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    databases: Vec<Database>,
) -> ServiceResult<()> {
    let (instance, driver, node) =
        live_node(services, ctx, id, "instance:extension:database:create").await?;
    let version = services
        .store
        .datastore_version(&instance.datastore_version_id)
        .await?;
    let databases = driver
        .validate_databases(&version.name, &all::<_, wit::Database>(databases))
        .await?;
    Ok(driver.create_databases(node, &databases).await?)
}

/// `GET /instances/{id}/databases`.
pub async fn list_databases(
    services: &Services,
    ctx: &Ctx,
    id: &str,
) -> ServiceResult<Vec<Database>> {
    let (_, driver, node) =
        live_node(services, ctx, id, "instance:extension:database:index").await?;
    Ok(all(driver.list_databases(node).await?))
}

/// `DELETE /instances/{id}/databases/{name}`.
pub async fn delete_database(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
) -> ServiceResult<()> {
    let (_, driver, node) =
        live_node(services, ctx, id, "instance:extension:database:delete").await?;
    Ok(driver.delete_database(node, name).await?)
}

/// `POST /instances/{id}/users`.
pub async fn create_users(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    users: Vec<User>,
) -> ServiceResult<()> {
    let (instance, driver, node) =
        live_node(services, ctx, id, "instance:extension:user:create").await?;
    let version = services
        .store
        .datastore_version(&instance.datastore_version_id)
        .await?;
    let users = driver
        .validate_users(&version.name, &all::<_, wit::User>(users))
        .await?;
    Ok(driver.create_users(node, &users).await?)
}

/// `GET /instances/{id}/users`.
pub async fn list_users(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<Vec<User>> {
    let (_, driver, node) = live_node(services, ctx, id, "instance:extension:user:index").await?;
    Ok(all(driver.list_users(node).await?))
}

/// `GET /instances/{id}/users/{name}`.
pub async fn show_user(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    host: Option<&str>,
) -> ServiceResult<User> {
    let (_, driver, node) = live_node(services, ctx, id, "instance:extension:user:show").await?;
    Ok(driver.get_user(node, name, host).await?.into())
}

/// `DELETE /instances/{id}/users/{name}`.
pub async fn delete_user(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    host: Option<&str>,
) -> ServiceResult<()> {
    let (_, driver, node) = live_node(services, ctx, id, "instance:extension:user:delete").await?;
    Ok(driver.delete_user(node, name, host).await?)
}

/// `PUT /instances/{id}/users/{name}`: rename, new host or password.
pub async fn update_user(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    host: Option<&str>,
    update: UserUpdate,
) -> ServiceResult<()> {
    let (_, driver, node) = live_node(services, ctx, id, "instance:extension:user:update").await?;
    // Renaming onto a user that exists is a 400 in Trove (a create of one is a 409).
    match driver.update_user(node, name, host, &update.into()).await {
        Err(crate::runtime::CallError::Driver(DriverError::Conflict(message))) => {
            Err(ServiceError::BadRequest(message))
        }
        other => Ok(other?),
    }
}

/// `PUT /instances/{id}/users`: change passwords of several users.
pub async fn change_passwords(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    users: Vec<User>,
) -> ServiceResult<()> {
    let (_, driver, node) =
        live_node(services, ctx, id, "instance:extension:user:update_all").await?;
    for user in users {
        let update = wit::UserUpdate::from(UserUpdate {
            name: None,
            host: None,
            password: user.password.clone(),
        });
        driver
            .update_user(node.clone(), &user.name, user.host.as_deref(), &update)
            .await?;
    }
    Ok(())
}

/// `GET /instances/{id}/users/{name}/databases`.
pub async fn list_access(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    host: Option<&str>,
) -> ServiceResult<Vec<String>> {
    let (_, driver, node) =
        live_node(services, ctx, id, "instance:extension:user_access:index").await?;
    Ok(driver.list_access(node, name, host).await?)
}

/// `PUT /instances/{id}/users/{name}/databases`.
pub async fn grant_access(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    host: Option<&str>,
    databases: Vec<String>,
) -> ServiceResult<()> {
    let (_, driver, node) =
        live_node(services, ctx, id, "instance:extension:user_access:update").await?;
    Ok(driver.grant_access(node, name, host, &databases).await?)
}

/// `DELETE /instances/{id}/users/{name}/databases/{database}`.
pub async fn revoke_access(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    name: &str,
    host: Option<&str>,
    database: &str,
) -> ServiceResult<()> {
    let (_, driver, node) =
        live_node(services, ctx, id, "instance:extension:user_access:delete").await?;
    Ok(driver.revoke_access(node, name, host, database).await?)
}

/// `POST /instances/{id}/root`.
pub async fn enable_root(
    services: &Services,
    ctx: &Ctx,
    id: &str,
    password: Option<String>,
) -> ServiceResult<Credentials> {
    let (instance, driver, node) =
        live_node(services, ctx, id, "instance:extension:root:create").await?;
    let credentials = driver.enable_root(node, password.as_deref()).await?;
    services
        .store
        .mark_root_enabled(&instance.id, ctx.caller.user_id.as_deref())
        .await?;
    Ok(credentials.into())
}

/// `GET /instances/{id}/root`: whether root was ever enabled (Trove's root history).
pub async fn root_enabled(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<bool> {
    let instance = visible_instance(services, ctx, id).await?;
    ctx.authorize_for(
        services,
        "instance:extension:root:index",
        &instance.project_id,
    )?;
    Ok(instance.root_enabled_at.is_some())
}

/// `DELETE /instances/{id}/root`.
pub async fn disable_root(services: &Services, ctx: &Ctx, id: &str) -> ServiceResult<()> {
    let (_, driver, node) = live_node(services, ctx, id, "instance:extension:root:delete").await?;
    Ok(driver.disable_root(node).await?)
}
