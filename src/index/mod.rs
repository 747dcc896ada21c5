//! The returns index: every tenant's returns, orders, deliveries and shipments in the unified
//! model, kept in a store and synced incrementally from the vendors ([`sync`]), so that a
//! listing, a customer or a summary costs what it returns, not the tenant's whole history.
//!
//! Data flows one way: the sync (and the service's writes and webhooks, row by row) write the
//! index; the service reads it. Entity links the index does not hold (and anything read
//! before a vendor's backfill finished) keep the loader → cache → vendor path.

pub mod migrations;
mod rows;
pub mod sqlite;
pub mod store;
pub mod sync;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use tokio::sync::watch;
use vendors::model::{Delivery, Order, Return, Shipment, Vendor};
use vendors::VendorError;

use crate::config::IndexSettings;
use crate::error::ErrorCode;
pub use rows::key_digest;
pub use store::{
    IndexStore, Keys, OrderQuery, PaidRefund, Position, Records, ReturnCounts, ReturnQuery, Rows,
    StoreError, StoreResult, StoredOutcome,
};

/// The name of the index's file in `index.data_dir`.
pub const FILE_NAME: &str = "index.sqlite3";

/// Opens the store `settings` name: the SQLite file under `data_dir`, or one in memory when it
/// is empty. Runs the migrations it has not run yet.
pub async fn open(settings: &IndexSettings) -> StoreResult<Arc<dyn IndexStore>> {
    let store = if settings.data_dir.is_empty() {
        sqlite::SqliteStore::in_memory().await?
    } else {
        sqlite::SqliteStore::open(&Path::new(&settings.data_dir).join(FILE_NAME)).await?
    };
    Ok(Arc::new(store))
}

/// Where a vendor's sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SyncPhase {
    /// Nothing read yet.
    Waiting,
    /// Reading history, newest first; what is indexed so far is served.
    Backfilling,
    /// History read; incremental reads keep it current.
    Ready,
}

/// The last failure of a vendor's sync.
#[derive(Debug, Clone)]
pub struct SyncFailure {
    pub at: DateTime<Utc>,
    pub code: ErrorCode,
    pub message: String,
    /// The vendor's failure (none when the index's store failed).
    pub error: Option<Arc<VendorError>>,
}

/// One vendor's sync, as the `vendors` query, the metrics and the logs show it.
#[derive(Debug, Clone)]
pub struct VendorSync {
    pub phase: SyncPhase,
    /// Share of the backfill done, 0 to 1.
    pub progress: f64,
    /// The index holds what the vendor had at this time (the end of the last complete read).
    pub indexed_through: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    /// The last failure, until a later read succeeds.
    pub last_error: Option<SyncFailure>,
    /// Whether any read has succeeded since the index was created.
    pub ever_synced: bool,
    /// Rows written by the sync since the index was created.
    pub rows: u64,
}

impl Default for VendorSync {
    fn default() -> Self {
        VendorSync {
            phase: SyncPhase::Waiting,
            progress: 0.0,
            indexed_through: None,
            last_success: None,
            last_error: None,
            ever_synced: false,
            rows: 0,
        }
    }
}

impl VendorSync {
    /// Settled: the backfill is done, or the last attempt failed (a caller waiting for the
    /// index stops waiting either way).
    pub fn settled(&self) -> bool {
        self.phase == SyncPhase::Ready || self.last_error.is_some()
    }

    /// How far the index is behind the vendor at `now` (`now` less `indexed_through`), in
    /// seconds; `None` before anything was indexed.
    pub fn lag_seconds(&self, now: DateTime<Utc>) -> Option<f64> {
        self.indexed_through
            .map(|t| ((now - t).num_milliseconds().max(0) as f64) / 1000.0)
    }
}

/// Every vendor's sync status of one tenant; watchers learn of each change.
#[derive(Debug)]
pub struct SyncBoard {
    vendors: Mutex<BTreeMap<Vendor, VendorSync>>,
    changed: watch::Sender<u64>,
}

impl Default for SyncBoard {
    fn default() -> Self {
        SyncBoard {
            vendors: Mutex::new(
                Vendor::ALL
                    .iter()
                    .map(|&v| (v, VendorSync::default()))
                    .collect(),
            ),
            changed: watch::Sender::new(0),
        }
    }
}

impl SyncBoard {
    pub fn get(&self, vendor: Vendor) -> VendorSync {
        self.vendors
            .lock()
            .get(&vendor)
            .cloned()
            .unwrap_or_default()
    }

    pub fn update(&self, vendor: Vendor, change: impl FnOnce(&mut VendorSync)) {
        change(self.vendors.lock().entry(vendor).or_default());
        self.changed.send_modify(|n| *n += 1);
    }

    /// Resolves at the next change.
    pub async fn changed(&self) {
        let mut changes = self.changed.subscribe();
        let _ = changes.changed().await;
    }

    /// Waits until every vendor in `vendors` is settled ([`VendorSync::settled`]).
    pub async fn wait_settled(&self, vendors: &[Vendor]) {
        let mut changes = self.changed.subscribe();
        loop {
            if vendors.iter().all(|&v| self.get(v).settled()) {
                return;
            }
            if changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// Whether links to `vendor`'s data can be answered from the index: its backfill is done.
    pub fn backfilled(&self, vendor: Vendor) -> bool {
        self.get(vendor).phase == SyncPhase::Ready
    }

    /// A vendor whose data the index cannot serve: nothing was ever synced and the last
    /// attempt failed. Its failure, to report beside the other vendors' data.
    pub fn unavailable(&self, vendor: Vendor) -> Option<Arc<VendorError>> {
        let sync = self.get(vendor);
        if sync.ever_synced {
            None
        } else {
            sync.last_error?.error
        }
    }
}

/// One tenant's index: its rows in the shared store, and its vendors' sync status.
#[derive(Debug, Clone)]
pub struct ReturnIndex {
    store: Arc<dyn IndexStore>,
    tenant: Arc<str>,
    board: Arc<SyncBoard>,
}

impl ReturnIndex {
    pub fn new(store: Arc<dyn IndexStore>, tenant: &str) -> ReturnIndex {
        ReturnIndex {
            store,
            tenant: tenant.into(),
            board: Arc::default(),
        }
    }

    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    pub fn sync_board(&self) -> &Arc<SyncBoard> {
        &self.board
    }

    pub async fn upsert_returns(&self, returns: &[Return]) -> StoreResult<()> {
        if returns.is_empty() {
            return Ok(());
        }
        self.store.upsert_returns(&self.tenant, returns).await
    }

    pub async fn replace_returns(&self, vendor: Vendor, returns: &[Return]) -> StoreResult<()> {
        self.store
            .replace_returns(&self.tenant, vendor, returns)
            .await
    }

    pub async fn upsert_orders(&self, orders: &[Order], checked_at: i64) -> StoreResult<()> {
        if orders.is_empty() {
            return Ok(());
        }
        self.store
            .upsert_orders(&self.tenant, orders, checked_at)
            .await
    }

    pub async fn replace_deliveries(&self, deliveries: &[Delivery]) -> StoreResult<()> {
        self.store
            .replace_deliveries(&self.tenant, deliveries)
            .await
    }

    /// V-Track's report, replacing the last one.
    pub async fn replace_vtrack(
        &self,
        returns: &[Return],
        deliveries: &[Delivery],
    ) -> StoreResult<()> {
        self.store
            .replace_returns(&self.tenant, Vendor::VTrack, returns)
            .await?;
        self.store
            .replace_deliveries(&self.tenant, deliveries)
            .await
    }

    pub async fn delete_orders(&self, ids: &[String]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.store.delete_orders(&self.tenant, ids).await
    }

    pub async fn upsert_shipments(&self, shipments: &[Shipment]) -> StoreResult<()> {
        if shipments.is_empty() {
            return Ok(());
        }
        self.store.upsert_shipments(&self.tenant, shipments).await
    }

    pub async fn delete_shipments(&self, vendor: Vendor, numbers: &[String]) -> StoreResult<()> {
        if numbers.is_empty() {
            return Ok(());
        }
        self.store
            .delete_shipments(&self.tenant, vendor, numbers)
            .await
    }

    pub async fn shipments(&self, numbers: &[String]) -> StoreResult<Vec<Shipment>> {
        self.store.shipments(&self.tenant, numbers).await
    }

    pub async fn returns(
        &self,
        query: &ReturnQuery,
        after: Option<&Position>,
        limit: usize,
    ) -> StoreResult<Rows<Return>> {
        self.store.returns(&self.tenant, query, after, limit).await
    }

    pub async fn return_by_id(&self, vendor: Vendor, id: &str) -> StoreResult<Option<Return>> {
        self.store.return_by_id(&self.tenant, vendor, id).await
    }

    pub async fn return_counts(&self, from: i64, to: i64) -> StoreResult<ReturnCounts> {
        self.store.return_counts(&self.tenant, from, to).await
    }

    pub async fn return_totals(&self) -> StoreResult<Vec<(Vendor, usize)>> {
        self.store.return_totals(&self.tenant).await
    }

    pub async fn orders(
        &self,
        query: &OrderQuery,
        after: Option<&Position>,
        limit: usize,
    ) -> StoreResult<Rows<Order>> {
        self.store.orders(&self.tenant, query, after, limit).await
    }

    pub async fn order_by_id(&self, id: &str) -> StoreResult<Option<Order>> {
        self.store.order_by_id(&self.tenant, id).await
    }

    pub async fn orders_by_reference(&self, references: &[String]) -> StoreResult<Vec<Order>> {
        self.store
            .orders_by_reference(&self.tenant, references)
            .await
    }

    pub async fn open_orders_to_check(&self, limit: usize) -> StoreResult<Vec<String>> {
        self.store.open_orders_to_check(&self.tenant, limit).await
    }

    /// For each of `seeds`, every key linked to its keys (see [`IndexStore::linked_keys`]).
    pub async fn linked_keys(&self, seeds: &[Keys]) -> StoreResult<Vec<Keys>> {
        self.store.linked_keys(&self.tenant, seeds).await
    }

    pub async fn key_of_digest(&self, digest: &str) -> StoreResult<Option<(String, String)>> {
        self.store.key_of_digest(&self.tenant, digest).await
    }

    pub async fn records_of(&self, keys: &Keys) -> StoreResult<Records> {
        self.store.records_of(&self.tenant, keys).await
    }

    pub async fn sync_state(&self, vendor: Vendor) -> StoreResult<Option<String>> {
        self.store.sync_state(&self.tenant, vendor).await
    }

    pub async fn set_sync_state(&self, vendor: Vendor, state: &str) -> StoreResult<()> {
        self.store.set_sync_state(&self.tenant, vendor, state).await
    }

    pub async fn idempotency_get(
        &self,
        operation: &str,
        key: &str,
        now: i64,
    ) -> StoreResult<Option<(String, String)>> {
        self.store
            .idempotency_get(&self.tenant, operation, key, now)
            .await
    }

    pub async fn idempotency_put(
        &self,
        operation: &str,
        key: &str,
        entry: &StoredOutcome<'_>,
        now: i64,
    ) -> StoreResult<(String, String)> {
        self.store
            .idempotency_put(&self.tenant, operation, key, entry, now)
            .await
    }

    pub async fn first_delivery(
        &self,
        delivery: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool> {
        self.store
            .first_delivery(&self.tenant, delivery, expires_at, now)
            .await
    }
}
