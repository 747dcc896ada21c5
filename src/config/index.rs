//! `[index]` and `[sync]`: where the returns index lives and how each vendor's sync reads.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use vendors::model::Vendor;

use super::ConfigError;

/// Where the returns index keeps its data.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct IndexSettings {
    /// The directory of the SQLite file (`index.sqlite3`), created if missing. Empty: in memory,
    /// gone at exit (the demo's choice: its world is made anew at each start).
    pub data_dir: String,
}

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            data_dir: "data".into(),
        }
    }
}

/// How each tenant's vendors are synced into the index (docs/data-flow.md).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SyncSettings {
    /// Whether the gateway syncs in the background. Off: the index is served as it is (a
    /// replica that only reads a store another keeps current; the tests, which sync by hand).
    pub enabled: bool,
    /// Days of history read on a tenant's first start, newest first.
    pub backfill_days: u32,
    /// Days one backfill step reads.
    pub window_days: u32,
    /// Incremental reads start this long before where the last one ended (late writes at the
    /// vendor, clocks apart).
    pub overlap_s: u64,
    /// Seconds between incremental reads, per vendor.
    pub interval_s: SyncIntervals,
    /// Days of RRR returns re-read on each RRR tick (statuses and refunds change after
    /// creation; older pages are left alone). RRR pages hold 20 returns.
    pub rrr_trailing_days: u32,
    /// Open MerchantPro orders re-read (`ids=`) on each tick, least recently read first.
    pub merchantpro_refresh_per_tick: usize,
    /// ProCarrier returns re-read (`returns/get`) on each tick because `tracking/added` showed
    /// new events for them; more wait for the next tick.
    pub procarrier_changes_per_tick: usize,
    /// Backfill steps of one vendor between yields to its incremental reads, so new data is
    /// not held back for the whole backfill.
    pub backfill_steps_per_tick: u32,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            enabled: true,
            backfill_days: 365,
            window_days: 7,
            overlap_s: 300,
            interval_s: SyncIntervals::default(),
            rrr_trailing_days: 3,
            merchantpro_refresh_per_tick: 100,
            procarrier_changes_per_tick: 100,
            backfill_steps_per_tick: 4,
        }
    }
}

/// Seconds between a vendor's incremental reads.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SyncIntervals {
    pub vtrack: u64,
    pub procarrier: u64,
    pub rrr: u64,
    pub merchantpro: u64,
    pub trackru: u64,
}

impl Default for SyncIntervals {
    fn default() -> Self {
        SyncIntervals {
            vtrack: 900,
            procarrier: 60,
            rrr: 600,
            merchantpro: 60,
            trackru: 120,
        }
    }
}

impl SyncIntervals {
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

impl SyncSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let positive = |key: &str, value: u64| {
            if value == 0 {
                Err(ConfigError::Invalid {
                    key: format!("sync.{key}"),
                    reason: "must be above zero".into(),
                })
            } else {
                Ok(())
            }
        };
        positive("backfill_days", self.backfill_days.into())?;
        positive("window_days", self.window_days.into())?;
        positive("rrr_trailing_days", self.rrr_trailing_days.into())?;
        positive(
            "merchantpro_refresh_per_tick",
            self.merchantpro_refresh_per_tick as u64,
        )?;
        positive(
            "procarrier_changes_per_tick",
            self.procarrier_changes_per_tick as u64,
        )?;
        positive(
            "backfill_steps_per_tick",
            self.backfill_steps_per_tick.into(),
        )?;
        for vendor in Vendor::ALL {
            positive(&format!("interval_s.{vendor}"), self.interval_s.of(vendor))?;
        }
        Ok(())
    }
}
