//! Turning bytes into a driver that is ready to call: compile once (cached on disk by content
//! digest and engine settings), check the contract version, type-check imports and exports
//! against the world, and read and check the manifest.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest as _, Sha256};
use wasmtime::component::Component;

use super::since_v0_1_0::DatastoreDriverPre;
use super::since_v0_1_0::exports::drover::driver::manifest::DriverManifest;
use super::state::DriverState;
use super::{CONTRACT_PACKAGE, LoadError, Shared, contract_version};

/// Who a driver is, carried into every call for logs, errors and grants.
#[derive(Debug, Clone)]
pub struct DriverIdentity {
    /// The manifest name.
    pub name: String,
    /// The driver's own version.
    pub version: semver::Version,
    /// The contract version it was built against.
    pub contract: semver::Version,
    /// `sha256:<hex>` of the component bytes.
    pub digest: String,
    /// `name@version (sha256:abcdef012345)`, for messages.
    pub label: String,
    /// The binaries the manifest declares: the only ones it may exec.
    pub binaries: Vec<String>,
}

/// A validated driver: its identity, manifest and pre-instantiated component.
pub struct LoadedDriver {
    pub(crate) identity: Arc<DriverIdentity>,
    pub(crate) manifest: DriverManifest,
    pub(crate) pre: DatastoreDriverPre<DriverState>,
    pub(crate) size: usize,
    /// The component's export names, for `drover driver inspect`.
    pub(crate) exports: Vec<String>,
}

/// The digest that names a component: `sha256:` and the hex of its SHA-256.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl Shared {
    /// Compiles (or loads from the cache) and validates a component. Nothing is registered.
    pub(crate) async fn load(self: &Arc<Self>, bytes: Vec<u8>) -> Result<LoadedDriver, LoadError> {
        let digest = digest_of(&bytes);
        let size = bytes.len();
        let component = self.compile(bytes, &digest).await?;

        let exports: Vec<String> = component
            .component_type()
            .exports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let Some(driver_contract) = contract_of(&exports) else {
            return Err(LoadError::NoContract);
        };
        let host_contract = contract_version();
        if !compatible(&driver_contract, &host_contract) {
            return Err(LoadError::IncompatibleContract {
                driver: driver_contract,
                host: host_contract,
            });
        }
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|error| LoadError::Imports(error_text(&error)))?;
        let pre =
            DatastoreDriverPre::new(pre).map_err(|error| LoadError::Exports(error_text(&error)))?;

        // The manifest call runs under a provisional identity: nothing is known yet but the digest.
        let provisional = Arc::new(DriverIdentity {
            name: "(loading)".into(),
            version: semver::Version::new(0, 0, 0),
            contract: driver_contract.clone(),
            label: format!("driver {}", short(&digest)),
            digest: digest.clone(),
            binaries: Vec::new(),
        });
        let manifest = self
            .call_manifest(&pre, provisional)
            .await
            .map_err(|error| LoadError::ManifestCall(error.to_string()))?;
        let identity = check_manifest(&manifest, &driver_contract, &digest)?;
        Ok(LoadedDriver {
            identity: Arc::new(identity),
            manifest,
            pre,
            size,
            exports,
        })
    }

    /// Compiles a component, or deserializes the artifact an earlier compile left in the cache.
    async fn compile(
        self: &Arc<Self>,
        bytes: Vec<u8>,
        digest: &str,
    ) -> Result<Component, LoadError> {
        let cached = self.cache_path(digest);
        if let Some(path) = &cached
            && path.exists()
        {
            // SAFETY: the cache directory belongs to this service and holds only artifacts this
            // engine serialized; wasmtime also rejects artifacts of other engine settings.
            match unsafe { Component::deserialize_file(&self.engine, path) } {
                Ok(component) => return Ok(component),
                Err(error) => {
                    tracing::warn!(path = %path.display(), "ignoring unusable cached driver artifact: {error}")
                }
            }
        }
        let engine = self.engine.clone();
        let component =
            tokio::task::spawn_blocking(move || Component::from_binary(&engine, &bytes))
                .await
                .map_err(|error| LoadError::NotAComponent(error.to_string()))?
                .map_err(|error| LoadError::NotAComponent(error_text(&error)))?;
        if let Some(path) = cached
            && let Err(error) = write_artifact(&path, &component)
        {
            tracing::warn!(path = %path.display(), "could not cache the compiled driver: {error}");
        }
        Ok(component)
    }

    fn cache_path(&self, digest: &str) -> Option<PathBuf> {
        let dir = self.config.cache_dir.as_ref()?;
        let hex = digest.trim_start_matches("sha256:");
        Some(dir.join(format!("{hex}-{}.cwasm", self.settings_digest)))
    }
}

fn write_artifact(path: &Path, component: &Component) -> std::io::Result<()> {
    let bytes = component
        .serialize()
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("cwasm.partial");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(temporary, path)
}

/// The contract version a component implements, read from the versions of its
/// `drover:driver/*` exports (the newest, if they differ).
fn contract_of(exports: &[String]) -> Option<semver::Version> {
    let prefix = format!("{CONTRACT_PACKAGE}/");
    exports
        .iter()
        .filter_map(|name| {
            name.strip_prefix(&prefix)
                .and_then(|rest| rest.split_once('@'))
                .map(|(_, v)| v.to_string())
        })
        .filter_map(|version| semver::Version::parse(&version).ok())
        .max()
}

/// Whether a driver built against contract `driver` runs on a host built against `host`:
/// 0.x versions must share the minor version; from 1.0 the major must match and the driver's
/// minor may not be newer than the host's.
pub fn compatible(driver: &semver::Version, host: &semver::Version) -> bool {
    if host.major == 0 {
        driver.major == 0 && driver.minor == host.minor
    } else {
        driver.major == host.major && driver.minor <= host.minor
    }
}

fn check_manifest(
    manifest: &DriverManifest,
    contract: &semver::Version,
    digest: &str,
) -> Result<DriverIdentity, LoadError> {
    let mut problems = Vec::new();
    let name_ok = !manifest.name.is_empty()
        && manifest.name.len() <= 64
        && manifest
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !name_ok {
        problems.push(format!(
            "name {:?} must be 1 to 64 lower-case letters, digits or '-'",
            manifest.name
        ));
    }
    let version = semver::Version::parse(&manifest.version);
    if let Err(error) = &version {
        problems.push(format!(
            "version {:?} is not a semantic version: {error}",
            manifest.version
        ));
    }
    match semver::Version::parse(&manifest.contract_version) {
        Ok(declared) if &declared == contract => {}
        Ok(declared) => problems.push(format!(
            "contract-version {declared} does not match the contract the component exports ({contract})"
        )),
        Err(error) => problems.push(format!("contract-version {:?} is not a semantic version: {error}", manifest.contract_version)),
    }
    if manifest.datastore.trim().is_empty() {
        problems.push("datastore is empty".into());
    }
    if manifest.versions.is_empty() || manifest.versions.iter().any(|v| v.trim().is_empty()) {
        problems.push("versions must list at least one datastore version, none empty".into());
    }
    for binary in &manifest.binaries {
        if binary.name.is_empty()
            || binary.name.contains(['/', '\0'])
            || binary.name.starts_with('.')
        {
            problems.push(format!(
                "binary {:?} must be a plain program name, not a path",
                binary.name
            ));
        }
    }
    if !problems.is_empty() {
        return Err(LoadError::Manifest(problems.join("; ")));
    }
    let version = version.expect("checked above");
    Ok(DriverIdentity {
        label: format!("{}@{} ({})", manifest.name, version, short(digest)),
        name: manifest.name.clone(),
        version,
        contract: contract.clone(),
        digest: digest.to_string(),
        binaries: manifest.binaries.iter().map(|b| b.name.clone()).collect(),
    })
}

/// `sha256:` and the first 12 hex digits, enough to tell builds apart in messages.
pub fn short(digest: &str) -> &str {
    &digest[..digest.len().min("sha256:".len() + 12)]
}

/// An error with its causes, on one line.
pub(crate) fn error_text(error: &wasmtime::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    // Some errors span lines (wasmparser prints byte arrays); messages stay on one line.
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::compatible;
    use semver::Version;

    #[test]
    fn contract_compatibility_follows_semver() {
        let v = |s: &str| Version::parse(s).unwrap();
        // Before 1.0 the minor version is the breaking one.
        assert!(compatible(&v("0.1.0"), &v("0.1.3")));
        assert!(compatible(&v("0.1.4"), &v("0.1.0")));
        assert!(!compatible(&v("0.2.0"), &v("0.1.0")));
        assert!(!compatible(&v("0.1.0"), &v("0.2.0")));
        // From 1.0 a driver may be older in minor, never newer, and never another major.
        assert!(compatible(&v("1.2.0"), &v("1.3.0")));
        assert!(!compatible(&v("1.4.0"), &v("1.3.0")));
        assert!(!compatible(&v("2.0.0"), &v("1.3.0")));
    }
}
