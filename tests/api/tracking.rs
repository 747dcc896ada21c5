//! A parcel's tracking through the gateway: ProCarrier's events found whatever the return's
//! age, read in date windows that always have both ends, and TrackRU's manual overrides
//! standing over the events until reverted.

use chrono::Duration;
use serde_json::{json, Value};
use simulators::world::{ReturnChannel, Stage};
use vendors::procarrier::wire;

use crate::helpers::{self, TestSims};
use crate::procarrier;

const RANGE: &str = "procarrier POST /api/tracking/range/json";

fn calls(t: &TestSims, route: &str) -> u64 {
    t.calls().get(route).copied().unwrap_or(0)
}

/// A ProCarrier return dated `age` ago (`DateAdded`) with an event an hour after that; its
/// tracking number.
async fn old_return(t: &TestSims, age: Duration) -> String {
    let c = procarrier::client(t);
    let created_at = t.now_plus(-age);
    let created = c
        .create_return(&wire::NewReturn {
            date_added: Some(created_at.timestamp()),
            ..procarrier::new_return(201, "EXT-OLD")
        })
        .await
        .expect("created");
    c.add_tracking(&wire::NewTrackingStatus {
        tracking_number: created.tracking_number.clone(),
        date: (created_at + Duration::hours(1))
            .to_utc()
            .format("%Y/%m/%d %H:%M:%S")
            .to_string(),
        status: 20,
        ..Default::default()
    })
    .await
    .expect("event added");
    created.tracking_number
}

async fn tracking_of_return(g: &helpers::TestGateway, number: &str) -> Value {
    let answer = g
        .query_with(
            "query($n: String) { returns(filter: {trackingNumber: $n}) { edges { node {
                createdAt tracking { sources events { vendor statusRaw } } } } } }",
            json!({"n": number}),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["returns"]["edges"][0]["node"].clone()
}

#[tokio::test]
async fn a_return_dated_two_years_back_is_indexed_with_its_events_once_its_parcel_moves() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    // Older than the backfill reaches: only its parcel's new events bring it in.
    let number = old_return(&t, Duration::days(730)).await;
    t.reset_calls();
    g.sync
        .as_ref()
        .unwrap()
        .tick("default", vendors::model::Vendor::ProCarrier)
        .await
        .unwrap();
    // One read of what was created and of the events added since the last tick, then the
    // return whose parcel moved, by its tracking number.
    assert_eq!(calls(&t, "procarrier POST /api/returns/search/json"), 1);
    assert_eq!(calls(&t, "procarrier POST /api/tracking/added/json"), 1);
    assert_eq!(calls(&t, "procarrier POST /api/returns/get/json"), 1);
    assert_eq!(calls(&t, RANGE), 0);
    t.reset_calls();
    let node = tracking_of_return(&g, &number).await;
    // The event of two years ago, then the simulator's registration when the return was
    // created today.
    assert_eq!(
        node["tracking"]["events"],
        json!([{"vendor": "PROCARRIER", "statusRaw": "20"}, {"vendor": "PROCARRIER", "statusRaw": "10"}]),
        "{node}"
    );
    assert_eq!(
        t.calls().values().sum::<u64>(),
        0,
        "answered from the index"
    );
}

#[tokio::test]
async fn the_backfill_reads_tracking_in_windows_of_the_configured_span() {
    let t = helpers::start().await;
    let g = helpers::TestGateway::builder(&t)
        .with(|s| {
            s.vendors.procarrier.tracking_range_max_days = 7;
            s.sync.window_days = 30;
        })
        .unsynced()
        .start()
        .await;
    t.reset_calls();
    g.sync
        .as_ref()
        .unwrap()
        .tick("default", vendors::model::Vendor::ProCarrier)
        .await
        .unwrap();
    // 365 days back in steps of 30 (the last one 5 days), each read in windows of at most 7
    // days, every window with its DateFrom and DateTo (the simulator refuses less).
    let (days, step) = (
        returns_gateway::config::SyncSettings::default().backfill_days,
        30,
    );
    let windows: u32 = (0..days.div_ceil(step))
        .map(|i| (days - i * step).min(step).div_ceil(7))
        .sum();
    assert_eq!(windows, 61);
    assert_eq!(calls(&t, RANGE), u64::from(windows));
    assert_eq!(
        calls(&t, "procarrier POST /api/returns/search/json"),
        u64::from(days.div_ceil(step))
    );
}

#[tokio::test]
async fn a_manual_override_stands_over_the_events_until_reverted() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let world = &t.sims.world;
    let parcel = world
        .returns
        .iter()
        .find(|r| r.channel == ReturnChannel::ProCarrier && r.stage == Stage::InTransit)
        .map(|r| &world.parcels[r.parcel])
        .expect("a ProCarrier return in transit");
    let vars = json!({"c": parcel.carrier_code, "n": parcel.tracking_number});
    let set = |status: &str| {
        format!(
            "mutation($c: String!, $n: String!) {{ overrideTrackingStatus(carrierCode: $c,
                trackingNumber: $n, status: {status}) {{ status }} }}"
        )
    };
    let read =
        "query($n: String!) { tracking(trackingNumber: $n) { status statusRaw statusVendor } }";
    let tracking = |answer: Value| answer["data"]["tracking"].clone();

    let before = tracking(g.query_with(read, vars.clone()).await);
    assert_eq!(before["status"], "IN_TRANSIT", "{before}");

    for (status, raw) in [("DELIVERED", "4"), ("EXCEPTION", "7")] {
        let set = g.query_with(&set(status), vars.clone()).await;
        assert!(set.get("errors").is_none(), "{set}");
        assert_eq!(
            tracking(g.query_with(read, vars.clone()).await),
            json!({"status": status, "statusRaw": raw, "statusVendor": "TRACKRU"}),
            "the override wins over ProCarrier's later events"
        );
    }

    let reverted = g.query_with(&set("REVERT"), vars.clone()).await;
    assert!(reverted.get("errors").is_none(), "{reverted}");
    assert_eq!(tracking(g.query_with(read, vars).await), before);
}
