//! The query root: thin resolvers over the service layer (`crate::service`), which owns the
//! rules; here only GraphQL's shapes (arguments, lookahead, partial errors) are handled.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, OutputType, SimpleObject, ID};

use super::enums::{BreakerState, PaymentStatus, ReturnStatus, SyncState, TrackingStatus, Vendor};
use super::errors::{
    fresh_read_limited, invalid_argument, permitted, report_all, reported, Answered, ScopeGuard,
};
use super::ids::{GlobalId, NodeKind};
use super::scalars::DateTime;
use super::types::{
    loaders, service, CustomerNode, DropOffPointValue, MoneyValue, Node, OrderNode, ReturnNode,
    ReturnServiceValue, ShipmentNode,
};
use crate::auth::Scope;
use crate::service::customers::{ContactKey, CustomerRef};
use crate::service::fresh::FreshReturn;
use crate::service::listing::{Page, PageRequest};
use crate::service::loaders::ParcelKey;
use crate::service::places::{Around, Coordinates, Place};
use crate::service::{orders, returns};
use vendors::model;

pub struct Query;

/// Which returns to list. Every condition given must hold.
#[derive(InputObject, Default)]
pub struct ReturnFilter {
    /// Only these vendors (default: ProCarrier, RRR and V-Track).
    vendors: Option<Vec<Vendor>>,
    statuses: Option<Vec<ReturnStatus>>,
    /// Created at or after.
    created_from: Option<DateTime>,
    /// Created before.
    created_to: Option<DateTime>,
    /// The shop order's channel reference.
    order_reference: Option<String>,
    /// The marketplace's own order number (RRR).
    marketplace_order_id: Option<String>,
    tracking_number: Option<String>,
    /// Matched after normalisation (trimmed, lower-case).
    customer_email: Option<String>,
    /// Matched after normalisation to E.164.
    customer_phone: Option<String>,
    /// ISO-3166 alpha-2 of the return's address.
    country: Option<String>,
    /// Case-insensitive part of any item's reason.
    reason: Option<String>,
}

#[derive(InputObject, Default)]
pub struct OrderFilter {
    payment_status: Option<PaymentStatus>,
    shipping_status: Option<TrackingStatus>,
    created_from: Option<DateTime>,
    created_to: Option<DateTime>,
    /// MerchantPro id or channel reference.
    reference: Option<String>,
    tracking_number: Option<String>,
    customer_email: Option<String>,
}

#[derive(InputObject)]
pub struct CoordinatesInput {
    /// -90 to 90.
    lat: f64,
    /// -180 to 180.
    lng: f64,
}

#[derive(InputObject, Default)]
pub struct AddressInput {
    /// ISO-3166 alpha-2, e.g. `GR`.
    country: String,
    state: Option<String>,
    city: Option<String>,
    postal_code: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
}

#[derive(SimpleObject)]
pub struct PageInfo {
    has_next_page: bool,
    /// Pass as `after` to read the next page.
    end_cursor: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(concrete(name = "ReturnEdge", params(ReturnNode)))]
#[graphql(concrete(name = "OrderEdge", params(OrderNode)))]
pub struct Edge<N: OutputType> {
    cursor: String,
    node: N,
}

/// A page of a listing (returns merged across vendors, or orders): newest first, then by vendor
/// and id — a stable order, so cursors stay valid while data changes.
#[derive(SimpleObject)]
#[graphql(concrete(name = "ReturnConnection", params(ReturnNode)))]
#[graphql(concrete(name = "OrderConnection", params(OrderNode)))]
pub struct Connection<N>
where
    N: OutputType,
    Edge<N>: OutputType,
{
    edges: Vec<Edge<N>>,
    page_info: PageInfo,
    /// Everything matching the filter, across pages (of the vendors that answered).
    total_count: usize,
}

impl<N> Connection<N>
where
    N: OutputType,
    Edge<N>: OutputType,
{
    /// `page`'s items as nodes.
    fn of<T>(page: Page<T>, node: impl Fn(T) -> N) -> Self {
        Connection {
            edges: page
                .items
                .into_iter()
                .map(|(cursor, item)| Edge {
                    cursor,
                    node: node(item),
                })
                .collect(),
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                end_cursor: page.end_cursor,
            },
            total_count: page.total_count,
        }
    }
}

#[derive(SimpleObject)]
pub struct VendorCount {
    vendor: Vendor,
    count: usize,
}

#[derive(SimpleObject)]
pub struct StatusCount {
    status: ReturnStatus,
    count: usize,
}

#[derive(SimpleObject)]
pub struct ReasonCount {
    reason: String,
    count: usize,
}

/// Returns created in a window, counted. Vendors that could not answer are listed in
/// `incompleteVendors` (and in `errors`); the figures cover the others.
#[derive(SimpleObject)]
pub struct ReturnsSummary {
    from: DateTime,
    to: DateTime,
    total: usize,
    by_vendor: Vec<VendorCount>,
    by_status: Vec<StatusCount>,
    /// Returns per reason (a return with several reasons counts under each), most first.
    by_reason: Vec<ReasonCount>,
    /// V-Track: refused parcels / (returned + delivered parcels) in the window; null without
    /// V-Track parcels.
    refusal_rate: Option<f64>,
    /// Refunds paid out in the window, per currency of the buyer.
    refunded_totals: Vec<MoneyValue>,
    /// The same refunds in the seller's currency (never converted by us).
    refunded_totals_seller: Vec<MoneyValue>,
    incomplete_vendors: Vec<Vendor>,
}

/// A vendor's health as the gateway sees it.
#[derive(SimpleObject)]
pub struct VendorStatus {
    vendor: Vendor,
    /// The last read succeeded (or none was made yet).
    healthy: bool,
    consecutive_failures: u32,
    last_success_at: Option<DateTime>,
    last_failure_at: Option<DateTime>,
    last_error_code: Option<String>,
    /// Age of the data served from this vendor, in seconds: how long ago the returns index
    /// last caught up with it (or, before it ever did, the age of the last vendor read); null
    /// before either.
    data_age_seconds: Option<f64>,
    cached_entries: u64,
    breaker_state: BreakerState,
    /// Set while the vendor's refusal of our credentials holds every call to it (for
    /// `auth_refusal_cooldown_s`): calls fail at once with the refusal's code, without reaching
    /// the vendor. Null otherwise.
    refusal: Option<VendorRefusal>,
    /// Set while the vendor's last 429 holds every call to it (until its `Retry-After`, or for
    /// `rate_limited_hold_ms` without one): calls that cannot wait that long fail at once with
    /// `VENDOR_RATE_LIMITED`, without reaching the vendor. Null otherwise.
    rate_limit_hold: Option<VendorRateLimitHold>,
    /// The vendor's sync into the returns index.
    sync: VendorSyncStatus,
}

/// The vendor answered HTTP 429 (too many requests): until `until` no call is sent to it.
#[derive(SimpleObject)]
pub struct VendorRateLimitHold {
    /// The call the vendor answered with the 429 that set the hold (or last extended it).
    endpoint: String,
    /// When calls are sent again.
    until: DateTime,
}

impl From<vendors::RateLimitHold> for VendorRateLimitHold {
    fn from(hold: vendors::RateLimitHold) -> Self {
        VendorRateLimitHold {
            endpoint: hold.endpoint.to_owned(),
            until: at(std::time::SystemTime::now() + hold.remaining()),
        }
    }
}

/// How a vendor's data reaches the returns index, which answers listings, customers and
/// summaries.
#[derive(SimpleObject)]
pub struct VendorSyncStatus {
    state: SyncState,
    /// Share of the backfill done, 0 to 1.
    progress: f64,
    /// The index holds what the vendor had at this time.
    indexed_through: Option<DateTime>,
    /// How far the index is behind the vendor, in seconds (now less `indexedThrough`).
    lag_seconds: Option<f64>,
    last_success_at: Option<DateTime>,
    /// The last sync failure's code (`VENDOR_TIMEOUT`, …), until a later read succeeds; the
    /// index keeps serving what it holds meanwhile.
    last_error_code: Option<String>,
    last_error_at: Option<DateTime>,
    /// Rows written by the sync since the index was created.
    rows: u64,
}

/// A refusal of our credentials (auth failed, access denied, IP blocked). Until `until` no call
/// is sent to the vendor: a refused key sent again is refused again, and repeats get our address
/// blocked.
#[derive(SimpleObject)]
pub struct VendorRefusal {
    /// The refusal's stable error code, which every held call reports too:
    /// `VENDOR_AUTH_FAILED`, `VENDOR_ACCESS_DENIED` or `VENDOR_IP_BLOCKED`.
    code: String,
    /// What the vendor answered: its own code and message, or the HTTP status.
    message: String,
    /// When calls are sent again.
    until: DateTime,
}

impl From<vendors::Refusal> for VendorRefusal {
    fn from(refusal: vendors::Refusal) -> Self {
        VendorRefusal {
            code: refusal.code.as_str().to_owned(),
            until: at(std::time::SystemTime::now() + refusal.remaining()),
            message: refusal.message,
        }
    }
}

fn at(t: std::time::SystemTime) -> DateTime {
    chrono::DateTime::<chrono::Utc>::from(t).into()
}

impl From<ReturnFilter> for returns::ReturnFilter {
    fn from(f: ReturnFilter) -> Self {
        returns::ReturnFilter {
            vendors: f.vendors.map(|v| v.into_iter().map(Into::into).collect()),
            statuses: f.statuses.map(|s| s.into_iter().map(Into::into).collect()),
            created_from: f.created_from.map(Into::into),
            created_to: f.created_to.map(Into::into),
            order_reference: f.order_reference,
            marketplace_order_id: f.marketplace_order_id,
            tracking_number: f.tracking_number,
            customer_email: f.customer_email,
            customer_phone: f.customer_phone,
            country: f.country,
            reason: f.reason,
        }
    }
}

impl From<OrderFilter> for orders::OrderFilter {
    fn from(f: OrderFilter) -> Self {
        orders::OrderFilter {
            payment_status: f.payment_status.map(Into::into),
            shipping_status: f.shipping_status.map(Into::into),
            created_from: f.created_from.map(Into::into),
            created_to: f.created_to.map(Into::into),
            reference: f.reference,
            tracking_number: f.tracking_number,
            customer_email: f.customer_email,
        }
    }
}

impl From<AddressInput> for Place {
    fn from(a: AddressInput) -> Self {
        Place {
            country: a.country,
            state: a.state,
            city: a.city,
            postal_code: a.postal_code,
            line1: a.line1,
            line2: a.line2,
        }
    }
}

/// The customer key of `customer(email | phone)`: exactly one of them.
fn contact_key(
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<ContactKey, crate::service::ServiceError> {
    match (email, phone) {
        (Some(e), None) => ContactKey::from_email(e),
        (None, Some(p)) => ContactKey::from_phone(p),
        _ => Err(crate::service::ServiceError::invalid(
            "email",
            "give exactly one of `email` and `phone`",
        )),
    }
}

/// The parcels a page's rows link to, when the selection under `node` asks for `tracking`.
fn tracking_keys<'a, T: 'a>(
    node: &async_graphql::Lookahead<'_>,
    rows: impl Iterator<Item = &'a T>,
    parcel: impl Fn(&T) -> Option<ParcelKey>,
) -> Vec<ParcelKey> {
    if node.field("tracking").exists() {
        rows.filter_map(parcel).collect()
    } else {
        Vec::new()
    }
}

#[Object]
impl Query {
    /// Any object with a global id.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsRead)")]
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let global = GlobalId::decode(&id).ok_or_else(|| invalid_argument("id", "not an id"))?;
        Ok(match global.kind {
            NodeKind::Return => find_return(ctx, &global).await.map(Node::Return),
            NodeKind::Order if permitted(ctx, Scope::OrdersRead) => {
                find_order(ctx, &global).await.map(Node::Order)
            }
            NodeKind::Shipment if permitted(ctx, Scope::TrackingRead) => {
                ShipmentNode::load(ctx, ParcelKey::new(global.native, None))
                    .await
                    .map(Node::Shipment)
            }
            NodeKind::Order | NodeKind::Shipment => None,
            NodeKind::Customer => {
                let customer = CustomerRef::parse(&global.native)
                    .ok_or_else(|| invalid_argument("id", "not an id"))?;
                let answer = service(ctx)
                    .customer_by_ref(loaders(ctx), customer)
                    .await
                    .answered()?;
                CustomerNode::answered(ctx, answer).map(|c| Node::Customer(Box::new(c)))
            }
        })
    }

    /// Returns of every vendor, merged into one newest-first listing.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsRead)")]
    async fn returns(
        &self,
        ctx: &Context<'_>,
        filter: Option<ReturnFilter>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<ReturnNode>> {
        let filter = returns::ReturnFilter::from(filter.unwrap_or_default());
        let page = service(ctx)
            .list_returns(&filter, &PageRequest { first, after })
            .await
            .answered()?;
        report_all(ctx, &page.failures);
        let node = ctx.look_ahead().field("edges").field("node");
        let rows = || page.items.iter().map(|(_, r)| r);
        let order_keys = if node.field("order").exists() {
            rows().filter_map(|r| r.order_reference.clone()).collect()
        } else {
            Vec::new()
        };
        let parcels = tracking_keys(&node, rows(), |r: &Arc<model::Return>| {
            Some(ParcelKey::new(r.tracking_number.clone()?, r.created_at))
        });
        loaders(ctx).prefetch(order_keys, parcels).await;
        Ok(Connection::of(page, ReturnNode::new))
    }

    /// One return by global id. `fresh: true` reads an RRR return from RRR itself rather
    /// than the index (and updates the index): at most 30 vendor reads a minute per tenant,
    /// an answer reused for 30 s; past the cap the indexed return comes with a
    /// `FRESH_READ_LIMITED` error.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsRead)")]
    async fn r#return(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default = false)] fresh: bool,
    ) -> async_graphql::Result<Option<ReturnNode>> {
        let global = GlobalId::decode(&id)
            .filter(|g| g.kind == NodeKind::Return)
            .ok_or_else(|| invalid_argument("id", "not the id of a return"))?;
        if !fresh {
            return Ok(find_return(ctx, &global).await);
        }
        if global.vendor != Some(model::Vendor::Rrr) {
            return Err(invalid_argument(
                "fresh",
                "only an RRR return is read fresh (the others are kept current by webhooks and the sync)",
            ));
        }
        let read = service(ctx).fresh_rrr_return(&global.native).await;
        Ok(match reported(ctx, read) {
            Some(FreshReturn::Fresh(found)) => found.map(ReturnNode::new),
            Some(FreshReturn::Limited {
                indexed,
                retry_after,
            }) => {
                ctx.add_error(fresh_read_limited(retry_after).into_server_error(ctx.item.pos));
                indexed.map(ReturnNode::new)
            }
            None => None,
        })
    }

    /// Shop orders (MerchantPro), newest first.
    #[graphql(guard = "ScopeGuard(Scope::OrdersRead)")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderFilter>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<Option<Connection<OrderNode>>> {
        let filter = orders::OrderFilter::from(filter.unwrap_or_default());
        let Some(page) = service(ctx)
            .list_orders(&filter, &PageRequest { first, after })
            .await
            .partial(ctx)?
        else {
            return Ok(None);
        };
        let node = ctx.look_ahead().field("edges").field("node");
        let parcels = tracking_keys(
            &node,
            page.items.iter().map(|(_, o)| o),
            |o: &Arc<model::Order>| Some(ParcelKey::new(o.tracking_number.clone()?, o.created_at)),
        );
        loaders(ctx).prefetch(Vec::new(), parcels).await;
        Ok(Some(Connection::of(page, OrderNode::new)))
    }

    /// One order by global id.
    #[graphql(guard = "ScopeGuard(Scope::OrdersRead)")]
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<OrderNode>> {
        let global = GlobalId::decode(&id)
            .filter(|g| g.kind == NodeKind::Order)
            .ok_or_else(|| invalid_argument("id", "not the id of an order"))?;
        Ok(find_order(ctx, &global).await)
    }

    /// One person across all five vendors, by e-mail or phone (exactly one). Null when no
    /// vendor knows them.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsRead)")]
    async fn customer(
        &self,
        ctx: &Context<'_>,
        email: Option<String>,
        phone: Option<String>,
    ) -> async_graphql::Result<Option<CustomerNode>> {
        let key = contact_key(email.as_deref(), phone.as_deref()).answered()?;
        let answer = service(ctx).customer(loaders(ctx), key).await.answered()?;
        Ok(CustomerNode::answered(ctx, answer))
    }

    /// A parcel's tracking: ProCarrier and TrackRU events merged in time order.
    #[graphql(guard = "ScopeGuard(Scope::TrackingRead)")]
    async fn tracking(
        &self,
        ctx: &Context<'_>,
        tracking_number: String,
    ) -> async_graphql::Result<Option<ShipmentNode>> {
        let number = tracking_number.trim();
        if number.is_empty() {
            return Err(invalid_argument("trackingNumber", "must not be empty"));
        }
        Ok(ShipmentNode::load(ctx, ParcelKey::new(number.to_owned(), None)).await)
    }

    /// Where a return can be handed in (ProCarrier), nearest first when searched by
    /// coordinates. Give `near` or `address`.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsRead)")]
    async fn drop_off_points(
        &self,
        ctx: &Context<'_>,
        near: Option<CoordinatesInput>,
        address: Option<AddressInput>,
        #[graphql(default = 5.0)] radius_km: f64,
        service_ids: Option<Vec<ID>>,
    ) -> async_graphql::Result<Option<Vec<DropOffPointValue>>> {
        let around = match (near, address) {
            (Some(c), None) => Around::Coordinates(Coordinates {
                lat: c.lat,
                lng: c.lng,
            }),
            (None, Some(a)) => Around::Address(a.into()),
            _ => {
                return Err(invalid_argument(
                    "near",
                    "give exactly one of `near` and `address`",
                ))
            }
        };
        let service_ids: Vec<String> = service_ids
            .unwrap_or_default()
            .into_iter()
            .map(|id| id.0)
            .collect();
        let points = service(ctx)
            .drop_off_points(&around, radius_km, &service_ids)
            .await
            .partial(ctx)?;
        Ok(points.map(|p| p.into_iter().map(DropOffPointValue).collect()))
    }

    /// The return services (ProCarrier) available for a parcel from an address.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsRead)")]
    async fn return_services(
        &self,
        ctx: &Context<'_>,
        address: AddressInput,
        parcel_weight_kg: f64,
    ) -> async_graphql::Result<Option<Vec<ReturnServiceValue>>> {
        let services = service(ctx)
            .return_services(&address.into(), parcel_weight_kg)
            .await
            .partial(ctx)?;
        Ok(services.map(|s| s.into_iter().map(ReturnServiceValue::from).collect()))
    }

    /// Returns created in `[from, to)`, counted by vendor, status and reason, with the refusal
    /// rate and the refunds paid out.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsRead)")]
    async fn returns_summary(
        &self,
        ctx: &Context<'_>,
        from: DateTime,
        to: DateTime,
    ) -> async_graphql::Result<ReturnsSummary> {
        let s = service(ctx)
            .returns_summary(from.0, to.0)
            .await
            .answered()?;
        report_all(ctx, &s.failures);
        let money = |m: Vec<model::Money>| m.into_iter().map(MoneyValue).collect();
        Ok(ReturnsSummary {
            from: s.from.into(),
            to: s.to.into(),
            total: s.total,
            by_vendor: s
                .by_vendor
                .into_iter()
                .map(|(v, count)| VendorCount {
                    vendor: v.into(),
                    count,
                })
                .collect(),
            by_status: s
                .by_status
                .into_iter()
                .map(|(status, count)| StatusCount {
                    status: status.into(),
                    count,
                })
                .collect(),
            by_reason: s
                .by_reason
                .into_iter()
                .map(|(reason, count)| ReasonCount { reason, count })
                .collect(),
            refusal_rate: s.refusal_rate,
            refunded_totals: money(s.refunded_totals),
            refunded_totals_seller: money(s.refunded_totals_seller),
            incomplete_vendors: s.incomplete_vendors.into_iter().map(Into::into).collect(),
        })
    }

    /// Each vendor's health and the age of the data being served.
    async fn vendors(&self, ctx: &Context<'_>) -> Vec<VendorStatus> {
        let now = service(ctx).now();
        service(ctx)
            .vendor_health()
            .into_iter()
            .map(|h| VendorStatus {
                vendor: h.vendor.into(),
                healthy: h.consecutive_failures == 0,
                consecutive_failures: h.consecutive_failures,
                last_success_at: h.last_success.map(at),
                last_failure_at: h.last_failure.map(|(t, _)| at(t)),
                last_error_code: h.last_failure.map(|(_, c)| c.as_str().to_owned()),
                data_age_seconds: h.data_age.map(|d| d.as_secs_f64()),
                cached_entries: h.cached_entries,
                breaker_state: h.breaker.into(),
                refusal: h.refusal.map(VendorRefusal::from),
                rate_limit_hold: h.rate_limit_hold.map(VendorRateLimitHold::from),
                sync: VendorSyncStatus {
                    state: h.sync.phase.into(),
                    progress: h.sync.progress,
                    indexed_through: h.sync.indexed_through.map(DateTime::from),
                    lag_seconds: h.sync.lag_seconds(now),
                    last_success_at: h.sync.last_success.map(DateTime::from),
                    last_error_code: h
                        .sync
                        .last_error
                        .as_ref()
                        .map(|e| e.code.as_str().to_owned()),
                    last_error_at: h.sync.last_error.as_ref().map(|e| e.at.into()),
                    rows: h.sync.rows,
                },
            })
            .collect()
    }
}

/// The return `id` names; `None` (with the failure reported) when its vendor cannot answer.
pub(super) async fn find_return(ctx: &Context<'_>, id: &GlobalId) -> Option<ReturnNode> {
    let vendor = id.vendor?;
    let found = service(ctx).find_return(vendor, &id.native).await;
    reported(ctx, found).flatten().map(ReturnNode::new)
}

/// The order `id` names; `None` (with the failure reported) when MerchantPro cannot answer.
pub(super) async fn find_order(ctx: &Context<'_>, id: &GlobalId) -> Option<OrderNode> {
    if id.vendor != Some(model::Vendor::MerchantPro) {
        return None;
    }
    let numeric = id.native.parse::<u64>().ok()?;
    let found = service(ctx).find_order(numeric).await;
    reported(ctx, found).flatten().map(OrderNode::new)
}
