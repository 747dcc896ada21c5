//! Checks of caller input, each naming the field it refuses (`input.address.country`).

use chrono::NaiveTime;
use rust_decimal::Decimal;
use vendors::model::codes::{country_code, currency_code};
use vendors::model::{normalize_email, normalize_phone};

use super::error::{Result, ServiceError};

/// Trimmed, not empty.
pub fn required(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty"));
    }
    Ok(v.to_owned())
}

/// A decimal at or above 0.
pub fn amount(field: &str, raw: &str) -> Result<Decimal> {
    let d: Decimal = raw
        .trim()
        .parse()
        .map_err(|_| ServiceError::invalid(field, format!("{raw:?} is not a decimal number")))?;
    if d.is_sign_negative() {
        return Err(ServiceError::invalid(field, "must not be negative"));
    }
    Ok(d)
}

/// ISO-3166 alpha-2, upper-case.
pub fn country(field: &str, raw: &str) -> Result<String> {
    country_code(raw).ok_or_else(|| {
        ServiceError::invalid(field, format!("{raw:?} is not an ISO-3166 alpha-2 code"))
    })
}

/// ISO-4217, upper-case.
pub fn currency(field: &str, raw: &str) -> Result<String> {
    currency_code(raw)
        .ok_or_else(|| ServiceError::invalid(field, format!("{raw:?} is not an ISO-4217 code")))
}

/// Normalised: trimmed, lower-case.
pub fn email(field: &str, raw: &str) -> Result<String> {
    normalize_email(raw)
        .ok_or_else(|| ServiceError::invalid(field, format!("{raw:?} is not an e-mail address")))
}

/// E.164; a national number is read in `country`.
pub fn phone(field: &str, raw: &str, country: Option<&str>) -> Result<String> {
    normalize_phone(raw, country)
        .ok_or_else(|| ServiceError::invalid(field, format!("{raw:?} is not a phone number")))
}

/// `HH:MM`.
pub fn hhmm(field: &str, raw: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M")
        .map_err(|_| ServiceError::invalid(field, format!("{raw:?} is not HH:MM")))
}

/// An optional value checked by `check` when present.
pub fn optional<T>(
    value: Option<&str>,
    check: impl FnOnce(&str) -> Result<T>,
) -> Result<Option<T>> {
    value.map(check).transpose()
}
