//! Wire types → unified model.
//!
//! A V-Track `return` entry is an outbound parcel the recipient did not collect or refused,
//! returned to the sender: a [`Return`] that is already back (`ReturnStatus::Received`, the
//! parcel `TrackingStatus::ReturnToSender`). A `delivered` entry is a [`Delivery`]. Dates are
//! Greek local time without an offset; [`parse_athens`] gives them the right one. A row or entry
//! that cannot be read is skipped with a warning and counted in [`Report`], never failing the
//! whole report.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
};

use super::wire::{self, Lenient, Scalar};
use crate::escaped::Escaped;
use crate::model::{Customer, Delivery, Return, ReturnStatus, TrackingStatus, Vendor};

/// How the vendor writes dates.
pub const DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// The recipients are Greek: a phone without a country code is Greek.
const COUNTRY: &str = "GR";

/// Parcel states the report expresses. V-Track has no status field: the state is which list an
/// entry is in (`delivered` / `return`) and, for returns, `with_refusal`. These raw names are the
/// `status_raw` we keep.
pub const RAW_DELIVERED: &str = "delivered";
pub const RAW_RETURNED: &str = "returned";
pub const RAW_REFUSED: &str = "refused";

/// Raw parcel state → normalised tracking status. Every state the doc names.
pub const TRACKING_STATUSES: &[(&str, TrackingStatus)] = &[
    (RAW_DELIVERED, TrackingStatus::Delivered),
    (RAW_RETURNED, TrackingStatus::ReturnToSender),
    (RAW_REFUSED, TrackingStatus::ReturnToSender),
];

pub fn tracking_status(raw: &str) -> Option<TrackingStatus> {
    TRACKING_STATUSES
        .iter()
        .find(|(r, _)| *r == raw)
        .map(|(_, status)| *status)
}

/// Everything the report said, mapped, and how much of it could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub returns: Vec<Return>,
    pub deliveries: Vec<Delivery>,
    /// Rows skipped whole (not an object of the documented shape); their entries are lost.
    pub skipped_rows: usize,
    /// `return` / `delivered` entries skipped within readable rows.
    pub skipped_entries: usize,
}

impl Report {
    /// Rows and entries skipped together, for callers that report one number.
    pub fn skipped(&self) -> usize {
        self.skipped_rows + self.skipped_entries
    }
}

/// Maps the whole report, skipping (and counting) what cannot be read. It takes the report by
/// value: each row is dropped once mapped, so the wire rows and the model are not both held
/// whole (at 100,000 returns each is tens of MB).
pub fn map_report(response: wire::ReturnsResponse) -> Report {
    let mut report = Report::default();
    // Sized once: at 100,000 returns the report holds tens of thousands of entries, and
    // doubling a vector that large keeps both copies alive for a moment.
    let entries = |count: fn(&wire::Row) -> usize| {
        response
            .rows
            .iter()
            .map(|row| match row {
                Lenient::Parsed(row) => count(row),
                Lenient::Unparsed { .. } => 0,
            })
            .sum::<usize>()
    };
    report
        .returns
        .reserve_exact(entries(|row| row.returns.len()));
    report
        .deliveries
        .reserve_exact(entries(|row| row.delivered.len()));
    for (index, row) in response.rows.into_iter().enumerate() {
        let row = match row {
            Lenient::Parsed(row) => row,
            Lenient::Unparsed { error, .. } => {
                tracing::warn!(vendor = "vtrack", row = index, error = %Escaped(&error), "skipping unreadable row");
                report.skipped_rows += 1;
                continue;
            }
        };
        let customer = row.customer.as_ref().map(map_customer);
        for (entry_index, entry) in row.returns.iter().enumerate() {
            match entry_result(entry).and_then(|e| map_return(e, customer.clone())) {
                Ok(r) => report.returns.push(r),
                Err(error) => {
                    tracing::warn!(
                        vendor = "vtrack",
                        row = index,
                        entry = entry_index,
                        error = %Escaped(&error),
                        "skipping unreadable return entry"
                    );
                    report.skipped_entries += 1;
                }
            }
        }
        for (entry_index, entry) in row.delivered.iter().enumerate() {
            match entry_result(entry).and_then(|e| map_delivery(e, customer.clone())) {
                Ok(d) => report.deliveries.push(d),
                Err(error) => {
                    tracing::warn!(
                        vendor = "vtrack",
                        row = index,
                        entry = entry_index,
                        error = %Escaped(&error),
                        "skipping unreadable delivered entry"
                    );
                    report.skipped_entries += 1;
                }
            }
        }
    }
    report
}

fn entry_result<T>(entry: &Lenient<T>) -> Result<&T, String> {
    match entry {
        Lenient::Parsed(e) => Ok(e),
        Lenient::Unparsed { error, .. } => Err(error.clone()),
    }
}

pub fn map_customer(c: &wire::RowCustomer) -> Customer {
    let name = text(&c.customer);
    let email = text(&c.email);
    let mobile = text(&c.mobile);
    Customer::from_raw(
        Vendor::VTrack,
        name.as_deref(),
        email.as_deref(),
        mobile.as_deref(),
        Some(COUNTRY),
    )
}

/// A returned (unclaimed or refused) parcel. Fails on a missing voucher or an unreadable date.
pub fn map_return(e: &wire::ReturnEntry, customer: Option<Customer>) -> Result<Return, String> {
    let voucher = e.voucher.as_text().ok_or("empty voucher")?;
    let raw = if e.with_refusal.0 {
        RAW_REFUSED
    } else {
        RAW_RETURNED
    };
    let finalized_at = date(&e.finalization_dates, "finalization_dates")?;
    let returned_at = date(&e.return_delivery_date, "return_delivery_date")?;
    let mut r = Return::new(Vendor::VTrack, voucher.clone(), ReturnStatus::Received, raw);
    r.tracking_number = Some(voucher);
    r.order_reference = text(&e.web_order_id);
    r.refused = e.with_refusal.0;
    r.tracking_status = tracking_status(raw);
    r.tracking_status_raw = Some(raw.to_owned());
    r.created_at = finalized_at;
    r.updated_at = returned_at.or(finalized_at);
    r.invoice_id = text(&e.invoice_id);
    r.customer = customer;
    Ok(r)
}

/// A delivered parcel. Fails on a missing voucher or an unreadable date.
pub fn map_delivery(
    e: &wire::DeliveredEntry,
    customer: Option<Customer>,
) -> Result<Delivery, String> {
    Ok(Delivery {
        vendor: Vendor::VTrack,
        tracking_number: e.voucher.as_text().ok_or("empty voucher")?,
        order_reference: text(&e.web_order_id),
        invoice_id: text(&e.invoice_id),
        finalized_at: date(&e.finalization_dates, "finalization_dates")?,
        delivered_at: date(&e.delivered_date, "delivered_date")?,
        customer,
    })
}

fn text(value: &Option<Scalar>) -> Option<String> {
    value.as_ref().and_then(Scalar::as_text)
}

/// An absent or empty date is `None`; one that is there but unreadable is an error.
fn date(value: &Option<Scalar>, field: &str) -> Result<Option<DateTime<FixedOffset>>, String> {
    match text(value) {
        None => Ok(None),
        Some(s) => parse_athens(&s)
            .map(Some)
            .ok_or_else(|| format!("{field}: {s:?} is not a date")),
    }
}

/// `YYYY-MM-DD HH:MM:SS` (or without seconds), Greek local time, with its offset.
pub fn parse_athens(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    let local = NaiveDateTime::parse_from_str(s, DATE_FORMAT)
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .ok()?;
    athens_offset_of_local(local)
        .from_local_datetime(&local)
        .single()
}

const EET: i32 = 2 * 3600;
const EEST: i32 = 3 * 3600;

fn offset(secs: i32) -> FixedOffset {
    FixedOffset::east_opt(secs).expect("EET and EEST are within a day of UTC")
}

fn at_hour(day: NaiveDate, hour: u32) -> NaiveDateTime {
    day.and_time(NaiveTime::from_hms_opt(hour, 0, 0).expect("a valid hour"))
}

/// The last Sunday of `month` (March or October, both 31 days long).
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let last = NaiveDate::from_ymd_opt(year, month, 31)?;
    Some(last - Duration::days(i64::from(last.weekday().num_days_from_sunday())))
}

/// The EU rule, as Europe/Athens applies it: summer time (EEST, +03:00) from 01:00 UTC on the
/// last Sunday of March to 01:00 UTC on the last Sunday of October; EET (+02:00) otherwise.
/// In local time: EEST from 03:00 on the last Sunday of March to 04:00 on the last Sunday of
/// October. A report's wall-clock time cannot say which side of a switch it meant, so:
/// the spring gap (03:00–03:59, which never shows on a clock) reads as EEST, and the repeated
/// autumn hour (03:00–03:59 twice) reads as its first occurrence, EEST.
pub fn athens_offset_of_local(local: NaiveDateTime) -> FixedOffset {
    let year = local.year();
    let (Some(spring), Some(autumn)) = (last_sunday(year, 3), last_sunday(year, 10)) else {
        return offset(EET);
    };
    if local >= at_hour(spring, 3) && local < at_hour(autumn, 4) {
        offset(EEST)
    } else {
        offset(EET)
    }
}

/// The instant `at` in Greek local time (the inverse of [`parse_athens`]), for the simulator.
pub fn to_athens<Tz: TimeZone>(at: &DateTime<Tz>) -> DateTime<FixedOffset> {
    let utc = at.naive_utc();
    let year = utc.year();
    let summer = match (last_sunday(year, 3), last_sunday(year, 10)) {
        (Some(spring), Some(autumn)) => utc >= at_hour(spring, 1) && utc < at_hour(autumn, 1),
        _ => false,
    };
    let tz = offset(if summer { EEST } else { EET });
    tz.from_utc_datetime(&utc)
}

/// Writes an instant as the vendor does: Greek local time, no offset.
pub fn format_athens<Tz: TimeZone>(at: &DateTime<Tz>) -> String {
    to_athens(at).format(DATE_FORMAT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vtrack::wire::ReturnsResponse;

    fn athens(s: &str) -> String {
        parse_athens(s).expect("a date").to_rfc3339()
    }

    #[test]
    fn tracking_status_table_row_by_row() {
        assert_eq!(
            tracking_status("delivered"),
            Some(TrackingStatus::Delivered)
        );
        assert_eq!(
            tracking_status("returned"),
            Some(TrackingStatus::ReturnToSender)
        );
        assert_eq!(
            tracking_status("refused"),
            Some(TrackingStatus::ReturnToSender)
        );
        assert_eq!(tracking_status("lost"), None);
        assert_eq!(TRACKING_STATUSES.len(), 3);
    }

    #[test]
    fn athens_offsets_on_both_sides_of_the_spring_switch() {
        // 2025: last Sunday of March is the 30th; 2026: the 29th.
        assert_eq!(athens("2025-03-30 02:59:59"), "2025-03-30T02:59:59+02:00");
        assert_eq!(athens("2025-03-30 04:00:00"), "2025-03-30T04:00:00+03:00");
        assert_eq!(athens("2026-03-29 02:59:59"), "2026-03-29T02:59:59+02:00");
        assert_eq!(athens("2026-03-29 04:00:00"), "2026-03-29T04:00:00+03:00");
        // The gap hour, which no clock shows, reads as summer time.
        assert_eq!(athens("2026-03-29 03:30:00"), "2026-03-29T03:30:00+03:00");
        // A week earlier and the day before are still winter.
        assert_eq!(athens("2026-03-22 12:00:00"), "2026-03-22T12:00:00+02:00");
        assert_eq!(athens("2026-03-28 23:59:59"), "2026-03-28T23:59:59+02:00");
    }

    #[test]
    fn athens_offsets_on_both_sides_of_the_autumn_switch() {
        // 2025: last Sunday of October is the 26th; 2026: the 25th.
        assert_eq!(athens("2025-10-26 02:59:59"), "2025-10-26T02:59:59+03:00");
        assert_eq!(athens("2025-10-26 04:00:00"), "2025-10-26T04:00:00+02:00");
        assert_eq!(athens("2026-10-25 03:59:59"), "2026-10-25T03:59:59+03:00");
        assert_eq!(athens("2026-10-25 04:00:00"), "2026-10-25T04:00:00+02:00");
        assert_eq!(athens("2026-10-18 12:00:00"), "2026-10-18T12:00:00+03:00");
        assert_eq!(athens("2026-12-24 18:00"), "2026-12-24T18:00:00+02:00");
    }

    #[test]
    fn utc_instants_around_the_switches_get_athens_time() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("rfc3339");
        // Spring: 00:59:59 UTC is 02:59:59 EET; 01:00 UTC is 04:00 EEST.
        assert_eq!(
            format_athens(&at("2026-03-29T00:59:59Z")),
            "2026-03-29 02:59:59"
        );
        assert_eq!(
            to_athens(&at("2026-03-29T01:00:00Z")).to_rfc3339(),
            "2026-03-29T04:00:00+03:00"
        );
        // Autumn: 00:59:59 UTC is 03:59:59 EEST; 01:00 UTC is 03:00 EET.
        assert_eq!(
            to_athens(&at("2026-10-25T00:59:59Z")).to_rfc3339(),
            "2026-10-25T03:59:59+03:00"
        );
        assert_eq!(
            to_athens(&at("2026-10-25T01:00:00Z")).to_rfc3339(),
            "2026-10-25T03:00:00+02:00"
        );
        // Round trip outside the switch hours.
        for s in ["2026-08-01T06:00:00+03:00", "2026-11-20T09:15:00+02:00"] {
            assert_eq!(parse_athens(&format_athens(&at(s))), Some(at(s)));
        }
    }

    #[test]
    fn unreadable_dates_are_none() {
        assert_eq!(parse_athens("06/06/2025 16:43"), None);
        assert_eq!(parse_athens(""), None);
        assert_eq!(parse_athens("2025-02-30 10:00:00"), None);
    }

    #[test]
    fn the_doc_sample_maps() {
        let body = include_str!("../../fixtures/vtrack/returns.response.json");
        let wire: ReturnsResponse = serde_json::from_str(body).expect("sample");
        let report = map_report(wire);
        assert_eq!(report.skipped(), 0);
        assert_eq!(report.returns.len(), 1);
        assert_eq!(report.deliveries.len(), 3);

        let r = &report.returns[0];
        assert_eq!(r.vendor, Vendor::VTrack);
        assert_eq!(r.id, "5011787223");
        assert_eq!(r.tracking_number.as_deref(), Some("5011787223"));
        assert_eq!(r.order_reference.as_deref(), Some("67QJ0321851"));
        assert_eq!(r.status, ReturnStatus::Received);
        assert_eq!(r.status_raw, "returned");
        assert_eq!(r.tracking_status, Some(TrackingStatus::ReturnToSender));
        assert!(!r.refused);
        assert_eq!(
            r.invoice_id.as_deref(),
            Some("46fcb79e-4542-78bc-f8eb-01974500b35d")
        );
        // June: EEST.
        assert_eq!(
            r.created_at.map(|d| d.to_rfc3339()).as_deref(),
            Some("2025-06-06T16:43:00+03:00")
        );
        assert_eq!(
            r.updated_at.map(|d| d.to_rfc3339()).as_deref(),
            Some("2025-06-11T12:47:00+03:00")
        );
        let c = r.customer.as_ref().expect("customer");
        assert_eq!(c.name.as_deref(), Some("Νικολάου Τάσος"));
        assert_eq!(c.email.as_deref(), Some("xxxxxx@gmail.com"));
        assert_eq!(c.phone.as_deref(), Some("+306979000000"));
        assert_eq!(c.email_raw.as_deref(), Some("xxxxxx@GMAIL.COM"));
        assert_eq!(c.phone_raw.as_deref(), Some("6979000000"));

        let d = &report.deliveries[0];
        assert_eq!(d.tracking_number, "5010500634");
        assert_eq!(d.order_reference.as_deref(), Some("JCPP0320922"));
        assert_eq!(
            d.delivered_at.map(|d| d.to_rfc3339()).as_deref(),
            Some("2025-06-04T13:29:00+03:00")
        );
        // An empty web_order_id is no reference.
        assert_eq!(report.deliveries[2].order_reference, None);
        assert_eq!(report.deliveries[2].customer.as_ref(), Some(c));
    }

    #[test]
    fn a_refused_parcel_keeps_its_raw_state() {
        let body = r#"{"rows":[{"customer":{"customer":"A  B","email":null,"mobile":6912345678},
            "return":[{"voucher":5011787223,"finalization_dates":"2026-01-10 10:00:00",
            "return_delivery_date":"","with_refusal":1,"invoice_id":null,"web_order_id":null}]}]}"#;
        let wire: ReturnsResponse = serde_json::from_str(body).expect("body");
        let report = map_report(wire);
        let r = &report.returns[0];
        assert!(r.refused);
        assert_eq!(r.status_raw, "refused");
        assert_eq!(r.tracking_status_raw.as_deref(), Some("refused"));
        assert_eq!(r.tracking_status, Some(TrackingStatus::ReturnToSender));
        assert_eq!(r.status, ReturnStatus::Received);
        assert_eq!(r.id, "5011787223");
        assert_eq!(r.order_reference, None);
        assert_eq!(r.invoice_id, None);
        assert_eq!(
            r.created_at.map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-01-10T10:00:00+02:00")
        );
        assert_eq!(r.updated_at, r.created_at);
        let c = r.customer.as_ref().expect("customer");
        assert_eq!(c.name.as_deref(), Some("A B"));
        assert_eq!(c.email, None);
        assert_eq!(c.phone.as_deref(), Some("+306912345678"));
    }

    #[test]
    fn one_bad_row_or_entry_does_not_cost_the_report() {
        let body = r#"{"rows":[
            "not a row",
            {"customer":{"customer":"Good One","email":"GOOD@EXAMPLE.COM","mobile":"6911111111"},
             "return":[
               {"voucher":"5000000001","finalization_dates":"2026-02-01 10:00:00",
                "return_delivery_date":"2026-02-05 11:00:00","with_refusal":"",
                "invoice_id":"i1","web_order_id":"W1"},
               {"voucher":"5000000002","finalization_dates":"yesterday",
                "with_refusal":"1"},
               {"voucher":"","with_refusal":"1"},
               {"voucher":"5000000003","with_refusal":"perhaps"},
               {"finalization_dates":"2026-02-01 10:00:00"}
             ],
             "delivered":[
               {"voucher":5000000004,"finalization_dates":"2026-02-01 10:00:00",
                "delivered_date":"2026-02-02 12:00:00","invoice_id":"i4","web_order_id":""},
               {"voucher":{"nested":true}}
             ]},
            {"customer":null,"return":[],"delivered":[
               {"voucher":"5000000005","delivered_date":"2026-07-01 09:00:00"}]}
        ]}"#;
        let wire: ReturnsResponse = serde_json::from_str(body).expect("body");
        let report = map_report(wire);
        assert_eq!(report.skipped_rows, 1);
        assert_eq!(report.skipped_entries, 5);
        assert_eq!(report.skipped(), 6);
        let ids: Vec<_> = report.returns.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["5000000001"]);
        let numbers: Vec<_> = report
            .deliveries
            .iter()
            .map(|d| d.tracking_number.as_str())
            .collect();
        assert_eq!(numbers, ["5000000004", "5000000005"]);
        assert_eq!(report.deliveries[1].customer, None);
        assert_eq!(
            report.deliveries[1]
                .delivered_at
                .map(|d| d.to_rfc3339())
                .as_deref(),
            Some("2026-07-01T09:00:00+03:00")
        );
    }
}
