//! The `returns-gateway` binary: parses the command line and calls the library.

use std::future::Future;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use returns_gateway::auth::Scope;
use returns_gateway::config::Settings;
use returns_gateway::App;
use tokio::net::TcpListener;

/// Where a configuration error sends the reader (one line, after the key at fault).
const CONFIG_DOCS: &str = "docs/configuration.md#a-minimal-production-configuration";

#[derive(Parser)]
#[command(
    name = "returns-gateway",
    version,
    about = "One GraphQL API over the five vendor systems a returns team runs on",
    long_about = "One GraphQL API over the five vendor systems a returns team runs on \
                  (V-Track, ProCarrier, RRR, MerchantPro, TrackRU).\n\n\
                  `serve` runs the gateway against the vendors a TOML file configures; `demo` \
                  (in builds with the default `demo` feature; the Docker image has none) runs it \
                  against five simulated vendors on this machine. Every setting is \
                  documented in config/default.toml; environment variables \
                  RETURNS_GATEWAY__<SECTION>__<KEY> override the file.",
    after_help = "Examples:\n  \
                  returns-gateway check-config config.toml\n  \
                  returns-gateway serve --config config.toml\n  \
                  returns-gateway <COMMAND> --help"
)]
struct Cli {
    /// Log lines as `text` (for people) or `json` (one object per line, for log pipelines).
    /// Levels come from RUST_LOG (default `info`). Example: `--log-format json`.
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
    /// Run the gateway against the vendors configured in a TOML file.
    #[command(
        long_about = "Run the gateway against the vendors configured in a TOML file. The \
                      settings are checked before anything listens: a bad or missing one stops \
                      the start with one line naming it. SIGTERM or SIGINT drains and exits.",
        after_help = "Examples:\n  \
                      returns-gateway serve --config /etc/returns-gateway/config.toml\n  \
                      RETURNS_GATEWAY__AUTH__ISSUER=https://id.example.com \\\n    \
                      returns-gateway serve --config config.toml --listen 0.0.0.0:4000"
    )]
    Serve {
        /// The TOML settings file (every key is documented in config/default.toml).
        /// Example: `--config /etc/returns-gateway/config.toml`.
        #[arg(long, env = "RETURNS_GATEWAY_CONFIG", value_name = "FILE")]
        config: PathBuf,
        /// Listen on this `host:port` instead of `server.listen` (a container listens on
        /// 0.0.0.0; port 0 picks a free one). Example: `--listen 0.0.0.0:4000`.
        #[arg(long, env = "RETURNS_GATEWAY_LISTEN", value_name = "HOST:PORT")]
        listen: Option<String>,
    },
    /// Check a settings file and print the effective settings (defaults filled in, secrets
    /// shown as `***`).
    #[command(
        name = "check-config",
        long_about = "Check a settings file as `serve` would (environment overrides included), \
                      without listening or calling a vendor, and print the effective settings \
                      as TOML: defaults filled in, secrets shown as `***` (`\"\"` when unset). \
                      Exits 1 with the key at fault named when a setting is bad or missing.",
        after_help = "Examples:\n  \
                      returns-gateway check-config config.toml\n  \
                      RETURNS_GATEWAY__AUTH__AUDIENCE=returns returns-gateway check-config \
                      config.toml"
    )]
    CheckConfig {
        /// The TOML settings file to check. Example: `config.toml`.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print the JSON Schema of the settings file (for editors; config/schema.json).
    #[command(
        name = "config-schema",
        long_about = "Print the JSON Schema (draft 7) of the settings file: every key, its type, \
                      default and description. config/schema.json in the repository is this \
                      output; a `#:schema` line at the top of a TOML file lets taplo and Even \
                      Better TOML complete and check it.",
        after_help = "Example:\n  returns-gateway config-schema > schema.json"
    )]
    ConfigSchema,
    /// Exit 0 when the gateway at a URL answers its health check (for container
    /// HEALTHCHECKs, where no curl is installed).
    #[command(after_help = "Examples:\n  \
                            returns-gateway healthcheck\n  \
                            returns-gateway healthcheck --url http://gateway:4000/healthz")]
    Healthcheck {
        /// The health check to ask; any 2xx answer within 3 s passes.
        /// Example: `--url http://gateway:4000/healthz`.
        #[arg(
            long,
            default_value = "http://127.0.0.1:4000/healthz",
            value_name = "URL"
        )]
        url: String,
    },
    /// Run the five simulators and the gateway wired to them, and print where to look.
    #[cfg(feature = "demo")]
    #[command(
        long_about = "Run the five simulated vendors and the gateway wired to them on this \
                      machine, and print where to look: GraphiQL, example queries, a token. \
                      Requests without a token are let in.",
        after_help = "Examples:\n  \
                      returns-gateway demo\n  \
                      returns-gateway demo --listen 127.0.0.1:0 --any-port --seed 7"
    )]
    Demo {
        /// TOML settings; the embedded demo configuration (config/demo.toml) when absent.
        /// Example: `--config my-demo.toml`.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Serve the gateway on this `host:port` instead of `server.listen` (port 0 picks a
        /// free one). Example: `--listen 0.0.0.0:4000`.
        #[arg(long, value_name = "HOST:PORT")]
        listen: Option<String>,
        /// Seed of the simulated world (overrides `sim.seed`); the same seed gives the same
        /// data. Example: `--seed 7`.
        #[arg(long)]
        seed: Option<u64>,
        /// Bind every simulator on a free port instead of the configured ones (`sim.ports`),
        /// so the demo starts beside another one. Example: `--any-port`.
        #[arg(long)]
        any_port: bool,
    },
    /// Run the five vendor simulators and print their base URLs.
    #[cfg(feature = "demo")]
    #[command(after_help = "Examples:\n  \
                            returns-gateway sim\n  \
                            returns-gateway sim --any-port --seed 7")]
    Sim {
        /// TOML settings; the embedded demo configuration (config/demo.toml) when absent.
        /// Example: `--config my-demo.toml`.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Seed of the simulated world (overrides `sim.seed`); the same seed gives the same
        /// data. Example: `--seed 7`.
        #[arg(long)]
        seed: Option<u64>,
        /// Bind every simulator on a free port instead of the configured ones (`sim.ports`).
        /// Example: `--any-port`.
        #[arg(long)]
        any_port: bool,
    },
    /// Print the GraphQL schema (SDL); schema.graphql in the repository is this output.
    #[command(
        long_about = "Print the GraphQL schema (SDL) clients see; schema.graphql in the \
                      repository is this output. With --federation, the federation v2 subgraph \
                      SDL that `_service { sdl }` answers when `server.federation` is on \
                      (schema.federation.graphql).",
        after_help = "Examples:\n  \
                      returns-gateway schema > schema.graphql\n  \
                      returns-gateway schema --federation > schema.federation.graphql"
    )]
    Schema {
        /// The federation v2 subgraph SDL (`@key`s, the `@link` to federation) instead.
        /// Example: `--federation`.
        #[arg(long)]
        federation: bool,
    },
    /// Mint a development token signed with the configured HS256 secret.
    #[command(after_help = "Examples:\n  \
                            returns-gateway token\n  \
                            returns-gateway token --config config.toml --tenant acme \
                            --scopes returns:read,orders:read --ttl 600")]
    Token {
        /// TOML settings (`auth.hs256_secret`, `auth.issuer`, `auth.audience`); the embedded
        /// demo configuration when absent. Example: `--config config.toml`.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The tenant the token acts for (its `tenant` claim): `default` or an id under
        /// `[tenants]`. Example: `--tenant acme`.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Scopes to grant, comma-separated; all scopes when absent.
        /// Example: `--scopes returns:read,orders:read`.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Lifetime in seconds. Example: `--ttl 600`.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
}

/// The settings in `config`, else the embedded demo configuration (built with `demo` only).
fn load(config: Option<PathBuf>) -> Result<Settings, Box<dyn std::error::Error>> {
    match config {
        Some(path) => Ok(load_file(&path)?),
        #[cfg(feature = "demo")]
        None => Ok(Settings::demo()),
        #[cfg(not(feature = "demo"))]
        None => {
            Err("--config FILE is needed (this build has no embedded demo configuration)".into())
        }
    }
}

/// The file at `path` with the environment's overrides; an error says which file and where
/// the settings are documented, on one line.
fn load_file(path: &Path) -> Result<Settings, String> {
    Settings::load(path).map_err(|e| config_error(path, &e))
}

/// [`load_file`], then every check `serve` makes before it listens.
fn load_for_serving(path: &Path) -> Result<Settings, String> {
    let settings = load_file(path)?;
    App::check(&settings).map_err(|e| config_error(path, &e))?;
    Ok(settings)
}

fn config_error(path: &Path, error: &dyn std::fmt::Display) -> String {
    // TOML's own messages end in a newline; the pointer stays on the message's last line.
    let error = error.to_string();
    format!(
        "{}: {} (see {CONFIG_DOCS})",
        path.display(),
        error.trim_end()
    )
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
            let mut settings = load_for_serving(&config)?;
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            // Everything that can refuse the settings runs before the port is taken.
            let app = App::new(&settings).await?;
            let listener = TcpListener::bind(&settings.server.listen)
                .await
                .map_err(|e| format!("server.listen {}: {e}", settings.server.listen))?;
            tracing::info!(address = %listener.local_addr()?, "gateway listening");
            app.run(listener, stop).await?;
        }
        Command::CheckConfig { file } => {
            let settings = load_for_serving(&file)?;
            print!("{}", settings.to_redacted_toml());
            eprintln!("{}: valid", file.display());
        }
        Command::ConfigSchema => print!("{}", Settings::json_schema()),
        #[cfg(feature = "demo")]
        Command::Demo {
            config,
            listen,
            seed,
            any_port,
        } => {
            let mut settings = load(config)?;
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            if let Some(seed) = seed {
                settings.sim.seed = seed;
            }
            if any_port {
                // Port 0 is the simulators' own "any free port".
                settings.sim.ports = simulators::settings::SimPorts {
                    vtrack: 0,
                    procarrier: 0,
                    rrr: 0,
                    merchantpro: 0,
                    trackru: 0,
                };
            }
            let listener = TcpListener::bind(&settings.server.listen)
                .await
                .map_err(|e| format!("server.listen {}: {e}", settings.server.listen))?;
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
        Command::Schema { federation } => print!(
            "{}",
            if federation {
                returns_gateway::schema::federation_sdl()
            } else {
                returns_gateway::schema::sdl()
            }
        ),
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
