//! Drover's host: the service behind `drover serve`.
//!
//! Modules, and the direction of their dependencies (arrows point down only):
//!
//! ```text
//! http ──▶ service ──▶ orchestrator ──▶ runtime, backend
//!   │         └──────▶ policy, quota, store
//!   └──▶ auth
//! ```
//!
//! `config` is read by `launch` and handed down as plain values.

pub mod auth;
pub mod backend;
pub mod config;
pub mod http;
pub mod orchestrator;
pub mod policy;
pub mod quota;
pub mod runtime;
pub mod secrets;
pub mod service;
pub mod store;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use backend::ProcessBackend;
use config::Config;
use orchestrator::Orchestrator;
use runtime::Runtime;
use store::{NewDatastoreVersion, Store, Visibility};

/// How often a host brings its loaded drivers in line with the store (activations made through
/// another host sharing the database).
const DRIVER_SYNC_INTERVAL: Duration = Duration::from_secs(5);

/// Starts the service on `listener` and serves until `shutdown` resolves.
pub async fn launch(
    mut config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    config.check()?;
    // Everything the service creates is its own alone: the store and its journal, tokens, keys,
    // logs. Node files get their modes explicitly.
    // SAFETY: umask only sets the process's file creation mask.
    unsafe { libc::umask(0o077) };
    let state_dir = private_state_dir(&config.state_dir)?;
    // Absolute from here on: node directories are named in node processes' command lines and
    // configuration files, which run in the node directory, not in ours.
    config.state_dir = state_dir.clone();
    // Before anything is sealed or opened.
    secrets::install(secrets::Keyring::load_or_create(&config.secret_key_file())?)?;
    let store = Store::connect(&config.database_url())
        .await
        .context("opening the database")?;
    tracing::info!(database = store.kind(), "store ready");
    seed(&store, &config).await?;

    let runtime = Runtime::new(config.runtime())?;
    load_drivers(&store, &runtime, &config.drivers_dir()).await?;
    service::drivers::sync(&store, &runtime).await?;

    let backend = ProcessBackend::new(config.backend_config(&state_dir))?;
    let host_id = host_id(&state_dir)?;
    let mut settings = config.orchestrator_settings(&host_id);
    if settings.link_url.is_empty() {
        // The other hosts reach this one where it listens (on loopback when it listens on
        // every address, as hosts on one machine do).
        let mut address = listener.local_addr()?;
        if address.ip().is_unspecified() {
            address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        settings.link_url = format!("http://{address}");
    }
    let orchestrator = Orchestrator::new(
        store.clone(),
        runtime.clone(),
        backend,
        host_id.clone(),
        settings,
    );
    orchestrator
        .register_host()
        .await
        .context("recording this host in the store")?;

    let policy = match &config.policy_file {
        Some(path) => policy::Policy::from_file(path)?,
        None => policy::Policy::trove_defaults(),
    };
    let auth = Arc::new(match (config.auth, &config.keystone) {
        (config::AuthMode::Keystone, Some(keystone)) => {
            auth::Authenticator::keystone(keystone, config.tokens_file())?
        }
        (config::AuthMode::Keystone, None) => {
            anyhow::bail!(
                "auth = \"keystone\" needs a [keystone] section (auth_url, username, password_file)"
            )
        }
        (mode, _) => auth::Authenticator::new(mode, config.tokens_file()),
    });
    if config.auth == config::AuthMode::Noauth {
        let warning = "noauth mode is for development: every caller may act on the project in its request's path with the roles it names in X-Roles";
        tracing::warn!("{warning}");
        eprintln!("drover: {warning}");
    }
    if let Some(path) = auth.ensure_admin_token()? {
        tracing::warn!(path = %path.display(), "created an admin token (project \"admin\"); it is in this file");
        eprintln!(
            "drover: an admin token was created; it is in {}",
            path.display()
        );
    }
    let services = Arc::new(service::Services {
        store: store.clone(),
        runtime: runtime.clone(),
        orchestrator: orchestrator.clone(),
        policy,
        quotas: quota::Quotas::new(config.quotas.clone()),
        rate: quota::RateLimiter::new(
            config
                .rate_limits
                .iter()
                .map(|l| quota::RateLimit {
                    verb: l.verb.clone(),
                    uri: l.uri.clone(),
                    regex: l.regex.clone(),
                    value: l.value,
                    unit: l.unit.clone(),
                })
                .collect(),
        ),
        max_volume_gb: config.backend.max_volume_gb,
        region: config.region.clone(),
        default_datastore: config.default_datastore.clone(),
    });

    let stop = Arc::new(Notify::new());
    orchestrator.start(stop.clone());
    let sync_stop = stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(DRIVER_SYNC_INTERVAL) => {
                    if let Err(error) = service::drivers::sync(&store, &runtime).await {
                        tracing::warn!("driver sync failed: {error:#}");
                    }
                }
                _ = sync_stop.notified() => break,
            }
        }
    });

    let public_url: Arc<str> = match &config.public_url {
        Some(url) => url.trim_end_matches('/').into(),
        None => format!("http://{}", listener.local_addr()?).into(),
    };
    let app = http::router(http::AppState {
        services,
        auth,
        public_url,
        pages: Default::default(),
    });
    tracing::info!(address = %listener.local_addr()?, "serving the Trove v1.0 API");
    let limits = http::serve::Limits {
        header_timeout: Duration::from_secs(config.http.header_timeout_s),
        max_connections: config.http.max_connections,
    };
    http::serve::serve(
        listener,
        app,
        limits,
        async move {
            shutdown.await;
            stop.notify_waiters();
        },
        Duration::from_secs(30),
    )
    .await?;
    Ok(())
}

/// Flavors and datastore versions from the configuration, where the store lacks them.
async fn seed(store: &Store, config: &Config) -> anyhow::Result<()> {
    for flavor in &config.flavors {
        store
            .ensure_flavor(
                &flavor.id,
                &flavor.name,
                i64::from(flavor.ram_mb),
                i64::from(flavor.vcpus),
            )
            .await?;
    }
    for datastore in &config.datastores {
        for version in &datastore.versions {
            let created = store
                .ensure_datastore_version(&NewDatastoreVersion {
                    datastore_name: datastore.name.clone(),
                    name: version.name.clone(),
                    driver_name: version.driver.clone(),
                    driver_requirement: version.driver_version.clone(),
                    image: String::new(),
                    packages: String::new(),
                    active: version.active,
                    default: (datastore.default_version.as_deref() == Some(version.name.as_str()))
                        .then_some(true),
                    visibility: Visibility::Public,
                })
                .await?;
            if created {
                tracing::info!(datastore = %datastore.name, version = %version.name, "registered from configuration");
            }
        }
    }
    Ok(())
}

/// Records and activates every driver component (`*.wasm`) in `dir`.
async fn load_drivers(store: &Store, runtime: &Runtime, dir: &Path) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "no drivers directory: no datastore can be used until drivers are uploaded");
        return Ok(());
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    paths.sort();
    for path in paths {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        match runtime.load(bytes.clone()).await {
            Ok(driver) => {
                service::drivers::record(store, runtime, &driver, &bytes).await?;
                store
                    .activate_driver(driver.name(), driver.digest())
                    .await?;
                tracing::info!(driver = %driver.identity().label, path = %path.display(), "driver loaded and activated");
            }
            Err(error) => tracing::error!(path = %path.display(), "driver refused: {error}"),
        }
    }
    Ok(())
}

/// Creates the state directory, or tightens an existing one, to the service's user alone
/// (mode 0700, and 0600 for the files it already holds), and returns its absolute path.
fn private_state_dir(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating state directory {}", dir.display()))?;
    let dir = std::fs::canonicalize(dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    for entry in std::fs::read_dir(&dir)?.flatten() {
        let path = entry.path();
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if metadata.is_file() && metadata.permissions().mode() & 0o077 != 0 {
            tracing::warn!(file = %path.display(), "the file was readable by others; it is now the service's alone");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(dir)
}

/// This host's stable identity in task leases, kept in the state directory.
fn host_id(state_dir: &Path) -> anyhow::Result<String> {
    let path = state_dir.join("host-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        return Ok(id.trim().to_string());
    }
    let id = format!("host-{}", uuid::Uuid::new_v4());
    std::fs::write(&path, &id)?;
    Ok(id)
}
