//! The `drover` command: `serve` runs the service; `driver inspect|check` look at a component.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use drover_host::config::{AuthMode, Config};
use drover_host::runtime::types::Maturity;
use drover_host::runtime::{Runtime, RuntimeConfig, contract_version};

#[derive(Parser)]
#[command(
    name = "drover",
    version,
    about = "A Database-as-a-Service control plane with WebAssembly datastore drivers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Trove v1.0 API.
    Serve(ServeArgs),
    /// Look at a driver component.
    #[command(subcommand)]
    Driver(DriverCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token for a project and print it (only its hash is stored).
    Create {
        /// The project the token belongs to.
        #[arg(long)]
        project: String,
        /// Its roles, comma-separated (`admin` makes it an administrator).
        #[arg(long, value_delimiter = ',', default_value = "member")]
        roles: Vec<String>,
        /// What the token is for.
        #[arg(long, default_value = "")]
        description: String,
        /// The state directory whose tokens file to use [default: ./var].
        #[arg(long, env = "DROVER_STATE_DIR", default_value = "var")]
        state_dir: PathBuf,
        /// The tokens file [default: <state-dir>/tokens.json].
        #[arg(long)]
        tokens_file: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:8779].
    #[arg(long, env = "DROVER_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory for the embedded database, nodes and caches [default: ./var].
    #[arg(long, env = "DROVER_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… [default: SQLite in the state directory].
    #[arg(long, env = "DROVER_DATABASE_URL")]
    database_url: Option<String>,
    /// How callers authenticate [default: token].
    #[arg(long, env = "DROVER_AUTH", value_enum)]
    auth: Option<AuthMode>,
    /// A configuration file layered over the embedded defaults.
    #[arg(long, env = "DROVER_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of driver components to load at start [default: <state-dir>/drivers].
    #[arg(long, env = "DROVER_DRIVERS_DIR")]
    drivers_dir: Option<PathBuf>,
    /// A policy file (oslo.policy YAML or JSON) overriding the default rules.
    #[arg(long, env = "DROVER_POLICY_FILE")]
    policy_file: Option<PathBuf>,
    /// The key secrets in the store are sealed with; hosts sharing a store share it
    /// [default: <state-dir>/secret.key, made on first start].
    #[arg(long, env = "DROVER_SECRET_KEY_FILE")]
    secret_key_file: Option<PathBuf>,
    /// This host's name among the hosts sharing the store (faults and views name it).
    #[arg(long)]
    host_name: Option<String>,
}

#[derive(Subcommand)]
enum DriverCommand {
    /// Print a driver's manifest, contract version, digest and exports.
    Inspect {
        /// The component (.wasm).
        file: PathBuf,
    },
    /// Check a component against the contract and say what is wrong.
    Check {
        /// The component (.wasm).
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start tokio");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Driver(DriverCommand::Inspect { file }) => inspect(file).await,
            Command::Driver(DriverCommand::Check { file }) => check(file).await,
            Command::Token(TokenCommand::Create {
                project,
                roles,
                description,
                state_dir,
                tokens_file,
            }) => {
                let path = tokens_file.unwrap_or_else(|| state_dir.join("tokens.json"));
                let mut file = drover_host::auth::TokensFile::read(&path)?;
                let token = file.add(&project, &roles, &description);
                file.write(&path)?;
                println!("{token}");
                Ok(ExitCode::SUCCESS)
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("drover: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(state_dir) = args.state_dir {
        config.state_dir = state_dir;
    }
    if let Some(url) = args.database_url {
        config.database_url = Some(url);
    }
    if let Some(auth) = args.auth {
        config.auth = auth;
    }
    if let Some(dir) = args.drivers_dir {
        config.drivers_dir = Some(dir);
    }
    if let Some(file) = args.policy_file {
        config.policy_file = Some(file);
    }
    if let Some(name) = args.host_name {
        config.orchestrator.host_name = Some(name);
    }
    if let Some(file) = args.secret_key_file {
        config.secret_key_file = Some(file);
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    drover_host::launch(config, listener, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install SIGTERM handler");
    tokio::select! {
        _ = interrupt => {},
        _ = terminate.recv() => {},
    }
    tracing::info!("shutting down");
}

async fn inspect(file: PathBuf) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&file)?;
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let driver = runtime
        .load(bytes)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let manifest = driver.manifest();
    let identity = driver.identity();
    println!("file:              {}", file.display());
    println!("digest:            {}", identity.digest);
    println!("size:              {} bytes", driver.size());
    println!("driver:            {} {}", manifest.name, manifest.version);
    println!(
        "contract:          drover:driver@{} (host: {})",
        identity.contract,
        contract_version()
    );
    println!(
        "datastore:         {} {}",
        manifest.datastore,
        manifest.versions.join(", ")
    );
    println!("description:       {}", manifest.description);
    let maturity = match manifest.maturity {
        Maturity::Experimental => "experimental",
        Maturity::Preview => "preview",
        Maturity::Stable => "stable",
    };
    println!("maturity:          {maturity}");
    println!(
        "features:          {}",
        if manifest.features.is_empty() {
            "(none)".into()
        } else {
            manifest.features.join(", ")
        }
    );
    println!("binaries:");
    for binary in &manifest.binaries {
        println!(
            "  {:<16} from package {} ({})",
            binary.name, binary.package, binary.purpose
        );
    }
    println!("exports:");
    for export in driver.exports() {
        println!("  {export}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn check(file: PathBuf) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&file)?;
    let runtime = Runtime::new(RuntimeConfig::default())?;
    match runtime.load(bytes).await {
        Ok(driver) => {
            println!(
                "ok: {} implements drover:driver@{}",
                driver.identity().label,
                driver.identity().contract
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            println!("refused: {}: {error}", file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}
