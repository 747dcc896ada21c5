//! Query and HTTP protections: depth, complexity, aliases, directives, batch and body size,
//! introspection and suggestions off in production, no mutations over GET, CSRF-safe content
//! types. Each refusal is GraphQL-shaped with a stable code.

use serde_json::{json, Value};

use crate::helpers::{self, TestGateway};

async fn gateway(
    customize: impl FnOnce(&mut returns_gateway::config::ServerSettings),
) -> (helpers::TestSims, TestGateway) {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| customize(&mut s.server)).await;
    (t, g)
}

async fn post_raw(
    g: &TestGateway,
    content_type: Option<&str>,
    body: Vec<u8>,
    extra: Option<(&str, &str)>,
) -> (u16, Value) {
    let mut req = g.http.post(&g.url).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some((k, v)) = extra {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn first_message(answer: &Value) -> String {
    answer["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn depth_complexity_and_directives_are_limited() {
    let (_t, g) = gateway(|s| {
        s.max_depth = 4;
        s.max_complexity = 5;
    })
    .await;
    let deep = g
        .query("{ returns { edges { node { order { id } } } } }")
        .await;
    assert!(first_message(&deep).contains("nested too deep"), "{deep}");
    let complex = g.query("{ vendors { vendor healthy consecutiveFailures lastSuccessAt lastFailureAt lastErrorCode dataAgeSeconds cachedEntries breakerState } }").await;
    assert!(first_message(&complex).contains("too complex"), "{complex}");

    let (_t, g) = gateway(|_| {}).await;
    let directives = g
        .query("{ vendors { vendor @include(if: true) @include(if: true) @include(if: true) @include(if: true) @include(if: true) @include(if: true) } }")
        .await;
    assert!(answer_has_error(&directives), "{directives}");
}

fn answer_has_error(answer: &Value) -> bool {
    answer["errors"].as_array().is_some_and(|e| !e.is_empty())
}

#[tokio::test]
async fn a_hundred_aliases_pass_and_one_more_is_refused() {
    let (_t, g) = gateway(|_| {}).await;
    let aliased = |n: usize| {
        format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!("a{i}: vendors {{ vendor }}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    let ok = g.query(&aliased(100)).await;
    assert!(!answer_has_error(&ok), "{}", first_message(&ok));
    let (status, refused) = post_raw(
        &g,
        Some("application/json"),
        serde_json::to_vec(&json!({"query": aliased(101)})).unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "TOO_MANY_ALIASES"
    );
}

#[tokio::test]
async fn batches_are_capped_and_never_hold_mutations() {
    let (_t, g) = gateway(|_| {}).await;
    let one = json!({"query": "{ vendors { vendor } }"});
    let (status, ten) = post_raw(
        &g,
        Some("application/json"),
        serde_json::to_vec(&vec![one.clone(); 10]).unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ten.as_array().map(Vec::len), Some(10));
    let (status, eleven) = post_raw(
        &g,
        Some("application/json"),
        serde_json::to_vec(&vec![one.clone(); 11]).unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(eleven["errors"][0]["extensions"]["code"], "BATCH_TOO_LARGE");
    let mutation = json!({"query": "mutation { cancelReturn(trackingNumber: \"X\") { status } }"});
    let (status, mixed) = post_raw(
        &g,
        Some("application/json"),
        serde_json::to_vec(&vec![one, mutation]).unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        mixed["errors"][0]["extensions"]["code"],
        "MUTATION_IN_BATCH"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let (_t, g) = gateway(|_| {}).await;
    let padding = " ".repeat(2 * 1024 * 1024);
    let body = format!("{{\"query\": \"{{ vendors {{ vendor }} }}\"{padding}}}");
    let (status, answer) = post_raw(&g, Some("application/json"), body.into_bytes(), None).await;
    assert_eq!(status, 413);
    assert_eq!(
        answer["errors"][0]["extensions"]["code"],
        "REQUEST_TOO_LARGE"
    );
}

#[tokio::test]
async fn introspection_and_suggestions_are_off_in_production() {
    let (_t, production) = gateway(|s| {
        s.introspection = false;
        s.suggestions = false;
    })
    .await;
    // Disabled introspection answers nothing about the schema.
    let schema = production.query("{ __schema { types { name } } }").await;
    assert_eq!(schema["data"]["__schema"], Value::Null, "{schema}");
    let typo = production.query("{ vendorz { vendor } }").await;
    assert!(!first_message(&typo).contains("Did you mean"), "{typo}");
    // The demo keeps them on, and GraphiQL's own introspection query fits the default limits.
    let (_t, demo) = gateway(|_| {}).await;
    let schema = demo.query(GRAPHIQL_INTROSPECTION).await;
    assert!(!answer_has_error(&schema), "{}", first_message(&schema));
    assert_eq!(schema["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn mutations_over_get_are_refused() {
    let (t, g) = gateway(|_| {}).await;
    let resp = g
        .http
        .get(&g.url)
        .query(&[(
            "query",
            "mutation { cancelReturn(trackingNumber: \"X\") { status } }",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(
        answer["errors"][0]["extensions"]["code"],
        "MUTATION_OVER_GET"
    );
    assert_eq!(t.sims.procarrier.control.stats().values().sum::<u64>(), 0);
}

#[tokio::test]
async fn simple_content_types_need_a_preflight_header() {
    let (_t, g) = gateway(|_| {}).await;
    let body = serde_json::to_vec(&json!({"query": "{ vendors { vendor } }"})).unwrap();
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let (status, answer) = post_raw(&g, ct, body.clone(), None).await;
        assert_eq!(status, 400, "{ct:?}");
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "CSRF_REFUSED",
            "{ct:?}"
        );
    }
    let (status, answer) = post_raw(
        &g,
        Some("text/plain"),
        body.clone(),
        Some(("Apollo-Require-Preflight", "true")),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (status, _) = post_raw(&g, Some("application/json; charset=utf-8"), body, None).await;
    assert_eq!(status, 200);
}

const GRAPHIQL_INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name }
  mutationType { name } subscriptionType { name } types { ...FullType }
  directives { name description locations args { ...InputValue } } } }
fragment FullType on __Type { kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef }
    isDeprecated deprecationReason }
  inputFields { ...InputValue } interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";
