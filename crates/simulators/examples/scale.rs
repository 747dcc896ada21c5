//! How the simulators scale: start time and memory for a world of N returns, and how long the
//! returns index's windowed, paged reads take against it.
//!
//! ```sh
//! cargo run --release -p simulators --example scale -- 100000
//! cargo run --release -p simulators --example scale -- 100000 --phases
//! ```
//!
//! Prints the time `start_all` takes (world generation plus every simulator's own data, up to
//! the moment the URLs could be printed) in wall and CPU time (user + system, steadier on a
//! shared machine), the process' resident memory then (`VmRSS`) and its peak (`VmHWM`), then
//! the median of five answers to each read, measured at the client over HTTP on this machine.
//! The world is generated at a fixed `now`, so the windows hold the same rows on every run.
//!
//! `--phases` instead builds the world and then each simulator's router one after another,
//! keeping each, and prints what each step took and how much resident memory it added.

use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{json, Value};
use simulators::world::World;
use simulators::{SimSettings, Simulators};
use vendors::model::Vendor;

const NOW: &str = "2026-06-15T09:30:00Z";
const RUNS: usize = 5;

/// A line of `/proc/self/status` in MiB (Linux only; 0 elsewhere).
fn status_mib(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// CPU time (user + system) this process has used, from `/proc/self/stat` (Linux only; 0
/// elsewhere), assuming the usual 100 clock ticks a second.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// What a phase built, kept to the end so that its memory stays counted.
type Kept = Box<dyn std::any::Any>;

/// Runs `build`, printing the time it took and the resident memory it added.
fn phase<T: 'static>(label: &str, build: impl FnOnce() -> T) -> T {
    let (rss, cpu, started) = (status_mib("VmRSS:"), cpu_seconds(), Instant::now());
    let built = build();
    println!(
        "  {label:<12} {:>7.2} s (CPU {:>6.2} s)  +{:>6.0} MiB",
        started.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
        status_mib("VmRSS:") - rss
    );
    built
}

/// Builds the world, then each simulator's router, one after another.
fn phases(settings: &SimSettings) -> Vec<Kept> {
    let clock = settings.clock().unwrap_or_else(|e| panic!("{e}"));
    let world = phase("world", || {
        std::sync::Arc::new(World::generate(settings.seed, settings.returns, clock))
    });
    let credentials = &settings.credentials;
    let kept: Vec<Kept> = vec![
        Box::new(phase("V-Track", || {
            simulators::vtrack::router(&world, credentials)
        })),
        Box::new(phase("ProCarrier", || {
            simulators::procarrier::router(&world, credentials, &settings.webhooks)
        })),
        Box::new(phase("RRR", || {
            simulators::rrr::router(&world, credentials)
        })),
        Box::new(phase("MerchantPro", || {
            simulators::merchantpro::router(&world, credentials, settings.merchantpro.error_shape)
        })),
        Box::new(phase("TrackRU", || {
            let control = simulators::SimControl::new(Vendor::TrackRu, Default::default(), 0);
            simulators::trackru::router(&world, credentials, control)
        })),
    ];
    println!("  VmRSS in all {:.0} MiB", status_mib("VmRSS:"));
    kept
}

/// Median wall time of [`RUNS`] sends of `build`, and the size of the last answer.
async fn time(label: &str, build: impl Fn() -> reqwest::RequestBuilder) {
    let mut took = Vec::with_capacity(RUNS);
    let mut size = 0;
    let mut status = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        match build().send().await {
            Ok(response) => {
                status = response.status().as_u16();
                size = response.bytes().await.map_or(0, |b| b.len());
            }
            Err(e) => {
                println!("  {label:<58} failed: {e}");
                return;
            }
        }
        took.push(started.elapsed());
    }
    took.sort();
    println!(
        "  {label:<58} {:>8.2} ms  (HTTP {status}, {size} bytes)",
        took[RUNS / 2].as_secs_f64() * 1000.0
    );
}

fn procarrier(
    client: &Client,
    sims: &Simulators,
    method: &str,
    request: Value,
) -> reqwest::RequestBuilder {
    client
        .post(format!(
            "{}/{method}/json",
            sims.base_url(Vendor::ProCarrier)
        ))
        .json(&json!({"ApiKey": "procarrier-demo-key", "Request": request}))
}

async fn reads(sims: &Simulators) {
    let client = Client::new();
    let world = &sims.world;
    let week = json!({"DateFrom": "2026/06/08 00:00:00", "DateTo": "2026/06/15 00:00:00"});
    println!("reads (median of {RUNS}):");
    time("ProCarrier returns/search, last 7 days, first page", || {
        procarrier(&client, sims, "returns/search", json!({"Filter": week}))
    })
    .await;
    time(
        "ProCarrier returns/search, last 7 days, IdLast 123456000",
        || {
            let mut filter = week.clone();
            filter["IdLast"] = json!(123_456_000);
            procarrier(&client, sims, "returns/search", json!({ "Filter": filter }))
        },
    )
    .await;
    time(
        "ProCarrier tracking/added, last 7 days, 1000 a page",
        || {
            let mut filter = week.clone();
            filter["CountPerPage"] = json!(1000);
            procarrier(&client, sims, "tracking/added", json!({ "Filter": filter }))
        },
    )
    .await;
    time("ProCarrier tracking/range, last day, page 2 of 100", || {
        let filter = json!({"DateFrom": "2026/06/14 00:00:00", "DateTo": "2026/06/15 00:00:00",
            "Page": 2, "CountPerPage": 100});
        procarrier(&client, sims, "tracking/range", json!({ "Filter": filter }))
    })
    .await;
    let tracking = world
        .returns
        .iter()
        .rev()
        .find(|r| r.channel == simulators::world::ReturnChannel::ProCarrier)
        .map(|r| world.parcels[r.parcel].tracking_number.clone())
        .unwrap_or_default();
    time("ProCarrier returns/get by tracking number", || {
        procarrier(
            &client,
            sims,
            "returns/get",
            json!({"Return": {"Field": "tracking", "Value": tracking}}),
        )
    })
    .await;

    let rrr = |page: u32| {
        client
            .post(format!("{}/get/order_returns", sims.base_url(Vendor::Rrr)))
            .query(&[
                ("date_from", "2026-06-08"),
                ("date_to", "2026-06-15"),
                ("page", &page.to_string()),
            ])
            .form(&[
                ("username", "demo"),
                ("password", "rrr-demo-password"),
                ("user_token", "rrr-demo-token"),
            ])
    };
    time("RRR order_returns, last 7 days, page 1", || rrr(1)).await;
    time("RRR order_returns, last 7 days, page 5", || rrr(5)).await;

    let merchantpro = |query: &[(&str, String)]| {
        client
            .get(format!(
                "{}/api/v2/orders",
                sims.base_url(Vendor::MerchantPro)
            ))
            .basic_auth("demo", Some("merchantpro-demo-password"))
            .query(query)
    };
    let window = |start: u64| {
        vec![
            ("created_after", "2026-06-08T00:00:00+03:00".to_owned()),
            ("created_before", "2026-06-15T00:00:00+03:00".to_owned()),
            ("sort", "date_created.desc".to_owned()),
            ("include", "line_items".to_owned()),
            ("start", start.to_string()),
            ("limit", "100".to_owned()),
        ]
    };
    time("MerchantPro orders, last 7 days, desc, start 0", || {
        merchantpro(&window(0))
    })
    .await;
    time("MerchantPro orders, last 7 days, desc, start 500", || {
        merchantpro(&window(500))
    })
    .await;
    let email = world.people[world.orders[0].customer].email.clone();
    time("MerchantPro orders, customer_email= (no window)", || {
        merchantpro(&[("customer_email", email.clone())])
    })
    .await;
    let ids: Vec<String> = world
        .orders
        .iter()
        .rev()
        .take(100)
        .map(|o| o.id.to_string())
        .collect();
    time("MerchantPro orders, ids= 100 orders", || {
        merchantpro(&[("ids", ids.join(",")), ("limit", "100".to_owned())])
    })
    .await;

    let numbers: Vec<&str> = world
        .parcels
        .iter()
        .rev()
        .take(40)
        .map(|p| p.tracking_number.as_str())
        .collect();
    time("TrackRU trackings/get, numbers= 40 parcels", || {
        client
            .get(format!("{}/trackings/get", sims.base_url(Vendor::TrackRu)))
            .header("Api-Key", "trackru-demo-key")
            .query(&[("numbers", numbers.join(",")), ("limit", "40".to_owned())])
    })
    .await;

    time("V-Track the whole report", || {
        client
            .get(format!(
                "{}/statistics/returns/json.php?f=returns",
                sims.base_url(Vendor::VTrack)
            ))
            .header("X-Public", "demo")
            .bearer_auth("vtrack-demo-key")
    })
    .await;
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let returns: usize = match args.first().map(|a| a.parse()) {
        None => 540,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("usage: scale [RETURNS] [--phases]: {e}");
            std::process::exit(2);
        }
    };
    let settings = SimSettings {
        returns,
        now: NOW.into(),
        ..SimSettings::default()
    };
    if args.iter().any(|a| a == "--phases") {
        println!("returns {returns}, one phase after another:");
        drop(phases(&settings));
        return Ok(());
    }
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sims = simulators::start_all(&settings, true, async move {
        let _ = stopped.await;
    })
    .await?;
    let took = started.elapsed();
    println!(
        "returns {returns}: started in {:.2} s (CPU {:.2} s), VmRSS {:.0} MiB, VmHWM {:.0} MiB \
         ({} world returns, {} orders, {} parcels)",
        took.as_secs_f64(),
        cpu_seconds() - cpu,
        status_mib("VmRSS:"),
        status_mib("VmHWM:"),
        sims.world.returns.len(),
        sims.world.orders.len(),
        sims.world.parcels.len(),
    );
    reads(&sims).await;
    println!("VmHWM after the reads {:.0} MiB", status_mib("VmHWM:"));
    let _ = stop.send(());
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}
