//! Databases, users, user access and root of an instance.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A name in a list (`{"name": "appdb"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NameRef {
    /// The name.
    pub name: String,
}

/// A database to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DatabaseRequest {
    /// Its name.
    pub name: String,
    /// Its character set.
    #[serde(default)]
    pub character_set: Option<String>,
    /// Its collation.
    #[serde(default)]
    pub collate: Option<String>,
}

/// `POST /instances/{id}/databases`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateDatabasesRequest {
    /// The databases.
    pub databases: Vec<DatabaseRequest>,
}

/// A database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DatabaseView {
    /// Its name.
    pub name: String,
    /// Its character set.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub character_set: Option<String>,
    /// Its collation.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub collate: Option<String>,
}

/// `GET /instances/{id}/databases` and `GET …/users/{name}/databases`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DatabasesResponse {
    /// The databases.
    pub databases: Vec<DatabaseView>,
    /// A `next` link when the list goes on (`limit` and `marker` ask for a page).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub links: Vec<crate::common::Link>,
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserRequest {
    /// Its name.
    pub name: String,
    /// Its password.
    #[serde(default)]
    pub password: Option<String>,
    /// The host it may connect from (`%`: any).
    #[serde(default)]
    pub host: Option<String>,
    /// Databases it may use.
    #[serde(default)]
    pub databases: Vec<NameRef>,
}

/// `POST /instances/{id}/users`, and `PUT /instances/{id}/users` (change passwords).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsersRequest {
    /// The users.
    pub users: Vec<UserRequest>,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// Its name.
    pub name: String,
    /// Its host.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub host: Option<String>,
    /// Databases it may use.
    pub databases: Vec<NameRef>,
}

/// `GET /instances/{id}/users`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsersResponse {
    /// The users.
    pub users: Vec<UserView>,
    /// A `next` link when the list goes on (`limit` and `marker` ask for a page).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub links: Vec<crate::common::Link>,
}

/// `GET /instances/{id}/users/{name}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    /// The user.
    pub user: UserView,
}

/// Changes to a user.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UserChanges {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// A new host.
    #[serde(default)]
    pub host: Option<String>,
    /// A new password.
    #[serde(default)]
    pub password: Option<String>,
}

/// `PUT /instances/{id}/users/{name}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    /// The changes.
    pub user: UserChanges,
}

/// `PUT /instances/{id}/users/{name}/databases`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GrantAccessRequest {
    /// Databases to give access to.
    pub databases: Vec<NameRef>,
}

/// `POST /instances/{id}/root` body (optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct EnableRootRequest {
    /// The password to set; generated when absent.
    #[serde(default)]
    pub password: Option<String>,
}

/// Root credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RootUser {
    /// The superuser's name.
    pub name: String,
    /// Its password.
    pub password: String,
}

/// `POST /instances/{id}/root`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RootResponse {
    /// The credentials.
    pub user: RootUser,
}

/// `GET /instances/{id}/root`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RootEnabledResponse {
    /// Whether root has ever been enabled.
    #[serde(rename = "rootEnabled")]
    pub root_enabled: bool,
}
