//! Backups.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::Count;

/// A backup to take.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewBackup {
    /// Its name.
    pub name: String,
    /// The instance to back up.
    pub instance: String,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// The backup an incremental one builds on.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// 1 for an incremental backup (the CLI sends 0 or 1).
    #[serde(default)]
    pub incremental: Option<Count>,
}

/// `POST /backups`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateBackupRequest {
    /// The backup.
    pub backup: NewBackup,
}

/// The datastore a backup was taken of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BackupDatastore {
    /// The datastore.
    #[serde(rename = "type")]
    pub datastore_type: String,
    /// The version's name.
    pub version: String,
    /// The version's id.
    pub version_id: String,
}

/// A backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BackupView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The instance it was taken of.
    pub instance_id: String,
    /// The backup it builds on.
    pub parent_id: Option<String>,
    /// NEW, BUILDING, COMPLETED, FAILED, DELETE_FAILED.
    pub status: String,
    /// Size, GiB.
    pub size: Option<f64>,
    /// The datastore.
    pub datastore: BackupDatastore,
    /// The owning project.
    pub project_id: String,
    /// When it was created.
    pub created: String,
    /// When it last changed.
    pub updated: String,
}

/// `GET /backups/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BackupResponse {
    /// The backup.
    pub backup: BackupView,
}

/// `GET /backups`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BackupsResponse {
    /// The backups.
    pub backups: Vec<BackupView>,
}
