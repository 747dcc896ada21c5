//! Returns: ProCarrier's, RRR's and V-Track's merged into one listing with every filter, one
//! return by id, an order's returns, the summary of a window, and ProCarrier's return writes
//! (create, cancel).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use vendors::model::{self, Money, Return, ReturnStatus, Vendor};
use vendors::procarrier::{mapping as pc_map, wire as pc};
use vendors::VendorError;

use super::error::{Result, ServiceError};
use super::listing::{page_of, Page, PageRequest, SortKey};
use super::validate;
use super::writes::Write;
use super::Service;
use crate::index::{ReturnQuery, StoreError};

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

    /// The index query, or the first invalid field.
    fn query(&self) -> Result<ReturnQuery> {
        let terms = self.terms()?;
        let millis = |t: Option<DateTime<FixedOffset>>| t.map(|t| t.timestamp_millis());
        Ok(ReturnQuery {
            vendors: self.vendors(),
            statuses: self.statuses.clone(),
            created_from: millis(self.created_from),
            created_to: millis(self.created_to),
            order_reference: self.order_reference.clone(),
            marketplace_order_id: self.marketplace_order_id.clone(),
            tracking_number: self.tracking_number.clone(),
            email: terms.email,
            phone: terms.phone,
            country: self.country.as_ref().map(|c| c.to_ascii_uppercase()),
            reason: terms.reason,
        })
    }
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

/// Amounts (as the index keeps them: decimal text and currency) summed per currency. An
/// amount that does not read back is left out, and logged.
fn sum_by_currency<'a>(amounts: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<Money> {
    let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
    for (amount, currency) in amounts {
        match amount.parse::<Decimal>() {
            Ok(amount) => *totals.entry(currency.to_owned()).or_default() += amount,
            Err(_) => tracing::warn!(amount, currency, "an indexed refund amount does not read"),
        }
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Label {
    pub content_type: String,
    /// The document, base64 (as the vendor sent it).
    pub base64: String,
}

/// What booking a return answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedReturn {
    pub tracking_number: String,
    /// Where the customer hands the parcel in, as the vendor wrote it.
    pub first_mile_address: Option<model::Address>,
    pub secondary_barcodes: Vec<String>,
    pub label: Option<Label>,
    /// The new return as ProCarrier lists it, read back (the return exists even if this read
    /// failed).
    #[serde(with = "super::writes::stored")]
    pub record: std::result::Result<Arc<Return>, Arc<VendorError>>,
}

/// Which return to cancel.
#[derive(Debug, Clone, Serialize)]
pub enum ReturnKey {
    TrackingNumber(String),
    ExternalId(String),
}

/// What cancelling answered: the vendor's message and the status read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CancelledReturn {
    pub tracking_number: Option<String>,
    pub external_id: Option<String>,
    pub message: Option<String>,
    /// `None` when the status could not be read back (the cancellation stands).
    pub status: Option<(ReturnStatus, String)>,
    /// The return as read back (what the index is updated with).
    pub record: Option<Arc<Return>>,
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

/// A webhook's news applied to the indexed return: where the return stands (status and
/// tracking) and its contact and items when the webhook has them; everything the webhook
/// does not carry (service, labels, totals, creation time) is kept.
fn apply_webhook(indexed: Return, update: Return) -> Return {
    Return {
        status: update.status,
        status_raw: update.status_raw,
        tracking_status: update.tracking_status.or(indexed.tracking_status),
        tracking_status_raw: update.tracking_status_raw.or(indexed.tracking_status_raw),
        updated_at: update.updated_at.or(indexed.updated_at),
        tracking_number: update.tracking_number.or(indexed.tracking_number),
        customer: update.customer.or(indexed.customer),
        address: update.address.or(indexed.address),
        items: if update.items.is_empty() {
            indexed.items
        } else {
            update.items
        },
        ..indexed
    }
}

impl Service {
    /// The vendors among `vendors` the index cannot serve yet (never synced, failing), with
    /// their failures: answers cover the others.
    fn unavailable(&self, vendors: &[Vendor]) -> Vec<Arc<VendorError>> {
        let board = self.index.sync_board();
        vendors
            .iter()
            .filter_map(|&v| board.unavailable(v))
            .collect()
    }

    /// A page of every vendor's returns matching `filter`, newest first, from the index (the
    /// vendors it cannot serve yet are in the page's failures).
    pub async fn list_returns(
        &self,
        filter: &ReturnFilter,
        request: &PageRequest,
    ) -> Result<Page<Arc<Return>>> {
        let query = filter.query()?;
        let (first, after) = request.position(self.max_page_size)?;
        let rows = self.index.returns(&query, after.as_ref(), first).await?;
        let failures = self.unavailable(&query.vendors);
        Ok(page_of(
            rows,
            |r| SortKey::of(r.created_at, r.vendor, &r.id),
            failures,
        ))
    }

    /// One return by its vendor and native id; `None` for a vendor that holds no returns.
    /// From the index; one it does not hold yet (created since the last sync) is read from
    /// the vendor and indexed.
    pub async fn find_return(
        &self,
        vendor: Vendor,
        id: &str,
    ) -> std::result::Result<Option<Arc<Return>>, Arc<VendorError>> {
        if !RETURN_VENDORS.contains(&vendor) {
            return Ok(None);
        }
        match self.index.return_by_id(vendor, id).await {
            Ok(Some(found)) => return Ok(Some(Arc::new(found))),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "the returns index failed; asking the vendor"),
        }
        let fresh = match vendor {
            Vendor::ProCarrier => match self.up.procarrier_return(&lookup("id", id, false)).await {
                Ok(record) => Some(pc_map::map_return(&record)),
                Err(e)
                    if e.api_error().is_some_and(|a| {
                        matches!(
                            a.kind,
                            vendors::ApiErrorKind::BadRequest | vendors::ApiErrorKind::NotFound
                        )
                    }) =>
                {
                    None
                }
                Err(e) => return Err(Arc::new(e)),
            },
            Vendor::Rrr => match id.parse::<u64>() {
                Ok(numeric) => match self.up.rrr_return(numeric).await {
                    Ok(found) => found,
                    Err(e)
                        if e.api_error()
                            .is_some_and(|a| a.kind == vendors::ApiErrorKind::NotFound) =>
                    {
                        None
                    }
                    Err(e) => return Err(Arc::new(e)),
                },
                Err(_) => None,
            },
            // V-Track's report is read whole by the sync: what it has not indexed, V-Track
            // cannot answer alone.
            _ => None,
        };
        if let Some(r) = &fresh {
            self.index_rows(self.index.upsert_returns(std::slice::from_ref(r)).await);
        }
        Ok(fresh.map(Arc::new))
    }

    /// Logs a failed write to the index made beside a vendor answer: the answer stands, the
    /// sync brings the row in later.
    pub(super) fn index_rows(&self, written: std::result::Result<(), StoreError>) {
        if let Err(e) = written {
            tracing::error!(error = %e, "the returns index could not take a row; the sync will");
        }
    }

    /// The returns of the order with channel reference `reference`, at every vendor.
    pub async fn returns_of_order(&self, reference: &str) -> Gathered<Arc<Return>> {
        let query = ReturnQuery {
            vendors: RETURN_VENDORS.to_vec(),
            order_reference: Some(reference.to_owned()),
            ..ReturnQuery::default()
        };
        let mut failures = self.unavailable(&RETURN_VENDORS);
        // An order's returns are few: one page holds them all.
        match self.index.returns(&query, None, 1000).await {
            Ok(rows) => Gathered {
                items: rows.rows.into_iter().map(Arc::new).collect(),
                failures,
            },
            Err(e) => {
                tracing::error!(error = %e, "the returns index failed");
                failures.clear();
                Gathered {
                    items: Vec::new(),
                    failures,
                }
            }
        }
    }

    /// Returns created in `[from, to)`, counted by vendor, status and reason, with V-Track's
    /// refusal rate and the refunds paid out: aggregates over the index.
    pub async fn returns_summary(
        &self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> Result<ReturnsSummary> {
        if to <= from {
            return Err(ServiceError::invalid("to", "must be after `from`"));
        }
        let counts = self
            .index
            .return_counts(from.timestamp_millis(), to.timestamp_millis())
            .await?;
        let failures = self.unavailable(&RETURN_VENDORS);
        let mut incomplete_vendors: Vec<Vendor> = Vec::new();
        for e in &failures {
            if !incomplete_vendors.contains(&e.vendor()) {
                incomplete_vendors.push(e.vendor());
            }
        }
        let vtrack_available = !incomplete_vendors.contains(&Vendor::VTrack);
        let parcels = counts.vtrack_returned + counts.vtrack_delivered;
        let refusal_rate = (vtrack_available && parcels > 0)
            .then(|| counts.vtrack_refused as f64 / parcels as f64);
        let paid = &counts.paid_refunds;
        Ok(ReturnsSummary {
            from,
            to,
            total: counts.total,
            by_vendor: counts.by_vendor,
            by_status: counts.by_status,
            by_reason: counts.by_reason,
            refusal_rate,
            refunded_totals: sum_by_currency(
                paid.iter()
                    .filter_map(|(a, c, _, _)| Some((a.as_deref()?, c.as_deref()?))),
            ),
            refunded_totals_seller: sum_by_currency(
                paid.iter()
                    .filter_map(|(_, _, a, c)| Some((a.as_deref()?, c.as_deref()?))),
            ),
            incomplete_vendors,
            failures,
        })
    }

    /// A ProCarrier `return_updated` webhook: the return as it is now, applied to its row in
    /// the index (the webhook carries its state; what it leaves out is kept from the row).
    pub async fn procarrier_return_updated(&self, event: &pc::ReturnUpdatedWebhook) -> Arc<Return> {
        let update = pc_map::map_webhook(event);
        let record = match self
            .index
            .return_by_id(Vendor::ProCarrier, &update.id)
            .await
        {
            Ok(Some(indexed)) => apply_webhook(indexed, update),
            Ok(None) => update,
            Err(e) => {
                tracing::error!(error = %e, "the returns index failed");
                update
            }
        };
        self.index_rows(
            self.index
                .upsert_returns(std::slice::from_ref(&record))
                .await,
        );
        Arc::new(record)
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
        let created = self
            .write_once(write, |up| async move {
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
            .await?;
        if let Ok(r) = &created.record {
            self.index_rows(self.index.upsert_returns(&[(**r).clone()]).await);
        }
        Ok(created)
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
        let cancelled = self
            .write_once(write, |up| async move {
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
                let record = up
                    .procarrier_return(&lookup(field, &value, false))
                    .await
                    .ok()
                    .map(|r| Arc::new(pc_map::map_return(&r)));
                let status = record.as_ref().map(|r| (r.status, r.status_raw.clone()));
                Ok(CancelledReturn {
                    tracking_number: cancelled
                        .tracking_number
                        .or(request.tracking_number.clone()),
                    external_id: cancelled.external_id.or(request.external_id.clone()),
                    message: cancelled.message,
                    status,
                    record,
                })
            })
            .await?;
        if let Some(r) = &cancelled.record {
            self.index_rows(self.index.upsert_returns(&[(**r).clone()]).await);
        }
        Ok(cancelled)
    }
}
