//! The `returns-gateway` binary: parses the command line and calls the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use returns_gateway::config::Settings;
use returns_gateway::model::Vendor;
use returns_gateway::App;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(name = "returns-gateway", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway against the vendors configured in FILE.
    Serve {
        #[arg(long)]
        config: PathBuf,
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

const EXAMPLE_SUMMARY: &str = r#"{
  returnsSummary(from: "2026-08-01T00:00:00Z", to: "2027-01-01T00:00:00Z") {
    total byVendor { vendor count } refusalRate refundedTotals { amount currency }
  }
  vendors { vendor healthy dataAgeSeconds }
}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve { config } => {
            let settings = Settings::load(&config)?;
            let listener = TcpListener::bind(&settings.server.listen).await?;
            tracing::info!(address = %listener.local_addr()?, "gateway listening");
            App::new(&settings)?.run(listener, ctrl_c()).await?;
        }
        Command::Demo { config } => {
            let mut settings = load(config)?;
            let sims = returns_gateway::sim::start_all(&settings, false, ctrl_c()).await?;
            sims.wire_into(&mut settings);
            let listener = TcpListener::bind(&settings.server.listen).await?;
            let url = format!("http://{}/graphql", listener.local_addr()?);
            println!(
                "returns-gateway demo: five simulated vendors (seed {}):",
                settings.sim.seed
            );
            for vendor in Vendor::ALL {
                println!("  {:<12} {}", vendor.as_str(), sims.base_url(vendor));
            }
            println!("\nGraphiQL: {url}\n\nTry:\n{EXAMPLE_DASHBOARD}\n\n{EXAMPLE_SUMMARY}\n");
            App::new(&settings)?.run(listener, ctrl_c()).await?;
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
            ctrl_c().await;
        }
        Command::Schema => print!("{}", returns_gateway::schema::sdl()),
    }
    Ok(())
}
