//! Orders registered for returns: a shop order pushed to ProCarrier (`orders/create`) so the
//! customer can open a return in ProCarrier's portal; updated from the shop order as it is
//! now (`orders/update`), or taken back (`orders/delete`). The registration an `Order` shows
//! is ProCarrier's `orders/get` by reference, cached and dropped by these writes.

use std::sync::Arc;

use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use vendors::model::Order;
use vendors::procarrier::{mapping as pc_map, wire as pc};
use vendors::VendorError;

use super::error::{Result, ServiceError};
use super::writes::Write;
use super::Service;

/// The most ProCarrier orders an update looks at to find the one whose reference it is
/// (`orders/search` matches text, so `WEB1` finds `WEB10` too).
const SEARCH_CANDIDATES: usize = 10;

/// A shop order as ProCarrier holds it for returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registration {
    pub registered: bool,
    /// The order's reference at ProCarrier (the shop order's channel reference).
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

impl Registration {
    fn of(reference: &str, order: Option<&pc::Order>) -> Registration {
        Registration {
            registered: order.is_some(),
            reference: reference.to_owned(),
            procarrier_order_id: order.and_then(|o| o.id).map(|id| id.to_string()),
            rma: order.and_then(|o| o.rma.clone()),
            free_return: order.and_then(|o| o.free_return),
            products: order.map_or(0, |o| o.products.len()),
            message: None,
        }
    }
}

/// The ProCarrier order for shop order `order` (its channel reference), or why it has none.
fn wire_order(order: &Order, free_return: Option<bool>) -> Result<pc::Order> {
    let reference = order.reference.clone().ok_or_else(|| {
        ServiceError::invalid(
            "orderId",
            format!(
                "order {} has no channel reference for ProCarrier to know it by",
                order.id
            ),
        )
    })?;
    let customer = order.customer.as_ref();
    let address = order.shipping_address.as_ref();
    let products = order
        .lines
        .iter()
        .map(|l| pc::Product {
            sku: l.sku.clone(),
            description: l.name.clone(),
            quantity: l.quantity.to_i64(),
            price: l.unit_price.as_ref().and_then(|p| p.amount.to_f64()),
            ..Default::default()
        })
        .collect();
    Ok(pc::Order {
        order_reference: Some(reference),
        order_date: order.created_at.map(pc_map::format_order_date),
        currency: order.total.as_ref().map(|t| t.currency.clone()),
        free_return,
        export_awb: order.tracking_number.clone(),
        tracking_number: order.tracking_number.clone(),
        products,
        contact: pc::Contact {
            name: customer
                .and_then(|c| c.name.clone())
                .or(address.and_then(|a| a.name.clone())),
            company: address.and_then(|a| a.company.clone()),
            phone: customer.and_then(|c| c.phone.clone()),
            email: customer.and_then(|c| c.email.clone()),
        },
        address: pc::Address {
            country: address.and_then(|a| a.country.clone()),
            state: address.and_then(|a| a.state.clone()),
            zip: address.and_then(|a| a.postal_code.clone()),
            city: address.and_then(|a| a.city.clone()),
            address_line1: address.and_then(|a| a.line1.clone()),
            address_line2: address.and_then(|a| a.line2.clone()),
            address_line3: address.and_then(|a| a.line3.clone()),
            neighborhood: address.and_then(|a| a.neighborhood.clone()),
        },
        ..Default::default()
    })
}

impl Service {
    /// Shop order `id`, or `orderId` named as unknown.
    async fn order_to_register(&self, id: u64) -> Result<Arc<Order>> {
        self.find_order(id)
            .await?
            .ok_or_else(|| ServiceError::invalid("orderId", format!("order {id} does not exist")))
    }

    /// How ProCarrier holds the order with channel reference `reference` (cached).
    pub async fn registration(
        &self,
        reference: &str,
    ) -> std::result::Result<Registration, Arc<VendorError>> {
        let found = self.up.procarrier_order(reference.to_owned()).await?;
        Ok(Registration::of(reference, found.as_deref()))
    }

    /// Pushes shop order `id` to ProCarrier (once per idempotency `key`).
    pub async fn register_order_for_returns(
        &self,
        id: u64,
        free_return: Option<bool>,
        key: Option<&str>,
    ) -> Result<Registration> {
        let order = self.order_to_register(id).await?;
        let request = wire_order(&order, free_return)?;
        let write = Write::new("registerOrderForReturns", key, &(id, free_return));
        self.write_once(write, |up| async move {
            let saved = up
                .procarrier_create_order(&request)
                .await
                .map_err(Arc::new)?;
            let reference = request.order_reference.clone().unwrap_or_default();
            Ok(Registration {
                procarrier_order_id: saved.order_id.map(|i| i.to_string()),
                message: saved.message,
                ..Registration::of(&reference, Some(&request))
            })
        })
        .await
    }

    /// ProCarrier's id of the order with `reference`: `orders/search` by its text, each
    /// candidate confirmed by `orders/get` (the answer names no id; the question did).
    async fn procarrier_order_id(&self, reference: &str) -> Result<i64> {
        let candidates = self.up.procarrier_search_orders(reference).await?;
        for id in candidates.into_iter().take(SEARCH_CANDIDATES) {
            let order = self.up.procarrier_order_by("id", &id.to_string()).await?;
            if order.order_reference.as_deref() == Some(reference) {
                return Ok(id);
            }
        }
        Err(ServiceError::invalid(
            "orderId",
            format!("order {reference:?} is not registered with ProCarrier"),
        ))
    }

    /// Sends shop order `id` as it is now to its ProCarrier registration (once per
    /// idempotency `key`).
    pub async fn update_registered_order(
        &self,
        id: u64,
        free_return: Option<bool>,
        key: Option<&str>,
    ) -> Result<Registration> {
        let order = self.order_to_register(id).await?;
        let mut request = wire_order(&order, free_return)?;
        let write = Write::new("updateRegisteredOrder", key, &(id, free_return));
        if !self.replays("updateRegisteredOrder", key).await {
            let reference = request.order_reference.clone().unwrap_or_default();
            request.id = Some(self.procarrier_order_id(&reference).await?);
        }
        self.write_once(write, |up| async move {
            let saved = up
                .procarrier_update_order(&request)
                .await
                .map_err(Arc::new)?;
            let reference = request.order_reference.clone().unwrap_or_default();
            Ok(Registration {
                procarrier_order_id: saved.order_id.or(request.id).map(|i| i.to_string()),
                message: saved.message,
                ..Registration::of(&reference, Some(&request))
            })
        })
        .await
    }

    /// Takes shop order `id` back from ProCarrier (once per idempotency `key`).
    pub async fn unregister_order(&self, id: u64, key: Option<&str>) -> Result<Registration> {
        let order = self.order_to_register(id).await?;
        let reference = wire_order(&order, None)?
            .order_reference
            .unwrap_or_default();
        let write = Write::new("unregisterOrder", key, &id);
        self.write_once(write, |up| async move {
            let deleted = up
                .procarrier_delete_order(&reference)
                .await
                .map_err(Arc::new)?;
            Ok(Registration {
                message: deleted.message,
                ..Registration::of(&reference, None)
            })
        })
        .await
    }
}
