//! The `DateTime` and `Date` scalars: chrono's values on the wire exactly as async-graphql's
//! chrono scalars wrote and read them, with descriptions written for API users (chrono's own
//! named Rust types and strftime patterns) and `Date` instead of `NaiveDate`.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{FixedOffset, NaiveDate};

/// The `DateTime` scalar (its description, for API users, is on the `ScalarType` impl).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub chrono::DateTime<FixedOffset>);

/// A date and time with its offset from UTC, as an RFC 3339 string, e.g.
/// `2026-06-15T09:30:00+02:00`. Answers write UTC as `+00:00` and show fractions of a second
/// only when there are any; arguments may also write UTC as `Z`.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => Ok(DateTime(s.parse::<chrono::DateTime<FixedOffset>>()?)),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

impl From<chrono::DateTime<FixedOffset>> for DateTime {
    fn from(at: chrono::DateTime<FixedOffset>) -> Self {
        DateTime(at)
    }
}

impl From<chrono::DateTime<chrono::Utc>> for DateTime {
    fn from(at: chrono::DateTime<chrono::Utc>) -> Self {
        DateTime(at.fixed_offset())
    }
}

impl From<DateTime> for chrono::DateTime<FixedOffset> {
    fn from(at: DateTime) -> Self {
        at.0
    }
}

impl std::ops::Deref for DateTime {
    type Target = chrono::DateTime<FixedOffset>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// The `Date` scalar (its description, for API users, is on the `ScalarType` impl).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar date without a time of day or a time zone, as `YYYY-MM-DD` (RFC 3339's
/// full-date), e.g. `2026-06-15`.
#[Scalar(
    name = "Date",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => Ok(Date(NaiveDate::parse_from_str(&s, "%Y-%m-%d")?)),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl std::ops::Deref for Date {
    type Target = NaiveDate;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire formats are chrono's, as before these scalars had their own descriptions.
    #[test]
    fn wire_formats_are_unchanged() {
        for text in ["2026-06-15T09:30:00+02:00", "2026-06-15T07:30:00Z"] {
            let ours = DateTime::parse(Value::String(text.into())).unwrap();
            let chronos =
                <chrono::DateTime<FixedOffset> as ScalarType>::parse(Value::String(text.into()))
                    .unwrap();
            assert_eq!(ours.0, chronos);
            assert_eq!(ours.to_value(), chronos.to_value());
        }
        let date = Date::parse(Value::String("2026-06-15".into())).unwrap();
        assert_eq!(date.to_value(), Value::String("2026-06-15".into()));
        assert!(Date::parse(Value::String("15/06/2026".into())).is_err());
        assert!(DateTime::parse(Value::String("2026-06-15".into())).is_err());
    }
}
