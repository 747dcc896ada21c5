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

#[tokio::test]
async fn typenames_count_toward_complexity() {
    let (t, g) = gateway(|_| {}).await;
    let typenames = |n: usize| format!("{{ {} }}", "__typename ".repeat(n));
    let max = t.settings.server.max_complexity;
    let small = g.query(&typenames(max)).await;
    assert_eq!(small["data"]["__typename"], "Query", "{small}");
    for n in [150_000, max + 1] {
        let refused = g.query(&typenames(n)).await;
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("too complex")),
            "{n} × __typename: {}",
            refused.to_string().chars().take(300).collect::<String>()
        );
        assert!(refused["data"].is_null());
    }
    // Inside a fragment spread twice, they count twice.
    let fragment = format!(
        "{{ ...T ...T }} fragment T on Query {{ {} }}",
        "__typename ".repeat(max / 2 + 1)
    );
    let refused = g.query(&fragment).await;
    assert!(refused["data"].is_null(), "{refused}");
}

/// The audit's document: `n` fragments, each spreading the next twice, down to one selecting
/// `__typename` (n = 22: under a kilobyte, 2^22 fields once expanded).
fn doubling_fragments(n: usize) -> String {
    let mut query = String::from("{ ...F0 } ");
    for i in 0..n {
        query.push_str(&format!(
            "fragment F{i} on Query {{ ...F{j} ...F{j} }} ",
            j = i + 1
        ));
    }
    query.push_str(&format!("fragment F{n} on Query {{ __typename }}"));
    query
}

fn assert_too_complex(answer: &Value, what: &str) {
    let error = &answer["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{what}: {answer}"
    );
    assert_eq!(error["extensions"]["retryable"], false, "{what}: {answer}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Query is too complex")),
        "{what}: {answer}"
    );
    assert!(answer["data"].is_null(), "{what}: {answer}");
}

/// Fragments spreading fragments are counted before async-graphql sees the document (it expands
/// each spread anew: 2^22 fields to walk kept a core busy for 18 s, 2^30 would for over an
/// hour), whether the request comes by POST, GET or in a batch.
#[tokio::test]
async fn doubling_fragments_are_refused_before_they_are_expanded() {
    let (t, g) = gateway(|_| {}).await;
    assert_eq!(t.settings.server.max_complexity, 500);
    for n in [22, 30] {
        let query = doubling_fragments(n);
        let (status, refused) = post_raw(
            &g,
            Some("application/json"),
            serde_json::to_vec(&json!({ "query": query })).unwrap(),
            None,
        )
        .await;
        assert_eq!(status, 200, "{n} fragments");
        assert_too_complex(&refused, &format!("POST, {n} fragments"));

        let resp = g
            .http
            .get(&g.url)
            .query(&[("query", query.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{n} fragments");
        assert_too_complex(&resp.json().await.unwrap(), &format!("GET, {n} fragments"));

        let batch = json!([{ "query": "{ __typename }" }, { "query": query }]);
        let (status, refused) = post_raw(
            &g,
            Some("application/json"),
            serde_json::to_vec(&batch).unwrap(),
            None,
        )
        .await;
        assert_eq!(status, 200, "{n} fragments");
        assert_too_complex(&refused, &format!("batch, {n} fragments"));
    }
    // The count is the expanded field count: 2^8 = 256 fields run, 2^9 = 512 are over 500.
    let within = g.query(&doubling_fragments(8)).await;
    assert_eq!(within["data"]["__typename"], "Query", "{within}");
    assert_too_complex(&g.query(&doubling_fragments(9)).await, "2^9 fields");
}

#[tokio::test]
async fn doubling_fragments_are_refused_over_the_websocket() {
    let (_t, g) = gateway(|_| {}).await;
    let mut session = crate::ws::connect(&g, json!({})).await.unwrap();
    // The answer to operation `id`, past the previous operations' `complete`s.
    async fn answer(session: &mut crate::ws::Subscription, id: &str) -> Value {
        loop {
            let m = session.next_message().await.unwrap();
            if m["type"] != "complete" {
                assert_eq!(m["id"], id, "{m}");
                return m;
            }
        }
    }
    for n in [22, 30] {
        let id = format!("doubling-{n}");
        session
            .subscribe(&id, &doubling_fragments(n), json!({}))
            .await;
        let m = answer(&mut session, &id).await;
        assert_too_complex(&m["payload"], &format!("graphql-ws, {n} fragments: {m}"));
    }
    // The session goes on: a query within the limit runs.
    session
        .subscribe("within", &doubling_fragments(8), json!({}))
        .await;
    let m = answer(&mut session, "within").await;
    assert_eq!(m["payload"]["data"]["__typename"], "Query", "{m}");
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

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn persisted(hash: &str, query: Option<&str>) -> Value {
    let mut body = json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash}}});
    if let Some(q) = query {
        body["query"] = json!(q);
    }
    body
}

#[tokio::test]
async fn automatic_persisted_queries_round_trip() {
    let (_t, g) = gateway(|_| {}).await;
    let query = "{ vendors { vendor } }";
    let hash = sha256_hex(query);
    let post = |body: Value| {
        let g = &g;
        async move {
            post_raw(
                g,
                Some("application/json"),
                serde_json::to_vec(&body).unwrap(),
                None,
            )
            .await
        }
    };
    let (status, unknown) = post(persisted(&hash, None)).await;
    assert_eq!(status, 200);
    assert_eq!(first_message(&unknown), "PersistedQueryNotFound");
    let (_, registered) = post(persisted(&hash, Some(query))).await;
    assert_eq!(
        registered["data"]["vendors"].as_array().map(Vec::len),
        Some(5)
    );
    let (_, by_hash) = post(persisted(&hash, None)).await;
    assert_eq!(by_hash, registered, "the hash alone runs the document");
    let (status, mismatch) = post(persisted(&hash, Some("{ vendors { healthy } }"))).await;
    assert_eq!(status, 400, "{mismatch}");

    // A hash-only GET is checked like any other: a stored mutation cannot run over GET.
    let mutation = "mutation { cancelReturn(trackingNumber: \"X\") { status } }";
    let m_hash = sha256_hex(mutation);
    let _ = post(persisted(&m_hash, Some(mutation))).await;
    let ext = json!({"persistedQuery": {"version": 1, "sha256Hash": m_hash}}).to_string();
    let resp = g
        .http
        .get(&g.url)
        .query(&[("extensions", ext.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
}

#[tokio::test]
async fn safelist_mode_runs_only_trusted_documents() {
    let trusted = "{ vendors { vendor } }";
    let path = std::env::temp_dir().join(format!("safelist-{}.json", std::process::id()));
    std::fs::write(&path, json!({ sha256_hex(trusted): trusted }).to_string()).unwrap();
    let file = path.display().to_string();
    let (_t, g) = gateway(move |s| s.safelist_file = Some(file)).await;
    let (status, by_hash) = post_raw(
        &g,
        Some("application/json"),
        serde_json::to_vec(&persisted(&sha256_hex(trusted), None)).unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(by_hash["data"]["vendors"].as_array().map(Vec::len), Some(5));
    let (status, _) = post_raw(
        &g,
        Some("application/json"),
        serde_json::to_vec(&json!({"query": trusted})).unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 200, "the trusted document sent whole runs too");
    let (status, refused) = post_raw(
        &g,
        Some("application/json"),
        serde_json::to_vec(&json!({"query": "{ vendors { healthy } }"})).unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_ALLOWED"
    );
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn operations_over_the_websocket_pass_the_same_intake() {
    let trusted = "subscription { returnUpdated { receivedAt } }";
    let path = std::env::temp_dir().join(format!("safelist-ws-{}.json", std::process::id()));
    std::fs::write(&path, json!({ sha256_hex(trusted): trusted }).to_string()).unwrap();
    let file = path.display().to_string();
    let (_t, g) = gateway(move |s| s.safelist_file = Some(file)).await;
    let mut session = crate::ws::connect(&g, json!({})).await.unwrap();

    session
        .subscribe("untrusted", "{ vendors { healthy } }", json!({}))
        .await;
    let m = session.next_message().await.unwrap();
    assert_eq!(m["id"], "untrusted", "{m}");
    assert_eq!(
        m["payload"]["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_ALLOWED",
        "the safelist holds over the WebSocket too: {m}"
    );

    // The trusted subscription runs.
    session.subscribe("trusted", trusted, json!({})).await;
    crate::ws::wait_for_subscribers(&g, 1).await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn the_alias_limit_holds_over_the_websocket() {
    let (_t, g) = gateway(|_| {}).await;
    let mut session = crate::ws::connect(&g, json!({})).await.unwrap();
    let aliases: String = (0..101).map(|i| format!("a{i}: __typename ")).collect();
    session
        .subscribe("aliases", &format!("{{ {aliases} }}"), json!({}))
        .await;
    let m = session.next_message().await.unwrap();
    assert_eq!(
        m["payload"]["errors"][0]["extensions"]["code"], "TOO_MANY_ALIASES",
        "{m}"
    );
}

#[tokio::test]
async fn websocket_connections_and_subscriptions_are_bounded() {
    let (_t, g) = gateway(|s| {
        s.websocket_init_timeout_ms = 200;
        s.max_websockets = 2;
        s.max_subscriptions = 1;
    })
    .await;
    // A connection that never sends connection_init is closed with graphql-ws's 4408.
    let mut silent = crate::ws::open(&g).await.unwrap();
    let closed = silent.next_message().await.unwrap();
    assert_eq!(
        (&closed["type"], &closed["code"]),
        (&json!("close"), &json!(4408)),
        "{closed}"
    );

    let mut first = crate::ws::connect(&g, json!({})).await.unwrap();
    let _second = crate::ws::connect(&g, json!({})).await.unwrap();
    let third = crate::ws::connect(&g, json!({})).await;
    assert!(
        third.is_err_and(|e| e.contains("503")),
        "max_websockets = 2"
    );

    first
        .subscribe(
            "one",
            "subscription { returnUpdated { receivedAt } }",
            json!({}),
        )
        .await;
    crate::ws::wait_for_subscribers(&g, 1).await;
    first
        .subscribe(
            "two",
            "subscription { returnUpdated { receivedAt } }",
            json!({}),
        )
        .await;
    let m = first.next_message().await.unwrap();
    assert_eq!(m["id"], "two", "{m}");
    assert_eq!(
        m["payload"]["errors"][0]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS",
        "{m}"
    );
}
