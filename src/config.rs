//! Settings: one TOML document, `deny_unknown_fields` everywhere, defaults in one place
//! (the `Default` impls below), secrets in [`Secret`] so they never reach a log.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
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
    /// After the vendor refuses our credentials (auth failed, access denied, IP blocked), no
    /// call is sent for this long: each would be refused again, and repeats get us blocked.
    /// 0 = no latch.
    pub auth_refusal_cooldown_s: u64,
    /// Endpoints with their own rate limit instead of `rate_limit_per_s` (calls per second;
    /// keys are the endpoint names of the metrics, e.g. TrackRU's `trackings/realtime`).
    pub endpoint_rate_limits_per_s: BTreeMap<String, f64>,
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
            auth_refusal_cooldown_s: 300,
            endpoint_rate_limits_per_s: BTreeMap::new(),
        }
    }
}

/// A `[vendors.<v>.resilience]` table as written: what it leaves out keeps the vendor's own
/// default (TrackRU's rate limits survive a table that only sets `read_retries`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResilienceOverrides {
    max_concurrency: Option<usize>,
    rate_limit_per_s: Option<f64>,
    read_retries: Option<u32>,
    retry_base_ms: Option<u64>,
    breaker_failures: Option<u32>,
    breaker_cooldown_ms: Option<u64>,
    auth_refusal_cooldown_s: Option<u64>,
    endpoint_rate_limits_per_s: Option<BTreeMap<String, f64>>,
}

impl ResilienceOverrides {
    fn over(self, base: VendorResilience) -> VendorResilience {
        VendorResilience {
            max_concurrency: self.max_concurrency.unwrap_or(base.max_concurrency),
            rate_limit_per_s: self.rate_limit_per_s.unwrap_or(base.rate_limit_per_s),
            read_retries: self.read_retries.unwrap_or(base.read_retries),
            retry_base_ms: self.retry_base_ms.unwrap_or(base.retry_base_ms),
            breaker_failures: self.breaker_failures.unwrap_or(base.breaker_failures),
            breaker_cooldown_ms: self.breaker_cooldown_ms.unwrap_or(base.breaker_cooldown_ms),
            auth_refusal_cooldown_s: self
                .auth_refusal_cooldown_s
                .unwrap_or(base.auth_refusal_cooldown_s),
            endpoint_rate_limits_per_s: self
                .endpoint_rate_limits_per_s
                .unwrap_or(base.endpoint_rate_limits_per_s),
        }
    }
}

fn trackru_resilience<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<VendorResilience, D::Error> {
    Ok(ResilienceOverrides::deserialize(d)?.over(TrackRuSettings::default_resilience()))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub auth: AuthSettings,
    pub cache: CacheSettings,
    pub idempotency: IdempotencySettings,
    pub vendors: VendorsSettings,
    /// More tenants besides `default` (whose vendors are `[vendors]`), by tenant id: a token's
    /// `tenant` claim selects one. See [`TenantSettings`].
    pub tenants: BTreeMap<String, TenantSettings>,
    pub webhooks: WebhookSettings,
    pub sim: SimSettings,
}

/// The tenant a token without a `tenant` claim belongs to; its vendors are `[vendors]`.
pub const DEFAULT_TENANT: &str = "default";

/// Credential keys a tenant never inherits from `[vendors]`: one tenant must never call a
/// vendor with another's account.
const CREDENTIAL_KEYS: [&str; 4] = ["username", "api_key", "password", "user_token"];

/// One tenant's vendor accounts. Every `[vendors.<v>]` setting is inherited except the
/// credentials, which the tenant gives itself (`[tenants.<id>.vendors.<v>]`): a vendor whose
/// credentials a tenant leaves empty is refused by that vendor, never called with another
/// tenant's account.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantSettings {
    pub vendors: VendorsSettings,
}

/// `POST /webhooks/procarrier/{tenant}`: ProCarrier's signed `return_updated` deliveries.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Larger bodies get 413 (before the signature is checked).
    pub max_body_bytes: usize,
    /// How long a delivery (return id + `tracking_last_update`) is remembered to drop repeats.
    pub dedupe_ttl_s: u64,
    pub dedupe_max_entries: u64,
    /// Events buffered per subscriber; a subscriber that falls further behind skips the oldest.
    pub subscriber_buffer: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            max_body_bytes: 262_144,
            dedupe_ttl_s: 86_400,
            dedupe_max_entries: 100_000,
            subscriber_buffer: 256,
        }
    }
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
    /// Open graphql-ws connections at most; more upgrades get 503.
    pub max_websockets: usize,
    /// A WebSocket must send `connection_init` within this long, or it is closed (4408).
    pub websocket_init_timeout_ms: u64,
    /// Running `returnUpdated` subscriptions at most (all connections together).
    pub max_subscriptions: usize,
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
            max_websockets: 10_000,
            websocket_init_timeout_ms: 10_000,
            max_subscriptions: 10_000,
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
        Settings::from_toml_with_env(text, std::iter::empty())
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
        inherit_vendor_settings(&mut root)?;
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
        if self.server.websocket_init_timeout_ms == 0 {
            return Err(ConfigError::Invalid {
                key: "server.websocket_init_timeout_ms".into(),
                reason: "must be above zero".into(),
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
        self.vendors.validate("vendors")?;
        for (id, tenant) in &self.tenants {
            let valid = id.len() <= 64
                && id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !valid || id == DEFAULT_TENANT {
                return Err(ConfigError::Invalid {
                    key: format!("tenants.{id}"),
                    reason: format!(
                        "a tenant id is 1 to 64 of a-z, 0-9, '-', '_' and not {DEFAULT_TENANT:?} \
                         (that tenant's vendors are [vendors])"
                    ),
                });
            }
            tenant.vendors.validate(&format!("tenants.{id}.vendors"))?;
        }
        if self.webhooks.max_body_bytes == 0
            || self.webhooks.dedupe_ttl_s == 0
            || self.webhooks.dedupe_max_entries == 0
            || self.webhooks.subscriber_buffer == 0
        {
            return Err(ConfigError::Invalid {
                key: "webhooks".into(),
                reason: "max_body_bytes, dedupe_ttl_s, dedupe_max_entries and subscriber_buffer \
                         must be above zero"
                    .into(),
            });
        }
        self.sim.clock().map_err(|reason| ConfigError::Invalid {
            key: "sim.now".into(),
            reason,
        })?;
        if !self.sim.webhooks.url.is_empty() && reqwest::Url::parse(&self.sim.webhooks.url).is_err()
        {
            return Err(ConfigError::Invalid {
                key: "sim.webhooks.url".into(),
                reason: format!("{:?} is not a URL", self.sim.webhooks.url),
            });
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

impl VendorsSettings {
    /// Base URLs and timeouts; `section` is where these settings are (`vendors`,
    /// `tenants.<id>.vendors`) for the error message.
    fn validate(&self, section: &str) -> Result<(), ConfigError> {
        for (name, http) in [
            ("vtrack", self.vtrack.http()),
            ("procarrier", self.procarrier.http()),
            ("rrr", self.rrr.http()),
            ("merchantpro", self.merchantpro.http()),
            ("trackru", self.trackru.http()),
        ] {
            if reqwest::Url::parse(&http.base_url).is_err() {
                return Err(ConfigError::Invalid {
                    key: format!("{section}.{name}.base_url"),
                    reason: format!("{:?} is not a URL", http.base_url),
                });
            }
            if http.timeout_ms == 0 || http.connect_timeout_ms == 0 {
                return Err(ConfigError::Invalid {
                    key: format!("{section}.{name}.timeout_ms"),
                    reason: "timeouts must be above zero".into(),
                });
            }
            let r = &http.resilience;
            if let Some((endpoint, _)) = [("", &r.rate_limit_per_s)]
                .into_iter()
                .chain(
                    r.endpoint_rate_limits_per_s
                        .iter()
                        .map(|(k, v)| (k.as_str(), v)),
                )
                .find(|(_, rate)| !rate.is_finite() || **rate < 0.0)
            {
                return Err(ConfigError::Invalid {
                    key: if endpoint.is_empty() {
                        format!("{section}.{name}.resilience.rate_limit_per_s")
                    } else {
                        format!(
                            "{section}.{name}.resilience.endpoint_rate_limits_per_s.{endpoint:?}"
                        )
                    },
                    reason: "a rate is 0 (no limit) or a positive number of calls per second"
                        .into(),
                });
            }
        }
        if self.procarrier.tracking_range_max_days == 0 {
            return Err(ConfigError::Invalid {
                key: format!("{section}.procarrier.tracking_range_max_days"),
                reason: "must be at least 1 day".into(),
            });
        }
        Ok(())
    }
}

/// Gives every `[tenants.<id>.vendors.<v>]` the `[vendors.<v>]` settings it does not set,
/// credentials excepted (see [`TenantSettings`]).
fn inherit_vendor_settings(root: &mut toml::Table) -> Result<(), ConfigError> {
    let shared = root.get("vendors").cloned();
    let Some(tenants) = root.get_mut("tenants") else {
        return Ok(());
    };
    let tenants = tenants.as_table_mut().ok_or_else(|| ConfigError::Invalid {
        key: "tenants".into(),
        reason: "must be a table of tenants".into(),
    })?;
    let Some(toml::Value::Table(shared)) = shared else {
        return Ok(());
    };
    for (id, tenant) in tenants.iter_mut() {
        let not_a_table = || ConfigError::Invalid {
            key: format!("tenants.{id}"),
            reason: "must be a table".into(),
        };
        let tenant = tenant.as_table_mut().ok_or_else(not_a_table)?;
        let own = tenant
            .entry("vendors")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(not_a_table)?;
        for (vendor, settings) in &shared {
            let toml::Value::Table(settings) = settings else {
                continue;
            };
            let mine = own
                .entry(vendor.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(mine) = mine.as_table_mut() else {
                continue; // deserialisation names the bad key
            };
            for (key, value) in settings {
                if CREDENTIAL_KEYS.contains(&key.as_str()) {
                    continue;
                }
                match (mine.get_mut(key), value) {
                    (Some(toml::Value::Table(m)), toml::Value::Table(v)) => {
                        // e.g. `resilience`: the tenant's keys win, the rest are inherited.
                        for (k, x) in v {
                            m.entry(k.clone()).or_insert_with(|| x.clone());
                        }
                    }
                    (Some(_), _) => {}
                    (None, _) => {
                        mine.insert(key.clone(), value.clone());
                    }
                }
            }
        }
    }
    Ok(())
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
    /// The longest span of dates one `tracking/range` call asks for; a longer range is read in
    /// consecutive windows of this many days.
    pub tracking_range_max_days: u32,
    pub resilience: VendorResilience,
}

impl Default for ProCarrierSettings {
    fn default() -> Self {
        ProCarrierSettings {
            base_url: "http://returns.dgapi.app/api".into(),
            connect_timeout_ms: 5_000,
            timeout_ms: 30_000,
            api_key: Secret::default(),
            tracking_range_max_days: 31,
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
    #[serde(deserialize_with = "trackru_resilience")]
    pub resilience: VendorResilience,
}

impl TrackRuSettings {
    /// The vendor's documented limits: about 1 call/s, realtime 3/s.
    fn default_resilience() -> VendorResilience {
        VendorResilience {
            rate_limit_per_s: 1.0,
            endpoint_rate_limits_per_s: [("trackings/realtime".to_owned(), 3.0)].into(),
            ..VendorResilience::default()
        }
    }
}

impl Default for TrackRuSettings {
    fn default() -> Self {
        TrackRuSettings {
            base_url: "https://api.trackru.ru/v1".into(),
            connect_timeout_ms: 5_000,
            timeout_ms: 30_000,
            api_key: Secret::default(),
            resilience: TrackRuSettings::default_resilience(),
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
    /// The simulated present, RFC 3339 (`2026-06-15T09:30:00Z`): the world is generated over
    /// the 120 days before it and the simulators' clock runs on from it. Empty: the system
    /// clock, so the world always lies in the recent past.
    pub now: String,
    pub host: String,
    pub ports: SimPorts,
    pub credentials: SimCredentials,
    pub faults: SimFaults,
    pub webhooks: SimWebhooks,
    pub merchantpro: SimMerchantPro,
}

/// How the MerchantPro simulator answers beyond its data.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimMerchantPro {
    /// `flat` (`{"message", "errors"}`) or `nested` (`{"error": {"code", "message"}}`): the two
    /// shapes MerchantPro servers answer errors in.
    pub error_shape: crate::sim::merchantpro::ErrorShape,
}

/// The ProCarrier simulator's moving world: every `interval_ms` it advances `per_tick` returns
/// one tracking status and sends each a signed `return_updated` webhook to `url` (also settable
/// at run time with `PUT /__sim/webhooks`). Off while `url` is empty or `interval_ms` is 0.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimWebhooks {
    pub url: String,
    pub interval_ms: u64,
    pub per_tick: usize,
}

impl Default for SimWebhooks {
    fn default() -> Self {
        SimWebhooks {
            url: String::new(),
            interval_ms: 0,
            per_tick: 1,
        }
    }
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            seed: 42,
            returns: 540,
            now: String::new(),
            host: "127.0.0.1".into(),
            ports: SimPorts::default(),
            credentials: SimCredentials::default(),
            faults: SimFaults::default(),
            webhooks: SimWebhooks::default(),
            merchantpro: SimMerchantPro::default(),
        }
    }
}

impl SimSettings {
    /// The simulators' clock: from `now` when set, else the system clock.
    pub fn clock(&self) -> Result<Clock, String> {
        if self.now.is_empty() {
            return Ok(Clock::system());
        }
        chrono::DateTime::parse_from_rfc3339(&self.now)
            .map(|at| Clock::starting_at(at.to_utc()))
            .map_err(|e| format!("{:?} is not an RFC 3339 date and time: {e}", self.now))
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
    fn tenants_inherit_vendor_settings_but_never_credentials() {
        let s = Settings::from_toml_with_env(
            r#"
[vendors.procarrier]
base_url = "http://pc.example/api"
timeout_ms = 1234
api_key = "default-key"
[vendors.procarrier.resilience]
max_concurrency = 7
read_retries = 1
[vendors.rrr]
username = "default-user"
[tenants.acme.vendors.procarrier]
api_key = "acme-key"
[tenants.acme.vendors.procarrier.resilience]
read_retries = 3
"#,
            [(
                "RETURNS_GATEWAY__TENANTS__ACME__VENDORS__TRACKRU__API_KEY".to_owned(),
                "acme-trackru".to_owned(),
            )],
        )
        .unwrap();
        let acme = &s.tenants["acme"].vendors;
        assert_eq!(acme.procarrier.base_url, "http://pc.example/api");
        assert_eq!(acme.procarrier.timeout_ms, 1234);
        assert_eq!(acme.procarrier.api_key.expose(), "acme-key");
        assert_eq!(acme.procarrier.resilience.max_concurrency, 7, "inherited");
        assert_eq!(acme.procarrier.resilience.read_retries, 3, "its own wins");
        assert_eq!(acme.rrr.username, "", "credentials are never inherited");
        assert_eq!(acme.trackru.api_key.expose(), "acme-trackru");
        assert_eq!(s.vendors.procarrier.api_key.expose(), "default-key");
    }

    #[test]
    fn a_partial_resilience_table_keeps_the_vendors_own_defaults() {
        let s = Settings::from_toml("[vendors.trackru.resilience]\nread_retries = 1\n").unwrap();
        let r = &s.vendors.trackru.resilience;
        assert_eq!(r.read_retries, 1);
        assert_eq!(r.rate_limit_per_s, 1.0, "TrackRU's 1 call/s survives");
        assert_eq!(r.endpoint_rate_limits_per_s["trackings/realtime"], 3.0);
        assert_eq!(r.auth_refusal_cooldown_s, 300);
        let s = Settings::from_toml("[vendors.trackru.resilience]\nauth_refusal_cooldown_s = 0\n")
            .unwrap();
        let r = &s.vendors.trackru.resilience;
        assert_eq!(r.auth_refusal_cooldown_s, 0, "the latch can be turned off");
        assert_eq!(r.rate_limit_per_s, 1.0);
        let err = Settings::from_toml(
            "[vendors.trackru.resilience.endpoint_rate_limits_per_s]\n\"trackings/realtime\" = -1.0\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("endpoint_rate_limits_per_s"),
            "{err}"
        );
        let err = Settings::from_toml("[vendors.trackru.resilience]\nretries = 1\n").unwrap_err();
        assert!(err.to_string().contains("retries"), "{err}");
    }

    #[test]
    fn bad_tenants_are_named() {
        for (toml, key) in [
            (
                "[tenants.default.vendors.rrr]\nusername = \"x\"\n",
                "tenants.default",
            ),
            ("[tenants.Acme]\n", "tenants.Acme"),
            (
                "[tenants.acme.vendors.rrr]\nbase_url = \"nope\"\n",
                "tenants.acme.vendors.rrr.base_url",
            ),
            ("[tenants.acme]\nvendor = 1\n", "vendor"),
        ] {
            let err = Settings::from_toml(toml).unwrap_err();
            assert!(err.to_string().contains(key), "{toml}: {err}");
        }
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
