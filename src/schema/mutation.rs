//! The mutation root: ProCarrier returns and tracking events, MerchantPro order transitions and
//! updates, TrackRU tracking registrations and overrides.
//!
//! Every mutation validates its whole input before any vendor call (errors name the field),
//! runs at most once per idempotency key (the `Idempotency-Key` header or the `idempotencyKey`
//! argument; see `crate::idempotency`), is never retried automatically, and afterwards drops
//! the cached reads of the vendor it wrote to, so the next query shows the change.

use std::sync::Arc;

use async_graphql::{Context, Enum, ErrorExtensions, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use super::enums::{ReturnStatus, TrackingStatus};
use super::errors::{invalid_argument, vendor_error, ScopeGuard};
use super::ids::{GlobalId, NodeKind};
use super::types::{upstreams, AddressValue, OrderNode, ReturnNode};
use crate::auth::Scope;
use crate::idempotency::IdempotencyStore;
use crate::upstream::Upstreams;
use vendors::merchantpro::wire as mp;
use vendors::model::codes::{country_code, currency_code};
use vendors::model::{self, normalize_email, normalize_phone, Vendor};
use vendors::procarrier::{mapping as pc_map, wire as pc};
use vendors::trackru::client::BatchOutcome;
use vendors::trackru::{mapping as tr_map, wire as tr};
use vendors::VendorError;

/// The `Idempotency-Key` header of the request, put in the request data by the HTTP layer.
#[derive(Debug, Clone)]
pub struct IdempotencyKeyHeader(pub String);

pub struct Mutation;

type GqlResult<T> = async_graphql::Result<T>;

/// The key from the argument or the header (they must agree), checked.
fn checked_key(ctx: &Context<'_>, argument: Option<String>) -> GqlResult<Option<String>> {
    let header = ctx.data_opt::<IdempotencyKeyHeader>().map(|h| h.0.clone());
    let key = match (argument, header) {
        (Some(a), Some(h)) if a != h => {
            return Err(invalid_argument(
                "idempotencyKey",
                "differs from the Idempotency-Key header",
            ))
        }
        (a, h) => a.or(h),
    };
    if let Some(k) = &key {
        if k.is_empty() || k.len() > 255 || !k.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid_argument(
                "idempotencyKey",
                "must be 1 to 255 printable ASCII characters",
            ));
        }
    }
    Ok(key)
}

/// Runs a write once per idempotency key, then drops `vendor`'s cached reads (also after a
/// failure: a write that failed may still have happened).
async fn write_once<T, Fut>(
    ctx: &Context<'_>,
    operation: &'static str,
    key: Option<String>,
    fingerprint: String,
    vendor: Vendor,
    write: impl FnOnce(Arc<Upstreams>) -> Fut,
) -> GqlResult<Arc<Result<T, Arc<VendorError>>>>
where
    T: Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, Arc<VendorError>>>,
{
    let store = ctx.data_unchecked::<Arc<IdempotencyStore>>();
    let up = upstreams(ctx).clone();
    let outcome = store
        .run(operation, key.as_deref(), fingerprint, || async {
            let outcome = write(up.clone()).await;
            up.cache.invalidate_vendor(vendor);
            outcome
        })
        .await
        .map_err(|e| {
            async_graphql::Error::new(e.to_string()).extend_with(|_, ext| {
                ext.set("code", "IDEMPOTENCY_KEY_REUSED");
                ext.set("retryable", false);
            })
        })?;
    Ok(outcome)
}

/// What identifies a mutation's input for its idempotency key.
fn fingerprint(input: &impl Serialize) -> String {
    serde_json::to_string(input).expect("mutation inputs serialise to JSON")
}

fn answer<T: Clone>(outcome: &Result<T, Arc<VendorError>>) -> GqlResult<T> {
    outcome.clone().map_err(|e| vendor_error(&e))
}

fn required(field: &str, value: &str) -> GqlResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(invalid_argument(field, "must not be empty"));
    }
    Ok(v.to_owned())
}

fn decimal(field: &str, raw: &str) -> GqlResult<Decimal> {
    let d: Decimal = raw
        .trim()
        .parse()
        .map_err(|_| invalid_argument(field, format!("{raw:?} is not a decimal number")))?;
    if d.is_sign_negative() {
        return Err(invalid_argument(field, "must not be negative"));
    }
    Ok(d)
}

fn parse_order_id(id: &ID) -> GqlResult<u64> {
    GlobalId::decode(id)
        .filter(|g| g.kind == NodeKind::Order && g.vendor == Some(Vendor::MerchantPro))
        .and_then(|g| g.native.parse().ok())
        .ok_or_else(|| invalid_argument("orderId", "not the id of an order"))
}

// ---- Inputs ---------------------------------------------------------------------------------

#[derive(InputObject, Serialize, Clone)]
pub struct ReturnAddressInput {
    /// ISO-3166 alpha-2.
    country: String,
    state: Option<String>,
    city: String,
    postal_code: String,
    line1: String,
    line2: Option<String>,
    line3: Option<String>,
    neighborhood: Option<String>,
}

#[derive(InputObject, Serialize, Clone)]
pub struct ContactInput {
    name: String,
    company: Option<String>,
    email: String,
    /// With country code, or national for the address's country.
    phone: String,
}

#[derive(InputObject, Serialize, Clone)]
pub struct ReturnReasonInput {
    /// e.g. `Refund`, `Exchange`.
    action: Option<String>,
    reason: String,
    wish: Option<String>,
}

#[derive(InputObject, Serialize, Clone)]
pub struct ReturnProductInput {
    sku: String,
    description: String,
    /// Above 0.
    quantity: i32,
    /// Unit price, a decimal string at or above 0, in the return's currency.
    price: String,
    weight_kg: Option<f64>,
    reason: ReturnReasonInput,
}

#[derive(InputObject, Serialize, Clone)]
pub struct CollectionInput {
    date: NaiveDate,
    /// `HH:MM`.
    time_from: String,
    /// `HH:MM`, after `timeFrom`.
    time_to: String,
}

#[derive(InputObject, Serialize, Clone)]
pub struct DestinationInput {
    address: ReturnAddressInput,
    contact: ContactInput,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Serialize)]
pub enum LabelFormat {
    Pdf,
}

#[derive(InputObject, Serialize, Clone)]
pub struct CreateReturnInput {
    /// Where the parcel is collected from / sent by.
    address: ReturnAddressInput,
    contact: ContactInput,
    /// A ProCarrier service (see `returnServices`).
    service_id: ID,
    order_reference: Option<String>,
    external_id: Option<String>,
    display_id: Option<String>,
    /// ISO-4217 of the products' prices.
    currency: String,
    products: Vec<ReturnProductInput>,
    #[graphql(default_with = "LabelFormat::Pdf")]
    label_format: LabelFormat,
    /// For home-collection services.
    collection: Option<CollectionInput>,
    /// Where the return goes, when not the account's default.
    destination: Option<DestinationInput>,
}

fn wire_address(field: &str, a: &ReturnAddressInput) -> GqlResult<pc::Address> {
    let country = country_code(&a.country).ok_or_else(|| {
        invalid_argument(
            &format!("{field}.country"),
            format!("{:?} is not an ISO-3166 alpha-2 code", a.country),
        )
    })?;
    Ok(pc::Address {
        country: Some(country),
        state: a.state.clone(),
        zip: Some(required(&format!("{field}.postalCode"), &a.postal_code)?),
        city: Some(required(&format!("{field}.city"), &a.city)?),
        address_line1: Some(required(&format!("{field}.line1"), &a.line1)?),
        address_line2: a.line2.clone(),
        address_line3: a.line3.clone(),
        neighborhood: a.neighborhood.clone(),
    })
}

fn wire_contact(field: &str, c: &ContactInput, country: Option<&str>) -> GqlResult<pc::Contact> {
    let email = normalize_email(&c.email).ok_or_else(|| {
        invalid_argument(
            &format!("{field}.email"),
            format!("{:?} is not an e-mail address", c.email),
        )
    })?;
    let phone = normalize_phone(&c.phone, country).ok_or_else(|| {
        invalid_argument(
            &format!("{field}.phone"),
            format!("{:?} is not a phone number", c.phone),
        )
    })?;
    Ok(pc::Contact {
        name: Some(required(&format!("{field}.name"), &c.name)?),
        company: c.company.clone(),
        phone: Some(phone),
        email: Some(email),
    })
}

fn hhmm(field: &str, raw: &str) -> GqlResult<NaiveTime> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M")
        .map_err(|_| invalid_argument(field, format!("{raw:?} is not HH:MM")))
}

impl CreateReturnInput {
    /// The vendor request, or the first invalid field. `services` are the known service ids.
    fn to_wire(&self, services: &[String]) -> GqlResult<pc::NewReturn> {
        let address = wire_address("input.address", &self.address)?;
        let contact = wire_contact("input.contact", &self.contact, address.country.as_deref())?;
        let service_id: i64 = self
            .service_id
            .parse()
            .ok()
            .filter(|_| services.iter().any(|s| *s == *self.service_id))
            .ok_or_else(|| {
                invalid_argument(
                    "input.serviceId",
                    format!(
                        "{:?} is not a known return service",
                        self.service_id.as_str()
                    ),
                )
            })?;
        let currency = currency_code(&self.currency).ok_or_else(|| {
            invalid_argument(
                "input.currency",
                format!("{:?} is not an ISO-4217 code", self.currency),
            )
        })?;
        if self.products.is_empty() {
            return Err(invalid_argument("input.products", "at least one product"));
        }
        let mut products = Vec::with_capacity(self.products.len());
        for (i, p) in self.products.iter().enumerate() {
            let field = |name: &str| format!("input.products[{i}].{name}");
            if p.quantity <= 0 {
                return Err(invalid_argument(&field("quantity"), "must be above 0"));
            }
            let price = decimal(&field("price"), &p.price)?;
            if p.weight_kg.is_some_and(|w| !(w > 0.0 && w.is_finite())) {
                return Err(invalid_argument(&field("weightKg"), "must be above 0"));
            }
            products.push(pc::Product {
                sku: Some(required(&field("sku"), &p.sku)?),
                description: Some(required(&field("description"), &p.description)?),
                quantity: Some(i64::from(p.quantity)),
                // The vendor's wire format is a JSON number.
                price: price.to_f64(),
                weight: p.weight_kg,
                weight_uom: p.weight_kg.map(|_| "kg".to_owned()),
                reason: Some(pc::Reason {
                    action: p.reason.action.clone(),
                    reason: Some(required(&field("reason.reason"), &p.reason.reason)?),
                    wish: p.reason.wish.clone(),
                    additional: None,
                }),
                ..Default::default()
            });
        }
        let collection_date = match &self.collection {
            None => None,
            Some(c) => {
                let (from, to) = (
                    hhmm("input.collection.timeFrom", &c.time_from)?,
                    hhmm("input.collection.timeTo", &c.time_to)?,
                );
                if to <= from {
                    return Err(invalid_argument(
                        "input.collection.timeTo",
                        "must be after timeFrom",
                    ));
                }
                Some(pc::CollectionDate {
                    date: c.date.format("%Y/%m/%d").to_string(),
                    time_from: Some(from.format("%H:%M").to_string()),
                    time_to: Some(to.format("%H:%M").to_string()),
                })
            }
        };
        let destination = match &self.destination {
            None => None,
            Some(d) => {
                let address = wire_address("input.destination.address", &d.address)?;
                let contact = wire_contact(
                    "input.destination.contact",
                    &d.contact,
                    address.country.as_deref(),
                )?;
                Some(pc::Destination {
                    address: Some(address),
                    contact: Some(contact),
                })
            }
        };
        Ok(pc::NewReturn {
            address,
            contact,
            service_id: Some(service_id),
            order_reference: self.order_reference.clone(),
            external_id: self.external_id.clone(),
            display_id: self.display_id.clone(),
            currency: Some(currency),
            products,
            label_format: Some("pdf".into()),
            collection_date,
            destination,
            ..Default::default()
        })
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Serialize)]
pub enum OrderStatusChange {
    InProcess,
    Shipped,
    Delivered,
    Returned,
    Cancelled,
}

impl OrderStatusChange {
    fn transition(self) -> mp::Transition {
        match self {
            OrderStatusChange::InProcess => mp::Transition::InProcess,
            OrderStatusChange::Shipped => mp::Transition::Shipped,
            OrderStatusChange::Delivered => mp::Transition::Delivered,
            OrderStatusChange::Returned => mp::Transition::Returned,
            OrderStatusChange::Cancelled => mp::Transition::Cancelled,
        }
    }
}

#[derive(InputObject, Serialize, Clone)]
pub struct UpdateOrderInput {
    shipping_method_id: Option<ID>,
    /// Decimal string at or above 0.
    shipping_amount: Option<String>,
    /// Replaces the order's tags (by name).
    tags: Option<Vec<String>>,
}

#[derive(InputObject, Serialize, Clone)]
pub struct TrackParcelInput {
    tracking_number: String,
    /// The carrier's TrackRU / TrackingMore code, e.g. `dhl`.
    carrier_code: String,
    order_reference: Option<String>,
    title: Option<String>,
    customer_name: Option<String>,
    customer_email: Option<String>,
    customer_phone: Option<String>,
    /// ISO-3166 alpha-2.
    destination_country: Option<String>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Serialize)]
pub enum TrackingOverride {
    /// Mark delivered (TrackRU status 4).
    Delivered,
    /// Mark as an exception (TrackRU status 7).
    Exception,
    /// Undo a manual override: back to the carrier's own status (TrackRU status 8).
    Revert,
}

#[derive(InputObject, Serialize, Clone)]
pub struct EventLocationInput {
    country: Option<String>,
    state: Option<String>,
    city: Option<String>,
}

// ---- Payloads -------------------------------------------------------------------------------

#[derive(Clone)]
pub struct CreatedReturn {
    created: pc::ReturnCreated,
    record: Result<Arc<model::Return>, Arc<VendorError>>,
}

/// A return label: the vendor's document, and a gateway URL that downloads it.
#[derive(SimpleObject, Clone)]
pub struct ReturnLabel {
    content_type: String,
    /// The document, base64.
    base64: String,
    /// `GET` it for the document itself.
    url: String,
}

pub struct CreateReturnPayload(CreatedReturn);

#[Object]
impl CreateReturnPayload {
    async fn tracking_number(&self) -> &str {
        &self.0.created.tracking_number
    }
    /// Where the customer hands the parcel in, as the vendor wrote it.
    async fn first_mile_address(&self) -> Option<AddressValue> {
        self.0.created.first_mile_address.as_ref().map(|a| {
            AddressValue::from(&model::Address {
                line1: a.address_line1.clone(),
                line2: a.address_line2.clone(),
                line3: a.address_line3.clone(),
                neighborhood: a.neighborhood.clone(),
                city: a.city.clone(),
                state: a.state.clone(),
                postal_code: a.zip.clone(),
                country: a.country.clone(),
                ..Default::default()
            })
        })
    }
    async fn secondary_barcodes(&self) -> Vec<String> {
        let c = &self.0.created;
        c.secondary_barcodes
            .iter()
            .cloned()
            .chain(c.secondary_barcode.clone())
            .filter(|b| !b.is_empty())
            .collect()
    }
    async fn label(&self) -> Option<ReturnLabel> {
        let c = &self.0.created;
        let image = c.label_image.clone().filter(|i| !i.is_empty())?;
        Some(ReturnLabel {
            content_type: c
                .label_content_yype
                .clone()
                .unwrap_or_else(|| "application/pdf".into()),
            base64: image,
            url: format!("/labels/procarrier/{}", c.tracking_number),
        })
    }
    /// The new return as ProCarrier now lists it (null, with an error, if it could not be
    /// read back; the return was created all the same).
    async fn r#return(&self, ctx: &Context<'_>) -> Option<ReturnNode> {
        super::errors::reported(ctx, self.0.record.clone()).map(ReturnNode)
    }
}

#[derive(SimpleObject, Clone)]
pub struct CancelReturnPayload {
    tracking_number: Option<String>,
    external_id: Option<String>,
    /// The vendor's answer.
    message: Option<String>,
    /// The return's status after the cancellation, read back from the vendor.
    status: Option<ReturnStatus>,
    status_raw: Option<String>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ParcelOutcome {
    /// Now tracked.
    Accepted,
    /// TrackRU already tracked it; nothing changed.
    AlreadyTracked,
    /// TrackRU refused it (see `code` and `reason`).
    Rejected,
    /// Its batch failed as a whole: not known to be tracked; safe to send again.
    NotSent,
}

#[derive(SimpleObject, Clone)]
pub struct ParcelResult {
    tracking_number: String,
    carrier_code: Option<String>,
    outcome: ParcelOutcome,
    /// The vendor's code, when it refused.
    code: Option<String>,
    reason: Option<String>,
}

#[derive(SimpleObject, Clone)]
pub struct TrackParcelsPayload {
    /// One per parcel sent, in the order given.
    results: Vec<ParcelResult>,
    accepted: usize,
    already_tracked: usize,
    rejected: usize,
    not_sent: usize,
}

#[derive(SimpleObject, Clone)]
pub struct TrackingOverridePayload {
    tracking_number: String,
    carrier_code: String,
    status: TrackingStatus,
    status_raw: String,
}

#[derive(SimpleObject, Clone)]
pub struct TrackingEventPayload {
    tracking_number: String,
    /// The ProCarrier status code recorded.
    status_code: i32,
    status: TrackingStatus,
    at: DateTime<FixedOffset>,
}

fn procarrier_lookup(value: &str, field: &str) -> pc::ReturnLookup {
    pc::ReturnLookup {
        value: value.to_owned(),
        field: field.to_owned(),
        label_format: None,
    }
}

/// A MerchantPro order fresh from the vendor (no cache), for checks before a write.
async fn current_order(up: &Upstreams, id: u64) -> GqlResult<mp::Order> {
    up.merchantpro
        .get(id, &[])
        .await
        .map_err(|e| vendor_error(&e))
}

fn check_transition(order: &mp::Order, t: mp::Transition) -> GqlResult<()> {
    let raw = order.shipping_status.clone().unwrap_or_default();
    let allowed = mp::ShippingStatus::parse(&raw).is_some_and(|s| t.allowed_from().contains(&s));
    if t == mp::Transition::CreateInvoice {
        if order.invoice.as_ref().is_some_and(|i| !i.cancelled) {
            let reason = format!("order {} already has an invoice", order.id.0);
            return Err(invalid_transition(reason, "orderId"));
        }
        if !allowed {
            let reason = format!("order {} is {raw:?}: it cannot be invoiced", order.id.0);
            return Err(invalid_transition(reason, "orderId"));
        }
    } else if !allowed {
        let reason = format!(
            "order {} is {raw:?}: a shop does not allow `{}` from there",
            order.id.0,
            t.as_str()
        );
        return Err(invalid_transition(reason, "status"));
    }
    Ok(())
}

fn invalid_transition(reason: String, field: &str) -> async_graphql::Error {
    async_graphql::Error::new(reason).extend_with(|_, ext| {
        ext.set("code", "INVALID_TRANSITION");
        ext.set("field", field);
        ext.set("retryable", false);
    })
}

async fn transition(
    ctx: &Context<'_>,
    operation: &'static str,
    order: &ID,
    t: mp::Transition,
    key: Option<String>,
) -> GqlResult<OrderNode> {
    let id = parse_order_id(order)?;
    let key = checked_key(ctx, key)?;
    let store = ctx.data_unchecked::<Arc<IdempotencyStore>>();
    let input = (id, t.as_str());
    // A replay answers what the first call did; only a first call is checked against the
    // order's state (which the first call changed).
    if !store.has(operation, key.as_deref()).await {
        check_transition(&current_order(upstreams(ctx), id).await?, t)?;
    }
    let outcome = write_once(
        ctx,
        operation,
        key,
        fingerprint(&input),
        Vendor::MerchantPro,
        |up| async move {
            up.merchantpro.transition(id, t).await.map_err(Arc::new)?;
            let order = up.merchantpro.get(id, &[]).await.map_err(Arc::new)?;
            Ok(Arc::new(vendors::merchantpro::mapping::order(&order)))
        },
    )
    .await?;
    answer(&outcome).map(OrderNode)
}

#[Object]
impl Mutation {
    /// Books a return with ProCarrier and answers its tracking number and label.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsWrite)")]
    async fn create_return(
        &self,
        ctx: &Context<'_>,
        input: CreateReturnInput,
        idempotency_key: Option<String>,
    ) -> GqlResult<CreateReturnPayload> {
        let key = checked_key(ctx, idempotency_key)?;
        let up = upstreams(ctx);
        let services = up
            .procarrier_services(pc::ServicesRequest::default())
            .await
            .map_err(|e| vendor_error(&e))?;
        let services: Vec<String> = services.iter().map(|s| s.id.clone()).collect();
        let request = input.to_wire(&services)?;
        let outcome = write_once(
            ctx,
            "createReturn",
            key,
            fingerprint(&request),
            Vendor::ProCarrier,
            |up| async move {
                let created = up
                    .procarrier
                    .create_return(&request)
                    .await
                    .map_err(Arc::new)?;
                let record = up
                    .procarrier
                    .get_return(&procarrier_lookup(&created.tracking_number, "tracking"))
                    .await
                    .map(|r| Arc::new(pc_map::map_return(&r)))
                    .map_err(Arc::new);
                Ok(CreatedReturn { created, record })
            },
        )
        .await?;
        answer(&outcome).map(CreateReturnPayload)
    }

    /// Cancels a ProCarrier return, by tracking number or external id (exactly one).
    #[graphql(guard = "ScopeGuard(Scope::ReturnsWrite)")]
    async fn cancel_return(
        &self,
        ctx: &Context<'_>,
        tracking_number: Option<String>,
        external_id: Option<String>,
        idempotency_key: Option<String>,
    ) -> GqlResult<CancelReturnPayload> {
        let key = checked_key(ctx, idempotency_key)?;
        let request = match (&tracking_number, &external_id) {
            (Some(t), None) => pc::ReturnCancel {
                tracking_number: Some(required("trackingNumber", t)?),
                external_id: None,
            },
            (None, Some(e)) => pc::ReturnCancel {
                tracking_number: None,
                external_id: Some(required("externalId", e)?),
            },
            _ => {
                return Err(invalid_argument(
                    "trackingNumber",
                    "give exactly one of `trackingNumber` and `externalId`",
                ))
            }
        };
        let outcome = write_once(
            ctx,
            "cancelReturn",
            key,
            fingerprint(&request),
            Vendor::ProCarrier,
            |up| async move {
                let cancelled = up
                    .procarrier
                    .cancel_return(&request)
                    .await
                    .map_err(Arc::new)?
                    .result;
                let (field, value) = match (&cancelled.tracking_number, &request.tracking_number) {
                    (Some(t), _) | (None, Some(t)) => ("tracking", t.clone()),
                    _ => (
                        "externalId",
                        request.external_id.clone().unwrap_or_default(),
                    ),
                };
                // The new status, read back; the cancellation stands even if this read fails.
                let after = up
                    .procarrier
                    .get_return(&procarrier_lookup(&value, field))
                    .await
                    .ok();
                let mapped = after.as_ref().map(pc_map::map_return);
                Ok(CancelReturnPayload {
                    tracking_number: cancelled
                        .tracking_number
                        .or(request.tracking_number.clone()),
                    external_id: cancelled.external_id.or(request.external_id.clone()),
                    message: cancelled.message,
                    status: mapped.as_ref().map(|r| r.status.into()),
                    status_raw: mapped.map(|r| r.status_raw),
                })
            },
        )
        .await?;
        answer(&outcome)
    }

    /// Moves a MerchantPro order on; transitions a shop would refuse (shipping a cancelled
    /// order, say) are refused before the vendor is called.
    #[graphql(guard = "ScopeGuard(Scope::OrdersWrite)")]
    async fn set_order_status(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        status: OrderStatusChange,
        idempotency_key: Option<String>,
    ) -> GqlResult<OrderNode> {
        transition(
            ctx,
            "setOrderStatus",
            &order_id,
            status.transition(),
            idempotency_key,
        )
        .await
    }

    /// Issues the order's invoice (MerchantPro); refused for a cancelled order.
    #[graphql(guard = "ScopeGuard(Scope::OrdersWrite)")]
    async fn issue_invoice(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        idempotency_key: Option<String>,
    ) -> GqlResult<OrderNode> {
        transition(
            ctx,
            "issueInvoice",
            &order_id,
            mp::Transition::CreateInvoice,
            idempotency_key,
        )
        .await
    }

    /// Changes an order's shipping method and amount and its tags.
    #[graphql(guard = "ScopeGuard(Scope::OrdersWrite)")]
    async fn update_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        input: UpdateOrderInput,
        idempotency_key: Option<String>,
    ) -> GqlResult<OrderNode> {
        let id = parse_order_id(&order_id)?;
        let key = checked_key(ctx, idempotency_key)?;
        if input.shipping_method_id.is_none()
            && input.shipping_amount.is_none()
            && input.tags.is_none()
        {
            return Err(invalid_argument("input", "nothing to change"));
        }
        let shipping_method_id = match &input.shipping_method_id {
            Some(m) => Some(mp::Id(m.parse().map_err(|_| {
                invalid_argument(
                    "input.shippingMethodId",
                    format!("{:?} is not a shipping method id", m.as_str()),
                )
            })?)),
            None => None,
        };
        let shipping_amount = match &input.shipping_amount {
            Some(a) => Some(mp::Amount(decimal("input.shippingAmount", a)?)),
            None => None,
        };
        let tags = match &input.tags {
            Some(tags) => {
                let mut out = Vec::with_capacity(tags.len());
                for (i, t) in tags.iter().enumerate() {
                    out.push(mp::Tag {
                        id: None,
                        name: Some(required(&format!("input.tags[{i}]"), t)?),
                    });
                }
                Some(out)
            }
            None => None,
        };
        let change = mp::OrderUpdate {
            shipping_method_id,
            shipping_amount,
            tags,
            ..Default::default()
        };
        let outcome = write_once(
            ctx,
            "updateOrder",
            key,
            fingerprint(&(id, &input)),
            Vendor::MerchantPro,
            |up| async move {
                let order = up.merchantpro.update(id, &change).await.map_err(Arc::new)?;
                Ok(Arc::new(vendors::merchantpro::mapping::order(&order)))
            },
        )
        .await?;
        answer(&outcome).map(OrderNode)
    }

    /// Registers parcels with TrackRU, in batches of 40, with a result per parcel.
    #[graphql(guard = "ScopeGuard(Scope::TrackingWrite)")]
    async fn track_parcels(
        &self,
        ctx: &Context<'_>,
        parcels: Vec<TrackParcelInput>,
        idempotency_key: Option<String>,
    ) -> GqlResult<TrackParcelsPayload> {
        let key = checked_key(ctx, idempotency_key)?;
        if parcels.is_empty() || parcels.len() > 1000 {
            return Err(invalid_argument("parcels", "between 1 and 1000 parcels"));
        }
        let mut seen = std::collections::HashSet::new();
        let mut requests = Vec::with_capacity(parcels.len());
        for (i, p) in parcels.iter().enumerate() {
            let field = |name: &str| format!("parcels[{i}].{name}");
            let number = required(&field("trackingNumber"), &p.tracking_number)?;
            if !number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(invalid_argument(
                    &field("trackingNumber"),
                    "letters, digits and `-` only",
                ));
            }
            if !seen.insert(number.clone()) {
                return Err(invalid_argument(&field("trackingNumber"), "given twice"));
            }
            let carrier = required(&field("carrierCode"), &p.carrier_code)?.to_ascii_lowercase();
            let country = match &p.destination_country {
                Some(c) => Some(country_code(c).ok_or_else(|| {
                    invalid_argument(
                        &field("destinationCountry"),
                        format!("{c:?} is not an ISO-3166 alpha-2 code"),
                    )
                })?),
                None => None,
            };
            let email = match &p.customer_email {
                Some(e) => Some(normalize_email(e).ok_or_else(|| {
                    invalid_argument(
                        &field("customerEmail"),
                        format!("{e:?} is not an e-mail address"),
                    )
                })?),
                None => None,
            };
            let phone = match &p.customer_phone {
                Some(ph) => Some(normalize_phone(ph, country.as_deref()).ok_or_else(|| {
                    invalid_argument(
                        &field("customerPhone"),
                        format!("{ph:?} is not a phone number"),
                    )
                })?),
                None => None,
            };
            requests.push(tr::CreateTracking {
                tracking_number: number,
                carrier_code: Some(carrier),
                destination_code: country,
                title: p.title.clone(),
                customer_name: p.customer_name.clone(),
                customer_email: email,
                customer_phone: phone,
                order_id: p.order_reference.clone(),
                ..Default::default()
            });
        }
        let outcome = write_once(
            ctx,
            "trackParcels",
            key,
            fingerprint(&parcels),
            Vendor::TrackRu,
            |up| async move {
                let results: Vec<ParcelResult> = up
                    .trackru
                    .create_many(&requests)
                    .await
                    .into_iter()
                    .map(|r| {
                        let (outcome, code, reason) = match r.outcome {
                            BatchOutcome::Accepted => (ParcelOutcome::Accepted, None, None),
                            BatchOutcome::AlreadyExists => {
                                (ParcelOutcome::AlreadyTracked, None, None)
                            }
                            BatchOutcome::Rejected(e) => (
                                ParcelOutcome::Rejected,
                                Some(e.vendor_code),
                                Some(e.message),
                            ),
                            BatchOutcome::NotSent(e) => (
                                ParcelOutcome::NotSent,
                                Some(e.code().as_str().to_owned()),
                                Some(e.to_string()),
                            ),
                        };
                        ParcelResult {
                            tracking_number: r.tracking_number,
                            carrier_code: r.carrier_code,
                            outcome,
                            code,
                            reason,
                        }
                    })
                    .collect();
                let count = |o| results.iter().filter(|r| r.outcome == o).count();
                Ok(TrackParcelsPayload {
                    accepted: count(ParcelOutcome::Accepted),
                    already_tracked: count(ParcelOutcome::AlreadyTracked),
                    rejected: count(ParcelOutcome::Rejected),
                    not_sent: count(ParcelOutcome::NotSent),
                    results,
                })
            },
        )
        .await?;
        answer(&outcome)
    }

    /// Overrides a parcel's TrackRU status (delivered or exception), or reverts the override.
    #[graphql(guard = "ScopeGuard(Scope::TrackingWrite)")]
    async fn override_tracking_status(
        &self,
        ctx: &Context<'_>,
        carrier_code: String,
        tracking_number: String,
        status: TrackingOverride,
        idempotency_key: Option<String>,
    ) -> GqlResult<TrackingOverridePayload> {
        let key = checked_key(ctx, idempotency_key)?;
        let carrier = required("carrierCode", &carrier_code)?.to_ascii_lowercase();
        let number = required("trackingNumber", &tracking_number)?;
        let command = match status {
            TrackingOverride::Delivered => 4,
            TrackingOverride::Exception => 7,
            TrackingOverride::Revert => 8,
        };
        let input = (&carrier, &number, status);
        let outcome = write_once(
            ctx,
            "overrideTrackingStatus",
            key,
            fingerprint(&input),
            Vendor::TrackRu,
            |up| async move {
                let update = tr::UpdateTracking {
                    status: Some(command),
                    ..Default::default()
                };
                let tracking = up
                    .trackru
                    .update(&carrier, &number, &update)
                    .await
                    .map_err(Arc::new)?;
                let shipment = tr_map::shipment(&tracking);
                Ok(TrackingOverridePayload {
                    tracking_number: shipment.tracking_number,
                    carrier_code: carrier,
                    status: shipment.status.into(),
                    status_raw: shipment.status_raw,
                })
            },
        )
        .await?;
        answer(&outcome)
    }

    /// Records a tracking event on a ProCarrier return (`statusCode`: one of ProCarrier's
    /// documented codes, e.g. 20 received by carrier, 60 delivered to retailer).
    // The arguments are the schema's; an input object would only rename them.
    #[allow(clippy::too_many_arguments)]
    #[graphql(guard = "ScopeGuard(Scope::TrackingWrite)")]
    async fn add_tracking_event(
        &self,
        ctx: &Context<'_>,
        tracking_number: String,
        status_code: i32,
        at: DateTime<FixedOffset>,
        description: Option<String>,
        location: Option<EventLocationInput>,
        idempotency_key: Option<String>,
    ) -> GqlResult<TrackingEventPayload> {
        let key = checked_key(ctx, idempotency_key)?;
        let number = required("trackingNumber", &tracking_number)?;
        let status = pc_map::tracking_status(i64::from(status_code)).ok_or_else(|| {
            invalid_argument(
                "statusCode",
                format!("{status_code} is not a ProCarrier status code"),
            )
        })?;
        let location = match &location {
            Some(l) => Some(pc::EventLocation {
                country: match &l.country {
                    Some(c) => Some(country_code(c).ok_or_else(|| {
                        invalid_argument(
                            "location.country",
                            format!("{c:?} is not an ISO-3166 alpha-2 code"),
                        )
                    })?),
                    None => None,
                },
                state: l.state.clone(),
                city: l.city.clone(),
            }),
            None => None,
        };
        let request = pc::NewTrackingStatus {
            tracking_number: number.clone(),
            date: pc_map::format_filter_date(at),
            status: i64::from(status_code),
            description,
            location,
            ..Default::default()
        };
        let outcome = write_once(
            ctx,
            "addTrackingEvent",
            key,
            fingerprint(&request),
            Vendor::ProCarrier,
            |up| async move {
                up.procarrier
                    .add_tracking(&request)
                    .await
                    .map_err(Arc::new)?;
                Ok(TrackingEventPayload {
                    tracking_number: number,
                    status_code,
                    status: status.into(),
                    at,
                })
            },
        )
        .await?;
        answer(&outcome)
    }
}
