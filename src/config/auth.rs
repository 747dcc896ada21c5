//! `[auth]`: who may call the gateway.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use vendors::settings::Secret;

/// Who may call the gateway: JWT bearer tokens (`exp`, `iss`, `aud` required).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Requests without a token run as tenant `default` with every scope. The demo only.
    pub allow_anonymous: bool,
    /// Accepted algorithms: any of `HS256`, `RS256`, `ES256`. A token with another `alg`
    /// (including `none`) is refused.
    pub algorithms: Vec<String>,
    /// HS256 key (also what `returns-gateway token` signs with).
    pub hs256_secret: Secret,
    /// RS256 / ES256 public key, PEM.
    pub public_key_pem_file: Option<String>,
    /// RS256 / ES256 keys as a JWKS document (chosen by the token's `kid`).
    pub jwks_file: Option<String>,
    /// RS256 / ES256 keys as a JWKS document fetched from this http(s) URL (chosen by the
    /// token's `kid`), on first need and then cached. Excludes `public_key_pem_file` and
    /// `jwks_file`.
    pub jwks_url: Option<String>,
    /// Fetched keys are fetched again on the first use after this many seconds.
    pub jwks_cache_s: u64,
    /// A token whose `kid` is not among the fetched keys triggers at most one fetch per this
    /// many seconds (a failed fetch is not retried sooner either), so tokens with made-up
    /// `kid`s cannot hammer the identity provider. 0: no limit.
    pub jwks_refresh_min_interval_s: u64,
    pub issuer: String,
    pub audience: String,
    /// Clock skew allowed on `exp` and `nbf`, at most 60 s.
    pub leeway_s: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            allow_anonymous: false,
            algorithms: vec!["HS256".into()],
            hs256_secret: Secret::default(),
            public_key_pem_file: None,
            jwks_file: None,
            jwks_url: None,
            jwks_cache_s: 600,
            jwks_refresh_min_interval_s: 30,
            issuer: String::new(),
            audience: String::new(),
            leeway_s: 30,
        }
    }
}
