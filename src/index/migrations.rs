//! The index's schema, versioned: each migration runs once, in order, at start-up, in a
//! transaction with its version recorded in `schema_migrations`. The SQL is portable between
//! SQLite and PostgreSQL (`$n` placeholders, `ON CONFLICT … DO UPDATE`, `WITH RECURSIVE`, no
//! engine-specific types): times are unix milliseconds, records the model's JSON.

/// `(version, statements)`, oldest first. Never edit a shipped migration: add the next one.
pub const MIGRATIONS: &[(i64, &[&str])] = &[
    (
        1,
        &[
            // Returns of the three vendors that hold them, with the columns every filter, the
            // listing's order and the summary's group-bys read. `created_at` is unix millis, the
            // smallest i64 when unknown (last in a newest-first listing).
            "CREATE TABLE returns (
            tenant TEXT NOT NULL,
            vendor TEXT NOT NULL,
            id TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            status TEXT NOT NULL,
            order_reference TEXT,
            marketplace_order_id TEXT,
            tracking_number TEXT,
            customer_email TEXT,
            customer_phone TEXT,
            country TEXT,
            reasons TEXT NOT NULL,
            refused INTEGER NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (tenant, vendor, id)
        )",
            "CREATE INDEX returns_listing ON returns (tenant, created_at DESC, vendor, id)",
            "CREATE INDEX returns_by_status ON returns (tenant, status, created_at)",
            "CREATE INDEX returns_by_order_reference ON returns (tenant, order_reference)",
            "CREATE INDEX returns_by_marketplace_order ON returns (tenant, marketplace_order_id)",
            "CREATE INDEX returns_by_tracking_number ON returns (tenant, tracking_number)",
            "CREATE INDEX returns_by_email ON returns (tenant, customer_email)",
            "CREATE INDEX returns_by_phone ON returns (tenant, customer_phone)",
            "CREATE INDEX returns_by_country ON returns (tenant, country, created_at)",
            // One row per distinct reason of a return: the summary counts reasons in a window.
            "CREATE TABLE return_reasons (
            tenant TEXT NOT NULL,
            vendor TEXT NOT NULL,
            return_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (tenant, vendor, return_id, reason)
        )",
            "CREATE INDEX return_reasons_window ON return_reasons (tenant, created_at)",
            // A return's refunds in its order (ids may be missing or repeat), by the day they were
            // paid: the summary's totals per currency.
            "CREATE TABLE refunds (
            tenant TEXT NOT NULL,
            vendor TEXT NOT NULL,
            return_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            refund_id TEXT NOT NULL,
            status TEXT NOT NULL,
            paid_at BIGINT,
            amount TEXT,
            currency TEXT,
            amount_seller TEXT,
            currency_seller TEXT,
            PRIMARY KEY (tenant, vendor, return_id, position)
        )",
            "CREATE INDEX refunds_paid ON refunds (tenant, status, paid_at)",
            // Shop orders (MerchantPro). `open`: not delivered, returned or cancelled yet, so
            // their state may still change and the sync refreshes them, least recently
            // `checked_at` (unix millis) first.
            "CREATE TABLE orders (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            reference TEXT,
            created_at BIGINT NOT NULL,
            payment_status TEXT NOT NULL,
            shipping_status TEXT NOT NULL,
            tracking_number TEXT,
            customer_email TEXT,
            customer_phone TEXT,
            open INTEGER NOT NULL,
            checked_at BIGINT NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (tenant, id)
        )",
            "CREATE INDEX orders_listing ON orders (tenant, created_at DESC, id)",
            "CREATE INDEX orders_by_reference ON orders (tenant, reference)",
            "CREATE INDEX orders_by_tracking_number ON orders (tenant, tracking_number)",
            "CREATE INDEX orders_by_email ON orders (tenant, customer_email)",
            "CREATE INDEX orders_by_phone ON orders (tenant, customer_phone)",
            "CREATE INDEX orders_open ON orders (tenant, open, checked_at)",
            // Parcels V-Track delivered.
            "CREATE TABLE deliveries (
            tenant TEXT NOT NULL,
            tracking_number TEXT NOT NULL,
            delivered_at BIGINT NOT NULL,
            customer_email TEXT,
            customer_phone TEXT,
            record TEXT NOT NULL,
            PRIMARY KEY (tenant, tracking_number)
        )",
            "CREATE INDEX deliveries_window ON deliveries (tenant, delivered_at)",
            "CREATE INDEX deliveries_by_email ON deliveries (tenant, customer_email)",
            "CREATE INDEX deliveries_by_phone ON deliveries (tenant, customer_phone)",
            // Parcels as a tracking vendor (TrackRU) knows them.
            "CREATE TABLE shipments (
            tenant TEXT NOT NULL,
            vendor TEXT NOT NULL,
            tracking_number TEXT NOT NULL,
            customer_email TEXT,
            customer_phone TEXT,
            record TEXT NOT NULL,
            PRIMARY KEY (tenant, vendor, tracking_number)
        )",
            // Parcels are looked up by number whatever their vendor (the key leads with vendor).
            "CREATE INDEX shipments_by_number ON shipments (tenant, tracking_number)",
            "CREATE INDEX shipments_by_email ON shipments (tenant, customer_email)",
            "CREATE INDEX shipments_by_phone ON shipments (tenant, customer_phone)",
            // Who is who: an e-mail and a phone some vendor record carries together. A customer
            // is the connected component of their keys over these links.
            "CREATE TABLE contact_links (
            tenant TEXT NOT NULL,
            email TEXT NOT NULL,
            phone TEXT NOT NULL,
            PRIMARY KEY (tenant, email, phone)
        )",
            // Covering: a link is found from either side without reading the table (not covering,
            // SQLite preferred scanning the primary key's index).
            "CREATE INDEX contact_links_by_phone ON contact_links (tenant, phone, email)",
            // Every e-mail and phone a record carries, by its digest: a customer's global id holds
            // a digest, never the key (see `key_digest`).
            "CREATE TABLE contact_keys (
            tenant TEXT NOT NULL,
            digest TEXT NOT NULL,
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (tenant, digest)
        )",
            // Where each vendor's sync stands (cursors, high-water marks, progress), as JSON.
            "CREATE TABLE sync_state (
            tenant TEXT NOT NULL,
            vendor TEXT NOT NULL,
            state TEXT NOT NULL,
            PRIMARY KEY (tenant, vendor)
        )",
            // Mutations' outcomes under their idempotency keys, until they expire.
            "CREATE TABLE idempotency_keys (
            tenant TEXT NOT NULL,
            operation TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            outcome TEXT NOT NULL,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (tenant, operation, key)
        )",
            "CREATE INDEX idempotency_keys_expiry ON idempotency_keys (tenant, expires_at)",
            // Webhook deliveries already processed (dedupe across restarts and replicas).
            "CREATE TABLE webhook_deliveries (
            tenant TEXT NOT NULL,
            delivery TEXT NOT NULL,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (tenant, delivery)
        )",
            "CREATE INDEX webhook_deliveries_expiry ON webhook_deliveries (tenant, expires_at)",
            // The summary's daily rollups (UTC days since the epoch), kept with the rows they count
            // in the same transactions: `returnsSummary` over a year reads a row per day and
            // group, not every return of the year.
            "CREATE TABLE return_daily (
            tenant TEXT NOT NULL,
            day BIGINT NOT NULL,
            vendor TEXT NOT NULL,
            status TEXT NOT NULL,
            refused INTEGER NOT NULL,
            n BIGINT NOT NULL,
            PRIMARY KEY (tenant, day, vendor, status, refused)
        )",
            "CREATE TABLE reason_daily (
            tenant TEXT NOT NULL,
            day BIGINT NOT NULL,
            vendor TEXT NOT NULL,
            reason TEXT NOT NULL,
            n BIGINT NOT NULL,
            PRIMARY KEY (tenant, day, vendor, reason)
        )",
            // Refunds paid out, summed per day of payment and currency: `side` is `buyer`
            // (amount, currency) or `seller` (amount_seller, currency_seller); `amount` an exact
            // decimal.
            "CREATE TABLE refund_daily (
            tenant TEXT NOT NULL,
            day BIGINT NOT NULL,
            vendor TEXT NOT NULL,
            side TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount TEXT NOT NULL,
            PRIMARY KEY (tenant, day, vendor, side, currency)
        )",
            "CREATE TABLE delivery_daily (
            tenant TEXT NOT NULL,
            day BIGINT NOT NULL,
            n BIGINT NOT NULL,
            PRIMARY KEY (tenant, day)
        )",
        ],
    ),
    (
        2,
        &[
            // The same rollups per calendar month (UTC; `month` is year × 12 + month − 1): a
            // window of many months reads a row per month and group, and only its edges from the
            // daily rows, so a year costs the same whether the shop has a few returns a day or
            // thousands. Filled from the daily rollups as the migration runs
            // (`SqliteStore::fill_monthly_rollups`), then kept in the same transactions.
            "CREATE TABLE return_monthly (
            tenant TEXT NOT NULL,
            month BIGINT NOT NULL,
            vendor TEXT NOT NULL,
            status TEXT NOT NULL,
            refused INTEGER NOT NULL,
            n BIGINT NOT NULL,
            PRIMARY KEY (tenant, month, vendor, status, refused)
        )",
            "CREATE TABLE reason_monthly (
            tenant TEXT NOT NULL,
            month BIGINT NOT NULL,
            vendor TEXT NOT NULL,
            reason TEXT NOT NULL,
            n BIGINT NOT NULL,
            PRIMARY KEY (tenant, month, vendor, reason)
        )",
            "CREATE TABLE refund_monthly (
            tenant TEXT NOT NULL,
            month BIGINT NOT NULL,
            vendor TEXT NOT NULL,
            side TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount TEXT NOT NULL,
            PRIMARY KEY (tenant, month, vendor, side, currency)
        )",
            "CREATE TABLE delivery_monthly (
            tenant TEXT NOT NULL,
            month BIGINT NOT NULL,
            n BIGINT NOT NULL,
            PRIMARY KEY (tenant, month)
        )",
        ],
    ),
];
