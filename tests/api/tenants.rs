//! Tenants: a token's `tenant` claim selects that tenant's vendor accounts; nothing one tenant
//! reads, writes, caches or is notified of reaches another. Two simulated vendor worlds (two
//! seeds, two ProCarrier keys) stand for two companies' accounts.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use returns_gateway::config::{Secret, Settings, TenantSettings};
use vendors::procarrier::signature;

use crate::helpers::{self, TestGateway, TestSims};
use crate::ws;

const SECRET: &str = "tenant-test-secret";
const ISS: &str = "https://issuer.test";
const AUD: &str = "returns-gateway";
const ACME_KEY: &str = "procarrier-demo-key";
const GLOBEX_KEY: &str = "globex-procarrier-key";

fn token(tenant: &str, scope: &str) -> String {
    token_for(tenant, scope, 600)
}

fn token_for(tenant: &str, scope: &str, ttl_s: u64) -> String {
    let claims = json!({"sub": "agent", "tenant": tenant, "scope": scope,
        "iss": ISS, "aud": AUD, "exp": helpers::unix_now() + ttl_s});
    helpers::hs256(&claims, SECRET.as_bytes())
}

const ALL: &str = "returns:read orders:read tracking:read returns:write pii:read";

struct Two {
    acme: TestSims,
    globex: TestSims,
    g: TestGateway,
}

/// Tenant `acme` on one simulated world, `globex` on another; anonymous callers refused.
async fn two_tenants() -> Two {
    two_tenants_with(|_| {}).await
}

/// [`two_tenants`], the gateway's settings `customize`d.
async fn two_tenants_with(customize: impl FnOnce(&mut Settings)) -> Two {
    let acme = helpers::start().await;
    let globex = helpers::start_with(|s| {
        s.sim.seed = 7;
        s.sim.returns = 90;
        s.sim.credentials.procarrier_api_key = Secret::new(GLOBEX_KEY);
        s.vendors.procarrier.api_key = Secret::new(GLOBEX_KEY);
    })
    .await;
    let g = helpers::gateway_with(&acme, |s| {
        s.auth.allow_anonymous = false;
        s.auth.hs256_secret = Secret::new(SECRET);
        s.auth.issuer = ISS.into();
        s.auth.audience = AUD.into();
        s.tenants.insert(
            "acme".into(),
            TenantSettings {
                vendors: acme.settings.vendors.clone(),
            },
        );
        s.tenants.insert(
            "globex".into(),
            TenantSettings {
                vendors: globex.settings.vendors.clone(),
            },
        );
        customize(s);
    })
    .await;
    Two { acme, globex, g }
}

async fn query_as(g: &TestGateway, tenant: &str, query: &str, key: Option<&str>) -> (u16, Value) {
    let mut request = g
        .http
        .post(&g.url)
        .bearer_auth(token(tenant, ALL))
        .json(&json!({ "query": query }));
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn tracking_numbers(answer: &Value) -> BTreeSet<String> {
    answer["data"]["returns"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"]["trackingNumber"].as_str().map(str::to_owned))
        .collect()
}

/// (tracking number, customer e-mail) of each return: the simulated worlds number their
/// parcels alike, but their customers differ by seed.
fn returns_seen(answer: &Value) -> BTreeSet<(String, String)> {
    answer["data"]["returns"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["trackingNumber"].as_str().unwrap().to_owned(),
                n["customer"]["email"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn world_tracking_numbers(t: &TestSims) -> BTreeSet<String> {
    t.sims
        .world
        .parcels
        .iter()
        .map(|p| p.tracking_number.clone())
        .collect()
}

const LISTING: &str = "{ returns(first: 100, filter: {vendors: [PROCARRIER]}) {
    totalCount edges { node { id trackingNumber customer { email } } } } }";
const SEARCH: &str = "procarrier POST /api/returns/search/json";

#[tokio::test]
async fn a_tenant_reads_only_its_own_accounts_and_index() {
    let Two { acme, globex, g } = two_tenants().await;
    // Each tenant's index was synced from its own accounts only.
    globex.reset_calls();

    let (status, a) = query_as(&g, "acme", LISTING, None).await;
    assert_eq!(status, 200, "{a}");
    let a_numbers = tracking_numbers(&a);
    assert!(!a_numbers.is_empty());
    assert!(a_numbers.is_subset(&world_tracking_numbers(&acme)));

    // The same query for globex is answered from globex's rows, not acme's.
    let (_, b) = query_as(&g, "globex", LISTING, None).await;
    assert!(tracking_numbers(&b).is_subset(&world_tracking_numbers(&globex)));
    assert!(
        returns_seen(&a).is_disjoint(&returns_seen(&b)),
        "no acme return shows for globex"
    );
    assert_eq!(
        a["data"]["returns"]["totalCount"],
        acme.sims
            .world
            .returns
            .iter()
            .filter(|r| r.channel == simulators::world::ReturnChannel::ProCarrier)
            .count()
    );

    // An acme return's global id, asked for by globex, is looked up in globex's index and
    // account only.
    let acme_return = &a["data"]["returns"]["edges"][0]["node"];
    let q = format!(
        r#"{{ node(id: "{}") {{ ... on Return {{ trackingNumber customer {{ email }} }} }} }}"#,
        acme_return["id"].as_str().unwrap()
    );
    let (_, seen) = query_as(&g, "globex", &q, None).await;
    let seen = &seen["data"]["node"];
    assert!(
        seen.is_null() || seen["customer"]["email"] != acme_return["customer"]["email"],
        "globex sees at most its own return under that number: {seen}"
    );
    assert!(acme.calls().is_empty(), "{:?}", acme.calls());
}

#[tokio::test]
async fn a_refused_key_holds_only_its_own_tenants_calls() {
    let Two { acme, globex, g } = two_tenants_with(|s| {
        let globex = s.tenants.get_mut("globex").expect("globex is configured");
        globex.vendors.procarrier.api_key = Secret::new("revoked-globex-key");
    })
    .await;
    // globex's sync was refused: its listing says so, from the index, without calling.
    for _ in 0..3 {
        let (_, answer) = query_as(&g, "globex", LISTING, None).await;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "VENDOR_ACCESS_DENIED",
            "{answer}"
        );
    }
    assert_eq!(
        globex.calls()[SEARCH],
        1,
        "sent once (by the sync), then held"
    );
    let (_, answer) = query_as(&g, "acme", LISTING, None).await;
    assert!(
        answer["errors"].is_null(),
        "acme's calls are not held: {answer}"
    );
    assert!(!tracking_numbers(&answer).is_empty());
    // globex's next sync round is held too; acme's goes through.
    let sync = g.sync.as_ref().unwrap();
    globex.reset_calls();
    assert!(sync
        .tick("globex", vendors::model::Vendor::ProCarrier)
        .await
        .is_err());
    assert!(globex.calls().is_empty(), "{:?}", globex.calls());
    sync.tick("acme", vendors::model::Vendor::ProCarrier)
        .await
        .unwrap();
    assert_eq!(acme.calls()[SEARCH], 1);
}

#[tokio::test]
async fn a_tenant_cannot_write_to_another_or_replay_its_idempotency_keys() {
    let Two { acme, globex, g } = two_tenants().await;
    let open = LISTING.replace(
        "vendors: [PROCARRIER]",
        "vendors: [PROCARRIER], statuses: [REQUESTED, IN_TRANSIT]",
    );
    let (_, a) = query_as(&g, "acme", &open, None).await;
    // An open return only acme's world has (the worlds number their parcels alike).
    let tn = tracking_numbers(&a)
        .difference(&world_tracking_numbers(&globex))
        .next()
        .expect("acme's larger world has returns globex's lacks")
        .clone();
    let cancel = format!(r#"mutation {{ cancelReturn(trackingNumber: "{tn}") {{ status }} }}"#);
    let cancels = "procarrier POST /api/returns/cancel/json";

    let (_, done) = query_as(&g, "acme", &cancel, Some("same-key")).await;
    assert!(done["errors"].is_null(), "{done}");
    assert_eq!(acme.calls()[cancels], 1);

    // globex, same key, same input: not acme's stored outcome, but its own call to its own
    // account, which does not know acme's return.
    let (_, other) = query_as(&g, "globex", &cancel, Some("same-key")).await;
    assert!(!other["errors"].is_null(), "{other}");
    assert!(other["data"].is_null() || other["data"]["cancelReturn"].is_null());
    assert_eq!(globex.calls()[cancels], 1);
    assert_eq!(
        acme.calls()[cancels],
        1,
        "acme's account was not written twice"
    );
}

#[tokio::test]
async fn a_token_for_a_tenant_not_served_is_forbidden() {
    let Two { acme, g, .. } = two_tenants().await;
    let (status, answer) = query_as(&g, "initech", "{ vendors { vendor } }", None).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert!(acme.calls().is_empty());
}

const SUBSCRIPTION: &str = "subscription { returnUpdated { return { vendorId } } }";

/// A delivery of return `id` to `tenant`, signed with `key`: the HTTP status.
async fn deliver(g: &TestGateway, tenant: &str, key: &str, id: i64) -> u16 {
    let body = crate::webhooks::delivery(id, "1700000000");
    let sig = signature::sign(key.as_bytes(), &body);
    crate::webhooks::post(g, tenant, body, Some(sig)).await.0
}

#[tokio::test]
async fn webhooks_and_subscriptions_stay_within_their_tenant() {
    let Two { g, .. } = two_tenants().await;
    let init = |tenant: &str| json!({"Authorization": format!("Bearer {}", token(tenant, ALL))});
    let mut acme = ws::connect(&g, init("acme")).await.unwrap();
    acme.subscribe("a", SUBSCRIPTION, json!({})).await;
    let mut globex = ws::connect(&g, init("globex")).await.unwrap();
    globex.subscribe("g", SUBSCRIPTION, json!({})).await;
    ws::wait_for_subscribers(&g, 2).await;

    // Each tenant's webhooks are signed with its own ProCarrier key.
    assert_eq!(deliver(&g, "globex", ACME_KEY, 1).await, 401);
    assert_eq!(deliver(&g, "globex", GLOBEX_KEY, 1).await, 200);
    assert_eq!(deliver(&g, "acme", ACME_KEY, 2).await, 200);

    let seen = globex.next_event().await;
    assert_eq!(seen["data"]["returnUpdated"]["return"]["vendorId"], "1");
    let seen = acme.next_event().await;
    assert_eq!(
        seen["data"]["returnUpdated"]["return"]["vendorId"], "2",
        "acme never receives globex's event"
    );
}

#[tokio::test]
async fn subscriptions_need_a_valid_token_and_returns_read() {
    let Two { g, .. } = two_tenants().await;
    let refused = ws::connect(&g, json!({})).await;
    assert!(refused.is_err(), "no token, no session");
    let refused = ws::connect(&g, json!({"Authorization": "Bearer not-a-jwt"})).await;
    assert!(refused.is_err());
    let refused = ws::connect(&g, json!({"token": token("initech", ALL)})).await;
    assert!(refused.is_err(), "a tenant not served");

    let mut narrow = ws::connect(&g, json!({"token": token("acme", "orders:read")}))
        .await
        .unwrap();
    narrow.subscribe("x", SUBSCRIPTION, json!({})).await;
    let m = narrow.next_message().await.unwrap();
    assert_eq!(
        m["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{m}"
    );
}

#[tokio::test]
async fn a_subscription_ends_when_its_token_expires() {
    let Two { g, .. } = two_tenants().await;
    let mut session = ws::connect(&g, json!({"token": token_for("acme", ALL, 2)}))
        .await
        .unwrap();
    session.subscribe("short", SUBSCRIPTION, json!({})).await;
    let m = session.next_message().await.unwrap();
    assert_eq!(
        (&m["type"], &m["id"]),
        (&json!("complete"), &json!("short")),
        "{m}"
    );
}
