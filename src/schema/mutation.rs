//! The mutation root: ProCarrier returns and tracking events, MerchantPro order transitions,
//! updates and exchange orders, ProCarrier registrations of orders for returns, TrackRU
//! tracking registrations, overrides, live reads and deletes — thin resolvers over the service
//! layer, which validates input (errors name the field), runs each write once per idempotency
//! key and never retries it. Here: GraphQL's inputs and payloads, and the key's two sources.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};

use super::enums::{ReturnStatus, TrackingStatus};
use super::errors::{invalid_argument, reported, Answered, ScopeGuard};
use super::ids::{GlobalId, NodeKind};
use super::scalars::{Date, DateTime};
use super::types::{service, AddressValue, OrderNode, ReturnNode, ReturnsRegistration};
use super::types::{ShipmentNode, TrackingSnapshot};
use crate::auth::Scope;
use crate::service::{exchanges, live_tracking, orders, returns, tracking};
use vendors::model::Vendor;

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

fn order_id_of(id: &ID) -> GqlResult<u64> {
    GlobalId::decode(id)
        .filter(|g| g.kind == NodeKind::Order && g.vendor == Some(Vendor::MerchantPro))
        .and_then(|g| g.native.parse().ok())
        .ok_or_else(|| invalid_argument("orderId", "not the id of an order"))
}

// ---- Inputs ---------------------------------------------------------------------------------

#[derive(InputObject, Clone)]
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

#[derive(InputObject, Clone)]
pub struct ContactInput {
    name: String,
    company: Option<String>,
    email: String,
    /// With country code, or national for the address's country.
    phone: String,
}

#[derive(InputObject, Clone)]
pub struct ReturnReasonInput {
    /// e.g. `Refund`, `Exchange`.
    action: Option<String>,
    reason: String,
    wish: Option<String>,
}

#[derive(InputObject, Clone)]
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

#[derive(InputObject, Clone)]
pub struct CollectionInput {
    date: Date,
    /// `HH:MM`.
    time_from: String,
    /// `HH:MM`, after `timeFrom`.
    time_to: String,
}

#[derive(InputObject, Clone)]
pub struct DestinationInput {
    address: ReturnAddressInput,
    contact: ContactInput,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum LabelFormat {
    Pdf,
}

#[derive(InputObject, Clone)]
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

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum OrderStatusChange {
    InProcess,
    Shipped,
    Delivered,
    Returned,
    Cancelled,
}

#[derive(InputObject, Clone)]
pub struct UpdateOrderInput {
    shipping_method_id: Option<ID>,
    /// Decimal string at or above 0.
    shipping_amount: Option<String>,
    /// Replaces the order's tags (by name).
    tags: Option<Vec<String>>,
}

#[derive(InputObject, Clone)]
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

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TrackingOverride {
    /// Mark delivered (TrackRU status 4).
    Delivered,
    /// Mark as an exception (TrackRU status 7).
    Exception,
    /// Undo a manual override: back to the carrier's own status (TrackRU status 8).
    Revert,
}

#[derive(InputObject, Clone)]
pub struct EventLocationInput {
    country: Option<String>,
    state: Option<String>,
    city: Option<String>,
}

#[derive(InputObject, Clone)]
pub struct ExchangeLineInput {
    sku: String,
    /// The product's name on the order (default: the SKU).
    name: Option<String>,
    /// Above 0.
    quantity: i32,
    /// Unit price, a decimal string at or above 0, in the original order's currency; `0`
    /// when the returned goods pay for it.
    #[graphql(default_with = "\"0\".to_owned()")]
    unit_price: String,
}

/// Where and how an exchange ships; what is left out is taken from the original order.
#[derive(InputObject, Clone, Default)]
pub struct ExchangeShippingInput {
    method_id: Option<ID>,
    /// Decimal string at or above 0 (default `0`).
    amount: Option<String>,
    name: Option<String>,
    line1: Option<String>,
    city: Option<String>,
    postal_code: Option<String>,
    /// ISO-3166 alpha-2.
    country: Option<String>,
    phone: Option<String>,
}

// ---- Inputs as the service takes them ----------------------------------------------------------

impl From<ReturnAddressInput> for returns::ReturnAddress {
    fn from(a: ReturnAddressInput) -> Self {
        returns::ReturnAddress {
            country: a.country,
            state: a.state,
            city: a.city,
            postal_code: a.postal_code,
            line1: a.line1,
            line2: a.line2,
            line3: a.line3,
            neighborhood: a.neighborhood,
        }
    }
}

impl From<ContactInput> for returns::Contact {
    fn from(c: ContactInput) -> Self {
        returns::Contact {
            name: c.name,
            company: c.company,
            email: c.email,
            phone: c.phone,
        }
    }
}

impl From<CreateReturnInput> for returns::NewReturn {
    fn from(i: CreateReturnInput) -> Self {
        returns::NewReturn {
            address: i.address.into(),
            contact: i.contact.into(),
            service_id: i.service_id.0,
            order_reference: i.order_reference,
            external_id: i.external_id,
            display_id: i.display_id,
            currency: i.currency,
            products: i
                .products
                .into_iter()
                .map(|p| returns::ReturnProduct {
                    sku: p.sku,
                    description: p.description,
                    quantity: p.quantity,
                    price: p.price,
                    weight_kg: p.weight_kg,
                    reason: returns::ReturnReason {
                        action: p.reason.action,
                        reason: p.reason.reason,
                        wish: p.reason.wish,
                    },
                })
                .collect(),
            collection: i.collection.map(|c| returns::Collection {
                date: c.date.0,
                time_from: c.time_from,
                time_to: c.time_to,
            }),
            destination: i.destination.map(|d| returns::Destination {
                address: d.address.into(),
                contact: d.contact.into(),
            }),
        }
    }
}

impl From<OrderStatusChange> for orders::OrderStatusChange {
    fn from(s: OrderStatusChange) -> Self {
        match s {
            OrderStatusChange::InProcess => orders::OrderStatusChange::InProcess,
            OrderStatusChange::Shipped => orders::OrderStatusChange::Shipped,
            OrderStatusChange::Delivered => orders::OrderStatusChange::Delivered,
            OrderStatusChange::Returned => orders::OrderStatusChange::Returned,
            OrderStatusChange::Cancelled => orders::OrderStatusChange::Cancelled,
        }
    }
}

impl From<TrackParcelInput> for tracking::ParcelToTrack {
    fn from(p: TrackParcelInput) -> Self {
        tracking::ParcelToTrack {
            tracking_number: p.tracking_number,
            carrier_code: p.carrier_code,
            order_reference: p.order_reference,
            title: p.title,
            customer_name: p.customer_name,
            customer_email: p.customer_email,
            customer_phone: p.customer_phone,
            destination_country: p.destination_country,
        }
    }
}

impl From<TrackingOverride> for tracking::StatusOverride {
    fn from(o: TrackingOverride) -> Self {
        match o {
            TrackingOverride::Delivered => tracking::StatusOverride::Delivered,
            TrackingOverride::Exception => tracking::StatusOverride::Exception,
            TrackingOverride::Revert => tracking::StatusOverride::Revert,
        }
    }
}

// ---- Payloads ---------------------------------------------------------------------------------

/// A return label: the vendor's document, and a gateway URL that downloads it.
#[derive(SimpleObject, Clone)]
pub struct ReturnLabel {
    content_type: String,
    /// The document, base64.
    base64: String,
    /// `GET` it for the document itself.
    url: String,
}

pub struct CreateReturnPayload(returns::CreatedReturn);

#[Object]
impl CreateReturnPayload {
    async fn tracking_number(&self) -> &str {
        &self.0.tracking_number
    }
    /// Where the customer hands the parcel in, as the vendor wrote it.
    async fn first_mile_address(&self) -> Option<AddressValue> {
        self.0.first_mile_address.as_ref().map(AddressValue::from)
    }
    async fn secondary_barcodes(&self) -> &[String] {
        &self.0.secondary_barcodes
    }
    async fn label(&self) -> Option<ReturnLabel> {
        let label = self.0.label.as_ref()?;
        Some(ReturnLabel {
            content_type: label.content_type.clone(),
            base64: label.base64.clone(),
            url: format!("/labels/procarrier/{}", self.0.tracking_number),
        })
    }
    /// The new return as ProCarrier now lists it (null, with an error, if it could not be
    /// read back; the return was created all the same).
    async fn r#return(&self, ctx: &Context<'_>) -> Option<ReturnNode> {
        reported(ctx, self.0.record.clone()).map(ReturnNode::new)
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
#[graphql(remote = "tracking::ParcelOutcome")]
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
    at: DateTime,
}

/// An exchange order and the original it was raised against.
pub struct ExchangeOrderPayload(exchanges::CreatedExchange);

#[Object]
impl ExchangeOrderPayload {
    /// The new MerchantPro order (a return order, `returnSourceId` the original's).
    async fn order(&self) -> OrderNode {
        OrderNode::new(self.0.order.clone())
    }
    /// The original order, read back with the exchange among its `rmaOrders` (null if it
    /// could not be read back; the exchange stands).
    async fn original(&self) -> Option<OrderNode> {
        self.0.original.clone().map(OrderNode::new)
    }
}

/// A parcel's live read from its carrier (TrackRU `realtime`).
pub struct RefreshTrackingPayload(live_tracking::RefreshedTracking);

#[Object]
impl RefreshTrackingPayload {
    async fn tracking_number(&self) -> &str {
        &self.0.tracking_number
    }
    async fn carrier_code(&self) -> &str {
        &self.0.carrier_code
    }
    /// When the carrier was asked.
    async fn refreshed_at(&self) -> DateTime {
        DateTime(self.0.refreshed_at.fixed_offset())
    }
    /// The earliest TrackRU allows the next live read of this parcel (two hours on).
    async fn next_refresh_at(&self) -> DateTime {
        DateTime(self.0.next_refresh_at.fixed_offset())
    }
    /// This answer is the live read kept from `refreshedAt`: TrackRU was not called.
    async fn from_cache(&self) -> bool {
        self.0.from_cache
    }
    /// What the carrier said, as TrackRU answered it.
    async fn live(&self) -> TrackingSnapshot {
        TrackingSnapshot::from(&*self.0.shipment)
    }
    /// The parcel's merged tracking (ProCarrier and TrackRU) now.
    async fn tracking(&self, ctx: &Context<'_>) -> Option<ShipmentNode> {
        ShipmentNode::load(
            ctx,
            crate::service::loaders::ParcelKey::new(self.0.tracking_number.clone(), None),
        )
        .await
    }
}

#[derive(SimpleObject, Clone)]
pub struct UntrackParcelPayload {
    tracking_number: String,
    carrier_code: String,
    /// TrackRU no longer tracks the parcel.
    untracked: bool,
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
        let created = service(ctx)
            .create_return(&input.into(), key.as_deref())
            .await
            .answered()?;
        Ok(CreateReturnPayload(created))
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
        let which = match (tracking_number, external_id) {
            (Some(t), None) => returns::ReturnKey::TrackingNumber(t),
            (None, Some(e)) => returns::ReturnKey::ExternalId(e),
            _ => {
                return Err(invalid_argument(
                    "trackingNumber",
                    "give exactly one of `trackingNumber` and `externalId`",
                ))
            }
        };
        let c = service(ctx)
            .cancel_return(&which, key.as_deref())
            .await
            .answered()?;
        let (status, status_raw) = c
            .status
            .map_or((None, None), |(s, raw)| (Some(s), Some(raw)));
        Ok(CancelReturnPayload {
            tracking_number: c.tracking_number,
            external_id: c.external_id,
            message: c.message,
            status: status.map(Into::into),
            status_raw,
        })
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
        change_status(ctx, &order_id, status.into(), idempotency_key).await
    }

    /// Issues the order's invoice (MerchantPro); refused for a cancelled order.
    #[graphql(guard = "ScopeGuard(Scope::OrdersWrite)")]
    async fn issue_invoice(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        idempotency_key: Option<String>,
    ) -> GqlResult<OrderNode> {
        let change = orders::OrderStatusChange::IssueInvoice;
        change_status(ctx, &order_id, change, idempotency_key).await
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
        let id = order_id_of(&order_id)?;
        let key = checked_key(ctx, idempotency_key)?;
        let changes = orders::OrderChanges {
            shipping_method_id: input.shipping_method_id.map(|m| m.0),
            shipping_amount: input.shipping_amount,
            tags: input.tags,
        };
        let order = service(ctx)
            .update_order(id, &changes, key.as_deref())
            .await
            .answered()?;
        Ok(OrderNode::new(order))
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
        let parcels: Vec<tracking::ParcelToTrack> = parcels.into_iter().map(Into::into).collect();
        let tracked = service(ctx)
            .track_parcels(&parcels, key.as_deref())
            .await
            .answered()?;
        let count = |o| tracked.count(o);
        Ok(TrackParcelsPayload {
            accepted: count(tracking::ParcelOutcome::Accepted),
            already_tracked: count(tracking::ParcelOutcome::AlreadyTracked),
            rejected: count(tracking::ParcelOutcome::Rejected),
            not_sent: count(tracking::ParcelOutcome::NotSent),
            results: tracked
                .results
                .into_iter()
                .map(|r| ParcelResult {
                    tracking_number: r.tracking_number,
                    carrier_code: r.carrier_code,
                    outcome: r.outcome.into(),
                    code: r.code,
                    reason: r.reason,
                })
                .collect(),
        })
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
        let o = service(ctx)
            .override_tracking_status(
                &carrier_code,
                &tracking_number,
                status.into(),
                key.as_deref(),
            )
            .await
            .answered()?;
        Ok(TrackingOverridePayload {
            tracking_number: o.tracking_number,
            carrier_code: o.carrier_code,
            status: o.status.into(),
            status_raw: o.status_raw,
        })
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
        at: DateTime,
        description: Option<String>,
        location: Option<EventLocationInput>,
        idempotency_key: Option<String>,
    ) -> GqlResult<TrackingEventPayload> {
        let key = checked_key(ctx, idempotency_key)?;
        let event = tracking::NewTrackingEvent {
            tracking_number,
            status_code,
            at: at.0,
            description,
            location: location.map(|l| tracking::EventLocation {
                country: l.country,
                state: l.state,
                city: l.city,
            }),
        };
        let e = service(ctx)
            .add_tracking_event(&event, key.as_deref())
            .await
            .answered()?;
        Ok(TrackingEventPayload {
            tracking_number: e.tracking_number,
            status_code: e.status_code,
            status: e.status.into(),
            at: e.at.into(),
        })
    }

    /// Sends an exchange instead of a refund: a MerchantPro return order raised against the
    /// original order (`orderId`, or the shop order of `returnId`; exactly one), with the
    /// lines the customer gets, shipped to the original's address unless `shipping` says
    /// otherwise.
    #[graphql(guard = "ScopeGuard(Scope::OrdersWrite)")]
    async fn create_exchange_order(
        &self,
        ctx: &Context<'_>,
        return_id: Option<ID>,
        order_id: Option<ID>,
        lines: Vec<ExchangeLineInput>,
        shipping: Option<ExchangeShippingInput>,
        idempotency_key: Option<String>,
    ) -> GqlResult<ExchangeOrderPayload> {
        let key = checked_key(ctx, idempotency_key)?;
        let source = match (return_id, order_id) {
            (Some(r), None) => {
                let g = GlobalId::decode(&r)
                    .filter(|g| g.kind == NodeKind::Return)
                    .and_then(|g| Some((g.vendor?, g.native)))
                    .ok_or_else(|| invalid_argument("returnId", "not the id of a return"))?;
                exchanges::ExchangeSource::Return(g.0, g.1)
            }
            (None, Some(o)) => exchanges::ExchangeSource::Order(order_id_of(&o)?),
            _ => {
                return Err(invalid_argument(
                    "returnId",
                    "give exactly one of `returnId` and `orderId`",
                ))
            }
        };
        let input = exchanges::NewExchange {
            source,
            lines: lines
                .into_iter()
                .map(|l| exchanges::ExchangeLine {
                    sku: l.sku,
                    name: l.name,
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                })
                .collect(),
            shipping: shipping.map(|s| exchanges::ExchangeShipping {
                method_id: s.method_id.map(|m| m.0),
                amount: s.amount,
                name: s.name,
                line1: s.line1,
                city: s.city,
                postal_code: s.postal_code,
                country: s.country,
                phone: s.phone,
            }),
        };
        let created = service(ctx)
            .create_exchange_order(&input, key.as_deref())
            .await
            .answered()?;
        Ok(ExchangeOrderPayload(created))
    }

    /// Registers a shop order with ProCarrier (`orders/create`), so the customer can open a
    /// return for it in ProCarrier's portal.
    #[graphql(guard = "ScopeGuard(Scope::OrdersWrite)")]
    async fn register_order_for_returns(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        free_return: Option<bool>,
        idempotency_key: Option<String>,
    ) -> GqlResult<ReturnsRegistration> {
        let id = order_id_of(&order_id)?;
        let key = checked_key(ctx, idempotency_key)?;
        let r = service(ctx)
            .register_order_for_returns(id, free_return, key.as_deref())
            .await
            .answered()?;
        Ok(r.into())
    }

    /// Sends a registered order as the shop has it now to ProCarrier (`orders/update`).
    #[graphql(guard = "ScopeGuard(Scope::OrdersWrite)")]
    async fn update_registered_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        free_return: Option<bool>,
        idempotency_key: Option<String>,
    ) -> GqlResult<ReturnsRegistration> {
        let id = order_id_of(&order_id)?;
        let key = checked_key(ctx, idempotency_key)?;
        let r = service(ctx)
            .update_registered_order(id, free_return, key.as_deref())
            .await
            .answered()?;
        Ok(r.into())
    }

    /// Takes a shop order back from ProCarrier (`orders/delete`): no new returns for it there.
    #[graphql(guard = "ScopeGuard(Scope::OrdersWrite)")]
    async fn unregister_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        idempotency_key: Option<String>,
    ) -> GqlResult<ReturnsRegistration> {
        let id = order_id_of(&order_id)?;
        let key = checked_key(ctx, idempotency_key)?;
        let r = service(ctx)
            .unregister_order(id, key.as_deref())
            .await
            .answered()?;
        Ok(r.into())
    }

    /// Asks the carrier live for a parcel (TrackRU `realtime`). TrackRU allows this once per
    /// parcel per two hours: inside that window the last live read is answered
    /// (`fromCache`), without a vendor call, with `nextRefreshAt`. `carrierCode` defaults to
    /// the one TrackRU tracks the parcel with.
    #[graphql(guard = "ScopeGuard(Scope::TrackingWrite)")]
    async fn refresh_tracking(
        &self,
        ctx: &Context<'_>,
        tracking_number: String,
        carrier_code: Option<String>,
        idempotency_key: Option<String>,
    ) -> GqlResult<RefreshTrackingPayload> {
        let key = checked_key(ctx, idempotency_key)?;
        let r = service(ctx)
            .refresh_tracking(&tracking_number, carrier_code.as_deref(), key.as_deref())
            .await
            .answered()?;
        Ok(RefreshTrackingPayload(r))
    }

    /// Stops tracking a parcel at TrackRU (a cancelled shipment, say) and drops it from the
    /// gateway's tracking.
    #[graphql(guard = "ScopeGuard(Scope::TrackingWrite)")]
    async fn untrack_parcel(
        &self,
        ctx: &Context<'_>,
        carrier_code: String,
        tracking_number: String,
        idempotency_key: Option<String>,
    ) -> GqlResult<UntrackParcelPayload> {
        let key = checked_key(ctx, idempotency_key)?;
        let u = service(ctx)
            .untrack_parcel(&carrier_code, &tracking_number, key.as_deref())
            .await
            .answered()?;
        Ok(UntrackParcelPayload {
            tracking_number: u.tracking_number,
            carrier_code: u.carrier_code,
            untracked: true,
        })
    }
}

/// `setOrderStatus` and `issueInvoice`.
async fn change_status(
    ctx: &Context<'_>,
    order: &ID,
    change: orders::OrderStatusChange,
    key: Option<String>,
) -> GqlResult<OrderNode> {
    let id = order_id_of(order)?;
    let key = checked_key(ctx, key)?;
    let order = service(ctx)
        .change_order_status(id, change, key.as_deref())
        .await
        .answered()?;
    Ok(OrderNode::new(order))
}
