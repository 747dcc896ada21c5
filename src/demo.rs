//! The `demo` and `sim` commands: the five simulated vendors on this machine, and the gateway
//! wired to them. Compiled only with the `demo` feature; the product never contains them.

use std::future::Future;

use tokio::net::TcpListener;
use vendors::model::Vendor;

use crate::auth::Scope;
use crate::config::Settings;
use crate::App;

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

/// Starts the simulators, points `settings`' vendors at them, prints where to look (URLs,
/// example queries, a token) and serves the gateway on `listener` until `shutdown`.
/// `shutdown` makes one future per part (simulators, gateway) that resolves when they stop.
pub async fn run<F>(
    mut settings: Settings,
    listener: TcpListener,
    shutdown: impl Fn() -> F,
) -> Result<(), Box<dyn std::error::Error>>
where
    F: Future<Output = ()> + Send + 'static,
{
    let address = listener.local_addr()?;
    // The moving world reports to this gateway, as the default tenant's ProCarrier.
    if settings.sim.webhooks.url.is_empty() {
        settings.sim.webhooks.url = format!("http://{address}/webhooks/procarrier/default");
    }
    let sims = simulators::start_all(&settings.sim, false, shutdown()).await?;
    sims.wire_into(&mut settings.vendors);
    let url = format!("http://{address}/graphql");
    println!(
        "returns-gateway demo: five simulated vendors (seed {}):",
        settings.sim.seed
    );
    for vendor in Vendor::ALL {
        println!("  {:<12} {}", vendor.as_str(), sims.base_url(vendor));
    }
    let token = crate::auth::mint(&settings.auth, "default", &Scope::ALL, 86_400)?;
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
    let app = App::with_clock(&settings, sims.world.clock).await?;
    if settings.sync.enabled {
        tokio::spawn(print_sync_progress(app.sync()));
    }
    app.run(listener, shutdown()).await?;
    Ok(())
}

/// Prints each vendor's backfill as it ends (the index answers from the start, with what it
/// holds so far).
async fn print_sync_progress(sync: crate::http::SyncControl) {
    println!("Syncing the returns index from the simulators…");
    let started = std::time::Instant::now();
    let mut reported: Vec<Vendor> = Vec::new();
    while reported.len() < Vendor::ALL.len() {
        // A change between two looks is seen at the next look, a second later at most.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), sync.changed()).await;
        for (vendor, status) in sync.statuses("default") {
            if status.phase == crate::index::SyncPhase::Ready && !reported.contains(&vendor) {
                reported.push(vendor);
                println!(
                    "  index: {:<12} synced, {} rows ({:.1} s)",
                    vendor.as_str(),
                    status.rows,
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
}

/// Starts the simulators alone, prints their base URLs and admin endpoints, and runs until
/// `shutdown`.
pub async fn run_simulators<F>(
    sim: &simulators::SimSettings,
    any_port: bool,
    shutdown: impl Fn() -> F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let sims = simulators::start_all(sim, any_port, shutdown()).await?;
    println!("simulators (seed {}):", sim.seed);
    for vendor in Vendor::ALL {
        println!("  {:<12} {}", vendor.as_str(), sims.base_url(vendor));
    }
    println!("request counts: GET <origin>/__sim/stats; faults: PUT <origin>/__sim/faults");
    println!(
        "ProCarrier's moving world: PUT {}/__sim/webhooks {{\"url\": ..., \"interval_ms\": ...}}, \
         POST {}/__sim/webhooks/advance?count=N",
        sims.procarrier.origin, sims.procarrier.origin
    );
    shutdown().await;
    Ok(())
}
