//! ProCarrier's signed `return_updated` webhooks → their return's row in the index →
//! `returnUpdated` subscriptions over graphql-ws, including the simulator's moving world.

use serde_json::{json, Value};

use vendors::procarrier::signature;

use crate::helpers::{self, TestGateway, TestSims};
use crate::ws;

const KEY: &str = "procarrier-demo-key";

const SUBSCRIPTION: &str = r#"subscription($filter: ReturnUpdateFilter) {
  returnUpdated(filter: $filter) {
    receivedAt
    return { id vendor vendorId status trackingStatus trackingNumber orderReference
             customer { email } }
  }
}"#;

fn webhook_url(g: &TestGateway, tenant: &str) -> String {
    g.url
        .replace("/graphql", &format!("/webhooks/procarrier/{tenant}"))
}

/// The docs' sample delivery with `id` and `tracking_last_update` set, as the raw bytes sent.
pub fn delivery(id: i64, last_update: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_str(&helpers::fixture(
        "procarrier/webhook-return-updated.request.json",
    ))
    .unwrap();
    body["id"] = json!(id);
    body["tracking_last_update"] = json!(last_update);
    serde_json::to_vec_pretty(&body).unwrap()
}

pub async fn post(
    g: &TestGateway,
    tenant: &str,
    body: Vec<u8>,
    signature: Option<String>,
) -> (u16, Value) {
    let mut request = g
        .http
        .post(webhook_url(g, tenant))
        .header("content-type", "application/json")
        .body(body);
    if let Some(s) = signature {
        request = request.header("X-Hmac-Sha256-Signature", s);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn signed(g: &TestGateway, body: Vec<u8>) -> (u16, Value) {
    let sig = signature::sign(KEY.as_bytes(), &body);
    post(g, "default", body, Some(sig)).await
}

async fn started() -> (TestSims, TestGateway) {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    (t, g)
}

#[tokio::test]
async fn signatures_are_checked_over_the_raw_body() {
    let (_t, g) = started().await;
    let body = delivery(1, "1700000000");

    let (status, answer) = signed(&g, body.clone()).await;
    assert_eq!((status, &answer["status"]), (200, &json!("processed")));

    let (status, answer) = post(&g, "default", delivery(2, "1"), None).await;
    assert_eq!(status, 400, "missing signature: {answer}");
    assert_eq!(answer["error"]["code"], "SIGNATURE_MISSING");

    let wrong = signature::sign(b"someone-elses-key", &body);
    let (status, answer) = post(&g, "default", body.clone(), Some(wrong)).await;
    assert_eq!(status, 401, "bad signature: {answer}");
    assert_eq!(answer["error"]["code"], "SIGNATURE_INVALID");

    // The same JSON, re-serialised (compact instead of pretty), under the original signature:
    // the signature covers the bytes, not the meaning.
    let original = delivery(3, "1700000000");
    let sig = signature::sign(KEY.as_bytes(), &original);
    let value: Value = serde_json::from_slice(&original).unwrap();
    let reserialised = serde_json::to_vec(&value).unwrap();
    assert_ne!(reserialised, original);
    let (status, _) = post(&g, "default", reserialised, Some(sig.clone())).await;
    assert_eq!(status, 401, "a re-serialised body no longer matches");
    let (status, _) = post(&g, "default", original, Some(sig)).await;
    assert_eq!(status, 200, "the original bytes do");

    // Base64 signatures are accepted too.
    let b64 = {
        use base64::Engine;
        let hex = signature::sign(KEY.as_bytes(), &delivery(4, "1"));
        let bytes: Vec<u8> = (0..64)
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let (status, _) = post(&g, "default", delivery(4, "1"), Some(b64)).await;
    assert_eq!(status, 200);

    // A tenant the gateway does not serve answers like a bad signature.
    let body = delivery(5, "1");
    let sig = signature::sign(KEY.as_bytes(), &body);
    let (status, _) = post(&g, "nobody", body, Some(sig)).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| s.webhooks.max_body_bytes = 4096).await;

    let (status, answer) = signed(&g, b"{\"id\": 1, \"tracking".to_vec()).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "BAD_REQUEST");

    let (status, _) = signed(&g, b"{\"tracking\": \"no id\"}".to_vec()).await;
    assert_eq!(status, 400, "an event without a return id");

    let mut big: Value = serde_json::from_slice(&delivery(1, "1")).unwrap();
    big["custom_fields"]["field1"] = json!("x".repeat(5000));
    let (status, answer) = signed(&g, serde_json::to_vec(&big).unwrap()).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["error"]["code"], "REQUEST_TOO_LARGE");
}

#[tokio::test]
async fn a_repeated_delivery_is_acknowledged_and_processed_once() {
    let (_t, g) = started().await;
    let mut sub = ws::connect(&g, json!({})).await.unwrap();
    sub.subscribe("1", SUBSCRIPTION, json!({})).await;
    ws::wait_for_subscribers(&g, 1).await;

    let (status, answer) = signed(&g, delivery(77, "1700000001")).await;
    assert_eq!((status, &answer["status"]), (200, &json!("processed")));
    let (status, answer) = signed(&g, delivery(77, "1700000001")).await;
    assert_eq!((status, &answer["status"]), (200, &json!("duplicate")));
    // A later update of the same return is a new event.
    let (status, answer) = signed(&g, delivery(77, "1700000002")).await;
    assert_eq!((status, &answer["status"]), (200, &json!("processed")));

    // The subscriber sees the first and the third delivery, not the repeat.
    let first = sub.next_event().await;
    assert_eq!(first["data"]["returnUpdated"]["return"]["vendorId"], "77");
    let second = sub.next_event().await;
    let r = &second["data"]["returnUpdated"]["return"];
    assert_eq!(r["vendorId"], "77");
    assert_eq!(r["vendor"], "PROCARRIER");
    assert_eq!(r["trackingNumber"], "HZ962130067GB");
    assert_eq!(
        r["trackingStatus"], "IN_TRANSIT",
        "status 20: received by carrier"
    );
}

#[tokio::test]
async fn a_valid_event_updates_its_return_row_and_nothing_else() {
    let (t, g) = started().await;
    const LISTING: &str = "{ returns(first: 100, filter: {vendors: [PROCARRIER]}) { totalCount
        edges { node { id vendorId status statusRaw trackingStatus trackingNumber createdAt } } } }";
    let before = g.query(LISTING).await;
    let edges = |answer: &Value| {
        answer["data"]["returns"]["edges"]
            .as_array()
            .unwrap()
            .clone()
    };
    let target = edges(&before)
        .into_iter()
        .map(|e| e["node"].clone())
        .find(|n| n["trackingStatus"] != "DELIVERED")
        .expect("a return not delivered yet");
    let id: i64 = target["vendorId"].as_str().unwrap().parse().unwrap();
    let mut body: Value = serde_json::from_slice(&delivery(id, "1700000000")).unwrap();
    body["tracking"] = target["trackingNumber"].clone();
    body["current_tracking_status"] = json!("60");
    t.reset_calls();
    let (status, answer) = signed(&g, serde_json::to_vec(&body).unwrap()).await;
    assert_eq!((status, &answer["status"]), (200, &json!("processed")));
    let after = g.query(LISTING).await;
    assert!(t.calls().is_empty(), "no vendor read: {:?}", t.calls());
    assert_eq!(
        after["data"]["returns"]["totalCount"],
        before["data"]["returns"]["totalCount"]
    );
    let changed: Vec<(Value, Value)> = edges(&before)
        .into_iter()
        .zip(edges(&after))
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "one row changed: {changed:?}");
    let (was, now) = (&changed[0].0["node"], &changed[0].1["node"]);
    assert_eq!(now["id"], target["id"]);
    assert_eq!(
        now["trackingStatus"], "DELIVERED",
        "status 60: delivered to the retailer"
    );
    assert_eq!(
        now["createdAt"], was["createdAt"],
        "what the webhook lacks is kept"
    );
    assert_eq!(now["trackingNumber"], was["trackingNumber"]);

    // A refused delivery changes nothing.
    body["current_tracking_status"] = json!("110");
    body["tracking_last_update"] = json!("1700000009");
    post(
        &g,
        "default",
        serde_json::to_vec(&body).unwrap(),
        Some("00".repeat(32)),
    )
    .await;
    assert_eq!(g.query(LISTING).await, after);
}

#[tokio::test]
async fn a_subscriber_receives_the_event_the_simulator_sends() {
    let (t, g) = started().await;
    let procarrier = &t.sims.procarrier.origin;
    let http = reqwest::Client::new();
    let set = http
        .put(format!("{procarrier}/__sim/webhooks"))
        .json(&json!({"url": webhook_url(&g, "default"), "interval_ms": 0, "per_tick": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);

    let mut sub = ws::connect(&g, json!({})).await.unwrap();
    sub.subscribe("live", SUBSCRIPTION, json!({})).await;
    ws::wait_for_subscribers(&g, 1).await;

    let tick: Value = http
        .post(format!("{procarrier}/__sim/webhooks/advance?count=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sent = &tick["deliveries"][0];
    assert_eq!(sent["httpStatus"], 200, "the gateway accepted it: {tick}");

    let event = sub.next_event().await;
    let r = &event["data"]["returnUpdated"]["return"];
    assert_eq!(
        r["vendorId"],
        sent["returnId"].as_i64().unwrap().to_string()
    );
    assert_eq!(r["trackingNumber"], sent["trackingNumber"]);
    assert!(event["data"]["returnUpdated"]["receivedAt"].is_string());
    assert!(r["customer"]["email"].as_str().unwrap().contains('@'));

    // The gateway's next read of that return shows the new state (the cache was dropped).
    let q = format!(
        r#"{{ node(id: "{}") {{ ... on Return {{ trackingStatusRaw }} }} }}"#,
        r["id"].as_str().unwrap()
    );
    let answer = g.query(&q).await;
    assert_eq!(
        answer["data"]["node"]["trackingStatusRaw"],
        sent["trackingStatus"].as_i64().unwrap().to_string(),
        "{answer}"
    );
}

#[tokio::test]
async fn subscriptions_filter_their_events() {
    let (_t, g) = started().await;
    let mut sub = ws::connect(&g, json!({})).await.unwrap();
    sub.subscribe(
        "only-78",
        SUBSCRIPTION,
        json!({"filter": {"orderReference": "ref-78"}}),
    )
    .await;
    ws::wait_for_subscribers(&g, 1).await;
    let mut other = delivery(77, "1");
    let mut wanted: Value = serde_json::from_slice(&delivery(78, "1")).unwrap();
    wanted["order_reference"] = json!("REF-78");
    signed(&g, std::mem::take(&mut other)).await;
    signed(&g, serde_json::to_vec(&wanted).unwrap()).await;
    let event = sub.next_event().await;
    assert_eq!(event["data"]["returnUpdated"]["return"]["vendorId"], "78");

    // A filter id that is not a Return's is refused, naming the field.
    sub.subscribe("bad", SUBSCRIPTION, json!({"filter": {"ids": ["nope"]}}))
        .await;
    // (async-graphql answers a failed subscription start as a `next` carrying the error.)
    let m = sub.next_message().await.unwrap();
    assert_eq!(m["id"], "bad", "{m}");
    assert_eq!(
        m["payload"]["errors"][0]["extensions"]["field"], "filter.ids[0]",
        "{m}"
    );
}
