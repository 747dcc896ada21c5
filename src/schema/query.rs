//! The query root.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;

use super::directory::{self, ContactKey, CustomerRef, IdentityLookup};
use super::enums::{BreakerState, PaymentStatus, ReturnStatus, TrackingStatus, Vendor};
use super::errors::{invalid_argument, permitted, report_partial, reported, ScopeGuard};
use super::ids::{base64url_decode, base64url_encode, GlobalId, NodeKind};
use super::loaders::ParcelKey;
use super::types::{
    loaders, upstreams, CustomerNode, DropOffPointValue, MoneyValue, Node, OrderNode, ReturnNode,
    ReturnServiceValue, ShipmentNode,
};
use crate::auth::Scope;
use crate::config::ServerSettings;
use vendors::model::{self, normalize_email, normalize_phone, RefundStatus};
use vendors::procarrier::wire as pc;

pub struct Query;

/// Which returns to list. Every condition given must hold.
#[derive(InputObject, Default)]
pub struct ReturnFilter {
    /// Only these vendors (default: ProCarrier, RRR and V-Track).
    vendors: Option<Vec<Vendor>>,
    statuses: Option<Vec<ReturnStatus>>,
    /// Created at or after.
    created_from: Option<DateTime<FixedOffset>>,
    /// Created before.
    created_to: Option<DateTime<FixedOffset>>,
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
    created_from: Option<DateTime<FixedOffset>>,
    created_to: Option<DateTime<FixedOffset>>,
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

impl AddressInput {
    fn to_wire(&self, field: &str) -> async_graphql::Result<pc::Address> {
        let country = self.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid_argument(
                &format!("{field}.country"),
                format!("{:?} is not an ISO-3166 alpha-2 code", self.country),
            ));
        }
        Ok(pc::Address {
            country: Some(country),
            state: self.state.clone(),
            zip: self.postal_code.clone(),
            city: self.city.clone(),
            address_line1: self.line1.clone(),
            address_line2: self.line2.clone(),
            ..Default::default()
        })
    }
}

#[derive(SimpleObject)]
pub struct PageInfo {
    has_next_page: bool,
    /// Pass as `after` to read the next page.
    end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct ReturnEdge {
    cursor: String,
    node: ReturnNode,
}

/// A page of returns, merged across vendors: newest first, then by vendor and id — a stable
/// order, so cursors stay valid while data changes.
#[derive(SimpleObject)]
pub struct ReturnConnection {
    edges: Vec<ReturnEdge>,
    page_info: PageInfo,
    /// All returns matching the filter, across pages (of the vendors that answered).
    total_count: usize,
}

#[derive(SimpleObject)]
pub struct OrderEdge {
    cursor: String,
    node: OrderNode,
}

#[derive(SimpleObject)]
pub struct OrderConnection {
    edges: Vec<OrderEdge>,
    page_info: PageInfo,
    total_count: usize,
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
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
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
    last_success_at: Option<DateTime<FixedOffset>>,
    last_failure_at: Option<DateTime<FixedOffset>>,
    last_error_code: Option<String>,
    /// Age of the data last served from this vendor, in seconds; null before the first read.
    data_age_seconds: Option<f64>,
    cached_entries: u64,
    breaker_state: BreakerState,
    /// Set while the vendor's refusal of our credentials holds every call to it (for
    /// `auth_refusal_cooldown_s`): calls fail at once with the refusal's code, without reaching
    /// the vendor. Null otherwise.
    refusal: Option<VendorRefusal>,
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
    until: DateTime<FixedOffset>,
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

/// Position of an item in a newest-first listing: `(created_at, vendor, id)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SortKey(Reverse<i64>, &'static str, String);

impl SortKey {
    fn of(created_at: Option<DateTime<FixedOffset>>, vendor: model::Vendor, id: &str) -> Self {
        let millis = created_at.map_or(i64::MIN, |t| t.timestamp_millis());
        SortKey(Reverse(millis), vendor.as_str(), id.to_owned())
    }

    fn cursor(&self) -> String {
        base64url_encode(format!("{}|{}|{}", self.0 .0, self.1, self.2).as_bytes())
    }

    fn parse(cursor: &str) -> Option<SortKey> {
        let raw = String::from_utf8(base64url_decode(cursor)?).ok()?;
        let mut parts = raw.splitn(3, '|');
        let millis = parts.next()?.parse().ok()?;
        let vendor = parts.next()?;
        let vendor = model::Vendor::ALL
            .into_iter()
            .find(|v| v.as_str() == vendor)?;
        Some(SortKey(
            Reverse(millis),
            vendor.as_str(),
            parts.next()?.to_owned(),
        ))
    }
}

/// A page of a listing: `(cursor, item)` pairs, where it stands, and the listing's length.
type Paginated<T> = (Vec<(String, T)>, PageInfo, usize);

/// The page of `items` (sorted by `key`) after `after`, `first` long.
fn paginate<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> SortKey,
    first: i32,
    after: Option<String>,
    settings: &ServerSettings,
) -> async_graphql::Result<Paginated<T>> {
    let max = settings.max_page_size;
    let first = usize::try_from(first)
        .ok()
        .filter(|&f| f <= max)
        .ok_or_else(|| invalid_argument("first", format!("must be between 0 and {max}")))?;
    let total = items.len();
    let start = match after {
        None => 0,
        Some(cursor) => {
            let after = SortKey::parse(&cursor)
                .ok_or_else(|| invalid_argument("after", "not a cursor of this listing"))?;
            items.partition_point(|item| key(item) <= after)
        }
    };
    let page: Vec<(String, T)> = items
        .into_iter()
        .skip(start)
        .take(first)
        .map(|item| (key(&item).cursor(), item))
        .collect();
    let has_next_page = start + page.len() < total;
    let end_cursor = page.last().map(|(c, _)| c.clone());
    Ok((
        page,
        PageInfo {
            has_next_page,
            end_cursor,
        },
        total,
    ))
}

fn contact_key(email: Option<&str>, phone: Option<&str>) -> async_graphql::Result<ContactKey> {
    match (email, phone) {
        (Some(e), None) => normalize_email(e)
            .map(ContactKey::Email)
            .ok_or_else(|| invalid_argument("email", format!("{e:?} is not an e-mail address"))),
        (None, Some(p)) => normalize_phone(p, None)
            .map(ContactKey::Phone)
            .ok_or_else(|| {
                invalid_argument(
                    "phone",
                    format!("{p:?} is not a phone number with country code"),
                )
            }),
        _ => Err(invalid_argument(
            "email",
            "give exactly one of `email` and `phone`",
        )),
    }
}

/// A return filter's contact and reason terms, normalised once per query (and checked even
/// when no vendor answered).
struct ReturnTerms {
    email: Option<String>,
    phone: Option<String>,
    reason: Option<String>,
}

impl ReturnTerms {
    fn of(f: &ReturnFilter) -> async_graphql::Result<ReturnTerms> {
        let email = match &f.customer_email {
            Some(e) => Some(normalize_email(e).ok_or_else(|| {
                invalid_argument(
                    "filter.customerEmail",
                    format!("{e:?} is not an e-mail address"),
                )
            })?),
            None => None,
        };
        let phone = match &f.customer_phone {
            Some(p) => Some(normalize_phone(p, None).ok_or_else(|| {
                invalid_argument(
                    "filter.customerPhone",
                    format!("{p:?} is not a phone number"),
                )
            })?),
            None => None,
        };
        let reason = f.reason.as_ref().map(|s| s.to_lowercase());
        Ok(ReturnTerms {
            email,
            phone,
            reason,
        })
    }
}

fn return_matches(f: &ReturnFilter, terms: &ReturnTerms, r: &model::Return) -> bool {
    let contains = |list: &Option<Vec<ReturnStatus>>| {
        list.as_ref().is_none_or(|l| l.contains(&r.status.into()))
    };
    let (email, phone, reason) = (&terms.email, &terms.phone, &terms.reason);
    let customer = r.customer.as_ref();
    contains(&f.statuses)
        && f.created_from
            .is_none_or(|from| r.created_at.is_some_and(|t| t >= from))
        && f.created_to
            .is_none_or(|to| r.created_at.is_some_and(|t| t < to))
        && f.order_reference
            .as_ref()
            .is_none_or(|o| r.order_reference.as_ref() == Some(o))
        && f.marketplace_order_id
            .as_ref()
            .is_none_or(|o| r.marketplace_order_id.as_ref() == Some(o))
        && f.tracking_number
            .as_ref()
            .is_none_or(|t| r.tracking_number.as_ref() == Some(t))
        && email
            .as_ref()
            .is_none_or(|e| customer.and_then(|c| c.email.as_ref()) == Some(e))
        && phone
            .as_ref()
            .is_none_or(|p| customer.and_then(|c| c.phone.as_ref()) == Some(p))
        && f.country.as_ref().is_none_or(|c| {
            r.address
                .as_ref()
                .and_then(|a| a.country.as_deref())
                .is_some_and(|rc| rc.eq_ignore_ascii_case(c))
        })
        && reason.as_ref().is_none_or(|needle| {
            r.items.iter().any(|i| {
                i.reason
                    .as_ref()
                    .and_then(|x| x.reason.as_ref())
                    .is_some_and(|text| text.to_lowercase().contains(needle))
            })
        })
}

fn at(t: std::time::SystemTime) -> DateTime<FixedOffset> {
    DateTime::<chrono::Utc>::from(t).fixed_offset()
}

fn sum_by_currency<'a>(amounts: impl Iterator<Item = &'a model::Money>) -> Vec<MoneyValue> {
    let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
    for m in amounts {
        *totals.entry(m.currency.clone()).or_default() += m.amount;
    }
    totals
        .into_iter()
        .map(|(currency, amount)| MoneyValue(model::Money::new(amount, currency)))
        .collect()
}

#[Object]
impl Query {
    /// Any object with a global id.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsRead)")]
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let global = GlobalId::decode(&id).ok_or_else(|| invalid_argument("id", "not an id"))?;
        Ok(match global.kind {
            NodeKind::Return => find_return(ctx, &global).await?.map(Node::Return),
            NodeKind::Order if permitted(ctx, Scope::OrdersRead) => {
                find_order(ctx, &global).await?.map(Node::Order)
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
                customer_by_ref(ctx, customer)
                    .await
                    .map(|c| Node::Customer(Box::new(c)))
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
    ) -> async_graphql::Result<ReturnConnection> {
        let filter = filter.unwrap_or_default();
        let vendors: Vec<model::Vendor> = match &filter.vendors {
            Some(v) => v.iter().map(|&v| v.into()).collect(),
            None => directory::RETURN_VENDORS.to_vec(),
        };
        let terms = ReturnTerms::of(&filter)?;
        let all = directory::all_returns(upstreams(ctx), &vendors).await;
        for e in &all.failures {
            report_partial(ctx, e);
        }
        let mut items = Vec::with_capacity(all.items.len());
        for r in all.items {
            if return_matches(&filter, &terms, &r) {
                items.push(r);
            }
        }
        let key = |r: &Arc<model::Return>| SortKey::of(r.created_at, r.vendor, &r.id);
        items.sort_by_cached_key(key);
        let (page, page_info, total_count) = paginate(
            items,
            key,
            first,
            after,
            ctx.data_unchecked::<ServerSettings>(),
        )?;
        loaders(ctx)
            .prefetch(
                &ctx.look_ahead().field("edges").field("node"),
                page.iter().filter_map(|(_, r)| r.order_reference.clone()),
                page.iter().filter_map(|(_, r)| {
                    let number = r.tracking_number.clone()?;
                    Some(ParcelKey::new(number, r.created_at))
                }),
            )
            .await;
        Ok(ReturnConnection {
            edges: page
                .into_iter()
                .map(|(cursor, r)| ReturnEdge {
                    cursor,
                    node: ReturnNode(r),
                })
                .collect(),
            page_info,
            total_count,
        })
    }

    /// One return by global id.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsRead)")]
    async fn r#return(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<ReturnNode>> {
        let global = GlobalId::decode(&id)
            .filter(|g| g.kind == NodeKind::Return)
            .ok_or_else(|| invalid_argument("id", "not the id of a return"))?;
        find_return(ctx, &global).await
    }

    /// Shop orders (MerchantPro), newest first.
    #[graphql(guard = "ScopeGuard(Scope::OrdersRead)")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderFilter>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<Option<OrderConnection>> {
        let f = filter.unwrap_or_default();
        let email = match &f.customer_email {
            Some(e) => Some(normalize_email(e).ok_or_else(|| {
                invalid_argument(
                    "filter.customerEmail",
                    format!("{e:?} is not an e-mail address"),
                )
            })?),
            None => None,
        };
        let Some(index) = reported(ctx, upstreams(ctx).merchantpro_orders().await) else {
            return Ok(None);
        };
        let mut items: Vec<Arc<model::Order>> = index
            .orders
            .iter()
            .filter(|o| {
                f.payment_status
                    .is_none_or(|s| o.payment_status == s.into())
                    && f.shipping_status
                        .is_none_or(|s| o.shipping_status == s.into())
                    && f.created_from
                        .is_none_or(|t| o.created_at.is_some_and(|c| c >= t))
                    && f.created_to
                        .is_none_or(|t| o.created_at.is_some_and(|c| c < t))
                    && f.reference
                        .as_ref()
                        .is_none_or(|r| &o.id == r || o.reference.as_ref() == Some(r))
                    && f.tracking_number
                        .as_ref()
                        .is_none_or(|t| o.tracking_number.as_ref() == Some(t))
                    && email.as_ref().is_none_or(|e| {
                        o.customer.as_ref().and_then(|c| c.email.as_ref()) == Some(e)
                    })
            })
            .cloned()
            .collect();
        let key = |o: &Arc<model::Order>| SortKey::of(o.created_at, o.vendor, &o.id);
        items.sort_by_cached_key(key);
        let (page, page_info, total_count) = paginate(
            items,
            key,
            first,
            after,
            ctx.data_unchecked::<ServerSettings>(),
        )?;
        loaders(ctx)
            .prefetch(
                &ctx.look_ahead().field("edges").field("node"),
                std::iter::empty(),
                page.iter().filter_map(|(_, o)| {
                    let number = o.tracking_number.clone()?;
                    Some(ParcelKey::new(number, o.created_at))
                }),
            )
            .await;
        Ok(Some(OrderConnection {
            edges: page
                .into_iter()
                .map(|(cursor, o)| OrderEdge {
                    cursor,
                    node: OrderNode(o),
                })
                .collect(),
            page_info,
            total_count,
        }))
    }

    /// One order by global id.
    #[graphql(guard = "ScopeGuard(Scope::OrdersRead)")]
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<OrderNode>> {
        let global = GlobalId::decode(&id)
            .filter(|g| g.kind == NodeKind::Order)
            .ok_or_else(|| invalid_argument("id", "not the id of an order"))?;
        find_order(ctx, &global).await
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
        let key = contact_key(email.as_deref(), phone.as_deref())?;
        Ok(customer_of(ctx, key).await)
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
        if !(radius_km > 0.0 && radius_km <= 100.0) {
            return Err(invalid_argument(
                "radiusKm",
                "must be above 0 and at most 100",
            ));
        }
        let services = service_ids
            .unwrap_or_default()
            .iter()
            .map(|id| {
                id.parse::<i64>().map_err(|_| {
                    invalid_argument(
                        "serviceIds",
                        format!("{:?} is not a service id", id.as_str()),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut filter = pc::DropOffFilter {
            services,
            radius: Some(radius_km),
            ..Default::default()
        };
        match (&near, &address) {
            (Some(c), None) => {
                if !(-90.0..=90.0).contains(&c.lat) || !(-180.0..=180.0).contains(&c.lng) {
                    return Err(invalid_argument(
                        "near",
                        "lat must be -90..90 and lng -180..180",
                    ));
                }
                filter.coordinates = Some(pc::Coordinates {
                    lat: c.lat.to_string(),
                    lng: c.lng,
                });
            }
            (None, Some(a)) => filter.address = Some(a.to_wire("address")?),
            _ => {
                return Err(invalid_argument(
                    "near",
                    "give exactly one of `near` and `address`",
                ))
            }
        }
        let Some(points) = reported(ctx, upstreams(ctx).procarrier_dropoff_points(filter).await)
        else {
            return Ok(None);
        };
        let mut out: Vec<DropOffPointValue> = points
            .iter()
            .map(|p| DropOffPointValue {
                distance_km: near
                    .as_ref()
                    .map(|c| haversine_km(c.lat, c.lng, p.lat, p.lng)),
                point: p.clone(),
            })
            .filter(|p| p.distance_km.is_none_or(|d| d <= radius_km))
            .collect();
        out.sort_by(|a, b| {
            a.distance_km
                .unwrap_or(0.0)
                .total_cmp(&b.distance_km.unwrap_or(0.0))
                .then_with(|| a.point.id.cmp(&b.point.id))
        });
        Ok(Some(out))
    }

    /// The return services (ProCarrier) available for a parcel from an address.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsRead)")]
    async fn return_services(
        &self,
        ctx: &Context<'_>,
        address: AddressInput,
        parcel_weight_kg: f64,
    ) -> async_graphql::Result<Option<Vec<ReturnServiceValue>>> {
        if !(parcel_weight_kg > 0.0 && parcel_weight_kg <= 1000.0) {
            return Err(invalid_argument(
                "parcelWeightKg",
                "must be above 0 and at most 1000",
            ));
        }
        let request = pc::ServicesRequest {
            service: Some(address.to_wire("address")?),
            parcel: Some(pc::Parcel {
                weight: Some(parcel_weight_kg),
            }),
        };
        let services = reported(ctx, upstreams(ctx).procarrier_services(request).await);
        Ok(services.map(|s| s.iter().cloned().map(ReturnServiceValue).collect()))
    }

    /// Returns created in `[from, to)`, counted by vendor, status and reason, with the refusal
    /// rate and the refunds paid out.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsRead)")]
    async fn returns_summary(
        &self,
        ctx: &Context<'_>,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> async_graphql::Result<ReturnsSummary> {
        if to <= from {
            return Err(invalid_argument("to", "must be after `from`"));
        }
        let up = upstreams(ctx);
        let (all, vtrack) = tokio::join!(
            directory::all_returns(up, &directory::RETURN_VENDORS),
            up.vtrack_report()
        );
        let mut incomplete: Vec<Vendor> = Vec::new();
        for e in &all.failures {
            report_partial(ctx, e);
            let v: Vendor = e.vendor().into();
            if !incomplete.contains(&v) {
                incomplete.push(v);
            }
        }
        let within = |t: Option<DateTime<FixedOffset>>| t.is_some_and(|t| t >= from && t < to);
        let returns: Vec<&Arc<model::Return>> =
            all.items.iter().filter(|r| within(r.created_at)).collect();
        let mut by_vendor: BTreeMap<&str, (model::Vendor, usize)> = BTreeMap::new();
        let mut by_status: BTreeMap<String, (model::ReturnStatus, usize)> = BTreeMap::new();
        let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
        for r in &returns {
            by_vendor
                .entry(r.vendor.as_str())
                .or_insert((r.vendor, 0))
                .1 += 1;
            by_status
                .entry(format!("{:?}", r.status))
                .or_insert((r.status, 0))
                .1 += 1;
            let mut seen: Vec<&str> = Vec::new();
            for reason in r
                .items
                .iter()
                .filter_map(|i| i.reason.as_ref()?.reason.as_deref())
            {
                if !seen.contains(&reason) {
                    seen.push(reason);
                    *by_reason.entry(reason.to_owned()).or_default() += 1;
                }
            }
        }
        let mut by_reason: Vec<ReasonCount> = by_reason
            .into_iter()
            .map(|(reason, count)| ReasonCount { reason, count })
            .collect();
        by_reason.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
        let refusal_rate = vtrack.ok().and_then(|report| {
            let returned: Vec<_> = report
                .returns
                .iter()
                .filter(|r| within(r.created_at))
                .collect();
            let refused = returned.iter().filter(|r| r.refused).count();
            let delivered = report
                .deliveries
                .iter()
                .filter(|d| within(d.delivered_at))
                .count();
            let parcels = returned.len() + delivered;
            (parcels > 0).then(|| refused as f64 / parcels as f64)
        });
        let paid: Vec<&model::Refund> = all
            .items
            .iter()
            .flat_map(|r| &r.refunds)
            .filter(|f| f.status == RefundStatus::PaidOut && within(f.paid_at))
            .collect();
        Ok(ReturnsSummary {
            from,
            to,
            total: returns.len(),
            by_vendor: by_vendor
                .into_values()
                .map(|(v, count)| VendorCount {
                    vendor: v.into(),
                    count,
                })
                .collect(),
            by_status: by_status
                .into_values()
                .map(|(s, count)| StatusCount {
                    status: s.into(),
                    count,
                })
                .collect(),
            by_reason,
            refusal_rate,
            refunded_totals: sum_by_currency(paid.iter().filter_map(|f| f.amount.as_ref())),
            refunded_totals_seller: sum_by_currency(
                paid.iter().filter_map(|f| f.amount_seller.as_ref()),
            ),
            incomplete_vendors: incomplete,
        })
    }

    /// Each vendor's health and the age of the data being served.
    async fn vendors(&self, ctx: &Context<'_>) -> Vec<VendorStatus> {
        let up = upstreams(ctx);
        model::Vendor::ALL
            .into_iter()
            .map(|v| {
                let h = up.health(v);
                VendorStatus {
                    vendor: v.into(),
                    healthy: h.consecutive_failures == 0,
                    consecutive_failures: h.consecutive_failures,
                    last_success_at: h.last_success.map(at),
                    last_failure_at: h.last_failure.map(|(t, _)| at(t)),
                    last_error_code: h.last_failure.map(|(_, c)| c.as_str().to_owned()),
                    data_age_seconds: up.data_age(v).map(|d| d.as_secs_f64()),
                    cached_entries: up.cache.entry_count(v),
                    breaker_state: up.breaker_state(v).into(),
                    refusal: up.refusal(v).map(VendorRefusal::from),
                }
            })
            .collect()
    }
}

async fn find_return(
    ctx: &Context<'_>,
    id: &GlobalId,
) -> async_graphql::Result<Option<ReturnNode>> {
    let Some(vendor) = id.vendor.filter(|v| directory::RETURN_VENDORS.contains(v)) else {
        return Ok(None);
    };
    let all = directory::all_returns(upstreams(ctx), &[vendor]).await;
    if let Some(e) = all.failures.first() {
        report_partial(ctx, e);
        return Ok(None);
    }
    Ok(all
        .items
        .into_iter()
        .find(|r| r.id == id.native)
        .map(ReturnNode))
}

async fn find_order(ctx: &Context<'_>, id: &GlobalId) -> async_graphql::Result<Option<OrderNode>> {
    if id.vendor != Some(model::Vendor::MerchantPro) {
        return Ok(None);
    }
    let Ok(numeric) = id.native.parse::<u64>() else {
        return Ok(None);
    };
    let found = upstreams(ctx).merchantpro_orders_by_id(vec![numeric]).await;
    let Some(found) = reported(ctx, found) else {
        return Ok(None);
    };
    Ok(found.by_id(&id.native).cloned().map(OrderNode))
}

/// The person with `key` among their e-mails and phones, with everything the vendors know about
/// them; `None` when no vendor record names them.
async fn customer_of(ctx: &Context<'_>, key: ContactKey) -> Option<CustomerNode> {
    let lookup = match loaders(ctx).identities.load_one(key.clone()).await {
        Ok(found) => found?,
        Err(never) => match never {},
    };
    found_customer(ctx, key, lookup)
}

/// The person a customer id names (see [`CustomerRef`]).
async fn customer_by_ref(ctx: &Context<'_>, customer: CustomerRef) -> Option<CustomerNode> {
    match customer {
        CustomerRef::Key(key) => customer_of(ctx, key).await,
        CustomerRef::Digest(digest) => {
            let cache = &loaders(ctx).identities.loader().cache;
            let (identity, records) = cache.find_by_digest(upstreams(ctx), &digest).await;
            let Some(identity) = identity else {
                for e in &records.failures {
                    report_partial(ctx, e);
                }
                return None;
            };
            let key = identity.canonical().clone();
            found_customer(ctx, key, IdentityLookup { identity, records })
        }
    }
}

/// The customer `lookup` found, with the vendors' failures reported; `None` when no record is
/// theirs.
fn found_customer(
    ctx: &Context<'_>,
    key: ContactKey,
    lookup: IdentityLookup,
) -> Option<CustomerNode> {
    for e in &lookup.records.failures {
        report_partial(ctx, e);
    }
    let activity = Arc::new(lookup.activity());
    (!activity.is_empty()).then(|| CustomerNode::found(key, lookup, activity))
}

/// Great-circle distance in kilometres.
fn haversine_km(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = ((lat2 - lat1).to_radians(), (lng2 - lng1).to_radians());
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    6371.0 * 2.0 * a.sqrt().asin()
}
