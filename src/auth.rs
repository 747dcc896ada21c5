//! JWT bearer authentication and scopes.
//!
//! A token must carry `exp`, `iss` and `aud`, match the configured issuer and audience, be
//! signed with one of the configured algorithms (HS256 with the configured secret; RS256/ES256
//! with the configured PEM key or the JWKS key named by its `kid`, from a file or fetched from a
//! URL), and be within its `exp`/`nbf` (leeway at most 60 s). Its `scope` (space-separated) or
//! `scopes` (list) claim grants scopes; its `tenant` claim names the tenant.

use parking_lot::{Mutex, MutexGuard};
use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::{AuthSettings, ConfigError};
use vendors::escaped::Escaped;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    ReturnsRead,
    OrdersRead,
    TrackingRead,
    ReturnsWrite,
    OrdersWrite,
    TrackingWrite,
    /// Customer e-mail, phone and address unmasked.
    PiiRead,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::ReturnsRead,
        Scope::OrdersRead,
        Scope::TrackingRead,
        Scope::ReturnsWrite,
        Scope::OrdersWrite,
        Scope::TrackingWrite,
        Scope::PiiRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ReturnsRead => "returns:read",
            Scope::OrdersRead => "orders:read",
            Scope::TrackingRead => "tracking:read",
            Scope::ReturnsWrite => "returns:write",
            Scope::OrdersWrite => "orders:write",
            Scope::TrackingWrite => "tracking:write",
            Scope::PiiRead => "pii:read",
        }
    }

    pub fn parse(raw: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// Who is calling, as the request data carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: Option<String>,
    pub tenant: String,
    pub scopes: BTreeSet<Scope>,
    /// The token's `exp` (unix seconds): long-lived sessions (subscriptions) end then.
    pub expires_at: Option<u64>,
}

impl Caller {
    /// The demo's anonymous caller: every scope.
    pub fn anonymous() -> Caller {
        Caller {
            subject: None,
            tenant: "default".into(),
            scopes: Scope::ALL.into_iter().collect(),
            expires_at: None,
        }
    }

    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
}

#[derive(Debug, Deserialize, Serialize)]
struct TokenClaims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    tenant: Option<String>,
    /// Required and checked by the validation; a number, possibly fractional.
    #[serde(default)]
    exp: Option<f64>,
}

enum Keys {
    Single(DecodingKey),
    Jwks(JwkSet),
    Remote(Box<RemoteJwks>),
}

/// How long one JWKS fetch may take, connection included.
const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The JWKS at `auth.jwks_url`: fetched on first need (so the gateway starts while the identity
/// provider is down), kept `jwks_cache_s`, fetched again early for a `kid` it lacks at most once
/// per `jwks_refresh_min_interval_s`. A failed fetch keeps the previous keys and is not retried
/// within `jwks_refresh_min_interval_s`. One fetch at a time: concurrent requests that need one
/// wait for it and use its outcome.
struct RemoteJwks {
    url: reqwest::Url,
    /// The URL as messages show it: without credentials or query.
    shown: String,
    client: reqwest::Client,
    cache_for: Duration,
    min_refresh_interval: Duration,
    state: Mutex<RemoteState>,
    /// Held for the length of a fetch.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct RemoteState {
    keys: Option<JwkSet>,
    /// When `keys` were fetched.
    fetched_at: Option<Instant>,
    /// Fetches finished so far, successful or not: a request that waited for the fetch lock
    /// and sees this moved uses that fetch's outcome instead of fetching again.
    attempts: u64,
    /// The last fetch triggered by a `kid` missing from fresh keys.
    kid_refreshed_at: Option<Instant>,
    /// The last fetch, when it failed, and why.
    failure: Option<(Instant, String)>,
}

/// A key for the token, or why there is none.
fn key_of(set: &JwkSet, kid: &str) -> Result<DecodingKey, AuthError> {
    let jwk = set
        .find(kid)
        .ok_or_else(|| AuthError::Invalid(format!("unknown kid {kid:?}")))?;
    DecodingKey::from_jwk(jwk).map_err(|e| AuthError::Invalid(e.to_string()))
}

/// An error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

impl RemoteJwks {
    fn new(raw: &str, settings: &AuthSettings) -> Result<RemoteJwks, ConfigError> {
        let url = reqwest::Url::parse(raw)
            .map_err(|e| invalid("auth.jwks_url", format!("not an http(s) URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(
                "auth.jwks_url",
                format!("not an http(s) URL: the scheme is {:?}", url.scheme()),
            ));
        }
        if settings.jwks_cache_s == 0 {
            return Err(invalid("auth.jwks_cache_s", "must be above zero"));
        }
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        shown.set_query(None);
        shown.set_fragment(None);
        let client = reqwest::Client::builder()
            .connect_timeout(JWKS_FETCH_TIMEOUT)
            .timeout(JWKS_FETCH_TIMEOUT)
            .build()
            .map_err(|e| invalid("auth.jwks_url", chain(&e)))?;
        Ok(RemoteJwks {
            url,
            shown: shown.to_string(),
            client,
            cache_for: Duration::from_secs(settings.jwks_cache_s),
            min_refresh_interval: Duration::from_secs(settings.jwks_refresh_min_interval_s),
            state: Mutex::new(RemoteState::default()),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    fn state(&self) -> MutexGuard<'_, RemoteState> {
        self.state.lock()
    }

    /// The key named `kid`, fetching the set first when it is missing, expired, or lacks `kid`
    /// and the rate limits allow.
    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        let (wanted, seen) = {
            let state = self.state();
            (self.fetch_wanted(&state, kid), state.attempts)
        };
        if wanted.is_some() {
            let _one_at_a_time = self.fetching.lock().await;
            // Whoever held the lock may have just fetched: then its outcome is the answer.
            let again = {
                let state = self.state();
                (state.attempts == seen)
                    .then(|| self.fetch_wanted(&state, kid))
                    .flatten()
            };
            if let Some(trigger) = again {
                self.fetch(trigger).await;
            }
        }
        self.answer(kid)
    }

    /// Whether to fetch before answering for `kid`, and why.
    fn fetch_wanted(&self, state: &RemoteState, kid: &str) -> Option<Trigger> {
        let recently =
            |at: Option<Instant>| at.is_some_and(|t| t.elapsed() < self.min_refresh_interval);
        if recently(state.failure.as_ref().map(|(at, _)| *at)) {
            return None;
        }
        let fresh = state
            .fetched_at
            .is_some_and(|t| t.elapsed() < self.cache_for);
        match &state.keys {
            Some(set) if fresh => (set.find(kid).is_none() && !recently(state.kid_refreshed_at))
                .then_some(Trigger::UnknownKid),
            _ => Some(Trigger::Expired),
        }
    }

    /// The key named `kid` in the keys at hand (stale ones included: better than none while the
    /// identity provider cannot be reached).
    fn answer(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        let state = self.state();
        let failed = state
            .failure
            .as_ref()
            .filter(|(at, _)| state.fetched_at.is_none_or(|t| *at > t))
            .map(|(_, why)| why.as_str());
        match (&state.keys, failed) {
            (Some(set), failed) => key_of(set, kid).map_err(|e| match (e, failed) {
                (AuthError::Invalid(e), Some(why)) => AuthError::Invalid(format!("{e} ({why})")),
                (e, _) => e,
            }),
            (None, Some(why)) => Err(AuthError::Invalid(why.to_owned())),
            (None, None) => Err(AuthError::Invalid(format!(
                "no keys fetched from {} yet",
                self.shown
            ))),
        }
    }

    /// Fetches the set; a failure keeps the previous keys.
    async fn fetch(&self, trigger: Trigger) {
        let outcome = self.download().await;
        let now = Instant::now();
        let mut state = self.state();
        state.attempts += 1;
        if trigger == Trigger::UnknownKid {
            state.kid_refreshed_at = Some(now);
        }
        match outcome {
            Ok(set) => {
                tracing::info!(url = %self.shown, keys = set.keys.len(), ?trigger, "JWKS fetched");
                state.keys = Some(set);
                state.fetched_at = Some(now);
                state.failure = None;
            }
            Err(why) => {
                tracing::warn!(error = %Escaped(&why), ?trigger, "JWKS fetch failed; the previous keys stay");
                state.failure = Some((now, why));
            }
        }
    }

    async fn download(&self) -> Result<JwkSet, String> {
        let failed = |why: String| format!("JWKS fetch from {} failed: {why}", self.shown);
        let response = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| failed(chain(&e.without_url())))?;
        let status = response.status();
        if !status.is_success() {
            return Err(failed(format!("HTTP {}", status.as_u16())));
        }
        // A key set is a few KiB; a provider answering more is not one to buffer.
        let too_big = || failed(format!("the document is over {MAX_JWKS_BYTES} bytes"));
        if response
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err(too_big());
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| failed(chain(&e.without_url())))?
        {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| failed(format!("not a JWKS document: {e}")))
    }
}

/// The largest JWKS document read from a provider.
const MAX_JWKS_BYTES: usize = 1 << 20;

/// Why the JWKS is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// No keys yet, or older than `jwks_cache_s`.
    Expired,
    /// Fresh keys lack the token's `kid`.
    UnknownKid,
}

pub struct Authenticator {
    allow_anonymous: bool,
    hs256: Option<DecodingKey>,
    asymmetric: Option<Keys>,
    /// One per accepted algorithm, accepting only it: jsonwebtoken refuses a key whose family
    /// differs from any algorithm a `Validation` lists, so one listing HS256 and RS256 together
    /// would refuse every token.
    validations: Vec<Validation>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

fn algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "HS256" => Some(Algorithm::HS256),
        "RS256" => Some(Algorithm::RS256),
        "ES256" => Some(Algorithm::ES256),
        _ => None,
    }
}

impl Authenticator {
    /// Loads the keys; refuses a configuration that could not verify any token it accepts.
    pub fn new(settings: &AuthSettings) -> Result<Authenticator, ConfigError> {
        let algorithms: Vec<Algorithm> = settings
            .algorithms
            .iter()
            .filter_map(|a| algorithm(a))
            .collect();
        let hs256 = (algorithms.contains(&Algorithm::HS256) && !settings.hs256_secret.is_empty())
            .then(|| DecodingKey::from_secret(settings.hs256_secret.expose().as_bytes()));
        if settings.public_key_pem_file.is_some() && settings.jwks_file.is_some() {
            return Err(invalid(
                "auth.jwks_file",
                "set either auth.public_key_pem_file or auth.jwks_file, not both",
            ));
        }
        let asymmetric_key = settings.public_key_pem_file.is_some()
            || settings.jwks_file.is_some()
            || settings.jwks_url.is_some();
        if asymmetric_key
            && !algorithms
                .iter()
                .any(|a| matches!(a, Algorithm::RS256 | Algorithm::ES256))
        {
            return Err(invalid(
                "auth.algorithms",
                "a public key is configured but neither RS256 nor ES256 is accepted",
            ));
        }
        if settings.jwks_url.is_some() {
            for (set, key) in [
                (
                    settings.public_key_pem_file.is_some(),
                    "auth.public_key_pem_file",
                ),
                (settings.jwks_file.is_some(), "auth.jwks_file"),
            ] {
                if set {
                    return Err(invalid(
                        "auth.jwks_url",
                        format!("set either {key} or auth.jwks_url, not both"),
                    ));
                }
            }
        }
        let asymmetric = match (
            &settings.public_key_pem_file,
            &settings.jwks_file,
            &settings.jwks_url,
        ) {
            (_, _, Some(url)) => Some(Keys::Remote(Box::new(RemoteJwks::new(url, settings)?))),
            (Some(path), _, None) => {
                let pem = std::fs::read(path)
                    .map_err(|e| invalid("auth.public_key_pem_file", format!("{path}: {e}")))?;
                let key = if algorithms.contains(&Algorithm::ES256) {
                    DecodingKey::from_ec_pem(&pem)
                } else {
                    DecodingKey::from_rsa_pem(&pem)
                }
                .map_err(|e| invalid("auth.public_key_pem_file", e.to_string()))?;
                Some(Keys::Single(key))
            }
            (None, Some(path), None) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| invalid("auth.jwks_file", format!("{path}: {e}")))?;
                let set: JwkSet = serde_json::from_str(&text)
                    .map_err(|e| invalid("auth.jwks_file", e.to_string()))?;
                Some(Keys::Jwks(set))
            }
            (None, None, None) => None,
        };
        if !settings.allow_anonymous {
            // Every missing one named at once: a first run learns them in one go, not one a try.
            let missing: Vec<&str> = [
                (settings.issuer.is_empty(), "auth.issuer"),
                (settings.audience.is_empty(), "auth.audience"),
                (
                    hs256.is_none() && asymmetric.is_none(),
                    "auth.hs256_secret (or a public key)",
                ),
            ]
            .into_iter()
            .filter_map(|(unset, key)| unset.then_some(key))
            .collect();
            if let Some((first, rest)) = missing.split_first() {
                let also = if rest.is_empty() {
                    String::new()
                } else {
                    format!("; also missing: {}", rest.join(", "))
                };
                return Err(invalid(
                    first,
                    format!("required to verify tokens (unless auth.allow_anonymous){also}"),
                ));
            }
        }
        let validations = algorithms
            .into_iter()
            .map(|alg| {
                let mut validation = Validation::new(alg);
                validation.leeway = settings.leeway_s.min(60);
                validation.validate_nbf = true;
                validation.set_required_spec_claims(&["exp", "iss", "aud"]);
                validation.set_issuer(&[&settings.issuer]);
                validation.set_audience(&[&settings.audience]);
                validation
            })
            .collect();
        Ok(Authenticator {
            allow_anonymous: settings.allow_anonymous,
            hs256,
            asymmetric,
            validations,
        })
    }

    /// The caller of a request with this `Authorization` header value.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, AuthError> {
        let Some(header) = authorization else {
            return if self.allow_anonymous {
                Ok(Caller::anonymous())
            } else {
                Err(AuthError::Missing)
            };
        };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| {
                AuthError::Invalid("the Authorization header is not `Bearer <token>`".into())
            })?
            .trim();
        let head =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let validation = self
            .validations
            .iter()
            .find(|v| v.algorithms == [head.alg])
            .ok_or_else(|| {
                AuthError::Invalid(format!("algorithm {:?} is not accepted", head.alg))
            })?;
        let kid = || {
            head.kid
                .as_deref()
                .ok_or_else(|| AuthError::Invalid("no `kid`".into()))
        };
        let key = match head.alg {
            Algorithm::HS256 => self.hs256.clone(),
            _ => match &self.asymmetric {
                Some(Keys::Single(key)) => Some(key.clone()),
                Some(Keys::Jwks(set)) => Some(key_of(set, kid()?)?),
                Some(Keys::Remote(remote)) => Some(remote.key(kid()?).await?),
                None => None,
            },
        }
        .ok_or_else(|| AuthError::Invalid("no key for this algorithm".into()))?;
        let data = jsonwebtoken::decode::<TokenClaims>(token, &key, validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        let claims = data.claims;
        let granted: Vec<String> = match (claims.scope, claims.scopes) {
            (Some(s), _) => s.split_whitespace().map(str::to_owned).collect(),
            (None, Some(list)) => list,
            (None, None) => Vec::new(),
        };
        Ok(Caller {
            subject: claims.sub,
            tenant: claims.tenant.unwrap_or_else(|| "default".into()),
            scopes: granted.iter().filter_map(|s| Scope::parse(s)).collect(),
            expires_at: claims.exp.map(|e| e.max(0.0) as u64),
        })
    }
}

/// A development token signed with the configured HS256 secret (`returns-gateway token`).
pub fn mint(
    settings: &AuthSettings,
    tenant: &str,
    scopes: &[Scope],
    ttl_s: u64,
) -> Result<String, ConfigError> {
    if settings.hs256_secret.is_empty() {
        return Err(invalid("auth.hs256_secret", "needed to sign a token"));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = serde_json::json!({
        "sub": "dev",
        "tenant": tenant,
        "scope": scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + ttl_s,
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(settings.hs256_secret.expose().as_bytes()),
    )
    .map_err(|e| invalid("auth.hs256_secret", e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    const ISS: &str = "https://issuer.test";
    const AUD: &str = "returns-gateway";

    fn fixture(name: &str) -> String {
        format!("{}/tests/fixtures/auth/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    fn with_url(url: &str) -> AuthSettings {
        AuthSettings {
            algorithms: vec!["RS256".into()],
            jwks_url: Some(url.into()),
            issuer: ISS.into(),
            audience: AUD.into(),
            ..AuthSettings::default()
        }
    }

    fn refused(settings: &AuthSettings) -> String {
        Authenticator::new(settings).unwrap_err().to_string()
    }

    #[test]
    fn jwks_url_must_be_an_http_url() {
        for bad in [
            "not a url",
            "ftp://idp.test/jwks.json",
            "file:///etc/jwks.json",
        ] {
            let err = refused(&with_url(bad));
            assert!(err.contains("auth.jwks_url"), "{bad}: {err}");
            assert!(err.contains("http(s) URL"), "{bad}: {err}");
        }
        let err = refused(&AuthSettings {
            jwks_cache_s: 0,
            ..with_url("https://idp.test/jwks.json")
        });
        assert!(err.contains("auth.jwks_cache_s"), "{err}");
    }

    #[test]
    fn key_settings_that_could_not_work_are_refused() {
        let both = AuthSettings {
            jwks_url: None,
            public_key_pem_file: Some(fixture("rsa-public.pem")),
            jwks_file: Some(fixture("jwks-k1.json")),
            ..with_url("https://idp.example/jwks")
        };
        assert!(
            refused(&both).contains("auth.jwks_file"),
            "{}",
            refused(&both)
        );
        let unused = AuthSettings {
            algorithms: vec!["HS256".into()],
            hs256_secret: crate::config::Secret::new("s"),
            ..with_url("https://idp.example/jwks")
        };
        assert!(
            refused(&unused).contains("auth.algorithms"),
            "{}",
            refused(&unused)
        );
    }

    #[test]
    fn jwks_url_excludes_the_key_files() {
        let err = refused(&AuthSettings {
            public_key_pem_file: Some(fixture("rsa-public.pem")),
            ..with_url("https://idp.test/jwks.json")
        });
        assert!(err.contains("auth.jwks_url"), "{err}");
        assert!(err.contains("auth.public_key_pem_file"), "{err}");
        let err = refused(&AuthSettings {
            jwks_file: Some(fixture("jwks-k1.json")),
            ..with_url("https://idp.test/jwks.json")
        });
        assert!(err.contains("auth.jwks_url"), "{err}");
        assert!(err.contains("auth.jwks_file"), "{err}");
    }

    #[test]
    fn jwks_url_is_not_fetched_at_start() {
        // Nothing listens there; building must not care.
        let auth = Authenticator::new(&with_url("http://127.0.0.1:9/jwks.json")).unwrap();
        let Some(Keys::Remote(remote)) = &auth.asymmetric else {
            panic!("remote keys expected");
        };
        assert_eq!(remote.state().attempts, 0);
    }

    #[test]
    fn jwks_url_credentials_never_show() {
        let auth =
            Authenticator::new(&with_url("https://user:pw@idp.test/jwks.json?key=abc")).unwrap();
        let Some(Keys::Remote(remote)) = &auth.asymmetric else {
            panic!("remote keys expected");
        };
        assert_eq!(remote.shown, "https://idp.test/jwks.json");
    }

    fn token(kid: &str) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = serde_json::json!({"sub": "s", "iss": ISS, "aud": AUD, "exp": now + 600});
        let pem = std::fs::read(fixture("rsa-private.pem")).unwrap();
        let header = Header {
            kid: Some(kid.into()),
            ..Header::new(Algorithm::RS256)
        };
        let token =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(&pem).unwrap());
        format!("Bearer {}", token.unwrap())
    }

    /// A JWKS endpoint answering `answer` (status, body) and counting its requests.
    struct Idp {
        url: String,
        hits: Arc<AtomicUsize>,
        answer: Arc<Mutex<(u16, String)>>,
    }

    impl Idp {
        async fn start() -> Idp {
            let hits = Arc::new(AtomicUsize::new(0));
            let jwks = std::fs::read_to_string(fixture("jwks-k1.json")).unwrap();
            let answer = Arc::new(Mutex::new((200, jwks)));
            let (h, a) = (hits.clone(), answer.clone());
            let app = axum::Router::new().route(
                "/jwks.json",
                axum::routing::get(move || async move {
                    h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let (status, body) = a.lock().clone();
                    (axum::http::StatusCode::from_u16(status).unwrap(), body)
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
            Idp { url, hits, answer }
        }

        fn hits(&self) -> usize {
            self.hits.load(Ordering::SeqCst)
        }
    }

    /// Makes the fetched keys look older than `jwks_cache_s`.
    fn age(auth: &Authenticator) {
        let Some(Keys::Remote(remote)) = &auth.asymmetric else {
            panic!("remote keys expected");
        };
        let mut state = remote.state();
        let back = remote.cache_for + Duration::from_secs(1);
        state.fetched_at = state.fetched_at.map(|t| t.checked_sub(back).unwrap());
        if let Some((at, _)) = &mut state.failure {
            *at = at.checked_sub(back).unwrap();
        }
    }

    #[tokio::test]
    async fn expired_keys_are_fetched_again_and_kept_when_that_fails() {
        let idp = Idp::start().await;
        let auth = Authenticator::new(&AuthSettings {
            jwks_cache_s: 5,
            jwks_refresh_min_interval_s: 3,
            ..with_url(&idp.url)
        })
        .unwrap();
        let k1 = token("k1");
        auth.authenticate(Some(&k1)).await.unwrap();
        auth.authenticate(Some(&k1)).await.unwrap();
        assert_eq!(idp.hits(), 1, "cached");
        age(&auth);
        auth.authenticate(Some(&k1)).await.unwrap();
        assert_eq!(idp.hits(), 2, "expired keys are fetched again");
        *idp.answer.lock() = (503, "down".into());
        age(&auth);
        auth.authenticate(Some(&k1))
            .await
            .expect("the previous keys still verify while the identity provider is down");
        assert_eq!(idp.hits(), 3);
        auth.authenticate(Some(&k1)).await.unwrap();
        assert_eq!(idp.hits(), 3, "a failed fetch is not retried at once");
        let err = auth.authenticate(Some(&token("k9"))).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "invalid token: unknown kid \"k9\" (JWKS fetch from {} failed: HTTP 503)",
                idp.url
            )
        );
        assert_eq!(idp.hits(), 3);
    }

    #[tokio::test]
    async fn concurrent_cold_requests_share_one_fetch() {
        let idp = Idp::start().await;
        let auth = Authenticator::new(&with_url(&idp.url)).unwrap();
        let k1 = token("k1");
        // All twenty are polled (and queue for the fetch) before the fetch can finish.
        let answers =
            futures_util::future::join_all((0..20).map(|_| auth.authenticate(Some(&k1)))).await;
        assert!(answers.iter().all(Result::is_ok), "{answers:?}");
        assert_eq!(idp.hits(), 1);
    }

    #[tokio::test]
    async fn several_algorithms_accept_each_of_theirs() {
        // HS256 and RS256 together: each verifies with its own key, never the other's.
        let auth = Authenticator::new(&AuthSettings {
            algorithms: vec!["HS256".into(), "RS256".into()],
            hs256_secret: crate::config::Secret::new("s"),
            public_key_pem_file: Some(fixture("rsa-public.pem")),
            issuer: ISS.into(),
            audience: AUD.into(),
            ..AuthSettings::default()
        })
        .unwrap();
        auth.authenticate(Some(&token("any"))).await.unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = serde_json::json!({"sub": "s", "iss": ISS, "aud": AUD, "exp": now + 600});
        let hs256 = |secret: &[u8]| {
            let token = jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(secret),
            );
            format!("Bearer {}", token.unwrap())
        };
        auth.authenticate(Some(&hs256(b"s"))).await.unwrap();
        let public = std::fs::read(fixture("rsa-public.pem")).unwrap();
        assert!(auth.authenticate(Some(&hs256(&public))).await.is_err());
    }
}
