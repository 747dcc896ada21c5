//! The sync: one background task per tenant and vendor keeps the index current, paced by the
//! vendor's own rate limit and bulkhead (it calls through the same transports) and never on a
//! user's request path.
//!
//! Each vendor's sync has two parts, both resumable from a cursor persisted in the index after
//! every step:
//! - **Backfill:** `sync.backfill_days` of history, read in windows of `sync.window_days`,
//!   newest first, so the first pages of a listing are answerable early.
//! - **Incremental:** every `sync.interval_s.<vendor>`, what changed since the last read:
//!   - ProCarrier: returns created since (`returns/search` by `DateFrom`/`DateTo`), events
//!     added since (`tracking/added`), and the returns of the parcels that moved, re-read
//!     (`returns/get`, at most `procarrier_changes_per_tick` a tick). Webhooks update rows at
//!     once besides.
//!   - RRR: the trailing `rrr_trailing_days` re-read (statuses and refunds change after a
//!     return is created; older pages are left alone).
//!   - MerchantPro: orders created since (`created_after`), and the least recently read open
//!     orders re-read by `ids=` (`merchantpro_refresh_per_tick` a tick).
//!   - TrackRU: trackings updated since (`update_time_min`).
//!   - V-Track: its whole report (it has no filters), replacing the last one.
//!
//! Long listings (RRR, MerchantPro, TrackRU) are written page by page as they are read, so
//! memory holds a page or two, not a window. A step moves its cursor only after all its reads
//! succeeded and were written; a failed step is retried with backoff (rows are upserted, so a
//! repeat duplicates nothing).
//! What was indexed stays served meanwhile, its age shown.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use vendors::clock::Clock;
use vendors::model::{Return, Shipment, Vendor};
use vendors::procarrier::mapping::merge_shipments;
use vendors::VendorError;

use super::{ReturnIndex, StoreError, SyncFailure, SyncPhase};
use crate::config::SyncSettings;
use crate::error::ErrorCode;
use crate::upstream::Upstreams;

/// Why a sync step failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Vendor(Arc<VendorError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<VendorError> for SyncError {
    fn from(e: VendorError) -> Self {
        SyncError::Vendor(Arc::new(e))
    }
}

impl SyncError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SyncError::Vendor(e) => e.code(),
            SyncError::Store(_) => ErrorCode::IndexUnavailable,
        }
    }
}

/// Where a vendor's sync stands, persisted after every step (JSON in `sync_state`). Times are
/// unix millis on the gateway's clock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct Cursor {
    /// The first read's now: the backfill reads before it, the incremental reads after.
    started_at: i64,
    /// Everything from here up to `started_at` is backfilled.
    backfilled_to: i64,
    /// Where the backfill ends (`started_at` less `backfill_days`).
    backfill_until: i64,
    /// The incremental reads have covered up to here.
    high_water: i64,
    /// ProCarrier: events added up to here are indexed.
    events_high_water: i64,
    /// ProCarrier: parcels that moved whose return is still to be re-read.
    moved_parcels: BTreeSet<String>,
    /// When the last incremental read ended.
    last_incremental: Option<i64>,
    /// Rows written since the index was created.
    rows: u64,
}

impl Cursor {
    /// What this cursor says on the board: phase, progress, how far the index reaches, rows.
    fn show_on(&self, status: &mut super::VendorSync) {
        status.phase = if self.backfilled() {
            SyncPhase::Ready
        } else {
            SyncPhase::Backfilling
        };
        status.progress = self.progress();
        status.indexed_through = Some(at(self.high_water));
        status.ever_synced = true;
        status.rows = self.rows;
    }

    fn started(&self) -> bool {
        self.started_at != 0
    }

    fn backfilled(&self) -> bool {
        self.started() && self.backfilled_to <= self.backfill_until
    }

    fn progress(&self) -> f64 {
        if !self.started() {
            return 0.0;
        }
        let span = (self.started_at - self.backfill_until).max(1) as f64;
        ((self.started_at - self.backfilled_to) as f64 / span).clamp(0.0, 1.0)
    }
}

/// What a round left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Left {
    /// Backfill windows remain: go on at once.
    Backfill,
    /// Caught up until the next interval.
    Nothing,
}

fn at(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// One tenant's sync: its index, its vendor reads, and a lock per vendor so a forced tick and
/// the background loop never read the same vendor at once.
#[derive(Debug)]
pub struct Syncer {
    index: ReturnIndex,
    up: Arc<Upstreams>,
    settings: SyncSettings,
    clock: Clock,
    locks: HashMap<Vendor, tokio::sync::Mutex<()>>,
}

/// The running sync tasks; dropping this stops them.
#[derive(Debug, Default)]
pub struct SyncTasks(tokio::task::JoinSet<()>);

impl Syncer {
    pub fn new(
        index: ReturnIndex,
        up: Arc<Upstreams>,
        settings: &SyncSettings,
        clock: Clock,
    ) -> Arc<Syncer> {
        Arc::new(Syncer {
            index,
            up,
            settings: settings.clone(),
            clock,
            locks: Vendor::ALL
                .iter()
                .map(|&v| (v, tokio::sync::Mutex::new(())))
                .collect(),
        })
    }

    pub fn index(&self) -> &ReturnIndex {
        &self.index
    }

    /// Starts one task per vendor into `tasks`: backfill, then incremental reads forever.
    pub fn spawn(self: &Arc<Self>, tasks: &mut SyncTasks) {
        for vendor in Vendor::ALL {
            let sync = self.clone();
            tasks.0.spawn(async move { sync.run(vendor).await });
        }
    }

    async fn run(&self, vendor: Vendor) {
        let interval = Duration::from_secs(self.settings.interval_s.of(vendor));
        let mut failures: u32 = 0;
        loop {
            let round = {
                let _one = self.locks[&vendor].lock().await;
                self.round(vendor, self.settings.backfill_steps_per_tick, false)
                    .await
            };
            let pause = match round {
                Ok(Left::Backfill) => {
                    failures = 0;
                    Duration::ZERO
                }
                Ok(Left::Nothing) => {
                    failures = 0;
                    interval
                }
                // 1 s, 2 s, 4 s … up to the vendor's interval.
                Err(_) => {
                    failures = failures.saturating_add(1);
                    Duration::from_secs(1u64 << failures.min(10)).min(interval)
                }
            };
            if pause.is_zero() {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(pause).await;
            }
        }
    }

    /// One incremental read of `vendor` now, due or not, after the rest of its backfill:
    /// what a test (or an operator) runs instead of waiting for the next interval.
    pub async fn tick(&self, vendor: Vendor) -> Result<(), SyncError> {
        let _one = self.locks[&vendor].lock().await;
        self.round(vendor, u32::MAX, true).await.map(drop)
    }

    /// Reads the cursor, the incremental read if it is due (or `force`d), then up to `steps`
    /// backfill windows; records the outcome on the board.
    async fn round(&self, vendor: Vendor, steps: u32, force: bool) -> Result<Left, SyncError> {
        let outcome = self.round_inner(vendor, steps, force).await;
        if let Err(e) = &outcome {
            let failure = SyncFailure {
                at: self.clock.now(),
                code: e.code(),
                message: e.to_string(),
                error: match e {
                    SyncError::Vendor(v) => Some(v.clone()),
                    SyncError::Store(_) => None,
                },
            };
            tracing::warn!(
                tenant = self.index.tenant(),
                %vendor,
                code = failure.code.as_str(),
                error = %e,
                "sync failed; the index keeps serving what it holds"
            );
            self.index
                .sync_board()
                .update(vendor, |s| s.last_error = Some(failure));
        }
        outcome
    }

    async fn round_inner(
        &self,
        vendor: Vendor,
        steps: u32,
        force: bool,
    ) -> Result<Left, SyncError> {
        let mut cursor = self.cursor(vendor).await?;
        let now = self.clock.now().timestamp_millis();
        if !cursor.started() {
            let until = now - i64::from(self.settings.backfill_days) * DAY_MS;
            cursor = Cursor {
                started_at: now,
                backfilled_to: now,
                backfill_until: until,
                high_water: now,
                events_high_water: now,
                ..Cursor::default()
            };
            tracing::info!(
                tenant = self.index.tenant(),
                %vendor,
                days = self.settings.backfill_days,
                "sync: backfill starts, newest first"
            );
        }
        let interval_ms = i64::try_from(self.settings.interval_s.of(vendor))
            .unwrap_or(i64::MAX)
            .saturating_mul(1000);
        let due = cursor
            .last_incremental
            .is_none_or(|last| now - last >= interval_ms);
        // V-Track has no history to walk: its report is read whole, on its own cadence.
        if vendor == Vendor::VTrack {
            if due || force || !cursor.backfilled() {
                let rows = self.vtrack().await?;
                cursor.backfilled_to = cursor.backfill_until;
                cursor.high_water = now;
                cursor.last_incremental = Some(now);
                cursor.rows += rows;
                self.save(vendor, &cursor).await?;
                crate::memory::release_freed_memory();
            }
            return Ok(Left::Nothing);
        }
        match cursor.last_incremental {
            // The first round only marks where incremental reads start: the backfill reads
            // everything before.
            None => cursor.last_incremental = Some(now),
            Some(_) if due || force => {
                self.incremental(vendor, &mut cursor, now).await?;
                self.save(vendor, &cursor).await?;
            }
            Some(_) => {}
        }
        let began = Instant::now();
        let mut done = 0;
        while !cursor.backfilled() && done < steps {
            self.backfill_step(vendor, &mut cursor).await?;
            self.save(vendor, &cursor).await?;
            done += 1;
            if cursor.backfilled() {
                tracing::info!(
                    tenant = self.index.tenant(),
                    %vendor,
                    rows = cursor.rows,
                    "sync: backfill done"
                );
            }
        }
        if done > 0 {
            crate::memory::release_freed_memory();
            tracing::debug!(
                tenant = self.index.tenant(),
                %vendor,
                steps = done,
                ms = began.elapsed().as_millis() as u64,
                "sync: backfill steps"
            );
        }
        self.save(vendor, &cursor).await?;
        Ok(if cursor.backfilled() {
            Left::Nothing
        } else {
            Left::Backfill
        })
    }

    async fn cursor(&self, vendor: Vendor) -> Result<Cursor, SyncError> {
        Ok(match self.index.sync_state(vendor).await? {
            // A cursor this build cannot read starts the vendor's sync afresh (rows are
            // upserted, so nothing is duplicated).
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => Cursor::default(),
        })
    }

    /// Persists `cursor` and shows it on the board.
    async fn save(&self, vendor: Vendor, cursor: &Cursor) -> Result<(), SyncError> {
        let json = serde_json::to_string(cursor).expect("a cursor serialises");
        self.index.set_sync_state(vendor, &json).await?;
        let now = self.clock.now();
        self.index.sync_board().update(vendor, |s| {
            cursor.show_on(s);
            s.last_success = Some(now);
            s.last_error = None;
        });
        Ok(())
    }

    /// Shows a cursor persisted by an earlier run on the board (a restart serves at once).
    pub async fn load_status(&self) -> Result<(), StoreError> {
        for vendor in Vendor::ALL {
            let Some(json) = self.index.sync_state(vendor).await? else {
                continue;
            };
            let Ok(cursor) = serde_json::from_str::<Cursor>(&json) else {
                continue;
            };
            if !cursor.started() {
                continue;
            }
            self.index
                .sync_board()
                .update(vendor, |s| cursor.show_on(s));
        }
        Ok(())
    }

    async fn backfill_step(&self, vendor: Vendor, cursor: &mut Cursor) -> Result<(), SyncError> {
        let to = cursor.backfilled_to;
        let from = (to - i64::from(self.settings.window_days) * DAY_MS).max(cursor.backfill_until);
        let rows = match vendor {
            Vendor::ProCarrier => {
                let (returns, moved) = tokio::try_join!(
                    self.up.sync_procarrier_returns(at(from), at(to)),
                    self.up.sync_procarrier_tracking(at(from), at(to), false),
                )?;
                self.index.upsert_returns(&returns).await?;
                self.merge_procarrier_shipments(moved).await? + returns.len()
            }
            Vendor::Rrr => {
                let (from, to) = (at(from).date_naive(), at(to).date_naive());
                paged(
                    |pages| self.up.sync_rrr_returns(from, to, pages),
                    |returns| async move { self.index.upsert_returns(&returns).await },
                )
                .await?
            }
            Vendor::MerchantPro => {
                paged(
                    |pages| self.up.sync_merchantpro_orders(at(from), at(to), pages),
                    |orders| async move {
                        let checked = self.clock.now().timestamp_millis();
                        self.index.upsert_orders(&orders, checked).await
                    },
                )
                .await?
            }
            Vendor::TrackRu => {
                paged(
                    |pages| {
                        self.up
                            .sync_trackru(from / 1000, Some(to / 1000), false, pages)
                    },
                    |shipments| async move { self.index.upsert_shipments(&shipments).await },
                )
                .await?
            }
            Vendor::VTrack => 0,
        };
        let before = cursor.progress();
        cursor.backfilled_to = from;
        cursor.rows += rows as u64;
        let progress = cursor.progress();
        // A year is 53 windows per vendor: every window at debug, and at info each time the
        // backfill passes another tenth, so the log shows progress without burying the rest.
        if (before * 10.0).floor() < (progress * 10.0).floor() {
            tracing::info!(
                tenant = self.index.tenant(),
                %vendor,
                backfilled_to = %at(from).format("%Y-%m-%d"),
                rows = cursor.rows,
                progress = format!("{:.0}%", progress * 100.0),
                "sync: backfill progress"
            );
        } else {
            tracing::debug!(
                tenant = self.index.tenant(),
                %vendor,
                from = %at(from).format("%Y-%m-%d"),
                to = %at(to).format("%Y-%m-%d"),
                rows,
                progress = format!("{:.0}%", progress * 100.0),
                "sync: backfilled a window"
            );
        }
        Ok(())
    }

    async fn incremental(
        &self,
        vendor: Vendor,
        cursor: &mut Cursor,
        now: i64,
    ) -> Result<(), SyncError> {
        let overlap = i64::try_from(self.settings.overlap_s)
            .unwrap_or(0)
            .saturating_mul(1000);
        let from = cursor.high_water - overlap;
        let rows = match vendor {
            Vendor::ProCarrier => self.procarrier_changes(cursor, from, now, overlap).await?,
            Vendor::Rrr => {
                let trailing = now - i64::from(self.settings.rrr_trailing_days) * DAY_MS;
                let (from, to) = (at(trailing.min(from)).date_naive(), at(now).date_naive());
                paged(
                    |pages| self.up.sync_rrr_returns(from, to, pages),
                    |returns| async move { self.index.upsert_returns(&returns).await },
                )
                .await?
            }
            Vendor::MerchantPro => {
                // New orders are written as their pages come (after a long stop they can be
                // many); their ids are kept, so the refresh below skips what was just read.
                let mut fresh = BTreeSet::new();
                let created = paged(
                    |pages| self.up.sync_merchantpro_orders(at(from), at(now), pages),
                    |orders| {
                        fresh.extend(orders.iter().map(|o| o.id.clone()));
                        async move {
                            let checked = self.clock.now().timestamp_millis();
                            self.index.upsert_orders(&orders, checked).await
                        }
                    },
                )
                .await?;
                let stale: Vec<u64> = self
                    .index
                    .open_orders_to_check(self.settings.merchantpro_refresh_per_tick)
                    .await?
                    .iter()
                    .filter(|id| !fresh.contains(id.as_str()))
                    .filter_map(|id| id.parse().ok())
                    .collect();
                let refreshed = if stale.is_empty() {
                    Vec::new()
                } else {
                    self.up.sync_merchantpro_orders_by_id(&stale).await?
                };
                self.index
                    .upsert_orders(&refreshed, self.clock.now().timestamp_millis())
                    .await?;
                // Asked for and not answered: deleted at the shop.
                let answered: BTreeSet<&str> = refreshed.iter().map(|o| o.id.as_str()).collect();
                let gone: Vec<String> = stale
                    .iter()
                    .map(u64::to_string)
                    .filter(|id| !answered.contains(id.as_str()))
                    .collect();
                self.index.delete_orders(&gone).await?;
                created + refreshed.len()
            }
            Vendor::TrackRu => {
                paged(
                    |pages| self.up.sync_trackru(from / 1000, None, true, pages),
                    |shipments| async move { self.index.upsert_shipments(&shipments).await },
                )
                .await?
            }
            Vendor::VTrack => 0,
        };
        cursor.high_water = now;
        cursor.last_incremental = Some(now);
        cursor.rows += rows as u64;
        if rows > 0 {
            tracing::info!(tenant = self.index.tenant(), %vendor, rows, "sync: changes indexed");
        }
        Ok(())
    }

    /// ProCarrier since `from`: new returns, events added, and the returns of parcels that
    /// moved re-read (those not just read as new).
    async fn procarrier_changes(
        &self,
        cursor: &mut Cursor,
        from: i64,
        now: i64,
        overlap: i64,
    ) -> Result<usize, SyncError> {
        let (created, moved) = tokio::try_join!(
            self.up.sync_procarrier_returns(at(from), at(now)),
            self.up
                .sync_procarrier_tracking(at(cursor.events_high_water - overlap), at(now), true),
        )?;
        let fresh: BTreeSet<String> = created
            .iter()
            .filter_map(|r| r.tracking_number.clone())
            .collect();
        let mut to_read = cursor.moved_parcels.clone();
        to_read.extend(
            moved
                .iter()
                .map(|s| s.tracking_number.clone())
                .filter(|n| !fresh.contains(n)),
        );
        let batch: Vec<String> = to_read
            .iter()
            .take(self.settings.procarrier_changes_per_tick)
            .cloned()
            .collect();
        let reads = batch.iter().map(|n| self.up.sync_procarrier_return(n));
        let reread: Vec<Return> = futures_util::future::try_join_all(reads)
            .await?
            .into_iter()
            .flatten()
            .collect();
        let mut rows = self.merge_procarrier_shipments(moved).await?;
        self.index.upsert_returns(&created).await?;
        self.index.upsert_returns(&reread).await?;
        rows += created.len() + reread.len();
        for n in &batch {
            to_read.remove(n);
        }
        cursor.moved_parcels = to_read;
        cursor.events_high_water = now;
        Ok(rows)
    }

    /// Merges ProCarrier shipments read in part (a window's events) into those indexed.
    async fn merge_procarrier_shipments(&self, read: Vec<Shipment>) -> Result<usize, SyncError> {
        if read.is_empty() {
            return Ok(0);
        }
        let numbers: Vec<String> = read.iter().map(|s| s.tracking_number.clone()).collect();
        let mut known: HashMap<String, Shipment> = self
            .index
            .shipments(&numbers)
            .await?
            .into_iter()
            .filter(|s| s.vendor == Vendor::ProCarrier)
            .map(|s| (s.tracking_number.clone(), s))
            .collect();
        let merged: Vec<Shipment> = read
            .into_iter()
            .map(|s| match known.remove(&s.tracking_number) {
                Some(earlier) => merge_shipments(earlier, s),
                None => s,
            })
            .collect();
        self.index.upsert_shipments(&merged).await?;
        Ok(merged.len())
    }

    /// V-Track's report, replacing the last one; the rows written.
    async fn vtrack(&self) -> Result<u64, SyncError> {
        let report = self.up.sync_vtrack().await?;
        if report.skipped() > 0 {
            tracing::warn!(
                tenant = self.index.tenant(),
                skipped = report.skipped(),
                "sync: V-Track report rows could not be read"
            );
        }
        self.index
            .replace_vtrack(&report.returns, &report.deliveries)
            .await?;
        Ok((report.returns.len() + report.deliveries.len()) as u64)
    }
}

/// Reads a listing with `read`, writing each page with `write` as it arrives (one page waits
/// while another is written), so a window is never held whole; the rows written. Pages are
/// upserts, so a step that fails half-way and is repeated writes nothing twice.
async fn paged<T, R, RFut, W, WFut>(read: R, mut write: W) -> Result<usize, SyncError>
where
    R: FnOnce(mpsc::Sender<Vec<T>>) -> RFut,
    RFut: Future<Output = Result<(), VendorError>>,
    W: FnMut(Vec<T>) -> WFut,
    WFut: Future<Output = Result<(), StoreError>>,
{
    let (pages, mut arriving) = mpsc::channel(1);
    let reading = async { read(pages).await.map_err(SyncError::from) };
    let writing = async {
        let mut rows = 0;
        while let Some(page) = arriving.recv().await {
            rows += page.len();
            write(page).await?;
        }
        Ok::<_, SyncError>(rows)
    };
    let ((), rows) = tokio::try_join!(reading, writing)?;
    Ok(rows)
}
