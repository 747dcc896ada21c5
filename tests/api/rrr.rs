//! rrr: wire samples, client against its simulator, typed errors, pagination.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use simulators::rrr::PAGE_SIZE;
use simulators::world::{ReturnChannel, World};
use vendors::model::{RefundStatus, ReturnStatus};
use vendors::rrr::client::{api_error, ReturnsFilter};
use vendors::rrr::{mapping, wire, Client};
use vendors::ErrorCode;
use vendors::{ApiErrorKind, VendorError};

use crate::helpers::{self, TestSims};

const LIST_ROUTE: &str = "POST /get/order_returns";

/// The world the simulators of `t` serve.
fn world(t: &TestSims) -> World {
    World::clone(&t.sims.world)
}

fn rrr_ids(world: &World) -> BTreeSet<u64> {
    world
        .returns
        .iter()
        .filter(|r| r.channel == ReturnChannel::Rrr)
        .map(|r| r.id)
        .collect()
}

fn client(t: &TestSims) -> Client {
    Client::new(&t.settings.vendors.rrr).expect("client")
}

fn api_kind(err: &VendorError) -> (ApiErrorKind, String) {
    let api = err
        .api_error()
        .unwrap_or_else(|| panic!("expected RRR's error envelope, got {err:?}"));
    (api.kind, api.vendor_code.clone())
}

#[test]
fn every_sample_deserialises() {
    let dir = format!("{}/crates/vendors/fixtures/rrr", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["order-returns.request.json", "order-returns.response.json"],
        "every fixture needs a case below"
    );

    // The PHP `$post` array, here as JSON: the credential form fields.
    let request: wire::Credentials =
        serde_json::from_str(&helpers::fixture("rrr/order-returns.request.json")).expect("request");
    assert_eq!(request, wire::Credentials::default());

    let response: wire::OrderReturnsResponse =
        serde_json::from_str(&helpers::fixture("rrr/order-returns.response.json"))
            .expect("response");
    assert_eq!(response.status_code, "R200");
    assert_eq!(response.msg, "OK");
    let ids: Vec<u64> = response.list.iter().map(|r| r.id).collect();
    assert_eq!(ids, [345, 456]);
    assert_eq!(response.list[1].refunds[0].refund_items[1].part_id, None);
    assert_eq!(
        response.list[0].total_paid_price_in_seller_currency,
        Some(1253.54)
    );
}

#[test]
fn a_single_return_is_read_as_a_list_or_an_object() {
    let sample: wire::OrderReturnsResponse =
        serde_json::from_str(&helpers::fixture("rrr/order-returns.response.json"))
            .expect("response");
    let one = serde_json::to_value(&sample.list[0]).expect("serialise");
    for body in [
        serde_json::json!({"list": [one.clone()], "msg": "OK", "status_code": "R200"}),
        serde_json::json!({"list": one, "msg": "OK", "status_code": "R200"}),
    ] {
        let answer: wire::OrderReturnResponse = serde_json::from_value(body).expect("envelope");
        let list = answer.list.into_vec();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, 345);
    }
}

#[tokio::test]
async fn every_return_is_listed_and_maps() {
    let t = helpers::start().await;
    let world = world(&t);
    let returns = client(&t)
        .order_returns(&ReturnsFilter::default())
        .await
        .expect("listing");
    let ids: BTreeSet<u64> = returns.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), returns.len(), "no return twice");
    assert_eq!(ids, rrr_ids(&world));

    for r in &returns {
        let m = mapping::order_return(r);
        assert_eq!(m.status_raw, r.status);
        assert!(
            mapping::return_status(&r.status).is_some() || r.status == "Approved",
            "the simulator serves only tabled statuses, and `Approved` outside the table: {}",
            r.status
        );
        assert_eq!(m.total.as_ref().map(|m| m.currency.as_str()), Some("EUR"));
        assert_eq!(
            m.total_seller.as_ref().map(|m| m.currency.as_str()),
            Some("PLN")
        );
        assert!(m.created_at.is_some());
        assert!(m.customer.as_ref().and_then(|c| c.phone.as_ref()).is_some());
        assert!(!m.items.is_empty());
        for refund in &m.refunds {
            assert!(matches!(
                refund.status,
                RefundStatus::PaidOut | RefundStatus::Pending
            ));
            assert!(refund.amount.is_some() && refund.amount_seller.is_some());
            assert!(!refund.item_ids.is_empty());
        }
    }
    // The world's stages show up as RRR statuses.
    let statuses: BTreeSet<String> = returns
        .iter()
        .map(|r| format!("{:?}", mapping::order_return(r).status))
        .collect();
    assert!(statuses.len() >= 4, "{statuses:?}");
    assert!(returns
        .iter()
        .any(|r| mapping::order_return(r).status == ReturnStatus::Refunded));
}

/// A status outside our table (the simulator serves `Approved` for some fresh requests) is
/// `UNKNOWN` with the vendor's code in `statusRaw`, never passed off as a state it is not.
#[tokio::test]
async fn a_status_outside_the_table_is_unknown_with_its_raw_code() {
    let t = helpers::start().await;
    let approved: BTreeSet<String> = client(&t)
        .order_returns(&ReturnsFilter::default())
        .await
        .expect("listing")
        .iter()
        .filter(|r| r.status == "Approved")
        .map(|r| r.id.to_string())
        .collect();
    assert!(!approved.is_empty(), "the simulator serves `Approved`");

    let g = helpers::gateway(&t).await;
    let answer = g
        .query(
            "{ returns(first: 100, filter: {vendors: [RRR]}) {
                 edges { node { vendorId status statusRaw } } } }",
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let nodes = answer["data"]["returns"]["edges"]
        .as_array()
        .expect("edges");
    let mut shown_approved = BTreeSet::new();
    for node in nodes.iter().map(|e| &e["node"]) {
        let id = node["vendorId"].as_str().expect("vendorId").to_owned();
        if approved.contains(&id) {
            assert_eq!(node["status"], "UNKNOWN", "{node}");
            assert_eq!(node["statusRaw"], "Approved", "{node}");
            shown_approved.insert(id);
        } else {
            assert_ne!(node["status"], "UNKNOWN", "{node}");
        }
    }
    assert_eq!(shown_approved, approved);

    let filtered = g
        .query("{ returns(filter: {vendors: [RRR], statuses: [UNKNOWN]}) { totalCount } }")
        .await;
    assert_eq!(
        filtered["data"]["returns"]["totalCount"],
        approved.len(),
        "{filtered}"
    );
}

/// RRR's `order_id` is the marketplace's own order number: shown as `marketplaceOrderId`,
/// never sent to MerchantPro, and no link to a shop order, not even where the number is also a
/// shop order's id (the world has one such collision).
#[tokio::test]
async fn marketplace_order_numbers_link_to_no_shop_order() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let world = &t.sims.world;
    let collided = world
        .returns
        .iter()
        .find(|r| {
            r.marketplace_order
                .is_some_and(|n| world.orders.iter().any(|o| o.id == n))
        })
        .expect("a marketplace order number that is also a shop order id");
    let shop_id = collided
        .marketplace_order
        .expect("an RRR return")
        .to_string();
    t.reset_calls();

    let answer = g
        .query(
            "{ returns(first: 100, filter: {vendors: [RRR]}) {
                 edges { node { vendorId orderReference order { vendorId } } } } }",
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let merchantpro: BTreeMap<String, u64> = t
        .calls()
        .into_iter()
        .filter(|(endpoint, _)| endpoint.starts_with("merchantpro "))
        .collect();
    assert_eq!(merchantpro, BTreeMap::new(), "no MerchantPro call");
    let nodes = answer["data"]["returns"]["edges"]
        .as_array()
        .expect("edges");
    assert_eq!(nodes.len(), rrr_ids(world).len());
    for node in nodes.iter().map(|e| &e["node"]) {
        assert!(node["orderReference"].is_null(), "{node}");
        assert!(node["order"].is_null(), "{node}");
    }

    // The number is kept as what it is, and can be filtered by.
    let by_number = g
        .query_with(
            "query($n: String) { returns(filter: {marketplaceOrderId: $n}) {
                 edges { node { vendor vendorId marketplaceOrderId order { vendorId } } } } }",
            serde_json::json!({"n": shop_id}),
        )
        .await;
    assert_eq!(
        by_number["data"]["returns"]["edges"],
        serde_json::json!([{"node": {"vendor": "RRR", "vendorId": collided.id.to_string(),
            "marketplaceOrderId": shop_id, "order": null}}]),
        "{by_number}"
    );

    // Nor does the shop order whose id it is list the return.
    let shop_order = g
        .query_with(
            "query($id: String) { orders(filter: {reference: $id}) {
                 edges { node { vendorId returns { vendor vendorId } } } } }",
            serde_json::json!({"id": shop_id}),
        )
        .await;
    let edges = shop_order["data"]["orders"]["edges"]
        .as_array()
        .expect("edges");
    assert_eq!(edges.len(), 1, "{shop_order}");
    assert_eq!(edges[0]["node"]["vendorId"], shop_id);
    assert!(
        edges[0]["node"]["returns"]
            .as_array()
            .expect("returns")
            .iter()
            .all(|r| r["vendor"] != "RRR"),
        "{shop_order}"
    );
}

#[tokio::test]
async fn the_date_filter_is_inclusive_on_created_at() {
    let t = helpers::start().await;
    let world = world(&t);
    let client = client(&t);
    let all = client
        .order_returns(&ReturnsFilter::default())
        .await
        .expect("all");
    // A window around the middle return's day, bounds included.
    let mut days: Vec<NaiveDate> = world
        .returns
        .iter()
        .filter(|r| r.channel == ReturnChannel::Rrr)
        .map(|r| r.created_at.date_naive())
        .collect();
    days.sort();
    let (from, to) = (days[days.len() / 4], days[days.len() / 2]);
    let want: BTreeSet<u64> = world
        .returns
        .iter()
        .filter(|r| r.channel == ReturnChannel::Rrr)
        .filter(|r| (from..=to).contains(&r.created_at.date_naive()))
        .map(|r| r.id)
        .collect();
    let got = client
        .order_returns(&ReturnsFilter {
            date_from: Some(from),
            date_to: Some(to),
        })
        .await
        .expect("filtered");
    let got: BTreeSet<u64> = got.iter().map(|r| r.id).collect();
    assert_eq!(got, want);
    assert!(!got.is_empty() && got.len() < all.len());

    let one_day = client
        .order_returns(&ReturnsFilter {
            date_from: Some(from),
            date_to: Some(from),
        })
        .await
        .expect("one day");
    assert!(!one_day.is_empty(), "a one-day window includes its day");
}

#[tokio::test]
async fn pages_hold_page_size_and_end_empty() {
    let t = helpers::start().await;
    let total = rrr_ids(&world(&t)).len();
    let client = client(&t);
    let first = client
        .order_returns_page(&ReturnsFilter::default(), 1)
        .await
        .expect("page 1");
    assert_eq!(first.len(), PAGE_SIZE.min(total));
    let past_the_end = client
        .order_returns_page(&ReturnsFilter::default(), 1_000)
        .await
        .expect("page 1000");
    assert!(past_the_end.is_empty());
}

#[tokio::test]
async fn pagination_over_many_pages_returns_each_return_once() {
    let t = helpers::start_with(|s| s.sim.returns = 300).await;
    let want = rrr_ids(&world(&t));
    assert!(
        want.len() > 3 * PAGE_SIZE,
        "{} returns: not more than three pages",
        want.len()
    );
    t.sims.rrr.control.reset_stats();
    let returns = client(&t)
        .order_returns(&ReturnsFilter::default())
        .await
        .expect("listing");
    let got: Vec<u64> = returns.iter().map(|r| r.id).collect();
    let unique: BTreeSet<u64> = got.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "no return twice");
    assert_eq!(unique, want);
    // Full pages, then the partial (or empty) one, then the empty one that ends the listing.
    let pages = want.len() / PAGE_SIZE + 1 + usize::from(want.len() % PAGE_SIZE != 0);
    let stats = t.sims.rrr.control.stats();
    assert_eq!(
        stats.get(LIST_ROUTE).copied(),
        Some(pages as u64),
        "{stats:?}"
    );
}

#[tokio::test]
async fn a_return_is_read_by_id() {
    let t = helpers::start().await;
    let client = client(&t);
    let listed = client
        .order_returns_page(&ReturnsFilter::default(), 1)
        .await
        .expect("page");
    let with_refund = listed
        .iter()
        .find(|r| !r.refunds.is_empty())
        .unwrap_or(&listed[0]);
    let got = client
        .order_return(with_refund.id)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(&got, with_refund, "get and list answer the same return");

    let err = client.order_return(999_999_999).await.unwrap_err();
    assert_eq!(api_kind(&err), (ApiErrorKind::NotFound, "R404".into()));
    assert_eq!(err.code(), ErrorCode::VendorNotFound);
}

#[tokio::test]
async fn wrong_credentials_are_refused_in_rrrs_envelope() {
    let mut t = helpers::start().await;
    t.settings.vendors.rrr.user_token = returns_gateway::config::Secret::new("stolen");
    let client = client(&t);
    let err = client
        .order_returns(&ReturnsFilter::default())
        .await
        .unwrap_err();
    assert_eq!(api_kind(&err), (ApiErrorKind::AuthFailed, "R401".into()));
    assert_eq!(err.code(), ErrorCode::VendorAuthFailed);
    assert!(!err.retryable());
    let err = client.order_return(1).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::VendorAuthFailed);
}

#[tokio::test]
async fn bad_requests_are_refused_as_r400() {
    let t = helpers::start().await;
    let client = client(&t);
    let day = |d| NaiveDate::from_ymd_opt(2026, 9, d).expect("date");
    let err = client
        .order_returns(&ReturnsFilter {
            date_from: Some(day(20)),
            date_to: Some(day(10)),
        })
        .await
        .unwrap_err();
    assert_eq!(api_kind(&err), (ApiErrorKind::BadRequest, "R400".into()));
    assert_eq!(err.code(), ErrorCode::VendorBadRequest);
    let err = client
        .order_returns_page(&ReturnsFilter::default(), 0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::VendorBadRequest);
}

/// Object keys at every level, paths joined with `.` (array elements share their parent's path).
fn key_paths(v: &serde_json::Value, at: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                let path = format!("{at}.{k}");
                out.insert(path.clone());
                key_paths(child, &path, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| key_paths(i, at, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_simulator_answers_in_the_docs_shape() {
    let t = helpers::start().await;
    let sample: serde_json::Value =
        serde_json::from_str(&helpers::fixture("rrr/order-returns.response.json")).expect("json");
    let mut want = BTreeSet::new();
    key_paths(&sample, "", &mut want);

    let answer = reqwest::Client::new()
        .post(format!(
            "{}/get/order_returns",
            t.settings.vendors.rrr.base_url
        ))
        .form(&[
            ("username", "demo"),
            ("password", "rrr-demo-password"),
            ("user_token", "rrr-demo-token"),
        ])
        .send()
        .await
        .expect("send");
    let body: serde_json::Value = answer.json().await.expect("json");
    let list = body["list"].as_array().expect("list");
    let returned = list
        .iter()
        .find(|r| {
            r["status"] == "Returned" && !r["refunds"].as_array().expect("refunds").is_empty()
        })
        .expect("a returned return with a refund on page 1");
    let mut got = BTreeSet::new();
    key_paths(
        &serde_json::json!({"list": [returned], "msg": body["msg"], "status_code": body["status_code"]}),
        "",
        &mut got,
    );
    assert_eq!(got, want);
    assert_eq!(
        returned["order_return_items"][0]["vat_rate"].to_string(),
        "23",
        "VAT as the doc writes it"
    );
}

/// What the client cannot send (a malformed date, url-encoded credentials, an unknown
/// method) is checked with a raw request, its answer read by the client's envelope reader.
#[tokio::test]
async fn the_simulator_speaks_rrrs_form_and_envelope() {
    let t = helpers::start().await;
    let base = &t.settings.vendors.rrr.base_url;
    let http = reqwest::Client::new();
    let creds = [
        ("username", "demo"),
        ("password", "rrr-demo-password"),
        ("user_token", "rrr-demo-token"),
    ];

    let urlencoded = http
        .post(format!("{base}/get/order_returns?page=1"))
        .form(&creds)
        .send()
        .await
        .expect("send");
    assert_eq!(urlencoded.status(), 200);
    let body: wire::OrderReturnsResponse = urlencoded.json().await.expect("envelope");
    assert_eq!(body.status_code, "R200");
    assert_eq!(body.list.len(), PAGE_SIZE);

    let cases = [
        (
            "/get/order_returns?date_from=2026-13-01",
            400,
            ApiErrorKind::BadRequest,
            "R400",
        ),
        (
            "/get/order_returns?page=first",
            400,
            ApiErrorKind::BadRequest,
            "R400",
        ),
        (
            "/get/order_return/abc",
            400,
            ApiErrorKind::BadRequest,
            "R400",
        ),
        ("/get/orders", 404, ApiErrorKind::UnknownCall, "R405"),
    ];
    for (path, http_status, kind, code) in cases {
        let answer = http
            .post(format!("{base}{path}"))
            .form(&creds)
            .send()
            .await
            .expect("send");
        let status = answer.status();
        assert_eq!(status, http_status, "{path}");
        let body = answer.bytes().await.expect("body");
        let err = api_error(status, &body).unwrap_or_else(|| panic!("{path}: no envelope"));
        assert_eq!((err.kind, err.vendor_code.as_str()), (kind, code), "{path}");
    }

    let no_form = http
        .post(format!("{base}/get/order_returns"))
        .send()
        .await
        .expect("send");
    assert_eq!(no_form.status(), 401);
    let get = http
        .get(format!("{base}/get/order_returns"))
        .send()
        .await
        .expect("send");
    assert_eq!(get.status(), 405);
    let body = get.bytes().await.expect("body");
    let err = api_error(reqwest::StatusCode::METHOD_NOT_ALLOWED, &body).expect("envelope");
    assert_eq!(err.kind, ApiErrorKind::UnknownCall);
}

#[tokio::test]
async fn a_hanging_vendor_times_out() {
    let mut t = helpers::start().await;
    t.settings.vendors.rrr.timeout_ms = 300;
    t.set_faults(&t.sims.rrr, helpers::hang());
    let err = client(&t)
        .order_returns(&ReturnsFilter::default())
        .await
        .unwrap_err();
    assert!(matches!(err, VendorError::Timeout { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorTimeout);
    assert!(err.retryable());
}

#[tokio::test]
async fn a_refused_connection_is_unreachable() {
    let mut t = helpers::start().await;
    t.settings.vendors.rrr.base_url = helpers::refused_url();
    let err = client(&t).order_return(1).await.unwrap_err();
    assert!(matches!(err, VendorError::Unreachable { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorUnreachable);
}

#[tokio::test]
async fn a_malformed_body_is_malformed() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.rrr, helpers::malformed());
    let err = client(&t)
        .order_returns(&ReturnsFilter::default())
        .await
        .unwrap_err();
    assert!(matches!(err, VendorError::Malformed { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::VendorMalformedResponse);
}

#[tokio::test]
async fn a_429_is_rate_limited_with_retry_after() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.rrr, helpers::rate_limited(7));
    let err = client(&t).order_return(1).await.unwrap_err();
    match &err {
        VendorError::RateLimited { retry_after, .. } => {
            assert_eq!(*retry_after, Some(std::time::Duration::from_secs(7)));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(err.code(), ErrorCode::VendorRateLimited);
}
