//! What the index asks of its storage. Behind a trait, as the anchors keep their storage
//! (Grafbase's runtime traits, Apollo's response-cache storage): SQLite embedded today
//! ([`super::sqlite::SqliteStore`]); PostgreSQL, for several replicas sharing one store, can
//! implement the same operations with the same (portable) SQL.

use async_trait::async_trait;
use vendors::model::{
    Delivery, Order, PaymentStatus, Return, ReturnStatus, Shipment, TrackingStatus, Vendor,
};

/// Why the store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("index store: {0}")]
    Database(#[from] sqlx::Error),
    #[error("index store: a stored record does not read back: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("index store: {0}")]
    Open(String),
    #[error("index store: a stored amount does not read back: {0}")]
    Amount(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A position in a newest-first listing: `(created_at millis, vendor, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub created_at: i64,
    pub vendor: String,
    pub id: String,
}

/// Which returns, filters already normalised (e-mail lower-case, phone E.164, country
/// upper-case, reason lower-case).
#[derive(Debug, Clone, Default)]
pub struct ReturnQuery {
    pub vendors: Vec<Vendor>,
    pub statuses: Option<Vec<ReturnStatus>>,
    /// Created at or after, unix millis.
    pub created_from: Option<i64>,
    /// Created before, unix millis.
    pub created_to: Option<i64>,
    pub order_reference: Option<String>,
    pub marketplace_order_id: Option<String>,
    pub tracking_number: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
    /// Part of any item's reason.
    pub reason: Option<String>,
}

/// Which orders, filters already normalised.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub payment_status: Option<PaymentStatus>,
    pub shipping_status: Option<TrackingStatus>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    /// MerchantPro id or channel reference.
    pub reference: Option<String>,
    pub tracking_number: Option<String>,
    pub email: Option<String>,
}

/// A page of a listing: at most `limit` rows after the position asked for, whether more
/// follow, and how many match in all.
#[derive(Debug, Clone)]
pub struct Rows<T> {
    pub rows: Vec<T>,
    pub more: bool,
    pub total: usize,
}

/// Returns counted in a window, for the summary.
#[derive(Debug, Clone, Default)]
pub struct ReturnCounts {
    pub total: usize,
    pub by_vendor: Vec<(Vendor, usize)>,
    pub by_status: Vec<(ReturnStatus, usize)>,
    /// Most first, then by name.
    pub by_reason: Vec<(String, usize)>,
    /// V-Track parcels returned to sender in the window, and of those refused.
    pub vtrack_returned: usize,
    pub vtrack_refused: usize,
    /// V-Track parcels delivered in the window.
    pub vtrack_delivered: usize,
    /// Refunds paid out in the window: `(amount, currency, amount_seller, currency_seller)`.
    pub paid_refunds: Vec<PaidRefund>,
}

impl ReturnCounts {
    /// Adds `other` (the counts of a disjoint window) to these.
    pub fn merge(&mut self, other: ReturnCounts) {
        self.total += other.total;
        for (vendor, n) in other.by_vendor {
            match self.by_vendor.iter_mut().find(|(v, _)| *v == vendor) {
                Some((_, m)) => *m += n,
                None => self.by_vendor.push((vendor, n)),
            }
        }
        self.by_vendor.sort_by_key(|(v, _)| v.as_str());
        for (status, n) in other.by_status {
            match self.by_status.iter_mut().find(|(s, _)| *s == status) {
                Some((_, m)) => *m += n,
                None => self.by_status.push((status, n)),
            }
        }
        self.by_status.sort_by_key(|(s, _)| super::rows::code(s));
        for (reason, n) in other.by_reason {
            match self.by_reason.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, m)) => *m += n,
                None => self.by_reason.push((reason, n)),
            }
        }
        self.sort_reasons();
        self.vtrack_returned += other.vtrack_returned;
        self.vtrack_refused += other.vtrack_refused;
        self.vtrack_delivered += other.vtrack_delivered;
        self.paid_refunds.extend(other.paid_refunds);
    }

    /// Reasons most first, then by name.
    pub fn sort_reasons(&mut self) {
        self.by_reason
            .sort_by(|(a, m), (b, n)| n.cmp(m).then_with(|| a.cmp(b)));
    }
}

/// A refund paid out, or a sum of them: `(amount, currency, amount_seller, currency_seller)`,
/// amounts as exact decimal text.
pub type PaidRefund = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// What an idempotency key stores: the input's fingerprint, the outcome (JSON), and until when.
#[derive(Debug, Clone, Copy)]
pub struct StoredOutcome<'a> {
    pub fingerprint: &'a str,
    pub outcome: &'a str,
    /// Unix milliseconds.
    pub expires_at: i64,
}

/// A person's keys: every e-mail and phone linked to the one asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    pub emails: Vec<String>,
    pub phones: Vec<String>,
}

/// Every record naming one of a person's keys.
#[derive(Debug, Clone, Default)]
pub struct Records {
    pub returns: Vec<Return>,
    pub orders: Vec<Order>,
    pub deliveries: Vec<Delivery>,
    pub shipments: Vec<Shipment>,
}

/// The storage of every tenant's index. Every operation names its tenant: one store serves
/// all tenants and never mixes their rows.
#[async_trait]
pub trait IndexStore: Send + Sync + std::fmt::Debug {
    /// Inserts or replaces returns (and their reasons, refunds and contact links).
    async fn upsert_returns(&self, tenant: &str, returns: &[Return]) -> StoreResult<()>;
    /// Replaces every return of `vendor` with `returns` (a vendor read whole each time).
    async fn replace_returns(
        &self,
        tenant: &str,
        vendor: Vendor,
        returns: &[Return],
    ) -> StoreResult<()>;
    /// Inserts or replaces orders as read from the vendor at `checked_at` (unix millis).
    async fn upsert_orders(
        &self,
        tenant: &str,
        orders: &[Order],
        checked_at: i64,
    ) -> StoreResult<()>;
    /// Removes orders (deleted at the shop).
    async fn delete_orders(&self, tenant: &str, ids: &[String]) -> StoreResult<()>;
    /// Replaces every delivery (V-Track's report is read whole).
    async fn replace_deliveries(&self, tenant: &str, deliveries: &[Delivery]) -> StoreResult<()>;
    /// Inserts or replaces shipments (one per vendor and tracking number).
    async fn upsert_shipments(&self, tenant: &str, shipments: &[Shipment]) -> StoreResult<()>;
    /// The shipments of these tracking numbers, every vendor's.
    async fn shipments(&self, tenant: &str, numbers: &[String]) -> StoreResult<Vec<Shipment>>;
    /// Removes `vendor`'s shipments of these tracking numbers (it no longer tracks them).
    async fn delete_shipments(
        &self,
        tenant: &str,
        vendor: Vendor,
        numbers: &[String],
    ) -> StoreResult<()>;

    /// The page of returns after `after`, newest first, then by vendor and id.
    async fn returns(
        &self,
        tenant: &str,
        query: &ReturnQuery,
        after: Option<&Position>,
        limit: usize,
    ) -> StoreResult<Rows<Return>>;
    async fn return_by_id(
        &self,
        tenant: &str,
        vendor: Vendor,
        id: &str,
    ) -> StoreResult<Option<Return>>;
    async fn return_counts(&self, tenant: &str, from: i64, to: i64) -> StoreResult<ReturnCounts>;
    /// How many returns of each vendor the index holds.
    async fn return_totals(&self, tenant: &str) -> StoreResult<Vec<(Vendor, usize)>>;

    async fn orders(
        &self,
        tenant: &str,
        query: &OrderQuery,
        after: Option<&Position>,
        limit: usize,
    ) -> StoreResult<Rows<Order>>;
    async fn order_by_id(&self, tenant: &str, id: &str) -> StoreResult<Option<Order>>;
    /// Orders by channel reference (one per reference found).
    async fn orders_by_reference(
        &self,
        tenant: &str,
        references: &[String],
    ) -> StoreResult<Vec<Order>>;
    /// Ids of at most `limit` open orders, the least recently checked first.
    async fn open_orders_to_check(&self, tenant: &str, limit: usize) -> StoreResult<Vec<String>>;

    /// For each of `seeds`, its keys and every key linked to them by any record,
    /// transitively (all seeds in one walk of the links).
    async fn linked_keys(&self, tenant: &str, seeds: &[Keys]) -> StoreResult<Vec<Keys>>;
    /// The key (`("email" | "phone", value)`) whose [`super::key_digest`] is `digest`.
    async fn key_of_digest(
        &self,
        tenant: &str,
        digest: &str,
    ) -> StoreResult<Option<(String, String)>>;
    /// Every record naming one of `keys`.
    async fn records_of(&self, tenant: &str, keys: &Keys) -> StoreResult<Records>;

    /// A vendor's sync state as it left it (JSON), if it ever ran.
    async fn sync_state(&self, tenant: &str, vendor: Vendor) -> StoreResult<Option<String>>;
    async fn set_sync_state(&self, tenant: &str, vendor: Vendor, state: &str) -> StoreResult<()>;

    /// The stored `(fingerprint, outcome)` under an idempotency key that has not expired.
    async fn idempotency_get(
        &self,
        tenant: &str,
        operation: &str,
        key: &str,
        now: i64,
    ) -> StoreResult<Option<(String, String)>>;
    /// Stores an outcome unless one is stored already; answers the one that stands.
    async fn idempotency_put(
        &self,
        tenant: &str,
        operation: &str,
        key: &str,
        entry: &StoredOutcome<'_>,
        now: i64,
    ) -> StoreResult<(String, String)>;
    /// Records a webhook delivery; false when it was recorded before (a repeat).
    async fn first_delivery(
        &self,
        tenant: &str,
        delivery: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool>;
}
