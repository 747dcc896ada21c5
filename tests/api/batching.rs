//! N+1 freedom and the cache, proved by the simulators' request counts: the dashboard query
//! makes one call per (vendor, endpoint, page); identical concurrent cold queries share those
//! calls; a repeat within the TTL makes none.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, NaiveTime};
use returns_gateway::config::Settings;
use serde_json::{json, Value};
use simulators::world::{ReturnChannel, World};

use crate::graphql::DASHBOARD;
use crate::helpers::{self, TestSims};

/// `tracking/range` windows from the UTC day the oldest of `nodes` with a parcel (RRR returns
/// have none) was created up to `now`.
fn tracking_windows(nodes: &[&Value], now: DateTime<FixedOffset>) -> u64 {
    let oldest = nodes
        .iter()
        .filter(|n| n["vendor"] != "RRR")
        .filter_map(|n| n["createdAt"].as_str())
        .map(|t| DateTime::parse_from_rfc3339(t).expect("createdAt"))
        .min()
        .expect("returns");
    let from = oldest
        .to_utc()
        .date_naive()
        .and_time(NaiveTime::MIN)
        .and_utc();
    let max_days = Settings::demo().vendors.procarrier.tracking_range_max_days;
    let span = (now.to_utc() - from).num_seconds() as u64;
    span.div_ceil(u64::from(max_days) * 86_400)
}

/// The calls the dashboard query for `answer`'s returns must make, and no others.
fn expected_calls(world: &World, answer: &Value) -> BTreeMap<String, u64> {
    let count = |ch| world.returns.iter().filter(|r| r.channel == ch).count() as u64;
    let rrr = count(ReturnChannel::Rrr);
    let rrr_page = simulators::rrr::PAGE_SIZE as u64;
    let orders = simulators::merchantpro::seed_orders(world).len() as u64;
    let trackings = world.parcels.len() as u64;
    let trackru_page = u64::from(vendors::trackru::client::MAX_PAGE_SIZE);
    let nodes: Vec<&Value> = answer["data"]["returns"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"])
        .collect();
    let numbers: BTreeSet<&str> = nodes
        .iter()
        .filter_map(|n| n["tracking"]["trackingNumber"].as_str())
        .collect();
    BTreeMap::from([
        ("procarrier POST /api/returns/search/json".into(), 1),
        // Windows of `tracking_range_max_days` from the oldest row's day.
        (
            "procarrier POST /api/tracking/range/json".into(),
            tracking_windows(&nodes, world.now),
        ),
        // Pages of 20 until an empty one.
        (
            "rrr POST /get/order_returns".into(),
            rrr / rrr_page + 1 + u64::from(rrr % rrr_page != 0),
        ),
        ("vtrack POST /statistics/returns/json.php".into(), 1),
        // The listing for channel references (pages of 100); RRR's marketplace order numbers
        // ask MerchantPro nothing.
        (
            "merchantpro GET /api/v2/orders".into(),
            orders.div_ceil(100),
        ),
        // `numbers=` in batches of 40, plus the listing (pages of 2000) the customers' ids are
        // resolved over: a customer's id names all their contact keys, linked across vendors.
        (
            "trackru GET /v1/trackings/get".into(),
            (numbers.len() as u64).div_ceil(40) + trackings.div_ceil(trackru_page).max(1),
        ),
    ])
}

async fn dashboard(g: &helpers::TestGateway) -> Value {
    let answer = g.query_with(DASHBOARD, json!({"first": 100})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(
        answer["data"]["returns"]["edges"].as_array().map(Vec::len),
        Some(100)
    );
    answer
}

fn assert_cross_links_resolved(answer: &Value) {
    let nodes = answer["data"]["returns"]["edges"].as_array().unwrap();
    let with = |field: &str| nodes.iter().filter(|e| !e["node"][field].is_null()).count();
    // ProCarrier returns all name their shop order (V-Track's now and then lost it); RRR's
    // name none, only their marketplace's order number.
    let links = |vendor: &str| -> Vec<bool> {
        nodes
            .iter()
            .filter(|e| e["node"]["vendor"] == vendor)
            .map(|e| !e["node"]["order"].is_null())
            .collect()
    };
    assert!(links("PROCARRIER").iter().all(|&linked| linked));
    assert!(links("RRR").iter().all(|&linked| !linked));
    assert!(with("order") > 60, "orders resolved: {}", with("order"));
    assert!(
        with("tracking") > 50,
        "trackings resolved: {}",
        with("tracking")
    );
    assert!(
        with("customer") > 90,
        "customers resolved: {}",
        with("customer")
    );
}

async fn started() -> (TestSims, helpers::TestGateway) {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    t.reset_calls();
    (t, g)
}

#[tokio::test]
async fn dashboard_for_100_returns_makes_one_call_per_vendor_endpoint_and_page() {
    let (t, g) = started().await;
    let answer = dashboard(&g).await;
    assert_cross_links_resolved(&answer);
    assert_eq!(t.calls(), expected_calls(&t.sims.world, &answer));
}

#[tokio::test]
async fn fifty_identical_concurrent_cold_queries_share_one_call_per_endpoint() {
    let (t, g) = started().await;
    let answers = futures_util::future::join_all((0..50).map(|_| dashboard(&g))).await;
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every client got the same answer"
    );
    assert_eq!(t.calls(), expected_calls(&t.sims.world, &answers[0]));
}

#[tokio::test]
async fn the_same_query_again_within_the_ttl_makes_no_call() {
    let (t, g) = started().await;
    let first = dashboard(&g).await;
    t.reset_calls();
    let second = dashboard(&g).await;
    assert_eq!(first, second);
    assert_eq!(t.calls(), BTreeMap::new());
}

#[tokio::test]
async fn the_naive_baseline_calls_the_vendors_row_by_row() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| s.server.naive_resolution = true).await;
    t.reset_calls();
    let answer = dashboard(&g).await;
    let batched = expected_calls(&t.sims.world, &answer);
    let calls = |m: &BTreeMap<String, u64>| m.values().sum::<u64>();
    // Row by row, every link is its own vendor call (the cache still shares identical ones).
    assert!(
        calls(&t.calls()) > 2 * calls(&batched),
        "{:?} vs {:?}",
        t.calls(),
        batched
    );
}
