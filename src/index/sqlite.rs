//! The index in SQLite: one file (WAL, so queries read while the sync writes), the schema of
//! [`super::migrations`]. Queries are built with sqlx's `QueryBuilder`, whose placeholders follow
//! the engine, so the same statements serve PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Datelike;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, Transaction};
use vendors::model::{
    Customer, Delivery, Order, RefundStatus, Return, ReturnStatus, Shipment, Vendor,
};

use super::migrations::MIGRATIONS;
use super::rows::{self, code, decode_code};
use super::store::{
    IndexStore, Keys, OrderQuery, Position, Records, ReturnCounts, ReturnQuery, Rows, StoreError,
    StoreResult, StoredOutcome,
};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it if missing) the index file at `path` and runs the migrations it has
    /// not run yet.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Open(format!("cannot create {}: {e}", dir.display())))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(StoreError::Database)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        let store = SqliteStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// An index in memory, gone when the last connection closes (this store's pool keeps one
    /// open): a shared-cache database with a name of its own, so its connections see one
    /// database and no other store's.
    pub async fn in_memory() -> StoreResult<SqliteStore> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let name = format!(
            "file:returns-index-{}-{}?mode=memory&cache=shared",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let options = SqliteConnectOptions::from_str(&format!("sqlite:{name}"))
            .map_err(StoreError::Database)?
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        let store = SqliteStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// A write transaction, holding SQLite's write lock from its start: a transaction that
    /// reads first and writes later (the rollups read what a row counted before) cannot take
    /// the lock another writer took meanwhile, and would fail with "database is locked"
    /// instead of waiting its turn (`busy_timeout`).
    async fn write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
            .execute(&self.pool)
            .await?;
        let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
            .fetch_all(&self.pool)
            .await?;
        for (version, statements) in MIGRATIONS {
            if done.contains(version) {
                continue;
            }
            let mut tx = self.write().await?;
            for statement in *statements {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            if *version == 2 {
                fill_monthly_rollups(&mut tx).await?;
            }
            sqlx::query("INSERT INTO schema_migrations (version) VALUES ($1)")
                .bind(version)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(version, "index schema migrated");
        }
        Ok(())
    }
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("model records serialise to JSON")
}

fn record<T: DeserializeOwned>(row: &sqlx::sqlite::SqliteRow) -> StoreResult<T> {
    let text: String = row.try_get("record")?;
    Ok(serde_json::from_str(&text)?)
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// What a record's contact adds to the identity graph: its e-mail and phone by digest, and
/// the link between them when it carries both.
async fn link_contact(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: &str,
    customer: Option<&Customer>,
) -> StoreResult<()> {
    let Some(customer) = customer else {
        return Ok(());
    };
    let email = customer.email.as_deref().filter(|e| !e.is_empty());
    let phone = customer.phone.as_deref().filter(|p| !p.is_empty());
    for (kind, value) in [("email", email), ("phone", phone)] {
        if let Some(value) = value {
            sqlx::query(
                "INSERT INTO contact_keys (tenant, digest, kind, value) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant, digest) DO NOTHING",
            )
            .bind(tenant)
            .bind(rows::key_digest(value))
            .bind(kind)
            .bind(value)
            .execute(&mut **tx)
            .await?;
        }
    }
    if let (Some(email), Some(phone)) = (email, phone) {
        sqlx::query(
            "INSERT INTO contact_links (tenant, email, phone) VALUES ($1, $2, $3)
             ON CONFLICT (tenant, email, phone) DO NOTHING",
        )
        .bind(tenant)
        .bind(email)
        .bind(phone)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn upsert_return(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: &str,
    r: &Return,
) -> StoreResult<()> {
    let record = json(r);
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT record FROM returns WHERE tenant = $1 AND vendor = $2 AND id = $3",
    )
    .bind(tenant)
    .bind(r.vendor.as_str())
    .bind(&r.id)
    .fetch_optional(&mut **tx)
    .await?;
    if stored.as_deref() == Some(record.as_str()) {
        // Read again unchanged (sync windows overlap): its row, reasons, refunds, contact and
        // rollups are those already indexed.
        return Ok(());
    }
    // What the row counted in the rollups until now.
    let before = match stored {
        Some(stored) => {
            let indexed: Return = serde_json::from_str(&stored)?;
            Some(Contribution::of(
                &indexed,
                &rows::ReturnColumns::of(&indexed),
            ))
        }
        None => None,
    };
    let columns = rows::ReturnColumns::of(r);
    let after = Contribution::of(r, &columns);
    sqlx::query(
        "INSERT INTO returns (tenant, vendor, id, created_at, status, order_reference,
             marketplace_order_id, tracking_number, customer_email, customer_phone, country,
             reasons, refused, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (tenant, vendor, id) DO UPDATE SET
             created_at = excluded.created_at, status = excluded.status,
             order_reference = excluded.order_reference,
             marketplace_order_id = excluded.marketplace_order_id,
             tracking_number = excluded.tracking_number,
             customer_email = excluded.customer_email, customer_phone = excluded.customer_phone,
             country = excluded.country, reasons = excluded.reasons,
             refused = excluded.refused, record = excluded.record",
    )
    .bind(tenant)
    .bind(r.vendor.as_str())
    .bind(&r.id)
    .bind(columns.created_at)
    .bind(code(&r.status))
    .bind(&r.order_reference)
    .bind(&r.marketplace_order_id)
    .bind(&r.tracking_number)
    .bind(columns.email)
    .bind(columns.phone)
    .bind(columns.country)
    .bind(columns.reasons_text)
    .bind(i64::from(r.refused))
    .bind(record)
    .execute(&mut **tx)
    .await?;
    if let Some(before) = before {
        before.apply(tx, tenant, -1).await?;
    }
    after.apply(tx, tenant, 1).await?;
    sqlx::query("DELETE FROM return_reasons WHERE tenant = $1 AND vendor = $2 AND return_id = $3")
        .bind(tenant)
        .bind(r.vendor.as_str())
        .bind(&r.id)
        .execute(&mut **tx)
        .await?;
    for reason in &columns.reasons {
        sqlx::query(
            "INSERT INTO return_reasons (tenant, vendor, return_id, reason, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(tenant)
        .bind(r.vendor.as_str())
        .bind(&r.id)
        .bind(reason)
        .bind(columns.created_at)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query("DELETE FROM refunds WHERE tenant = $1 AND vendor = $2 AND return_id = $3")
        .bind(tenant)
        .bind(r.vendor.as_str())
        .bind(&r.id)
        .execute(&mut **tx)
        .await?;
    for (position, f) in (0i64..).zip(&r.refunds) {
        sqlx::query(
            "INSERT INTO refunds (tenant, vendor, return_id, position, refund_id, status,
                 paid_at, amount, currency, amount_seller, currency_seller)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(tenant)
        .bind(r.vendor.as_str())
        .bind(&r.id)
        .bind(position)
        .bind(&f.id)
        .bind(code(&f.status))
        .bind(f.paid_at.map(|t| t.timestamp_millis()))
        .bind(f.amount.as_ref().map(|m| m.amount.to_string()))
        .bind(f.amount.as_ref().map(|m| m.currency.clone()))
        .bind(f.amount_seller.as_ref().map(|m| m.amount.to_string()))
        .bind(f.amount_seller.as_ref().map(|m| m.currency.clone()))
        .execute(&mut **tx)
        .await?;
    }
    link_contact(tx, tenant, r.customer.as_ref()).await
}

/// `query`'s conditions, appended to a statement that ends in `WHERE tenant = <tenant>`.
fn push_return_filters(qb: &mut QueryBuilder<'_, Sqlite>, q: &ReturnQuery) {
    qb.push(" AND vendor IN (");
    let mut vendors = qb.separated(", ");
    for v in &q.vendors {
        vendors.push_bind(v.as_str().to_owned());
    }
    vendors.push_unseparated(")");
    if let Some(statuses) = &q.statuses {
        if statuses.is_empty() {
            qb.push(" AND 1 = 0");
        } else {
            qb.push(" AND status IN (");
            let mut list = qb.separated(", ");
            for s in statuses {
                list.push_bind(code(s));
            }
            list.push_unseparated(")");
        }
    }
    if let Some(from) = q.created_from {
        qb.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = q.created_to {
        qb.push(" AND created_at < ").push_bind(to);
    }
    for (column, value) in [
        ("order_reference", &q.order_reference),
        ("marketplace_order_id", &q.marketplace_order_id),
        ("tracking_number", &q.tracking_number),
        ("customer_email", &q.email),
        ("customer_phone", &q.phone),
        ("country", &q.country),
    ] {
        if let Some(value) = value {
            qb.push(format!(" AND {column} = "))
                .push_bind(value.clone());
        }
    }
    if let Some(reason) = &q.reason {
        qb.push(" AND reasons LIKE ")
            .push_bind(format!("%{}%", rows::like_escape(reason)))
            .push(" ESCAPE '\\'");
    }
}

/// Whether the monthly rollups can count what `q` matches: they hold returns by vendor and
/// status only.
fn counted_by_rollups(q: &ReturnQuery) -> bool {
    let ReturnQuery {
        vendors: _,
        statuses: _,
        created_from,
        created_to,
        order_reference,
        marketplace_order_id,
        tracking_number,
        email,
        phone,
        country,
        reason,
    } = q;
    created_from.is_none()
        && created_to.is_none()
        && [
            order_reference,
            marketplace_order_id,
            tracking_number,
            email,
            phone,
            country,
            reason,
        ]
        .iter()
        .all(|f| f.is_none())
}

/// Rows after `after` in the `(created_at desc, vendor, id)` order.
fn push_after(qb: &mut QueryBuilder<'_, Sqlite>, after: Option<&Position>, with_vendor: bool) {
    let Some(p) = after else { return };
    qb.push(" AND (created_at < ")
        .push_bind(p.created_at)
        .push(" OR (created_at = ")
        .push_bind(p.created_at)
        .push(" AND (");
    if with_vendor {
        qb.push("vendor > ")
            .push_bind(p.vendor.clone())
            .push(" OR (vendor = ")
            .push_bind(p.vendor.clone())
            .push(" AND id > ")
            .push_bind(p.id.clone())
            .push(")");
    } else {
        qb.push("id > ").push_bind(p.id.clone());
    }
    qb.push(")))");
}

fn push_order_filters(qb: &mut QueryBuilder<'_, Sqlite>, q: &OrderQuery) {
    if let Some(s) = &q.payment_status {
        qb.push(" AND payment_status = ").push_bind(code(s));
    }
    if let Some(s) = &q.shipping_status {
        qb.push(" AND shipping_status = ").push_bind(code(s));
    }
    if let Some(from) = q.created_from {
        qb.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = q.created_to {
        qb.push(" AND created_at < ").push_bind(to);
    }
    if let Some(r) = &q.reference {
        qb.push(" AND (id = ")
            .push_bind(r.clone())
            .push(" OR reference = ")
            .push_bind(r.clone())
            .push(")");
    }
    if let Some(t) = &q.tracking_number {
        qb.push(" AND tracking_number = ").push_bind(t.clone());
    }
    if let Some(e) = &q.email {
        qb.push(" AND customer_email = ").push_bind(e.clone());
    }
}

/// `column IN (values)`, or a condition that holds for nothing when `values` is empty.
fn push_in(qb: &mut QueryBuilder<'_, Sqlite>, column: &str, values: &[String]) {
    if values.is_empty() {
        qb.push(" 1 = 0");
        return;
    }
    qb.push(format!(" {column} IN ("));
    let mut list = qb.separated(", ");
    for v in values {
        list.push_bind(v.clone());
    }
    list.push_unseparated(")");
}

/// One side of a contact link, while walking them.
enum ContactSide {
    Email(String),
    Phone(String),
}

#[async_trait]
impl IndexStore for SqliteStore {
    async fn upsert_returns(&self, tenant: &str, returns: &[Return]) -> StoreResult<()> {
        let mut tx = self.write().await?;
        for r in returns {
            upsert_return(&mut tx, tenant, r).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn replace_returns(
        &self,
        tenant: &str,
        vendor: Vendor,
        returns: &[Return],
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        for table in [
            "returns",
            "return_reasons",
            "refunds",
            "return_daily",
            "reason_daily",
            "refund_daily",
            "return_monthly",
            "reason_monthly",
            "refund_monthly",
        ] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE tenant = $1 AND vendor = $2"
            ))
            .bind(tenant)
            .bind(vendor.as_str())
            .execute(&mut *tx)
            .await?;
        }
        for r in returns {
            upsert_return(&mut tx, tenant, r).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn upsert_orders(
        &self,
        tenant: &str,
        orders: &[Order],
        checked_at: i64,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        for o in orders {
            let customer = o.customer.as_ref();
            sqlx::query(
                "INSERT INTO orders (tenant, id, reference, created_at, payment_status,
                     shipping_status, tracking_number, customer_email, customer_phone, open,
                     checked_at, record)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (tenant, id) DO UPDATE SET
                     reference = excluded.reference, created_at = excluded.created_at,
                     payment_status = excluded.payment_status,
                     shipping_status = excluded.shipping_status,
                     tracking_number = excluded.tracking_number,
                     customer_email = excluded.customer_email,
                     customer_phone = excluded.customer_phone,
                     open = excluded.open, checked_at = excluded.checked_at,
                     record = excluded.record",
            )
            .bind(tenant)
            .bind(&o.id)
            .bind(&o.reference)
            .bind(rows::millis(o.created_at))
            .bind(code(&o.payment_status))
            .bind(code(&o.shipping_status))
            .bind(&o.tracking_number)
            .bind(customer.and_then(|c| c.email.clone()))
            .bind(customer.and_then(|c| c.phone.clone()))
            .bind(i64::from(rows::order_is_open(o)))
            .bind(checked_at)
            .bind(json(o))
            .execute(&mut *tx)
            .await?;
            link_contact(&mut tx, tenant, customer).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_orders(&self, tenant: &str, ids: &[String]) -> StoreResult<()> {
        let mut qb = QueryBuilder::<Sqlite>::new("DELETE FROM orders WHERE tenant = ");
        qb.push_bind(tenant.to_owned()).push(" AND");
        push_in(&mut qb, "id", ids);
        qb.build().execute(&self.pool).await?;
        Ok(())
    }

    async fn replace_deliveries(&self, tenant: &str, deliveries: &[Delivery]) -> StoreResult<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM deliveries WHERE tenant = $1")
            .bind(tenant)
            .execute(&mut *tx)
            .await?;
        for d in deliveries {
            let customer = d.customer.as_ref();
            sqlx::query(
                "INSERT INTO deliveries (tenant, tracking_number, delivered_at, customer_email,
                     customer_phone, record)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (tenant, tracking_number) DO UPDATE SET
                     delivered_at = excluded.delivered_at,
                     customer_email = excluded.customer_email,
                     customer_phone = excluded.customer_phone, record = excluded.record",
            )
            .bind(tenant)
            .bind(&d.tracking_number)
            .bind(rows::millis(d.delivered_at))
            .bind(customer.and_then(|c| c.email.clone()))
            .bind(customer.and_then(|c| c.phone.clone()))
            .bind(json(d))
            .execute(&mut *tx)
            .await?;
            link_contact(&mut tx, tenant, customer).await?;
        }
        for table in ["delivery_daily", "delivery_monthly"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant = $1"))
                .bind(tenant)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO delivery_daily (tenant, day, n)
             SELECT tenant, delivered_at / 86400000, COUNT(*) FROM deliveries
             WHERE tenant = $1 AND delivered_at >= 0
             GROUP BY tenant, delivered_at / 86400000",
        )
        .bind(tenant)
        .execute(&mut *tx)
        .await?;
        count_deliveries_by_month(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn upsert_shipments(&self, tenant: &str, shipments: &[Shipment]) -> StoreResult<()> {
        let mut tx = self.write().await?;
        for s in shipments {
            let customer = s.customer.as_ref();
            sqlx::query(
                "INSERT INTO shipments (tenant, vendor, tracking_number, customer_email,
                     customer_phone, record)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (tenant, vendor, tracking_number) DO UPDATE SET
                     customer_email = excluded.customer_email,
                     customer_phone = excluded.customer_phone, record = excluded.record",
            )
            .bind(tenant)
            .bind(s.vendor.as_str())
            .bind(&s.tracking_number)
            .bind(customer.and_then(|c| c.email.clone()))
            .bind(customer.and_then(|c| c.phone.clone()))
            .bind(json(s))
            .execute(&mut *tx)
            .await?;
            link_contact(&mut tx, tenant, customer).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_shipments(
        &self,
        tenant: &str,
        vendor: Vendor,
        numbers: &[String],
    ) -> StoreResult<()> {
        for chunk in numbers.chunks(500) {
            let mut qb = QueryBuilder::<Sqlite>::new("DELETE FROM shipments WHERE tenant = ");
            qb.push_bind(tenant.to_owned())
                .push(" AND vendor = ")
                .push_bind(vendor.as_str())
                .push(" AND");
            push_in(&mut qb, "tracking_number", chunk);
            qb.build().execute(&self.pool).await?;
        }
        Ok(())
    }

    async fn shipments(&self, tenant: &str, numbers: &[String]) -> StoreResult<Vec<Shipment>> {
        let mut found = Vec::with_capacity(numbers.len());
        // Bounded statements: SQLite and PostgreSQL both cap the parameters of one.
        for chunk in numbers.chunks(500) {
            let mut qb =
                QueryBuilder::<Sqlite>::new("SELECT record FROM shipments WHERE tenant = ");
            qb.push_bind(tenant.to_owned()).push(" AND");
            push_in(&mut qb, "tracking_number", chunk);
            qb.push(" ORDER BY tracking_number, vendor");
            let rows = qb.build().fetch_all(&self.pool).await?;
            for row in &rows {
                found.push(record(row)?);
            }
        }
        Ok(found)
    }

    async fn returns(
        &self,
        tenant: &str,
        query: &ReturnQuery,
        after: Option<&Position>,
        limit: usize,
    ) -> StoreResult<Rows<Return>> {
        self.page(tenant, Listing::Returns(query), after, limit)
            .await
    }

    async fn return_by_id(
        &self,
        tenant: &str,
        vendor: Vendor,
        id: &str,
    ) -> StoreResult<Option<Return>> {
        let row =
            sqlx::query("SELECT record FROM returns WHERE tenant = $1 AND vendor = $2 AND id = $3")
                .bind(tenant)
                .bind(vendor.as_str())
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(record).transpose()
    }

    async fn return_counts(&self, tenant: &str, from: i64, to: i64) -> StoreResult<ReturnCounts> {
        // Whole UTC days from the daily rollups; the parts of a day at either end (if any)
        // from the rows themselves.
        let first_day = from.div_euclid(DAY_MS) + i64::from(from.rem_euclid(DAY_MS) != 0);
        let end_day = to.div_euclid(DAY_MS);
        if from < 0 || first_day >= end_day {
            return self.return_counts_of_rows(tenant, from, to).await;
        }
        let mut counts = self
            .return_counts_of_days(tenant, first_day, end_day)
            .await?;
        if from < first_day * DAY_MS {
            counts.merge(
                self.return_counts_of_rows(tenant, from, first_day * DAY_MS)
                    .await?,
            );
        }
        if end_day * DAY_MS < to {
            counts.merge(
                self.return_counts_of_rows(tenant, end_day * DAY_MS, to)
                    .await?,
            );
        }
        Ok(counts)
    }

    async fn return_totals(&self, tenant: &str) -> StoreResult<Vec<(Vendor, usize)>> {
        let mut totals = Vec::new();
        for row in
            sqlx::query("SELECT vendor, COUNT(*) FROM returns WHERE tenant = $1 GROUP BY vendor")
                .bind(tenant)
                .fetch_all(&self.pool)
                .await?
        {
            let vendor: String = row.try_get(0)?;
            if let Some(v) = Vendor::ALL.into_iter().find(|v| v.as_str() == vendor) {
                totals.push((v, count(row.try_get(1)?)));
            }
        }
        Ok(totals)
    }

    async fn orders(
        &self,
        tenant: &str,
        query: &OrderQuery,
        after: Option<&Position>,
        limit: usize,
    ) -> StoreResult<Rows<Order>> {
        self.page(tenant, Listing::Orders(query), after, limit)
            .await
    }

    async fn order_by_id(&self, tenant: &str, id: &str) -> StoreResult<Option<Order>> {
        let row = sqlx::query("SELECT record FROM orders WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record).transpose()
    }

    async fn orders_by_reference(
        &self,
        tenant: &str,
        references: &[String],
    ) -> StoreResult<Vec<Order>> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT record FROM orders WHERE tenant = ");
        qb.push_bind(tenant.to_owned()).push(" AND");
        push_in(&mut qb, "reference", references);
        let fetched = qb.build().fetch_all(&self.pool).await?;
        fetched.iter().map(record).collect()
    }

    async fn open_orders_to_check(&self, tenant: &str, limit: usize) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM orders WHERE tenant = $1 AND open = 1
             ORDER BY checked_at ASC, id ASC LIMIT $2",
        )
        .bind(tenant)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn linked_keys(&self, tenant: &str, seeds: &[Keys]) -> StoreResult<Vec<Keys>> {
        // Link by link from every seed at once, each step one read of the links of the keys
        // just found (each side through its own index; a recursive query joining on
        // `email = … OR phone = …` scanned every link of the tenant). People have a few keys:
        // a couple of steps, whatever the number of seeds. Then each seed's component, here.
        let mut phones_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut emails_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut seen_emails: BTreeSet<String> = BTreeSet::new();
        let mut seen_phones: BTreeSet<String> = BTreeSet::new();
        let mut new_emails: Vec<String> = Vec::new();
        let mut new_phones: Vec<String> = Vec::new();
        for seed in seeds {
            for e in &seed.emails {
                if seen_emails.insert(e.clone()) {
                    new_emails.push(e.clone());
                }
            }
            for p in &seed.phones {
                if seen_phones.insert(p.clone()) {
                    new_phones.push(p.clone());
                }
            }
        }
        while !(new_emails.is_empty() && new_phones.is_empty()) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "SELECT email, phone FROM contact_links WHERE tenant = ",
            );
            qb.push_bind(tenant.to_owned());
            qb.push(" AND");
            push_in(&mut qb, "email", &new_emails);
            qb.push(" UNION SELECT email, phone FROM contact_links WHERE tenant = ");
            qb.push_bind(tenant.to_owned());
            qb.push(" AND");
            push_in(&mut qb, "phone", &new_phones);
            let links = qb.build().fetch_all(&self.pool).await?;
            new_emails.clear();
            new_phones.clear();
            for link in links {
                let (e, p): (String, String) = (link.try_get(0)?, link.try_get(1)?);
                phones_of.entry(e.clone()).or_default().insert(p.clone());
                emails_of.entry(p.clone()).or_default().insert(e.clone());
                if seen_emails.insert(e.clone()) {
                    new_emails.push(e);
                }
                if seen_phones.insert(p.clone()) {
                    new_phones.push(p);
                }
            }
        }
        // Each seed's connected component over the links read.
        let component = |seed: &Keys| -> Keys {
            let mut emails: BTreeSet<String> = seed.emails.iter().cloned().collect();
            let mut phones: BTreeSet<String> = seed.phones.iter().cloned().collect();
            let mut todo: Vec<ContactSide> = emails
                .iter()
                .map(|e| ContactSide::Email(e.clone()))
                .chain(phones.iter().map(|p| ContactSide::Phone(p.clone())))
                .collect();
            while let Some(key) = todo.pop() {
                match key {
                    ContactSide::Email(e) => {
                        for p in phones_of.get(&e).into_iter().flatten() {
                            if phones.insert(p.clone()) {
                                todo.push(ContactSide::Phone(p.clone()));
                            }
                        }
                    }
                    ContactSide::Phone(p) => {
                        for e in emails_of.get(&p).into_iter().flatten() {
                            if emails.insert(e.clone()) {
                                todo.push(ContactSide::Email(e.clone()));
                            }
                        }
                    }
                }
            }
            Keys {
                emails: emails.into_iter().collect(),
                phones: phones.into_iter().collect(),
            }
        };
        Ok(seeds.iter().map(component).collect())
    }

    async fn key_of_digest(
        &self,
        tenant: &str,
        digest: &str,
    ) -> StoreResult<Option<(String, String)>> {
        let row =
            sqlx::query("SELECT kind, value FROM contact_keys WHERE tenant = $1 AND digest = $2")
                .bind(tenant)
                .bind(digest)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    async fn records_of(&self, tenant: &str, keys: &Keys) -> StoreResult<Records> {
        // By e-mail UNION by phone: each side searched by its own index (one `… OR …` over
        // both columns scanned the tenant's whole table).
        let select = |table: &str, columns: &str, order: &str| -> QueryBuilder<'static, Sqlite> {
            // The union in a subquery: ordered at the top level, the planner would rather
            // walk the listing's index in order than search the two by-customer ones.
            let mut qb = QueryBuilder::<Sqlite>::new("SELECT * FROM (");
            for (i, (column, values)) in [
                ("customer_email", &keys.emails),
                ("customer_phone", &keys.phones),
            ]
            .into_iter()
            .enumerate()
            {
                if i > 0 {
                    qb.push(" UNION ");
                }
                qb.push(format!(
                    "SELECT record, {columns} FROM {table} WHERE tenant = "
                ));
                qb.push_bind(tenant.to_owned());
                qb.push(" AND");
                push_in(&mut qb, column, values);
            }
            qb.push(format!(") AS found ORDER BY {order}"));
            qb
        };
        let returns = select(
            "returns",
            "created_at, vendor, id",
            "created_at DESC, vendor ASC, id ASC",
        )
        .build()
        .fetch_all(&self.pool)
        .await?;
        let orders = select("orders", "created_at, id", "created_at DESC, id ASC")
            .build()
            .fetch_all(&self.pool)
            .await?;
        let deliveries = select(
            "deliveries",
            "delivered_at, tracking_number",
            "delivered_at DESC, tracking_number ASC",
        )
        .build()
        .fetch_all(&self.pool)
        .await?;
        let shipments = select(
            "shipments",
            "vendor, tracking_number",
            "vendor ASC, tracking_number ASC",
        )
        .build()
        .fetch_all(&self.pool)
        .await?;
        Ok(Records {
            returns: returns.iter().map(record).collect::<StoreResult<_>>()?,
            orders: orders.iter().map(record).collect::<StoreResult<_>>()?,
            deliveries: deliveries.iter().map(record).collect::<StoreResult<_>>()?,
            shipments: shipments.iter().map(record).collect::<StoreResult<_>>()?,
        })
    }

    async fn sync_state(&self, tenant: &str, vendor: Vendor) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT state FROM sync_state WHERE tenant = $1 AND vendor = $2")
                .bind(tenant)
                .bind(vendor.as_str())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set_sync_state(&self, tenant: &str, vendor: Vendor, state: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sync_state (tenant, vendor, state) VALUES ($1, $2, $3)
             ON CONFLICT (tenant, vendor) DO UPDATE SET state = excluded.state",
        )
        .bind(tenant)
        .bind(vendor.as_str())
        .bind(state)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn idempotency_get(
        &self,
        tenant: &str,
        operation: &str,
        key: &str,
        now: i64,
    ) -> StoreResult<Option<(String, String)>> {
        let row = sqlx::query(
            "SELECT fingerprint, outcome FROM idempotency_keys
             WHERE tenant = $1 AND operation = $2 AND key = $3 AND expires_at > $4",
        )
        .bind(tenant)
        .bind(operation)
        .bind(key)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    async fn idempotency_put(
        &self,
        tenant: &str,
        operation: &str,
        key: &str,
        entry: &StoredOutcome<'_>,
        now: i64,
    ) -> StoreResult<(String, String)> {
        // Expired keys go (each write clears what expired since the last).
        sqlx::query("DELETE FROM idempotency_keys WHERE tenant = $1 AND expires_at <= $2")
            .bind(tenant)
            .bind(now)
            .execute(&self.pool)
            .await?;
        // An expired key is replaced; a live one stands (a concurrent replica wrote first).
        sqlx::query(
            "INSERT INTO idempotency_keys (tenant, operation, key, fingerprint, outcome, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant, operation, key) DO UPDATE SET
                 fingerprint = excluded.fingerprint, outcome = excluded.outcome,
                 expires_at = excluded.expires_at
             WHERE idempotency_keys.expires_at <= $7",
        )
        .bind(tenant)
        .bind(operation)
        .bind(key)
        .bind(entry.fingerprint)
        .bind(entry.outcome)
        .bind(entry.expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(
            "SELECT fingerprint, outcome FROM idempotency_keys
             WHERE tenant = $1 AND operation = $2 AND key = $3",
        )
        .bind(tenant)
        .bind(operation)
        .bind(key)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    async fn first_delivery(
        &self,
        tenant: &str,
        delivery: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool> {
        sqlx::query("DELETE FROM webhook_deliveries WHERE tenant = $1 AND expires_at <= $2")
            .bind(tenant)
            .bind(now)
            .execute(&self.pool)
            .await?;
        let done = sqlx::query(
            "INSERT INTO webhook_deliveries (tenant, delivery, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (tenant, delivery) DO UPDATE SET expires_at = excluded.expires_at
             WHERE webhook_deliveries.expires_at <= $4",
        )
        .bind(tenant)
        .bind(delivery)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// A listing's table and filters.
enum Listing<'q> {
    Returns(&'q ReturnQuery),
    Orders(&'q OrderQuery),
}

impl Listing<'_> {
    fn table(&self) -> &'static str {
        match self {
            Listing::Returns(_) => "returns",
            Listing::Orders(_) => "orders",
        }
    }

    fn push_filters(&self, qb: &mut QueryBuilder<'_, Sqlite>) {
        match self {
            Listing::Returns(q) => push_return_filters(qb, q),
            Listing::Orders(q) => push_order_filters(qb, q),
        }
    }

    /// Returns are ordered by vendor too (ids are per vendor); orders have one vendor.
    fn with_vendor(&self) -> bool {
        matches!(self, Listing::Returns(_))
    }
}

/// One UTC day, in milliseconds (the rollups' unit).
const DAY_MS: i64 = 86_400_000;

impl SqliteStore {
    /// One keyset page of `listing`, newest first (`limit` rows after `after`), with the number
    /// of all rows its filters match.
    async fn page<T: DeserializeOwned>(
        &self,
        tenant: &str,
        listing: Listing<'_>,
        after: Option<&Position>,
        limit: usize,
    ) -> StoreResult<Rows<T>> {
        let table = listing.table();
        let total: i64 = match &listing {
            // Counting the rows grows with the shop's history; the monthly rollups hold the
            // same counts by vendor and status in a few rows per month.
            Listing::Returns(q) if counted_by_rollups(q) => {
                let mut qb = QueryBuilder::<Sqlite>::new(
                    "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM return_monthly WHERE tenant = ",
                );
                qb.push_bind(tenant.to_owned());
                push_return_filters(&mut qb, q);
                qb.build_query_scalar().fetch_one(&self.pool).await?
            }
            _ => {
                let mut qb = QueryBuilder::<Sqlite>::new(format!(
                    "SELECT COUNT(*) FROM {table} WHERE tenant = "
                ));
                qb.push_bind(tenant.to_owned());
                listing.push_filters(&mut qb);
                qb.build_query_scalar().fetch_one(&self.pool).await?
            }
        };
        let mut qb =
            QueryBuilder::<Sqlite>::new(format!("SELECT record FROM {table} WHERE tenant = "));
        qb.push_bind(tenant.to_owned());
        listing.push_filters(&mut qb);
        push_after(&mut qb, after, listing.with_vendor());
        qb.push(if listing.with_vendor() {
            " ORDER BY created_at DESC, vendor ASC, id ASC LIMIT "
        } else {
            " ORDER BY created_at DESC, id ASC LIMIT "
        })
        .push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
        let fetched = qb.build().fetch_all(&self.pool).await?;
        let more = fetched.len() > limit;
        let rows = fetched
            .iter()
            .take(limit)
            .map(record)
            .collect::<StoreResult<Vec<T>>>()?;
        Ok(Rows {
            rows,
            more,
            total: count(total),
        })
    }

    /// The summary's counts over `[from, to)`, counted from the rows.
    async fn return_counts_of_rows(
        &self,
        tenant: &str,
        from: i64,
        to: i64,
    ) -> StoreResult<ReturnCounts> {
        let window = "tenant = $1 AND created_at >= $2 AND created_at < $3";
        let grouped = |column: &str| {
            format!("SELECT {column}, COUNT(*) FROM returns WHERE {window} GROUP BY {column}")
        };
        let mut counts = ReturnCounts::default();
        for row in sqlx::query(&grouped("vendor"))
            .bind(tenant)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?
        {
            let vendor: String = row.try_get(0)?;
            let n = count(row.try_get(1)?);
            counts.total += n;
            if let Some(v) = Vendor::ALL.into_iter().find(|v| v.as_str() == vendor) {
                counts.by_vendor.push((v, n));
            }
        }
        counts.by_vendor.sort_by_key(|(v, _)| v.as_str());
        let mut by_status: BTreeMap<String, (ReturnStatus, usize)> = BTreeMap::new();
        for row in sqlx::query(&grouped("status"))
            .bind(tenant)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?
        {
            let status: String = row.try_get(0)?;
            if let Some(s) = decode_code::<ReturnStatus>(&status) {
                by_status.insert(status, (s, count(row.try_get(1)?)));
            }
        }
        counts.by_status = by_status.into_values().collect();
        for row in sqlx::query(
            "SELECT reason, COUNT(*) AS n FROM return_reasons
             WHERE tenant = $1 AND created_at >= $2 AND created_at < $3
             GROUP BY reason ORDER BY n DESC, reason ASC",
        )
        .bind(tenant)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?
        {
            counts
                .by_reason
                .push((row.try_get(0)?, count(row.try_get(1)?)));
        }
        let vtrack = sqlx::query(&format!(
            "SELECT COUNT(*), COALESCE(SUM(refused), 0) FROM returns
             WHERE {window} AND vendor = 'vtrack'"
        ))
        .bind(tenant)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        counts.vtrack_returned = count(vtrack.try_get(0)?);
        counts.vtrack_refused = count(vtrack.try_get(1)?);
        let delivered: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries
             WHERE tenant = $1 AND delivered_at >= $2 AND delivered_at < $3",
        )
        .bind(tenant)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        counts.vtrack_delivered = count(delivered);
        for row in sqlx::query(
            "SELECT amount, currency, amount_seller, currency_seller FROM refunds
             WHERE tenant = $1 AND status = $4 AND paid_at >= $2 AND paid_at < $3",
        )
        .bind(tenant)
        .bind(from)
        .bind(to)
        .bind(code(&vendors::model::RefundStatus::PaidOut))
        .fetch_all(&self.pool)
        .await?
        {
            counts.paid_refunds.push((
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
            ));
        }
        Ok(counts)
    }

    /// The summary's counts over the whole days `[first_day, end_day)`: whole calendar months
    /// from the monthly rollups, the days before and after them from the daily ones.
    async fn return_counts_of_days(
        &self,
        tenant: &str,
        first_day: i64,
        end_day: i64,
    ) -> StoreResult<ReturnCounts> {
        let month = month_of_day(first_day);
        let first_month = month + i64::from(first_day_of_month(month) != Some(first_day));
        let end_month = month_of_day(end_day);
        let months = (first_month < end_month)
            .then(|| {
                Some((
                    first_day_of_month(first_month)?,
                    first_day_of_month(end_month)?,
                ))
            })
            .flatten();
        let Some((months_from, months_to)) = months else {
            return self
                .return_counts_of_periods(tenant, Grain::Day, first_day, end_day)
                .await;
        };
        let mut counts = self
            .return_counts_of_periods(tenant, Grain::Month, first_month, end_month)
            .await?;
        if first_day < months_from {
            counts.merge(
                self.return_counts_of_periods(tenant, Grain::Day, first_day, months_from)
                    .await?,
            );
        }
        if months_to < end_day {
            counts.merge(
                self.return_counts_of_periods(tenant, Grain::Day, months_to, end_day)
                    .await?,
            );
        }
        Ok(counts)
    }

    /// The summary's counts over the periods `[first, end)` of `grain`, from its rollups.
    async fn return_counts_of_periods(
        &self,
        tenant: &str,
        grain: Grain,
        first: i64,
        end: i64,
    ) -> StoreResult<ReturnCounts> {
        let (suffix, period) = (grain.suffix(), grain.column());
        let mut counts = ReturnCounts::default();
        let mut by_vendor: BTreeMap<&'static str, (Vendor, usize)> = BTreeMap::new();
        let mut by_status: BTreeMap<String, (ReturnStatus, usize)> = BTreeMap::new();
        for row in sqlx::query(&format!(
            "SELECT vendor, status, refused, CAST(SUM(n) AS BIGINT) FROM return_{suffix}
                 WHERE tenant = $1 AND {period} >= $2 AND {period} < $3
                 GROUP BY vendor, status, refused"
        ))
        .bind(tenant)
        .bind(first)
        .bind(end)
        .fetch_all(&self.pool)
        .await?
        {
            let vendor: String = row.try_get(0)?;
            let status: String = row.try_get(1)?;
            let refused: i64 = row.try_get(2)?;
            let n = count(row.try_get(3)?);
            if n == 0 {
                continue;
            }
            counts.total += n;
            if let Some(v) = Vendor::ALL.into_iter().find(|v| v.as_str() == vendor) {
                by_vendor.entry(v.as_str()).or_insert((v, 0)).1 += n;
                if v == Vendor::VTrack {
                    counts.vtrack_returned += n;
                    if refused != 0 {
                        counts.vtrack_refused += n;
                    }
                }
            }
            if let Some(s) = decode_code::<ReturnStatus>(&status) {
                by_status.entry(status).or_insert((s, 0)).1 += n;
            }
        }
        counts.by_vendor = by_vendor.into_values().collect();
        counts.by_status = by_status.into_values().collect();
        for row in sqlx::query(&format!(
            "SELECT reason, CAST(SUM(n) AS BIGINT) AS total FROM reason_{suffix}
                 WHERE tenant = $1 AND {period} >= $2 AND {period} < $3
                 GROUP BY reason"
        ))
        .bind(tenant)
        .bind(first)
        .bind(end)
        .fetch_all(&self.pool)
        .await?
        {
            let n = count(row.try_get(1)?);
            if n > 0 {
                counts.by_reason.push((row.try_get(0)?, n));
            }
        }
        counts.sort_reasons();
        let delivered: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT CAST(SUM(n) AS BIGINT) FROM delivery_{suffix}
             WHERE tenant = $1 AND {period} >= $2 AND {period} < $3"
        ))
        .bind(tenant)
        .bind(first)
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        counts.vtrack_delivered = count(delivered.unwrap_or(0));
        for row in sqlx::query(&format!(
            "SELECT side, currency, amount FROM refund_{suffix}
                 WHERE tenant = $1 AND {period} >= $2 AND {period} < $3"
        ))
        .bind(tenant)
        .bind(first)
        .bind(end)
        .fetch_all(&self.pool)
        .await?
        {
            let side: String = row.try_get(0)?;
            let currency: String = row.try_get(1)?;
            let amount: String = row.try_get(2)?;
            counts.paid_refunds.push(if side == "buyer" {
                (Some(amount), Some(currency), None, None)
            } else {
                (None, None, Some(amount), Some(currency))
            });
        }
        Ok(counts)
    }
}

/// What one indexed return adds to the daily rollups.
struct Contribution {
    vendor: Vendor,
    day: i64,
    status: String,
    refused: bool,
    reasons: Vec<String>,
    /// Refunds paid out: (day paid, `buyer` or `seller`, currency, amount).
    paid: Vec<(i64, &'static str, String, Decimal)>,
}

impl Contribution {
    fn of(r: &Return, columns: &rows::ReturnColumns) -> Contribution {
        let mut paid = Vec::new();
        for f in &r.refunds {
            let (RefundStatus::PaidOut, Some(at)) = (&f.status, f.paid_at) else {
                continue;
            };
            let day = at.timestamp_millis().div_euclid(DAY_MS);
            for (side, money) in [("buyer", &f.amount), ("seller", &f.amount_seller)] {
                if let Some(m) = money {
                    paid.push((day, side, m.currency.clone(), m.amount));
                }
            }
        }
        Contribution {
            vendor: r.vendor,
            day: columns.created_at.div_euclid(DAY_MS),
            status: code(&r.status),
            refused: r.refused,
            reasons: columns.reasons.clone(),
            paid,
        }
    }

    /// Adds this contribution to the rollups of every grain (`sign` 1), or takes it away
    /// (`sign` -1).
    async fn apply(
        &self,
        tx: &mut Transaction<'_, Sqlite>,
        tenant: &str,
        sign: i64,
    ) -> StoreResult<()> {
        for grain in Grain::ALL {
            self.apply_to(tx, tenant, grain, sign).await?;
        }
        Ok(())
    }

    async fn apply_to(
        &self,
        tx: &mut Transaction<'_, Sqlite>,
        tenant: &str,
        grain: Grain,
        sign: i64,
    ) -> StoreResult<()> {
        let vendor = self.vendor.as_str();
        let (suffix, period) = (grain.suffix(), grain.column());
        sqlx::query(&format!(
            "INSERT INTO return_{suffix} (tenant, {period}, vendor, status, refused, n)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant, {period}, vendor, status, refused)
             DO UPDATE SET n = return_{suffix}.n + excluded.n"
        ))
        .bind(tenant)
        .bind(grain.of_day(self.day))
        .bind(vendor)
        .bind(&self.status)
        .bind(i64::from(self.refused))
        .bind(sign)
        .execute(&mut **tx)
        .await?;
        for reason in &self.reasons {
            sqlx::query(&format!(
                "INSERT INTO reason_{suffix} (tenant, {period}, vendor, reason, n)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (tenant, {period}, vendor, reason)
                 DO UPDATE SET n = reason_{suffix}.n + excluded.n"
            ))
            .bind(tenant)
            .bind(grain.of_day(self.day))
            .bind(vendor)
            .bind(reason)
            .bind(sign)
            .execute(&mut **tx)
            .await?;
        }
        for (day, side, currency, amount) in &self.paid {
            add_refund(
                tx,
                tenant,
                grain,
                grain.of_day(*day),
                vendor,
                side,
                currency,
                Decimal::from(sign) * amount,
            )
            .await?;
        }
        Ok(())
    }
}

/// Adds `amount` to a refund rollup. Exact decimals: summed here, not by the database.
#[allow(clippy::too_many_arguments)]
async fn add_refund(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: &str,
    grain: Grain,
    at: i64,
    vendor: &str,
    side: &str,
    currency: &str,
    amount: Decimal,
) -> StoreResult<()> {
    let (suffix, period) = (grain.suffix(), grain.column());
    let sum: Option<String> = sqlx::query_scalar(&format!(
        "SELECT amount FROM refund_{suffix}
         WHERE tenant = $1 AND {period} = $2 AND vendor = $3 AND side = $4 AND currency = $5"
    ))
    .bind(tenant)
    .bind(at)
    .bind(vendor)
    .bind(side)
    .bind(currency)
    .fetch_optional(&mut **tx)
    .await?;
    let sum = sum.as_deref().map(decimal).transpose()?.unwrap_or_default() + amount;
    sqlx::query(&format!(
        "INSERT INTO refund_{suffix} (tenant, {period}, vendor, side, currency, amount)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant, {period}, vendor, side, currency)
         DO UPDATE SET amount = excluded.amount"
    ))
    .bind(tenant)
    .bind(at)
    .bind(vendor)
    .bind(side)
    .bind(currency)
    .bind(sum.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn decimal(s: &str) -> StoreResult<Decimal> {
    Decimal::from_str(s).map_err(|e| StoreError::Amount(format!("{s:?}: {e}")))
}

/// The periods the summary's rollups are kept by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grain {
    /// UTC days since the epoch.
    Day,
    /// Calendar months (UTC): year × 12 + month − 1.
    Month,
}

impl Grain {
    const ALL: [Grain; 2] = [Grain::Day, Grain::Month];

    /// The rollup tables' suffix: `return_daily`, `return_monthly`, …
    fn suffix(self) -> &'static str {
        match self {
            Grain::Day => "daily",
            Grain::Month => "monthly",
        }
    }

    /// The column naming the period.
    fn column(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Month => "month",
        }
    }

    /// The period of this grain that holds `day`.
    fn of_day(self, day: i64) -> i64 {
        match self {
            Grain::Day => day,
            Grain::Month => month_of_day(day),
        }
    }
}

/// The calendar month (year × 12 + month − 1) of a UTC day since the epoch. A day outside
/// chrono's range (a return with no known date is filed at the smallest i64) gets the
/// smallest month, which no window reaches.
fn month_of_day(day: i64) -> i64 {
    day.checked_mul(86_400)
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or(i64::MIN, |t| {
            i64::from(t.year()) * 12 + i64::from(t.month0())
        })
}

/// The UTC day since the epoch on which `month` begins.
fn first_day_of_month(month: i64) -> Option<i64> {
    let year = i32::try_from(month.div_euclid(12)).ok()?;
    let month0 = u32::try_from(month.rem_euclid(12)).ok()?;
    let first = chrono::NaiveDate::from_ymd_opt(year, month0 + 1, 1)?;
    Some((first - chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days())
}

/// Migration 2: the monthly rollups summed from the daily ones already kept.
async fn fill_monthly_rollups(tx: &mut Transaction<'_, Sqlite>) -> StoreResult<()> {
    let daily: Vec<(String, i64, String, String, i64, i64)> =
        sqlx::query_as("SELECT tenant, day, vendor, status, refused, n FROM return_daily")
            .fetch_all(&mut **tx)
            .await?;
    let mut monthly: BTreeMap<(String, i64, String, String, i64), i64> = BTreeMap::new();
    for (tenant, day, vendor, status, refused, n) in daily {
        *monthly
            .entry((tenant, month_of_day(day), vendor, status, refused))
            .or_default() += n;
    }
    for ((tenant, month, vendor, status, refused), n) in monthly {
        sqlx::query(
            "INSERT INTO return_monthly (tenant, month, vendor, status, refused, n)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant)
        .bind(month)
        .bind(vendor)
        .bind(status)
        .bind(refused)
        .bind(n)
        .execute(&mut **tx)
        .await?;
    }
    let daily: Vec<(String, i64, String, String, i64)> =
        sqlx::query_as("SELECT tenant, day, vendor, reason, n FROM reason_daily")
            .fetch_all(&mut **tx)
            .await?;
    let mut monthly: BTreeMap<(String, i64, String, String), i64> = BTreeMap::new();
    for (tenant, day, vendor, reason, n) in daily {
        *monthly
            .entry((tenant, month_of_day(day), vendor, reason))
            .or_default() += n;
    }
    for ((tenant, month, vendor, reason), n) in monthly {
        sqlx::query(
            "INSERT INTO reason_monthly (tenant, month, vendor, reason, n)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(tenant)
        .bind(month)
        .bind(vendor)
        .bind(reason)
        .bind(n)
        .execute(&mut **tx)
        .await?;
    }
    let tenants: Vec<String> = sqlx::query_scalar("SELECT DISTINCT tenant FROM delivery_daily")
        .fetch_all(&mut **tx)
        .await?;
    for tenant in tenants {
        count_deliveries_by_month(tx, &tenant).await?;
    }
    let daily: Vec<(String, i64, String, String, String, String)> =
        sqlx::query_as("SELECT tenant, day, vendor, side, currency, amount FROM refund_daily")
            .fetch_all(&mut **tx)
            .await?;
    for (tenant, day, vendor, side, currency, amount) in daily {
        let (month, amount) = (month_of_day(day), decimal(&amount)?);
        add_refund(
            tx,
            &tenant,
            Grain::Month,
            month,
            &vendor,
            &side,
            &currency,
            amount,
        )
        .await?;
    }
    Ok(())
}

/// `delivery_monthly` of `tenant` summed from its `delivery_daily`.
async fn count_deliveries_by_month(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: &str,
) -> StoreResult<()> {
    let daily: Vec<(i64, i64)> =
        sqlx::query_as("SELECT day, n FROM delivery_daily WHERE tenant = $1")
            .bind(tenant)
            .fetch_all(&mut **tx)
            .await?;
    let mut monthly: BTreeMap<i64, i64> = BTreeMap::new();
    for (day, n) in daily {
        *monthly.entry(month_of_day(day)).or_default() += n;
    }
    for (month, n) in monthly {
        sqlx::query("INSERT INTO delivery_monthly (tenant, month, n) VALUES ($1, $2, $3)")
            .bind(tenant)
            .bind(month)
            .bind(n)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, FixedOffset, TimeZone, Utc};
    use vendors::model::{Money, Refund, ReturnItem, ReturnReason};

    const T: &str = "acme";

    fn at(day: i64, hour: u32) -> DateTime<FixedOffset> {
        let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        (base + chrono::Duration::days(day) + chrono::Duration::hours(i64::from(hour)))
            .fixed_offset()
    }

    fn ret(vendor: Vendor, id: &str, day: i64, hour: u32, status: ReturnStatus) -> Return {
        let mut r = Return::new(vendor, id, status, "raw");
        r.created_at = Some(at(day, hour));
        r.items = vec![ReturnItem {
            reason: Some(ReturnReason {
                reason: Some(format!("reason {}", id.len() % 3)),
                ..Default::default()
            }),
            ..Default::default()
        }];
        r
    }

    fn paid(r: &mut Return, day: i64, amount: &str) {
        let money = |currency: &str| Money {
            amount: amount.parse().unwrap(),
            currency: currency.into(),
        };
        r.refunds.push(Refund {
            vendor: r.vendor,
            id: format!("f{}", r.refunds.len()),
            status: RefundStatus::PaidOut,
            status_raw: "paid".into(),
            amount: Some(money("EUR")),
            amount_seller: Some(money("PLN")),
            created_at: None,
            paid_at: Some(at(day, 12)),
            invoice_number: None,
            invoice_url: None,
            item_ids: Vec::new(),
        });
    }

    /// The counts with the refunds summed per currency, comparable whichever way counted.
    fn normalised(mut c: ReturnCounts) -> (ReturnCounts, BTreeMap<String, Decimal>) {
        let mut sums = BTreeMap::new();
        for (a, cur, a2, cur2) in c.paid_refunds.drain(..) {
            for (amount, currency) in [(a, cur), (a2, cur2)] {
                if let (Some(amount), Some(currency)) = (amount, currency) {
                    *sums.entry(currency).or_insert(Decimal::ZERO) +=
                        amount.parse::<Decimal>().unwrap();
                }
            }
        }
        (c, sums)
    }

    async fn assert_rollups_agree(store: &SqliteStore) {
        let ms = |day: i64, hour: u32| at(day, hour).timestamp_millis();
        for (from, to) in [
            (ms(0, 0), ms(10, 0)),
            (ms(0, 0), ms(100, 0)),
            (ms(0, 5), ms(9, 7)),
            (ms(2, 0), ms(3, 0)),
            (ms(2, 1), ms(2, 23)),
            (ms(-400, 0), ms(400, 0)),
            // 2026-01-01 to 2026-04-01: three whole months, no edge days.
            (ms(0, 0), ms(90, 0)),
            // February whole, then months with edge days and hours on either side.
            (ms(31, 0), ms(59, 0)),
            (ms(5, 3), ms(95, 0)),
            (ms(20, 0), ms(70, 12)),
            (ms(-40, 0), ms(45, 0)),
        ] {
            let (whole, whole_refunds) =
                normalised(store.return_counts(T, from, to).await.unwrap());
            let (rows, rows_refunds) =
                normalised(store.return_counts_of_rows(T, from, to).await.unwrap());
            assert_eq!(whole.total, rows.total, "{from}..{to}");
            assert_eq!(whole.by_vendor, rows.by_vendor, "{from}..{to}");
            assert_eq!(whole.by_status, rows.by_status, "{from}..{to}");
            assert_eq!(whole.by_reason, rows.by_reason, "{from}..{to}");
            assert_eq!(
                (
                    whole.vtrack_returned,
                    whole.vtrack_refused,
                    whole.vtrack_delivered
                ),
                (
                    rows.vtrack_returned,
                    rows.vtrack_refused,
                    rows.vtrack_delivered
                ),
                "{from}..{to}"
            );
            assert_eq!(whole_refunds, rows_refunds, "{from}..{to}");
        }
        // A listing's total comes from the monthly rollups when it filters by vendor and
        // status only; a `created_from` before every row makes it count the rows instead.
        for (vendors, statuses) in [
            (Vendor::ALL.to_vec(), None),
            (vec![Vendor::ProCarrier, Vendor::VTrack], None),
            (
                Vendor::ALL.to_vec(),
                Some(vec![ReturnStatus::Requested, ReturnStatus::Cancelled]),
            ),
            (Vendor::ALL.to_vec(), Some(Vec::new())),
        ] {
            let query = ReturnQuery {
                vendors,
                statuses,
                ..ReturnQuery::default()
            };
            assert!(counted_by_rollups(&query));
            let from_rollups = store.returns(T, &query, None, 1).await.unwrap().total;
            let by_rows = ReturnQuery {
                created_from: Some(i64::MIN),
                ..query.clone()
            };
            assert!(!counted_by_rollups(&by_rows));
            let from_rows = store.returns(T, &by_rows, None, 1).await.unwrap().total;
            assert_eq!(from_rollups, from_rows, "{query:?}");
        }
    }

    #[test]
    fn months_are_calendar_months_in_utc() {
        let day = |y, m, d| {
            (chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
                - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
            .num_days()
        };
        assert_eq!(month_of_day(0), 1970 * 12);
        assert_eq!(month_of_day(day(2028, 2, 29)), 2028 * 12 + 1);
        assert_eq!(month_of_day(day(2028, 3, 1)), 2028 * 12 + 2);
        assert_eq!(first_day_of_month(2028 * 12 + 2), Some(day(2028, 3, 1)));
        assert_eq!(first_day_of_month(1969 * 12 + 11), Some(day(1969, 12, 1)));
        // A return without a date is filed at the smallest day: no month any window reaches.
        assert_eq!(month_of_day(i64::MIN.div_euclid(DAY_MS)), i64::MIN);
    }

    #[tokio::test]
    async fn the_summarys_rollups_follow_every_write() {
        let store = SqliteStore::in_memory().await.unwrap();
        let mut returns = Vec::new();
        // Over the first hundred days of 2026: four calendar months.
        for i in 0..40i64 {
            let vendor = [Vendor::ProCarrier, Vendor::Rrr][(i % 2) as usize];
            let status = [ReturnStatus::Requested, ReturnStatus::InTransit][(i % 3 == 0) as usize];
            let mut r = ret(
                vendor,
                &format!("r{i}"),
                i * 7 % 100,
                (i * 5 % 24) as u32,
                status,
            );
            if vendor == Vendor::Rrr {
                paid(&mut r, i * 11 % 100, "10.05");
            }
            returns.push(r);
        }
        store.upsert_returns(T, &returns).await.unwrap();
        assert_rollups_agree(&store).await;

        // Changes: a status, a day, a refund paid; the same rows again unchanged.
        returns[3].status = ReturnStatus::Cancelled;
        returns[4].created_at = Some(at(45, 3));
        paid(&mut returns[5], 2, "0.125");
        store.upsert_returns(T, &returns).await.unwrap();
        store.upsert_returns(T, &returns[..10]).await.unwrap();
        assert_rollups_agree(&store).await;

        // V-Track's report replaced whole, twice, with deliveries.
        for n in [6usize, 3] {
            let vtrack: Vec<Return> = (0..n)
                .map(|i| {
                    let mut r = ret(
                        Vendor::VTrack,
                        &format!("v{i}"),
                        i as i64,
                        9,
                        ReturnStatus::Received,
                    );
                    r.refused = i % 2 == 0;
                    r
                })
                .collect();
            let deliveries: Vec<Delivery> = (0..n)
                .map(|i| Delivery {
                    vendor: Vendor::VTrack,
                    tracking_number: format!("D{i}"),
                    order_reference: None,
                    invoice_id: None,
                    finalized_at: None,
                    delivered_at: Some(at(i as i64 * 2, 20)),
                    customer: None,
                })
                .collect();
            store
                .replace_returns(T, Vendor::VTrack, &vtrack)
                .await
                .unwrap();
            store.replace_deliveries(T, &deliveries).await.unwrap();
            assert_rollups_agree(&store).await;
        }

        // Migration 2 makes the same monthly rollups from the daily ones.
        let mut tx = store.write().await.unwrap();
        for table in [
            "return_monthly",
            "reason_monthly",
            "refund_monthly",
            "delivery_monthly",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        fill_monthly_rollups(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_rollups_agree(&store).await;

        let all = store
            .return_counts(
                T,
                at(-1, 0).timestamp_millis(),
                at(400, 0).timestamp_millis(),
            )
            .await
            .unwrap();
        assert_eq!(all.total, 43);
        assert_eq!(
            (
                all.vtrack_returned,
                all.vtrack_refused,
                all.vtrack_delivered
            ),
            (3, 2, 3)
        );
    }

    #[tokio::test]
    async fn linked_keys_walk_links_transitively_for_every_seed() {
        let store = SqliteStore::in_memory().await.unwrap();
        let person = |email: &str, phone: &str| Customer {
            email: Some(email.into()),
            phone: Some(phone.into()),
            ..Default::default()
        };
        // a@x – +1 – b@x – +2 ; c@x – +3 apart.
        let mut returns = Vec::new();
        for (i, (e, p)) in [("a@x", "+1"), ("b@x", "+1"), ("b@x", "+2"), ("c@x", "+3")]
            .into_iter()
            .enumerate()
        {
            let mut r = ret(
                Vendor::ProCarrier,
                &format!("p{i}"),
                0,
                1,
                ReturnStatus::Requested,
            );
            r.customer = Some(person(e, p));
            returns.push(r);
        }
        store.upsert_returns(T, &returns).await.unwrap();
        let seed = |e: Option<&str>, p: Option<&str>| Keys {
            emails: e.map(str::to_owned).into_iter().collect(),
            phones: p.map(str::to_owned).into_iter().collect(),
        };
        let found = store
            .linked_keys(
                T,
                &[
                    seed(Some("a@x"), None),
                    seed(None, Some("+2")),
                    seed(None, Some("+3")),
                    seed(Some("z@x"), None),
                ],
            )
            .await
            .unwrap();
        let ab = Keys {
            emails: vec!["a@x".into(), "b@x".into()],
            phones: vec!["+1".into(), "+2".into()],
        };
        assert_eq!(found[0], ab);
        assert_eq!(found[1], ab);
        assert_eq!(found[2], seed(Some("c@x"), Some("+3")));
        assert_eq!(found[3], seed(Some("z@x"), None));
        // Another tenant sees none of it.
        assert_eq!(
            store
                .linked_keys("other", &[seed(Some("a@x"), None)])
                .await
                .unwrap()[0],
            seed(Some("a@x"), None)
        );
    }
}
