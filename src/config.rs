//! Settings: one TOML document, `deny_unknown_fields` everywhere, defaults in one place
//! (the `Default` impls below), secrets in [`Secret`] so they never reach a log.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::Vendor;
use crate::sim::Faults;

/// A credential. Prints as `***`; read it with [`Secret::expose`] where it is sent.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("***")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The TOML error's message already names the key and shows the line.
    #[error("invalid config: {0}")]
    Parse(toml::de::Error),
    #[error("invalid config: {key}: {reason}")]
    Invalid { key: String, reason: String },
}

/// Environment variables with this prefix override settings.
pub const ENV_PREFIX: &str = "RETURNS_GATEWAY__";

impl From<toml::de::Error> for ConfigError {
    fn from(e: toml::de::Error) -> Self {
        ConfigError::Parse(e)
    }
}

/// Base URL, timeouts and resilience of one vendor, as the shared transport needs them.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorHttp {
    pub base_url: String,
    pub connect_timeout_ms: u64,
    /// The whole call, retries included, never takes longer.
    pub timeout_ms: u64,
    pub resilience: VendorResilience,
}

/// How calls to one vendor are paced, limited and retried (see `vendors::resilience`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct VendorResilience {
    /// Calls in flight at most (bulkhead).
    pub max_concurrency: usize,
    /// Client-side rate limit, calls per second; 0 = none.
    pub rate_limit_per_s: f64,
    /// Retries of a failed read (writes are never retried).
    pub read_retries: u32,
    /// First backoff step; full jitter, doubling per retry.
    pub retry_base_ms: u64,
    /// Consecutive failures that open the circuit breaker.
    pub breaker_failures: u32,
    /// How long the breaker stays open before one trial call.
    pub breaker_cooldown_ms: u64,
}

impl Default for VendorResilience {
    fn default() -> Self {
        VendorResilience {
            max_concurrency: 32,
            rate_limit_per_s: 0.0,
            read_retries: 2,
            retry_base_ms: 50,
            breaker_failures: 5,
            breaker_cooldown_ms: 10_000,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub auth: AuthSettings,
    pub cache: CacheSettings,
    pub idempotency: IdempotencySettings,
    pub vendors: VendorsSettings,
    pub sim: SimSettings,
}

/// Who may call the gateway: JWT bearer tokens (`exp`, `iss`, `aud` required).
#[derive(Debug, Clone, Deserialize, Serialize)]
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

/// Where the gateway listens and what it exposes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// `host:port`; port 0 picks a free one.
    pub listen: String,
    /// Serve GraphiQL on `GET /` and `GET /graphql`.
    pub graphiql: bool,
    /// Largest `first` a connection accepts.
    pub max_page_size: usize,
    /// Benchmarks only: resolve cross-links row by row (no batching, no prefetch), the
    /// baseline the N+1 benchmark compares against.
    pub naive_resolution: bool,
    /// Schema introspection (GraphiQL needs it). Off in production; the demo turns it on.
    pub introspection: bool,
    /// "Did you mean …" suggestions in validation errors. Off in production.
    pub suggestions: bool,
    pub max_depth: usize,
    /// Every selected field counts one, aliases included.
    pub max_complexity: usize,
    pub max_aliases: usize,
    /// Directives on one field.
    pub max_directives: usize,
    /// Nesting of lists, objects and fragments the parser accepts.
    pub max_recursive_depth: usize,
    /// Requests in one batch (mutations are never batched).
    pub max_batch: usize,
    /// Request bodies above this are refused with 413.
    pub max_body_bytes: usize,
    /// Automatic persisted queries: documents remembered by their SHA-256.
    pub apq_cache_size: u64,
    /// Safelist mode: a JSON object `{"<sha256 hex>": "<document>"}`; only these documents run.
    pub safelist_file: Option<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: "127.0.0.1:4000".into(),
            graphiql: true,
            max_page_size: 100,
            naive_resolution: false,
            introspection: false,
            suggestions: false,
            max_depth: 15,
            max_complexity: 500,
            max_aliases: 100,
            max_directives: 5,
            max_recursive_depth: 32,
            max_batch: 10,
            max_body_bytes: 2 * 1024 * 1024,
            apq_cache_size: 10_000,
            safelist_file: None,
        }
    }
}

/// The read cache in front of every vendor: a time-to-live per vendor, a bound on entries, and
/// V-Track served stale while it refreshes in the background (its report can take minutes).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSettings {
    pub max_entries_per_vendor: u64,
    pub ttl_s: VendorTtls,
    /// How long V-Track data may be served stale while a refresh runs.
    pub vtrack_max_stale_s: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            max_entries_per_vendor: 10_000,
            ttl_s: VendorTtls::default(),
            vtrack_max_stale_s: 24 * 3600,
        }
    }
}

/// How long a mutation's result is kept under its idempotency key.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdempotencySettings {
    pub ttl_s: u64,
    pub max_keys: u64,
}

impl Default for IdempotencySettings {
    fn default() -> Self {
        IdempotencySettings {
            ttl_s: 24 * 3600,
            max_keys: 100_000,
        }
    }
}

/// Seconds a vendor's answer is fresh.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct VendorTtls {
    pub vtrack: u64,
    pub procarrier: u64,
    pub rrr: u64,
    pub merchantpro: u64,
    pub trackru: u64,
}

impl Default for VendorTtls {
    fn default() -> Self {
        VendorTtls {
            vtrack: 900,
            procarrier: 60,
            rrr: 120,
            merchantpro: 60,
            trackru: 120,
        }
    }
}

impl VendorTtls {
    pub fn of(&self, vendor: Vendor) -> u64 {
        match vendor {
            Vendor::VTrack => self.vtrack,
            Vendor::ProCarrier => self.procarrier,
            Vendor::Rrr => self.rrr,
            Vendor::MerchantPro => self.merchantpro,
            Vendor::TrackRu => self.trackru,
        }
    }
}

impl Settings {
    /// The embedded demo configuration (simulators + gateway on this machine).
    pub fn demo() -> Settings {
        Settings::from_toml(include_str!("../config/demo.toml"))
            .expect("config/demo.toml is valid (checked by a test)")
    }

    pub fn from_toml(text: &str) -> Result<Settings, ConfigError> {
        let settings: Settings = toml::from_str(text)?;
        settings.validate()?;
        Ok(settings)
    }

    /// The file at `path`, then the process environment's overrides (see
    /// [`Settings::from_toml_with_env`]).
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Settings::from_toml_with_env(&text, std::env::vars())
    }

    /// TOML, then overrides from `RETURNS_GATEWAY__<SECTION>__<KEY>=value` variables (`__`
    /// separates levels, names are case-insensitive): `RETURNS_GATEWAY__VENDORS__TRACKRU__API_KEY`
    /// sets `vendors.trackru.api_key`. A value is read as TOML (`5000`, `true`, `0.5`) and
    /// otherwise taken as a string. Unknown keys are errors that name the variable.
    pub fn from_toml_with_env(
        text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut root: toml::Table = toml::from_str(text)?;
        for (name, raw) in vars {
            let Some(path) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
            if keys.iter().any(String::is_empty) {
                return Err(ConfigError::Invalid {
                    key: name,
                    reason: "empty key segment".into(),
                });
            }
            let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(raw));
            let (last, parents) = keys.split_last().expect("at least one segment");
            let mut table = &mut root;
            for key in parents {
                let entry = table
                    .entry(key.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                table = entry.as_table_mut().ok_or_else(|| ConfigError::Invalid {
                    key: name.clone(),
                    reason: format!("`{key}` is not a section"),
                })?;
            }
            table.insert(last.clone(), value);
        }
        let settings: Settings = toml::Value::Table(root)
            .try_into()
            .map_err(ConfigError::Parse)?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.auth.leeway_s > 60 {
            return Err(ConfigError::Invalid {
                key: "auth.leeway_s".into(),
                reason: "at most 60 seconds".into(),
            });
        }
        if let Some(bad) = self
            .auth
            .algorithms
            .iter()
            .find(|a| !["HS256", "RS256", "ES256"].contains(&a.as_str()))
        {
            return Err(ConfigError::Invalid {
                key: "auth.algorithms".into(),
                reason: format!("{bad:?} is not one of HS256, RS256, ES256"),
            });
        }
        if self.server.max_page_size == 0 {
            return Err(ConfigError::Invalid {
                key: "server.max_page_size".into(),
                reason: "must be above zero".into(),
            });
        }
        if self.idempotency.ttl_s == 0 || self.idempotency.max_keys == 0 {
            return Err(ConfigError::Invalid {
                key: "idempotency.ttl_s".into(),
                reason: "ttl_s and max_keys must be above zero".into(),
            });
        }
        if self.cache.max_entries_per_vendor == 0 {
            return Err(ConfigError::Invalid {
                key: "cache.max_entries_per_vendor".into(),
                reason: "must be above zero".into(),
            });
        }
        let v = &self.vendors;
        for (name, http) in [
            ("vtrack", v.vtrack.http()),
            ("procarrier", v.procarrier.http()),
            ("rrr", v.rrr.http()),
            ("merchantpro", v.merchantpro.http()),
            ("trackru", v.trackru.http()),
        ] {
            if reqwest::Url::parse(&http.base_url).is_err() {
                return Err(ConfigError::Invalid {
                    key: format!("vendors.{name}.base_url"),
                    reason: format!("{:?} is not a URL", http.base_url),
                });
            }
            if http.timeout_ms == 0 || http.connect_timeout_ms == 0 {
                return Err(ConfigError::Invalid {
                    key: format!("vendors.{name}.timeout_ms"),
                    reason: "timeouts must be above zero".into(),
                });
            }
        }
        for vendor in Vendor::ALL {
            self.sim
                .faults
                .of(vendor)
                .validate()
                .map_err(|reason| ConfigError::Invalid {
                    key: format!("sim.faults.{vendor}"),
                    reason,
                })?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct VendorsSettings {
    pub vtrack: VTrackSettings,
    pub procarrier: ProCarrierSettings,
    pub rrr: RrrSettings,
    pub merchantpro: MerchantProSettings,
    pub trackru: TrackRuSettings,
}

macro_rules! http_of {
    ($t:ty) => {
        impl $t {
            pub fn http(&self) -> VendorHttp {
                VendorHttp {
                    base_url: self.base_url.clone(),
                    connect_timeout_ms: self.connect_timeout_ms,
                    timeout_ms: self.timeout_ms,
                    resilience: self.resilience.clone(),
                }
            }
        }
    };
}

/// V-Track: `X-Public: <username>` and `Authorization: Bearer <api_key>`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct VTrackSettings {
    pub base_url: String,
    pub connect_timeout_ms: u64,
    /// The report is slow: the vendor's own client waits up to 360 s.
    pub timeout_ms: u64,
    pub username: String,
    pub api_key: Secret,
    pub resilience: VendorResilience,
}

impl Default for VTrackSettings {
    fn default() -> Self {
        VTrackSettings {
            base_url: "https://api.v-track.gr".into(),
            connect_timeout_ms: 15_000,
            timeout_ms: 360_000,
            username: String::new(),
            api_key: Secret::default(),
            resilience: VendorResilience::default(),
        }
    }
}
http_of!(VTrackSettings);

/// ProCarrier Returns: `ApiKey` inside every request body.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProCarrierSettings {
    pub base_url: String,
    pub connect_timeout_ms: u64,
    pub timeout_ms: u64,
    pub api_key: Secret,
    pub resilience: VendorResilience,
}

impl Default for ProCarrierSettings {
    fn default() -> Self {
        ProCarrierSettings {
            base_url: "http://returns.dgapi.app/api".into(),
            connect_timeout_ms: 5_000,
            timeout_ms: 30_000,
            api_key: Secret::default(),
            resilience: VendorResilience::default(),
        }
    }
}
http_of!(ProCarrierSettings);

/// RRR: `username`, `password`, `user_token` as form fields.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RrrSettings {
    pub base_url: String,
    pub connect_timeout_ms: u64,
    pub timeout_ms: u64,
    pub username: String,
    pub password: Secret,
    pub user_token: Secret,
    pub resilience: VendorResilience,
}

impl Default for RrrSettings {
    fn default() -> Self {
        RrrSettings {
            base_url: "https://api.rrr.lt".into(),
            connect_timeout_ms: 5_000,
            timeout_ms: 30_000,
            username: String::new(),
            password: Secret::default(),
            user_token: Secret::default(),
            resilience: VendorResilience::default(),
        }
    }
}
http_of!(RrrSettings);

/// MerchantPro: HTTP Basic. `base_url` is `https://{shop-domain}` (the client adds `/api/v2`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MerchantProSettings {
    pub base_url: String,
    pub connect_timeout_ms: u64,
    pub timeout_ms: u64,
    pub username: String,
    pub password: Secret,
    pub resilience: VendorResilience,
}

impl Default for MerchantProSettings {
    fn default() -> Self {
        MerchantProSettings {
            base_url: "https://shop.example.com".into(),
            connect_timeout_ms: 5_000,
            timeout_ms: 30_000,
            username: String::new(),
            password: Secret::default(),
            resilience: VendorResilience::default(),
        }
    }
}
http_of!(MerchantProSettings);

/// TrackRU: `Api-Key` header. `base_url` includes `/v1`. Paced at 1 call/s by default, the
/// vendor's documented limit.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackRuSettings {
    pub base_url: String,
    pub connect_timeout_ms: u64,
    pub timeout_ms: u64,
    pub api_key: Secret,
    pub resilience: VendorResilience,
}

impl Default for TrackRuSettings {
    fn default() -> Self {
        TrackRuSettings {
            base_url: "https://api.trackru.ru/v1".into(),
            connect_timeout_ms: 5_000,
            timeout_ms: 30_000,
            api_key: Secret::default(),
            resilience: VendorResilience {
                rate_limit_per_s: 1.0,
                ..VendorResilience::default()
            },
        }
    }
}
http_of!(TrackRuSettings);

/// The simulators: what they generate, where they listen, the credentials they accept
/// (the `[vendors]` credentials of the demo match them) and their fault knobs.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimSettings {
    /// Seed of the deterministic world; the same seed gives the same data.
    pub seed: u64,
    /// Returns to generate across the three vendors that hold returns.
    pub returns: usize,
    pub host: String,
    pub ports: SimPorts,
    pub credentials: SimCredentials,
    pub faults: SimFaults,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            seed: 42,
            returns: 540,
            host: "127.0.0.1".into(),
            ports: SimPorts::default(),
            credentials: SimCredentials::default(),
            faults: SimFaults::default(),
        }
    }
}

/// Local ports for `returns-gateway sim`; 0 picks a free one (tests always use 0).
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimPorts {
    pub vtrack: u16,
    pub procarrier: u16,
    pub rrr: u16,
    pub merchantpro: u16,
    pub trackru: u16,
}

impl Default for SimPorts {
    fn default() -> Self {
        SimPorts {
            vtrack: 4101,
            procarrier: 4102,
            rrr: 4103,
            merchantpro: 4104,
            trackru: 4105,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimCredentials {
    pub vtrack_username: String,
    pub vtrack_api_key: Secret,
    pub procarrier_api_key: Secret,
    pub rrr_username: String,
    pub rrr_password: Secret,
    pub rrr_user_token: Secret,
    pub merchantpro_username: String,
    pub merchantpro_password: Secret,
    pub trackru_api_key: Secret,
}

impl Default for SimCredentials {
    fn default() -> Self {
        SimCredentials {
            vtrack_username: "demo".into(),
            vtrack_api_key: Secret::new("vtrack-demo-key"),
            procarrier_api_key: Secret::new("procarrier-demo-key"),
            rrr_username: "demo".into(),
            rrr_password: Secret::new("rrr-demo-password"),
            rrr_user_token: Secret::new("rrr-demo-token"),
            merchantpro_username: "demo".into(),
            merchantpro_password: Secret::new("merchantpro-demo-password"),
            trackru_api_key: Secret::new("trackru-demo-key"),
        }
    }
}

/// Start-up fault knobs per simulator (also settable at run time via `PUT /__sim/faults`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimFaults {
    pub vtrack: Faults,
    pub procarrier: Faults,
    pub rrr: Faults,
    pub merchantpro: Faults,
    pub trackru: Faults,
}

impl SimFaults {
    pub fn of(&self, vendor: Vendor) -> &Faults {
        match vendor {
            Vendor::VTrack => &self.vtrack,
            Vendor::ProCarrier => &self.procarrier,
            Vendor::Rrr => &self.rrr,
            Vendor::MerchantPro => &self.merchantpro,
            Vendor::TrackRu => &self.trackru,
        }
    }
}

impl SimPorts {
    pub fn of(&self, vendor: Vendor) -> u16 {
        match vendor {
            Vendor::VTrack => self.vtrack,
            Vendor::ProCarrier => self.procarrier,
            Vendor::Rrr => self.rrr,
            Vendor::MerchantPro => self.merchantpro,
            Vendor::TrackRu => self.trackru,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_parses() {
        let s = Settings::demo();
        assert_eq!(s.vendors.procarrier.api_key.expose(), "procarrier-demo-key");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Settings::from_toml("[vendors.trackru]\napi_kee = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("api_kee"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = Settings::from_toml("[vendors.rrr]\nbase_url = \"nope\"\n").unwrap_err();
        assert!(err.to_string().contains("vendors.rrr.base_url"), "{err}");
        let err = Settings::from_toml("[sim.faults.rrr]\nerror_rate = 2.0\n").unwrap_err();
        assert!(err.to_string().contains("sim.faults.rrr"), "{err}");
    }

    #[test]
    fn environment_overrides_win_and_name_bad_keys() {
        let vars = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let base = "[vendors.trackru]\napi_key = \"from-file\"\n";
        let s = Settings::from_toml_with_env(
            base,
            vars(&[
                ("RETURNS_GATEWAY__VENDORS__TRACKRU__API_KEY", "from-env"),
                ("RETURNS_GATEWAY__VENDORS__RRR__TIMEOUT_MS", "1234"),
                ("RETURNS_GATEWAY__SERVER__INTROSPECTION", "true"),
                ("RETURNS_GATEWAY__SERVER__LISTEN", "0.0.0.0:8080"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(s.vendors.trackru.api_key.expose(), "from-env");
        assert_eq!(s.vendors.rrr.timeout_ms, 1234);
        assert!(s.server.introspection);
        assert_eq!(s.server.listen, "0.0.0.0:8080");
        let err = Settings::from_toml_with_env(
            base,
            vars(&[("RETURNS_GATEWAY__VENDORS__TRACKRU__API_KEE", "x")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("api_kee"), "{err}");
        let err = Settings::from_toml_with_env(
            base,
            vars(&[("RETURNS_GATEWAY__VENDORS__RRR__TIMEOUT_MS", "0")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("vendors.rrr.timeout_ms"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let s = Settings::demo();
        let shown = format!("{s:?}");
        assert!(!shown.contains("procarrier-demo-key"));
    }
}

#[cfg(test)]
mod default_toml {
    use super::*;

    /// `config/default.toml` documents every setting with its default: it must parse, and say
    /// exactly what the code's defaults are.
    #[test]
    fn default_toml_states_the_defaults() {
        let documented = Settings::from_toml(include_str!("../config/default.toml"))
            .expect("config/default.toml parses");
        let as_json = |s: &Settings| serde_json::to_value(s).expect("settings serialise");
        assert_eq!(as_json(&documented), as_json(&Settings::default()));
    }
}
