//! trackru: wire samples, client against its simulator, typed errors, pagination.

use std::collections::BTreeSet;
use std::time::Duration;

use simulators::trackru::tracking_id;
use simulators::world::{Milestone, World};
use simulators::Faults;
use vendors::model::TrackingStatus;
use vendors::trackru::client::{api_error, BatchOutcome, BATCH_LIMIT};
use vendors::trackru::wire::{
    status_command, CreateTracking, Envelope, ListQuery, RealtimeRequest, Tracking, UpdateTracking,
};
use vendors::trackru::{mapping, Client};
use vendors::ErrorCode;
use vendors::{ApiErrorKind, VendorError};

use crate::helpers::{self, TestSims};

fn client(t: &TestSims) -> Client {
    Client::new(&t.settings.vendors.trackru).expect("client")
}

fn world(t: &TestSims) -> World {
    World::clone(&t.sims.world)
}

/// Requests the simulator routed to `route` (e.g. `"GET /v1/trackings/get"`).
fn served(t: &TestSims, route: &str) -> u64 {
    t.sims
        .trackru
        .control
        .stats()
        .get(route)
        .copied()
        .unwrap_or(0)
}

fn api_kind(err: &VendorError) -> (ApiErrorKind, String) {
    let api = err
        .api_error()
        .unwrap_or_else(|| panic!("expected a vendor error envelope, got {err:?}"));
    (api.kind, api.vendor_code.clone())
}

fn new_tracking(number: &str) -> CreateTracking {
    CreateTracking {
        tracking_number: number.into(),
        carrier_code: Some("dhl".into()),
        title: Some("Running shoes".into()),
        customer_name: Some("  Eleni   Ioannou ".into()),
        customer_email: Some(" Eleni.Ioannou@Gmail.com".into()),
        customer_phone: Some("6912345678".into()),
        order_id: Some("WEB9990001".into()),
        destination_code: Some("GR".into()),
        ..CreateTracking::default()
    }
}

// ---- wire samples --------------------------------------------------------------------------

#[test]
fn every_sample_body_deserialises() {
    let dir = format!(
        "{}/crates/vendors/fixtures/trackru",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8");
        let body = helpers::fixture(&format!("trackru/{name}"));
        match name.as_str() {
            "trackings-update.request.json" => {
                let update: UpdateTracking = serde_json::from_str(&body).expect(&name);
                assert_eq!(update.status, Some(status_command::EXCEPTION));
                assert_eq!(update.archived.as_deref(), Some("true"));
                assert_eq!(update.customer_email.as_deref(), Some("[email protected]"));
            }
            "trackings-update.response.json" => {
                let answer: Envelope<Tracking> = serde_json::from_str(&body).expect(&name);
                assert_eq!(answer.meta.code, 200);
                assert_eq!(answer.data.tracking_number, "402934299065");
                assert_eq!(answer.data.status.as_deref(), Some("7"));
                assert_eq!(
                    answer.data.logistics_channel.as_deref(),
                    Some("4PX挂号小包")
                );
            }
            other => panic!("fixture {other} is not covered by this test"),
        }
        seen += 1;
    }
    assert_eq!(seen, 2);
}

// ---- every endpoint against the simulator ------------------------------------------------

#[tokio::test]
async fn get_serves_a_world_parcel_with_its_checkpoints() {
    let t = helpers::start().await;
    let w = world(&t);
    let parcel = w
        .parcels
        .iter()
        .find(|p| p.events.last().map(|e| e.milestone) == Some(Milestone::Delivered))
        .expect("a delivered parcel");
    let order = &w.orders[parcel.order];
    let person = w.person_of(order);

    let tracking = client(&t)
        .get(parcel.carrier_code, &parcel.tracking_number)
        .await
        .unwrap();
    assert_eq!(tracking.status.as_deref(), Some("delivered"));
    let s = mapping::shipment(&tracking);
    assert_eq!(s.status, TrackingStatus::Delivered);
    assert_eq!(s.order_reference.as_deref(), Some(order.reference.as_str()));
    assert_eq!(s.destination_country.as_deref(), Some(person.country));
    let customer = s.customer.expect("customer");
    assert_eq!(customer.email.as_deref(), Some(person.email.as_str()));
    assert_eq!(customer.phone.as_deref(), Some(person.phone.as_str()));
    assert_eq!(s.events.len(), parcel.events.len());
    let times: Vec<_> = s.events.iter().map(|e| e.at).collect();
    let want: Vec<_> = parcel.events.iter().map(|e| e.at).collect();
    assert_eq!(times, want, "events in time order, at the world's instants");
    assert_eq!(s.events[0].status, TrackingStatus::InfoReceived);
    assert_eq!(s.events.last().unwrap().status, TrackingStatus::Delivered);
}

#[tokio::test]
async fn create_get_list_update_delete_round_trip() {
    let t = helpers::start().await;
    let c = client(&t);

    let created = c.create(&new_tracking("NEW0000001")).await.unwrap();
    assert_eq!(created.status.as_deref(), Some("pending"));
    assert!(created.id.is_some());

    let got = c.get("dhl", "NEW0000001").await.unwrap();
    assert_eq!(got.order_id.as_deref(), Some("WEB9990001"));
    let s = mapping::shipment(&got);
    let customer = s.customer.expect("customer");
    assert_eq!(customer.name.as_deref(), Some("Eleni Ioannou"));
    assert_eq!(customer.email.as_deref(), Some("eleni.ioannou@gmail.com"));
    assert_eq!(customer.phone.as_deref(), Some("+306912345678"));

    let listed = c
        .list(&ListQuery {
            numbers: Some("NEW0000001".into()),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.total, Some(1));
    assert_eq!(listed.items[0].tracking_number, "NEW0000001");

    // A manual override shows as the bare number, and 8 undoes it.
    let marked = c
        .update(
            "dhl",
            "NEW0000001",
            &UpdateTracking {
                status: Some(status_command::EXCEPTION),
                title: Some("new title".into()),
                archived: Some("true".into()),
                ..UpdateTracking::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(marked.status.as_deref(), Some("7"));
    let after = c.get("dhl", "NEW0000001").await.unwrap();
    assert_eq!(after.status.as_deref(), Some("7"));
    assert_eq!(after.title.as_deref(), Some("new title"));
    assert!(mapping::shipment(&after).archived);
    assert_eq!(mapping::shipment(&after).status, TrackingStatus::Exception);
    let restored = c
        .update(
            "dhl",
            "NEW0000001",
            &UpdateTracking {
                status: Some(status_command::CARRIER_STATUS),
                ..UpdateTracking::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(restored.status.as_deref(), Some("pending"));

    c.delete("dhl", "NEW0000001").await.unwrap();
    let gone = c.get("dhl", "NEW0000001").await.unwrap_err();
    assert_eq!(api_kind(&gone), (ApiErrorKind::NotFound, "4017".into()));
    assert_eq!(gone.code(), ErrorCode::VendorNotFound);
}

#[tokio::test]
async fn status_8_restores_the_carriers_status_of_a_world_parcel() {
    let t = helpers::start().await;
    let w = world(&t);
    let parcel = w
        .parcels
        .iter()
        .find(|p| p.events.last().map(|e| e.milestone) == Some(Milestone::Hub))
        .expect("a parcel in transit");
    let c = client(&t);
    let (carrier, number) = (parcel.carrier_code, parcel.tracking_number.as_str());
    let set = |status| UpdateTracking {
        status: Some(status),
        ..UpdateTracking::default()
    };
    let delivered = c
        .update(carrier, number, &set(status_command::DELIVERED))
        .await
        .unwrap();
    assert_eq!(delivered.status.as_deref(), Some("4"));
    assert_eq!(
        mapping::shipment(&delivered).status,
        TrackingStatus::Delivered
    );
    let back = c
        .update(carrier, number, &set(status_command::CARRIER_STATUS))
        .await
        .unwrap();
    assert_eq!(back.status.as_deref(), Some("transit"));
    let listed = c
        .list(&ListQuery {
            numbers: Some(number.into()),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.items[0].status.as_deref(), Some("transit"));

    let invalid = c.update(carrier, number, &set(5)).await.unwrap_err();
    assert_eq!(
        api_kind(&invalid),
        (ApiErrorKind::BadRequest, "4033".into())
    );
}

#[tokio::test]
async fn list_filters_by_status() {
    let t = helpers::start().await;
    let page = client(&t)
        .list(&ListQuery {
            status: Some("delivered".into()),
            limit: Some(20),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert!(!page.items.is_empty());
    assert!(page
        .items
        .iter()
        .all(|i| i.status.as_deref() == Some("delivered")));
    let want = world(&t)
        .parcels
        .iter()
        .filter(|p| p.events.last().map(|e| e.milestone) == Some(Milestone::Delivered))
        .count() as u64;
    assert_eq!(page.total, Some(want));
}

#[tokio::test]
async fn list_all_reads_every_page_exactly_once() {
    let t = helpers::start().await;
    let w = world(&t);
    let page_size = 50;
    let expected_pages = w.parcels.len().div_ceil(page_size) as u64;
    assert!(expected_pages > 3, "the world spans more than three pages");
    t.sims.trackru.control.reset_stats();

    let all = client(&t)
        .list_all(&ListQuery::default(), page_size as u32)
        .await
        .unwrap();

    let numbers: BTreeSet<_> = all.iter().map(|t| t.tracking_number.clone()).collect();
    let want: BTreeSet<_> = w
        .parcels
        .iter()
        .map(|p| p.tracking_number.clone())
        .collect();
    assert_eq!(all.len(), w.parcels.len(), "no tracking twice");
    assert_eq!(numbers, want);
    let ids: BTreeSet<_> = all.iter().filter_map(|t| t.id.clone()).collect();
    let want_ids: BTreeSet<_> = w
        .parcels
        .iter()
        .map(|p| tracking_id(p.carrier_code, &p.tracking_number))
        .collect();
    assert_eq!(ids, want_ids, "every tracking id of the simulator, once");
    assert_eq!(served(&t, "GET /v1/trackings/get"), expected_pages);
}

#[tokio::test]
async fn create_many_batches_by_40_and_reports_each_parcel() {
    let t = helpers::start().await;
    let w = world(&t);
    let c = client(&t);
    let mut parcels: Vec<CreateTracking> = (0..92)
        .map(|i| new_tracking(&format!("BATCH{i:05}")))
        .collect();
    // Two the account already has, and one without a number.
    for p in &w.parcels[..2] {
        parcels.push(CreateTracking {
            tracking_number: p.tracking_number.clone(),
            carrier_code: Some(p.carrier_code.into()),
            ..CreateTracking::default()
        });
    }
    parcels.push(CreateTracking {
        tracking_number: String::new(),
        carrier_code: Some("dhl".into()),
        ..CreateTracking::default()
    });
    assert_eq!(parcels.len(), 95);
    t.sims.trackru.control.reset_stats();

    let results = c.create_many(&parcels).await;

    assert_eq!(served(&t, "POST /v1/trackings/batch"), 3);
    assert_eq!(results.len(), 95);
    for (sent, got) in parcels.iter().zip(&results) {
        assert_eq!(sent.tracking_number, got.tracking_number);
    }
    let accepted = results
        .iter()
        .filter(|r| matches!(r.outcome, BatchOutcome::Accepted))
        .count();
    assert_eq!(accepted, 92);
    assert!(matches!(results[92].outcome, BatchOutcome::AlreadyExists));
    assert!(matches!(results[93].outcome, BatchOutcome::AlreadyExists));
    match &results[94].outcome {
        BatchOutcome::Rejected(e) => {
            assert_eq!(
                (e.kind, e.vendor_code.as_str()),
                (ApiErrorKind::BadRequest, "4013")
            )
        }
        other => panic!("expected a rejection, got {other:?}"),
    }

    let listed = c
        .list_all(
            &ListQuery {
                orders: Some("WEB9990001".into()),
                ..ListQuery::default()
            },
            40,
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 92, "batch-created trackings are listed");
}

#[tokio::test]
async fn a_batch_over_the_limit_is_the_vendors_error() {
    let t = helpers::start().await;
    let parcels: Vec<CreateTracking> = (0..=BATCH_LIMIT)
        .map(|i| new_tracking(&format!("OVER{i:05}")))
        .collect();
    let err = client(&t).create_batch(&parcels).await.unwrap_err();
    assert_eq!(api_kind(&err), (ApiErrorKind::BadRequest, "4020".into()));
    assert_eq!(err.code(), ErrorCode::VendorBadRequest);
    assert!(!err.retryable());
}

#[tokio::test]
async fn realtime_answers_once_per_parcel_per_two_hours() {
    let t = helpers::start().await;
    let w = world(&t);
    let parcel = w.parcels.iter().find(|p| !p.events.is_empty()).unwrap();
    let c = client(&t);
    let request = RealtimeRequest {
        tracking_number: parcel.tracking_number.clone(),
        carrier_code: parcel.carrier_code.into(),
        ..RealtimeRequest::default()
    };
    let live = c.realtime(&request).await.unwrap();
    assert_eq!(live.items.len(), 1);
    assert_eq!(
        mapping::shipment(&live.items[0]).events.len(),
        parcel.events.len()
    );

    let again = c.realtime(&request).await.unwrap_err();
    match &again {
        VendorError::RateLimited { retry_after, .. } => {
            let wait = retry_after.expect("Retry-After");
            assert!(wait > Duration::ZERO && wait <= Duration::from_secs(7200));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(again.code(), ErrorCode::VendorRateLimited);

    // Another parcel is not held back; one not in the account is looked up but not found.
    let unknown = c
        .realtime(&RealtimeRequest {
            tracking_number: "UNKNOWN12345".into(),
            carrier_code: "dhl".into(),
            ..RealtimeRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(unknown.items[0].status.as_deref(), Some("notfound"));
}

// ---- the vendor's error envelopes ----------------------------------------------------------

#[tokio::test]
async fn wrong_api_key_is_auth_failed() {
    let mut t = helpers::start().await;
    t.settings.vendors.trackru.api_key = returns_gateway::config::Secret::new("wrong-key");
    let err = client(&t).get("dhl", "5010000000").await.unwrap_err();
    assert_eq!(api_kind(&err), (ApiErrorKind::AuthFailed, "4001".into()));
    assert_eq!(err.code(), ErrorCode::VendorAuthFailed);
    assert!(!err.retryable());
}

#[tokio::test]
async fn documented_refusals_are_typed() {
    let t = helpers::start().await;
    let w = world(&t);
    let c = client(&t);
    let existing = &w.parcels[0];

    let dup = c
        .create(&CreateTracking {
            tracking_number: existing.tracking_number.clone(),
            carrier_code: Some(existing.carrier_code.into()),
            ..CreateTracking::default()
        })
        .await
        .unwrap_err();
    assert_eq!(api_kind(&dup), (ApiErrorKind::AlreadyExists, "4016".into()));
    assert_eq!(dup.code(), ErrorCode::VendorAlreadyExists);

    let missing = c.get("dhl", "NOSUCH00001").await.unwrap_err();
    assert_eq!(api_kind(&missing), (ApiErrorKind::NotFound, "4017".into()));
    let missing_delete = c.delete("dhl", "NOSUCH00001").await.unwrap_err();
    assert_eq!(missing_delete.code(), ErrorCode::VendorNotFound);

    let no_carrier = c
        .create(&CreateTracking {
            tracking_number: "NOCARRIER01".into(),
            ..CreateTracking::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        api_kind(&no_carrier),
        (ApiErrorKind::BadRequest, "4032".into())
    );
    assert_eq!(no_carrier.code(), ErrorCode::VendorBadRequest);

    let no_number = c.create(&CreateTracking::default()).await.unwrap_err();
    assert_eq!(
        api_kind(&no_number),
        (ApiErrorKind::BadRequest, "4013".into())
    );
}

#[tokio::test]
async fn unknown_paths_answer_in_the_vendors_shape() {
    let t = helpers::start().await;
    let answer = reqwest::Client::new()
        .get(format!("{}/v1/no/such/call", t.sims.trackru.origin))
        .header("Api-Key", "trackru-demo-key")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
    let status = answer.status();
    let body = answer.bytes().await.unwrap();
    let err = api_error(status, &body).expect("an envelope");
    assert_eq!(err.kind, ApiErrorKind::UnknownCall);
    assert_eq!(err.vendor_code, "404");

    let wrong_method = reqwest::Client::new()
        .post(format!("{}/v1/trackings/get", t.sims.trackru.origin))
        .header("Api-Key", "trackru-demo-key")
        .send()
        .await
        .unwrap();
    let status = wrong_method.status();
    assert_eq!(status, 405);
    let body = wrong_method.bytes().await.unwrap();
    let err = api_error(status, &body).expect("an envelope");
    assert_eq!(err.kind, ApiErrorKind::UnknownCall);
    assert_eq!(err.vendor_code, "405");
    assert_eq!(t.sims.trackru.control.stats().values().sum::<u64>(), 2);
}

// ---- transport failures ----------------------------------------------------------------------

#[tokio::test]
async fn a_hanging_vendor_is_a_timeout() {
    let t = helpers::start_with(|s| s.vendors.trackru.timeout_ms = 300).await;
    t.set_faults(&t.sims.trackru, helpers::hang());
    let err = client(&t).get("dhl", "5010000000").await.unwrap_err();
    assert!(matches!(err, VendorError::Timeout { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorTimeout);
}

#[tokio::test]
async fn a_refused_connection_is_unreachable() {
    let mut t = helpers::start().await;
    t.settings.vendors.trackru.base_url = format!("{}/v1", helpers::refused_url());
    let err = client(&t).list(&ListQuery::default()).await.unwrap_err();
    assert!(matches!(err, VendorError::Unreachable { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorUnreachable);
}

#[tokio::test]
async fn a_malformed_body_is_malformed() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.trackru, helpers::malformed());
    let err = client(&t).list(&ListQuery::default()).await.unwrap_err();
    assert!(matches!(err, VendorError::Malformed { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorMalformedResponse);
}

#[tokio::test]
async fn a_429_is_rate_limited_with_retry_after() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.trackru, helpers::rate_limited(7));
    let err = client(&t).list(&ListQuery::default()).await.unwrap_err();
    match &err {
        VendorError::RateLimited { retry_after, .. } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(7)))
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(err.code(), ErrorCode::VendorRateLimited);
    assert!(err.retryable());
}

#[tokio::test]
async fn a_bare_500_is_an_http_error() {
    let t = helpers::start().await;
    t.set_faults(
        &t.sims.trackru,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    let err = client(&t).get("dhl", "5010000000").await.unwrap_err();
    assert!(matches!(err, VendorError::HttpStatus { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorHttpError);
    assert!(err.retryable());
}
