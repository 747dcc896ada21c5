//! JWT bearer authentication, scopes and PII masking, against a gateway that admits no
//! anonymous callers.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{self, TestGateway, TestSims};

const SECRET: &str = "test-secret";
const ISS: &str = "https://issuer.test";
const AUD: &str = "returns-gateway";

fn fixture_path(name: &str) -> String {
    format!("{}/tests/fixtures/auth/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(scope: &str) -> Value {
    json!({"sub": "agent-7", "tenant": "default", "scope": scope, "iss": ISS, "aud": AUD, "exp": now() + 600})
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
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
    let b64 = |v: &Value| returns_gateway::schema::ids::base64url_encode(v.to_string().as_bytes());
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
