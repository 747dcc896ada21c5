//! The `returns-gateway` binary: parses the command line and calls the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use returns_gateway::config::Settings;
use returns_gateway::model::Vendor;

#[derive(Parser)]
#[command(name = "returns-gateway", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
}

fn load(config: Option<PathBuf>) -> Result<Settings, Box<dyn std::error::Error>> {
    Ok(match config {
        Some(path) => Settings::load(&path)?,
        None => Settings::demo(),
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Sim {
            config,
            seed,
            any_port,
        } => {
            let mut settings = load(config)?;
            if let Some(seed) = seed {
                settings.sim.seed = seed;
            }
            let sims = returns_gateway::sim::start_all(&settings, any_port, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
            println!("simulators (seed {}):", settings.sim.seed);
            for vendor in Vendor::ALL {
                println!("  {:<12} {}", vendor.as_str(), sims.base_url(vendor));
            }
            println!("request counts: GET <origin>/__sim/stats; faults: PUT <origin>/__sim/faults");
            tokio::signal::ctrl_c().await?;
        }
    }
    Ok(())
}
