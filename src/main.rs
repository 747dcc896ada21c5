//! The `returns-gateway` binary: parses the command line and calls the library.

use std::future::Future;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use returns_gateway::auth::Scope;
use returns_gateway::config::Settings;
use returns_gateway::App;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(name = "returns-gateway", version, about)]
struct Cli {
    /// Log lines as `text` (for people) or `json` (one object per line, for log pipelines).
    /// Levels come from RUST_LOG (default `info`).
    #[arg(
        long,
        global = true,
        env = "RETURNS_GATEWAY_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway against the vendors configured in FILE.
    Serve {
        #[arg(long, env = "RETURNS_GATEWAY_CONFIG")]
        config: PathBuf,
        /// Overrides `server.listen` (a container listens on 0.0.0.0).
        #[arg(long, env = "RETURNS_GATEWAY_LISTEN")]
        listen: Option<String>,
    },
    /// Exit 0 when the gateway at URL answers its health check (for container HEALTHCHECKs,
    /// where no curl is installed).
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:4000/healthz")]
        url: String,
    },
    /// Run the five simulators and the gateway wired to them, and print where to look.
    #[cfg(feature = "demo")]
    Demo {
        /// TOML settings; the embedded demo configuration when absent.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run the five vendor simulators and print their base URLs.
    #[cfg(feature = "demo")]
    Sim {
        /// TOML settings; the embedded demo configuration when absent.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Seed of the simulated world (overrides `sim.seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Bind every simulator on a free port instead of the configured ones.
        #[arg(long)]
        any_port: bool,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Mint a development token signed with the configured HS256 secret.
    Token {
        /// TOML settings; the embedded demo configuration when absent.
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Comma-separated, e.g. `returns:read,orders:read`; all scopes when absent.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
}

/// The settings in `config`, else the embedded demo configuration (built with `demo` only).
fn load(config: Option<PathBuf>) -> Result<Settings, Box<dyn std::error::Error>> {
    match config {
        Some(path) => Ok(Settings::load(&path)?),
        #[cfg(feature = "demo")]
        None => Ok(Settings::demo()),
        #[cfg(not(feature = "demo"))]
        None => {
            Err("--config FILE is needed (this build has no embedded demo configuration)".into())
        }
    }
}

/// Resolves when the process is asked to stop: SIGTERM (`docker stop`, Kubernetes) or SIGINT
/// (Ctrl-C); both drain alike. Listens from the moment it is called, so a signal that arrives
/// before the server first polls the future still drains instead of killing the process.
fn stop_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            let (Ok(mut terminate), Ok(mut interrupt)) = (terminate, interrupt) else {
                // If the signals cannot be listened for, run until killed.
                return std::future::pending().await;
            };
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        // The error and its causes, one per line; never a Debug dump.
        let mut message = format!("returns-gateway: {error}");
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(&format!("\n  caused by: {cause}"));
            source = cause.source();
        }
        eprintln!("{message}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    returns_gateway::memory::tune_allocator();
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        // Logs go to stderr; stdout carries what a command prints (URLs, tokens, the SDL).
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    match cli.command {
        Command::Serve { config, listen } => {
            let stop = stop_signal();
            let mut settings = Settings::load(&config)?;
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            let listener = TcpListener::bind(&settings.server.listen).await?;
            tracing::info!(address = %listener.local_addr()?, "gateway listening");
            App::new(&settings).await?.run(listener, stop).await?;
        }
        #[cfg(feature = "demo")]
        Command::Demo { config } => {
            let settings = load(config)?;
            let listener = TcpListener::bind(&settings.server.listen).await?;
            returns_gateway::demo::run(settings, listener, stop_signal).await?;
        }
        #[cfg(feature = "demo")]
        Command::Sim {
            config,
            seed,
            any_port,
        } => {
            let mut settings = load(config)?;
            if let Some(seed) = seed {
                settings.sim.seed = seed;
            }
            returns_gateway::demo::run_simulators(&settings.sim, any_port, stop_signal).await?;
        }
        Command::Schema => print!("{}", returns_gateway::schema::sdl()),
        Command::Token {
            config,
            tenant,
            scopes,
            ttl,
        } => {
            let settings = load(config)?;
            let scopes = if scopes.is_empty() {
                Scope::ALL.to_vec()
            } else {
                scopes
                    .iter()
                    .map(|s| Scope::parse(s.trim()).ok_or_else(|| format!("unknown scope {s:?}")))
                    .collect::<Result<Vec<_>, _>>()?
            };
            println!(
                "{}",
                returns_gateway::auth::mint(&settings.auth, &tenant, &scopes, ttl)?
            );
        }
        Command::Healthcheck { url } => {
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(3))
                .build()?;
            let status = client.get(&url).send().await?.status();
            if !status.is_success() {
                return Err(format!("{url}: HTTP {status}").into());
            }
        }
    }
    Ok(())
}
