//! The returns index, against the simulators with counted calls: the backfill and a restart
//! that resumes from its persisted cursors, a vendor's change indexed by one sync tick, writes
//! read back from the index, a vendor failing during sync, idempotency keys kept across a
//! restart. (A webhook updating one row: `webhooks::a_valid_event_updates_its_return_row_and_nothing_else`.)

use serde_json::{json, Value};
use vendors::model::Vendor;

use crate::graphql::DASHBOARD;
use crate::helpers::{self, TempDir, TestGateway, TestSims};
use crate::mutations::{create_input, CREATE};
use crate::procarrier;

const SEARCH: &str = "procarrier POST /api/returns/search/json";
const ADDED: &str = "procarrier POST /api/tracking/added/json";
const RANGE: &str = "procarrier POST /api/tracking/range/json";
const RETURNS_CREATE: &str = "procarrier POST /api/returns/create/json";

const SYNC: &str = "{ vendors { vendor dataAgeSeconds sync { state progress indexedThrough
    lagSeconds lastSuccessAt lastErrorCode lastErrorAt rows } } }";

fn calls(t: &TestSims, route: &str) -> u64 {
    t.calls().get(route).copied().unwrap_or(0)
}

fn total(t: &TestSims) -> u64 {
    t.calls().values().sum()
}

fn sync(g: &TestGateway) -> &returns_gateway::http::SyncControl {
    g.sync.as_ref().expect("a gateway started here")
}

/// `vendor`'s entry of `vendors`.
async fn status(g: &TestGateway, vendor: &str) -> Value {
    let answer = g.query(SYNC).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vendor"] == vendor)
        .cloned()
        .unwrap_or_else(|| panic!("{vendor} in {answer}"))
}

async fn dashboard(g: &TestGateway) -> Value {
    let answer = g.query_with(DASHBOARD, json!({"first": 100})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer
}

async fn by_tracking_number(g: &TestGateway, number: &str) -> Value {
    let answer = g
        .query_with(
            "query($n: String) { returns(filter: {trackingNumber: $n}) { totalCount
                edges { node { vendorId status } } } }",
            json!({"n": number}),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["returns"].clone()
}

#[tokio::test]
async fn a_restart_answers_from_the_index_and_resumes_from_the_persisted_cursors() {
    let t = helpers::start().await;
    let dir = TempDir::new();
    let first = TestGateway::builder(&t)
        .data_dir(&dir)
        .unsynced()
        .start()
        .await;
    for vendor in ["PROCARRIER", "RRR", "MERCHANTPRO", "TRACKRU", "VTRACK"] {
        assert_eq!(status(&first, vendor).await["sync"]["state"], "WAITING");
    }
    t.reset_calls();
    sync(&first).tick_all().await.expect("backfill");
    let backfill = total(&t);
    // A year back in windows, newest first, each with its tracking.
    let settings = returns_gateway::config::SyncSettings::default();
    let windows = u64::from(settings.backfill_days.div_ceil(settings.window_days));
    assert_eq!(calls(&t, SEARCH), windows, "{:?}", t.calls());
    assert!(calls(&t, RANGE) >= windows, "{:?}", t.calls());
    for vendor in ["PROCARRIER", "RRR", "MERCHANTPRO", "TRACKRU", "VTRACK"] {
        let s = status(&first, vendor).await;
        assert_eq!(s["sync"]["state"], "READY", "{s}");
        assert_eq!(s["sync"]["progress"], 1.0, "{s}");
        assert!(s["sync"]["rows"].as_i64().unwrap() > 0, "{s}");
    }
    let answered = dashboard(&first).await;
    first.shutdown().await;

    // Started again on the same directory, before any sync: the same answer, no vendor call.
    let second = TestGateway::builder(&t)
        .data_dir(&dir)
        .unsynced()
        .start()
        .await;
    t.reset_calls();
    assert_eq!(dashboard(&second).await, answered);
    assert_eq!(total(&t), 0, "answered from the index: {:?}", t.calls());
    let s = status(&second, "PROCARRIER").await;
    assert_eq!(s["sync"]["state"], "READY", "the cursor was kept: {s}");
    assert!(s["dataAgeSeconds"].is_number(), "{s}");

    // Its sync goes on from the cursors: one incremental read each, no backfill again.
    sync(&second).tick_all().await.expect("incremental");
    let incremental = total(&t);
    assert_eq!(calls(&t, SEARCH), 1, "{:?}", t.calls());
    assert_eq!(calls(&t, ADDED), 1, "{:?}", t.calls());
    assert_eq!(calls(&t, RANGE), 0, "{:?}", t.calls());
    assert!(
        incremental * 5 < backfill,
        "{incremental} calls after the restart, {backfill} for the backfill: {:?}",
        t.calls()
    );
}

#[tokio::test]
async fn a_new_return_at_the_vendor_is_indexed_by_one_tick_with_calls_for_the_change_only() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    // Created at the vendor, not through the gateway.
    let created = procarrier::client(&t)
        .create_return(&procarrier::new_return(201, "EXT-NEW-AT-VENDOR"))
        .await
        .expect("created");
    let number = created.tracking_number;
    t.reset_calls();
    assert_eq!(by_tracking_number(&g, &number).await["totalCount"], 0);
    assert_eq!(total(&t), 0, "listings read the index only");

    sync(&g)
        .tick("default", Vendor::ProCarrier)
        .await
        .expect("a tick");
    // What was created and what moved since the last tick: one read each, whatever the
    // world's size.
    assert_eq!(calls(&t, SEARCH), 1, "{:?}", t.calls());
    assert_eq!(calls(&t, ADDED), 1, "{:?}", t.calls());
    assert!(total(&t) <= 3, "{:?}", t.calls());
    t.reset_calls();
    let listed = by_tracking_number(&g, &number).await;
    assert_eq!(listed["totalCount"], 1, "{listed}");
    assert_eq!(
        listed["edges"][0]["node"]["status"], "REQUESTED",
        "{listed}"
    );
    assert_eq!(total(&t), 0);

    // Nothing new: the next tick reads the same two windows and adds nothing.
    const COUNT: &str = "{ returns(filter: {vendors: [PROCARRIER]}) { totalCount } }";
    let count = g.query(COUNT).await;
    sync(&g)
        .tick("default", Vendor::ProCarrier)
        .await
        .expect("a tick");
    assert_eq!(calls(&t, SEARCH), 1);
    assert_eq!(calls(&t, ADDED), 1);
    assert_eq!(g.query(COUNT).await, count);
}

#[tokio::test]
async fn a_write_is_visible_in_the_next_query_without_a_vendor_read() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let created = g.query_with(CREATE, json!({"input": create_input()})).await;
    assert!(created.get("errors").is_none(), "{created}");
    let number = created["data"]["createReturn"]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    t.reset_calls();
    let listed = by_tracking_number(&g, &number).await;
    assert_eq!(listed["totalCount"], 1, "{listed}");
    assert_eq!(listed["edges"][0]["node"]["status"], "REQUESTED");
    assert_eq!(total(&t), 0, "{:?}", t.calls());

    let cancelled = g
        .query_with(
            "mutation($n: String) { cancelReturn(trackingNumber: $n) { status } }",
            json!({"n": number}),
        )
        .await;
    assert_eq!(
        cancelled["data"]["cancelReturn"]["status"], "CANCELLED",
        "{cancelled}"
    );
    t.reset_calls();
    let listed = by_tracking_number(&g, &number).await;
    assert_eq!(
        listed["edges"][0]["node"]["status"], "CANCELLED",
        "{listed}"
    );
    let cancelled_listed = g
        .query_with(
            "query($n: String) { returns(filter: {trackingNumber: $n, statuses: [CANCELLED]}) { totalCount } }",
            json!({"n": number}),
        )
        .await;
    assert_eq!(
        cancelled_listed["data"]["returns"]["totalCount"], 1,
        "{cancelled_listed}"
    );
    assert_eq!(total(&t), 0, "{:?}", t.calls());
}

#[tokio::test]
async fn a_vendor_failing_during_sync_leaves_its_indexed_data_served_with_its_age() {
    let t = helpers::start().await;
    // The sync's failures count toward the breaker like any call's: kept closed here, so the
    // recovery below is read at once.
    let g = helpers::gateway_with(&t, |s| {
        s.vendors.procarrier.resilience.breaker_failures = 100
    })
    .await;
    const LISTING: &str = "{ returns(first: 5, filter: {vendors: [PROCARRIER]}) { totalCount
        edges { node { vendorId } } } }";
    let before = g.query(LISTING).await;
    let synced = status(&g, "PROCARRIER").await;
    assert!(synced["sync"]["lastErrorCode"].is_null(), "{synced}");

    t.set_faults(
        t.sim(Vendor::ProCarrier),
        simulators::Faults {
            error_rate: 1.0,
            ..Default::default()
        },
    );
    t.reset_calls();
    let failed = sync(&g).tick("default", Vendor::ProCarrier).await;
    assert!(failed.is_err(), "the tick reports the failure");
    assert!(calls(&t, SEARCH) >= 1, "{:?}", t.calls());

    t.reset_calls();
    assert_eq!(g.query(LISTING).await, before, "still served, unchanged");
    assert_eq!(total(&t), 0);
    let s = status(&g, "PROCARRIER").await;
    assert_eq!(s["sync"]["state"], "READY", "{s}");
    assert_eq!(s["sync"]["lastErrorCode"], "VENDOR_HTTP_ERROR", "{s}");
    assert!(s["sync"]["lastErrorAt"].is_string(), "{s}");
    // The data's age: what the index last caught up with, not the failed attempt.
    assert_eq!(
        s["sync"]["indexedThrough"], synced["sync"]["indexedThrough"],
        "{s}"
    );
    assert_eq!(s["sync"]["lastSuccessAt"], synced["sync"]["lastSuccessAt"]);
    assert!(
        s["sync"]["lagSeconds"].as_f64().unwrap() >= synced["sync"]["lagSeconds"].as_f64().unwrap(),
        "{s}"
    );
    assert!(s["dataAgeSeconds"].is_number(), "{s}");

    // Back up: the next tick clears the error and catches up.
    t.set_faults(t.sim(Vendor::ProCarrier), simulators::Faults::default());
    sync(&g)
        .tick("default", Vendor::ProCarrier)
        .await
        .expect("a tick");
    let s = status(&g, "PROCARRIER").await;
    assert!(s["sync"]["lastErrorCode"].is_null(), "{s}");
}

#[tokio::test]
async fn idempotency_keys_survive_a_restart() {
    let t = helpers::start().await;
    let dir = TempDir::new();
    let variables = json!({"input": create_input(), "key": "restart-1"});
    let first = TestGateway::builder(&t).data_dir(&dir).start().await;
    let created = first.query_with(CREATE, variables.clone()).await;
    assert!(created.get("errors").is_none(), "{created}");
    assert_eq!(calls(&t, RETURNS_CREATE), 1);
    first.shutdown().await;

    let second = TestGateway::builder(&t)
        .data_dir(&dir)
        .unsynced()
        .start()
        .await;
    t.reset_calls();
    let replayed = second.query_with(CREATE, variables).await;
    assert_eq!(replayed, created, "the first answer, replayed");
    assert_eq!(calls(&t, RETURNS_CREATE), 0, "{:?}", t.calls());

    // The same key with another input is still refused, after the restart too.
    let mut other = create_input();
    other["externalId"] = json!("RMA-2");
    let reused = second
        .query_with(CREATE, json!({"input": other, "key": "restart-1"}))
        .await;
    assert_eq!(
        reused["errors"][0]["extensions"]["code"], "IDEMPOTENCY_KEY_REUSED",
        "{reused}"
    );
    assert_eq!(calls(&t, RETURNS_CREATE), 0);
}
