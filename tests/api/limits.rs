//! Inbound request limits: a per-client rate limit (429 with `Retry-After`), a global limit of
//! requests in flight with fast 503s beyond it, a request deadline within which partial results
//! come back, and a per-request budget of vendor calls.

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use vendors::model::Vendor;

use crate::helpers::{self, TestSims};
use returns_gateway::config::{ServerSettings, Settings};

/// How long a test waits for something that should happen at once; only reached on failure.
const PATIENCE: Duration = Duration::from_secs(15);

/// A token the demo configuration accepts, for subject `sub`.
fn demo_token(settings: &Settings, sub: &str) -> String {
    let claims = json!({"sub": sub, "scope": "returns:read orders:read tracking:read",
        "iss": settings.auth.issuer, "aud": settings.auth.audience,
        "exp": helpers::unix_now() + 600});
    helpers::hs256(&claims, settings.auth.hs256_secret.expose().as_bytes())
}

fn vendor_calls(t: &TestSims, vendor: Vendor) -> u64 {
    t.sim(vendor).control.stats().values().sum()
}

fn codes(answer: &Value) -> Vec<&str> {
    answer["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_burst_from_one_token_gets_429s_with_retry_after() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| {
        // The production defaults (the demo, which the tests run on, turns the limit off).
        let production = ServerSettings::default();
        s.server.rate_limit_per_client_per_s = production.rate_limit_per_client_per_s;
        s.server.rate_limit_burst = production.rate_limit_burst;
    })
    .await;
    let burst = demo_token(&t.settings, "agent-burst");
    let send = |token: String| {
        let request = g
            .http
            .post(&g.url)
            .bearer_auth(token)
            .json(&json!({"query": "{ vendors { vendor } }"}));
        async move {
            let response = request.send().await.expect("the gateway answers");
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap_or_default().to_owned());
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, retry_after, body)
        }
    };
    // 3,000 requests on loopback, 16 at a time.
    let answers: Vec<(u16, Option<String>, Value)> = stream::iter(0..3000)
        .map(|_| send(burst.clone()))
        .buffer_unordered(16)
        .collect()
        .await;
    let answered = answers.iter().filter(|(s, ..)| *s == 200).count();
    let limited: Vec<_> = answers.iter().filter(|(s, ..)| *s == 429).collect();
    assert_eq!(
        answered + limited.len(),
        3000,
        "every answer is 200 or 429: {:?}",
        answers.iter().find(|(s, ..)| ![200, 429].contains(s))
    );
    assert!(
        !limited.is_empty(),
        "3,000 requests from one token: {answered} answered, none refused"
    );
    for (_, retry_after, body) in &limited {
        let seconds: u64 = retry_after
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("429 with a Retry-After in seconds: {retry_after:?}"));
        assert!(seconds >= 1, "{seconds}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
        assert_eq!(body["errors"][0]["extensions"]["retryable"], true);
    }
    // The limit is per client: another token is still served.
    let (status, _, body) = send(demo_token(&t.settings, "agent-other")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn beyond_the_requests_in_flight_limit_requests_get_fast_503s() {
    let t = helpers::start().await;
    const LIMIT: usize = 8;
    let g = helpers::gateway_with(&t, |s| {
        s.server.max_concurrent_requests = LIMIT;
        // The holders below wait for ProCarrier until the request deadline.
        s.vendors.procarrier.timeout_ms = 600_000;
    })
    .await;
    t.set_faults(&t.sims.procarrier, helpers::hang());
    // Requests that hold every slot: each asks ProCarrier (hanging) about its own parcel.
    let holders: Vec<_> = (0..LIMIT)
        .map(|i| {
            let request = g.http.post(&g.url).json(&json!({
                "query": format!("{{ tracking(trackingNumber: \"HOLD-{i}\") {{ trackingNumber }} }}")
            }));
            tokio::spawn(request.send())
        })
        .collect();
    let deadline = Instant::now() + PATIENCE;
    while vendor_calls(&t, Vendor::ProCarrier) < LIMIT as u64 {
        assert!(
            Instant::now() < deadline,
            "the holders never reached ProCarrier"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // 600 concurrent requests, each on its own connection.
    let burst = reqwest::Client::new();
    let statuses: Vec<(u16, Value)> = futures_util::future::join_all((0..600).map(|_| {
        let request = burst
            .post(&g.url)
            .json(&json!({"query": "{ vendors { vendor } }"}));
        async move {
            let response = request.send().await.expect("the gateway answers");
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
    }))
    .await;
    let admitted = statuses.iter().filter(|(s, _)| *s == 200).count();
    let shed: Vec<_> = statuses.iter().filter(|(s, _)| *s == 503).collect();
    assert_eq!(
        admitted + shed.len(),
        600,
        "every answer is 200 or 503: {:?}",
        statuses.iter().find(|(s, _)| ![200, 503].contains(s))
    );
    assert!(
        !shed.is_empty(),
        "600 concurrent requests over a limit of {LIMIT}: all {admitted} admitted"
    );
    for (_, body) in &shed {
        assert_eq!(body["errors"][0]["extensions"]["code"], "OVERLOADED");
        assert_eq!(body["errors"][0]["extensions"]["retryable"], true);
    }

    // Probes and WebSocket upgrades are not starved by the limit.
    let base = g.url.trim_end_matches("/graphql");
    for probe in ["healthz", "metrics"] {
        let response = g.http.get(format!("{base}/{probe}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "/{probe} while saturated");
    }
    assert!(
        crate::ws::connect(&g, json!({})).await.is_ok(),
        "a WebSocket opens while saturated"
    );
    for holder in holders {
        holder.abort();
    }
}

#[tokio::test]
async fn a_hanging_vendor_answers_null_with_vendor_timeout_within_the_request_deadline() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| {
        // V-Track's production timeout, here on ProCarrier's live reads: without a request
        // deadline the query stays open 6 min.
        s.vendors.procarrier.timeout_ms = 360_000;
        s.server.request_timeout_ms = 10_000;
    })
    .await;
    t.set_faults(&t.sims.procarrier, helpers::hang());
    // A return the index does not hold is asked of ProCarrier; the listing reads the index.
    let query = r#"{ missing: return(id: "UmV0dXJuOnByb2NhcnJpZXI6OTk5OTk5OTk5") { id }
        returns(first: 100) { totalCount edges { node { vendor vendorId } } } }"#;
    let response = g
        .http
        .post(&g.url)
        .json(&json!({ "query": query }))
        // A bound on the test, far beyond the request deadline; not a measurement.
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("an answer within 60 s (the request deadline is 10 s, the vendor's timeout 360 s)");
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let errors = answer["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e["extensions"]["code"] == "VENDOR_TIMEOUT"
                && e["extensions"]["vendor"] == Vendor::ProCarrier.as_str()),
        "{answer}"
    );
    assert!(answer["data"]["missing"].is_null(), "{answer}");
    let vendors: std::collections::BTreeSet<&str> = answer["data"]["returns"]["edges"]
        .as_array()
        .expect("the listing, from the index")
        .iter()
        .filter_map(|e| e["node"]["vendor"].as_str())
        .collect();
    assert!(
        vendors.contains("PROCARRIER") && vendors.contains("RRR"),
        "{vendors:?}"
    );
}

#[tokio::test]
async fn a_batch_of_aliased_lookups_stays_within_the_vendor_call_budget() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let budget = ServerSettings::default().max_vendor_calls_per_request;
    let batch: Vec<Value> = (0..10)
        .map(|r| {
            let aliases: String = (0..100)
                .map(|i| {
                    format!("a{i}: tracking(trackingNumber: \"B{r}-{i}\") {{ trackingNumber }} ")
                })
                .collect();
            json!({ "query": format!("{{ {aliases} }}") })
        })
        .collect();
    t.reset_calls();
    let response = g.http.post(&g.url).json(&batch).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let answers: Vec<Value> = response.json().await.unwrap();
    assert_eq!(answers.len(), 10);
    let procarrier = vendor_calls(&t, Vendor::ProCarrier);
    let all: u64 = t.calls().values().sum();
    assert!(
        all <= budget as u64,
        "10 × 100 aliases: {procarrier} ProCarrier calls, {all} vendor calls in all; the budget is {budget}"
    );
    let over: usize = answers
        .iter()
        .map(|a| {
            codes(a)
                .iter()
                .filter(|c| **c == "VENDOR_CALL_BUDGET_EXCEEDED")
                .count()
        })
        .sum();
    assert!(over > 0, "fields past the budget say so");
    // Every answer keeps its data: the fields past the budget are null, the others answer.
    for answer in &answers {
        assert!(answer["data"].is_object(), "{answer}");
        assert!(
            codes(answer)
                .iter()
                .all(|c| *c == "VENDOR_CALL_BUDGET_EXCEEDED"),
            "{answer}"
        );
    }
}
