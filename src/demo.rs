//! The `demo` and `sim` commands: the five simulated vendors on this machine, and the gateway
//! wired to them. Compiled only with the `demo` feature; the product never contains them.

use std::future::Future;

use tokio::net::TcpListener;
use vendors::model::Vendor;

use crate::auth::Scope;
use crate::config::Settings;
use crate::http::graphiql::GraphiqlPage;
use crate::App;
use vendors::settings::Secret;

// Named, so GraphiQL's tabs say what each holds.
const EXAMPLE_DASHBOARD: &str = r#"query Dashboard {
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
        r#"query Summary {{
  returnsSummary(from: "{from}", to: "{to}") {{
    total byVendor {{ vendor count }} refusalRate refundedTotals {{ amount currency }}
  }}
  vendors {{ vendor healthy dataAgeSeconds }}
}}"#
    )
}

const EXAMPLE_SUBSCRIPTION: &str = r#"subscription ReturnUpdates {
  returnUpdated { receivedAt return { vendorId status trackingStatus order { reference } } }
}"#;

/// How often the demo prints its banner again: the log (sync progress, warnings, requests)
/// must not bury the URL, the token and the example queries.
pub const BANNER_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// What GraphiQL opens with in the demo: the example queries, one tab each (summary as of
/// `now`), and the development `token`, if any, in the headers pane.
pub fn graphiql_page(now: chrono::DateTime<chrono::Utc>, token: Option<&str>) -> GraphiqlPage {
    let page = GraphiqlPage::default()
        .tab(EXAMPLE_DASHBOARD)
        .tab(example_summary(now))
        .tab(EXAMPLE_SUBSCRIPTION);
    match token {
        Some(token) => page.token(Secret::new(token)),
        None => page,
    }
}

/// Where to look and what to try: printed at the start, once the index is synced, and every
/// [`BANNER_EVERY`].
fn banner(
    url: &str,
    now: chrono::DateTime<chrono::Utc>,
    webhooks: &simulators::settings::SimWebhooks,
    token: Option<&str>,
) -> String {
    let summary = example_summary(now);
    let mut text = format!(
        "GraphiQL: {url} (the queries below are open in its tabs)\n\nTry:\n{EXAMPLE_DASHBOARD}\n\n{summary}\n"
    );
    if webhooks.interval_ms > 0 {
        text.push_str(&format!(
            "\nThe ProCarrier simulator moves a return every {} ms and sends its webhook to \
             {}; watch them arrive with:\n{EXAMPLE_SUBSCRIPTION}\n",
            webhooks.interval_ms, webhooks.url
        ));
    }
    match token {
        Some(token) => text.push_str(&format!(
            "\nThe demo accepts requests without a token; a token with every scope (24 h, also \
             in GraphiQL's headers pane):\n  Authorization: Bearer {token}\n"
        )),
        None => text.push_str("\nThe demo accepts requests without a token.\n"),
    }
    text
}

/// Calls `print` with `text` every `every`, the first time `every` from now, for ever.
async fn repeat(every: std::time::Duration, text: String, mut print: impl FnMut(&str)) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        print(&text);
    }
}

/// Starts the simulators, points `settings`' vendors at them, prints where to look (URLs,
/// example queries, a token; again after the index's first sync and every [`BANNER_EVERY`])
/// and serves the gateway on `listener` until `shutdown`, its GraphiQL opening with the
/// example queries and the token.
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
    // A development token, when the settings can sign one (an HS256 secret).
    let token = crate::auth::mint(&settings.auth, "default", &Scope::ALL, 86_400).ok();
    let now = sims.world.clock.now();
    let banner = banner(&url, now, &settings.sim.webhooks, token.as_deref());
    println!("\n{banner}");
    // The gateway reads the simulated world's clock (`sim.now` fixes it).
    let app = App::with_clock(&settings, sims.world.clock)
        .await?
        .with_graphiql(graphiql_page(now, token.as_deref()));
    if settings.sync.enabled {
        tokio::spawn(print_sync_progress(app.sync(), banner.clone()));
    }
    let reminders = tokio::spawn(repeat(BANNER_EVERY, banner, |text| {
        println!("\nreturns-gateway demo, once more:\n{text}");
    }));
    let served = app.run(listener, shutdown()).await;
    reminders.abort();
    served?;
    Ok(())
}

/// Prints each vendor's backfill as it ends (the index answers from the start, with what it
/// holds so far), then `banner` again: the backfill's log lines have scrolled it away.
async fn print_sync_progress(sync: crate::http::SyncControl, banner: String) {
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
    println!("\nreturns-gateway demo, the index synced:\n{banner}");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_banner_comes_again_every_few_minutes() {
        let printed = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
        let sink = printed.clone();
        let reminders = tokio::spawn(repeat(BANNER_EVERY, "banner".into(), move |text| {
            sink.lock().push(text.to_owned());
        }));
        // Paused, the clock jumps to each timer: eleven minutes pass at once.
        tokio::time::sleep(std::time::Duration::from_secs(11 * 60)).await;
        reminders.abort();
        assert_eq!(*printed.lock(), ["banner", "banner"]);
    }

    #[test]
    fn the_banner_names_the_token_only_when_there_is_one() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-06-15T09:30:00Z")
            .unwrap()
            .to_utc();
        let webhooks = simulators::settings::SimWebhooks {
            url: "http://x/webhooks/procarrier/default".into(),
            interval_ms: 3000,
            per_tick: 1,
        };
        let with = banner("http://x/graphql", now, &webhooks, Some("t0ken"));
        assert!(with.contains("Authorization: Bearer t0ken"), "{with}");
        assert!(with.contains("returnsSummary"), "{with}");
        assert!(with.contains("returnUpdated"), "{with}");
        let without = banner("http://x/graphql", now, &webhooks, None);
        assert!(!without.contains("Bearer"), "{without}");
    }
}
