//! GraphQL objects over the unified model. Vendor-fed cross-links (`Return.order`,
//! `Return.tracking`, …) are nullable and resolve lazily through the request's loaders; lists
//! are never null, so one vendor's failure cannot null a whole list.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use async_graphql::{ComplexObject, Context, Interface, Object, SimpleObject, ID};
use chrono::NaiveTime;
use tokio::sync::OnceCell;

use super::enums::{PaymentStatus, RefundStatus, ReturnStatus, TrackingStatus, Vendor, Weekday};
use super::errors::{caller, permitted, report_all, report_partial, reported};
use super::ids::{GlobalId, NodeKind};
use super::scalars::DateTime;
use crate::auth::Scope;
use crate::service::customers::{
    Activity, ContactKey, CustomerAnswer, Identity, IdentityLookup, LinkedIdentity,
};
use crate::service::loaders::{Loaders, MergedShipment, ParcelKey};
use crate::service::places::NearbyPoint;
use crate::service::Service;
use vendors::model;

/// The tenant's service (every request carries it; the HTTP layer adds it).
pub(crate) fn service<'a>(ctx: &Context<'a>) -> &'a Service {
    ctx.data_unchecked::<Arc<Service>>()
}

pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}

/// An object with a global id: `node(id)` finds it again.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque, stable global id."))]
pub enum Node {
    Return(ReturnNode),
    Order(OrderNode),
    Shipment(ShipmentNode),
    Customer(Box<CustomerNode>),
}

/// An exact amount: a decimal string (never a float) in an ISO-4217 currency.
pub struct MoneyValue(pub model::Money);

#[Object(name = "Money")]
impl MoneyValue {
    /// Decimal string with the currency's ISO-4217 minor units, e.g. `"275.11"`, `"120.50"`
    /// (EUR), `"240"` (JPY), `"1.500"` (KWD); more digits only when the vendor sent them
    /// (`"0.125"`), never rounded.
    async fn amount(&self) -> String {
        self.0.amount_text()
    }
    /// ISO-4217, upper-case.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
}

fn money(m: &Option<model::Money>) -> Option<MoneyValue> {
    m.clone().map(MoneyValue)
}

#[derive(SimpleObject)]
#[graphql(name = "Address")]
pub struct AddressValue {
    name: Option<String>,
    company: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
    line3: Option<String>,
    neighborhood: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    /// ISO-3166 alpha-2.
    country: Option<String>,
}

impl From<&model::Address> for AddressValue {
    fn from(a: &model::Address) -> Self {
        AddressValue {
            name: a.name.clone(),
            company: a.company.clone(),
            line1: a.line1.clone(),
            line2: a.line2.clone(),
            line3: a.line3.clone(),
            neighborhood: a.neighborhood.clone(),
            city: a.city.clone(),
            state: a.state.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
        }
    }
}

/// Why an item goes back.
#[derive(SimpleObject)]
#[graphql(name = "ReturnReason")]
pub struct ReturnReasonValue {
    /// ProCarrier `Action` (`Exchange`, `Refund`, …).
    action: Option<String>,
    reason: Option<String>,
    wish: Option<String>,
    additional_title: Option<String>,
    additional_value: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(name = "ReturnItem")]
pub struct ReturnItemValue {
    id: Option<String>,
    sku: Option<String>,
    name: Option<String>,
    quantity: u32,
    unit_price: Option<MoneyValue>,
    /// The same price in the seller's currency, where the vendor gives both (RRR).
    unit_price_seller: Option<MoneyValue>,
    returnable_amount: Option<MoneyValue>,
    returnable_amount_seller: Option<MoneyValue>,
    /// Per cent, as a decimal string.
    vat_rate: Option<String>,
    reason: Option<ReturnReasonValue>,
}

impl From<&model::ReturnItem> for ReturnItemValue {
    fn from(i: &model::ReturnItem) -> Self {
        ReturnItemValue {
            id: i.id.clone(),
            sku: i.sku.clone(),
            name: i.name.clone(),
            quantity: i.quantity,
            unit_price: money(&i.unit_price),
            unit_price_seller: money(&i.unit_price_seller),
            returnable_amount: money(&i.returnable_amount),
            returnable_amount_seller: money(&i.returnable_amount_seller),
            vat_rate: i.vat_rate.map(|d| d.to_string()),
            reason: i.reason.as_ref().map(|r| ReturnReasonValue {
                action: r.action.clone(),
                reason: r.reason.clone(),
                wish: r.wish.clone(),
                additional_title: r.additional_title.clone(),
                additional_value: r.additional_value.clone(),
            }),
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Refund")]
pub struct RefundValue {
    vendor: Vendor,
    vendor_id: String,
    status: RefundStatus,
    /// The vendor's own status code, as sent.
    status_raw: String,
    amount: Option<MoneyValue>,
    /// The amount in the seller's currency (RRR gives both; never converted by us).
    amount_seller: Option<MoneyValue>,
    created_at: Option<DateTime>,
    paid_at: Option<DateTime>,
    invoice_number: Option<String>,
    invoice_url: Option<String>,
}

impl From<&model::Refund> for RefundValue {
    fn from(f: &model::Refund) -> Self {
        RefundValue {
            vendor: f.vendor.into(),
            vendor_id: f.id.clone(),
            status: f.status.into(),
            status_raw: f.status_raw.clone(),
            amount: money(&f.amount),
            amount_seller: money(&f.amount_seller),
            created_at: f.created_at.map(DateTime),
            paid_at: f.paid_at.map(DateTime),
            invoice_number: f.invoice_number.clone(),
            invoice_url: f.invoice_url.clone(),
        }
    }
}

/// A return, from ProCarrier (return labels), RRR (marketplace returns) or V-Track (parcels
/// refused or not collected, returned to sender).
#[derive(SimpleObject)]
#[graphql(name = "Return", complex)]
pub struct ReturnNode {
    #[graphql(skip)]
    record: Arc<model::Return>,
    // Owned: the `Node` interface's `id` is an `ID` by value.
    #[graphql(owned)]
    id: ID,
    vendor: Vendor,
    /// The vendor's own id (ProCarrier `Id`, RRR `id`, V-Track voucher).
    vendor_id: String,
    display_id: Option<String>,
    /// The shop order's channel reference (MerchantPro `channel_ref_id`), which `order`
    /// resolves.
    order_reference: Option<String>,
    /// The marketplace's own order number (RRR `order_id`): not a shop order id nor a channel
    /// reference, so it links to no shop order.
    marketplace_order_id: Option<String>,
    tracking_number: Option<String>,
    status: ReturnStatus,
    /// The vendor's own status code, as sent.
    status_raw: String,
    tracking_status: Option<TrackingStatus>,
    tracking_status_raw: Option<String>,
    created_at: Option<DateTime>,
    updated_at: Option<DateTime>,
    /// The recipient refused the parcel (V-Track).
    refused: bool,
    carrier: Option<String>,
    service_id: Option<String>,
    /// The reasons given, one per item that has one, without repeats.
    reasons: Vec<String>,
    total: Option<MoneyValue>,
    total_seller: Option<MoneyValue>,
    shipping: Option<MoneyValue>,
    shipping_seller: Option<MoneyValue>,
    items: Vec<ReturnItemValue>,
    refunds: Vec<RefundValue>,
    first_mile_address: Option<String>,
    secondary_barcodes: Vec<String>,
    invoice_id: Option<String>,
}

impl ReturnNode {
    pub fn new(r: Arc<model::Return>) -> Self {
        let mut reasons: Vec<String> = Vec::new();
        for reason in r
            .items
            .iter()
            .filter_map(|i| i.reason.as_ref()?.reason.clone())
        {
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        ReturnNode {
            id: GlobalId::new(NodeKind::Return, Some(r.vendor), &r.id)
                .encode()
                .into(),
            vendor: r.vendor.into(),
            vendor_id: r.id.clone(),
            display_id: r.display_id.clone(),
            order_reference: r.order_reference.clone(),
            marketplace_order_id: r.marketplace_order_id.clone(),
            tracking_number: r.tracking_number.clone(),
            status: r.status.into(),
            status_raw: r.status_raw.clone(),
            tracking_status: r.tracking_status.map(Into::into),
            tracking_status_raw: r.tracking_status_raw.clone(),
            created_at: r.created_at.map(DateTime),
            updated_at: r.updated_at.map(DateTime),
            refused: r.refused,
            carrier: r.carrier.clone(),
            service_id: r.service_id.clone(),
            reasons,
            total: money(&r.total),
            total_seller: money(&r.total_seller),
            shipping: money(&r.shipping),
            shipping_seller: money(&r.shipping_seller),
            items: r.items.iter().map(ReturnItemValue::from).collect(),
            refunds: r.refunds.iter().map(RefundValue::from).collect(),
            first_mile_address: r.first_mile_address.clone(),
            secondary_barcodes: r.secondary_barcodes.clone(),
            invoice_id: r.invoice_id.clone(),
            record: r,
        }
    }
}

#[ComplexObject]
impl ReturnNode {
    /// Without the `pii:read` scope only city, state and country are shown.
    async fn address(&self, ctx: &Context<'_>) -> Option<AddressValue> {
        self.record.address.as_ref().map(|a| address(ctx, a))
    }
    /// The customer as this return names them; their activity across all vendors resolves
    /// lazily by normalised e-mail or phone.
    async fn customer(&self) -> Option<CustomerNode> {
        let contact = self.record.customer.clone()?;
        CustomerNode::from_contact(contact)
    }
    /// The shop order (MerchantPro) this return belongs to, by its `orderReference`. Null
    /// without one (an RRR return has only its marketplace's order number), when MerchantPro
    /// does not know it, or when it cannot be reached (then with an error).
    async fn order(&self, ctx: &Context<'_>) -> Option<OrderNode> {
        let reference = self.record.order_reference.clone()?;
        if !permitted(ctx, Scope::OrdersRead) {
            return None;
        }
        reported(ctx, loaders(ctx).order(reference).await)
            .flatten()
            .map(OrderNode::new)
    }
    /// The parcel's tracking, merged from ProCarrier and TrackRU.
    async fn tracking(&self, ctx: &Context<'_>) -> Option<ShipmentNode> {
        let number = self.record.tracking_number.clone()?;
        if !permitted(ctx, Scope::TrackingRead) {
            return None;
        }
        ShipmentNode::load(ctx, ParcelKey::new(number, self.record.created_at)).await
    }
    /// The shop's return (RMA) orders of this return's order: exchanges sent instead of a
    /// refund (`createExchangeOrder`, tagged `exchange`) and the shop's own return orders.
    async fn rma_orders(&self, ctx: &Context<'_>) -> Vec<OrderNode> {
        let Some(reference) = self.record.order_reference.clone() else {
            return Vec::new();
        };
        if !permitted(ctx, Scope::OrdersRead) {
            return Vec::new();
        }
        let Some(order) = reported(ctx, loaders(ctx).order(reference).await).flatten() else {
            return Vec::new();
        };
        rma_orders_of(ctx, &order).await
    }
}

/// The RMA orders of `order`, failures reported.
async fn rma_orders_of(ctx: &Context<'_>, order: &model::Order) -> Vec<OrderNode> {
    if order.rma_order_ids.is_empty() {
        return Vec::new();
    }
    reported(ctx, service(ctx).rma_orders(order).await)
        .unwrap_or_default()
        .into_iter()
        .map(OrderNode::new)
        .collect()
}

/// One vendor's word on a parcel at one moment (e.g. a live read).
#[derive(SimpleObject)]
pub struct TrackingSnapshot {
    vendor: Vendor,
    status: TrackingStatus,
    status_raw: String,
    carrier: Option<String>,
    updated_at: Option<DateTime>,
    event_count: usize,
    last_event_at: Option<DateTime>,
    last_event_description: Option<String>,
}

impl From<&model::Shipment> for TrackingSnapshot {
    fn from(s: &model::Shipment) -> Self {
        let last = s.events.iter().max_by_key(|e| e.at);
        TrackingSnapshot {
            vendor: s.vendor.into(),
            status: s.status.into(),
            status_raw: s.status_raw.clone(),
            carrier: s.carrier.clone(),
            updated_at: s.updated_at.map(DateTime),
            event_count: s.events.len(),
            last_event_at: last.map(|e| DateTime(e.at)),
            last_event_description: last.and_then(|e| e.description.clone()),
        }
    }
}

/// How ProCarrier holds a shop order for returns (`registerOrderForReturns`).
#[derive(SimpleObject)]
pub struct ReturnsRegistration {
    /// ProCarrier knows the order: the customer can open a return in its portal.
    pub registered: bool,
    /// The reference ProCarrier knows the order by (its channel reference).
    pub reference: String,
    /// ProCarrier's id of the order, when a write answered it.
    pub procarrier_order_id: Option<String>,
    pub rma: Option<String>,
    pub free_return: Option<bool>,
    /// Products ProCarrier holds for the order.
    pub products: usize,
    /// The vendor's message, when a write answered one.
    pub message: Option<String>,
}

impl From<crate::service::registrations::Registration> for ReturnsRegistration {
    fn from(r: crate::service::registrations::Registration) -> Self {
        ReturnsRegistration {
            registered: r.registered,
            reference: r.reference,
            procarrier_order_id: r.procarrier_order_id,
            rma: r.rma,
            free_return: r.free_return,
            products: r.products,
            message: r.message,
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "OrderLine")]
pub struct OrderLineValue {
    id: Option<String>,
    sku: Option<String>,
    name: Option<String>,
    /// Decimal string.
    quantity: String,
    unit_price: Option<MoneyValue>,
    total: Option<MoneyValue>,
}

impl From<&model::OrderLine> for OrderLineValue {
    fn from(l: &model::OrderLine) -> Self {
        OrderLineValue {
            id: l.id.clone(),
            sku: l.sku.clone(),
            name: l.name.clone(),
            quantity: l.quantity.to_string(),
            unit_price: money(&l.unit_price),
            total: money(&l.total),
        }
    }
}

/// A shop order (MerchantPro).
#[derive(SimpleObject)]
#[graphql(name = "Order", complex)]
pub struct OrderNode {
    #[graphql(skip)]
    record: Arc<model::Order>,
    #[graphql(owned)]
    id: ID,
    vendor: Vendor,
    vendor_id: String,
    /// The sales channel's order id (`channel_ref_id`), which other vendors reference.
    reference: Option<String>,
    created_at: Option<DateTime>,
    updated_at: Option<DateTime>,
    payment_status: PaymentStatus,
    payment_status_raw: String,
    shipping_status: TrackingStatus,
    shipping_status_raw: String,
    lines: Vec<OrderLineValue>,
    total: Option<MoneyValue>,
    shipping_total: Option<MoneyValue>,
    tracking_number: Option<String>,
    shipping_method: Option<String>,
    /// For a return (RMA) order: the MerchantPro id of the order it returns.
    return_source_id: Option<String>,
    rma_order_ids: Vec<String>,
    tags: Vec<String>,
}

impl OrderNode {
    pub fn new(o: Arc<model::Order>) -> Self {
        OrderNode {
            id: GlobalId::new(NodeKind::Order, Some(o.vendor), &o.id)
                .encode()
                .into(),
            vendor: o.vendor.into(),
            vendor_id: o.id.clone(),
            reference: o.reference.clone(),
            created_at: o.created_at.map(DateTime),
            updated_at: o.updated_at.map(DateTime),
            payment_status: o.payment_status.into(),
            payment_status_raw: o.payment_status_raw.clone(),
            shipping_status: o.shipping_status.into(),
            shipping_status_raw: o.shipping_status_raw.clone(),
            lines: o.lines.iter().map(OrderLineValue::from).collect(),
            total: money(&o.total),
            shipping_total: money(&o.shipping_total),
            tracking_number: o.tracking_number.clone(),
            shipping_method: o.shipping_method.clone(),
            return_source_id: o.return_source_id.clone(),
            rma_order_ids: o.rma_order_ids.clone(),
            tags: o.tags.clone(),
            record: o,
        }
    }
}

#[ComplexObject]
impl OrderNode {
    async fn customer(&self) -> Option<CustomerNode> {
        CustomerNode::from_contact(self.record.customer.clone()?)
    }
    /// Without the `pii:read` scope only city, state and country are shown.
    async fn billing_address(&self, ctx: &Context<'_>) -> Option<AddressValue> {
        self.record
            .billing_address
            .as_ref()
            .map(|a| address(ctx, a))
    }
    /// Without the `pii:read` scope only city, state and country are shown.
    async fn shipping_address(&self, ctx: &Context<'_>) -> Option<AddressValue> {
        self.record
            .shipping_address
            .as_ref()
            .map(|a| address(ctx, a))
    }
    /// Returns of this order at any vendor, by its channel reference.
    async fn returns(&self, ctx: &Context<'_>) -> Vec<ReturnNode> {
        let Some(reference) = self.record.reference.as_deref() else {
            return Vec::new();
        };
        let found = service(ctx).returns_of_order(reference).await;
        report_all(ctx, &found.failures);
        found.items.into_iter().map(ReturnNode::new).collect()
    }
    /// The outbound parcel's tracking.
    async fn tracking(&self, ctx: &Context<'_>) -> Option<ShipmentNode> {
        let number = self.record.tracking_number.clone()?;
        if !permitted(ctx, Scope::TrackingRead) {
            return None;
        }
        ShipmentNode::load(ctx, ParcelKey::new(number, self.record.created_at)).await
    }
    /// The return (RMA) orders raised against this order (`rmaOrderIds`), exchanges among
    /// them (tagged `exchange`).
    async fn rma_orders(&self, ctx: &Context<'_>) -> Vec<OrderNode> {
        rma_orders_of(ctx, &self.record).await
    }
    /// Whether ProCarrier holds this order for returns (its `orders/get` by the order's
    /// reference, cached like other vendor reads; a registration write drops it). Not
    /// registered without a reference; null, with an error, when ProCarrier cannot answer.
    async fn returns_registration(&self, ctx: &Context<'_>) -> Option<ReturnsRegistration> {
        let Some(reference) = self.record.reference.as_deref() else {
            return Some(ReturnsRegistration {
                registered: false,
                reference: String::new(),
                procarrier_order_id: None,
                rma: None,
                free_return: None,
                products: 0,
                message: None,
            });
        };
        reported(ctx, service(ctx).registration(reference).await).map(Into::into)
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Location")]
pub struct LocationValue {
    country: Option<String>,
    state: Option<String>,
    city: Option<String>,
    /// Free text, when the vendor gives no structure.
    text: Option<String>,
}

/// An event inside its vendor's shipment (shared with the cache, not copied).
pub struct TrackingEventValue(Arc<model::Shipment>, usize);

impl std::ops::Deref for TrackingEventValue {
    type Target = model::TrackingEvent;
    fn deref(&self) -> &model::TrackingEvent {
        &self.0.events[self.1]
    }
}

#[Object(name = "TrackingEvent")]
impl TrackingEventValue {
    async fn vendor(&self) -> Vendor {
        self.vendor.into()
    }
    async fn at(&self) -> DateTime {
        DateTime(self.at)
    }
    async fn status(&self) -> TrackingStatus {
        self.status.into()
    }
    async fn status_raw(&self) -> &str {
        &self.status_raw
    }
    async fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    async fn location(&self) -> Option<LocationValue> {
        self.location.as_ref().map(|l| LocationValue {
            country: l.country.clone(),
            state: l.state.clone(),
            city: l.city.clone(),
            text: l.text.clone(),
        })
    }
}

/// A parcel as the tracking vendors know it (ProCarrier and TrackRU), events merged in time
/// order.
pub struct ShipmentNode(pub Arc<MergedShipment>);

impl ShipmentNode {
    /// Loads through the request's loader; reports any vendor that failed and answers with
    /// what the others gave. `None` when no vendor knows the parcel.
    pub(crate) async fn load(ctx: &Context<'_>, parcel: ParcelKey) -> Option<ShipmentNode> {
        let merged = loaders(ctx).shipment(parcel).await;
        for e in &merged.failures {
            report_partial(ctx, e);
        }
        merged.found().then(|| ShipmentNode(merged))
    }
}

#[Object(name = "Shipment")]
impl ShipmentNode {
    async fn id(&self) -> ID {
        GlobalId::new(NodeKind::Shipment, None, &self.0.tracking_number)
            .encode()
            .into()
    }
    async fn tracking_number(&self) -> &str {
        &self.0.tracking_number
    }
    /// The vendors that know this parcel.
    async fn sources(&self) -> Vec<Vendor> {
        self.0.parts.iter().map(|p| p.vendor.into()).collect()
    }
    async fn carrier(&self) -> Option<String> {
        self.0.first(|p| p.carrier.clone())
    }
    /// The latest event's status (or the vendor's own status when it sent no events).
    async fn status(&self) -> Option<TrackingStatus> {
        self.0.status().map(|(s, _, _)| s.into())
    }
    async fn status_raw(&self) -> Option<String> {
        self.0.status().map(|(_, raw, _)| raw.to_owned())
    }
    /// Which vendor the status comes from.
    async fn status_vendor(&self) -> Option<Vendor> {
        self.0.status().map(|(_, _, v)| v.into())
    }
    async fn order_reference(&self) -> Option<String> {
        self.0.first(|p| p.order_reference.clone())
    }
    async fn destination_country(&self) -> Option<String> {
        self.0.first(|p| p.destination_country.clone())
    }
    async fn created_at(&self) -> Option<DateTime> {
        self.0
            .parts
            .iter()
            .filter_map(|p| p.created_at)
            .min()
            .map(DateTime)
    }
    async fn updated_at(&self) -> Option<DateTime> {
        self.0
            .parts
            .iter()
            .filter_map(|p| p.updated_at)
            .max()
            .map(DateTime)
    }
    /// Every vendor's events, oldest first.
    async fn events(&self) -> Vec<TrackingEventValue> {
        self.0
            .events()
            .map(|(shipment, i)| TrackingEventValue(shipment.clone(), i))
            .collect()
    }
}

/// A parcel delivered to the customer (V-Track).
#[derive(SimpleObject)]
#[graphql(name = "Delivery")]
pub struct DeliveryValue {
    vendor: Vendor,
    tracking_number: String,
    order_reference: Option<String>,
    invoice_id: Option<String>,
    finalized_at: Option<DateTime>,
    delivered_at: Option<DateTime>,
}

impl From<&model::Delivery> for DeliveryValue {
    fn from(d: &model::Delivery) -> Self {
        DeliveryValue {
            vendor: d.vendor.into(),
            tracking_number: d.tracking_number.clone(),
            order_reference: d.order_reference.clone(),
            invoice_id: d.invoice_id.clone(),
            finalized_at: d.finalized_at.map(DateTime),
            delivered_at: d.delivered_at.map(DateTime),
        }
    }
}

/// One person across all five vendors: the e-mails (lower-case) and phones (E.164) that vendor
/// records link to each other, and every record naming one of them.
pub struct CustomerNode {
    /// The key it was reached by: the one asked, or the naming record's.
    key: ContactKey,
    /// Name, e-mail and phone as shown: the naming record's, or the fullest of their activity.
    contact: model::Customer,
    lookup: OnceCell<IdentityLookup>,
    activity: OnceLock<Arc<Activity>>,
    failures_reported: AtomicBool,
}

impl CustomerNode {
    pub(crate) fn from_contact(contact: model::Customer) -> Option<CustomerNode> {
        Some(CustomerNode {
            key: ContactKey::of(&contact)?,
            contact,
            lookup: OnceCell::new(),
            activity: OnceLock::new(),
            failures_reported: AtomicBool::new(false),
        })
    }

    /// The customer a lookup found (`None` when no record names them), with the vendors'
    /// failures reported here.
    pub(crate) fn answered(ctx: &Context<'_>, (found, failures): CustomerAnswer) -> Option<Self> {
        report_all(ctx, &failures);
        let found = found?;
        Some(CustomerNode {
            key: found.key,
            contact: found.activity.contact().unwrap_or_default(),
            lookup: OnceCell::new_with(Some(found.lookup)),
            activity: OnceLock::from(found.activity),
            failures_reported: AtomicBool::new(true),
        })
    }

    async fn lookup(&self, ctx: &Context<'_>) -> &IdentityLookup {
        let lookup = self
            .lookup
            .get_or_init(|| async {
                loaders(ctx)
                    .identity(self.key.clone())
                    .await
                    .unwrap_or_else(|e| {
                        index_failed(ctx, e);
                        IdentityLookup::nothing(&self.key)
                    })
            })
            .await;
        self.report_failures(ctx, &lookup.failures);
        lookup
    }

    /// Their identity: the full lookup's when it was made, else the contact links alone (a
    /// person's records are not read for their `id`).
    async fn identity(&self, ctx: &Context<'_>) -> Arc<Identity> {
        if let Some(lookup) = self.lookup.get() {
            return lookup.identity.clone();
        }
        let linked = loaders(ctx)
            .linked_identity(self.key.clone())
            .await
            .unwrap_or_else(|e| {
                index_failed(ctx, e);
                LinkedIdentity::nothing(&self.key)
            });
        self.report_failures(ctx, &linked.failures);
        linked.identity
    }

    /// Failures are reported once per customer, by the first field that reads them.
    fn report_failures(&self, ctx: &Context<'_>, failures: &[Arc<vendors::VendorError>]) {
        if !failures.is_empty() && !self.failures_reported.swap(true, Ordering::Relaxed) {
            for e in failures {
                report_partial(ctx, e);
            }
        }
    }

    async fn activity(&self, ctx: &Context<'_>) -> &Arc<Activity> {
        let lookup = self.lookup(ctx).await;
        self.activity.get_or_init(|| lookup.activity.clone())
    }
}

/// The index failed: the fields answer as for a person it holds nothing about, and the
/// response says why.
fn index_failed(ctx: &Context<'_>, e: crate::service::ServiceError) {
    ctx.add_error(
        ctx.set_error_path(super::errors::service_error(e).into_server_error(ctx.item.pos)),
    );
}

#[Object(name = "Customer")]
impl CustomerNode {
    // The same whichever of their e-mails or phones found them: the digest of the identity's
    // canonical key (`Identity::canonical`), never a key itself (ids are plain base64).
    async fn id(&self, ctx: &Context<'_>) -> ID {
        let identity = self.identity(ctx).await;
        GlobalId::new(NodeKind::Customer, None, identity.canonical().digest())
            .encode()
            .into()
    }
    async fn name(&self) -> Option<&str> {
        self.contact.name.as_deref()
    }
    /// Trimmed, lower-case.
    ///
    /// Without the `pii:read` scope it is masked: the first character of the local part, `***`,
    /// and the domain (`m***@example.gr`).
    async fn email(&self, ctx: &Context<'_>) -> Option<String> {
        let email = self.contact.email.as_deref()?;
        Some(if pii(ctx) {
            email.to_owned()
        } else {
            mask_email(email)
        })
    }
    /// E.164.
    ///
    /// Without the `pii:read` scope it is masked: `+`, the first two digits, `*` for the rest
    /// but the last two (`+30********67`).
    async fn phone(&self, ctx: &Context<'_>) -> Option<String> {
        let phone = self.contact.phone.as_deref()?;
        Some(if pii(ctx) {
            phone.to_owned()
        } else {
            mask_phone(phone)
        })
    }
    /// Their returns at every vendor, newest first (refusals included).
    async fn returns(&self, ctx: &Context<'_>) -> Vec<ReturnNode> {
        self.activity(ctx)
            .await
            .returns
            .iter()
            .cloned()
            .map(ReturnNode::new)
            .collect()
    }
    /// Parcels they refused (V-Track).
    async fn refusals(&self, ctx: &Context<'_>) -> Vec<ReturnNode> {
        let a = self.activity(ctx).await;
        a.returns
            .iter()
            .filter(|r| r.refused)
            .cloned()
            .map(ReturnNode::new)
            .collect()
    }
    /// Their shop orders (MerchantPro), newest first.
    async fn orders(&self, ctx: &Context<'_>) -> Vec<OrderNode> {
        if !permitted(ctx, Scope::OrdersRead) {
            return Vec::new();
        }
        self.activity(ctx)
            .await
            .orders
            .iter()
            .cloned()
            .map(OrderNode::new)
            .collect()
    }
    /// Parcels delivered to them (V-Track).
    async fn deliveries(&self, ctx: &Context<'_>) -> Vec<DeliveryValue> {
        self.activity(ctx)
            .await
            .deliveries
            .iter()
            .map(|d| DeliveryValue::from(d.as_ref()))
            .collect()
    }
    /// Refunds of their returns.
    async fn refunds(&self, ctx: &Context<'_>) -> Vec<RefundValue> {
        let a = self.activity(ctx).await;
        a.returns
            .iter()
            .flat_map(|r| r.refunds.iter())
            .map(RefundValue::from)
            .collect()
    }
    /// Returns per shop order, 0 to 1 and beyond (several returns of one order count each).
    /// Null when they have no order.
    async fn return_rate(&self, ctx: &Context<'_>) -> Option<f64> {
        let a = self.activity(ctx).await;
        let returns = a
            .returns
            .iter()
            .filter(|r| r.vendor != model::Vendor::VTrack)
            .count();
        (!a.orders.is_empty()).then(|| returns as f64 / a.orders.len() as f64)
    }
}

#[derive(SimpleObject)]
pub struct TimeRange {
    /// `HH:MM`.
    opens: String,
    /// `HH:MM`.
    closes: String,
}

#[derive(SimpleObject)]
pub struct OpeningHours {
    weekday: Weekday,
    /// Empty when closed that day.
    ranges: Vec<TimeRange>,
}

fn hhmm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

/// A place where a return parcel can be handed in (ProCarrier).
pub struct DropOffPointValue(pub NearbyPoint);

#[Object(name = "DropOffPoint")]
impl DropOffPointValue {
    async fn vendor(&self) -> Vendor {
        self.0.point.vendor.into()
    }
    async fn vendor_id(&self) -> &str {
        &self.0.point.id
    }
    async fn carrier(&self) -> Option<&str> {
        self.0.point.carrier.as_deref()
    }
    async fn service_id(&self) -> Option<&str> {
        self.0.point.service_id.as_deref()
    }
    async fn title(&self) -> &str {
        &self.0.point.title
    }
    async fn address(&self) -> &str {
        &self.0.point.address
    }
    /// The vendor's free-text hours.
    async fn hours_text(&self) -> Option<&str> {
        self.0.point.hours_text.as_deref()
    }
    /// Monday to Sunday.
    async fn opening_hours(&self) -> Vec<OpeningHours> {
        self.0
            .point
            .opening_hours
            .iter()
            .map(|d| OpeningHours {
                weekday: d.weekday.into(),
                ranges: d
                    .ranges
                    .iter()
                    .map(|&(o, c)| TimeRange {
                        opens: hhmm(o),
                        closes: hhmm(c),
                    })
                    .collect(),
            })
            .collect()
    }
    async fn lat(&self) -> f64 {
        self.0.point.lat
    }
    async fn lng(&self) -> f64 {
        self.0.point.lng
    }
    /// Great-circle distance from the point searched around, when searched by coordinates.
    async fn distance_km(&self) -> Option<f64> {
        self.0.distance_km.map(|d| (d * 1000.0).round() / 1000.0)
    }
}

/// A way to send a return (ProCarrier).
#[derive(SimpleObject)]
#[graphql(name = "ReturnService")]
pub struct ReturnServiceValue {
    vendor: Vendor,
    vendor_id: String,
    name: String,
    /// e.g. `home_collection`, `drop_off`.
    kind: Option<String>,
    carrier: Option<String>,
    logo_url: Option<String>,
}

impl From<model::ReturnService> for ReturnServiceValue {
    fn from(s: model::ReturnService) -> Self {
        ReturnServiceValue {
            vendor: s.vendor.into(),
            vendor_id: s.id,
            name: s.name,
            kind: s.kind,
            carrier: s.carrier,
            logo_url: s.logo_url,
        }
    }
}

fn pii(ctx: &Context<'_>) -> bool {
    caller(ctx).is_some_and(|c| c.may(Scope::PiiRead))
}

/// An address as the caller may see it: whole with `pii:read`, else only where (city, state,
/// country), not who or which door.
fn address(ctx: &Context<'_>, a: &model::Address) -> AddressValue {
    if pii(ctx) {
        return a.into();
    }
    AddressValue::from(&model::Address {
        city: a.city.clone(),
        state: a.state.clone(),
        country: a.country.clone(),
        ..Default::default()
    })
}

pub(crate) fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

pub(crate) fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 5 {
        return "***".into();
    }
    let (head, rest) = digits.split_at(2);
    let (middle, tail) = rest.split_at(rest.len() - 2);
    format!(
        "+{}{}{}",
        head.iter().collect::<String>(),
        "*".repeat(middle.len()),
        tail.iter().collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pii_is_masked_recognisably_but_not_recoverably() {
        assert_eq!(mask_email("maria.p@example.gr"), "m***@example.gr");
        assert_eq!(mask_phone("+306971234567"), "+30********67");
        assert_eq!(mask_phone("+123"), "***");
    }
}
