//! JWT bearer authentication, scopes and PII masking, against a gateway that admits no
//! anonymous callers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tokio::sync::{oneshot, watch};

use crate::helpers::{self, hs256, unix_now as now, TestGateway, TestSims};

const SECRET: &str = "test-secret";
const ISS: &str = "https://issuer.test";
const AUD: &str = "returns-gateway";

fn fixture_path(name: &str) -> String {
    format!("{}/tests/fixtures/auth/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn claims(scope: &str) -> Value {
    json!({"sub": "agent-7", "tenant": "default", "scope": scope, "iss": ISS, "aud": AUD, "exp": now() + 600})
}

fn rs256(claims: &Value) -> String {
    let pem = std::fs::read(fixture_path("rsa-private.pem")).unwrap();
    encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(&pem).unwrap(),
    )
    .unwrap()
}

fn es256(claims: &Value) -> String {
    let pem = std::fs::read(fixture_path("ec-private.pem")).unwrap();
    encode(
        &Header::new(Algorithm::ES256),
        claims,
        &EncodingKey::from_ec_pem(&pem).unwrap(),
    )
    .unwrap()
}

async fn secured(algorithms: &[&str], pem: Option<&str>) -> (TestSims, TestGateway) {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| {
        s.auth.allow_anonymous = false;
        s.auth.algorithms = algorithms.iter().map(|a| a.to_string()).collect();
        s.auth.hs256_secret = returns_gateway::config::Secret::new(SECRET);
        s.auth.public_key_pem_file = pem.map(fixture_path);
        s.auth.issuer = ISS.into();
        s.auth.audience = AUD.into();
    })
    .await;
    (t, g)
}

async fn ask(g: &TestGateway, token: Option<&str>, query: &str) -> (u16, Value) {
    let mut req = g.http.post(&g.url).json(&json!({"query": query}));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

const ALL: &str =
    "returns:read orders:read tracking:read returns:write orders:write tracking:write pii:read";
const VENDORS: &str = "{ vendors { vendor } }";

#[tokio::test]
async fn tokens_are_required_and_every_bad_one_is_refused() {
    let (_t, g) = secured(&["HS256"], None).await;
    let (status, answer) = ask(&g, None, VENDORS).await;
    assert_eq!(status, 401);
    assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    let mut cases: Vec<(&str, String)> = Vec::new();
    // alg: none, unsigned.
    let b64 = |v: &Value| {
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            v.to_string(),
        )
    };
    cases.push((
        "alg none",
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&claims(ALL))
        ),
    ));
    let mut expired = claims(ALL);
    expired["exp"] = json!(now() - 120);
    cases.push(("expired", hs256(&expired, SECRET.as_bytes())));
    for missing in ["exp", "iss", "aud"] {
        let mut c = claims(ALL);
        c.as_object_mut().unwrap().remove(missing);
        cases.push((missing, hs256(&c, SECRET.as_bytes())));
    }
    let mut wrong_iss = claims(ALL);
    wrong_iss["iss"] = json!("https://evil.test");
    cases.push(("wrong iss", hs256(&wrong_iss, SECRET.as_bytes())));
    let mut wrong_aud = claims(ALL);
    wrong_aud["aud"] = json!("someone-else");
    cases.push(("wrong aud", hs256(&wrong_aud, SECRET.as_bytes())));
    cases.push(("bad signature", hs256(&claims(ALL), b"another-secret")));
    let mut nbf = claims(ALL);
    nbf["nbf"] = json!("tomorrow");
    cases.push(("nbf not a number", hs256(&nbf, SECRET.as_bytes())));
    cases.push(("RS256 when only HS256 is accepted", rs256(&claims(ALL))));
    for (name, token) in cases {
        let (status, answer) = ask(&g, Some(&token), VENDORS).await;
        assert_eq!(status, 401, "{name}: {answer}");
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{name}"
        );
    }
    let (status, answer) = ask(&g, Some(&hs256(&claims(ALL), SECRET.as_bytes())), VENDORS).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_is_refused() {
    // The classic algorithm confusion: the verifier expects RS256 and holds a public key; the
    // attacker signs HS256 with that public key as the HMAC secret.
    let public = std::fs::read(fixture_path("rsa-public.pem")).unwrap();
    let forged = hs256(&claims(ALL), &public);
    let (_t, g) = secured(&["RS256"], Some("rsa-public.pem")).await;
    let (status, _) = ask(&g, Some(&forged), VENDORS).await;
    assert_eq!(status, 401);
    let (status, answer) = ask(&g, Some(&rs256(&claims(ALL))), VENDORS).await;
    assert_eq!(status, 200, "a genuine RS256 token passes: {answer}");
    // Both accepted: HS256 is checked with the configured secret, never the public key.
    let (_t, g) = secured(&["HS256", "RS256"], Some("rsa-public.pem")).await;
    let (status, _) = ask(&g, Some(&forged), VENDORS).await;
    assert_eq!(status, 401);
    // … while genuine tokens of either algorithm pass.
    let (status, answer) = ask(&g, Some(&rs256(&claims(ALL))), VENDORS).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = ask(&g, Some(&hs256(&claims(ALL), SECRET.as_bytes())), VENDORS).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn es256_tokens_verify_with_an_ec_key() {
    let (_t, g) = secured(&["ES256"], Some("ec-public.pem")).await;
    let (status, answer) = ask(&g, Some(&es256(&claims(ALL))), VENDORS).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn scopes_gate_fields_and_mutations() {
    let (_t, g) = secured(&["HS256"], None).await;
    let returns_only = hs256(&claims("returns:read"), SECRET.as_bytes());
    let (_, answer) = ask(&g, Some(&returns_only), "{ orders { totalCount } }").await;
    assert_eq!(answer["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(answer["errors"][0]["extensions"]["scope"], "orders:read");
    // A linked order needs orders:read too: null with an error, the rest is kept.
    let (_, answer) = ask(&g, Some(&returns_only), "{ returns(first: 2, filter: {vendors: [PROCARRIER]}) { edges { node { vendorId order { id } } } } }").await;
    let edges = answer["data"]["returns"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    assert!(
        edges
            .iter()
            .all(|e| e["node"].get("order") == Some(&Value::Null)),
        "{answer}"
    );
    assert_eq!(answer["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let (_, answer) = ask(
        &g,
        Some(&returns_only),
        r#"mutation { cancelReturn(trackingNumber: "X") { status } }"#,
    )
    .await;
    assert_eq!(answer["errors"][0]["extensions"]["scope"], "returns:write");
    let (_, answer) = ask(
        &g,
        Some(&returns_only),
        r#"{ tracking(trackingNumber: "X") { status } }"#,
    )
    .await;
    assert_eq!(answer["errors"][0]["extensions"]["scope"], "tracking:read");
}

#[tokio::test]
async fn pii_is_masked_without_pii_read() {
    let (_t, g) = secured(&["HS256"], None).await;
    let query = "{ returns(first: 1, filter: {vendors: [PROCARRIER]}) { edges { node {
        customer { email phone } address { line1 city country } } } } }";
    let (_, plain) = ask(
        &g,
        Some(&hs256(&claims("returns:read pii:read"), SECRET.as_bytes())),
        query,
    )
    .await;
    let (_, masked) = ask(
        &g,
        Some(&hs256(&claims("returns:read"), SECRET.as_bytes())),
        query,
    )
    .await;
    let p = &plain["data"]["returns"]["edges"][0]["node"];
    let m = &masked["data"]["returns"]["edges"][0]["node"];
    let email = p["customer"]["email"].as_str().unwrap();
    let (local, domain) = email.split_once('@').unwrap();
    assert_eq!(
        m["customer"]["email"],
        format!("{}***@{domain}", &local[..1])
    );
    let phone = p["customer"]["phone"].as_str().unwrap();
    let shown = m["customer"]["phone"].as_str().unwrap();
    assert!(
        shown.starts_with(&phone[..3])
            && shown.ends_with(&phone[phone.len() - 2..])
            && shown.contains("***")
    );
    assert!(p["address"]["line1"].is_string());
    assert_eq!(m["address"]["line1"], Value::Null);
    assert_eq!(m["address"]["country"], p["address"]["country"]);
}

#[tokio::test]
async fn label_downloads_need_a_token() {
    let (_t, g) = secured(&["HS256"], None).await;
    let url = g.url.replace("/graphql", "/labels/procarrier/ANY");
    let resp = g.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let no_scope = hs256(&claims("orders:read"), SECRET.as_bytes());
    let resp = g.http.get(&url).bearer_auth(no_scope).send().await.unwrap();
    assert_eq!(resp.status(), 403);
}

// ---- Keys from a JWKS URL ------------------------------------------------------------------

/// An identity provider's JWKS endpoint on 127.0.0.1:0: answers what `answer` holds (status
/// and body; the test changes it to rotate keys or fail) and counts its requests.
struct Idp {
    url: String,
    hits: Arc<AtomicUsize>,
    answer: Arc<Mutex<(u16, String)>>,
    _stop: oneshot::Sender<()>,
}

impl Idp {
    async fn start(jwks_fixture: &str) -> Idp {
        Idp::start_gated(jwks_fixture, None).await
    }

    /// With a gate `(counter, n)`, every answer waits until the counter reaches `n`.
    async fn start_gated(jwks_fixture: &str, gate: Option<(watch::Receiver<usize>, usize)>) -> Idp {
        let hits = Arc::new(AtomicUsize::new(0));
        let answer = Arc::new(Mutex::new((200, jwks(jwks_fixture))));
        let (h, a) = (hits.clone(), answer.clone());
        let app = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || async move {
                h.fetch_add(1, Ordering::SeqCst);
                if let Some((mut counter, n)) = gate {
                    counter.wait_for(|c| *c >= n).await.unwrap();
                }
                let (status, body) = a.lock().unwrap().clone();
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    body,
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Idp {
            url,
            hits,
            answer,
            _stop: stop,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn answer(&self, status: u16, body: String) {
        *self.answer.lock().unwrap() = (status, body);
    }
}

fn jwks(fixture: &str) -> String {
    std::fs::read_to_string(fixture_path(fixture)).unwrap()
}

/// RS256, signed with the private key of `kid` (`k1`: rsa-private.pem, `k2`: rsa2-private.pem;
/// any other `kid` signs with k1's key).
fn rs256_kid(claims: &Value, kid: &str) -> String {
    let file = if kid == "k2" {
        "rsa2-private.pem"
    } else {
        "rsa-private.pem"
    };
    let pem = std::fs::read(fixture_path(file)).unwrap();
    let header = Header {
        kid: Some(kid.into()),
        ..Header::new(Algorithm::RS256)
    };
    encode(&header, claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

/// A gateway taking RS256 tokens with keys from `url`.
async fn with_jwks_url(url: &str, refresh_min_interval_s: u64) -> (TestSims, TestGateway) {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| {
        s.auth.allow_anonymous = false;
        s.auth.algorithms = vec!["RS256".into()];
        s.auth.jwks_url = Some(url.into());
        s.auth.jwks_refresh_min_interval_s = refresh_min_interval_s;
        s.auth.issuer = ISS.into();
        s.auth.audience = AUD.into();
    })
    .await;
    (t, g)
}

fn message(answer: &Value) -> &str {
    answer["errors"][0]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn jwks_url_keys_are_cached_and_refreshed_once_for_a_new_kid() {
    let idp = Idp::start("jwks-k1.json").await;
    let (_t, g) = with_jwks_url(&idp.url, 3600).await;
    assert_eq!(idp.hits(), 0, "nothing is fetched before a token needs it");

    let k1 = rs256_kid(&claims(ALL), "k1");
    let (status, answer) = ask(&g, Some(&k1), VENDORS).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(idp.hits(), 1);
    for _ in 0..20 {
        let (status, answer) = ask(&g, Some(&k1), VENDORS).await;
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(idp.hits(), 1, "the keys are cached");

    // Rotation: the identity provider adds k2 and signs with it.
    idp.answer(200, jwks("jwks-k1-k2.json"));
    let (status, answer) = ask(&g, Some(&rs256_kid(&claims(ALL), "k2")), VENDORS).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(idp.hits(), 2, "one refresh for the new kid");
    let (status, _) = ask(&g, Some(&k1), VENDORS).await;
    assert_eq!(status, 200, "k1 still verifies");

    // Another unknown kid right after: refused without asking the identity provider again.
    for _ in 0..10 {
        let (status, answer) = ask(&g, Some(&rs256_kid(&claims(ALL), "k9")), VENDORS).await;
        assert_eq!(status, 401, "{answer}");
        assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        assert_eq!(message(&answer), "invalid token: unknown kid \"k9\"");
    }
    assert_eq!(idp.hits(), 2, "unknown-kid refreshes are rate limited");
    // A token signed with another key under a known kid is refused too.
    let wrong_key = {
        let pem = std::fs::read(fixture_path("rsa2-private.pem")).unwrap();
        let header = Header {
            kid: Some("k1".into()),
            ..Header::new(Algorithm::RS256)
        };
        encode(
            &header,
            &claims(ALL),
            &EncodingKey::from_rsa_pem(&pem).unwrap(),
        )
        .unwrap()
    };
    let (status, _) = ask(&g, Some(&wrong_key), VENDORS).await;
    assert_eq!(status, 401);
    assert_eq!(idp.hits(), 2);
}

#[tokio::test]
async fn jwks_url_down_at_start_refuses_tokens_with_the_reason() {
    // Nothing listens at the URL: the gateway starts all the same.
    let closed = format!("{}/.well-known/jwks.json", helpers::refused_url());
    let (_t, g) = with_jwks_url(&closed, 3600).await;
    let k1 = rs256_kid(&claims(ALL), "k1");
    let (status, answer) = ask(&g, Some(&k1), VENDORS).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let said = message(&answer);
    assert!(
        said.starts_with(&format!("invalid token: JWKS fetch from {closed} failed: ")),
        "{said}"
    );
    let resp = g
        .http
        .get(g.url.replace("/graphql", "/healthz"))
        .send()
        .await;
    assert_eq!(resp.unwrap().status(), 200, "the gateway still serves");

    // An identity provider answering 503: one fetch, then no retry within the interval.
    let idp = Idp::start("jwks-k1.json").await;
    idp.answer(503, "unavailable".into());
    let (_t, g) = with_jwks_url(&idp.url, 3600).await;
    for _ in 0..5 {
        let (status, answer) = ask(&g, Some(&k1), VENDORS).await;
        assert_eq!(status, 401, "{answer}");
        assert_eq!(
            message(&answer),
            format!(
                "invalid token: JWKS fetch from {} failed: HTTP 503",
                idp.url
            )
        );
    }
    assert_eq!(idp.hits(), 1, "a failed fetch is not retried at once");

    // Without a retry interval, the first token after the identity provider recovers passes.
    let idp = Idp::start("jwks-k1.json").await;
    idp.answer(503, "unavailable".into());
    let (_t, g) = with_jwks_url(&idp.url, 0).await;
    let (status, _) = ask(&g, Some(&k1), VENDORS).await;
    assert_eq!(status, 401);
    idp.answer(200, jwks("jwks-k1.json"));
    let (status, answer) = ask(&g, Some(&k1), VENDORS).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(idp.hits(), 2);
    // Not a JWKS document: refused with the reason.
    let idp = Idp::start("jwks-k1.json").await;
    idp.answer(200, "<html>login</html>".into());
    let (_t, g) = with_jwks_url(&idp.url, 3600).await;
    let (status, answer) = ask(&g, Some(&k1), VENDORS).await;
    assert_eq!(status, 401);
    assert!(message(&answer).contains("not a JWKS document"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn jwks_url_concurrent_cold_requests_fetch_once() {
    // The identity provider answers only once all twenty requests have reached the gateway, so
    // they all find the cache cold; the gateway counts them on arrival.
    let (arrived, counter) = watch::channel(0usize);
    let idp = Idp::start_gated("jwks-k1.json", Some((counter, 20))).await;
    let t = helpers::start().await;
    let mut settings = t.settings.clone();
    settings.auth.allow_anonymous = false;
    settings.auth.algorithms = vec!["RS256".into()];
    settings.auth.jwks_url = Some(idp.url.clone());
    settings.auth.issuer = ISS.into();
    settings.auth.audience = AUD.into();
    let app = returns_gateway::App::with_clock(&settings, t.sims.world.clock)
        .await
        .unwrap();
    let router = app.router().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            arrived.send_modify(|n| *n += 1);
            next.run(request)
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let k1 = rs256_kid(&claims(ALL), "k1");
    let http = reqwest::Client::new();
    let requests = (0..20).map(|_| {
        let request = http
            .post(&url)
            .bearer_auth(&k1)
            .json(&json!({"query": VENDORS}));
        async move { request.send().await.unwrap().status().as_u16() }
    });
    // A bound instead of a hang should the gate never open.
    let statuses = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        futures_util::future::join_all(requests),
    )
    .await
    .expect("all twenty answered");
    assert_eq!(statuses, vec![200; 20]);
    assert_eq!(idp.hits(), 1, "one fetch for twenty cold requests");
}
