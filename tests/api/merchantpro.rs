//! MerchantPro Orders API v2: the doc's samples, the client against the simulator over HTTP,
//! the vendor's errors and the transport's failures.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use simulators::merchantpro::{seed_orders, ErrorShape};
use simulators::world::World;
use vendors::merchantpro::client::{api_error, PAGE_LIMIT};
use vendors::merchantpro::wire::{
    Ack, NewOrder, Order, OrderList, OrderUpdate, PaymentStatus, ShippingStatus, Sort, Transition,
};
use vendors::merchantpro::{mapping, Client, OrderFilter};
use vendors::model::{self, PaymentStatus as ModelPayment, TrackingStatus};
use vendors::ErrorCode;
use vendors::{ApiErrorKind, VendorError};

use crate::helpers::{self, TestSims};

const LIST_ROUTE: &str = "GET /api/v2/orders";

fn client(t: &TestSims) -> Client {
    Client::new(&t.settings.vendors.merchantpro).expect("client")
}

fn world(t: &TestSims) -> World {
    World::clone(&t.sims.world)
}

fn api_kind(e: &VendorError) -> Option<ApiErrorKind> {
    e.api_error().map(|a| a.kind)
}

/// Deserialises a sample, checks that writing it back and reading it again gives the same
/// value (the simulator writes with these types), and returns it.
fn sample<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(name: &str) -> T {
    let text = helpers::fixture(&format!("merchantpro/{name}"));
    let value: T =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} does not deserialise: {e}"));
    let again: T = serde_json::from_str(&serde_json::to_string(&value).unwrap()).unwrap();
    assert_eq!(again, value, "{name} round trip");
    value
}

/// A sample file's name and what must hold of it.
type SampleCheck = fn(&str);

#[test]
fn every_sample_body_deserialises_into_the_wire_types() {
    let checks: &[(&str, SampleCheck)] = &[
        ("orders-create.request.json", |n| {
            let o: NewOrder = sample(n);
            assert_eq!(o.line_items.len(), 2);
            assert_eq!(o.customer_id.map(|i| i.0), Some(17));
        }),
        ("orders-create.response.json", |n| {
            let o: Order = sample(n);
            assert_eq!(o.id.0, 69291306);
            let lines = o.line_items.unwrap();
            assert!(lines.iter().all(|l| l.item_type.is_none()), "no item_type");
            assert_eq!(o.total_amount.unwrap().to_string(), "178");
        }),
        ("orders-delete.response.json", |n| {
            assert!(sample::<Ack>(n).ok);
        }),
        ("orders-get-fields.response.json", |n| {
            // Shown under GET /orders/{id}, but a list envelope.
            let l: OrderList = sample(n);
            assert_eq!(l.data.len(), 7);
            assert_eq!(l.meta.count.limit.0, 20);
        }),
        ("orders-get.response.json", |n| {
            let o: Order = sample(n);
            assert_eq!(o.parent_id.map(|i| i.0), Some(39787708));
            assert_eq!(o.invoice.unwrap().number.as_deref(), Some("0000010"));
        }),
        ("orders-list-filter-shipping-status.response.json", |n| {
            let l: OrderList = sample(n);
            assert_eq!(l.data[0].total_amount.unwrap().to_string(), "30.23");
            assert_eq!(l.meta.count.total.0, 1);
        }),
        ("orders-list-ids-fields.response.json", |n| {
            let l: OrderList = sample(n);
            assert_eq!(l.data.len(), 3);
            assert_eq!(l.data[2].payment_status.as_deref(), Some("cancelled"));
        }),
        ("orders-list-include-line-items.response.json", |n| {
            let l: OrderList = sample(n);
            assert_eq!(l.data[0].customer_ip_country.as_deref(), Some("ro"));
            assert_eq!(l.data[0].line_items.as_ref().unwrap().len(), 1);
        }),
        ("orders-status-cancelled.response.json", |n| {
            assert!(sample::<Ack>(n).ok)
        }),
        ("orders-status-create-invoice.response.json", |n| {
            assert!(sample::<Ack>(n).ok)
        }),
        ("orders-status-delivered.response.json", |n| {
            assert!(sample::<Ack>(n).ok)
        }),
        ("orders-status-in-process.response.json", |n| {
            assert!(sample::<Ack>(n).ok)
        }),
        ("orders-status-returned.response.json", |n| {
            assert!(sample::<Ack>(n).ok)
        }),
        ("orders-status-shipped.response.json", |n| {
            assert!(sample::<Ack>(n).ok)
        }),
        ("orders-update-curl.request.json", |n| {
            let u: OrderUpdate = sample(n);
            assert_eq!(u.shipping_method_id.map(|i| i.0), Some(101));
        }),
        ("orders-update.request.json", |n| {
            let u: OrderUpdate = sample(n);
            assert_eq!(
                u.tags.unwrap()[0].name.as_deref(),
                Some("Feedback excelent")
            );
        }),
        ("orders-update.response.json", |n| {
            let o: Order = sample(n);
            assert_eq!(o.customer_notification.as_deref(), Some(""));
            assert_eq!(o.tags.unwrap()[0].id.map(|i| i.0), Some(1));
        }),
    ];
    let dir = format!(
        "{}/crates/vendors/fixtures/merchantpro",
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

#[test]
fn numbers_as_strings_are_read() {
    let o: Order = serde_json::from_value(serde_json::json!({
        "id": "12345001", "customer_id": "14", "shipping_method_id": "3",
        "total_amount": "30.23", "shipping_amount": 15, "tags": null, "invoice": null
    }))
    .unwrap();
    assert_eq!(o.id.0, 12345001);
    assert_eq!(o.customer_id.unwrap().0, 14);
    assert_eq!(o.total_amount.unwrap().to_string(), "30.23");
    assert_eq!(serde_json::to_value(o.shipping_amount).unwrap(), 15);
}

#[tokio::test]
async fn listing_reads_every_page_once_and_every_order_exactly_once() {
    let t = helpers::start_with(|s| s.sim.returns = 200).await;
    let expected: Vec<u64> = seed_orders(&world(&t)).iter().map(|o| o.id.0).collect();
    assert!(
        expected.len() > 3 * PAGE_LIMIT as usize,
        "{}",
        expected.len()
    );
    let control = &t.sims.merchantpro.control;
    control.reset_stats();

    let orders = client(&t).list_all(&OrderFilter::default()).await.unwrap();

    let got: Vec<u64> = orders.iter().map(|o| o.id.0).collect();
    let unique: BTreeSet<u64> = got.iter().copied().collect();
    assert_eq!(got.len(), unique.len(), "no order twice");
    assert_eq!(unique, expected.iter().copied().collect::<BTreeSet<_>>());
    let pages = expected.len().div_ceil(PAGE_LIMIT as usize) as u64;
    assert_eq!(control.stats().get(LIST_ROUTE), Some(&pages));
    assert!(
        orders.iter().all(|o| o.line_items.is_none()),
        "lines only when included"
    );
}

#[tokio::test]
async fn get_many_batches_ids_by_the_page_limit() {
    let t = helpers::start().await;
    let all: Vec<u64> = seed_orders(&world(&t)).iter().map(|o| o.id.0).collect();
    let mut ids: Vec<u64> = all.iter().copied().take(250).collect();
    ids.push(ids[0]); // a duplicate key is asked once
    ids.push(99_999_999); // an unknown one is just absent
    let control = &t.sims.merchantpro.control;
    control.reset_stats();

    let orders = client(&t).get_many(&ids).await.unwrap();

    assert_eq!(orders.len(), 250);
    let got: BTreeSet<u64> = orders.iter().map(|o| o.id.0).collect();
    assert_eq!(got, all.iter().copied().take(250).collect());
    assert!(orders
        .iter()
        .all(|o| o.line_items.as_ref().is_some_and(|l| !l.is_empty())));
    assert_eq!(control.stats().get(LIST_ROUTE), Some(&3));
}

#[tokio::test]
async fn filters_fields_include_and_sort_behave_as_documented() {
    let t = helpers::start().await;
    let c = client(&t);
    let w = world(&t);
    let all = seed_orders(&w);

    let delivered = c
        .list_all(&OrderFilter {
            shipping_status: Some(ShippingStatus::Delivered),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    let want = all
        .iter()
        .filter(|o| o.shipping_status.as_deref() == Some("delivered"))
        .count();
    assert!(want > 0);
    assert_eq!(delivered.len(), want);

    let paid_paypal = c
        .list_all(&OrderFilter {
            payment_status: Some(PaymentStatus::Paid),
            payment_method_code: Some("paypal".into()),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert!(!paid_paypal.is_empty());
    assert!(paid_paypal
        .iter()
        .all(|o| o.payment_status.as_deref() == Some("paid")
            && o.payment_method_code.as_deref() == Some("paypal")));

    // One customer's orders, by e-mail written differently, and by id.
    let person = &w.people[w.orders[0].customer];
    let by_email = c
        .list_all(&OrderFilter {
            customer_email: Some(person.email.to_uppercase()),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert!(by_email.iter().any(|o| o.id.0 == w.orders[0].id));
    let by_customer = c
        .list_all(&OrderFilter {
            customer_id: Some(w.orders[0].customer as u64 + 1),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_customer.iter().map(|o| o.id).collect::<Vec<_>>(),
        by_email.iter().map(|o| o.id).collect::<Vec<_>>()
    );

    // A tracking number finds its order.
    let awb = w.parcels[w.orders[5].parcel].tracking_number.clone();
    let by_awb = c
        .list_all(&OrderFilter {
            shipping_awb: Some(awb),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_awb.len(), 1);
    assert_eq!(by_awb[0].id.0, w.orders[5].id);

    // Tags by name and by id.
    let rma = c
        .list_all(&OrderFilter {
            tag_name: Some("rma".into()),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert!(!rma.is_empty());
    assert!(rma.iter().all(|o| o.return_source_id.is_some()));
    let rma_by_id = c
        .list_all(&OrderFilter {
            tag_ids: vec![3, 12345],
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(rma_by_id.len(), rma.len());

    // A date window, newest first, only some fields.
    let after = w.orders[0].created_at - chrono::Duration::days(10);
    let before = w.orders[0].created_at + chrono::Duration::days(10);
    let window = c
        .list_all(&OrderFilter {
            created_after: Some(after),
            created_before: Some(before),
            sort: Some(Sort::DateCreatedDesc),
            fields: vec!["date_created".into(), "total_amount".into()],
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert!(window.iter().any(|o| o.id.0 == w.orders[0].id));
    let dates: Vec<chrono::DateTime<chrono::FixedOffset>> = window
        .iter()
        .map(|o| chrono::DateTime::parse_from_rfc3339(o.date_created.as_deref().unwrap()).unwrap())
        .collect();
    assert!(dates.windows(2).all(|d| d[0] >= d[1]), "newest first");
    assert!(dates.iter().all(|d| *d >= after && *d < before));
    assert!(window.iter().all(|o| o.total_amount.is_some()
        && o.payment_status.is_none()
        && o.customer_email.is_none()));

    // include=line_items on one page.
    let page = c
        .list(
            &OrderFilter {
                ids: vec![w.orders[0].id, w.orders[1].id],
                include_line_items: true,
                ..OrderFilter::default()
            },
            0,
            PAGE_LIMIT,
        )
        .await
        .unwrap();
    assert_eq!(page.meta.count.total.0, 2);
    assert!(page.data.iter().all(|o| o.line_items.is_some()));
    assert_eq!(page.meta.links.next, None);
}

#[tokio::test]
async fn a_limit_above_100_is_served_as_100() {
    let t = helpers::start().await;
    let mp = &t.settings.vendors.merchantpro;
    let answer: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v2/orders?limit=500&start=100", mp.base_url))
        .basic_auth(&mp.username, Some(mp.password.expose()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list: OrderList = serde_json::from_value(answer).unwrap();
    assert_eq!(list.data.len(), 100);
    assert_eq!(list.meta.count.limit.0, 100);
    assert_eq!(list.meta.count.start.0, 100);
    assert_eq!(
        list.meta.links.next.as_deref(),
        Some("/api/v2/orders?start=200&limit=100")
    );
    assert_eq!(
        list.meta.links.prev.as_deref(),
        Some("/api/v2/orders?start=0&limit=100")
    );
}

#[tokio::test]
async fn get_reads_one_order_all_fields_or_some() {
    let t = helpers::start().await;
    let c = client(&t);
    let w = world(&t);
    let id = w.orders[3].id;

    let full = c.get(id, &[]).await.unwrap();
    assert_eq!(full.id.0, id);
    assert_eq!(
        full.channel_ref_id.as_deref(),
        Some(w.orders[3].reference.as_str())
    );
    assert_eq!(
        full.line_items.as_ref().unwrap().len(),
        w.orders[3].lines.len()
    );

    let some = c
        .get(id, &["total_amount", "shipping_status"])
        .await
        .unwrap();
    assert_eq!(some.id.0, id);
    assert_eq!(some.total_amount, full.total_amount);
    assert_eq!(some.shipping_status, full.shipping_status);
    assert!(some.customer_email.is_none() && some.line_items.is_none());

    let mapped = mapping::order(&full);
    assert_eq!(
        mapped.reference.as_deref(),
        Some(w.orders[3].reference.as_str())
    );
    assert_eq!(
        mapped.total.unwrap().amount,
        rust_decimal::Decimal::new(w.orders[3].total_cents(), 2)
    );
}

#[tokio::test]
async fn the_worlds_customers_and_returns_map_into_the_model() {
    let t = helpers::start().await;
    let w = world(&t);
    let orders = client(&t).list_all(&OrderFilter::default()).await.unwrap();
    let by_id: BTreeMap<String, model::Order> = orders
        .iter()
        .map(|o| (o.id.to_string(), mapping::order(o)))
        .collect();
    for wo in &w.orders {
        let m = &by_id[&wo.id.to_string()];
        let person = w.person_of(wo);
        let customer = m.customer.as_ref().unwrap();
        assert_eq!(
            customer.email.as_deref(),
            Some(person.email.as_str()),
            "{}",
            wo.id
        );
        assert_eq!(
            customer.phone.as_deref(),
            Some(person.phone.as_str()),
            "{}",
            wo.id
        );
        assert_eq!(
            m.tracking_number.as_deref(),
            Some(w.parcels[wo.parcel].tracking_number.as_str())
        );
        assert_eq!(m.created_at, Some(wo.created_at));
    }
    let rmas: Vec<&model::Order> = by_id
        .values()
        .filter(|o| o.return_source_id.is_some())
        .collect();
    assert!(!rmas.is_empty());
    for rma in rmas {
        let source = &by_id[rma.return_source_id.as_ref().unwrap()];
        assert!(source.rma_order_ids.contains(&rma.id));
        assert_eq!(rma.shipping_status, TrackingStatus::ReturnToSender);
    }
}

#[tokio::test]
async fn writes_are_visible_in_the_following_reads() {
    let t = helpers::start().await;
    let c = client(&t);
    let new: NewOrder =
        serde_json::from_str(&helpers::fixture("merchantpro/orders-create.request.json")).unwrap();

    let created = c.create(&new).await.unwrap();
    let id = created.id.0;
    assert_eq!(created.total_amount.unwrap().to_string(), "178");
    assert!(created
        .line_items
        .as_ref()
        .unwrap()
        .iter()
        .all(|l| l.item_type.is_none()));
    let listed = c
        .list_all(&OrderFilter {
            customer_email: Some("sdsdsdsdsdsdsd@example.com".into()),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|o| o.id.0).collect::<Vec<_>>(), vec![id]);

    let change: OrderUpdate =
        serde_json::from_str(&helpers::fixture("merchantpro/orders-update.request.json")).unwrap();
    let updated = c.update(id, &change).await.unwrap();
    assert_eq!(updated.shipping_method_id.map(|i| i.0), Some(101));
    assert_eq!(updated.total_amount.unwrap().to_string(), "193");
    let tag = &updated.tags.as_ref().unwrap()[0];
    assert_eq!(tag.name.as_deref(), Some("Feedback excelent"));
    let tagged = c
        .list_all(&OrderFilter {
            tag_name: Some("Feedback excelent".into()),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(tagged.len(), 1);
    assert_eq!(
        c.get(id, &[]).await.unwrap().shipping_amount,
        updated.shipping_amount
    );

    for (step, status) in [
        (Transition::InProcess, "in_process"),
        (Transition::Shipped, "shipped"),
        (Transition::Delivered, "delivered"),
        (Transition::Returned, "returned"),
    ] {
        assert!(c.transition(id, step).await.unwrap().ok, "{step:?}");
        let now = c.get(id, &["shipping_status"]).await.unwrap();
        assert_eq!(now.shipping_status.as_deref(), Some(status));
    }
    let returned = c
        .list_all(&OrderFilter {
            ids: vec![id],
            shipping_status: Some(ShippingStatus::Returned),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(returned.len(), 1);

    assert!(c.create_invoice(id).await.unwrap().ok);
    assert!(c.get(id, &[]).await.unwrap().invoice.is_some());
    let twice = c.create_invoice(id).await.unwrap_err();
    assert_eq!(api_kind(&twice), Some(ApiErrorKind::AlreadyExists));
    assert_eq!(twice.code(), ErrorCode::VendorAlreadyExists);

    assert!(c.delete(id).await.unwrap().ok);
    let gone = c.get(id, &[]).await.unwrap_err();
    assert_eq!(api_kind(&gone), Some(ApiErrorKind::NotFound));
    assert_eq!(gone.code(), ErrorCode::VendorNotFound);
    assert_eq!(gone.api_error().unwrap().vendor_code, "404");
    let listed = c
        .list_all(&OrderFilter {
            ids: vec![id],
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert!(listed.is_empty());
    let again = c.delete(id).await.unwrap_err();
    assert_eq!(again.code(), ErrorCode::VendorNotFound);
}

#[tokio::test]
async fn every_transition_method_reaches_its_route() {
    let t = helpers::start().await;
    let c = client(&t);
    let w = world(&t);
    let awaiting: Vec<u64> = w
        .orders
        .iter()
        .filter(|o| o.shipping_status == "awaiting")
        .map(|o| o.id)
        .collect();
    let (a, b) = (awaiting[0], awaiting[1]);
    t.sims.merchantpro.control.reset_stats();

    assert!(c.mark_in_process(a).await.unwrap().ok);
    assert!(c.mark_shipped(a).await.unwrap().ok);
    assert!(c.mark_delivered(a).await.unwrap().ok);
    assert!(c.mark_returned(a).await.unwrap().ok);
    assert!(c.create_invoice(b).await.unwrap().ok);
    assert!(c.cancel(b).await.unwrap().ok);

    let cancelled = c.get(b, &[]).await.unwrap();
    assert_eq!(cancelled.shipping_status.as_deref(), Some("cancelled"));
    assert_eq!(cancelled.payment_status.as_deref(), Some("cancelled"));
    assert_eq!(
        mapping::order(&cancelled).payment_status,
        ModelPayment::Cancelled
    );
    let stats = t.sims.merchantpro.control.stats();
    assert_eq!(stats.get("PATCH /api/v2/orders/{id}/{handler}"), Some(&6));
}

#[tokio::test]
async fn transitions_the_shop_refuses_are_vendor_errors() {
    let t = helpers::start().await;
    let c = client(&t);
    let w = world(&t);
    let cancelled = w
        .orders
        .iter()
        .find(|o| o.shipping_status == "cancelled")
        .unwrap()
        .id;

    let ship = c.mark_shipped(cancelled).await.unwrap_err();
    assert_eq!(api_kind(&ship), Some(ApiErrorKind::BadRequest));
    assert_eq!(ship.code(), ErrorCode::VendorBadRequest);
    assert_eq!(ship.api_error().unwrap().vendor_code, "422");
    assert!(!ship.retryable());
    let invoice = c.create_invoice(cancelled).await.unwrap_err();
    assert_eq!(invoice.code(), ErrorCode::VendorBadRequest);
    // Unchanged.
    let after = c.get(cancelled, &["shipping_status"]).await.unwrap();
    assert_eq!(after.shipping_status.as_deref(), Some("cancelled"));

    let missing = c.cancel(1).await.unwrap_err();
    assert_eq!(missing.code(), ErrorCode::VendorNotFound);
}

#[tokio::test]
async fn invalid_writes_are_bad_requests() {
    let t = helpers::start().await;
    let c = client(&t);
    let empty = c
        .create(&NewOrder {
            customer_email: Some("x@example.com".into()),
            ..NewOrder::default()
        })
        .await
        .unwrap_err();
    assert_eq!(api_kind(&empty), Some(ApiErrorKind::BadRequest));
    assert!(empty.api_error().unwrap().message.contains("line_items"));

    let bogus = c
        .update(
            world(&t).orders[0].id,
            &OrderUpdate {
                payment_status: Some("bogus".into()),
                ..OrderUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bogus.code(), ErrorCode::VendorBadRequest);
}

#[tokio::test]
async fn the_vendors_error_answers_become_typed_errors() {
    let t = helpers::start().await;
    let mp = &t.settings.vendors.merchantpro;
    let http = reqwest::Client::new();
    let base = format!("{}/api/v2", mp.base_url);
    let cases = [
        (
            "GET",
            format!("{base}/orders?limit=0"),
            400,
            ApiErrorKind::BadRequest,
        ),
        (
            "GET",
            format!("{base}/orders?shipping_status=lost"),
            400,
            ApiErrorKind::BadRequest,
        ),
        (
            "GET",
            format!("{base}/orders?ids=1,x"),
            400,
            ApiErrorKind::BadRequest,
        ),
        (
            "GET",
            format!("{base}/orders?sort=total"),
            400,
            ApiErrorKind::BadRequest,
        ),
        (
            "GET",
            format!("{base}/orders/123"),
            404,
            ApiErrorKind::NotFound,
        ),
        (
            "PATCH",
            format!("{base}/orders/12345001/teleport"),
            404,
            ApiErrorKind::NotFound,
        ),
        (
            "GET",
            format!("{base}/customers"),
            404,
            ApiErrorKind::NotFound,
        ),
        (
            "PUT",
            format!("{base}/orders"),
            405,
            ApiErrorKind::UnknownCall,
        ),
    ];
    for (method, url, status, kind) in cases {
        let resp = http
            .request(method.parse().unwrap(), &url)
            .basic_auth(&mp.username, Some(mp.password.expose()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{method} {url}");
        let code = resp.status();
        let body = resp.bytes().await.unwrap();
        let error = api_error(code, &body).unwrap_or_else(|| panic!("{method} {url}: {body:?}"));
        assert_eq!(error.kind, kind, "{method} {url}");
        assert_eq!(error.vendor_code, status.to_string());
    }
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_auth_failed() {
    let mut t = helpers::start().await;
    t.settings.vendors.merchantpro.password =
        returns_gateway::config::Secret::new("not-the-password");
    let err = client(&t).get(12345001, &[]).await.unwrap_err();
    assert!(matches!(err, VendorError::Api { .. }), "{err:?}");
    assert_eq!(api_kind(&err), Some(ApiErrorKind::AuthFailed));
    assert_eq!(err.code(), ErrorCode::VendorAuthFailed);
    assert_eq!(err.api_error().unwrap().vendor_code, "401");
    assert!(!err.retryable());

    t.settings.vendors.merchantpro.username = String::new();
    t.settings.vendors.merchantpro.password = Default::default();
    let err = client(&t)
        .list_all(&OrderFilter::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::VendorAuthFailed);

    // Without any Authorization header: the same shape, with the challenge.
    let resp = reqwest::get(format!(
        "{}/api/v2/orders",
        t.settings.vendors.merchantpro.base_url
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["message"].is_string(), "{body}");
}

/// Some MerchantPro servers answer errors as `{"error": {"code", "message"}}`: the client keeps
/// the shop's code and message, and the kind still follows the HTTP status.
#[tokio::test]
async fn errors_in_the_nested_shape_keep_the_shops_code_and_message() {
    let t = helpers::start_with(|s| {
        s.sim.returns = 120;
        s.sim.merchantpro.error_shape = ErrorShape::Nested;
    })
    .await;
    let c = client(&t);
    let w = world(&t);

    let missing = c.get(1, &[]).await.unwrap_err();
    let api = missing.api_error().expect("the shop's error answer");
    assert_eq!(
        (api.kind, api.vendor_code.as_str(), api.message.as_str()),
        (ApiErrorKind::NotFound, "not_found", "Order 1 not found")
    );
    assert_eq!(missing.code(), ErrorCode::VendorNotFound);

    let cancelled = w
        .orders
        .iter()
        .find(|o| o.shipping_status == "cancelled")
        .unwrap()
        .id;
    let ship = c.mark_shipped(cancelled).await.unwrap_err();
    let api = ship.api_error().expect("the shop's error answer");
    assert_eq!(
        (api.kind, api.vendor_code.as_str()),
        (ApiErrorKind::BadRequest, "validation_failed")
    );

    // The simulator really answers in that shape, the 401's challenge kept.
    let mp = &t.settings.vendors.merchantpro;
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v2/orders", mp.base_url))
        .basic_auth(&mp.username, Some("not-the-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"error": {"code": "unauthorized", "message": "Invalid API credentials"}})
    );

    // Through the gateway, the shop's message reaches the caller.
    let g = helpers::gateway_with(&t, |s| {
        s.vendors.merchantpro.password = returns_gateway::config::Secret::new("not-the-password")
    })
    .await;
    let answer = g.query("{ orders(first: 1) { totalCount } }").await;
    let error = &answer["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "VENDOR_AUTH_FAILED",
        "{answer}"
    );
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("unauthorized: Invalid API credentials")),
        "{answer}"
    );
}

#[tokio::test]
async fn a_hanging_shop_is_a_timeout() {
    let t = helpers::start_with(|s| s.vendors.merchantpro.timeout_ms = 300).await;
    t.set_faults(&t.sims.merchantpro, helpers::hang());
    let err = client(&t).get(12345001, &[]).await.unwrap_err();
    assert!(matches!(err, VendorError::Timeout { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorTimeout);
    assert!(err.retryable());
}

#[tokio::test]
async fn a_shop_nobody_answers_for_is_unreachable() {
    let mut t = helpers::start().await;
    t.settings.vendors.merchantpro.base_url = helpers::refused_url();
    let err = client(&t)
        .list_all(&OrderFilter::default())
        .await
        .unwrap_err();
    assert!(matches!(err, VendorError::Unreachable { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorUnreachable);
}

#[tokio::test]
async fn a_cut_off_body_is_malformed() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.merchantpro, helpers::malformed());
    let err = client(&t)
        .list_all(&OrderFilter::default())
        .await
        .unwrap_err();
    assert!(matches!(err, VendorError::Malformed { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorMalformedResponse);
}

#[tokio::test]
async fn a_429_is_rate_limited_with_its_retry_after() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.merchantpro, helpers::rate_limited(7));
    let err = client(&t).mark_shipped(12345001).await.unwrap_err();
    match &err {
        VendorError::RateLimited { retry_after, .. } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(7)))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), ErrorCode::VendorRateLimited);
}

#[tokio::test]
async fn a_plain_500_is_an_http_error_not_a_vendor_answer() {
    let t = helpers::start().await;
    t.set_faults(
        &t.sims.merchantpro,
        simulators::Faults {
            error_rate: 1.0,
            ..Default::default()
        },
    );
    let err = client(&t).get(12345001, &[]).await.unwrap_err();
    assert!(matches!(err, VendorError::HttpStatus { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorHttpError);
    assert!(err.retryable());
}

#[tokio::test]
async fn a_base_url_that_already_ends_in_api_v2_works_too() {
    let mut t = helpers::start().await;
    let mp = &mut t.settings.vendors.merchantpro;
    mp.base_url = format!("{}/api/v2/", mp.base_url);
    let order = client(&t).get(12345001, &["id"]).await.unwrap();
    assert_eq!(order.id.0, 12345001);
}

#[tokio::test]
async fn the_docs_create_after_spelling_filters_too() {
    create_after_filters_the_last_month(&helpers::start().await).await;
}

/// Also run at other dates (`dates.rs`).
pub async fn create_after_filters_the_last_month(t: &TestSims) {
    let mp = &t.settings.vendors.merchantpro;
    let since = t
        .now_plus(-chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let list: OrderList = reqwest::Client::new()
        .get(format!(
            "{}/api/v2/orders?create_after={since}&fields=date_created",
            mp.base_url
        ))
        .basic_auth(&mp.username, Some(mp.password.expose()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all = seed_orders(&world(t));
    let want = all
        .iter()
        .filter(|o| o.date_created.as_deref().unwrap() >= since.as_str())
        .count() as u64;
    assert!(want > 0);
    assert_eq!(list.meta.count.total.0, want);
}

#[tokio::test]
async fn a_return_order_is_linked_to_its_original_both_ways_until_deleted() {
    use vendors::merchantpro::wire::{Amount, Id, LineItem};
    let t = helpers::start().await;
    let c = client(&t);
    let original = world(&t).orders[0].id;
    let line = LineItem {
        product_sku: Some("SKU-EXCH".into()),
        quantity: Some(Amount(1.into())),
        unit_price_gross: Some(Amount(0.into())),
        ..LineItem::default()
    };
    let rma = |source: u64| NewOrder {
        return_source_id: Some(Id(source)),
        customer_email: Some("x@example.com".into()),
        line_items: vec![line.clone()],
        ..NewOrder::default()
    };
    // An unknown original is refused, by field.
    let unknown = c.create(&rma(1)).await.unwrap_err();
    assert_eq!(api_kind(&unknown), Some(ApiErrorKind::BadRequest));
    assert!(unknown
        .api_error()
        .unwrap()
        .message
        .contains("return_source_id"));

    let created = c.create(&rma(original)).await.unwrap();
    assert_eq!(created.return_source_id, Some(Id(original)));
    let linked = c.get(original, &[]).await.unwrap();
    assert!(linked
        .rma_orders
        .iter()
        .flatten()
        .any(|r| r.id == created.id && r.kind.as_deref() == Some("return")));

    // Deleting the return order takes the link with it.
    c.delete(created.id.0).await.unwrap();
    let unlinked = c.get(original, &[]).await.unwrap();
    assert!(!unlinked
        .rma_orders
        .iter()
        .flatten()
        .any(|r| r.id == created.id));
}
