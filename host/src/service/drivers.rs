//! Driver management (admins): upload, list, show, activate, roll back, delete. The store is
//! the record (so every host sharing it sees the same drivers); the runtime's registry follows
//! it, and [`sync`] brings a host's registry up to date with the store.

use serde::Serialize;

use crate::runtime::{Driver, LoadError, Runtime};
use crate::store::{DriverRecord, Store, StoredDriver, now_ms};

use super::views::DriverInfo;
use super::{Ctx, ServiceError, ServiceResult, Services};

/// A driver with everything the API shows about it.
#[derive(Debug, Clone)]
pub struct DriverDetails {
    /// The stored record.
    pub record: DriverInfo,
    /// The manifest, as stored (JSON).
    pub manifest: serde_json::Value,
    /// Datastore versions (ids) it serves now or would serve if active.
    pub used_by: Vec<String>,
}

/// The stored form of a manifest.
#[derive(Serialize)]
struct ManifestJson<'a> {
    name: &'a str,
    version: &'a str,
    contract_version: &'a str,
    datastore: &'a str,
    versions: &'a [String],
    description: &'a str,
    maturity: &'a str,
    features: &'a [String],
    binaries: Vec<serde_json::Value>,
}

fn manifest_json(driver: &Driver) -> String {
    use crate::runtime::types::Maturity;
    let manifest = driver.manifest();
    serde_json::to_string(&ManifestJson {
        name: &manifest.name,
        version: &manifest.version,
        contract_version: &manifest.contract_version,
        datastore: &manifest.datastore,
        versions: &manifest.versions,
        description: &manifest.description,
        maturity: match manifest.maturity {
            Maturity::Experimental => "experimental",
            Maturity::Preview => "preview",
            Maturity::Stable => "stable",
        },
        features: &manifest.features,
        binaries: manifest
            .binaries
            .iter()
            .map(
                |b| serde_json::json!({"name": b.name, "package": b.package, "purpose": b.purpose}),
            )
            .collect(),
    })
    .expect("manifests serialise")
}

/// Records a loaded driver in the store (idempotent) and the registry.
pub async fn record(
    store: &Store,
    runtime: &Runtime,
    driver: &Driver,
    bytes: &[u8],
) -> Result<(), crate::store::StoreError> {
    let identity = driver.identity();
    store
        .insert_driver(
            &StoredDriver {
                digest: identity.digest.clone(),
                name: identity.name.clone(),
                version: identity.version.to_string(),
                contract: identity.contract.to_string(),
                manifest: manifest_json(driver),
                size: bytes.len() as i64,
                uploaded_at: now_ms(),
            },
            bytes,
        )
        .await?;
    runtime.registry().add(driver.clone());
    Ok(())
}

/// Brings the registry in line with the store's activations, loading components as needed.
pub async fn sync(store: &Store, runtime: &Runtime) -> anyhow::Result<()> {
    for record in store.drivers().await? {
        if !(record.active || record.previous) {
            continue;
        }
        if runtime.registry().get(&record.driver.digest).is_none() {
            let bytes = store.driver_component(&record.driver.digest).await?;
            match runtime.load(bytes).await {
                Ok(driver) => runtime.registry().add(driver),
                Err(error) => {
                    tracing::error!(digest = %record.driver.digest, "a stored driver no longer loads: {error}");
                    continue;
                }
            }
        }
    }
    // Previous versions first, so that activating the active one records the right previous.
    let records = store.drivers().await?;
    for record in records
        .iter()
        .filter(|r| r.previous)
        .chain(records.iter().filter(|r| r.active))
    {
        if record.active && !runtime.registry().is_active(&record.driver.digest) {
            runtime.registry().activate(&record.driver.digest)?;
            tracing::info!(driver = %record.driver.name, digest = %record.driver.digest, "activated");
        }
    }
    Ok(())
}

async fn details(services: &Services, record: DriverRecord) -> ServiceResult<DriverDetails> {
    let version = semver::Version::parse(&record.driver.version).ok();
    let used_by = services
        .store
        .datastore_versions()
        .await?
        .into_iter()
        .filter(|v| v.driver_name == record.driver.name)
        .filter(|v| {
            let requirement = semver::VersionReq::parse(&v.driver_requirement);
            matches!((requirement, &version), (Ok(req), Some(ver)) if req.matches(ver))
        })
        .map(|v| v.id)
        .collect();
    let manifest = serde_json::from_str(&record.driver.manifest).unwrap_or(serde_json::Value::Null);
    Ok(DriverDetails {
        record: record.into(),
        manifest,
        used_by,
    })
}

/// `POST /mgmt/drivers`: validates and stores a component; activates it when asked or when no
/// version of its driver is active yet.
pub async fn upload(
    services: &Services,
    ctx: &Ctx,
    bytes: Vec<u8>,
    activate: bool,
) -> ServiceResult<DriverDetails> {
    ctx.authorize(services, "driver:create")?;
    if bytes.is_empty() {
        return Err(ServiceError::BadRequest(
            "The request body must be a WebAssembly component.".into(),
        ));
    }
    let driver = services
        .runtime
        .load(bytes.clone())
        .await
        .map_err(|e: LoadError| ServiceError::BadRequest(format!("Driver refused: {e}")))?;
    record(&services.store, &services.runtime, &driver, &bytes).await?;
    let first = services.runtime.registry().active(driver.name()).is_none();
    if activate || first {
        services
            .store
            .activate_driver(driver.name(), driver.digest())
            .await?;
        sync(&services.store, &services.runtime)
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
    }
    details(services, services.store.driver(driver.digest()).await?).await
}

/// `GET /mgmt/drivers`.
pub async fn list(services: &Services, ctx: &Ctx) -> ServiceResult<Vec<DriverDetails>> {
    ctx.authorize(services, "driver:index")?;
    let mut result = Vec::new();
    for record in services.store.drivers().await? {
        result.push(details(services, record).await?);
    }
    Ok(result)
}

fn normalise(digest: &str) -> String {
    if digest.starts_with("sha256:") {
        digest.to_string()
    } else {
        format!("sha256:{digest}")
    }
}

/// `GET /mgmt/drivers/{digest}`.
pub async fn show(services: &Services, ctx: &Ctx, digest: &str) -> ServiceResult<DriverDetails> {
    ctx.authorize(services, "driver:show")?;
    let record = services.store.driver(&normalise(digest)).await?;
    details(services, record).await
}

/// `POST /mgmt/drivers/{digest}/activate`.
pub async fn activate(
    services: &Services,
    ctx: &Ctx,
    digest: &str,
) -> ServiceResult<DriverDetails> {
    ctx.authorize(services, "driver:activate")?;
    let record = services.store.driver(&normalise(digest)).await?;
    services
        .store
        .activate_driver(&record.driver.name, &record.driver.digest)
        .await?;
    sync(&services.store, &services.runtime)
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    details(
        services,
        services.store.driver(&record.driver.digest).await?,
    )
    .await
}

/// `POST /mgmt/drivers/{name}/rollback`.
pub async fn rollback(services: &Services, ctx: &Ctx, name: &str) -> ServiceResult<DriverDetails> {
    ctx.authorize(services, "driver:rollback")?;
    let restored = services
        .store
        .rollback_driver(name)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(message) => ServiceError::Conflict(message),
            crate::store::StoreError::NotFound(_) => {
                ServiceError::NotFound(format!("No active driver named {name}."))
            }
            other => other.into(),
        })?;
    sync(&services.store, &services.runtime)
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    details(services, services.store.driver(&restored).await?).await
}

/// `DELETE /mgmt/drivers/{digest}`: only a version that is neither active nor pinned by a task
/// that is still running.
pub async fn delete(services: &Services, ctx: &Ctx, digest: &str) -> ServiceResult<()> {
    ctx.authorize(services, "driver:delete")?;
    let digest = normalise(digest);
    services.store.driver(&digest).await?;
    let pinned = services.store.active_tasks_pinned_to(&digest).await?;
    if pinned > 0 {
        return Err(ServiceError::Conflict(format!(
            "Driver {digest} is used by {pinned} running task(s)."
        )));
    }
    services.store.delete_driver(&digest).await?;
    let _ = services.runtime.registry().remove(&digest);
    Ok(())
}
