//! Shop orders (MerchantPro): the listing with its filters, one order by id, and the writes —
//! status transitions (refused before the vendor is called when a shop would refuse them)
//! and updates.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use vendors::merchantpro::{mapping as mp_map, wire as mp};
use vendors::model::{Order, PaymentStatus, TrackingStatus, Vendor};
use vendors::VendorError;

use super::error::{Result, ServiceError};
use super::listing::{page_of, Page, PageRequest, SortKey};
use super::validate;
use super::writes::Write;
use super::Service;
use crate::index::OrderQuery;

/// Which orders to list. Every condition given must hold.
#[derive(Debug, Default)]
pub struct OrderFilter {
    pub payment_status: Option<PaymentStatus>,
    pub shipping_status: Option<TrackingStatus>,
    pub created_from: Option<DateTime<FixedOffset>>,
    pub created_to: Option<DateTime<FixedOffset>>,
    /// MerchantPro id or channel reference.
    pub reference: Option<String>,
    pub tracking_number: Option<String>,
    /// As the caller wrote it; matched after normalisation.
    pub customer_email: Option<String>,
}

impl OrderFilter {
    /// The index query, or the first invalid field.
    fn query(&self) -> Result<OrderQuery> {
        let millis = |t: Option<DateTime<FixedOffset>>| t.map(|t| t.timestamp_millis());
        Ok(OrderQuery {
            payment_status: self.payment_status,
            shipping_status: self.shipping_status,
            created_from: millis(self.created_from),
            created_to: millis(self.created_to),
            reference: self.reference.clone(),
            tracking_number: self.tracking_number.clone(),
            email: validate::optional(self.customer_email.as_deref(), |e| {
                validate::email("filter.customerEmail", e)
            })?,
        })
    }
}

/// A change of an order's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OrderStatusChange {
    InProcess,
    Shipped,
    Delivered,
    Returned,
    Cancelled,
    /// Issue the order's invoice (once; never for a cancelled order).
    IssueInvoice,
}

impl OrderStatusChange {
    fn transition(self) -> mp::Transition {
        match self {
            OrderStatusChange::InProcess => mp::Transition::InProcess,
            OrderStatusChange::Shipped => mp::Transition::Shipped,
            OrderStatusChange::Delivered => mp::Transition::Delivered,
            OrderStatusChange::Returned => mp::Transition::Returned,
            OrderStatusChange::Cancelled => mp::Transition::Cancelled,
            OrderStatusChange::IssueInvoice => mp::Transition::CreateInvoice,
        }
    }

    fn operation(self) -> &'static str {
        match self {
            OrderStatusChange::IssueInvoice => "issueInvoice",
            _ => "setOrderStatus",
        }
    }
}

/// What to change on an order; at least one.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OrderChanges {
    pub shipping_method_id: Option<String>,
    /// Decimal string at or above 0.
    pub shipping_amount: Option<String>,
    /// Replaces the order's tags (by name).
    pub tags: Option<Vec<String>>,
}

impl OrderChanges {
    /// The vendor request, or the first invalid field (paths under `input`).
    fn to_wire(&self) -> Result<mp::OrderUpdate> {
        if self.shipping_method_id.is_none()
            && self.shipping_amount.is_none()
            && self.tags.is_none()
        {
            return Err(ServiceError::invalid("input", "nothing to change"));
        }
        let shipping_method_id = validate::optional(self.shipping_method_id.as_deref(), |m| {
            m.trim().parse().map(mp::Id).map_err(|_| {
                ServiceError::invalid(
                    "input.shippingMethodId",
                    format!("{m:?} is not a shipping method id"),
                )
            })
        })?;
        let shipping_amount = validate::optional(self.shipping_amount.as_deref(), |a| {
            validate::amount("input.shippingAmount", a).map(mp::Amount)
        })?;
        let tags = match &self.tags {
            Some(tags) => Some(
                tags.iter()
                    .enumerate()
                    .map(|(i, t)| {
                        Ok(mp::Tag {
                            id: None,
                            name: Some(validate::required(&format!("input.tags[{i}]"), t)?),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
            None => None,
        };
        Ok(mp::OrderUpdate {
            shipping_method_id,
            shipping_amount,
            tags,
            ..Default::default()
        })
    }
}

/// Refuses a transition the shop would refuse from the order's current state.
fn check_transition(order: &mp::Order, t: mp::Transition) -> Result<()> {
    let raw = order.shipping_status.clone().unwrap_or_default();
    let allowed = mp::ShippingStatus::parse(&raw).is_some_and(|s| t.allowed_from().contains(&s));
    let refused = |field, reason| Err(ServiceError::InvalidTransition { field, reason });
    if t == mp::Transition::CreateInvoice {
        if order.invoice.as_ref().is_some_and(|i| !i.cancelled) {
            return refused(
                "orderId",
                format!("order {} already has an invoice", order.id.0),
            );
        }
        if !allowed {
            return refused(
                "orderId",
                format!("order {} is {raw:?}: it cannot be invoiced", order.id.0),
            );
        }
    } else if !allowed {
        return refused(
            "status",
            format!(
                "order {} is {raw:?}: a shop does not allow `{}` from there",
                order.id.0,
                t.as_str()
            ),
        );
    }
    Ok(())
}

impl Service {
    /// A page of the shop's orders matching `filter`, newest first, from the index. Fails as
    /// a whole while MerchantPro was never synced and cannot be.
    pub async fn list_orders(
        &self,
        filter: &OrderFilter,
        request: &PageRequest,
    ) -> Result<Page<Arc<Order>>> {
        let query = filter.query()?;
        let (first, after) = request.position(self.max_page_size)?;
        if let Some(e) = self.index.sync_board().unavailable(Vendor::MerchantPro) {
            return Err(ServiceError::Vendor(e));
        }
        let rows = self.index.orders(&query, after.as_ref(), first).await?;
        Ok(page_of(
            rows,
            |o| SortKey::of(o.created_at, o.vendor, &o.id),
            Vec::new(),
        ))
    }

    /// One order by MerchantPro id: from the index, else (created since the last sync) from
    /// MerchantPro, and indexed.
    pub async fn find_order(
        &self,
        id: u64,
    ) -> std::result::Result<Option<Arc<Order>>, Arc<VendorError>> {
        match self.index.order_by_id(&id.to_string()).await {
            Ok(Some(found)) => return Ok(Some(Arc::new(found))),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "the returns index failed; asking the vendor"),
        }
        let found = self.up.merchantpro_orders_by_id(vec![id]).await?;
        let order = found.by_id(&id.to_string()).cloned();
        if let Some(o) = &order {
            self.index_order(o).await;
        }
        Ok(order)
    }

    /// Puts an order as the vendor just answered it into the index.
    async fn index_order(&self, order: &Order) {
        let now = self.clock.now().timestamp_millis();
        self.index_rows(
            self.index
                .upsert_orders(std::slice::from_ref(order), now)
                .await,
        );
    }

    /// Moves order `id` on (once per idempotency `key`) and answers it as it is now. A change
    /// the shop would refuse is refused before the vendor is called; a replay answers what the
    /// first call did (that call changed the state the check would read).
    pub async fn change_order_status(
        &self,
        id: u64,
        change: OrderStatusChange,
        key: Option<&str>,
    ) -> Result<Arc<Order>> {
        let (operation, t) = (change.operation(), change.transition());
        if !self.replays(operation, key).await {
            check_transition(&self.up.merchantpro_order(id).await?, t)?;
        }
        let write = Write::new(operation, key, &(id, t.as_str()));
        let order = self
            .write_once(write, |up| async move {
                up.merchantpro_transition(id, t).await.map_err(Arc::new)?;
                let order = up.merchantpro_order(id).await.map_err(Arc::new)?;
                Ok(Arc::new(mp_map::order(&order)))
            })
            .await?;
        self.index_order(&order).await;
        Ok(order)
    }

    /// Changes order `id`'s shipping method and amount and tags (once per idempotency `key`).
    pub async fn update_order(
        &self,
        id: u64,
        changes: &OrderChanges,
        key: Option<&str>,
    ) -> Result<Arc<Order>> {
        let change = changes.to_wire()?;
        let write = Write::new("updateOrder", key, &(id, changes));
        let order = self
            .write_once(write, |up| async move {
                let order = up.merchantpro_update(id, &change).await.map_err(Arc::new)?;
                Ok(Arc::new(mp_map::order(&order)))
            })
            .await?;
        self.index_order(&order).await;
        Ok(order)
    }
}
