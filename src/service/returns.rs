//! Returns: ProCarrier's, RRR's and V-Track's merged into one listing with every filter, one
//! return by id, an order's returns, the summary of a window, and ProCarrier's return writes
//! (create, cancel).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use vendors::model::{self, Money, RefundStatus, Return, ReturnStatus, Vendor};
use vendors::procarrier::{mapping as pc_map, wire as pc};
use vendors::VendorError;

use super::error::{Result, ServiceError};
use super::listing::{page, Page, PageRequest};
use super::validate;
use super::writes::Write;
use super::Service;
use crate::upstream::Upstreams;

/// Vendors that hold returns.
pub const RETURN_VENDORS: [Vendor; 3] = [Vendor::ProCarrier, Vendor::Rrr, Vendor::VTrack];

/// Results from several vendors, with the failures of those that could not answer.
#[derive(Debug)]
pub struct Gathered<T> {
    pub items: Vec<T>,
    pub failures: Vec<Arc<VendorError>>,
}

impl<T> Default for Gathered<T> {
    fn default() -> Self {
        Gathered {
            items: Vec::new(),
            failures: Vec::new(),
        }
    }
}

/// Every return of `vendors` (those among ProCarrier, RRR, V-Track), fetched concurrently.
pub async fn all_returns(up: &Upstreams, vendors: &[Vendor]) -> Gathered<Arc<Return>> {
    let wants = |v| vendors.contains(&v);
    let (procarrier, rrr, vtrack) = tokio::join!(
        async {
            if wants(Vendor::ProCarrier) {
                Some(up.procarrier_returns().await)
            } else {
                None
            }
        },
        async {
            if wants(Vendor::Rrr) {
                Some(up.rrr_returns().await)
            } else {
                None
            }
        },
        async {
            if wants(Vendor::VTrack) {
                Some(up.vtrack_report().await)
            } else {
                None
            }
        },
    );
    let mut out = Gathered::default();
    for listing in [procarrier, rrr] {
        match listing {
            Some(Ok(returns)) => out.items.extend(returns.iter().cloned()),
            Some(Err(e)) => out.failures.push(e),
            None => {}
        }
    }
    match vtrack {
        Some(Ok(report)) => out.items.extend(report.returns.iter().cloned()),
        Some(Err(e)) => out.failures.push(e),
        None => {}
    }
    out
}

/// Which returns to list. Every condition given must hold; terms are normalised once per query.
#[derive(Debug, Default)]
pub struct ReturnFilter {
    /// Default: ProCarrier, RRR and V-Track.
    pub vendors: Option<Vec<Vendor>>,
    pub statuses: Option<Vec<ReturnStatus>>,
    /// Created at or after.
    pub created_from: Option<DateTime<FixedOffset>>,
    /// Created before.
    pub created_to: Option<DateTime<FixedOffset>>,
    pub order_reference: Option<String>,
    pub marketplace_order_id: Option<String>,
    pub tracking_number: Option<String>,
    /// As the caller wrote it; matched after normalisation.
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    /// ISO-3166 alpha-2 of the return's address.
    pub country: Option<String>,
    /// Case-insensitive part of any item's reason.
    pub reason: Option<String>,
}

/// A filter's contact and reason terms, normalised (and checked even when no vendor answers).
struct Terms {
    email: Option<String>,
    phone: Option<String>,
    reason: Option<String>,
}

impl ReturnFilter {
    fn terms(&self) -> Result<Terms> {
        Ok(Terms {
            email: validate::optional(self.customer_email.as_deref(), |e| {
                validate::email("filter.customerEmail", e)
            })?,
            phone: validate::optional(self.customer_phone.as_deref(), |p| {
                validate::phone("filter.customerPhone", p, None)
            })?,
            reason: self.reason.as_ref().map(|s| s.to_lowercase()),
        })
    }

    fn vendors(&self) -> Vec<Vendor> {
        self.vendors
            .clone()
            .unwrap_or_else(|| RETURN_VENDORS.to_vec())
    }

    fn matches(&self, terms: &Terms, r: &Return) -> bool {
        let customer = r.customer.as_ref();
        self.statuses.as_ref().is_none_or(|l| l.contains(&r.status))
            && self
                .created_from
                .is_none_or(|from| r.created_at.is_some_and(|t| t >= from))
            && self
                .created_to
                .is_none_or(|to| r.created_at.is_some_and(|t| t < to))
            && same(&self.order_reference, &r.order_reference)
            && same(&self.marketplace_order_id, &r.marketplace_order_id)
            && same(&self.tracking_number, &r.tracking_number)
            && terms
                .email
                .as_ref()
                .is_none_or(|e| customer.and_then(|c| c.email.as_ref()) == Some(e))
            && terms
                .phone
                .as_ref()
                .is_none_or(|p| customer.and_then(|c| c.phone.as_ref()) == Some(p))
            && self.country.as_ref().is_none_or(|c| {
                r.address
                    .as_ref()
                    .and_then(|a| a.country.as_deref())
                    .is_some_and(|rc| rc.eq_ignore_ascii_case(c))
            })
            && terms.reason.as_ref().is_none_or(|needle| {
                r.items.iter().any(|i| {
                    i.reason
                        .as_ref()
                        .and_then(|x| x.reason.as_ref())
                        .is_some_and(|text| text.to_lowercase().contains(needle))
                })
            })
    }
}

/// A condition on a field: none, or equal.
fn same(wanted: &Option<String>, value: &Option<String>) -> bool {
    wanted.as_ref().is_none_or(|w| value.as_ref() == Some(w))
}

/// Returns counted in a window.
#[derive(Debug)]
pub struct ReturnsSummary {
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
    pub total: usize,
    pub by_vendor: Vec<(Vendor, usize)>,
    pub by_status: Vec<(ReturnStatus, usize)>,
    /// Most first, then by name; a return with several reasons counts under each.
    pub by_reason: Vec<(String, usize)>,
    /// V-Track: refused / (returned + delivered) parcels in the window; `None` without any.
    pub refusal_rate: Option<f64>,
    /// Refunds paid out in the window, per buyer currency and per seller currency.
    pub refunded_totals: Vec<Money>,
    pub refunded_totals_seller: Vec<Money>,
    /// The vendors that could not answer (the figures cover the others).
    pub incomplete_vendors: Vec<Vendor>,
    pub failures: Vec<Arc<VendorError>>,
}

fn sum_by_currency<'a>(amounts: impl Iterator<Item = &'a Money>) -> Vec<Money> {
    let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
    for m in amounts {
        *totals.entry(m.currency.clone()).or_default() += m.amount;
    }
    totals
        .into_iter()
        .map(|(currency, amount)| Money::new(amount, currency))
        .collect()
}

// ---- Writes -----------------------------------------------------------------------------------

/// An address to collect from or send to.
#[derive(Debug, Clone, Serialize)]
pub struct ReturnAddress {
    pub country: String,
    pub state: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub line1: String,
    pub line2: Option<String>,
    pub line3: Option<String>,
    pub neighborhood: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub name: String,
    pub company: Option<String>,
    pub email: String,
    /// With country code, or national for the address's country.
    pub phone: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReturnReason {
    pub action: Option<String>,
    pub reason: String,
    pub wish: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReturnProduct {
    pub sku: String,
    pub description: String,
    pub quantity: i32,
    /// Unit price, a decimal string at or above 0.
    pub price: String,
    pub weight_kg: Option<f64>,
    pub reason: ReturnReason,
}

/// A home collection's day and window (`HH:MM`).
#[derive(Debug, Clone, Serialize)]
pub struct Collection {
    pub date: chrono::NaiveDate,
    pub time_from: String,
    pub time_to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Destination {
    pub address: ReturnAddress,
    pub contact: Contact,
}

/// A return to book with ProCarrier, as the caller gave it.
#[derive(Debug, Clone, Serialize)]
pub struct NewReturn {
    pub address: ReturnAddress,
    pub contact: Contact,
    pub service_id: String,
    pub order_reference: Option<String>,
    pub external_id: Option<String>,
    pub display_id: Option<String>,
    pub currency: String,
    pub products: Vec<ReturnProduct>,
    pub collection: Option<Collection>,
    pub destination: Option<Destination>,
}

/// A return's label: the vendor's document and its type.
#[derive(Debug, Clone)]
pub struct Label {
    pub content_type: String,
    /// The document, base64 (as the vendor sent it).
    pub base64: String,
}

/// What booking a return answered.
#[derive(Debug, Clone)]
pub struct CreatedReturn {
    pub tracking_number: String,
    /// Where the customer hands the parcel in, as the vendor wrote it.
    pub first_mile_address: Option<model::Address>,
    pub secondary_barcodes: Vec<String>,
    pub label: Option<Label>,
    /// The new return as ProCarrier lists it, read back (the return exists even if this read
    /// failed).
    pub record: std::result::Result<Arc<Return>, Arc<VendorError>>,
}

/// Which return to cancel.
#[derive(Debug, Clone, Serialize)]
pub enum ReturnKey {
    TrackingNumber(String),
    ExternalId(String),
}

/// What cancelling answered: the vendor's message and the status read back.
#[derive(Debug, Clone)]
pub struct CancelledReturn {
    pub tracking_number: Option<String>,
    pub external_id: Option<String>,
    pub message: Option<String>,
    /// `None` when the status could not be read back (the cancellation stands).
    pub status: Option<(ReturnStatus, String)>,
}

fn wire_address(field: &str, a: &ReturnAddress) -> Result<pc::Address> {
    Ok(pc::Address {
        country: Some(validate::country(&format!("{field}.country"), &a.country)?),
        state: a.state.clone(),
        zip: Some(validate::required(
            &format!("{field}.postalCode"),
            &a.postal_code,
        )?),
        city: Some(validate::required(&format!("{field}.city"), &a.city)?),
        address_line1: Some(validate::required(&format!("{field}.line1"), &a.line1)?),
        address_line2: a.line2.clone(),
        address_line3: a.line3.clone(),
        neighborhood: a.neighborhood.clone(),
    })
}

fn wire_contact(field: &str, c: &Contact, country: Option<&str>) -> Result<pc::Contact> {
    let email = validate::email(&format!("{field}.email"), &c.email)?;
    let phone = validate::phone(&format!("{field}.phone"), &c.phone, country)?;
    Ok(pc::Contact {
        name: Some(validate::required(&format!("{field}.name"), &c.name)?),
        company: c.company.clone(),
        phone: Some(phone),
        email: Some(email),
    })
}

impl NewReturn {
    /// The vendor request, or the first invalid field (paths under `input`). `services` are
    /// the account's service ids.
    fn to_wire(&self, services: &[String]) -> Result<pc::NewReturn> {
        let address = wire_address("input.address", &self.address)?;
        let contact = wire_contact("input.contact", &self.contact, address.country.as_deref())?;
        let service_id: i64 = self
            .service_id
            .parse()
            .ok()
            .filter(|_| services.contains(&self.service_id))
            .ok_or_else(|| {
                ServiceError::invalid(
                    "input.serviceId",
                    format!("{:?} is not a known return service", self.service_id),
                )
            })?;
        let currency = validate::currency("input.currency", &self.currency)?;
        if self.products.is_empty() {
            return Err(ServiceError::invalid(
                "input.products",
                "at least one product",
            ));
        }
        let mut products = Vec::with_capacity(self.products.len());
        for (i, p) in self.products.iter().enumerate() {
            let field = |name: &str| format!("input.products[{i}].{name}");
            if p.quantity <= 0 {
                return Err(ServiceError::invalid(field("quantity"), "must be above 0"));
            }
            let price = validate::amount(&field("price"), &p.price)?;
            if p.weight_kg.is_some_and(|w| !(w > 0.0 && w.is_finite())) {
                return Err(ServiceError::invalid(field("weightKg"), "must be above 0"));
            }
            products.push(pc::Product {
                sku: Some(validate::required(&field("sku"), &p.sku)?),
                description: Some(validate::required(&field("description"), &p.description)?),
                quantity: Some(i64::from(p.quantity)),
                // The vendor's wire format is a JSON number.
                price: price.to_f64(),
                weight: p.weight_kg,
                weight_uom: p.weight_kg.map(|_| "kg".to_owned()),
                reason: Some(pc::Reason {
                    action: p.reason.action.clone(),
                    reason: Some(validate::required(
                        &field("reason.reason"),
                        &p.reason.reason,
                    )?),
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
                    validate::hhmm("input.collection.timeFrom", &c.time_from)?,
                    validate::hhmm("input.collection.timeTo", &c.time_to)?,
                );
                if to <= from {
                    return Err(ServiceError::invalid(
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

/// `returns/get` by `field` (`tracking`, `externalId`).
pub(super) fn lookup(field: &str, value: &str, with_label: bool) -> pc::ReturnLookup {
    pc::ReturnLookup {
        value: value.to_owned(),
        field: field.to_owned(),
        label_format: with_label.then(|| "pdf".to_owned()),
    }
}

fn created(
    created: pc::ReturnCreated,
    record: std::result::Result<Arc<Return>, Arc<VendorError>>,
) -> CreatedReturn {
    let first_mile_address = created.first_mile_address.as_ref().map(|a| model::Address {
        line1: a.address_line1.clone(),
        line2: a.address_line2.clone(),
        line3: a.address_line3.clone(),
        neighborhood: a.neighborhood.clone(),
        city: a.city.clone(),
        state: a.state.clone(),
        postal_code: a.zip.clone(),
        country: a.country.clone(),
        ..Default::default()
    });
    let secondary_barcodes = created
        .secondary_barcodes
        .iter()
        .cloned()
        .chain(created.secondary_barcode.clone())
        .filter(|b| !b.is_empty())
        .collect();
    let label = created
        .label_image
        .clone()
        .filter(|i| !i.is_empty())
        .map(|base64| Label {
            content_type: created
                .label_content_yype
                .clone()
                .unwrap_or_else(|| "application/pdf".into()),
            base64,
        });
    CreatedReturn {
        tracking_number: created.tracking_number,
        first_mile_address,
        secondary_barcodes,
        label,
        record,
    }
}

impl Service {
    /// A page of every vendor's returns matching `filter`, newest first (the vendors that
    /// could not answer are in the page's failures).
    pub async fn list_returns(
        &self,
        filter: &ReturnFilter,
        request: &PageRequest,
    ) -> Result<Page<Arc<Return>>> {
        let terms = filter.terms()?;
        let all = all_returns(&self.up, &filter.vendors()).await;
        let items = all
            .items
            .into_iter()
            .filter(|r| filter.matches(&terms, r))
            .collect();
        page(items, request, self.max_page_size, all.failures)
    }

    /// One return by its vendor and native id; `None` for a vendor that holds no returns.
    pub async fn find_return(
        &self,
        vendor: Vendor,
        id: &str,
    ) -> std::result::Result<Option<Arc<Return>>, Arc<VendorError>> {
        if !RETURN_VENDORS.contains(&vendor) {
            return Ok(None);
        }
        let all = all_returns(&self.up, &[vendor]).await;
        if let Some(e) = all.failures.into_iter().next() {
            return Err(e);
        }
        Ok(all.items.into_iter().find(|r| r.id == id))
    }

    /// The returns of the order with channel reference `reference`, at every vendor.
    pub async fn returns_of_order(&self, reference: &str) -> Gathered<Arc<Return>> {
        let all = all_returns(&self.up, &RETURN_VENDORS).await;
        Gathered {
            items: all
                .items
                .into_iter()
                .filter(|r| r.order_reference.as_deref() == Some(reference))
                .collect(),
            failures: all.failures,
        }
    }

    /// Returns created in `[from, to)`, counted by vendor, status and reason, with V-Track's
    /// refusal rate and the refunds paid out.
    pub async fn returns_summary(
        &self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> Result<ReturnsSummary> {
        if to <= from {
            return Err(ServiceError::invalid("to", "must be after `from`"));
        }
        let (all, vtrack) = tokio::join!(
            all_returns(&self.up, &RETURN_VENDORS),
            self.up.vtrack_report()
        );
        let mut incomplete_vendors: Vec<Vendor> = Vec::new();
        for e in &all.failures {
            if !incomplete_vendors.contains(&e.vendor()) {
                incomplete_vendors.push(e.vendor());
            }
        }
        let within = |t: Option<DateTime<FixedOffset>>| t.is_some_and(|t| t >= from && t < to);
        let returns: Vec<&Arc<Return>> =
            all.items.iter().filter(|r| within(r.created_at)).collect();
        let mut by_vendor: BTreeMap<&str, (Vendor, usize)> = BTreeMap::new();
        let mut by_status: BTreeMap<String, (ReturnStatus, usize)> = BTreeMap::new();
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
        let mut by_reason: Vec<(String, usize)> = by_reason.into_iter().collect();
        by_reason.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
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
            by_vendor: by_vendor.into_values().collect(),
            by_status: by_status.into_values().collect(),
            by_reason,
            refusal_rate,
            refunded_totals: sum_by_currency(paid.iter().filter_map(|f| f.amount.as_ref())),
            refunded_totals_seller: sum_by_currency(
                paid.iter().filter_map(|f| f.amount_seller.as_ref()),
            ),
            incomplete_vendors,
            failures: all.failures,
        })
    }

    /// A ProCarrier `return_updated` webhook: the return as it is now. The tenant's cached
    /// ProCarrier reads (listing, tracking) describe an older state, so they are dropped.
    pub fn procarrier_return_updated(&self, event: &pc::ReturnUpdatedWebhook) -> Arc<Return> {
        self.up.cache.invalidate_vendor(Vendor::ProCarrier);
        Arc::new(pc_map::map_webhook(event))
    }

    /// Books a return with ProCarrier (once per idempotency `key`), then reads it back.
    pub async fn create_return(
        &self,
        input: &NewReturn,
        key: Option<&str>,
    ) -> Result<CreatedReturn> {
        let services = self.up.procarrier_services(Default::default()).await?;
        let services: Vec<String> = services.iter().map(|s| s.id.clone()).collect();
        let request = input.to_wire(&services)?;
        let write = Write::new("createReturn", key, &request);
        self.write_once(write, |up| async move {
            let answer = up
                .procarrier_create_return(&request)
                .await
                .map_err(Arc::new)?;
            let record = up
                .procarrier_return(&lookup("tracking", &answer.tracking_number, false))
                .await
                .map(|r| Arc::new(pc_map::map_return(&r)))
                .map_err(Arc::new);
            Ok(created(answer, record))
        })
        .await
    }

    /// Cancels a ProCarrier return (once per idempotency `key`), then reads its status back.
    pub async fn cancel_return(
        &self,
        which: &ReturnKey,
        key: Option<&str>,
    ) -> Result<CancelledReturn> {
        let request = match which {
            ReturnKey::TrackingNumber(t) => pc::ReturnCancel {
                tracking_number: Some(validate::required("trackingNumber", t)?),
                external_id: None,
            },
            ReturnKey::ExternalId(e) => pc::ReturnCancel {
                tracking_number: None,
                external_id: Some(validate::required("externalId", e)?),
            },
        };
        let write = Write::new("cancelReturn", key, &request);
        self.write_once(write, |up| async move {
            let cancelled = up
                .procarrier_cancel_return(&request)
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
            let status = up
                .procarrier_return(&lookup(field, &value, false))
                .await
                .ok()
                .map(|r| pc_map::map_return(&r))
                .map(|r| (r.status, r.status_raw));
            Ok(CancelledReturn {
                tracking_number: cancelled
                    .tracking_number
                    .or(request.tracking_number.clone()),
                external_id: cancelled.external_id.or(request.external_id.clone()),
                message: cancelled.message,
                status,
            })
        })
        .await
    }
}
