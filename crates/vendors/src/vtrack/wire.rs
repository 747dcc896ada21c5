//! Wire types: exactly as the vendor documents them (`000_*.txt`, "Αναλυτικά στατιστικα
//! επιστροφών").
//!
//! One endpoint, `POST /statistics/returns/json.php?f=returns`, answers
//! `{"rows":[{"customer":{…},"return":[…],"delivered":[…]}]}`. The doc prints the answer with
//! PHP's `print_r`, so the JSON types of its scalars are unknown: vouchers and mobiles may come as
//! numbers or strings, empty fields as `""` or `null`, `with_refusal` as `""`/`"1"`/`1`/`true`.
//! These types accept all of that, and one row or entry that still cannot be read is kept as
//! [`Lenient::Unparsed`] instead of failing the whole report (the mapping skips and counts it).
//! The simulator serialises the same types, so client and simulator speak one format.

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::lenient;
/// Vouchers, mobiles, dates and ids: a JSON string or number, kept as written.
pub use crate::lenient::Scalar;

/// Path of the only documented endpoint (under the base URL).
pub const RETURNS_PATH: &str = "/statistics/returns/json.php";
/// The endpoint's `f` query parameter selects the report: `?f=returns`.
pub const RETURNS_FUNCTION: &str = "returns";
/// Header carrying the dashboard username.
pub const HEADER_PUBLIC: &str = "X-Public";

/// The report: one row per recipient.
///
/// `rows` is required: a JSON body without it is not this report (it is an error page or
/// something else), and reading it as an empty report would hide that. `null` (or `""`, `{}`)
/// reads as empty.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ReturnsResponse {
    #[serde(deserialize_with = "lenient::list")]
    pub rows: Vec<Lenient<Row>>,
}

/// One recipient and their parcels: those returned to sender and those delivered.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct Row {
    #[serde(default)]
    pub customer: Option<RowCustomer>,
    #[serde(rename = "return", default, deserialize_with = "lenient::list")]
    pub returns: Vec<Lenient<ReturnEntry>>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub delivered: Vec<Lenient<DeliveredEntry>>,
}

/// The recipient as the courier wrote them: dirty (leading spaces, upper-case e-mails, Greek
/// mobiles without `+30`); normalised by the mapping.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct RowCustomer {
    /// Full name, surname first in the doc's sample (`" Νικολάου Τάσος"`).
    #[serde(default)]
    pub customer: Option<Scalar>,
    #[serde(default)]
    pub email: Option<Scalar>,
    #[serde(default)]
    pub mobile: Option<Scalar>,
}

/// A parcel the recipient did not collect or refused, returned to the sender.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ReturnEntry {
    pub voucher: Scalar,
    /// `YYYY-MM-DD HH:MM:SS`, Greek local time: when the voucher was finalised (shipped).
    #[serde(default)]
    pub finalization_dates: Option<Scalar>,
    /// `YYYY-MM-DD HH:MM:SS`, Greek local time: when the parcel was back at the sender.
    #[serde(default)]
    pub return_delivery_date: Option<Scalar>,
    /// The recipient refused the parcel (otherwise it went unclaimed).
    #[serde(default)]
    pub with_refusal: Refusal,
    #[serde(default)]
    pub invoice_id: Option<Scalar>,
    /// The shop's order reference; often empty.
    #[serde(default)]
    pub web_order_id: Option<Scalar>,
}

/// A parcel delivered to the recipient.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct DeliveredEntry {
    pub voucher: Scalar,
    #[serde(default)]
    pub finalization_dates: Option<Scalar>,
    #[serde(default)]
    pub delivered_date: Option<Scalar>,
    #[serde(default)]
    pub invoice_id: Option<Scalar>,
    #[serde(default)]
    pub web_order_id: Option<Scalar>,
}

/// The error body of the simulator (and our guess at the vendor's): the doc shows no error
/// answer at all, so we chose the common PHP-API shape `{"error": "..."}` with an HTTP status
/// that says what went wrong (401 for wrong or missing credentials). See `client::api_error`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ErrorBody {
    pub error: String,
}

/// `with_refusal`: the sample sends `""` for false. Read with [`lenient::opt_bool`]: true is `1`,
/// `"1"` or `true` (or `"true"`, `"yes"`); false is `""`, `"0"`, `0`, `false` or `null` (or
/// `"false"`, `"no"`), and a missing field. Anything else is an error, which makes the entry
/// unreadable (skipped and counted) rather than guessed. Written back as the vendor does: `"1"`
/// or `""`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Refusal(pub bool);

impl Serialize for Refusal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(if self.0 { "1" } else { "" })
    }
}

impl<'de> Deserialize<'de> for Refusal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Refusal(lenient::opt_bool(deserializer)?.unwrap_or(false)))
    }
}

/// A row or entry of the report: read as `T` when it can be, else kept raw with the reason, so
/// one bad row never costs the whole report. Serialises back to what it was.
#[derive(Debug, Clone, PartialEq)]
pub enum Lenient<T> {
    Parsed(T),
    Unparsed {
        raw: serde_json::Value,
        error: String,
    },
}

impl<T> Lenient<T> {
    pub fn parsed(&self) -> Option<&T> {
        match self {
            Lenient::Parsed(t) => Some(t),
            Lenient::Unparsed { .. } => None,
        }
    }
}

impl<T> From<T> for Lenient<T> {
    fn from(value: T) -> Self {
        Lenient::Parsed(value)
    }
}

impl<T: Serialize> Serialize for Lenient<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Lenient::Parsed(t) => t.serialize(serializer),
            Lenient::Unparsed { raw, .. } => raw.serialize(serializer),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = serde_json::Value::deserialize(deserializer)?;
        Ok(match T::deserialize(&raw) {
            Ok(value) => Lenient::Parsed(value),
            Err(error) => Lenient::Unparsed {
                raw,
                error: error.to_string(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_reads_every_documented_spelling() {
        let cases = [
            (r#""""#, false),
            (r#""0""#, false),
            ("0", false),
            ("false", false),
            ("null", false),
            (r#""1""#, true),
            ("1", true),
            ("true", true),
        ];
        for (json, want) in cases {
            let got: Refusal = serde_json::from_str(json).unwrap();
            assert_eq!(got, Refusal(want), "{json}");
        }
        assert!(serde_json::from_str::<Refusal>(r#""maybe""#).is_err());
        assert!(serde_json::from_str::<Refusal>("2").is_err());
        assert_eq!(serde_json::to_string(&Refusal(true)).unwrap(), r#""1""#);
        assert_eq!(serde_json::to_string(&Refusal(false)).unwrap(), r#""""#);
    }

    #[test]
    fn a_bad_entry_is_kept_raw_and_the_rest_read() {
        let body = r#"{"rows":[{"customer":null,"return":[{"voucher":[1]},{"voucher":5}],
            "delivered":null}, 7]}"#;
        let report: ReturnsResponse = serde_json::from_str(body).unwrap();
        assert_eq!(report.rows.len(), 2);
        let row = report.rows[0].parsed().unwrap();
        assert!(matches!(row.returns[0], Lenient::Unparsed { .. }));
        assert_eq!(
            row.returns[1]
                .parsed()
                .unwrap()
                .voucher
                .as_text()
                .as_deref(),
            Some("5")
        );
        assert!(row.delivered.is_empty());
        assert!(matches!(report.rows[1], Lenient::Unparsed { .. }));
        // Written back unchanged.
        assert_eq!(
            serde_json::to_value(&report.rows[1]).unwrap(),
            serde_json::json!(7)
        );
    }

    #[test]
    fn a_body_without_rows_is_not_the_report() {
        assert!(serde_json::from_str::<ReturnsResponse>(r#"{"error":"x"}"#).is_err());
        assert!(serde_json::from_str::<ReturnsResponse>("[]").is_err());
        let empty: ReturnsResponse = serde_json::from_str(r#"{"rows":null}"#).unwrap();
        assert!(empty.rows.is_empty());
    }
}
