//! `[cache]`: the read cache in front of every vendor.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use vendors::model::Vendor;

/// The read cache in front of every vendor: a time-to-live per vendor, a bound on entries, and
/// V-Track served stale while it refreshes in the background (its report can take minutes).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
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

/// Seconds a vendor's answer is fresh.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
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
