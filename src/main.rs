//! The `returns-gateway` binary: parses the command line and calls the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use returns_gateway::auth::Scope;
use returns_gateway::config::Settings;
use returns_gateway::model::Vendor;
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
    Demo {
        /// TOML settings; the embedded demo configuration when absent.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run the five vendor simulators and print their base URLs.
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

fn load(config: Option<PathBuf>) -> Result<Settings, Box<dyn std::error::Error>> {
    Ok(match config {
        Some(path) => Settings::load(&path)?,
        None => Settings::demo(),
    })
}

async fn ctrl_c() {
    // If the signal cannot be listened for, run until killed.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

const EXAMPLE_DASHBOARD: &str = r#"{
  returns(first: 5) {
    totalCount
    edges { node { vendor vendorId status createdAt reasons
      customer { name email phone }
      order { reference total { amount currency } }
      tracking { status events { at status description } } } }
  }
}"#;

/// The summary of the last 30 days before `now` (the demo's world lies in the 120 days before
/// it).
fn example_summary(now: chrono::DateTime<chrono::Utc>) -> String {
    let from = (now - chrono::Duration::days(30)).format("%Y-%m-%dT00:00:00Z");
    let to = (now + chrono::Duration::days(1)).format("%Y-%m-%dT00:00:00Z");
    format!(
        r#"{{
  returnsSummary(from: "{from}", to: "{to}") {{
    total byVendor {{ vendor count }} refusalRate refundedTotals {{ amount currency }}
  }}
  vendors {{ vendor healthy dataAgeSeconds }}
}}"#
    )
}

const EXAMPLE_SUBSCRIPTION: &str = r#"subscription {
  returnUpdated { receivedAt return { vendorId status trackingStatus order { reference } } }
}"#;

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
            let mut settings = Settings::load(&config)?;
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            let listener = TcpListener::bind(&settings.server.listen).await?;
            tracing::info!(address = %listener.local_addr()?, "gateway listening");
            App::new(&settings)?.run(listener, ctrl_c()).await?;
        }
        Command::Demo { config } => {
            let mut settings = load(config)?;
            let listener = TcpListener::bind(&settings.server.listen).await?;
            let address = listener.local_addr()?;
            // The moving world reports to this gateway, as the default tenant's ProCarrier.
            if settings.sim.webhooks.url.is_empty() {
                settings.sim.webhooks.url = format!("http://{address}/webhooks/procarrier/default");
            }
            let sims = returns_gateway::sim::start_all(&settings, false, ctrl_c()).await?;
            sims.wire_into(&mut settings);
            let url = format!("http://{address}/graphql");
            println!(
                "returns-gateway demo: five simulated vendors (seed {}):",
                settings.sim.seed
            );
            for vendor in Vendor::ALL {
                println!("  {:<12} {}", vendor.as_str(), sims.base_url(vendor));
            }
            let token =
                returns_gateway::auth::mint(&settings.auth, "default", &Scope::ALL, 86_400)?;
            let summary = example_summary(sims.world.clock.now());
            println!("\nGraphiQL: {url}\n\nTry:\n{EXAMPLE_DASHBOARD}\n\n{summary}\n");
            if settings.sim.webhooks.interval_ms > 0 {
                println!(
                    "The ProCarrier simulator moves a return every {} ms and sends its webhook to \
                     {}; watch them arrive with:\n{EXAMPLE_SUBSCRIPTION}\n",
                    settings.sim.webhooks.interval_ms, settings.sim.webhooks.url
                );
            }
            println!("The demo accepts requests without a token; a token with every scope (24 h):");
            println!("  Authorization: Bearer {token}\n");
            // The gateway reads the simulated world's clock (`sim.now` fixes it).
            App::with_clock(&settings, sims.world.clock)?
                .run(listener, ctrl_c())
                .await?;
        }
        Command::Sim {
            config,
            seed,
            any_port,
        } => {
            let mut settings = load(config)?;
            if let Some(seed) = seed {
                settings.sim.seed = seed;
            }
            let sims = returns_gateway::sim::start_all(&settings, any_port, ctrl_c()).await?;
            println!("simulators (seed {}):", settings.sim.seed);
            for vendor in Vendor::ALL {
                println!("  {:<12} {}", vendor.as_str(), sims.base_url(vendor));
            }
            println!("request counts: GET <origin>/__sim/stats; faults: PUT <origin>/__sim/faults");
            println!(
                "ProCarrier's moving world: PUT {}/__sim/webhooks {{\"url\": ..., \"interval_ms\": ...}}, \
                 POST {}/__sim/webhooks/advance?count=N",
                sims.procarrier.origin, sims.procarrier.origin
            );
            ctrl_c().await;
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
