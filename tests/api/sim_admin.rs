//! The simulators' shared admin surface: request counts and fault knobs over HTTP.

use crate::helpers;

#[tokio::test]
async fn stats_count_per_route_and_reset() {
    let t = helpers::start().await;
    let http = reqwest::Client::new();
    for sim in t.sims.all() {
        let base = &sim.origin;
        // Any request is counted under its route, even one the simulator rejects.
        let _ = http
            .get(format!("{base}/no/such/route"))
            .send()
            .await
            .unwrap();
        let stats: serde_json::Value = http
            .get(format!("{base}/__sim/stats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(stats["total"], 1, "{}: {stats}", sim.vendor);
        let reset = http
            .delete(format!("{base}/__sim/stats"))
            .send()
            .await
            .unwrap();
        assert_eq!(reset.status(), 204);
        assert!(sim.control.stats().is_empty());
    }
}

#[tokio::test]
async fn faults_are_settable_at_run_time_and_validated() {
    let t = helpers::start().await;
    let http = reqwest::Client::new();
    let base = &t.sims.rrr.origin;
    let put = http
        .put(format!("{base}/__sim/faults"))
        .json(&serde_json::json!({"rate_limit_retry_after_s": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let limited = http
        .post(format!("{base}/get/order_returns"))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "3");

    let bad = http
        .put(format!("{base}/__sim/faults"))
        .json(&serde_json::json!({"error_rate": 3.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let unknown = http
        .put(format!("{base}/__sim/faults"))
        .json(&serde_json::json!({"eror_rate": 0.5}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 422);
    assert!(unknown.text().await.unwrap().contains("eror_rate"));
}
