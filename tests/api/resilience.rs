//! Resilience on every vendor call, proved by the simulators' request counts (never by
//! timing): reads are retried and writes are not; an open breaker fails fast without calling
//! the vendor; a trial call whose caller went away does not keep it half-open; the client-side
//! rate limit paces calls; a `Retry-After` that fits the deadline is honoured, and one that does
//! not holds the tenant's vendor until it ends; a refused credential is sent once, then every
//! call is held.

use returns_gateway::auth::{mint, Scope};
use returns_gateway::config::TenantSettings;
use simulators::Faults;
use vendors::ErrorCode;
use vendors::{merchantpro, procarrier, trackru, BreakerState, VendorError};

use crate::helpers;

fn failing() -> Faults {
    Faults {
        error_rate: 1.0,
        ..Faults::default()
    }
}

fn count(sim: &simulators::SimHandle, route: &str) -> u64 {
    sim.control.stats().get(route).copied().unwrap_or(0)
}

#[tokio::test]
async fn reads_are_retried_and_writes_are_not() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.merchantpro, failing());
    let mut settings = t.settings.vendors.merchantpro.clone();
    settings.resilience.read_retries = 2;
    settings.resilience.retry_base_ms = 1;
    settings.resilience.breaker_failures = 100;
    let client = merchantpro::Client::new(&settings).unwrap();
    let read = client.get(12_345_001, &[]).await.unwrap_err();
    assert_eq!(read.code(), ErrorCode::VendorHttpError);
    assert_eq!(
        count(&t.sims.merchantpro, "GET /api/v2/orders/{id}"),
        3,
        "1 + 2 retries"
    );
    let write = client.mark_shipped(12_345_001).await.unwrap_err();
    assert_eq!(write.code(), ErrorCode::VendorHttpError);
    assert_eq!(
        count(&t.sims.merchantpro, "PATCH /api/v2/orders/{id}/{handler}"),
        1,
        "never retried"
    );
}

#[tokio::test]
async fn refusals_are_never_retried() {
    let t = helpers::start().await;
    let mut settings = t.settings.vendors.procarrier.clone();
    settings.api_key = returns_gateway::config::Secret::new("wrong-key");
    settings.resilience.retry_base_ms = 1;
    let client = procarrier::Client::new(&settings).unwrap();
    let err = client
        .search_returns(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::VendorAccessDenied);
    assert!(!err.retryable());
    assert_eq!(
        count(&t.sims.procarrier, "POST /api/returns/search/json"),
        1
    );
}

#[tokio::test]
async fn an_open_breaker_fails_fast_without_calling_the_vendor() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.merchantpro, failing());
    let mut settings = t.settings.vendors.merchantpro.clone();
    settings.resilience.read_retries = 0;
    settings.resilience.breaker_failures = 3;
    settings.resilience.breaker_cooldown_ms = 60_000;
    let client = merchantpro::Client::new(&settings).unwrap();
    for _ in 0..3 {
        client.get(12_345_001, &[]).await.unwrap_err();
    }
    assert_eq!(client.transport().breaker_state(), BreakerState::Open);
    t.sims.merchantpro.control.reset_stats();
    for _ in 0..5 {
        let err = client.get(12_345_001, &[]).await.unwrap_err();
        assert!(matches!(err, VendorError::CircuitOpen { .. }), "{err:?}");
        assert_eq!(err.code(), ErrorCode::VendorCircuitOpen);
    }
    assert_eq!(
        t.sims.merchantpro.control.stats().values().sum::<u64>(),
        0,
        "no vendor calls"
    );
}

#[tokio::test]
async fn a_half_open_breaker_closes_on_a_successful_trial() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.merchantpro, failing());
    let mut settings = t.settings.vendors.merchantpro.clone();
    settings.resilience.read_retries = 0;
    settings.resilience.breaker_failures = 2;
    settings.resilience.breaker_cooldown_ms = 0;
    let client = merchantpro::Client::new(&settings).unwrap();
    client.get(12_345_001, &[]).await.unwrap_err();
    client.get(12_345_001, &[]).await.unwrap_err();
    assert_ne!(client.transport().breaker_state(), BreakerState::Closed);
    t.set_faults(&t.sims.merchantpro, Faults::default());
    client
        .get(12_345_001, &[])
        .await
        .expect("the trial call goes through and succeeds");
    assert_eq!(client.transport().breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn the_rate_limit_holds_calls_within_the_window() {
    let t = helpers::start().await;
    let mut settings = t.settings.vendors.trackru.clone();
    settings.resilience.rate_limit_per_s = 2.0;
    settings.timeout_ms = 600;
    let client = trackru::Client::new(&settings).unwrap();
    let query = trackru::wire::ListQuery {
        limit: Some(1),
        ..Default::default()
    };
    // A bucket of 2 with 2/s: within one 600 ms deadline at most 3 calls can start; the rest
    // are refused locally, without reaching the vendor.
    let calls = (0..8).map(|_| client.list(&query));
    let outcomes = futures_util::future::join_all(calls).await;
    let sent = count(&t.sims.trackru, "GET /v1/trackings/get");
    let limited = outcomes
        .iter()
        .filter(|o| matches!(o, Err(VendorError::RateLimited { .. })))
        .count() as u64;
    // Upper bounds only: on a loaded machine the third call may time out instead of landing.
    assert!(sent <= 3, "{sent} calls reached the vendor");
    assert!(limited >= 5, "{limited} calls were held back");
}

#[tokio::test]
async fn a_retry_after_within_the_deadline_is_honoured() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.rrr, helpers::rate_limited(1));
    let mut settings = t.settings.vendors.rrr.clone();
    settings.timeout_ms = 1_500;
    let client = vendors::rrr::Client::new(&settings).unwrap();
    // RRR sends multipart bodies, which cannot be replayed: one attempt only.
    let err = client
        .order_returns_page(&Default::default(), 1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::VendorRateLimited);
    assert_eq!(count(&t.sims.rrr, "POST /get/order_returns"), 1);
    // MerchantPro's GET can be replayed: it waits out the 1 s Retry-After (well inside the 3 s
    // deadline) and tries again; the second 429 ends it (one retry allowed).
    t.set_faults(&t.sims.merchantpro, helpers::rate_limited(1));
    let mut settings = t.settings.vendors.merchantpro.clone();
    settings.timeout_ms = 3_000;
    settings.resilience.read_retries = 1;
    let client = merchantpro::Client::new(&settings).unwrap();
    client.get(12_345_001, &[]).await.unwrap_err();
    assert_eq!(
        count(&t.sims.merchantpro, "GET /api/v2/orders/{id}"),
        2,
        "waited once, retried once"
    );
}

/// A ProCarrier return the index does not hold, by id: one `returns/get` call a query, made
/// by the request itself (not cached: the vendor may have it by the next query).
const PROCARRIER_RETURNS: &str = r#"{ return(id: "UmV0dXJuOnByb2NhcnJpZXI6OTk5OTk5OTk5") { id } }"#;

fn procarrier_calls(t: &helpers::TestSims) -> u64 {
    t.sims.procarrier.control.stats().values().sum()
}

#[tokio::test]
async fn a_refused_key_is_sent_once_then_every_call_is_held_with_the_refusals_code() {
    let t = helpers::start().await;
    // Unsynced, so the first query makes the first call.
    let g = helpers::TestGateway::builder(&t)
        .with(|s| {
            s.vendors.procarrier.api_key = returns_gateway::config::Secret::new("revoked-key");
        })
        .unsynced()
        .start()
        .await;
    for n in 0..10 {
        let answer = g.query(PROCARRIER_RETURNS).await;
        let error = &answer["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "VENDOR_ACCESS_DENIED",
            "{n}: {answer}"
        );
        assert_eq!(error["extensions"]["retryable"], false, "{n}: {answer}");
        assert!(
            error["message"]
                .as_str()
                .unwrap_or("")
                .contains("accessDenied"),
            "{n}: the vendor's answer is kept: {answer}"
        );
    }
    assert_eq!(procarrier_calls(&t), 1, "10 queries, one refused key sent");

    let answer = g
        .query("{ vendors { vendor refusal { code message until } } }")
        .await;
    let vendors = answer["data"]["vendors"].as_array().expect("vendors");
    for v in vendors {
        if v["vendor"] == "PROCARRIER" {
            assert_eq!(v["refusal"]["code"], "VENDOR_ACCESS_DENIED", "{answer}");
            assert!(v["refusal"]["until"].is_string(), "{answer}");
        } else {
            assert!(v["refusal"].is_null(), "{answer}");
        }
    }

    let root = g.url.trim_end_matches("/graphql").to_owned();
    let ready = g.http.get(format!("{root}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "a latched vendor is not ready");
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["procarrierError"], "VENDOR_ACCESS_DENIED", "{body}");
    let procarrier = body["vendors"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["vendor"] == "procarrier"))
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(
        procarrier["refusal"]["code"], "VENDOR_ACCESS_DENIED",
        "{body}"
    );
    assert_eq!(
        procarrier_calls(&t),
        1,
        "the readiness probe (check/available) is held too"
    );

    let metrics = g
        .http
        .get(format!("{root}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (vendor, latched) in [("procarrier", 1), ("rrr", 0)] {
        let line = format!(
            "gateway_vendor_refusal_latched{{tenant=\"default\",vendor=\"{vendor}\"}} {latched}\n"
        );
        assert!(metrics.contains(&line), "{line} in:\n{metrics}");
    }
}

#[tokio::test]
async fn a_cancelled_trial_call_does_not_keep_the_breaker_half_open() {
    let t = helpers::start().await;
    let g = helpers::TestGateway::builder(&t)
        .with(|s| {
            let pc = &mut s.vendors.procarrier;
            // Only cancellation ends the trial below: no timeout of ours cuts the hanging call.
            pc.timeout_ms = 600_000;
            pc.resilience.read_retries = 0;
            pc.resilience.breaker_failures = 1;
            // Open means half-open at once: the next call is the trial.
            pc.resilience.breaker_cooldown_ms = 0;
        })
        .unsynced()
        .start()
        .await;
    t.set_faults(&t.sims.procarrier, failing());
    let answer = g.query(PROCARRIER_RETURNS).await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "VENDOR_HTTP_ERROR",
        "{answer}"
    );

    // The trial call hangs at the vendor; its caller gives up (the HTTP request is dropped).
    t.set_faults(&t.sims.procarrier, helpers::hang());
    t.reset_calls();
    let caller = tokio::spawn({
        let (http, url) = (g.http.clone(), g.url.clone());
        async move {
            http.post(url)
                .json(&serde_json::json!({ "query": PROCARRIER_RETURNS }))
                .send()
                .await
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while procarrier_calls(&t) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the trial never reached the vendor"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    caller.abort();
    assert!(caller.await.is_err(), "the caller went away");

    // The vendor is well again. The gateway notices the dropped connection on its own time,
    // so ask until an answer is not VENDOR_CIRCUIT_OPEN (those never reach the vendor).
    t.set_faults(&t.sims.procarrier, Faults::default());
    t.reset_calls();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let answer = loop {
        let answer = g.query(PROCARRIER_RETURNS).await;
        if answer["errors"][0]["extensions"]["code"] != "VENDOR_CIRCUIT_OPEN" {
            break answer;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the cancelled trial kept the breaker half-open: {answer}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert!(answer["errors"].is_null(), "{answer}");
    assert_eq!(
        procarrier_calls(&t),
        1,
        "the next call was the trial, and it went through"
    );
}

/// Reads RRR only.
/// An RRR return the index does not hold: asked of RRR.
fn rrr_return() -> String {
    let id = returns_gateway::schema::ids::GlobalId::new(
        returns_gateway::schema::ids::NodeKind::Return,
        Some(vendors::model::Vendor::Rrr),
        "999999999".to_owned(),
    )
    .encode();
    format!(r#"{{ return(id: "{id}") {{ id }} }}"#)
}

/// The value of the `/metrics` sample `series` (`name{labels}`).
async fn sample(g: &helpers::TestGateway, series: &str) -> f64 {
    let root = g.url.trim_end_matches("/graphql");
    let text = g
        .http
        .get(format!("{root}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{series} in:\n{text}"))
}

#[tokio::test]
async fn a_429_holds_the_tenants_vendor_until_its_retry_after_without_calling_it() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| {
        s.tenants.insert(
            "other".into(),
            TenantSettings {
                vendors: t.settings.vendors.clone(),
            },
        );
    })
    .await;
    t.set_faults(&t.sims.procarrier, helpers::rate_limited(120));
    let answer = g.query(PROCARRIER_RETURNS).await;
    let error = &answer["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "VENDOR_RATE_LIMITED",
        "{answer}"
    );
    assert_eq!(
        procarrier_calls(&t),
        1,
        "120 s is past the deadline: no retry"
    );

    // It asked for 120 s: nothing is sent before (each call would be refused again).
    t.reset_calls();
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(g.query(PROCARRIER_RETURNS).await);
    }
    assert_eq!(procarrier_calls(&t), 0, "20 queries, no call to the vendor");
    assert_eq!(
        error["extensions"]["retryAfterSeconds"], 120,
        "the vendor's Retry-After is passed on: {answer}"
    );
    for (n, answer) in held.iter().enumerate() {
        let error = &answer["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "VENDOR_RATE_LIMITED",
            "{n}: {answer}"
        );
        assert_eq!(error["extensions"]["retryable"], true, "{n}: {answer}");
        let wait = error["extensions"]["retryAfterSeconds"].as_u64();
        assert!(
            wait.is_some_and(|s| (1..=120).contains(&s)),
            "{n}: the time to retry: {answer}"
        );
        let message = error["message"].as_str().unwrap_or("");
        assert!(
            message.contains("held for another") && message.contains("returns/get"),
            "{n}: the message says why and for how long: {answer}"
        );
    }

    let answer = g
        .query("{ vendors { vendor rateLimitHold { endpoint until } } }")
        .await;
    for v in answer["data"]["vendors"].as_array().expect("vendors") {
        if v["vendor"] == "PROCARRIER" {
            assert_eq!(v["rateLimitHold"]["endpoint"], "returns/get", "{answer}");
            assert!(v["rateLimitHold"]["until"].is_string(), "{answer}");
        } else {
            assert!(v["rateLimitHold"].is_null(), "{answer}");
        }
    }
    let held = |vendor: &str| {
        format!("gateway_vendor_rate_limit_hold_seconds{{tenant=\"default\",vendor=\"{vendor}\"}}")
    };
    let left = sample(&g, &held("procarrier")).await;
    assert!(left > 0.0 && left <= 120.0, "{left}");
    assert_eq!(sample(&g, &held("rrr")).await, 0.0);

    // The vendor would answer now; the tenant's calls to it stay held all the same.
    t.set_faults(&t.sims.procarrier, Faults::default());
    let answer = g.query(PROCARRIER_RETURNS).await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "VENDOR_RATE_LIMITED",
        "{answer}"
    );
    assert_eq!(procarrier_calls(&t), 0);

    // Another vendor of the tenant, and the same vendor for another tenant, are not held.
    let answer = g.query(&rrr_return()).await;
    assert!(answer["errors"].is_null(), "{answer}");
    assert!(t.sims.rrr.control.stats().values().sum::<u64>() > 0);
    let token = mint(&t.settings.auth, "other", &Scope::ALL, 600).unwrap();
    let other: serde_json::Value = g
        .http
        .post(&g.url)
        .bearer_auth(token)
        .json(&serde_json::json!({ "query": PROCARRIER_RETURNS }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(other["errors"].is_null(), "{other}");
    assert_eq!(procarrier_calls(&t), 1, "the other tenant's call went out");
}

#[tokio::test]
async fn a_retry_after_of_any_size_is_read_without_a_panic_and_holds_at_most_an_hour() {
    let t = helpers::start().await;
    t.set_faults(&t.sims.merchantpro, helpers::rate_limited(u64::MAX));
    let client = merchantpro::Client::new(&t.settings.vendors.merchantpro).unwrap();
    let err = client.get(12_345_001, &[]).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::VendorRateLimited);
    let held = client.get(12_345_001, &[]).await.unwrap_err();
    assert_eq!(held.code(), ErrorCode::VendorRateLimited);
    assert!(
        held.to_string().contains("held for another 3600 s"),
        "{held}"
    );
    assert_eq!(count(&t.sims.merchantpro, "GET /api/v2/orders/{id}"), 1);
}
