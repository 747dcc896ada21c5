//! The simulators' settings (`[sim]` of the demo's configuration): what they generate, where
//! they listen, the credentials they accept, their fault knobs and the moving world.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use vendors::clock::Clock;
use vendors::model::Vendor;
use vendors::settings::{Invalid, Secret};

use crate::Faults;

/// The simulators: what they generate, where they listen, the credentials they accept
/// (the `[vendors]` credentials of the demo match them) and their fault knobs.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
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
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SimMerchantPro {
    /// `flat` (`{"message", "errors"}`) or `nested` (`{"error": {"code", "message"}}`): the two
    /// shapes MerchantPro servers answer errors in.
    pub error_shape: crate::merchantpro::ErrorShape,
}

/// The ProCarrier simulator's moving world: every `interval_ms` it advances `per_tick` returns
/// one tracking status and sends each a signed `return_updated` webhook to `url` (also settable
/// at run time with `PUT /__sim/webhooks`). Off while `url` is empty or `interval_ms` is 0.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
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
    /// Checks what serde cannot: the clock, the webhook URL, the fault knobs.
    pub fn validate(&self) -> Result<(), Invalid> {
        self.clock().map_err(|reason| Invalid {
            key: "sim.now".into(),
            reason,
        })?;
        if !self.webhooks.url.is_empty() && reqwest::Url::parse(&self.webhooks.url).is_err() {
            return Err(Invalid {
                key: "sim.webhooks.url".into(),
                reason: format!("{:?} is not a URL", self.webhooks.url),
            });
        }
        for vendor in Vendor::ALL {
            self.faults
                .of(vendor)
                .validate()
                .map_err(|reason| Invalid {
                    key: format!("sim.faults.{vendor}"),
                    reason,
                })?;
        }
        Ok(())
    }

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
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
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

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
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
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
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
