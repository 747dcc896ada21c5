//! How each vendor is doing, as the gateway sees it: the outcome of the last reads, the age of
//! the data served, the breaker, a latched refusal of our credentials, a rate-limit hold; and
//! readiness.

use std::time::{Duration, SystemTime};

use vendors::model::Vendor;
use vendors::{BreakerState, ErrorCode, RateLimitHold, Refusal};

use super::Service;
use crate::index::VendorSync;

#[derive(Debug, Clone)]
pub struct VendorHealth {
    pub vendor: Vendor,
    pub last_success: Option<SystemTime>,
    pub last_failure: Option<(SystemTime, ErrorCode)>,
    pub consecutive_failures: u32,
    /// Age of the data last served; `None` before the first read.
    pub data_age: Option<Duration>,
    pub cached_entries: u64,
    pub breaker: BreakerState,
    /// Set while a refusal of our credentials holds every call.
    pub refusal: Option<Refusal>,
    /// Set while the vendor's last 429 holds every call.
    pub rate_limit_hold: Option<RateLimitHold>,
    /// The vendor's sync into the returns index.
    pub sync: VendorSync,
}

impl VendorHealth {
    /// Whether a call to the vendor would be sent now (not held by an open breaker or a
    /// latched refusal).
    pub fn callable(&self) -> bool {
        self.breaker != BreakerState::Open && self.refusal.is_none()
    }
}

/// Whether this tenant can serve: ProCarrier answers its (unauthenticated) availability check
/// and no vendor's calls are held.
#[derive(Debug, Clone)]
pub struct Readiness {
    pub ready: bool,
    /// The availability check's failure, if it failed.
    pub procarrier_error: Option<ErrorCode>,
    pub vendors: Vec<VendorHealth>,
}

impl Service {
    pub fn vendor_health(&self) -> Vec<VendorHealth> {
        Vendor::ALL
            .into_iter()
            .map(|vendor| {
                let h = self.up.health(vendor);
                let sync = self.index.sync_board().get(vendor);
                // What listings serve comes from the index once it holds the vendor's data.
                let data_age = match sync.indexed_through {
                    Some(at) if sync.ever_synced => (self.clock.now() - at).to_std().ok(),
                    _ => self.up.data_age(vendor),
                };
                VendorHealth {
                    vendor,
                    last_success: h.last_success,
                    last_failure: h.last_failure,
                    consecutive_failures: h.consecutive_failures,
                    data_age,
                    cached_entries: self.up.cache.entry_count(vendor),
                    breaker: self.up.breaker_state(vendor),
                    refusal: self.up.refusal(vendor),
                    rate_limit_hold: self.up.rate_limit_hold(vendor),
                    sync,
                }
            })
            .collect()
    }

    /// Asks ProCarrier's `check/available` (a call per check) and reads every vendor's state.
    pub async fn readiness(&self) -> Readiness {
        let procarrier_error = self.up.procarrier_available().await.err().map(|e| e.code());
        let vendors = self.vendor_health();
        Readiness {
            ready: procarrier_error.is_none() && vendors.iter().all(VendorHealth::callable),
            procarrier_error,
            vendors,
        }
    }
}
