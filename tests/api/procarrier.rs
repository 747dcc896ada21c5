//! procarrier: wire samples, client against its simulator, typed errors, pagination.

use std::collections::BTreeSet;

use returns_gateway::config::Secret;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use simulators::procarrier::{INTERNAL_ERROR_TRIGGER, WRONG_KEYS_BEFORE_BLOCK};
use simulators::world::{ReturnChannel, World};
use vendors::model::{ReturnStatus, TrackingStatus};
use vendors::procarrier::wire::{self, ApiRequest, Envelope};
use vendors::procarrier::{mapping, Client};
use vendors::ErrorCode;
use vendors::{ApiErrorKind, VendorError};

use crate::helpers::{self, TestSims};

pub fn client(t: &TestSims) -> Client {
    Client::new(&t.settings.vendors.procarrier).expect("client")
}

fn client_with_key(t: &TestSims, key: &str) -> Client {
    let mut settings = t.settings.vendors.procarrier.clone();
    settings.api_key = Secret::new(key);
    Client::new(&settings).expect("client")
}

fn world(t: &TestSims) -> World {
    World::clone(&t.sims.world)
}

fn api_kind(err: &VendorError) -> (ApiErrorKind, String) {
    let e = err
        .api_error()
        .unwrap_or_else(|| panic!("not a vendor error envelope: {err:?}"));
    (e.kind, e.vendor_code.clone())
}

// ---------------------------------------------------------------------------------------------
// Samples

fn sample<T: DeserializeOwned>(name: &str) -> T {
    let body = helpers::fixture(&format!("procarrier/{name}"));
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_sample_body_deserialises_into_the_wire_types() {
    type Req<T> = ApiRequest<T>;
    type Check = (&'static str, fn(&str));
    let checks: &[Check] = &[
        ("check-available.request.json", |n| {
            assert!(sample::<Value>(n).is_null())
        }),
        ("check-available.response.json", |n| {
            let Envelope(a): Envelope<wire::Availability> = sample(n);
            assert_eq!(a.date, Some(1606050093));
        }),
        ("dropoff-points.request.json", |n| {
            let r: Req<wire::DropOffRequest> = sample(n);
            assert_eq!(r.request.request.services, vec![1, 2, 3]);
            let c = r.request.request.coordinates.unwrap();
            assert_eq!((c.lat.as_str(), c.lng), ("52.372987", 4.894087));
        }),
        ("dropoff-points.response.json", |n| {
            let Envelope(r): Envelope<wire::DropOffResult> = sample(n);
            let p = &r.carriers[0].services[0].points[0];
            assert_eq!(p.detail_hours.as_ref().unwrap().su, wire::DayHours::Closed);
        }),
        ("orders-create-php-example.request.json", |n| {
            // `Request` is a JSON-encoded string here.
            let r: Req<String> = sample(n);
            let inner: wire::OrderRequest<wire::Order> = serde_json::from_str(&r.request).unwrap();
            assert_eq!(
                inner.order.order_reference.as_deref(),
                Some("REF10000000001")
            );
            assert_eq!(inner.order.products[1].quantity, Some(10));
            assert_eq!(inner.order.products[1].weight, Some(0.86));
        }),
        ("orders-create.request.json", |n| {
            let r: Req<wire::OrderRequest<wire::Order>> = sample(n);
            assert_eq!(r.request.order.export_mrn.as_deref(), Some(""));
            assert_eq!(
                r.request.order.contact.email.as_deref(),
                Some("example@example.com")
            );
        }),
        ("orders-create.response.json", |n| {
            let Envelope(r): Envelope<wire::OrderSaved> = sample(n);
            assert_eq!(r.order_id, Some(123456));
        }),
        ("orders-delete.request.json", |n| {
            let r: Req<wire::OrderRequest<wire::FieldValue>> = sample(n);
            assert_eq!(r.request.order.field, "reference");
        }),
        ("orders-delete.response.json", |n| {
            let Envelope(r): Envelope<wire::MessageResult> = sample(n);
            assert_eq!(r.message.as_deref(), Some("Order successfully deleted"));
        }),
        ("orders-get.request.json", |n| {
            let r: Req<wire::OrderRequest<wire::FieldValue>> = sample(n);
            assert_eq!(r.request.order.value, "REF123456789");
        }),
        ("orders-get.response.json", |n| {
            let Envelope(o): Envelope<wire::Order> = sample(n);
            assert_eq!(o.order_date.as_deref(), Some("11/22/2020"));
            assert_eq!(o.address.neighborhood.as_deref(), Some("Pilsen"));
        }),
        ("orders-search.request.json", |n| {
            let r: Req<wire::FilterRequest<wire::SearchFilter>> = sample(n);
            assert_eq!(
                r.request.filter.date_from.as_deref(),
                Some("2020/11/11 10:11:12")
            );
        }),
        ("orders-search.response.json", |n| {
            let Envelope(r): Envelope<wire::IdList> = sample(n);
            assert_eq!(r.id, vec![10, 12, 34, 56, 59, 72, 81, 93]);
        }),
        ("orders-update.request.json", |n| {
            let r: Req<wire::OrderRequest<wire::Order>> = sample(n);
            assert_eq!(r.request.order.id, Some(12345));
            assert_eq!(r.request.order.ixport_mrn.as_deref(), Some(""));
            assert_eq!(r.request.order.products[0].id, Some(12345));
        }),
        ("orders-update.response.json", |n| {
            // Lower-case envelope and keys.
            let Envelope(r): Envelope<wire::OrderSaved> = sample(n);
            assert_eq!(r.order_id, Some(123456));
            assert_eq!(r.order_reference.as_deref(), Some("REF123456789"));
        }),
        ("returns-cancel.request.json", |n| {
            let r: Req<wire::ReturnRequest<wire::ReturnCancel>> = sample(n);
            assert_eq!(
                r.request.r#return.external_id.as_deref(),
                Some("A123456789")
            );
        }),
        ("returns-cancel.response.json", |n| {
            let Envelope(r): Envelope<wire::ReturnCancelled> = sample(n);
            assert_eq!(r.result.status.as_deref(), Some("Return cancel requested"));
        }),
        ("returns-create.request.json", |n| {
            let r: Req<wire::ReturnRequest<wire::NewReturn>> = sample(n);
            let new = r.request.r#return;
            assert_eq!(new.service_id, Some(201));
            assert_eq!(
                new.collection_date.unwrap().time_to.as_deref(),
                Some("15:30")
            );
            assert_eq!(
                new.order.unwrap().export_date.as_deref(),
                Some("02/22/2024")
            );
            assert_eq!(
                new.products[0].reason.as_ref().unwrap().action.as_deref(),
                Some("Exchange")
            );
        }),
        ("returns-create.response.json", |n| {
            let Envelope(r): Envelope<wire::ReturnCreated> = sample(n);
            assert_eq!(r.label_content_yype.as_deref(), Some("application/pdf"));
            assert_eq!(r.secondary_barcodes.len(), 3);
        }),
        ("returns-find.request.json", |n| {
            let r: Req<wire::FilterRequest<wire::SearchFilter>> = sample(n);
            assert_eq!(
                r.request.filter.tracking_number.as_deref(),
                Some("TRC123456789")
            );
        }),
        ("returns-find.response.json", |n| {
            let Envelope(r): Envelope<wire::NestedIdList> = sample(n);
            assert_eq!(r.ids(), vec![351, 373, 409]);
        }),
        ("returns-get.request.json", |n| {
            let r: Req<wire::ReturnRequest<wire::ReturnLookup>> = sample(n);
            assert_eq!(r.request.r#return.field, "orderReference");
        }),
        ("returns-get.response.json", |n| {
            let Envelope(r): Envelope<wire::ReturnRecord> = sample(n);
            assert_eq!(r.current_tracking_status, Some(40));
        }),
        ("returns-search.request.json", |n| {
            let r: Req<wire::FilterRequest<wire::ReturnSearchFilter>> = sample(n);
            assert_eq!(r.request.filter.id_last, Some(123));
            assert_eq!(r.request.filter.status, Some(303));
        }),
        ("returns-search.response.json", |n| {
            let Envelope(r): Envelope<wire::ReturnSearchResult> = sample(n);
            assert_eq!(r.total, Some(1));
            assert_eq!(r.r#return[0].label_image, None);
        }),
        ("services-get-all.request.json", |n| {
            let r: Req<wire::ServicesRequest> = sample(n);
            assert_eq!(r.request, wire::ServicesRequest::default());
        }),
        ("services-get.request.json", |n| {
            let r: Req<wire::ServicesRequest> = sample(n);
            assert_eq!(r.request.parcel.unwrap().weight, Some(35.0));
        }),
        ("services-get.response.json", |n| {
            let Envelope(r): Envelope<wire::ServicesResult> = sample(n);
            assert_eq!(
                r.services[0].service_type.as_deref(),
                Some("home_collection")
            );
        }),
        ("tracking-add.request.json", |n| {
            let r: Req<wire::TrackingAddRequest> = sample(n);
            assert_eq!(r.request.tracking_status.status, 70);
        }),
        ("tracking-add.response.json", |n| {
            let Envelope(r): Envelope<wire::Acknowledgement> = sample(n);
            assert_eq!(r.code.as_deref(), Some("success"));
        }),
        ("tracking-added.request.json", |n| {
            let r: Req<wire::FilterRequest<wire::TrackingRangeFilter>> = sample(n);
            assert_eq!(r.request.filter.count_per_page, Some(15000));
        }),
        ("tracking-added.response.json", |n| {
            let Envelope(r): Envelope<wire::TrackingPage> = sample(n);
            assert_eq!(r.tracking_data[0].events[0].date_added, Some(1606050093));
        }),
        ("tracking-get.request.json", |n| {
            let r: Req<wire::TrackingGetRequest> = sample(n);
            assert_eq!(r.request.tracking_number.code, "TRC123456789");
        }),
        ("tracking-get.response.json", |n| {
            let Envelope(r): Envelope<wire::TrackingRecord> = sample(n);
            assert_eq!(r.events[0].status, 10);
        }),
        ("tracking-range.request.json", |n| {
            let r: Req<wire::FilterRequest<wire::TrackingRangeFilter>> = sample(n);
            assert_eq!(r.request.filter.last_id, Some(347109299));
        }),
        ("tracking-range.response.json", |n| {
            let Envelope(r): Envelope<wire::TrackingPage> = sample(n);
            assert_eq!(r.total_pages_count, Some(1));
            assert_eq!(r.total_events_count, Some(6));
        }),
        ("webhook-return-updated.request.json", |n| {
            let w: wire::ReturnUpdatedWebhook = sample(n);
            assert_eq!(w.current_tracking_status, Some(20));
            assert_eq!(w.phone.as_deref(), Some("1234567890"));
            assert_eq!(w.item[0].reason.len(), 1);
            let r = mapping::map_webhook(&w);
            assert_eq!(r.status, ReturnStatus::InTransit);
        }),
    ];
    let dir = format!(
        "{}/crates/vendors/fixtures/procarrier",
        env!("CARGO_MANIFEST_DIR")
    );
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let covered: BTreeSet<String> = checks.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_disk, covered, "every sample file has a check");
    for (name, check) in checks {
        check(name);
    }
}

/// Same JSON, numbers compared by value (`5` and `5.0` are the same number on the wire).
fn same_json(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let (kx, ky): (BTreeSet<_>, BTreeSet<_>) = (x.keys().collect(), y.keys().collect());
            assert_eq!(kx, ky, "keys at {at}");
            for (k, v) in x {
                same_json(v, &y[k], &format!("{at}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "length at {at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                same_json(v, w, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(x), Value::Number(y)) => assert_eq!(x.as_f64(), y.as_f64(), "at {at}"),
        _ => assert_eq!(a, b, "at {at}"),
    }
}

fn round_trip<T: DeserializeOwned + serde::Serialize>(name: &str) {
    let original: Value = sample(name);
    let typed: ApiRequest<T> = serde_json::from_value(original.clone()).unwrap();
    let written = serde_json::to_value(&typed).unwrap();
    same_json(&written, &original, name);
}

/// What the client sends is what the doc shows: each documented request, read into the wire
/// types and written back, comes out with the same keys, nesting and values.
#[test]
fn request_samples_are_written_back_exactly() {
    round_trip::<wire::DropOffRequest>("dropoff-points.request.json");
    round_trip::<wire::OrderRequest<wire::Order>>("orders-create.request.json");
    round_trip::<wire::OrderRequest<wire::Order>>("orders-update.request.json");
    round_trip::<wire::OrderRequest<wire::FieldValue>>("orders-get.request.json");
    round_trip::<wire::OrderRequest<wire::FieldValue>>("orders-delete.request.json");
    round_trip::<wire::FilterRequest<wire::SearchFilter>>("orders-search.request.json");
    round_trip::<wire::ServicesRequest>("services-get-all.request.json");
    round_trip::<wire::ServicesRequest>("services-get.request.json");
    round_trip::<wire::ReturnRequest<wire::NewReturn>>("returns-create.request.json");
    round_trip::<wire::FilterRequest<wire::SearchFilter>>("returns-find.request.json");
    round_trip::<wire::ReturnRequest<wire::ReturnLookup>>("returns-get.request.json");
    round_trip::<wire::FilterRequest<wire::ReturnSearchFilter>>("returns-search.request.json");
    round_trip::<wire::ReturnRequest<wire::ReturnCancel>>("returns-cancel.request.json");
    round_trip::<wire::TrackingGetRequest>("tracking-get.request.json");
    round_trip::<wire::FilterRequest<wire::TrackingRangeFilter>>("tracking-range.request.json");
    round_trip::<wire::FilterRequest<wire::TrackingRangeFilter>>("tracking-added.request.json");
    round_trip::<wire::TrackingAddRequest>("tracking-add.request.json");
}

fn answer_round_trip<T: DeserializeOwned + serde::Serialize>(name: &str) {
    let original: Value = sample(name);
    let typed: Envelope<T> = serde_json::from_value(original.clone()).unwrap();
    let written = serde_json::to_value(&typed).unwrap();
    same_json(&written, &original, name);
}

/// What the simulator answers has the doc's shape: each documented answer, read and written
/// back, is unchanged. (`orders/update`'s lower-case answer has its own type, checked below.)
#[test]
fn answer_samples_are_written_back_exactly() {
    answer_round_trip::<wire::Availability>("check-available.response.json");
    answer_round_trip::<wire::DropOffResult>("dropoff-points.response.json");
    answer_round_trip::<wire::OrderSaved>("orders-create.response.json");
    answer_round_trip::<wire::MessageResult>("orders-delete.response.json");
    answer_round_trip::<wire::Order>("orders-get.response.json");
    answer_round_trip::<wire::IdList>("orders-search.response.json");
    answer_round_trip::<wire::ReturnCancelled>("returns-cancel.response.json");
    answer_round_trip::<wire::ReturnCreated>("returns-create.response.json");
    answer_round_trip::<wire::NestedIdList>("returns-find.response.json");
    answer_round_trip::<wire::ReturnRecord>("returns-get.response.json");
    answer_round_trip::<wire::ReturnSearchResult>("returns-search.response.json");
    answer_round_trip::<wire::ServicesResult>("services-get.response.json");
    answer_round_trip::<wire::Acknowledgement>("tracking-add.response.json");
    answer_round_trip::<wire::TrackingPage>("tracking-added.response.json");
    answer_round_trip::<wire::TrackingRecord>("tracking-get.response.json");
    answer_round_trip::<wire::TrackingPage>("tracking-range.response.json");

    let lower = wire::OrderUpdatedLower {
        success: wire::OrderUpdatedLowerBody {
            message: "Order successfully updated".into(),
            order_reference: "REF123456789".into(),
            order_id: 123456,
        },
    };
    same_json(
        &serde_json::to_value(&lower).unwrap(),
        &sample("orders-update.response.json"),
        "orders-update.response.json",
    );
}

// ---------------------------------------------------------------------------------------------
// Every method against the simulator

#[tokio::test]
async fn check_available_needs_no_key() {
    let t = helpers::start().await;
    let a = client_with_key(&t, "").check_available().await.unwrap();
    assert!(a.date.unwrap() > 1_600_000_000);
}

pub fn new_return(service_id: i64, external_id: &str) -> wire::NewReturn {
    wire::NewReturn {
        address: wire::Address {
            country: Some("NL".into()),
            city: Some("Amsterdam".into()),
            zip: Some("1012 DP".into()),
            address_line1: Some("Oudezijds Achterburgwal 60h".into()),
            ..Default::default()
        },
        contact: wire::Contact {
            name: Some("  John   Smith ".into()),
            phone: Some("0612345678".into()),
            email: Some("John.Smith@Example.COM".into()),
            company: None,
        },
        service_id: Some(service_id),
        order_reference: Some("REF-NEW-1".into()),
        external_id: Some(external_id.into()),
        currency: Some("EUR".into()),
        label_format: Some("pdf".into()),
        collection_date: Some(wire::CollectionDate {
            date: "2026/11/24".into(),
            time_from: Some("10:00".into()),
            time_to: Some("15:30".into()),
        }),
        products: vec![wire::Product {
            sku: Some("SKU1".into()),
            description: Some("Black short pants".into()),
            quantity: Some(1),
            price: Some(9.99),
            reason: Some(wire::Reason {
                action: Some("Refund".into()),
                reason: Some("Wrong size".into()),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_created_return_is_found_by_get_find_search_and_cancels() {
    let t = helpers::start().await;
    let c = client(&t);
    let created = c.create_return(&new_return(201, "EXT-1")).await.unwrap();
    assert!(created.tracking_number.starts_with("PCR"));
    assert_eq!(
        created.label_content_yype.as_deref(),
        Some("application/pdf")
    );
    assert!(created
        .label_image
        .as_deref()
        .unwrap()
        .starts_with("JVBERi0"));

    let by_tracking = |value: &str| wire::ReturnLookup {
        field: "tracking".into(),
        value: value.into(),
        label_format: Some("pdf".into()),
    };
    let got = c
        .get_return(&by_tracking(&created.tracking_number))
        .await
        .unwrap();
    assert_eq!(got.order_reference.as_deref(), Some("REF-NEW-1"));
    assert!(got.label_image.is_some());
    let mapped = mapping::map_return(&got);
    assert_eq!(mapped.status, ReturnStatus::Requested);
    assert_eq!(mapped.status_raw, "10");
    let customer = mapped.customer.unwrap();
    assert_eq!(customer.email.as_deref(), Some("john.smith@example.com"));
    assert_eq!(customer.phone.as_deref(), Some("+31612345678"));
    assert_eq!(customer.name.as_deref(), Some("John Smith"));

    let by_ref = wire::ReturnLookup {
        field: "orderReference".into(),
        value: "REF-NEW-1".into(),
        label_format: None,
    };
    assert_eq!(c.get_return(&by_ref).await.unwrap().id, got.id);

    let found = c
        .find_returns(&wire::SearchFilter {
            tracking_number: Some(created.tracking_number.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.ids(), vec![got.id]);

    let search = c
        .search_returns(&wire::ReturnSearchFilter {
            order_reference: Some("REF-NEW-1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(search.total, Some(1));
    assert_eq!(search.r#return[0].id, got.id);
    assert_eq!(
        search.r#return[0].label_image, None,
        "search carries no labels"
    );

    let cancelled = c
        .cancel_return(&wire::ReturnCancel {
            external_id: Some("EXT-1".into()),
            tracking_number: None,
        })
        .await
        .unwrap();
    assert_eq!(
        cancelled.result.tracking_number.as_deref(),
        Some(created.tracking_number.as_str())
    );
    let after = c
        .get_return(&by_tracking(&created.tracking_number))
        .await
        .unwrap();
    assert_eq!(mapping::map_return(&after).status, ReturnStatus::Cancelled);
    let cancelled_now = c
        .search_returns(&wire::ReturnSearchFilter {
            current_tracking_status: Some(300),
            order_reference: Some("REF-NEW-1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(cancelled_now.total, Some(1));

    // Unknown service → the vendor's requestWrong.
    let err = c
        .create_return(&new_return(999, "EXT-2"))
        .await
        .unwrap_err();
    assert_eq!(api_kind(&err).0, ApiErrorKind::BadRequest);
}

#[tokio::test]
async fn world_returns_are_served_with_their_tracking() {
    let t = helpers::start().await;
    let w = world(&t);
    let c = client(&t);
    let r = w
        .returns
        .iter()
        .find(|r| r.channel == ReturnChannel::ProCarrier)
        .unwrap();
    let parcel = &w.parcels[r.parcel];
    let order = w.order_of(r);
    let got = c
        .get_return(&wire::ReturnLookup {
            field: "id".into(),
            value: r.id.to_string(),
            label_format: None,
        })
        .await
        .unwrap();
    assert_eq!(
        got.order_reference.as_deref(),
        Some(order.reference.as_str())
    );
    assert_eq!(
        got.tracking_number.as_deref(),
        Some(parcel.tracking_number.as_str())
    );
    assert_eq!(got.email, Some(w.person_of(order).email.to_lowercase()));

    let tracking = c.get_tracking(&parcel.tracking_number).await.unwrap();
    assert_eq!(tracking.events.len(), parcel.events.len());
    assert_eq!(
        tracking.order_reference.as_deref(),
        Some(order.reference.as_str())
    );
    let shipment = mapping::map_tracking(&tracking);
    assert_eq!(shipment.events.len(), parcel.events.len());
    assert_eq!(
        shipment.events[0].at, parcel.events[0].at,
        "Dt is the event time in unix seconds"
    );
}

#[tokio::test]
async fn an_added_tracking_event_shows_and_moves_the_status() {
    added_tracking_event_shows_and_moves_the_status(&helpers::start().await).await;
}

/// Also run at other dates (`dates.rs`): the event comes an hour after the return was created
/// on the simulator's clock.
pub async fn added_tracking_event_shows_and_moves_the_status(t: &TestSims) {
    let c = client(t);
    let filter_date =
        |offset: chrono::Duration| t.now_plus(offset).format("%Y/%m/%d %H:%M:%S").to_string();
    let (event_at, added_at) = (chrono::Duration::hours(1), chrono::Duration::minutes(67));
    let created = c.create_return(&new_return(201, "EXT-T")).await.unwrap();
    let ack = c
        .add_tracking(&wire::NewTrackingStatus {
            tracking_number: created.tracking_number.clone(),
            date: filter_date(event_at),
            status: 20,
            date_added: Some(filter_date(added_at)),
            description: Some("Picked up".into()),
            carrier_status: Some("PU".into()),
            location: Some(wire::EventLocation {
                country: Some("NL".into()),
                state: None,
                city: Some("Amsterdam".into()),
            }),
        })
        .await
        .unwrap();
    assert_eq!(ack.code.as_deref(), Some("success"));
    assert_eq!(ack.message, vec!["Return REF-NEW-1 updated successfully"]);

    let tracking = c.get_tracking(&created.tracking_number).await.unwrap();
    assert_eq!(tracking.events.len(), 2);
    let shipment = mapping::map_tracking(&tracking);
    assert_eq!(shipment.status, TrackingStatus::InTransit);
    assert_eq!(shipment.status_raw, "20");
    let got = c
        .get_return(&wire::ReturnLookup {
            field: "tracking".into(),
            value: created.tracking_number.clone(),
            label_format: None,
        })
        .await
        .unwrap();
    assert_eq!(got.current_tracking_status, Some(20));

    // tracking/added by the date the event was added.
    let added = c
        .tracking_added_all(&wire::TrackingRangeFilter {
            date_from: Some(filter_date(added_at - chrono::Duration::minutes(1))),
            date_to: Some(filter_date(added_at + chrono::Duration::minutes(1))),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].events.len(), 1);
    assert_eq!(added[0].events[0].status, 20);
    assert!(added[0].events[0].date_added.is_some());

    let err = c
        .add_tracking(&wire::NewTrackingStatus {
            tracking_number: "NOPE".into(),
            date: filter_date(event_at),
            status: 20,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(api_kind(&err).0, ApiErrorKind::BadRequest);
}

#[tokio::test]
async fn orders_are_created_read_updated_searched_and_deleted() {
    let t = helpers::start().await;
    let c = client(&t);
    let order = wire::Order {
        order_reference: Some("REF-O-1".into()),
        order_date: Some("11/22/2026".into()),
        currency: Some("EUR".into()),
        free_return: Some(false),
        export_mrn: Some("MRN1".into()),
        tracking_number: Some("32153454NL".into()),
        products: vec![wire::Product {
            sku: Some("SKU1".into()),
            quantity: Some(2),
            price: Some(9.99),
            ..Default::default()
        }],
        contact: wire::Contact {
            name: Some("John Smith".into()),
            email: Some("john@example.com".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let saved = c.create_order(&order).await.unwrap();
    let id = saved.order_id.unwrap();
    assert_eq!(saved.order_reference.as_deref(), Some("REF-O-1"));

    let got = c.get_order("reference", "REF-O-1").await.unwrap();
    assert_eq!(got.export_mrn.as_deref(), Some("MRN1"));
    let mapped = mapping::map_order(&got).unwrap();
    assert_eq!(mapped.total.unwrap().amount.to_string(), "19.98");

    let updated = c
        .update_order(&wire::Order {
            id: Some(id),
            currency: Some("USD".into()),
            export_mrn: Some("MRN2".into()),
            ..order.clone()
        })
        .await
        .unwrap();
    assert_eq!(updated.order_id, Some(id), "lower-case answer is read");
    let got = c.get_order("reference", "REF-O-1").await.unwrap();
    assert_eq!(got.currency.as_deref(), Some("USD"));
    assert_eq!(got.export_mrn.as_deref(), Some("MRN2"), "sent as IxportMRN");

    let ids = c
        .search_orders(&wire::SearchFilter {
            date_from: Some("2026/11/22 00:00:00".into()),
            date_to: Some("2026/11/22 23:59:59".into()),
            full_text_search: Some("REF-O-1 TRC0".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ids.id, vec![id]);

    // World orders of ProCarrier returns are there too.
    let w = world(&t);
    let r = w
        .returns
        .iter()
        .find(|r| r.channel == ReturnChannel::ProCarrier)
        .unwrap();
    let world_order = c
        .get_order("reference", &w.order_of(r).reference)
        .await
        .unwrap();
    assert_eq!(world_order.products.len(), w.order_of(r).lines.len());

    let deleted = c.delete_order("reference", "REF-O-1").await.unwrap();
    assert_eq!(
        deleted.message.as_deref(),
        Some("Order successfully deleted")
    );
    let err = c.get_order("reference", "REF-O-1").await.unwrap_err();
    assert_eq!(api_kind(&err).0, ApiErrorKind::BadRequest);
}

#[tokio::test]
async fn services_are_listed_all_or_by_country() {
    let t = helpers::start().await;
    let c = client(&t);
    let w = world(&t);
    let all = c
        .get_services(&wire::ServicesRequest::default())
        .await
        .unwrap();
    assert_eq!(all.services.len(), w.services.len());
    let gr = c
        .get_services(&wire::ServicesRequest {
            service: Some(wire::Address {
                country: Some("GR".into()),
                ..Default::default()
            }),
            parcel: Some(wire::Parcel { weight: Some(2.0) }),
        })
        .await
        .unwrap();
    let ids: BTreeSet<i64> = gr.services.iter().map(|s| s.service_id).collect();
    assert_eq!(ids, BTreeSet::from([101, 102, 301]));
    let mapped = mapping::map_service(&gr.services[0]);
    assert!(mapped.kind.is_some());
}

#[tokio::test]
async fn dropoff_points_are_filtered_by_service_and_radius_nearest_first() {
    let t = helpers::start().await;
    let c = client(&t);
    let filter = wire::DropOffFilter {
        services: vec![201],
        address: Some(wire::Address {
            country: Some("NL".into()),
            ..Default::default()
        }),
        coordinates: Some(wire::Coordinates {
            lat: "52.372987".into(),
            lng: 4.894087,
        }),
        radius: Some(10.0),
    };
    let answer = c.dropoff_points(&filter).await.unwrap();
    let points = mapping::map_dropoff_points(&answer);
    assert!(!points.is_empty());
    assert!(points
        .iter()
        .all(|p| p.service_id.as_deref() == Some("201")));
    // Great-circle distance from the centre, in km.
    let distance = |p: &vendors::model::DropOffPoint| {
        let (lat1, lat2) = (52.372987f64.to_radians(), p.lat.to_radians());
        let dlat = lat2 - lat1;
        let dlng = (p.lng - 4.894087f64).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
        6371.0 * 2.0 * a.sqrt().asin()
    };
    assert!(points.iter().all(|p| distance(p) <= 10.0));
    assert!(points
        .windows(2)
        .all(|w| distance(&w[0]) <= distance(&w[1])));
    for p in &points {
        assert_eq!(p.opening_hours.len(), 7);
        assert!(p.opening_hours[6].ranges.is_empty(), "closed on Sunday");
        assert_eq!(p.opening_hours[0].ranges.len(), 2);
    }
    // Far away: nothing within 1 km of the North Sea.
    let none = c
        .dropoff_points(&wire::DropOffFilter {
            coordinates: Some(wire::Coordinates {
                lat: "54.0".into(),
                lng: 3.0,
            }),
            radius: Some(1.0),
            ..filter
        })
        .await
        .unwrap();
    assert!(none.carriers.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Pagination

#[tokio::test]
async fn tracking_range_reads_every_page_once() {
    let t = helpers::start().await;
    let w = world(&t);
    let expected: BTreeSet<u64> = w
        .returns
        .iter()
        .filter(|r| r.channel == ReturnChannel::ProCarrier)
        .flat_map(|r| w.parcels[r.parcel].events.iter().map(|e| e.id))
        .collect();
    let per_page = 40;
    let pages = expected.len().div_ceil(per_page);
    assert!(
        pages > 3,
        "{} events is not more than three pages",
        expected.len()
    );

    let c = client(&t);
    t.sims.procarrier.control.reset_stats();
    let date =
        |offset: chrono::Duration| t.now_plus(offset).format("%Y/%m/%d %H:%M:%S").to_string();
    let the_year = wire::TrackingRangeFilter {
        date_from: Some(date(-chrono::Duration::days(365))),
        date_to: Some(date(chrono::Duration::zero())),
        ..Default::default()
    };
    let records = c
        .tracking_range_all(&wire::TrackingRangeFilter {
            count_per_page: Some(per_page as i64),
            ..the_year.clone()
        })
        .await
        .unwrap();
    let ids: Vec<u64> = records
        .iter()
        .flat_map(|r| r.events.iter().filter_map(|e| e.id))
        .map(|id| id as u64)
        .collect();
    assert_eq!(ids.len(), expected.len(), "no event twice");
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), expected);
    let numbers: BTreeSet<&str> = records.iter().map(|r| r.tracking_number.as_str()).collect();
    assert_eq!(numbers.len(), records.len(), "one record per parcel");
    assert_eq!(
        t.sims
            .procarrier
            .control
            .stats()
            .get("POST /api/tracking/range/json"),
        Some(&(pages as u64))
    );

    // A page past the end is empty, and CountPerPage is capped at the vendor's 20000.
    let page = c
        .tracking_range(&wire::TrackingRangeFilter {
            count_per_page: Some(50_000),
            ..the_year.clone()
        })
        .await
        .unwrap();
    assert_eq!(page.count_per_page, Some(20_000));
    assert_eq!(page.total_pages_count, Some(1));

    // As the doc's examples, a range needs both of its ends.
    for (from, to) in [
        (the_year.date_from.clone(), None),
        (None, the_year.date_to.clone()),
    ] {
        let err = c
            .tracking_range(&wire::TrackingRangeFilter {
                date_from: from,
                date_to: to,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(api_kind(&err).0, ApiErrorKind::BadRequest);
    }
}

#[tokio::test]
async fn returns_search_walks_id_last_pages() {
    let t = helpers::start_with(|s| s.sim.returns = 2500).await;
    let w = world(&t);
    let expected: BTreeSet<i64> = w
        .returns
        .iter()
        .filter(|r| r.channel == ReturnChannel::ProCarrier)
        .map(|r| r.id as i64)
        .collect();
    assert!(expected.len() > wire::RETURNS_SEARCH_LIMIT);
    let c = client(&t);
    let first = c
        .search_returns(&wire::ReturnSearchFilter::default())
        .await
        .unwrap();
    assert_eq!(
        first.r#return.len(),
        wire::RETURNS_SEARCH_LIMIT,
        "capped at 1000"
    );
    assert_eq!(first.total, Some(expected.len() as i64));

    t.sims.procarrier.control.reset_stats();
    let all = c
        .search_all_returns(&wire::ReturnSearchFilter::default())
        .await
        .unwrap();
    let ids: Vec<i64> = all.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), expected.len(), "no return twice");
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), expected);
    assert_eq!(
        t.sims
            .procarrier
            .control
            .stats()
            .get("POST /api/returns/search/json"),
        Some(&(expected.len().div_ceil(wire::RETURNS_SEARCH_LIMIT) as u64))
    );
}

// ---------------------------------------------------------------------------------------------
// The vendor's eight error codes

#[tokio::test]
async fn a_missing_key_is_api_key_empty() {
    let t = helpers::start().await;
    let err = client_with_key(&t, "")
        .get_tracking("TRC1")
        .await
        .unwrap_err();
    assert_eq!(
        api_kind(&err),
        (ApiErrorKind::AuthFailed, "apiKeyEmpty".into())
    );
    assert_eq!(err.code(), ErrorCode::VendorAuthFailed);
    assert!(!err.retryable());
}

#[tokio::test]
async fn a_wrong_key_is_access_denied_and_repeating_it_blocks_the_ip() {
    let t = helpers::start().await;
    for _ in 0..WRONG_KEYS_BEFORE_BLOCK {
        // A client per call: each holds its calls once its key is refused (the refusal latch).
        let wrong = client_with_key(&t, "not-the-key");
        let err = wrong.get_services(&Default::default()).await.unwrap_err();
        assert_eq!(
            api_kind(&err),
            (ApiErrorKind::AccessDenied, "accessDenied".into())
        );
        assert_eq!(err.code(), ErrorCode::VendorAccessDenied);
        assert!(!err.retryable());
    }
    // Blocked now, even with the right key.
    let err = client(&t)
        .get_services(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(
        api_kind(&err),
        (ApiErrorKind::IpBlocked, "ipBlocked".into())
    );
    assert_eq!(err.code(), ErrorCode::VendorIpBlocked);
    assert!(!err.retryable());
    // check/available takes no key and is never blocked.
    assert!(client(&t).check_available().await.is_ok());
}

#[tokio::test]
async fn request_errors_carry_their_codes() {
    let t = helpers::start().await;
    let c = client(&t);
    let cases = [
        (
            "returns/get",
            Value::Null,
            "requestEmpty",
            ApiErrorKind::BadRequest,
        ),
        (
            "returns/get",
            json!(""),
            "requestEmpty",
            ApiErrorKind::BadRequest,
        ),
        (
            "returns/get",
            json!("{not json"),
            "jsonInvalid",
            ApiErrorKind::BadRequest,
        ),
        (
            "returns/get",
            json!({"Return": 5}),
            "requestWrong",
            ApiErrorKind::BadRequest,
        ),
        (
            "returns/explode",
            json!({}),
            "unknownCall",
            ApiErrorKind::UnknownCall,
        ),
        (
            "tracking/get",
            json!({"TrackingNumber": {"Code": INTERNAL_ERROR_TRIGGER}}),
            "internal",
            ApiErrorKind::Internal,
        ),
    ];
    for (method, request, code, kind) in cases {
        let err = c.call_raw(method, request.clone()).await.unwrap_err();
        assert_eq!(
            api_kind(&err),
            (kind, code.to_owned()),
            "{method} {request}"
        );
    }
    let err = c.call_raw("returns/explode", json!({})).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::VendorUnknownCall);
    let err = c.get_tracking(INTERNAL_ERROR_TRIGGER).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::VendorInternalError);
    assert!(err.retryable());
    let err = c.get_order("colour", "blue").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::VendorBadRequest);
    let err = c
        .get_return(&wire::ReturnLookup {
            field: "colour".into(),
            value: "blue".into(),
            label_format: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        api_kind(&err),
        (ApiErrorKind::BadRequest, "requestWrong".into())
    );
}

#[tokio::test]
async fn the_php_example_body_is_accepted_as_sent() {
    let t = helpers::start().await;
    let url = format!(
        "{}/orders/create/json",
        t.settings.vendors.procarrier.base_url
    );
    let mut body: Value = serde_json::from_str(&helpers::fixture(
        "procarrier/orders-create-php-example.request.json",
    ))
    .unwrap();
    body["ApiKey"] = json!("procarrier-demo-key");
    // JSON under the form content type, `Request` a JSON string — as the PHP example posts it.
    let answer: Value = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["Success"]["OrderReference"], "REF10000000001");
    // And a real form body.
    let answer: Value = reqwest::Client::new()
        .post(&url)
        .form(&[
            ("ApiKey", "procarrier-demo-key"),
            ("Request", r#"{"Order":{"OrderReference":"REF-FORM"}}"#),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["Success"]["OrderReference"], "REF-FORM");
}

// ---------------------------------------------------------------------------------------------
// Transport failures

#[tokio::test]
async fn a_hanging_vendor_is_a_timeout() {
    let mut t = helpers::start().await;
    t.settings.vendors.procarrier.timeout_ms = 300;
    t.set_faults(&t.sims.procarrier, helpers::hang());
    let err = client(&t).get_tracking("TRC1").await.unwrap_err();
    assert!(matches!(err, VendorError::Timeout { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorTimeout);
}

#[tokio::test]
async fn a_refused_connection_is_unreachable() {
    let mut t = helpers::start().await;
    t.settings.vendors.procarrier.base_url = format!("{}/api", helpers::refused_url());
    let err = client(&t).check_available().await.unwrap_err();
    assert!(matches!(err, VendorError::Unreachable { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorUnreachable);
}

#[tokio::test]
async fn a_cut_body_is_malformed() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.procarrier, helpers::malformed());
    let err = client(&t).get_tracking("TRC1").await.unwrap_err();
    assert!(matches!(err, VendorError::Malformed { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorMalformedResponse);
}

#[tokio::test]
async fn a_429_is_rate_limited_with_retry_after() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.procarrier, helpers::rate_limited(7));
    let err = client(&t)
        .search_returns(&Default::default())
        .await
        .unwrap_err();
    match &err {
        VendorError::RateLimited { retry_after, .. } => {
            assert_eq!(*retry_after, Some(std::time::Duration::from_secs(7)))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), ErrorCode::VendorRateLimited);
}

#[tokio::test]
async fn a_success_body_without_the_envelope_is_malformed() {
    // HTTP 200 with neither `Success` nor `Error`: not the documented answer.
    let t = helpers::start().await;
    let c = client(&t);
    let raw = vendors::RawResponse {
        status: reqwest::StatusCode::OK,
        headers: Default::default(),
        body: bytes::Bytes::from_static(br#"{"Date": 1}"#),
    };
    let err = c
        .transport()
        .decode::<Envelope<wire::Availability>>(
            "check/available",
            &raw,
            vendors::procarrier::client::api_error,
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::VendorMalformedResponse);
    // The documented error envelope on HTTP 200, decoded the same way.
    let raw = vendors::RawResponse {
        body: bytes::Bytes::from_static(
            br#"{"Error":{"Code":"internal","Message":["Internal server error."]}}"#,
        ),
        ..raw
    };
    let err = c
        .transport()
        .decode::<Envelope<wire::Availability>>(
            "check/available",
            &raw,
            vendors::procarrier::client::api_error,
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::VendorInternalError);
}
