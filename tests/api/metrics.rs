//! `/metrics` is scraped and parsed: every sample line is `name{labels} value`, histograms are
//! cumulative, and the figures follow what the gateway did.

use std::collections::BTreeMap;

use serde_json::json;

use crate::graphql::DASHBOARD;
use crate::helpers;

/// `name{labels}` → value, for every sample line; panics on a malformed line.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            let kind = comment.split_whitespace().next();
            assert!(
                matches!(kind, Some("HELP" | "TYPE")),
                "comment line: {line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("sample line: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of: {line}"));
        if let Some(open) = series.find('{') {
            assert!(series.ends_with('}'), "labels closed: {line}");
            for pair in series[open + 1..series.len() - 1].split("\",") {
                let (k, v) = pair
                    .split_once("=\"")
                    .unwrap_or_else(|| panic!("label: {line}"));
                assert!(
                    k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{line}"
                );
                assert!(!v.trim_end_matches('"').contains('"'), "{line}");
            }
        }
        samples.insert(series.to_owned(), value);
    }
    samples
}

#[tokio::test]
async fn metrics_are_scraped_and_parsed() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| {
        s.vendors.merchantpro.base_url = helpers::refused_url()
    })
    .await;
    let answer = g.query_with(DASHBOARD, json!({"first": 10})).await;
    assert!(
        answer["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "MerchantPro is down"
    );
    let _ = g.query_with(DASHBOARD, json!({"first": 10})).await;
    // A parcel no index holds: asked of ProCarrier once, then from the cache.
    for _ in 0..2 {
        let _ = g
            .query(r#"{ tracking(trackingNumber: "NOT-INDEXED-1") { status } }"#)
            .await;
    }
    let root = g.url.trim_end_matches("/graphql");
    let resp = g.http.get(format!("{root}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let m = parse(&resp.text().await.unwrap());
    let get = |k: &str| m.get(k).copied().unwrap_or_else(|| panic!("{k} in {m:#?}"));

    assert!(
        get(
            r#"gateway_vendor_requests_total{tenant="default",vendor="procarrier",endpoint="returns/search",outcome="ok"}"#
        ) >= 1.0
    );
    assert!(
        get(
            r#"gateway_vendor_requests_total{tenant="default",vendor="merchantpro",endpoint="GET /orders",outcome="VENDOR_UNREACHABLE"}"#
        ) >= 1.0
    );
    let label = r#"tenant="default",vendor="procarrier",endpoint="returns/search""#;
    let count = get(&format!(
        "gateway_vendor_request_duration_seconds_count{{{label}}}"
    ));
    let mut last = 0.0;
    for le in [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ] {
        let b = get(&format!(
            "gateway_vendor_request_duration_seconds_bucket{{{label},le=\"{le}\"}}"
        ));
        assert!(b >= last, "cumulative buckets");
        last = b;
    }
    assert_eq!(last, count);
    // The second lookup was served from the cache.
    assert!(get(r#"gateway_cache_hits_total{tenant="default",vendor="procarrier"}"#) >= 1.0);
    assert!(get(r#"gateway_cache_misses_total{tenant="default",vendor="procarrier"}"#) >= 1.0);
    assert!(get(r#"gateway_cache_entries{tenant="default",vendor="procarrier"}"#) >= 0.0);
    assert_eq!(
        get(r#"gateway_breaker_state{tenant="default",vendor="rrr"}"#),
        0.0
    );
    assert_eq!(get("gateway_subscriptions_active"), 0.0);
    assert_eq!(
        get(r#"gateway_graphql_operations_total{operation="Dashboard",outcome="partial"}"#),
        2.0
    );
    // Each operation timed under its name (the tracking lookups have none).
    for (operation, n) in [("Dashboard", 2.0), ("anonymous", 2.0)] {
        let series = format!(
            "gateway_graphql_operation_duration_seconds_count{{operation=\"{operation}\"}}"
        );
        assert_eq!(get(&series), n, "{series}");
        let inf = format!(
            "gateway_graphql_operation_duration_seconds_bucket{{operation=\"{operation}\",le=\"+Inf\"}}"
        );
        assert_eq!(get(&inf), n, "{inf}");
    }
    // The process's own figures, as Prometheus clients name them.
    assert!(get("process_cpu_seconds_total") > 0.0);
    assert!(get("process_resident_memory_bytes") > 1e6);
    assert!(get("process_virtual_memory_bytes") >= get("process_resident_memory_bytes"));
    assert!(get("process_open_fds") >= 1.0);
    assert!(get("process_max_fds") >= get("process_open_fds"));
    assert!(get("process_start_time_seconds") > 1.5e9);
    // The index's sync: ProCarrier backfilled, MerchantPro failing since the start.
    let pc = r#"{tenant="default",vendor="procarrier"}"#;
    let mp = r#"{tenant="default",vendor="merchantpro"}"#;
    assert_eq!(get(&format!("gateway_sync_state{pc}")), 2.0);
    assert_eq!(get(&format!("gateway_sync_backfill_progress{pc}")), 1.0);
    assert!(get(&format!("gateway_sync_lag_seconds{pc}")) >= 0.0);
    assert!(get(&format!("gateway_sync_rows_total{pc}")) > 0.0);
    assert_eq!(get(&format!("gateway_sync_failing{pc}")), 0.0);
    assert_eq!(get(&format!("gateway_sync_failing{mp}")), 1.0);
    assert_eq!(get(&format!("gateway_sync_rows_total{mp}")), 0.0);
    assert!(
        !m.contains_key(&format!("gateway_sync_lag_seconds{mp}")),
        "no lag before anything was indexed"
    );
}

#[tokio::test]
async fn readiness_follows_procarrier_availability() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let root = g.url.trim_end_matches("/graphql").to_owned();
    let ready = g.http.get(format!("{root}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], true);
    assert_eq!(body["vendors"].as_array().map(Vec::len), Some(5));

    // Unsynced: the sync's failed reads would have opened the breaker first.
    let down = helpers::TestGateway::builder(&t)
        .with(|s| s.vendors.procarrier.base_url = helpers::refused_url())
        .unsynced()
        .start()
        .await;
    let root = down.url.trim_end_matches("/graphql").to_owned();
    let not_ready = down
        .http
        .get(format!("{root}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(not_ready.status(), 503);
    let body: serde_json::Value = not_ready.json().await.unwrap();
    assert_eq!(body["procarrierError"], "VENDOR_UNREACHABLE");
}

#[tokio::test]
async fn a_request_id_follows_the_request_to_every_vendor_call() {
    let t = helpers::start().await;
    // Only ProCarrier indexed: the rows' orders and TrackRU trackings are read from the
    // vendors, by the loaders.
    let g = helpers::TestGateway::builder(&t).unsynced().start().await;
    g.sync
        .as_ref()
        .unwrap()
        .tick("default", vendors::model::Vendor::ProCarrier)
        .await
        .unwrap();
    t.reset_calls();
    let query = "{ returns(first: 20, filter: {vendors: [PROCARRIER]}) {
        edges { node { order { reference } tracking { status } } } } }";
    let response = g
        .http
        .post(&g.url)
        .header("X-Request-Id", "dash-42.a")
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "dash-42.a", "echoed");
    assert_eq!(response.status(), 200);
    // Every vendor call the query made carried it, including those the loaders batch in
    // their own tasks (MerchantPro orders, TrackRU trackings).
    for sim in [&t.sims.merchantpro, &t.sims.trackru] {
        let made: u64 = sim.control.stats().values().sum();
        assert!(made > 0, "{} was called", sim.vendor);
        assert_eq!(
            sim.control.request_ids(),
            [("dash-42.a".to_owned(), made)].into(),
            "{}",
            sim.vendor
        );
    }

    // An unusable id (spaces, too long) is replaced by a generated one.
    let response = g
        .http
        .get(g.url.replace("/graphql", "/healthz"))
        .header("X-Request-Id", "two words")
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 16);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
}
