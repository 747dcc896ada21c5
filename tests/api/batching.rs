//! N+1 freedom and the cache, proved by the simulators' request counts: once synced, the
//! dashboard query is answered from the returns index without a vendor call; links the index
//! does not hold yet make one call per (vendor, endpoint, page), shared by identical
//! concurrent queries and cached for repeats.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use simulators::world::World;
use vendors::model::Vendor;

use crate::graphql::DASHBOARD;
use crate::helpers::{self, TestSims};

/// The calls the dashboard query for `answer`'s returns makes while MerchantPro and TrackRU
/// are not indexed yet (ProCarrier, RRR and V-Track are), and no others: the order links
/// batch onto MerchantPro's listing (it cannot filter by channel reference), the parcels onto
/// TrackRU's `numbers=`.
fn expected_link_calls(world: &World, answer: &Value) -> BTreeMap<String, u64> {
    let orders = simulators::merchantpro::seed_orders(world).len() as u64;
    let numbers: BTreeSet<&str> = answer["data"]["returns"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["tracking"]["trackingNumber"].as_str())
        .collect();
    BTreeMap::from([
        // The listing, pages of 100; RRR's marketplace order numbers ask MerchantPro nothing.
        (
            "merchantpro GET /api/v2/orders".into(),
            orders.div_ceil(100),
        ),
        // `numbers=` in batches of 40.
        (
            "trackru GET /v1/trackings/get".into(),
            (numbers.len() as u64).div_ceil(40),
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
async fn the_dashboard_is_answered_from_the_index_without_a_vendor_call() {
    let (t, g) = started().await;
    let answer = dashboard(&g).await;
    assert_cross_links_resolved(&answer);
    assert_eq!(t.calls(), BTreeMap::new());
}

#[tokio::test]
async fn fifty_identical_concurrent_queries_get_one_answer_and_call_no_vendor() {
    let (t, g) = started().await;
    let answers = futures_util::future::join_all((0..50).map(|_| dashboard(&g))).await;
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every client got the same answer"
    );
    assert_eq!(t.calls(), BTreeMap::new());
}

#[tokio::test]
async fn links_not_indexed_yet_batch_onto_the_vendors_once_per_endpoint_and_page() {
    let t = helpers::start().await;
    let g = helpers::TestGateway::builder(&t).unsynced().start().await;
    let sync = g.sync.as_ref().unwrap();
    for vendor in [Vendor::ProCarrier, Vendor::Rrr, Vendor::VTrack] {
        sync.tick("default", vendor).await.unwrap();
    }
    t.reset_calls();
    let answer = dashboard(&g).await;
    assert_cross_links_resolved(&answer);
    assert_eq!(t.calls(), expected_link_calls(&t.sims.world, &answer));
    // Concurrent and repeated queries share those reads (single flight, then the cache).
    t.reset_calls();
    let again = futures_util::future::join_all((0..20).map(|_| dashboard(&g))).await;
    assert!(again.iter().all(|a| *a == answer));
    assert_eq!(t.calls(), BTreeMap::new());
}

#[tokio::test]
async fn the_naive_baseline_answers_the_same_row_by_row() {
    let (t, batched) = started().await;
    let naive = helpers::gateway_with(&t, |s| s.server.naive_resolution = true).await;
    assert_eq!(dashboard(&naive).await, dashboard(&batched).await);
}
