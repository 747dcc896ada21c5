//! Exchanges: instead of a refund, the shop sends new goods. An exchange is a MerchantPro
//! return (RMA) order (`POST /orders` with `return_source_id`), raised against the original
//! order (given directly, or as the shop order of a return) and linked to it both ways by the
//! shop; the original's `rma_orders` then lists it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use vendors::merchantpro::{mapping as mp_map, wire as mp};
use vendors::model::{Order, Vendor};

use super::error::{Result, ServiceError};
use super::validate;
use super::writes::Write;
use super::Service;

/// The tag every exchange order carries, so the shop's staff (and `Order.tags`) can tell an
/// exchange from the shop's other return orders.
pub const EXCHANGE_TAG: &str = "exchange";

/// What the exchange is raised against.
#[derive(Debug, Clone, Serialize)]
pub enum ExchangeSource {
    /// A MerchantPro order id.
    Order(u64),
    /// A return (its vendor and native id): its shop order is the original.
    Return(Vendor, String),
}

/// One product the customer gets instead.
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeLine {
    pub sku: String,
    pub name: Option<String>,
    /// Above 0.
    pub quantity: i32,
    /// Unit price, a decimal string at or above 0 (usually `0`: the returned goods pay).
    pub unit_price: String,
}

/// Where and how the exchange ships; what is left out is the original order's.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExchangeShipping {
    pub method_id: Option<String>,
    /// Decimal string at or above 0; `0` when left out.
    pub amount: Option<String>,
    pub name: Option<String>,
    pub line1: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    /// ISO-3166 alpha-2.
    pub country: Option<String>,
    pub phone: Option<String>,
}

/// An exchange to raise, as the caller gave it.
#[derive(Debug, Clone, Serialize)]
pub struct NewExchange {
    pub source: ExchangeSource,
    pub lines: Vec<ExchangeLine>,
    pub shipping: Option<ExchangeShipping>,
}

/// What raising an exchange answered: the new order, and the original read back (with the
/// new order in its `rma_orders`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedExchange {
    pub order: Arc<Order>,
    /// `None` when the original could not be read back (the exchange stands).
    pub original: Option<Arc<Order>>,
}

/// The lines as MerchantPro takes them, or the first invalid field (`lines[i].…`).
fn wire_lines(lines: &[ExchangeLine]) -> Result<Vec<mp::LineItem>> {
    if lines.is_empty() || lines.len() > 100 {
        return Err(ServiceError::invalid("lines", "between 1 and 100 lines"));
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let field = |name: &str| format!("lines[{i}].{name}");
            if l.quantity <= 0 {
                return Err(ServiceError::invalid(field("quantity"), "must be above 0"));
            }
            let price = validate::amount(&field("unitPrice"), &l.unit_price)?;
            let sku = validate::required(&field("sku"), &l.sku)?;
            Ok(mp::LineItem {
                item_type: Some("product".into()),
                product_sku: Some(sku.clone()),
                product_name: Some(l.name.clone().unwrap_or(sku)),
                quantity: Some(mp::Amount(l.quantity.into())),
                unit_price_gross: Some(mp::Amount(price)),
                ..Default::default()
            })
        })
        .collect()
}

/// The shipping fields checked, or the first invalid one (`shipping.…`).
fn checked_shipping(s: &ExchangeShipping) -> Result<ExchangeShipping> {
    Ok(ExchangeShipping {
        method_id: validate::optional(s.method_id.as_deref(), |m| {
            m.trim().parse::<u64>().map(|n| n.to_string()).map_err(|_| {
                ServiceError::invalid(
                    "shipping.methodId",
                    format!("{m:?} is not a shipping method id"),
                )
            })
        })?,
        amount: validate::optional(s.amount.as_deref(), |a| {
            validate::amount("shipping.amount", a).map(|d| d.to_string())
        })?,
        country: validate::optional(s.country.as_deref(), |c| {
            validate::country("shipping.country", c)
        })?,
        name: validate::optional(s.name.as_deref(), |v| {
            validate::required("shipping.name", v)
        })?,
        line1: validate::optional(s.line1.as_deref(), |v| {
            validate::required("shipping.line1", v)
        })?,
        city: validate::optional(s.city.as_deref(), |v| {
            validate::required("shipping.city", v)
        })?,
        postal_code: validate::optional(s.postal_code.as_deref(), |v| {
            validate::required("shipping.postalCode", v)
        })?,
        phone: validate::optional(s.phone.as_deref(), |v| {
            validate::required("shipping.phone", v)
        })?,
    })
}

/// The order to create: the caller's lines and shipping over the original's customer,
/// currency and shipping address.
fn new_order(
    original: &Order,
    source_id: u64,
    lines: Vec<mp::LineItem>,
    shipping: &ExchangeShipping,
    note: Option<String>,
) -> Result<mp::NewOrder> {
    let customer = original.customer.as_ref();
    let email = customer
        .and_then(|c| c.email_raw.clone().or_else(|| c.email.clone()))
        .ok_or_else(|| {
            ServiceError::invalid(
                "orderId",
                format!("order {source_id} has no customer e-mail to send an exchange to"),
            )
        })?;
    let address = original.shipping_address.clone().unwrap_or_default();
    let pick = |given: &Option<String>, kept: &Option<String>| given.clone().or(kept.clone());
    Ok(mp::NewOrder {
        return_source_id: Some(mp::Id(source_id)),
        // Paid for by the goods coming back; shipped like any order.
        payment_status: Some("paid".into()),
        shipping_status: Some("awaiting".into()),
        shipping_method_id: shipping
            .method_id
            .as_deref()
            .and_then(|m| m.parse().ok())
            .map(mp::Id),
        shipping_amount: Some(mp::Amount(
            shipping
                .amount
                .as_deref()
                .and_then(|a| a.parse().ok())
                .unwrap_or_default(),
        )),
        currency: original.total.as_ref().map(|t| t.currency.clone()),
        customer_email: Some(email),
        customer_note: note,
        billing_name: pick(&None, &address.name),
        shipping_name: pick(&shipping.name, &address.name),
        shipping_country_code: pick(&shipping.country, &address.country),
        shipping_city: pick(&shipping.city, &address.city),
        shipping_address: pick(&shipping.line1, &address.line1),
        shipping_postal_code: pick(&shipping.postal_code, &address.postal_code),
        shipping_phone: pick(
            &shipping.phone,
            &customer.and_then(|c| c.phone_raw.clone().or_else(|| c.phone.clone())),
        ),
        tags: Some(vec![mp::Tag {
            id: None,
            name: Some(EXCHANGE_TAG.into()),
        }]),
        line_items: lines,
        ..Default::default()
    })
}

impl Service {
    /// The MerchantPro id of the order an exchange is raised against, with a note naming the
    /// return it replaces a refund for. Read from the index (the vendor only for a record the
    /// index does not hold yet).
    async fn exchange_original(&self, source: &ExchangeSource) -> Result<(u64, Option<String>)> {
        match source {
            ExchangeSource::Order(id) => Ok((*id, None)),
            ExchangeSource::Return(vendor, id) => {
                let found = self.find_return(*vendor, id).await?;
                let ret =
                    found.ok_or_else(|| ServiceError::invalid("returnId", "no such return"))?;
                let reference = ret.order_reference.clone().ok_or_else(|| {
                    ServiceError::invalid(
                        "returnId",
                        "this return names no shop order (give `orderId` instead)",
                    )
                })?;
                let orders = self
                    .index
                    .orders_by_reference(std::slice::from_ref(&reference))
                    .await?;
                let order = orders.first().ok_or_else(|| {
                    ServiceError::invalid(
                        "returnId",
                        format!("the shop has no order with reference {reference:?}"),
                    )
                })?;
                let id = order.id.parse().map_err(|_| {
                    ServiceError::invalid("returnId", "its shop order has no numeric id")
                })?;
                let note = format!("Exchange for {} return {}", ret.vendor, ret.id);
                Ok((id, Some(note)))
            }
        }
    }

    /// Raises an exchange order at MerchantPro (once per idempotency `key`), linked to the
    /// original, and puts both (as the shop answered them) into the index.
    pub async fn create_exchange_order(
        &self,
        input: &NewExchange,
        key: Option<&str>,
    ) -> Result<CreatedExchange> {
        // The caller's own input first: a bad field costs no read at all.
        let lines = wire_lines(&input.lines)?;
        let shipping = match &input.shipping {
            Some(s) => checked_shipping(s)?,
            None => ExchangeShipping::default(),
        };
        let (source_id, note) = self.exchange_original(&input.source).await?;
        let field = match input.source {
            ExchangeSource::Order(_) => "orderId",
            ExchangeSource::Return(..) => "returnId",
        };
        let original = self.find_order(source_id).await?.ok_or_else(|| {
            ServiceError::invalid(field, format!("order {source_id} does not exist"))
        })?;
        if original.return_source_id.is_some() {
            return Err(ServiceError::invalid(
                field,
                format!("order {source_id} is itself a return order"),
            ));
        }
        let request = new_order(&original, source_id, lines, &shipping, note)?;
        let write = Write::new("createExchangeOrder", key, input);
        let created = self
            .write_once(write, |up| async move {
                let order = up.merchantpro_create(&request).await.map_err(Arc::new)?;
                let original = up
                    .merchantpro_order(source_id)
                    .await
                    .ok()
                    .map(|o| Arc::new(mp_map::order(&o)));
                Ok(CreatedExchange {
                    order: Arc::new(mp_map::order(&order)),
                    original,
                })
            })
            .await?;
        let mut rows = vec![(*created.order).clone()];
        rows.extend(created.original.as_deref().cloned());
        let now = self.clock.now().timestamp_millis();
        self.index_rows(self.index.upsert_orders(&rows, now).await);
        Ok(created)
    }

    /// The return (RMA) orders raised against `order`, exchanges among them: from the index,
    /// else MerchantPro (`ids=`, one call for all).
    pub async fn rma_orders(
        &self,
        order: &Order,
    ) -> std::result::Result<Vec<Arc<Order>>, Arc<vendors::VendorError>> {
        let mut found = Vec::with_capacity(order.rma_order_ids.len());
        let mut missing = Vec::new();
        for id in &order.rma_order_ids {
            match self.index.order_by_id(id).await {
                Ok(Some(o)) => found.push(Arc::new(o)),
                Ok(None) | Err(_) => missing.extend(id.parse::<u64>().ok()),
            }
        }
        if !missing.is_empty() {
            let read = self.up.merchantpro_orders_by_id(missing).await?;
            found.extend(read.orders.iter().cloned());
        }
        Ok(found)
    }
}
