//! The GraphQL schema end to end: representative answers (insta snapshots in `snapshots/`),
//! the served SDL, and cross-vendor joins.

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use returns_gateway::schema::ids::{GlobalId, NodeKind};
use serde_json::{json, Value};
use simulators::world::ReturnChannel;

use crate::helpers;
pub use crate::helpers::DASHBOARD;

/// Snapshots live at the top of the repository, reviewed as code.
fn assert_snapshot(name: &str, value: &Value) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_json_snapshot!(name, value));
}

#[tokio::test]
async fn schema_graphql_is_exactly_the_served_sdl() {
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql at the top of the repository");
    assert!(
        file == returns_gateway::schema::sdl(),
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql`"
    );
}

#[tokio::test]
async fn dashboard_returns_with_order_tracking_and_customer() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let answer = g.query_with(DASHBOARD, json!({"first": 4})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let edges = answer["data"]["returns"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 4);
    assert_eq!(
        answer["data"]["returns"]["totalCount"],
        t.sims.world.returns.len()
    );
    assert_snapshot("dashboard_first_4", &answer);
}

/// Every `{amount, currency}` object in `v`.
fn money_values<'a>(v: &'a Value, out: &mut Vec<(&'a str, &'a str)>) {
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(a)), Some(Value::String(c))) =
                (map.get("amount"), map.get("currency"))
            {
                out.push((a, c));
            }
            map.values().for_each(|v| money_values(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| money_values(v, out)),
        _ => {}
    }
}

/// The world's amounts are whole cents of EUR (and PLN on RRR's seller side): every amount is
/// written with exactly two decimals, `49.40` and `240.00` included, as `275.11` is.
#[tokio::test]
async fn money_is_written_with_its_currencys_minor_units() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let answer = g
        .query(
            "{ returns(first: 100) { edges { node {
                 total { amount currency } totalSeller { amount currency }
                 shipping { amount currency } shippingSeller { amount currency }
                 items { unitPrice { amount currency } unitPriceSeller { amount currency } }
                 refunds { amount { amount currency } amountSeller { amount currency } } } } }
               orders(first: 100) { edges { node { vendorId
                 total { amount currency } shippingTotal { amount currency }
                 lines { unitPrice { amount currency } total { amount currency } } } } } }",
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let mut amounts = Vec::new();
    money_values(&answer["data"], &mut amounts);
    assert!(amounts.len() > 500, "{}", amounts.len());
    for (amount, currency) in &amounts {
        assert!(["EUR", "PLN"].contains(currency), "{currency}");
        let decimals = amount.split_once('.').map(|(_, d)| d.len());
        assert_eq!(decimals, Some(2), "{amount} {currency}");
    }
    assert!(
        amounts.iter().any(|(a, _)| a.ends_with('0')),
        "some amount has a trailing zero to keep"
    );
    // Each shop order's total is the world's, cent for cent.
    let world = &t.sims.world;
    for order in answer["data"]["orders"]["edges"].as_array().unwrap() {
        let node = &order["node"];
        let id: Option<u64> = node["vendorId"].as_str().and_then(|s| s.parse().ok());
        let Some(w) = world.orders.iter().find(|o| Some(o.id) == id) else {
            continue; // a return (RMA) order
        };
        let cents = w.total_cents();
        assert_eq!(
            node["total"]["amount"],
            format!("{}.{:02}", cents / 100, cents % 100),
            "{node}"
        );
    }
}

#[tokio::test]
async fn a_multi_page_walk_reads_every_return_once_in_a_stable_order() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let (mut after, mut ids, mut pages) = (Value::Null, Vec::new(), Vec::new());
    loop {
        let answer = g
            .query_with(
                "query($after: String) { returns(first: 50, after: $after) {
                   pageInfo { hasNextPage endCursor } edges { node { id createdAt } } } }",
                json!({ "after": after }),
            )
            .await;
        assert!(answer.get("errors").is_none(), "{answer}");
        let page = &answer["data"]["returns"];
        let nodes: Vec<Value> = page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .collect();
        ids.extend(nodes.iter().map(|n| n["id"].as_str().unwrap().to_owned()));
        pages.push(
            json!({"count": nodes.len(), "first": nodes.first(), "last": nodes.last(),
                          "pageInfo": page["pageInfo"]}),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no return twice");
    assert_eq!(ids.len(), t.sims.world.returns.len(), "every return once");
    assert!(pages.len() > 2);
    assert_snapshot("returns_walk_pages_of_50", &json!(pages));
}

#[tokio::test]
async fn customer_view_joins_all_vendors() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    // A person with a ProCarrier return and at least two orders, e-mail written dirty.
    let world = &t.sims.world;
    let person = world
        .returns
        .iter()
        .filter(|r| r.channel == simulators::world::ReturnChannel::ProCarrier)
        .map(|r| world.orders[r.order].customer)
        .find(|&p| world.orders.iter().filter(|o| o.customer == p).count() >= 2)
        .expect("such a person");
    let email = format!("  {}  ", world.people[person].email.to_uppercase());
    let answer = g
        .query_with(
            "query($email: String) { customer(email: $email) {
               id name email phone returnRate
               returns { vendor vendorId status refused orderReference }
               refusals { vendorId }
               orders { vendorId reference shippingStatus }
               deliveries { trackingNumber deliveredAt }
               refunds { vendorId status amount { amount currency } } } }",
            json!({ "email": email }),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let c = &answer["data"]["customer"];
    assert_eq!(c["email"], world.people[person].email);
    assert!(c["orders"].as_array().unwrap().len() >= 2);
    assert!(!c["returns"].as_array().unwrap().is_empty());
    assert_snapshot("customer_view", &answer);
}

#[tokio::test]
async fn customer_lookup_validates_its_arguments() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let both = g
        .query(r#"{ customer(email: "a@b.gr", phone: "+306900000000") { id } }"#)
        .await;
    assert_eq!(both["errors"][0]["extensions"]["code"], "INVALID_ARGUMENT");
    let bad = g
        .query(r#"{ customer(email: "not-an-email") { id } }"#)
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "email");
    let phone = g.query(r#"{ customer(phone: "12") { id } }"#).await;
    assert_eq!(phone["errors"][0]["extensions"]["field"], "phone");
    let nobody = g
        .query(r#"{ customer(email: "nobody@example.com") { id } }"#)
        .await;
    assert_eq!(nobody, json!({"data": {"customer": null}}));
}

/// Everything the customer view says about a person, compared across the keys that find them.
const CUSTOMER_VIEW: &str = "id name email phone returnRate
    returns { vendor vendorId refused }
    refusals { vendorId }
    orders { vendorId }
    deliveries { trackingNumber }
    refunds { vendor vendorId status }";

/// The `(vendor, vendorId)` of a customer's `list` entries from `vendor`.
fn vendor_ids(customer: &Value, list: &str, vendor: &str) -> BTreeSet<String> {
    customer[list]
        .as_array()
        .unwrap_or_else(|| panic!("{list} in {customer}"))
        .iter()
        .filter(|e| e["vendor"] == vendor)
        .map(|e| e["vendorId"].as_str().expect("vendorId").to_owned())
        .collect()
}

#[tokio::test]
async fn a_customer_is_the_same_by_email_by_phone_by_id_and_from_their_returns() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let world = &t.sims.world;
    // RRR knows people by phone only; the other vendors' records carry both keys and link them.
    let mut people: Vec<usize> = Vec::new();
    for r in world
        .returns
        .iter()
        .filter(|r| r.channel == ReturnChannel::Rrr)
    {
        let person = world.orders[r.order].customer;
        if !people.contains(&person) {
            people.push(person);
        }
    }
    people.truncate(12);
    assert_eq!(
        people.len(),
        12,
        "the test world has 12 people with RRR returns"
    );
    let rrr_returns = g
        .query(
            "{ returns(first: 100, filter: {vendors: [RRR]}) {
                 edges { node { vendorId customer { id } } } } }",
        )
        .await;
    assert!(rrr_returns.get("errors").is_none(), "{rrr_returns}");
    let customer_id_of_rrr_return = |id: u64| {
        rrr_returns["data"]["returns"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .find(|e| e["node"]["vendorId"].as_str().and_then(|v| v.parse().ok()) == Some(id))
            .map(|e| e["node"]["customer"]["id"].clone())
            .unwrap_or_else(|| panic!("RRR return {id} listed"))
    };
    let view = |by: &'static str, value: String| {
        let query =
            format!("query($value: String) {{ customer({by}: $value) {{ {CUSTOMER_VIEW} }} }}");
        let g = &g;
        async move {
            let answer = g.query_with(&query, json!({ "value": value })).await;
            assert!(answer.get("errors").is_none(), "{answer}");
            answer["data"]["customer"].clone()
        }
    };
    let node_query =
        format!("query($id: ID!) {{ node(id: $id) {{ ... on Customer {{ {CUSTOMER_VIEW} }} }} }}");
    let mut wrong = Vec::new();
    for &p in &people {
        let person = &world.people[p];
        let theirs = |r: &&simulators::world::Return| {
            r.channel == ReturnChannel::Rrr && world.orders[r.order].customer == p
        };
        let rrr: BTreeSet<String> = world
            .returns
            .iter()
            .filter(theirs)
            .map(|r| r.id.to_string())
            .collect();
        let refunds: BTreeSet<String> = world
            .returns
            .iter()
            .filter(theirs)
            .flat_map(|r| r.refunds.iter().map(|f| f.id.to_string()))
            .collect();
        let by_email = view("email", person.email.clone()).await;
        let by_phone = view("phone", person.phone.clone()).await;
        let by_id = g
            .query_with(&node_query, json!({ "id": by_email["id"] }))
            .await;
        let mut problems = Vec::new();
        for (key, c) in [("e-mail", &by_email), ("phone", &by_phone)] {
            if vendor_ids(c, "returns", "RRR") != rrr {
                problems.push(format!(
                    "by {key}: RRR returns {:?}, not {rrr:?}",
                    vendor_ids(c, "returns", "RRR")
                ));
            }
            if vendor_ids(c, "refunds", "RRR") != refunds {
                problems.push(format!(
                    "by {key}: RRR refunds {:?}, not {refunds:?}",
                    vendor_ids(c, "refunds", "RRR")
                ));
            }
        }
        if by_email != by_phone {
            problems.push(format!(
                "by e-mail id {} returnRate {} {} returns, by phone id {} returnRate {} {} returns",
                by_email["id"],
                by_email["returnRate"],
                by_email["returns"].as_array().map_or(0, Vec::len),
                by_phone["id"],
                by_phone["returnRate"],
                by_phone["returns"].as_array().map_or(0, Vec::len),
            ));
        }
        // Ids are plain base64: they must not carry what `pii:read` guards.
        let id = by_email["id"]
            .as_str()
            .and_then(|id| URL_SAFE_NO_PAD.decode(id).ok());
        let id = String::from_utf8(id.unwrap_or_default()).unwrap_or_default();
        if id.is_empty() || id.contains(&person.email) || id.contains(&person.phone[1..]) {
            problems.push(format!("id {id:?} shows their contact"));
        }
        if by_id["data"]["node"] != by_email {
            problems.push(format!("node(id) finds {}", by_id["data"]["node"]));
        }
        // Ids given out before carried a key itself, e.g. the phone; they still resolve.
        let old_id = GlobalId::new(NodeKind::Customer, None, person.phone.as_str()).encode();
        let by_old_id = g.query_with(&node_query, json!({ "id": old_id })).await;
        if by_old_id["data"]["node"] != by_email {
            problems.push(format!("node(old id) finds {}", by_old_id["data"]["node"]));
        }
        for r in world.returns.iter().filter(theirs) {
            let from_return = customer_id_of_rrr_return(r.id);
            if from_return != by_email["id"] {
                problems.push(format!(
                    "RRR return {}'s customer has id {from_return}",
                    r.id
                ));
            }
        }
        if !problems.is_empty() {
            wrong.push(format!("{}: {}", person.email, problems.join("; ")));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} people with RRR returns differ by key:\n{}",
        wrong.len(),
        people.len(),
        wrong.join("\n")
    );
}

#[tokio::test]
async fn tracking_timeline_merges_procarrier_and_trackru() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let world = &t.sims.world;
    let r = world
        .returns
        .iter()
        .find(|r| {
            r.channel == simulators::world::ReturnChannel::ProCarrier
                && world.parcels[r.parcel].events.len() >= 3
        })
        .expect("a return parcel with events");
    let number = &world.parcels[r.parcel].tracking_number;
    let answer = g
        .query_with(
            "query($n: String!) { tracking(trackingNumber: $n) {
               id trackingNumber carrier status statusRaw statusVendor sources orderReference
               events { vendor at status statusRaw description location { country city text } } } }",
            json!({ "n": number }),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let events = answer["data"]["tracking"]["events"].as_array().unwrap();
    let vendors: std::collections::BTreeSet<_> =
        events.iter().map(|e| e["vendor"].as_str()).collect();
    assert_eq!(vendors.len(), 2, "both vendors' events");
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = events
        .iter()
        .map(|e| chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
    assert_snapshot("tracking_timeline", &answer);
    let unknown = g
        .query(r#"{ tracking(trackingNumber: "NOPE0000") { id } }"#)
        .await;
    assert_eq!(unknown, json!({"data": {"tracking": null}}));
}

#[tokio::test]
async fn drop_off_finder_sorts_by_distance_and_validates() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let answer = g
        .query(
            "{ dropOffPoints(near: {lat: 37.9838, lng: 23.7275}, radiusKm: 10) {
                 vendorId carrier serviceId title address distanceKm hoursText
                 openingHours { weekday ranges { opens closes } } } }",
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let points = answer["data"]["dropOffPoints"].as_array().unwrap();
    assert!(!points.is_empty());
    let d: Vec<f64> = points
        .iter()
        .map(|p| p["distanceKm"].as_f64().unwrap())
        .collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]) && d.iter().all(|&x| x <= 10.0));
    assert!(points
        .iter()
        .all(|p| p["openingHours"].as_array().unwrap().len() == 7));
    assert_snapshot("drop_off_points_athens", &answer);

    let neither = g.query("{ dropOffPoints { vendorId } }").await;
    assert_eq!(neither["errors"][0]["extensions"]["field"], "near");
    let country = g
        .query(r#"{ dropOffPoints(address: {country: "Greece"}) { vendorId } }"#)
        .await;
    assert_eq!(
        country["errors"][0]["extensions"]["field"],
        "address.country"
    );
    let radius = g
        .query("{ dropOffPoints(near: {lat: 1, lng: 1}, radiusKm: 0) { vendorId } }")
        .await;
    assert_eq!(radius["errors"][0]["extensions"]["field"], "radiusKm");
    let services = g
        .query(r#"{ returnServices(address: {country: "GR", city: "Athens"}, parcelWeightKg: 1.5) { vendorId name kind carrier } }"#)
        .await;
    assert!(services.get("errors").is_none(), "{services}");
    assert!(!services["data"]["returnServices"]
        .as_array()
        .unwrap()
        .is_empty());
    let weight = g
        .query(r#"{ returnServices(address: {country: "GR"}, parcelWeightKg: -1) { vendorId } }"#)
        .await;
    assert_eq!(weight["errors"][0]["extensions"]["field"], "parcelWeightKg");
}

#[tokio::test]
async fn drop_off_points_without_service_ids_search_every_service_of_the_account() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let near = "{ dropOffPoints(near: {lat: 52.373, lng: 4.8923}, radiusKm: 10) { serviceId } }";
    let answer = g.query(near).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let services: std::collections::BTreeSet<&str> = answer["data"]["dropOffPoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["serviceId"].as_str())
        .collect();
    assert!(!services.is_empty());
    let calls = t.calls();
    assert_eq!(
        calls.get("procarrier POST /api/services/get/json"),
        Some(&1)
    );
    assert_eq!(
        calls.get("procarrier POST /api/dropoff/points/json"),
        Some(&1)
    );
    // The account's services are cached with the other reads.
    t.reset_calls();
    g.query(&near.replace("radiusKm: 10", "radiusKm: 20")).await;
    assert_eq!(
        t.calls().get("procarrier POST /api/services/get/json"),
        None
    );
}

#[tokio::test]
async fn returns_summary_counts_every_vendor() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    // The whole world: it lies in the 120 days before the simulators' now.
    let answer = g
        .query_with(
            r#"query($from: DateTime!, $to: DateTime!) { returnsSummary(from: $from, to: $to) {
                 from to total byVendor { vendor count } byStatus { status count }
                 byReason { reason count } refusalRate
                 refundedTotals { amount currency } refundedTotalsSeller { amount currency }
                 incompleteVendors } }"#,
            json!({"from": "2026-01-01T00:00:00Z", "to": "2026-06-16T00:00:00Z"}),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(
        answer["data"]["returnsSummary"]["total"],
        t.sims.world.returns.len()
    );
    assert_snapshot("returns_summary", &answer);
    let backwards = g
        .query(r#"{ returnsSummary(from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z") { total } }"#)
        .await;
    assert_eq!(backwards["errors"][0]["extensions"]["field"], "to");
}

#[tokio::test]
async fn node_lookups_find_each_kind_again() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let first = g
        .query(
            "{ returns(first: 1, filter: {vendors: [PROCARRIER]}) { edges { node {
                 id customer { id } order { id } tracking { id } } } } }",
        )
        .await;
    let node = &first["data"]["returns"]["edges"][0]["node"];
    let ids = [
        node["id"].clone(),
        node["order"]["id"].clone(),
        node["tracking"]["id"].clone(),
        node["customer"]["id"].clone(),
    ];
    let mut found = Vec::new();
    for id in &ids {
        let a = g
            .query_with(
                "query($id: ID!) { node(id: $id) { __typename id
                   ... on Return { vendorId status }
                   ... on Order { vendorId reference }
                   ... on Shipment { trackingNumber sources }
                   ... on Customer { email phone } } }",
                json!({ "id": id }),
            )
            .await;
        assert!(a.get("errors").is_none(), "{a}");
        assert_eq!(&a["data"]["node"]["id"], id, "found again by its id");
        found.push(a["data"]["node"].clone());
    }
    assert_snapshot("node_lookups", &json!(found));
    let garbage = g.query(r#"{ node(id: "garbage") { id } }"#).await;
    assert_eq!(
        garbage["errors"][0]["extensions"]["code"],
        "INVALID_ARGUMENT"
    );
}

#[tokio::test]
async fn filters_and_page_size_limits() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let too_many = g.query("{ returns(first: 101) { totalCount } }").await;
    assert_eq!(too_many["errors"][0]["extensions"]["field"], "first");
    // A bad filter term is refused even when no vendor is asked (nothing to filter).
    let bad_email = g
        .query(r#"{ returns(filter: {vendors: [], customerEmail: "nope"}) { totalCount } }"#)
        .await;
    assert_eq!(
        bad_email["errors"][0]["extensions"]["field"],
        "filter.customerEmail"
    );
    let bad_cursor = g
        .query(r#"{ returns(after: "nope") { totalCount } }"#)
        .await;
    assert_eq!(bad_cursor["errors"][0]["extensions"]["field"], "after");
    let world = &t.sims.world;
    let rrr = world
        .returns
        .iter()
        .filter(|r| r.channel == simulators::world::ReturnChannel::Rrr)
        .count();
    let only_rrr = g
        .query("{ returns(filter: {vendors: [RRR]}) { totalCount } }")
        .await;
    assert_eq!(only_rrr["data"]["returns"]["totalCount"], rrr);
    let refused = g
        .query(
            "{ returns(first: 100, filter: {vendors: [VTRACK]}) { edges { node { refused } } } }",
        )
        .await;
    assert!(
        refused["data"]["returns"]["edges"]
            .as_array()
            .unwrap()
            .len()
            > 1
    );
    let order = &world.orders[world.returns[0].order];
    let by_ref = g
        .query_with(
            "query($r: String) { returns(filter: {orderReference: $r}) { edges { node { orderReference } } } }",
            json!({"r": order.reference}),
        )
        .await;
    let edges = by_ref["data"]["returns"]["edges"].as_array().unwrap();
    assert!(edges
        .iter()
        .all(|e| e["node"]["orderReference"] == json!(order.reference)));
    let orders = g
        .query("{ orders(first: 3, filter: {shippingStatus: DELIVERED}) { totalCount edges { node { shippingStatus returns { vendorId } } } } }")
        .await;
    assert!(orders.get("errors").is_none(), "{orders}");
    assert!(orders["data"]["orders"]["totalCount"].as_u64().unwrap() > 3);
}

#[tokio::test]
async fn graphiql_for_browsers_and_get_queries_for_programs() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let root = g.url.trim_end_matches("/graphql");
    for page in [format!("{root}/"), g.url.clone()] {
        let html = g
            .http
            .get(&page)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(html.status(), 200);
        assert!(
            html.text()
                .await
                .unwrap()
                .to_lowercase()
                .contains("graphiql"),
            "{page}"
        );
    }
    let answer: Value = g
        .http
        .get(&g.url)
        .query(&[("query", "{ vendors { vendor } }")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["data"]["vendors"].as_array().map(Vec::len), Some(5));
    let health = g.http.get(format!("{root}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn vendors_report_health_sync_and_data_age() {
    let t = helpers::start().await;
    // Unsynced: nothing read yet, no age.
    let g = helpers::TestGateway::builder(&t)
        .with(|s| s.vendors.rrr.base_url = helpers::refused_url())
        .unsynced()
        .start()
        .await;
    let before = g
        .query("{ vendors { vendor healthy dataAgeSeconds lastErrorCode sync { state } } }")
        .await;
    assert!(before["data"]["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["dataAgeSeconds"].is_null() && v["sync"]["state"] == "WAITING"));
    let _ = g.sync.as_ref().unwrap().tick_all().await;
    let after = g
        .query(
            "{ vendors { vendor healthy consecutiveFailures dataAgeSeconds lastErrorCode \
             sync { state progress lagSeconds lastErrorCode rows } } }",
        )
        .await;
    let by_vendor = |name: &str| {
        after["data"]["vendors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["vendor"] == name)
            .unwrap()
            .clone()
    };
    let rrr = by_vendor("RRR");
    assert_eq!(rrr["healthy"], false);
    assert_eq!(rrr["lastErrorCode"], "VENDOR_UNREACHABLE");
    assert_eq!(rrr["sync"]["state"], "WAITING", "{rrr}");
    assert_eq!(rrr["sync"]["lastErrorCode"], "VENDOR_UNREACHABLE");
    assert!(rrr["dataAgeSeconds"].is_null(), "never read: no age");
    let procarrier = by_vendor("PROCARRIER");
    assert_eq!(procarrier["healthy"], true);
    assert_eq!(procarrier["sync"]["state"], "READY");
    assert_eq!(procarrier["sync"]["progress"], 1.0);
    assert!(procarrier["sync"]["rows"].as_u64().unwrap() > 0);
    assert!(procarrier["sync"]["lagSeconds"].as_f64().unwrap() >= 0.0);
    assert!(procarrier["dataAgeSeconds"].as_f64().unwrap() >= 0.0);
}
