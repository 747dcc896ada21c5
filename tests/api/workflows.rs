//! A returns team's workflows, one test per mutation: sending an exchange instead of a refund,
//! registering an order for returns, chasing a parcel live (TrackRU's two-hour rule held,
//! across a restart and on the injected clock), untracking a parcel, and reading a return
//! fresh. Calls are counted at the simulators: a success shows in the next query, bad input
//! names the field and sends nothing, a replayed key sends nothing and answers the same.

use serde_json::{json, Value};
use vendors::model::Vendor;

use crate::helpers::{self, TempDir, TestGateway, TestSims};
use returns_gateway::schema::ids::{GlobalId, NodeKind};
use simulators::world::ReturnChannel;

fn assert_snapshot(name: &str, value: &Value) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_json_snapshot!(name, value));
}

fn calls(t: &TestSims, route: &str) -> u64 {
    t.calls().get(route).copied().unwrap_or(0)
}

fn total_calls(t: &TestSims) -> u64 {
    t.calls().values().sum()
}

fn error_field(answer: &Value) -> &Value {
    &answer["errors"][0]["extensions"]["field"]
}

fn ok(answer: &Value) {
    assert!(answer.get("errors").is_none(), "{answer}");
}

fn id_of(kind: NodeKind, vendor: Vendor, native: impl ToString) -> String {
    GlobalId::new(kind, Some(vendor), native.to_string()).encode()
}

async fn started() -> (TestSims, TestGateway) {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    (t, g)
}

const MP_CREATE: &str = "merchantpro POST /api/v2/orders";

const EXCHANGE: &str = r#"mutation($r: ID, $o: ID, $lines: [ExchangeLineInput!]!, $s: ExchangeShippingInput, $key: String) {
  createExchangeOrder(returnId: $r, orderId: $o, lines: $lines, shipping: $s, idempotencyKey: $key) {
    order { vendorId returnSourceId tags paymentStatusRaw lines { sku quantity } }
    original { vendorId rmaOrderIds }
  }
}"#;

#[tokio::test]
async fn exchange_order_shows_on_the_original_and_on_the_return() {
    let (t, g) = started().await;
    let world = &t.sims.world;
    let ret = world
        .returns
        .iter()
        .find(|r| r.channel == ReturnChannel::ProCarrier)
        .expect("a ProCarrier return");
    let original = &world.orders[ret.order];
    let return_id = id_of(NodeKind::Return, Vendor::ProCarrier, ret.id);
    let order_id = id_of(NodeKind::Order, Vendor::MerchantPro, original.id);
    let lines = json!([{"sku": "SKU-EXCH-1", "name": "Running shoes, size 43", "quantity": 1}]);

    // Bad input names the field and sends nothing.
    t.reset_calls();
    let cases = [
        (
            json!({"r": return_id, "lines": [{"sku": "A", "quantity": 0}]}),
            "lines[0].quantity",
        ),
        (
            json!({"r": return_id, "lines": [{"sku": "A", "quantity": 1, "unitPrice": "-2"}]}),
            "lines[0].unitPrice",
        ),
        (json!({"r": return_id, "lines": []}), "lines"),
        (
            json!({"r": return_id, "o": order_id, "lines": lines}),
            "returnId",
        ),
        (
            json!({"r": return_id, "lines": lines, "s": {"country": "XX"}}),
            "shipping.country",
        ),
        (json!({"o": "nope", "lines": lines}), "orderId"),
    ];
    for (vars, field) in cases {
        let refused = g.query_with(EXCHANGE, vars.clone()).await;
        assert_eq!(error_field(&refused), field, "{vars}: {refused}");
        assert_eq!(
            refused["errors"][0]["extensions"]["code"],
            "INVALID_ARGUMENT"
        );
    }
    assert_eq!(total_calls(&t), 0, "nothing sent: {:?}", t.calls());

    // The exchange, raised from the return: linked to its shop order.
    let vars = json!({"r": return_id, "lines": lines, "key": "exchange-1"});
    let created = g.query_with(EXCHANGE, vars.clone()).await;
    ok(&created);
    let c = &created["data"]["createExchangeOrder"];
    let new_id = c["order"]["vendorId"].as_str().unwrap().to_owned();
    assert_eq!(c["order"]["returnSourceId"], original.id.to_string());
    assert_eq!(c["order"]["tags"], json!(["exchange"]));
    assert_eq!(c["order"]["lines"][0]["sku"], "SKU-EXCH-1");
    assert!(
        c["original"]["rmaOrderIds"]
            .as_array()
            .unwrap()
            .contains(&json!(new_id)),
        "{created}"
    );
    assert_eq!(calls(&t, MP_CREATE), 1);
    assert_snapshot("mutation_create_exchange_order", &created);

    // The next queries show it on the original order and on the return, from the index.
    t.reset_calls();
    let read = g
        .query_with(
            "query($o: ID!, $r: ID!) { order(id: $o) { rmaOrders { vendorId returnSourceId } }
               return(id: $r) { rmaOrders { vendorId } } }",
            json!({"o": order_id, "r": return_id}),
        )
        .await;
    ok(&read);
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|o| o["vendorId"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        ids(&read["data"]["order"]["rmaOrders"]).contains(&new_id),
        "{read}"
    );
    assert!(
        ids(&read["data"]["return"]["rmaOrders"]).contains(&new_id),
        "{read}"
    );
    assert_eq!(total_calls(&t), 0, "read from the index: {:?}", t.calls());

    // A replay of the key sends nothing and answers the same.
    let replayed = g.query_with(EXCHANGE, vars).await;
    assert_eq!(replayed, created);
    assert_eq!(total_calls(&t), 0, "{:?}", t.calls());

    // By order id, without a key: a second exchange.
    let again = g
        .query_with(EXCHANGE, json!({"o": order_id, "lines": lines}))
        .await;
    ok(&again);
    assert_ne!(
        again["data"]["createExchangeOrder"]["order"]["vendorId"],
        json!(new_id)
    );
    assert_eq!(calls(&t, MP_CREATE), 1);
}

const PC_CREATE: &str = "procarrier POST /api/orders/create/json";
const PC_UPDATE: &str = "procarrier POST /api/orders/update/json";
const PC_DELETE: &str = "procarrier POST /api/orders/delete/json";

#[tokio::test]
async fn an_order_registered_for_returns_updated_and_unregistered() {
    let (t, g) = started().await;
    let world = &t.sims.world;
    // An order ProCarrier does not know: none of its returns went through ProCarrier.
    let order = world
        .orders
        .iter()
        .enumerate()
        .find(|(i, _)| {
            !world
                .returns
                .iter()
                .any(|r| r.order == *i && r.channel == ReturnChannel::ProCarrier)
        })
        .map(|(_, o)| o)
        .expect("an order without ProCarrier returns");
    let order_id = id_of(NodeKind::Order, Vendor::MerchantPro, order.id);
    let read = "query($o: ID!) { order(id: $o) { returnsRegistration { registered reference freeReturn products } } }";
    let before = g.query_with(read, json!({"o": order_id})).await;
    ok(&before);
    assert_eq!(
        before["data"]["order"]["returnsRegistration"]["registered"],
        false
    );

    t.reset_calls();
    let register = "mutation($o: ID!, $f: Boolean, $key: String) { registerOrderForReturns(orderId: $o, freeReturn: $f, idempotencyKey: $key) { registered reference procarrierOrderId freeReturn products message } }";
    let refused = g.query_with(register, json!({"o": "nope"})).await;
    assert_eq!(error_field(&refused), "orderId", "{refused}");
    assert_eq!(total_calls(&t), 0, "{:?}", t.calls());

    let vars = json!({"o": order_id, "key": "register-1"});
    let registered = g.query_with(register, vars.clone()).await;
    ok(&registered);
    let r = &registered["data"]["registerOrderForReturns"];
    assert_eq!(r["registered"], true);
    assert_eq!(r["reference"], order.reference.as_str());
    assert!(r["procarrierOrderId"].is_string(), "{registered}");
    assert_eq!(r["products"], order.lines.len());
    assert_eq!(calls(&t, PC_CREATE), 1);

    // The next query shows it (the cached "not registered" was dropped).
    let after = g.query_with(read, json!({"o": order_id})).await;
    ok(&after);
    let shown = &after["data"]["order"]["returnsRegistration"];
    assert_eq!(shown["registered"], true, "{after}");
    assert_eq!(shown["products"], order.lines.len());

    // A replay sends nothing and answers the same.
    t.reset_calls();
    let replayed = g.query_with(register, vars).await;
    assert_eq!(replayed, registered);
    assert_eq!(total_calls(&t), 0, "{:?}", t.calls());

    // Updated: free returns from now on.
    let update = "mutation($o: ID!, $key: String) { updateRegisteredOrder(orderId: $o, freeReturn: true, idempotencyKey: $key) { registered procarrierOrderId freeReturn } }";
    let updated = g
        .query_with(update, json!({"o": order_id, "key": "update-1"}))
        .await;
    ok(&updated);
    assert_eq!(
        updated["data"]["updateRegisteredOrder"]["procarrierOrderId"],
        r["procarrierOrderId"]
    );
    assert_eq!(calls(&t, PC_UPDATE), 1);
    t.reset_calls();
    let replayed = g
        .query_with(update, json!({"o": order_id, "key": "update-1"}))
        .await;
    assert_eq!(replayed, updated);
    assert_eq!(total_calls(&t), 0, "{:?}", t.calls());
    let after = g.query_with(read, json!({"o": order_id})).await;
    assert_eq!(
        after["data"]["order"]["returnsRegistration"]["freeReturn"], true,
        "{after}"
    );

    // Unregistered: gone from ProCarrier.
    let unregister = "mutation($o: ID!, $key: String) { unregisterOrder(orderId: $o, idempotencyKey: $key) { registered reference message } }";
    let vars = json!({"o": order_id, "key": "unregister-1"});
    let gone = g.query_with(unregister, vars.clone()).await;
    ok(&gone);
    assert_eq!(gone["data"]["unregisterOrder"]["registered"], false);
    assert_eq!(calls(&t, PC_DELETE), 1);
    let after = g.query_with(read, json!({"o": order_id})).await;
    assert_eq!(
        after["data"]["order"]["returnsRegistration"]["registered"], false,
        "{after}"
    );
    let replayed = g.query_with(unregister, vars).await;
    assert_eq!(replayed, gone);
    assert_eq!(calls(&t, PC_DELETE), 1);
}

const REALTIME: &str = "trackru POST /v1/trackings/realtime";

const REFRESH: &str = r#"mutation($n: String!, $c: String, $key: String) {
  refreshTracking(trackingNumber: $n, carrierCode: $c, idempotencyKey: $key) {
    trackingNumber carrierCode refreshedAt nextRefreshAt fromCache live { vendor status statusRaw }
  }
}"#;

#[tokio::test]
async fn refresh_tracking_asks_trackru_once_per_two_hours_across_restarts() {
    let t = helpers::start().await;
    let dir = TempDir::new();
    let g = TestGateway::builder(&t).data_dir(&dir).start().await;
    let parcel = &t.sims.world.parcels[0];
    let number = parcel.tracking_number.as_str();

    let refused = g.query_with(REFRESH, json!({"n": "A 1"})).await;
    assert_eq!(error_field(&refused), "trackingNumber", "{refused}");
    assert_eq!(total_calls(&t), 0, "{:?}", t.calls());

    // The carrier code comes from TrackRU's row in the index.
    let first = g.query_with(REFRESH, json!({"n": number})).await;
    ok(&first);
    let f = &first["data"]["refreshTracking"];
    assert_eq!(f["fromCache"], false);
    assert_eq!(f["carrierCode"], parcel.carrier_code);
    assert_eq!(f["live"]["vendor"], "TRACKRU");
    let at = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).expect("an RFC 3339 time")
    };
    assert_eq!(
        at(&f["nextRefreshAt"]) - at(&f["refreshedAt"]),
        chrono::Duration::hours(2)
    );
    assert_eq!(calls(&t, REALTIME), 1);

    // Inside the window: the kept read, no call.
    let second = g.query_with(REFRESH, json!({"n": number})).await;
    ok(&second);
    let s = &second["data"]["refreshTracking"];
    assert_eq!(s["fromCache"], true);
    assert_eq!(s["refreshedAt"], f["refreshedAt"]);
    assert_eq!(s["nextRefreshAt"], f["nextRefreshAt"]);
    assert_eq!(calls(&t, REALTIME), 1);

    // Concurrent refreshes of another parcel: one call, the others answer what it kept.
    let other = &t.sims.world.parcels[1].tracking_number;
    let answers =
        futures_util::future::join_all((0..5).map(|_| g.query_with(REFRESH, json!({"n": other}))))
            .await;
    assert!(
        answers.iter().all(|a| a.get("errors").is_none()),
        "{answers:?}"
    );
    assert_eq!(
        answers
            .iter()
            .filter(|a| a["data"]["refreshTracking"]["fromCache"] == false)
            .count(),
        1
    );
    assert_eq!(calls(&t, REALTIME), 2);

    // A keyed call, then its replay: the same answer, no call.
    let keyed = json!({"n": number, "c": parcel.carrier_code, "key": "refresh-1"});
    let once = g.query_with(REFRESH, keyed.clone()).await;
    ok(&once);
    assert_eq!(g.query_with(REFRESH, keyed).await, once);
    assert_eq!(calls(&t, REALTIME), 2);
    g.shutdown().await;

    // An hour later, after a restart: the window holds (it is kept in the index).
    let vars = json!({"n": number, "c": parcel.carrier_code});
    let later = TestGateway::builder(&t)
        .data_dir(&dir)
        .unsynced()
        .clock_ahead(chrono::Duration::hours(1))
        .start()
        .await;
    let kept = later.query_with(REFRESH, vars.clone()).await;
    ok(&kept);
    assert_eq!(kept["data"]["refreshTracking"]["fromCache"], true);
    assert_eq!(calls(&t, REALTIME), 2);
    later.shutdown().await;

    // Past two hours (the gateway's clock and TrackRU's moved on): asked again.
    let past = chrono::Duration::hours(2) + chrono::Duration::minutes(1);
    t.skip_ahead(past);
    let after = TestGateway::builder(&t)
        .data_dir(&dir)
        .unsynced()
        .clock_ahead(past)
        .start()
        .await;
    let fresh = after.query_with(REFRESH, vars).await;
    ok(&fresh);
    let r = &fresh["data"]["refreshTracking"];
    assert_eq!(r["fromCache"], false);
    assert!(at(&r["refreshedAt"]) >= at(&f["nextRefreshAt"]), "{fresh}");
    assert_eq!(calls(&t, REALTIME), 3);
}

#[tokio::test]
async fn untrack_parcel_drops_it_from_the_tracking() {
    let (t, g) = started().await;
    // An outbound parcel: only TrackRU tracks it.
    let parcel = t
        .sims
        .world
        .parcels
        .iter()
        .find(|p| !p.is_return)
        .expect("an outbound parcel");
    let read = "query($n: String!) { tracking(trackingNumber: $n) { sources } }";
    let before = g
        .query_with(read, json!({"n": parcel.tracking_number}))
        .await;
    assert_eq!(
        before["data"]["tracking"]["sources"],
        json!(["TRACKRU"]),
        "{before}"
    );

    t.reset_calls();
    let untrack = "mutation($c: String!, $n: String!, $key: String) { untrackParcel(carrierCode: $c, trackingNumber: $n, idempotencyKey: $key) { trackingNumber carrierCode untracked } }";
    let refused = g
        .query_with(untrack, json!({"c": " ", "n": parcel.tracking_number}))
        .await;
    assert_eq!(error_field(&refused), "carrierCode", "{refused}");
    assert_eq!(total_calls(&t), 0, "{:?}", t.calls());

    let vars = json!({"c": parcel.carrier_code, "n": parcel.tracking_number, "key": "untrack-1"});
    let untracked = g.query_with(untrack, vars.clone()).await;
    ok(&untracked);
    assert_eq!(untracked["data"]["untrackParcel"]["untracked"], true);
    assert_eq!(
        calls(
            &t,
            "trackru DELETE /v1/trackings/{carrier_code}/{tracking_number}"
        ),
        1
    );

    let after = g
        .query_with(read, json!({"n": parcel.tracking_number}))
        .await;
    ok(&after);
    assert_eq!(after["data"]["tracking"], Value::Null, "{after}");

    t.reset_calls();
    assert_eq!(g.query_with(untrack, vars).await, untracked);
    assert_eq!(total_calls(&t), 0, "{:?}", t.calls());
}

const RRR_GET: &str = "rrr POST /get/order_return/{id}";

#[tokio::test]
async fn a_fresh_read_asks_rrr_once_within_its_window_and_is_capped() {
    let t = TestSims::builder().returns(300).start().await;
    let g = helpers::gateway(&t).await;
    let rrr: Vec<u64> = t
        .sims
        .world
        .returns
        .iter()
        .filter(|r| r.channel == ReturnChannel::Rrr)
        .map(|r| r.id)
        .collect();
    assert!(rrr.len() > 31, "enough RRR returns: {}", rrr.len());
    let read = "query($id: ID!, $fresh: Boolean!) { return(id: $id, fresh: $fresh) { vendorId status statusRaw } }";
    let id = id_of(NodeKind::Return, Vendor::Rrr, rrr[0]);

    let indexed = g.query_with(read, json!({"id": id, "fresh": false})).await;
    ok(&indexed);
    assert_eq!(total_calls(&t), 0, "the index answers: {:?}", t.calls());

    let fresh = g.query_with(read, json!({"id": id, "fresh": true})).await;
    ok(&fresh);
    assert_eq!(fresh["data"], indexed["data"]);
    assert_eq!(calls(&t, RRR_GET), 1);
    // Reused within its window.
    let again = g.query_with(read, json!({"id": id, "fresh": true})).await;
    assert_eq!(again, fresh);
    assert_eq!(calls(&t, RRR_GET), 1);

    // Only RRR returns are read fresh.
    let pc = t
        .sims
        .world
        .returns
        .iter()
        .find(|r| r.channel == ReturnChannel::ProCarrier)
        .unwrap();
    let refused = g
        .query_with(
            read,
            json!({"id": id_of(NodeKind::Return, Vendor::ProCarrier, pc.id), "fresh": true}),
        )
        .await;
    assert_eq!(error_field(&refused), "fresh", "{refused}");

    // 30 vendor reads a minute per tenant: the 31st answers the index's row, with the code.
    for n in &rrr[1..30] {
        let answer = g
            .query_with(
                read,
                json!({"id": id_of(NodeKind::Return, Vendor::Rrr, n), "fresh": true}),
            )
            .await;
        ok(&answer);
    }
    assert_eq!(calls(&t, RRR_GET), 30);
    let limited = g
        .query_with(
            read,
            json!({"id": id_of(NodeKind::Return, Vendor::Rrr, rrr[30]), "fresh": true}),
        )
        .await;
    assert_eq!(
        limited["errors"][0]["extensions"]["code"], "FRESH_READ_LIMITED",
        "{limited}"
    );
    assert!(limited["errors"][0]["extensions"]["retryAfterSeconds"].is_u64());
    assert_eq!(limited["data"]["return"]["vendorId"], rrr[30].to_string());
    assert_eq!(calls(&t, RRR_GET), 30);
}
