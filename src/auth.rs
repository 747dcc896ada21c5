//! JWT bearer authentication and scopes.
//!
//! A token must carry `exp`, `iss` and `aud`, match the configured issuer and audience, be
//! signed with one of the configured algorithms (HS256 with the configured secret; RS256/ES256
//! with the configured PEM key or the JWKS key named by its `kid`), and be within its `exp`/`nbf`
//! (leeway at most 60 s). Its `scope` (space-separated) or `scopes` (list) claim grants scopes;
//! its `tenant` claim names the tenant.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::{AuthSettings, ConfigError};

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
}

impl Caller {
    /// The demo's anonymous caller: every scope.
    pub fn anonymous() -> Caller {
        Caller {
            subject: None,
            tenant: "default".into(),
            scopes: Scope::ALL.into_iter().collect(),
        }
    }

    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
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
}

enum Keys {
    Single(DecodingKey),
    Jwks(JwkSet),
}

pub struct Authenticator {
    allow_anonymous: bool,
    hs256: Option<DecodingKey>,
    asymmetric: Option<Keys>,
    validation: Validation,
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
        let asymmetric = match (&settings.public_key_pem_file, &settings.jwks_file) {
            (Some(path), _) => {
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
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| invalid("auth.jwks_file", format!("{path}: {e}")))?;
                let set: JwkSet = serde_json::from_str(&text)
                    .map_err(|e| invalid("auth.jwks_file", e.to_string()))?;
                Some(Keys::Jwks(set))
            }
            (None, None) => None,
        };
        if !settings.allow_anonymous {
            if settings.issuer.is_empty() || settings.audience.is_empty() {
                return Err(invalid("auth.issuer", "issuer and audience are required"));
            }
            if hs256.is_none() && asymmetric.is_none() {
                return Err(invalid("auth.hs256_secret", "no key to verify tokens with"));
            }
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = algorithms;
        validation.leeway = settings.leeway_s.min(60);
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        Ok(Authenticator {
            allow_anonymous: settings.allow_anonymous,
            hs256,
            asymmetric,
            validation,
        })
    }

    /// The caller of a request with this `Authorization` header value.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, AuthError> {
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
        if !self.validation.algorithms.contains(&head.alg) {
            return Err(AuthError::Invalid(format!(
                "algorithm {:?} is not accepted",
                head.alg
            )));
        }
        let key = match head.alg {
            Algorithm::HS256 => self.hs256.clone(),
            _ => match &self.asymmetric {
                Some(Keys::Single(key)) => Some(key.clone()),
                Some(Keys::Jwks(set)) => {
                    let kid = head
                        .kid
                        .as_deref()
                        .ok_or_else(|| AuthError::Invalid("no `kid`".into()))?;
                    let jwk = set
                        .find(kid)
                        .ok_or_else(|| AuthError::Invalid(format!("unknown kid {kid:?}")))?;
                    Some(
                        DecodingKey::from_jwk(jwk)
                            .map_err(|e| AuthError::Invalid(e.to_string()))?,
                    )
                }
                None => None,
            },
        }
        .ok_or_else(|| AuthError::Invalid("no key for this algorithm".into()))?;
        let data = jsonwebtoken::decode::<TokenClaims>(token, &key, &self.validation)
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
