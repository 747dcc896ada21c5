//! The vendors' settings as the clients need them: base URL, timeouts, credentials and
//! resilience per vendor. `deny_unknown_fields` everywhere, defaults in the `Default` impls,
//! credentials in [`Secret`] so they never reach a log. The gateway's configuration embeds
//! these under `[vendors]` (and `[tenants.<id>.vendors]`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A setting that is not valid: the key at fault (dotted, as written in the file) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub key: String,
    pub reason: String,
}

/// A credential. Prints as `***`; read it with [`Secret::expose`] where it is sent.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(description = "A credential: never logged, shown as *** by check-config.")]
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

/// Serialised (`check-config`, the config schema's defaults) as `***`, or `""` when not set, so
/// a missing credential shows.
impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(if self.0.is_empty() { "" } else { "***" })
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

/// How calls to one vendor are paced, limited and retried (docs/operations.md#resilience).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
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
    /// After the vendor answers 429 without a `Retry-After` (or its envelope says "rate
    /// limited"), no call is sent for this long. With a `Retry-After`, calls are held until the
    /// time it gives (at most an hour). 0 = no hold without a `Retry-After`.
    pub rate_limited_hold_ms: u64,
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
            rate_limited_hold_ms: 1_000,
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
    rate_limited_hold_ms: Option<u64>,
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
            rate_limited_hold_ms: self
                .rate_limited_hold_ms
                .unwrap_or(base.rate_limited_hold_ms),
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

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct VendorsSettings {
    pub vtrack: VTrackSettings,
    pub procarrier: ProCarrierSettings,
    pub rrr: RrrSettings,
    pub merchantpro: MerchantProSettings,
    pub trackru: TrackRuSettings,
}

impl VendorsSettings {
    /// Base URLs, timeouts and limits; `section` is where these settings are (`vendors`,
    /// `tenants.<id>.vendors`), for the error: the key at fault and why.
    pub fn validate(&self, section: &str) -> Result<(), Invalid> {
        for (name, http) in [
            ("vtrack", self.vtrack.http()),
            ("procarrier", self.procarrier.http()),
            ("rrr", self.rrr.http()),
            ("merchantpro", self.merchantpro.http()),
            ("trackru", self.trackru.http()),
        ] {
            if reqwest::Url::parse(&http.base_url).is_err() {
                return Err(Invalid {
                    key: format!("{section}.{name}.base_url"),
                    reason: format!("{:?} is not a URL", http.base_url),
                });
            }
            if http.timeout_ms == 0 || http.connect_timeout_ms == 0 {
                return Err(Invalid {
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
                return Err(Invalid {
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
            return Err(Invalid {
                key: format!("{section}.procarrier.tracking_range_max_days"),
                reason: "must be at least 1 day".into(),
            });
        }
        Ok(())
    }
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
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
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
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
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
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
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
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
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
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
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
