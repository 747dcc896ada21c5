//! Mutations against the simulators: each success shows in a following query; a failure drops
//! no cached read; validation names the field and writes nothing; idempotency is proved by the
//! simulators' write counts.

use serde_json::{json, Value};

use crate::helpers::{self, TestGateway, TestSims};

fn assert_snapshot(name: &str, value: &Value) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_json_snapshot!(name, value));
}

pub const CREATE: &str = r#"mutation($input: CreateReturnInput!, $key: String) {
  createReturn(input: $input, idempotencyKey: $key) {
    trackingNumber secondaryBarcodes
    firstMileAddress { line1 city postalCode country }
    label { contentType url base64 }
    return { id vendor vendorId status statusRaw orderReference trackingNumber
             customer { email phone } items { sku quantity reason { action reason } } }
  }
}"#;

pub fn create_input() -> Value {
    json!({
        "address": {"country": "gr", "city": "Athens", "postalCode": "10563", "line1": "Ermou 12"},
        "contact": {"name": "Maria Papadopoulou", "email": " Maria.P@Example.GR ", "phone": "697 123 4567"},
        "serviceId": "101",
        "orderReference": "WEB0320013",
        "externalId": "RMA-1",
        "currency": "eur",
        "products": [{"sku": "SKU000123", "description": "Running shoes", "quantity": 1,
                      "price": "79.90", "weightKg": 0.9,
                      "reason": {"action": "Refund", "reason": "Wrong size"}}]
    })
}

fn with(mut input: Value, pointer: &str, value: Value) -> Value {
    *input
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer}")) = value;
    input
}

fn writes(t: &TestSims, route: &str) -> u64 {
    t.calls().get(route).copied().unwrap_or(0)
}

const RETURNS_CREATE: &str = "procarrier POST /api/returns/create/json";

fn code(answer: &Value) -> &Value {
    &answer["errors"][0]["extensions"]["code"]
}

fn field(answer: &Value) -> &Value {
    &answer["errors"][0]["extensions"]["field"]
}

async fn started() -> (TestSims, TestGateway) {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    (t, g)
}

#[tokio::test]
async fn create_return_answers_label_and_shows_in_the_next_query() {
    let (t, g) = started().await;
    let created = g.query_with(CREATE, json!({"input": create_input()})).await;
    assert!(created.get("errors").is_none(), "{created}");
    let c = &created["data"]["createReturn"];
    let number = c["trackingNumber"].as_str().unwrap();
    assert_eq!(c["return"]["customer"]["email"], "maria.p@example.gr");
    assert_eq!(c["return"]["customer"]["phone"], "+306971234567");
    assert_snapshot("mutation_create_return", &created);

    // The label downloads as a PDF from the gateway.
    let url = g
        .url
        .replace("/graphql", c["label"]["url"].as_str().unwrap());
    let pdf = g.http.get(&url).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    let missing = g
        .http
        .get(g.url.replace("/graphql", "/labels/procarrier/NOPE"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The cached listing was dropped: the new return is there.
    let listed = g
        .query_with(
            "query($n: String) { returns(filter: {trackingNumber: $n}) { totalCount edges { node { vendorId status } } } }",
            json!({"n": number}),
        )
        .await;
    assert_eq!(listed["data"]["returns"]["totalCount"], 1, "{listed}");
    assert_eq!(writes(&t, RETURNS_CREATE), 1);
}

#[tokio::test]
async fn create_return_validation_names_the_field_and_writes_nothing() {
    let (t, g) = started().await;
    let cases = [
        ("/address/country", json!("XX"), "input.address.country"),
        ("/address/line1", json!("  "), "input.address.line1"),
        ("/contact/email", json!("maria@"), "input.contact.email"),
        ("/contact/phone", json!("12"), "input.contact.phone"),
        ("/serviceId", json!("999"), "input.serviceId"),
        ("/currency", json!("EURO"), "input.currency"),
        (
            "/products/0/quantity",
            json!(0),
            "input.products[0].quantity",
        ),
        (
            "/products/0/price",
            json!("-1.00"),
            "input.products[0].price",
        ),
        (
            "/products/0/price",
            json!("cheap"),
            "input.products[0].price",
        ),
        ("/products", json!([]), "input.products"),
    ];
    for (pointer, value, expected) in cases {
        let input = with(create_input(), pointer, value.clone());
        let answer = g
            .query_with(CREATE, json!({"input": input, "key": "same-key"}))
            .await;
        assert_eq!(
            code(&answer),
            "INVALID_ARGUMENT",
            "{pointer}={value}: {answer}"
        );
        assert_eq!(field(&answer), expected, "{pointer}={value}: {answer}");
    }
    assert_eq!(writes(&t, RETURNS_CREATE), 0, "nothing reached the vendor");
    // A failed validation stored nothing: the key is still free.
    let ok = g
        .query_with(CREATE, json!({"input": create_input(), "key": "same-key"}))
        .await;
    assert!(ok.get("errors").is_none(), "{ok}");
}

#[tokio::test]
async fn idempotent_replay_conflicting_reuse_and_concurrent_duplicates() {
    let (t, g) = started().await;
    let first = g
        .query_with(CREATE, json!({"input": create_input(), "key": "k-1"}))
        .await;
    let again = g
        .query_with(CREATE, json!({"input": create_input(), "key": "k-1"}))
        .await;
    assert!(first.get("errors").is_none(), "{first}");
    assert_eq!(first, again, "the stored result is replayed");
    assert_eq!(writes(&t, RETURNS_CREATE), 1);

    let other = with(create_input(), "/externalId", json!("RMA-2"));
    let reused = g
        .query_with(CREATE, json!({"input": other, "key": "k-1"}))
        .await;
    assert_eq!(code(&reused), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(writes(&t, RETURNS_CREATE), 1);

    // The key can come as a header too.
    let input = with(create_input(), "/externalId", json!("RMA-3"));
    let via_header = || async {
        g.http
            .post(&g.url)
            .header("Idempotency-Key", "k-header")
            .json(&json!({"query": CREATE, "variables": {"input": input}}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(via_header().await, via_header().await);
    assert_eq!(writes(&t, RETURNS_CREATE), 2);

    // 20 concurrent duplicates: one vendor write, every caller the same answer.
    let input = with(create_input(), "/externalId", json!("RMA-4"));
    let runs = (0..20).map(|_| g.query_with(CREATE, json!({"input": input, "key": "k-20"})));
    let answers = futures_util::future::join_all(runs).await;
    assert!(answers
        .iter()
        .all(|a| a == &answers[0] && a.get("errors").is_none()));
    assert_eq!(writes(&t, RETURNS_CREATE), 3);
}

#[tokio::test]
async fn a_vendor_timeout_on_create_causes_no_second_create() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| s.vendors.procarrier.timeout_ms = 300).await;
    // Load the services list (validation needs it) before the vendor starts hanging.
    let invalid = with(create_input(), "/products/0/quantity", json!(0));
    let _ = g.query_with(CREATE, json!({"input": invalid})).await;
    t.sims.procarrier.control.set_faults(helpers::hang());
    let timed_out = g
        .query_with(CREATE, json!({"input": create_input(), "key": "k-t"}))
        .await;
    assert_eq!(code(&timed_out), "VENDOR_TIMEOUT", "{timed_out}");
    t.sims.procarrier.control.set_faults(Default::default());
    // The client retries with its key: the outcome is replayed, the vendor not called again.
    let retried = g
        .query_with(CREATE, json!({"input": create_input(), "key": "k-t"}))
        .await;
    assert_eq!(code(&retried), "VENDOR_TIMEOUT");
    assert_eq!(writes(&t, RETURNS_CREATE), 1);
}

#[tokio::test]
async fn a_write_drops_only_the_cached_reads_of_what_it_changed() {
    // A live read (a parcel no index holds), cached.
    const LOOKUP: &str = r#"{ tracking(trackingNumber: "NOT-INDEXED-1") { status } }"#;
    const TRACKING_GET: &str = "procarrier POST /api/tracking/get/json";
    let (t, g) = started().await;
    g.query(LOOKUP).await;
    // The services list createReturn validates against, cached too.
    let invalid = with(create_input(), "/products/0/quantity", json!(0));
    let _ = g.query_with(CREATE, json!({"input": invalid})).await;
    assert_eq!(writes(&t, TRACKING_GET), 1);

    t.sims.procarrier.control.set_faults(simulators::Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    let failed = g.query_with(CREATE, json!({"input": create_input()})).await;
    assert_eq!(code(&failed), "VENDOR_HTTP_ERROR", "{failed}");
    assert_eq!(writes(&t, RETURNS_CREATE), 1);
    t.sims.procarrier.control.set_faults(Default::default());
    g.query(LOOKUP).await;
    assert_eq!(
        writes(&t, TRACKING_GET),
        1,
        "still cached: the failed write dropped nothing"
    );

    let created = g.query_with(CREATE, json!({"input": create_input()})).await;
    assert!(created["errors"].is_null(), "{created}");
    g.query(LOOKUP).await;
    assert_eq!(
        writes(&t, TRACKING_GET),
        1,
        "still cached: the new return is another parcel, and the index shows it"
    );
    let listed = g
        .query_with(
            "query($n: String) { returns(filter: {trackingNumber: $n}) { totalCount } }",
            json!({"n": created["data"]["createReturn"]["trackingNumber"]}),
        )
        .await;
    assert_eq!(listed["data"]["returns"]["totalCount"], 1, "{listed}");
}

#[tokio::test]
async fn cancel_return_answers_the_new_status() {
    let (_t, g) = started().await;
    let created = g.query_with(CREATE, json!({"input": create_input()})).await;
    let number = created["data"]["createReturn"]["trackingNumber"].clone();
    let cancel = "mutation($n: String) { cancelReturn(trackingNumber: $n) { trackingNumber externalId message status statusRaw } }";
    let cancelled = g.query_with(cancel, json!({"n": number})).await;
    assert!(cancelled.get("errors").is_none(), "{cancelled}");
    assert_eq!(cancelled["data"]["cancelReturn"]["status"], "CANCELLED");
    assert_snapshot("mutation_cancel_return", &cancelled);
    let listed = g
        .query_with("query($n: String) { returns(filter: {trackingNumber: $n}) { edges { node { status } } } }", json!({"n": number}))
        .await;
    assert_eq!(
        listed["data"]["returns"]["edges"][0]["node"]["status"],
        "CANCELLED"
    );
    let neither = g.query("mutation { cancelReturn { status } }").await;
    assert_eq!(field(&neither), "trackingNumber");
    let unknown = g
        .query(r#"mutation { cancelReturn(trackingNumber: "NOPE") { status } }"#)
        .await;
    assert_eq!(
        code(&unknown),
        "VENDOR_BAD_REQUEST",
        "the vendor's reason: {unknown}"
    );
}

fn order_id_with(t: &TestSims, status: &str) -> String {
    let o = t
        .sims
        .world
        .orders
        .iter()
        .find(|o| o.shipping_status == status)
        .expect("such an order");
    returns_gateway::schema::ids::GlobalId::new(
        returns_gateway::schema::ids::NodeKind::Order,
        Some(vendors::model::Vendor::MerchantPro),
        o.id.to_string(),
    )
    .encode()
}

#[tokio::test]
async fn order_transitions_update_and_refusals() {
    let (t, g) = started().await;
    let set = "mutation($id: ID!, $s: OrderStatusChange!) { setOrderStatus(orderId: $id, status: $s) { vendorId shippingStatus shippingStatusRaw } }";
    let id = order_id_with(&t, "confirmed");
    // Warm the cache so the next read proves invalidation.
    let _ = g
        .query_with(
            "query($id: ID!) { order(id: $id) { shippingStatus } }",
            json!({"id": id}),
        )
        .await;
    let shipped = g.query_with(set, json!({"id": id, "s": "SHIPPED"})).await;
    assert!(shipped.get("errors").is_none(), "{shipped}");
    assert_eq!(
        shipped["data"]["setOrderStatus"]["shippingStatusRaw"],
        "shipped"
    );
    assert_snapshot("mutation_set_order_status", &shipped);
    let read = g
        .query_with(
            "query($id: ID!) { order(id: $id) { shippingStatusRaw } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(read["data"]["order"]["shippingStatusRaw"], "shipped");

    let patches = |t: &TestSims| {
        t.calls()
            .iter()
            .filter(|(k, _)| k.starts_with("merchantpro PATCH"))
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    let before = patches(&t);
    let cancelled = order_id_with(&t, "cancelled");
    let refused = g
        .query_with(set, json!({"id": cancelled, "s": "SHIPPED"}))
        .await;
    assert_eq!(code(&refused), "INVALID_TRANSITION", "{refused}");
    assert_eq!(field(&refused), "status");
    let invoice = "mutation($id: ID!) { issueInvoice(orderId: $id) { vendorId } }";
    let no_invoice = g.query_with(invoice, json!({"id": cancelled})).await;
    assert_eq!(code(&no_invoice), "INVALID_TRANSITION");
    assert_eq!(patches(&t), before, "refusals never reach the vendor");
    let delivered = order_id_with(&t, "delivered");
    let twice = g.query_with(invoice, json!({"id": delivered})).await;
    assert_eq!(
        code(&twice),
        "INVALID_TRANSITION",
        "paid orders are invoiced already: {twice}"
    );
    assert_eq!(patches(&t), before, "refusals never reach the vendor");
    let unpaid = order_id_with(&t, "awaiting");
    let invoiced = g.query_with(invoice, json!({"id": unpaid})).await;
    assert!(invoiced.get("errors").is_none(), "{invoiced}");
    let bad_id = g
        .query_with(set, json!({"id": "nope", "s": "SHIPPED"}))
        .await;
    assert_eq!(field(&bad_id), "orderId");

    let update = "mutation($id: ID!, $in: UpdateOrderInput!) { updateOrder(orderId: $id, input: $in) { tags shippingTotal { amount currency } } }";
    let updated = g
        .query_with(update, json!({"id": delivered, "in": {"tags": ["returned-twice", "priority-check"], "shippingAmount": "4.99"}}))
        .await;
    assert!(updated.get("errors").is_none(), "{updated}");
    assert_eq!(
        updated["data"]["updateOrder"]["tags"],
        json!(["returned-twice", "priority-check"])
    );
    let negative = g
        .query_with(
            update,
            json!({"id": delivered, "in": {"shippingAmount": "-5"}}),
        )
        .await;
    assert_eq!(field(&negative), "input.shippingAmount");
    let nothing = g
        .query_with(update, json!({"id": delivered, "in": {}}))
        .await;
    assert_eq!(field(&nothing), "input");
}

#[tokio::test]
async fn ninety_five_parcels_make_three_batch_calls_with_a_result_each() {
    let (t, g) = started().await;
    let existing: Vec<_> = t.sims.world.parcels.iter().take(2).collect();
    let mut parcels: Vec<Value> = (0..93)
        .map(|i| json!({"trackingNumber": format!("NEW{i:07}"), "carrierCode": "dhl", "orderReference": "WEB0320013"}))
        .collect();
    for p in &existing {
        parcels.push(json!({"trackingNumber": p.tracking_number, "carrierCode": p.carrier_code}));
    }
    let track = "mutation($p: [TrackParcelInput!]!) { trackParcels(parcels: $p) {
        accepted alreadyTracked rejected notSent results { trackingNumber carrierCode outcome code reason } } }";
    let answer = g.query_with(track, json!({"p": parcels})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let r = &answer["data"]["trackParcels"];
    assert_eq!(r["results"].as_array().unwrap().len(), 95);
    assert_eq!(
        (r["accepted"].as_u64(), r["alreadyTracked"].as_u64()),
        (Some(93), Some(2))
    );
    assert_eq!(writes(&t, "trackru POST /v1/trackings/batch"), 3);
    assert_snapshot(
        "mutation_track_parcels_summary",
        &json!({
            "accepted": r["accepted"], "alreadyTracked": r["alreadyTracked"],
            "rejected": r["rejected"], "notSent": r["notSent"],
            "last3": r["results"].as_array().unwrap()[92..].to_vec(),
        }),
    );
    let tracked = g
        .query(r#"{ tracking(trackingNumber: "NEW0000007") { sources orderReference } }"#)
        .await;
    assert_eq!(
        tracked["data"]["tracking"]["sources"],
        json!(["TRACKRU"]),
        "{tracked}"
    );

    let invalid = json!([{"trackingNumber": "A1", "carrierCode": "dhl"}, {"trackingNumber": "A 2", "carrierCode": "dhl"}]);
    let refused = g.query_with(track, json!({"p": invalid})).await;
    assert_eq!(field(&refused), "parcels[1].trackingNumber");
}

#[tokio::test]
async fn tracking_overrides_and_events_show_in_the_timeline() {
    let (t, g) = started().await;
    let world = &t.sims.world;
    let parcel = world
        .returns
        .iter()
        .find(|r| {
            r.channel == simulators::world::ReturnChannel::ProCarrier
                && r.stage == simulators::world::Stage::InTransit
        })
        .map(|r| &world.parcels[r.parcel])
        .expect("a ProCarrier return in transit");
    let vars = json!({"c": parcel.carrier_code, "n": parcel.tracking_number});
    let set = |s: &str| {
        format!(
        "mutation($c: String!, $n: String!) {{ overrideTrackingStatus(carrierCode: $c, trackingNumber: $n, status: {s}) {{ status statusRaw }} }}"
    )
    };
    let delivered = g.query_with(&set("DELIVERED"), vars.clone()).await;
    assert_eq!(
        delivered["data"]["overrideTrackingStatus"]["status"], "DELIVERED",
        "{delivered}"
    );
    let reverted = g.query_with(&set("REVERT"), vars.clone()).await;
    assert_eq!(
        reverted["data"]["overrideTrackingStatus"]["status"], "IN_TRANSIT",
        "{reverted}"
    );

    let add = r#"mutation($n: String!, $at: DateTime!) { addTrackingEvent(trackingNumber: $n,
        statusCode: 60, at: $at, description: "Back at the warehouse",
        location: {country: "GR", city: "Athens"}) { trackingNumber statusCode status at } }"#;
    let vars = json!({"n": parcel.tracking_number, "at": t.now_plus(chrono::Duration::hours(1))});
    let added = g.query_with(add, vars.clone()).await;
    assert!(added.get("errors").is_none(), "{added}");
    assert_snapshot("mutation_add_tracking_event", &added);
    let timeline = g
        .query_with("query($n: String!) { tracking(trackingNumber: $n) { events { vendor statusRaw description } } }", json!({"n": parcel.tracking_number}))
        .await;
    let events = timeline["data"]["tracking"]["events"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["vendor"] == "PROCARRIER" && e["statusRaw"] == "60"),
        "{timeline}"
    );
    let bad = g
        .query_with(
            add.replace("statusCode: 60", "statusCode: 61").as_str(),
            vars,
        )
        .await;
    assert_eq!(field(&bad), "statusCode");
}
