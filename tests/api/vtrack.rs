//! vtrack: wire samples, client against its simulator, typed errors.
//!
//! V-Track has no pagination (and no filters): one call returns the whole report, so there is
//! no pagination test here; the full-report test checks every V-Track return of the World
//! arrives exactly once in that single call.

use std::collections::BTreeSet;
use std::time::Duration;

use simulators::world::{ReturnChannel, World};
use vendors::model::{ReturnStatus, TrackingStatus};
use vendors::vtrack::mapping::map_report;
use vendors::vtrack::wire::{Lenient, ReturnsResponse};
use vendors::vtrack::Client;
use vendors::ErrorCode;
use vendors::{ApiErrorKind, VendorError};

use crate::helpers;

const FIXTURES: &[&str] = &["vtrack/returns.response.json"];

#[test]
fn every_sample_deserialises_and_maps() {
    let dir = format!(
        "{}/crates/vendors/fixtures/vtrack",
        env!("CARGO_MANIFEST_DIR")
    );
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .map(|e| format!("vtrack/{}", e.file_name().to_string_lossy()))
        .collect();
    assert_eq!(
        on_disk,
        FIXTURES.iter().map(|s| s.to_string()).collect(),
        "every fixture is covered"
    );

    let wire: ReturnsResponse =
        serde_json::from_str(&helpers::fixture("vtrack/returns.response.json")).expect("sample");
    assert!(wire.rows.iter().all(|r| matches!(r, Lenient::Parsed(_))));
    let report = map_report(wire.clone());
    assert_eq!(report.skipped(), 0);
    assert_eq!(report.returns.len(), 1);
    assert_eq!(report.deliveries.len(), 3);
    let r = &report.returns[0];
    let customer = r.customer.as_ref().expect("customer");
    assert_eq!(customer.email.as_deref(), Some("xxxxxx@gmail.com"));
    assert_eq!(customer.phone.as_deref(), Some("+306979000000"));
    assert_eq!(customer.name.as_deref(), Some("Νικολάου Τάσος"));
    assert_eq!(
        r.created_at.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-06-06T16:43:00+03:00")
    );
    assert_eq!(
        report.deliveries[2]
            .delivered_at
            .map(|d| d.to_rfc3339())
            .as_deref(),
        Some("2025-06-09T12:43:00+03:00")
    );
    // Serialises back to the same JSON (the simulator writes these types).
    let back = serde_json::to_value(&wire).expect("serialise");
    let original: serde_json::Value =
        serde_json::from_str(&helpers::fixture("vtrack/returns.response.json")).expect("json");
    assert_eq!(back, original);
}

#[tokio::test]
async fn the_client_gets_the_whole_report() {
    let t = helpers::start().await;
    let client = Client::new(&t.settings.vendors.vtrack).expect("client");
    let report = client.report().await.expect("report");
    assert_eq!(report.skipped(), 0);

    let world = World::clone(&t.sims.world);
    let want: BTreeSet<String> = world
        .returns
        .iter()
        .filter(|r| r.channel == ReturnChannel::VTrack)
        .map(|r| world.parcels[r.parcel].tracking_number.clone())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(report.returns.len(), want.len());
    let got: BTreeSet<String> = report.returns.iter().map(|r| r.id.clone()).collect();
    assert_eq!(got, want);
    for r in &report.returns {
        assert_eq!(r.status, ReturnStatus::Received);
        assert_eq!(r.tracking_status, Some(TrackingStatus::ReturnToSender));
        assert_eq!(r.status_raw, if r.refused { "refused" } else { "returned" });
        let c = r.customer.as_ref().expect("customer");
        assert!(c.email.is_some() && c.phone.as_deref().is_some_and(|p| p.starts_with('+')));
    }
    // The World's dates span the October switch: both Athens offsets show up.
    let offsets: BTreeSet<i32> = report
        .deliveries
        .iter()
        .filter_map(|d| d.delivered_at)
        .map(|d| d.offset().local_minus_utc())
        .collect();
    assert_eq!(offsets, BTreeSet::from([2 * 3600, 3 * 3600]));
    // One call, as documented: POST, no pagination.
    let stats = t.sims.vtrack.control.stats();
    assert_eq!(stats.get("POST /statistics/returns/json.php"), Some(&1));
    assert_eq!(stats.values().sum::<u64>(), 1);
}

#[tokio::test]
async fn the_doc_example_get_is_answered_too() {
    // The doc's PHP example sets no POST fields, so curl really sends a GET.
    let t = helpers::start().await;
    let v = &t.settings.vendors.vtrack;
    let answer = reqwest::Client::new()
        .get(format!(
            "{}/statistics/returns/json.php?f=returns",
            v.base_url
        ))
        .header("X-Public", &v.username)
        .header("authorization", format!("Bearer {}", v.api_key.expose()))
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status(), 200);
    let wire: ReturnsResponse = answer.json().await.expect("report");
    assert!(!wire.rows.is_empty());
}

async fn auth_error(customize: impl FnOnce(&mut returns_gateway::config::VTrackSettings)) {
    let mut t = helpers::start().await;
    customize(&mut t.settings.vendors.vtrack);
    let client = Client::new(&t.settings.vendors.vtrack).expect("client");
    let err = client.returns().await.expect_err("refused");
    assert_eq!(err.code(), ErrorCode::VendorAuthFailed, "{err:?}");
    assert!(!err.retryable());
    let api = err.api_error().expect("the vendor's own error");
    assert_eq!(api.kind, ApiErrorKind::AuthFailed);
    assert_eq!(api.vendor_code, "401");
}

#[tokio::test]
async fn a_wrong_username_is_refused() {
    auth_error(|v| v.username = "someone-else".into()).await;
}

#[tokio::test]
async fn a_missing_username_is_refused() {
    auth_error(|v| v.username = String::new()).await;
}

#[tokio::test]
async fn a_wrong_api_key_is_refused() {
    auth_error(|v| v.api_key = returns_gateway::config::Secret::new("wrong-key")).await;
}

#[tokio::test]
async fn a_missing_api_key_is_refused() {
    auth_error(|v| v.api_key = returns_gateway::config::Secret::default()).await;
}

#[tokio::test]
async fn an_unknown_path_is_an_unknown_call() {
    let mut t = helpers::start().await;
    t.settings.vendors.vtrack.base_url = format!("{}/v2", t.settings.vendors.vtrack.base_url);
    let client = Client::new(&t.settings.vendors.vtrack).expect("client");
    let err = client.returns().await.expect_err("no such path");
    assert_eq!(err.code(), ErrorCode::VendorUnknownCall, "{err:?}");
}

#[tokio::test]
async fn a_hanging_vendor_times_out() {
    let t = helpers::start_with(|s| {
        s.sim.returns = 20;
        s.vendors.vtrack.timeout_ms = 300;
    })
    .await;
    t.set_faults(&t.sims.vtrack, helpers::hang());
    let client = Client::new(&t.settings.vendors.vtrack).expect("client");
    let err = client.returns().await.expect_err("timeout");
    assert!(matches!(err, VendorError::Timeout { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorTimeout);
    assert!(err.retryable());
}

#[tokio::test]
async fn a_refused_connection_is_unreachable() {
    let mut settings = returns_gateway::config::Settings::demo();
    settings.vendors.vtrack.base_url = helpers::refused_url();
    let client = Client::new(&settings.vendors.vtrack).expect("client");
    let err = client.returns().await.expect_err("refused");
    assert!(matches!(err, VendorError::Unreachable { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorUnreachable);
}

#[tokio::test]
async fn a_malformed_body_is_malformed() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.vtrack, helpers::malformed());
    let client = Client::new(&t.settings.vendors.vtrack).expect("client");
    let err = client.returns().await.expect_err("malformed");
    assert!(matches!(err, VendorError::Malformed { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorMalformedResponse);
}

#[tokio::test]
async fn rate_limiting_keeps_retry_after() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.vtrack, helpers::rate_limited(7));
    // A Retry-After past the call's deadline is not waited for: the 429 comes back at once.
    let mut settings = t.settings.vendors.vtrack.clone();
    settings.timeout_ms = 2_000;
    let client = Client::new(&settings).expect("client");
    let err = client.returns().await.expect_err("429");
    match &err {
        VendorError::RateLimited { retry_after, .. } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(7)))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), ErrorCode::VendorRateLimited);
}

#[test]
fn a_report_with_one_bad_row_still_yields_the_others() {
    let body = r#"{"rows":[
        {"customer":{"customer":"  Παπαδοπούλου  Μαρία","email":"MARIA@YAHOO.GR","mobile":"697 111 2222"},
         "return":[{"voucher":"5011000001","finalization_dates":"2025-11-03 09:10:00",
                    "return_delivery_date":"2025-11-07 15:00:00","with_refusal":"1",
                    "invoice_id":"inv-1","web_order_id":"WEB0000001"}],
         "delivered":[]},
        {"customer":"broken","return":{"voucher":1}},
        {"customer":{"customer":"Georgiou Nikos","email":"nikos@otenet.gr","mobile":6944444444},
         "return":[{"voucher":5011000002,"finalization_dates":"2025-07-01 10:00:00",
                    "return_delivery_date":"2025-07-03 11:00:00","with_refusal":"",
                    "invoice_id":"inv-2","web_order_id":null}],
         "delivered":[{"voucher":"5011000003","finalization_dates":"2025-07-01 10:00:00",
                       "delivered_date":"2025-07-02 12:00:00","invoice_id":"inv-3","web_order_id":""}]}
    ]}"#;
    let wire: ReturnsResponse = serde_json::from_str(body).expect("the report is read");
    let report = map_report(wire);
    assert_eq!(report.skipped_rows, 1);
    assert_eq!(report.skipped_entries, 0);
    let ids: Vec<&str> = report.returns.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["5011000001", "5011000002"]);
    assert!(report.returns[0].refused);
    assert_eq!(
        report.returns[0]
            .created_at
            .map(|d| d.to_rfc3339())
            .as_deref(),
        Some("2025-11-03T09:10:00+02:00")
    );
    let maria = report.returns[0].customer.as_ref().expect("customer");
    assert_eq!(maria.name.as_deref(), Some("Παπαδοπούλου Μαρία"));
    assert_eq!(maria.email.as_deref(), Some("maria@yahoo.gr"));
    assert_eq!(maria.phone.as_deref(), Some("+306971112222"));
    assert_eq!(report.deliveries.len(), 1);
    assert_eq!(report.deliveries[0].order_reference, None);

    // A body that is not the documented JSON at all is malformed, not an empty report.
    assert!(serde_json::from_str::<ReturnsResponse>(r#"{"data":[]}"#).is_err());
}
