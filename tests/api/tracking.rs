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
async fn a_return_two_years_old_keeps_its_procarrier_events() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let number = old_return(&t, Duration::days(730)).await;
    t.reset_calls();
    let node = tracking_of_return(&g, &number).await;
    // The event of two years ago, then the simulator's registration when the return was
    // created today.
    assert_eq!(
        node["tracking"]["events"],
        json!([{"vendor": "PROCARRIER", "statusRaw": "20"}, {"vendor": "PROCARRIER", "statusRaw": "10"}]),
        "{node}"
    );
    // 731 days in windows of 31 (each with DateFrom and DateTo: the simulator refuses less).
    assert_eq!(calls(&t, RANGE), 731_u64.div_ceil(31));
}

#[tokio::test]
async fn a_long_range_is_read_in_windows_of_the_configured_span() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| s.vendors.procarrier.tracking_range_max_days = 7).await;
    let number = old_return(&t, Duration::days(30)).await;
    t.reset_calls();
    let node = tracking_of_return(&g, &number).await;
    assert_eq!(node["tracking"]["sources"], json!(["PROCARRIER"]), "{node}");
    // From the start of the return's day to now: 31 days or a little less, in 7-day windows.
    assert_eq!(calls(&t, RANGE), 5);
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
