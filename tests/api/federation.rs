//! The federation v2 subgraph (`server.federation = true`): `_service { sdl }` is
//! `schema.federation.graphql`, which composes with another subgraph through a real composition
//! tool (The Guild's, pinned in `tools/federation-compose`; the test runs its `npm ci` when
//! missing), and `_entities` resolves every key it declares. Off, no `_service` nor `_entities` is served.

use std::process::Command;

use returns_gateway::schema::ids::{GlobalId, NodeKind};
use serde_json::{json, Value};
use vendors::model::Vendor;

use crate::helpers::{self, TestGateway, TestSims};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn federation_sdl_file() -> String {
    std::fs::read_to_string(format!("{ROOT}/schema.federation.graphql"))
        .expect("schema.federation.graphql at the top of the repository")
}

/// A gateway serving the subgraph, with introspection off as in production.
async fn subgraph(t: &TestSims) -> TestGateway {
    helpers::gateway_with(t, |s| {
        s.server.federation = true;
        s.server.introspection = false;
    })
    .await
}

const ENTITIES: &str = r#"query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Return { id vendorId orderReference }
    ... on Order { id reference }
    ... on Customer { id email }
    ... on Shipment { id trackingNumber }
  }
}"#;

async fn entities(g: &TestGateway, representations: Value) -> Value {
    g.query_with(ENTITIES, json!({ "representations": representations }))
        .await
}

#[test]
fn schema_federation_graphql_is_the_subgraph_sdl() {
    assert!(
        federation_sdl_file() == returns_gateway::schema::federation_sdl(),
        "schema.federation.graphql is stale: run \
         `cargo run -- schema --federation > schema.federation.graphql`"
    );
}

#[tokio::test]
async fn service_sdl_is_schema_federation_graphql() {
    let t = helpers::start().await;
    let g = subgraph(&t).await;
    let answer = g.query("{ _service { sdl } }").await;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert!(
        answer["data"]["_service"]["sdl"].as_str() == Some(federation_sdl_file().as_str()),
        "the served subgraph SDL differs from schema.federation.graphql"
    );
}

#[tokio::test]
async fn without_federation_there_is_no_service_nor_entities() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    for (query, field) in [
        ("{ _service { sdl } }", "_service"),
        (
            r#"{ _entities(representations: [{__typename: "Order", reference: "X"}]) { __typename } }"#,
            "_entities",
        ),
    ] {
        let answer = g.query(query).await;
        let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("Unknown field \"{field}\"")),
            "{answer}"
        );
    }
}

/// `node compose.mjs NAME=FILE…` in tools/federation-compose: the supergraph SDL, or
/// composition's errors.
fn compose(subgraphs: &[(&str, &str)]) -> Result<String, String> {
    // Never skipped: without node the test fails and says what to install.
    let tools = helpers::node_tool("federation-compose", "@theguild/federation-composition");
    let composed = Command::new("node")
        .current_dir(tools)
        .arg("compose.mjs")
        .args(
            subgraphs
                .iter()
                .map(|(name, path)| format!("{name}={path}")),
        )
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `node` ({e}): install Node.js (.ci/run installs it)")
        });
    let stdout = String::from_utf8_lossy(&composed.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&composed.stderr).into_owned();
    match composed.status.code() {
        Some(0) => Ok(stdout),
        Some(1) => Err(stderr),
        _ => panic!("compose.mjs did not run: {stdout}{stderr}"),
    }
}

const RETURNS: (&str, &str) = (
    "returns",
    concat!(env!("CARGO_MANIFEST_DIR"), "/schema.federation.graphql"),
);

#[test]
fn the_subgraph_composes_with_a_helpdesk_subgraph() {
    let helpdesk = format!("{ROOT}/tests/fixtures/federation/helpdesk.graphql");
    let supergraph = compose(&[RETURNS, ("helpdesk", &helpdesk)]).unwrap_or_else(|e| panic!("{e}"));
    // Every key the subgraph declares, as a router plans with it.
    for (ty, key) in [
        ("Return", "id"),
        ("Order", "id"),
        ("Order", "reference"),
        ("Customer", "id"),
        ("Customer", "email"),
        ("Shipment", "id"),
    ] {
        let join = format!("@join__type(graph: RETURNS, key: \"{key}\")");
        assert!(
            type_block(&supergraph, ty).contains(&join),
            "{ty} lacks {join} in the supergraph:\n{supergraph}"
        );
    }
    // The helpdesk's fields land on the gateway's types, resolved through those keys.
    for ty in ["Order", "Customer"] {
        assert!(
            type_block(&supergraph, ty)
                .contains("tickets: [Ticket!]! @join__field(graph: HELPDESK)"),
            "{ty}.tickets:\n{supergraph}"
        );
    }
}

#[test]
fn composition_refuses_a_subgraph_that_redefines_a_gateway_field() {
    // The tool checks for real: another subgraph's `Order.total` clashes with ours.
    let dir = helpers::TempDir::new();
    let billing = dir.path().join("billing.graphql");
    std::fs::write(
        &billing,
        r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
type Query { invoices: [Int!]! }
type Order @key(fields: "reference") { reference: String total: Int }
"#,
    )
    .expect("a temporary file");
    let refused = compose(&[RETURNS, ("billing", &billing.display().to_string())])
        .expect_err("Order.total is the gateway's");
    assert!(
        refused.contains("FIELD_TYPE_MISMATCH") && refused.contains("Order.total"),
        "{refused}"
    );
}

/// The definition of object type `name` in an SDL document, up to its closing brace.
fn type_block<'a>(sdl: &'a str, name: &str) -> &'a str {
    let start = sdl
        .find(&format!("\ntype {name} "))
        .unwrap_or_else(|| panic!("no type {name} in:\n{sdl}"));
    let end = sdl[start..].find("\n}").map_or(sdl.len(), |e| start + e);
    &sdl[start..end]
}

#[tokio::test]
async fn entities_resolve_by_every_key_from_the_index() {
    let t = helpers::start().await;
    let g = subgraph(&t).await;
    // A ProCarrier return with its order, customer and parcel, as the subgraph gives them out.
    let listed = g
        .query(
            "{ returns(first: 1, filter: {vendors: [PROCARRIER]}) { edges { node {
                id vendorId orderReference
                order { id reference }
                customer { id email }
                tracking { id trackingNumber } } } } }",
        )
        .await;
    assert!(listed.get("errors").is_none(), "{listed}");
    let r = &listed["data"]["returns"]["edges"][0]["node"];
    let (order, customer, shipment) = (&r["order"], &r["customer"], &r["tracking"]);
    assert!(
        order.is_object() && customer.is_object() && shipment.is_object(),
        "{r}"
    );
    t.reset_calls();

    let email = customer["email"].as_str().expect("an e-mail");
    let answer = entities(
        &g,
        json!([
            {"__typename": "Return", "id": r["id"]},
            {"__typename": "Order", "id": order["id"]},
            {"__typename": "Order", "reference": order["reference"]},
            {"__typename": "Customer", "id": customer["id"]},
            // Matched after normalisation, as `customer(email)`.
            {"__typename": "Customer", "email": format!("  {}", email.to_uppercase())},
        ]),
    )
    .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let ret = json!({"__typename": "Return", "id": r["id"], "vendorId": r["vendorId"],
        "orderReference": r["orderReference"]});
    let ord = json!({"__typename": "Order", "id": order["id"], "reference": order["reference"]});
    let cus = json!({"__typename": "Customer", "id": customer["id"], "email": email});
    assert_eq!(
        answer["data"]["_entities"],
        json!([ret, ord, ord, cus, cus]),
        "in the order of the representations"
    );
    assert_eq!(
        t.calls().values().sum::<u64>(),
        0,
        "answered from the returns index: {:?}",
        t.calls()
    );

    // A parcel is read live, as `tracking(trackingNumber)` reads it.
    let answer = entities(
        &g,
        json!([{"__typename": "Shipment", "id": shipment["id"]}]),
    )
    .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(
        answer["data"]["_entities"],
        json!([{"__typename": "Shipment", "id": shipment["id"],
            "trackingNumber": shipment["trackingNumber"]}])
    );
}

#[tokio::test]
async fn unknown_keys_answer_null_and_bad_ones_say_why() {
    let t = helpers::start().await;
    let g = subgraph(&t).await;
    let known = &t.sims.world.orders[0].reference;
    let no_return = GlobalId::new(NodeKind::Return, Some(Vendor::Rrr), "987654321").encode();
    let answer = entities(
        &g,
        json!([
            {"__typename": "Order", "reference": "NO-SUCH-ORDER"},
            {"__typename": "Return", "id": no_return},
            {"__typename": "Customer", "email": "nobody@nowhere.example"},
            {"__typename": "Order", "id": "not an id"},
            {"__typename": "Order", "reference": known},
        ]),
    )
    .await;
    let found = answer["data"]["_entities"].as_array().expect("entities");
    assert_eq!(found.len(), 5, "{answer}");
    assert!(found[..4].iter().all(Value::is_null), "{answer}");
    assert_eq!(found[4]["reference"], json!(known), "the rest is kept");
    // Only the malformed id is an error; unknown keys are plain nulls.
    let errors = answer["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{answer}");
    assert_eq!(errors[0]["extensions"]["code"], "INVALID_ARGUMENT");
    assert_eq!(errors[0]["extensions"]["field"], "id");

    // A representation no key of the subgraph matches is async-graphql's error for the whole
    // field: a router plans only with the declared keys, so it never sends one.
    let answer = entities(&g, json!([{"__typename": "Order", "sku": "X"}])).await;
    assert_eq!(
        answer["errors"][0]["message"], "Entity not found.",
        "{answer}"
    );
}

#[tokio::test]
async fn entities_ask_for_the_scopes_their_queries_do() {
    const SECRET: &str = "test-secret";
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| {
        s.server.federation = true;
        s.auth.allow_anonymous = false;
        s.auth.hs256_secret = returns_gateway::config::Secret::new(SECRET);
    })
    .await;
    let world = &t.sims.world;
    let known = &world.orders[0].reference;
    let email = &world.people[world.orders[0].customer].email;
    let auth = &t.settings.auth;
    let claims = json!({"sub": "router", "tenant": "default", "scope": "returns:read",
        "iss": auth.issuer, "aud": auth.audience, "exp": helpers::unix_now() + 600});
    let token = helpers::hs256(&claims, SECRET.as_bytes());
    let answer: Value = g
        .http
        .post(&g.url)
        .bearer_auth(token)
        .json(
            &json!({"query": ENTITIES, "variables": {"representations": [
                {"__typename": "Order", "reference": known},
                {"__typename": "Customer", "email": email},
            ]}}),
        )
        .send()
        .await
        .expect("gateway answers")
        .json()
        .await
        .expect("a JSON answer");
    // The order needs orders:read: null with FORBIDDEN. The customer needs returns:read, and
    // shows their e-mail masked without pii:read, as everywhere.
    let found = &answer["data"]["_entities"];
    assert_eq!(found[0], Value::Null, "{answer}");
    assert_eq!(found[1]["__typename"], "Customer", "{answer}");
    let (local, domain) = email.split_once('@').expect("an e-mail");
    assert_eq!(found[1]["email"], format!("{}***@{domain}", &local[..1]));
    let errors = answer["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{answer}");
    assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(errors[0]["extensions"]["scope"], "orders:read");
}
