//! The configuration tree: embedded defaults (`config/default.toml`), then an operator's file,
//! then `DROVER_*` environment variables and command-line flags (applied by the binary).
//! Unknown keys are errors, so a typo never silently falls back to a default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::backend::BackendConfig;
use crate::runtime::RuntimeConfig;

/// The defaults shipped with Drover.
pub const EMBEDDED_DEFAULTS: &str = include_str!("../../config/default.toml");

/// How callers authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// `X-Auth-Token` checked against the tokens file.
    Token,
    /// Development only: the project in the path is trusted, roles come from `X-Roles`.
    Noauth,
    /// `X-Auth-Token` validated by Keystone (`[keystone]`), as in an OpenStack cloud.
    Keystone,
}

/// Everything `drover serve` is configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the API listens on.
    pub listen: SocketAddr,
    /// The URL clients reach the API at, for the links in responses (behind a proxy or a
    /// load balancer, its address); default `http://<the address listened on>`. Never taken
    /// from a request's `Host` header.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Directory for the embedded database, nodes, driver cache and tokens.
    pub state_dir: PathBuf,
    /// The region the service runs in: instances show it, and a create naming another is
    /// refused.
    pub region: String,
    /// The datastore (name or id) a create that names none gets, at its default version;
    /// without one such a create is refused.
    #[serde(default)]
    pub default_datastore: Option<String>,
    /// `sqlite://…` or `postgres://…`; default: SQLite in the state directory.
    #[serde(default)]
    pub database_url: Option<String>,
    /// Authentication mode.
    pub auth: AuthMode,
    /// Drivers found here at start are registered and activated; default `<state>/drivers`.
    #[serde(default)]
    pub drivers_dir: Option<PathBuf>,
    /// A policy file (oslo.policy YAML or JSON) overriding Trove's default rules.
    #[serde(default)]
    pub policy_file: Option<PathBuf>,
    /// The tokens file; default `<state>/tokens.json`.
    #[serde(default)]
    pub tokens_file: Option<PathBuf>,
    /// The key secrets in the store are sealed with (32 bytes, mode 0600, made on first start);
    /// default `<state>/secret.key`. Hosts sharing a store must share it.
    #[serde(default)]
    pub secret_key_file: Option<PathBuf>,
    /// Driver runtime limits.
    pub runtime: RuntimeSection,
    /// Default per-project quotas.
    pub quotas: QuotaDefaults,
    /// Per-project rate limits.
    #[serde(default)]
    pub rate_limits: Vec<RateLimitConfig>,
    /// Flavors present at first start.
    #[serde(default)]
    pub flavors: Vec<FlavorConfig>,
    /// Datastores and versions present at first start, and the drivers that serve them.
    #[serde(default)]
    pub datastores: Vec<DatastoreConfig>,
    /// Where and how nodes run.
    pub backend: BackendSection,
    /// How the API's HTTP connections are bounded.
    pub http: HttpSection,
    /// How the orchestrator paces itself, and this host's name among the hosts sharing the
    /// store.
    pub orchestrator: OrchestratorSection,
    /// Where and as whom tokens are validated in `keystone` mode.
    #[serde(default)]
    pub keystone: Option<KeystoneSection>,
}

/// The Keystone that validates tokens (`auth = "keystone"`), and the service's own account
/// there, as `keystonemiddleware`'s `[keystone_authtoken]` names them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeystoneSection {
    /// Keystone's URL (`http://keystone:5000` or `…/v3`).
    pub auth_url: String,
    /// The service's user.
    pub username: String,
    /// A file holding the service user's password (never in the configuration itself).
    pub password_file: PathBuf,
    /// The project the service's token is scoped to.
    #[serde(default = "service_project")]
    pub project_name: String,
    /// The service user's domain.
    #[serde(default = "default_domain")]
    pub user_domain_name: String,
    /// The service project's domain.
    #[serde(default = "default_domain")]
    pub project_domain_name: String,
    /// Seconds a validated token is trusted without asking again (never past its expiry).
    #[serde(default = "token_cache_s")]
    pub cache_s: u64,
    /// Seconds a request to Keystone may take.
    #[serde(default = "keystone_timeout_s")]
    pub timeout_s: u64,
}

fn service_project() -> String {
    "service".into()
}

fn default_domain() -> String {
    "Default".into()
}

fn token_cache_s() -> u64 {
    300
}

fn keystone_timeout_s() -> u64 {
    10
}

/// How the API's HTTP connections are bounded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    /// Seconds a request's head may take to arrive; a kept-alive connection that sends no
    /// request for that long is closed too.
    pub header_timeout_s: u64,
    /// Connections served at once; one more is answered 503 and closed.
    pub max_connections: usize,
}

/// The orchestrator's pace; see [`OrchestratorSettings`](crate::orchestrator::OrchestratorSettings).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrchestratorSection {
    /// This host's name in faults and views; default: the machine's name and the start of
    /// the host id.
    #[serde(default)]
    pub host_name: Option<String>,
    /// Where the other hosts sharing the store reach this one (its API's address; a task on
    /// another host acts on this host's nodes through it); default: `http://` and the listen
    /// address, with loopback for an unspecified one.
    #[serde(default)]
    pub link_url: Option<String>,
    /// Seconds a claimed task stays with its worker without a renewal.
    pub lease_s: u64,
    /// Milliseconds between looks for tasks added elsewhere.
    pub poll_ms: u64,
    /// Seconds between health passes.
    pub health_interval_s: u64,
    /// Seconds between this host's heartbeats.
    pub heartbeat_s: u64,
    /// Seconds of silence after which a host's nodes show as unknown on the others.
    pub host_down_after_s: u64,
    /// Seconds a step is retried while it fails with something transient.
    pub not_ready_patience_s: u64,
    /// Tasks run at once.
    pub workers: usize,
}

/// Driver runtime limits; see [`RuntimeConfig`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSection {
    /// Linear memory per driver instance, MiB.
    pub memory_mib: usize,
    /// Deadline of pure calls, ms.
    pub pure_deadline_ms: u64,
    /// Deadline of calls that act on nodes, ms.
    pub node_deadline_ms: u64,
    /// Fuel per call; absent disables fuel.
    #[serde(default)]
    pub fuel: Option<u64>,
    /// Concurrent driver instances.
    pub instance_slots: u32,
}

/// Default quotas of a project.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaDefaults {
    /// Instances.
    pub instances: i64,
    /// Volume gigabytes.
    pub volumes: i64,
    /// Backups.
    pub backups: i64,
    /// Clusters.
    pub clusters: i64,
}

/// A rate limit, in Trove's terms.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// HTTP verb.
    pub verb: String,
    /// URI pattern shown in `GET /limits`.
    pub uri: String,
    /// Regex shown in `GET /limits`.
    pub regex: String,
    /// Requests allowed per unit.
    pub value: u32,
    /// SECOND, MINUTE, HOUR or DAY.
    pub unit: String,
}

/// A flavor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlavorConfig {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Memory, MiB.
    pub ram_mb: u32,
    /// Virtual CPUs.
    pub vcpus: u32,
}

/// A datastore and its versions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatastoreConfig {
    /// The datastore's name (its type in the API).
    pub name: String,
    /// The version used when a request names none.
    #[serde(default)]
    pub default_version: Option<String>,
    /// Its versions.
    pub versions: Vec<DatastoreVersionConfig>,
}

/// A datastore version and the driver that serves it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatastoreVersionConfig {
    /// The version's name (for example `7.0`).
    pub name: String,
    /// The driver's name.
    pub driver: String,
    /// A semver requirement on the driver's version.
    pub driver_version: String,
    /// Whether users may create instances of it.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Where and how nodes run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSection {
    /// Inclusive range node ports come from; must stay below 32768.
    pub port_range: [u16; 2],
    /// Inclusive range of uids (and gids) nodes run as when Drover runs as root: one each.
    pub uid_range: [u32; 2],
    /// Where the Drover services of this machine record which node holds which uid.
    pub identities_dir: PathBuf,
    /// System paths every node sees, read-only (drivers add their datastore's own).
    pub system_paths: Vec<PathBuf>,
    /// Processes (threads included) one node may have.
    pub max_processes: u32,
    /// Default timeout of a command on a node, ms.
    pub exec_timeout_ms: u64,
    /// Output kept per stream of a command, KiB.
    pub output_cap_kib: usize,
    /// The largest volume a request may ask for, GiB.
    pub max_volume_gb: i64,
    /// Program name → path; "" forbids the program; unlisted names are looked up on PATH.
    #[serde(default)]
    pub binaries: BTreeMap<String, String>,
}

impl Config {
    /// The embedded defaults with an optional file layered on top.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut merged: toml::Table = EMBEDDED_DEFAULTS
            .parse()
            .expect("config/default.toml parses");
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            let layer: toml::Table = text
                .parse()
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            merge(&mut merged, layer);
        }
        toml::Value::Table(merged).try_into().map_err(|e| {
            anyhow::anyhow!(
                "configuration{}: {e}",
                file.map(|p| format!(" ({})", p.display()))
                    .unwrap_or_default()
            )
        })
    }

    /// The orchestrator's settings, with this host's name (`host_id` names it by default).
    pub fn orchestrator_settings(
        &self,
        host_id: &str,
    ) -> crate::orchestrator::OrchestratorSettings {
        let o = &self.orchestrator;
        let host_name = o.host_name.clone().unwrap_or_else(|| {
            let machine = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|n| n.trim().to_string())
                .unwrap_or_else(|_| "host".into());
            format!("{machine}-{}", &host_id[..host_id.len().min(8)])
        });
        crate::orchestrator::OrchestratorSettings {
            lease: Duration::from_secs(o.lease_s.max(1)),
            poll: Duration::from_millis(o.poll_ms.max(10)),
            health_interval: Duration::from_secs(o.health_interval_s.max(1)),
            not_ready_patience: Duration::from_secs(o.not_ready_patience_s),
            workers: o.workers.max(1),
            heartbeat: Duration::from_secs(o.heartbeat_s.max(1)),
            host_down_after: Duration::from_secs(o.host_down_after_s.max(1)),
            host_name,
            link_url: o
                .link_url
                .as_deref()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string(),
        }
    }

    /// Checks what the types cannot.
    pub fn check(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.orchestrator.link_url {
            anyhow::ensure!(
                (url.starts_with("http://") || url.starts_with("https://"))
                    && !url.contains(char::is_whitespace),
                "orchestrator.link_url {url:?} must be an http:// or https:// URL"
            );
        }
        if let Some(url) = &self.public_url {
            anyhow::ensure!(
                (url.starts_with("http://") || url.starts_with("https://"))
                    && !url.contains(char::is_whitespace),
                "public_url {url:?} must be an http:// or https:// URL"
            );
        }
        let [low, high] = self.backend.port_range;
        anyhow::ensure!(
            low > 0 && low <= high,
            "backend.port_range [{low}, {high}] is empty"
        );
        anyhow::ensure!(
            high < 32768,
            "backend.port_range ends at {high}: node ports must stay below 32768, outside the kernel's ephemeral range"
        );
        let [first, last] = self.backend.uid_range;
        anyhow::ensure!(
            first >= 1000 && first <= last,
            "backend.uid_range [{first}, {last}] must be a non-empty range of uids from 1000"
        );
        for path in &self.backend.system_paths {
            anyhow::ensure!(
                path.is_absolute(),
                "backend.system_paths: {} is not an absolute path",
                path.display()
            );
        }
        for datastore in &self.datastores {
            for version in &datastore.versions {
                semver::VersionReq::parse(&version.driver_version).map_err(|e| {
                    anyhow::anyhow!(
                        "datastore {} version {}: driver_version {:?}: {e}",
                        datastore.name,
                        version.name,
                        version.driver_version
                    )
                })?;
            }
        }
        Ok(())
    }

    /// Where the drivers to load at start are.
    pub fn drivers_dir(&self) -> PathBuf {
        self.drivers_dir
            .clone()
            .unwrap_or_else(|| self.state_dir.join("drivers"))
    }

    /// The key secrets in the store are sealed with (created on first start).
    pub fn secret_key_file(&self) -> PathBuf {
        self.secret_key_file
            .clone()
            .unwrap_or_else(|| self.state_dir.join("secret.key"))
    }

    /// Where the tokens file is.
    pub fn tokens_file(&self) -> PathBuf {
        self.tokens_file
            .clone()
            .unwrap_or_else(|| self.state_dir.join("tokens.json"))
    }

    /// The database URL, defaulting to SQLite in the state directory.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.state_dir.join("drover.sqlite3").display()
            )
        })
    }

    /// The process backend's settings, with its directories in `state_dir`.
    pub fn backend_config(&self, state_dir: &Path) -> BackendConfig {
        let backend = &self.backend;
        BackendConfig {
            nodes_dir: state_dir.join("nodes"),
            supervision_dir: state_dir.join("supervision"),
            port_range: (backend.port_range[0], backend.port_range[1]),
            uid_range: (backend.uid_range[0], backend.uid_range[1]),
            identities_dir: backend.identities_dir.clone(),
            system_paths: backend.system_paths.clone(),
            max_processes: backend.max_processes,
            binaries: backend.binaries.clone(),
            exec_timeout: Duration::from_millis(backend.exec_timeout_ms),
            output_cap: backend.output_cap_kib << 10,
        }
    }

    /// The runtime's settings.
    pub fn runtime(&self) -> RuntimeConfig {
        RuntimeConfig {
            cache_dir: Some(self.state_dir.join("cache").join("drivers")),
            memory_cap: self.runtime.memory_mib << 20,
            pure_deadline: Duration::from_millis(self.runtime.pure_deadline_ms),
            node_deadline: Duration::from_millis(self.runtime.node_deadline_ms),
            fuel: self.runtime.fuel,
            instance_slots: self.runtime.instance_slots,
            ..RuntimeConfig::default()
        }
    }
}

/// Layers `top` over `base`: tables merge key by key, anything else is replaced.
fn merge(base: &mut toml::Table, top: toml::Table) {
    for (key, value) in top {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(top_table)) => {
                merge(base_table, top_table)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_load_and_pass_their_checks() {
        let config = Config::load(None).unwrap();
        config.check().unwrap();
        // The default listen address is Trove's port on loopback.
        assert_eq!(config.listen.to_string(), "127.0.0.1:8779");
        assert_eq!(config.auth, AuthMode::Token);
    }

    #[test]
    fn a_file_layers_over_the_defaults_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("drover.toml");
        std::fs::write(&file, "auth = \"noauth\"\n[quotas]\ninstances = 3\n").unwrap();
        let config = Config::load(Some(&file)).unwrap();
        // Keys the file sets win; keys it does not set keep their defaults.
        assert_eq!(config.auth, AuthMode::Noauth);
        assert_eq!(config.quotas.instances, 3);
        assert_eq!(config.quotas.volumes, 100);
        std::fs::write(&file, "[quotas]\ninstancez = 3\n").unwrap();
        let error = Config::load(Some(&file)).unwrap_err().to_string();
        assert!(error.contains("instancez"), "{error}");
    }

    #[test]
    fn node_ports_must_stay_below_the_ephemeral_range() {
        let mut config = Config::load(None).unwrap();
        config.backend.port_range = [30000, 40000];
        assert!(
            config
                .check()
                .unwrap_err()
                .to_string()
                .contains("below 32768")
        );
    }
}
