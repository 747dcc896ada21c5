//! Tolerant serde readers for the vendors' documented wire quirks, written once for all five.
//!
//! The vendors' APIs are PHP underneath and drift between JSON types: numbers come as numeric
//! strings (`"total": "53"`), strings as numbers (a phone or a voucher as `6979000000`), booleans
//! as `"1"` / `""` / `"true"`, and "nothing" as `null`, `""`, `[]` or `{}`. Use these with
//! `#[serde(deserialize_with = "lenient::…")]` (add `default` when the field may be missing).
//!
//! The rules, the same for every function here:
//! - a value of the right kind in any of its documented spellings is accepted;
//! - for an optional value, `null` (and, for numbers, booleans, lists and objects, `""`) is
//!   absent: `None` or an empty list; an empty string for a *string* is a string, kept as sent
//!   (vendors write `""` back and forth and the mapping decides what it means);
//! - a value of the wrong kind (an object for a number, `"abc"` for an integer, `2` for a
//!   boolean) is an error that names what was expected, never a silent default.
//!
//! Numbers go through [`serde_json::Value`], so these work with any self-describing format.

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, DeserializeOwned, Deserializer, Error as _, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// The error for `got` when `expected` was wanted (`expected an integer, got "abc"`).
fn wrong<E: de::Error>(expected: &str, got: &Value) -> E {
    E::custom(format_args!("expected {expected}, got {got}"))
}

/// The error for a required value that came as `null` or `""`.
fn missing<E: de::Error>(expected: &str) -> E {
    E::custom(format_args!("expected {expected}, got nothing"))
}

/// A string or a number / boolean written as one (`"phone": 1234567890`); `null` is `None`.
/// Strings are kept exactly as sent, `""` included.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(wrong("a string", &other)),
    }
}

/// As [`opt_string`], for a required string: `null` is an error.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_string(d)?.ok_or_else(|| missing("a string"))
}

/// As [`opt_string`], for a string whose absence means empty (its struct defaults it to `""`):
/// `null` reads as `""`, like a missing field.
pub fn string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

/// `None` for `null` and for a string that is blank once trimmed; otherwise the trimmed text
/// of a string or the text of a number. Anything else is an error naming `expected`.
fn number_text<E: de::Error>(v: &Value, expected: &str) -> Result<Option<String>, E> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned())),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(wrong(expected, other)),
    }
}

/// A whole number from a JSON number (`5`, or a float without a fraction such as `5.0`) or a
/// numeric string (`"5"`, `" 5 "`). `None` for `null` / `""`.
fn to_i64<E: de::Error>(v: &Value) -> Result<Option<i64>, E> {
    const EXPECTED: &str = "an integer";
    if let Value::Number(n) = v {
        return n
            .as_i64()
            .or_else(|| whole(n.as_f64()?, i64::MIN as f64, i64::MAX as f64).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| wrong(EXPECTED, v));
    }
    number_text(v, EXPECTED)?
        .map(|t| t.parse().map_err(|_| wrong(EXPECTED, v)))
        .transpose()
}

/// As [`to_i64`], not negative, up to `u64::MAX`.
fn to_u64<E: de::Error>(v: &Value) -> Result<Option<u64>, E> {
    const EXPECTED: &str = "a non-negative integer";
    if let Value::Number(n) = v {
        return n
            .as_u64()
            .or_else(|| whole(n.as_f64()?, 0.0, u64::MAX as f64).map(|f| f as u64))
            .map(Some)
            .ok_or_else(|| wrong(EXPECTED, v));
    }
    number_text(v, EXPECTED)?
        .map(|t| t.parse().map_err(|_| wrong(EXPECTED, v)))
        .transpose()
}

/// `f` when it is a whole number in `min..max`.
fn whole(f: f64, min: f64, max: f64) -> Option<f64> {
    (f.fract() == 0.0 && f >= min && f < max).then_some(f)
}

/// A finite number from a JSON number or a numeric string. `None` for `null` / `""`.
fn to_f64<E: de::Error>(v: &Value) -> Result<Option<f64>, E> {
    const EXPECTED: &str = "a number";
    let number = match v {
        Value::Number(n) => n.as_f64(),
        _ => match number_text(v, EXPECTED)? {
            None => return Ok(None),
            Some(t) => t.parse::<f64>().ok(),
        },
    };
    number
        .filter(|f| f.is_finite())
        .map(Some)
        .ok_or_else(|| wrong(EXPECTED, v))
}

/// An integer as a number or a numeric string; `null` / `""` is `None`.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    to_i64(&Value::deserialize(d)?)
}

/// As [`opt_i64`], for a required integer: `null` / `""` is an error.
pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    opt_i64(d)?.ok_or_else(|| missing("an integer"))
}

/// A non-negative integer (an id, a count) as a number or a numeric string; `null` / `""` is
/// `None`.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    to_u64(&Value::deserialize(d)?)
}

/// As [`opt_u64`], for a required one: `null` / `""` is an error.
pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    opt_u64(d)?.ok_or_else(|| missing("a non-negative integer"))
}

/// A finite number as a number or a numeric string; `null` / `""` is `None`.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    to_f64(&Value::deserialize(d)?)
}

/// As [`opt_f64`], for a required number: `null` / `""` is an error.
pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    opt_f64(d)?.ok_or_else(|| missing("a number"))
}

/// An exact decimal from the text of a JSON number (`30.23` stays `30.23`, not
/// `30.2299999…`) or from a numeric string, plain or scientific (`"1.5e3"`). `null` and `""`
/// are errors: wrap in `Option` for a value that may be `null`.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    const EXPECTED: &str = "a decimal number";
    let v = Value::deserialize(d)?;
    let text = match &v {
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => return Ok(Decimal::from(i)),
            (_, Some(u), _) => return Ok(Decimal::from(u)),
            // The float's shortest text, which is what the vendor wrote.
            (_, _, Some(f)) => f.to_string(),
            _ => return Err(wrong(EXPECTED, &v)),
        },
        _ => number_text(&v, EXPECTED)?.ok_or_else(|| missing(EXPECTED))?,
    };
    text.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(&text))
        .map(|d| d.normalize())
        .map_err(|_| wrong(EXPECTED, &v))
}

/// A boolean in any of the PHP spellings: `true`/`false`, `1`/`0`, `"true"`/`"false"`,
/// `"1"`/`"0"`, `"yes"`/`"no"` (any case, surrounding spaces ignored). `null` and `""` are
/// `None`; anything else (`2`, `"maybe"`, `[]`) is an error.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    const EXPECTED: &str = r#"a boolean (true, false, 1, 0, "1", "0", "yes", "no" or "")"#;
    let v = Value::deserialize(d)?;
    let text = match &v {
        Value::Null => return Ok(None),
        Value::Bool(b) => return Ok(Some(*b)),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_ascii_lowercase(),
        other => return Err(wrong(EXPECTED, other)),
    };
    match text.as_str() {
        "" => Ok(None),
        "true" | "1" | "yes" => Ok(Some(true)),
        "false" | "0" | "no" => Ok(Some(false)),
        _ => Err(wrong(EXPECTED, &v)),
    }
}

/// A list, or an empty one for the PHP-style empty values `null`, `""` and `{}`. A non-empty
/// object or string, or a number, is an error.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if s.is_empty() => Ok(Vec::new()),
        Value::Object(o) if o.is_empty() => Ok(Vec::new()),
        v @ Value::Array(_) => Vec::<T>::deserialize(v).map_err(D::Error::custom),
        other => Err(wrong("a list", &other)),
    }
}

/// An object, or `None` for the PHP-style empty values `null`, `""` and `[]`. Anything else
/// that is not an object is an error.
pub fn opt_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::Array(a) if a.is_empty() => Ok(None),
        v @ Value::Object(_) => T::deserialize(v).map(Some).map_err(D::Error::custom),
        other => Err(wrong("an object", &other)),
    }
}

/// A JSON string or number, kept as the vendor wrote it (a voucher, a mobile, an invoice id),
/// and written back the same way. [`Scalar::as_text`] gives its text either way
/// (`5011787223` and `"5011787223"` are the same voucher). Anything else is an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    Text(String),
    Number(serde_json::Number),
}

impl Scalar {
    pub fn text(s: impl Into<String>) -> Self {
        Scalar::Text(s.into())
    }

    /// The value as text, trimmed; `None` when that is empty.
    pub fn as_text(&self) -> Option<String> {
        let text = match self {
            Scalar::Text(s) => s.trim().to_owned(),
            Scalar::Number(n) => n.to_string(),
        };
        (!text.is_empty()).then_some(text)
    }
}

impl From<&str> for Scalar {
    fn from(s: &str) -> Self {
        Scalar::Text(s.to_owned())
    }
}

impl Serialize for Scalar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Scalar::Text(s) => serializer.serialize_str(s),
            Scalar::Number(n) => n.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Text(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                serde_json::Number::from_f64(v)
                    .map(Scalar::Number)
                    .ok_or_else(|| E::custom("a non-finite number"))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    type Reader<T> = fn(Value) -> Result<T, serde_json::Error>;

    /// `f` reads each value as the one paired with it.
    fn accepts<T: PartialEq + fmt::Debug>(f: Reader<T>, cases: &[(Value, T)]) {
        for (value, want) in cases {
            assert_eq!(&f(value.clone()).unwrap(), want, "{value}");
        }
    }

    /// `f` refuses each value with an error saying it expected `expected`.
    fn rejects<T: fmt::Debug>(f: Reader<T>, bad: &[Value], expected: &str) {
        for value in bad {
            let err = f(value.clone()).unwrap_err().to_string();
            assert!(
                err.contains(&format!("expected {expected}")),
                "{value}: {err}"
            );
        }
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn strings_accept_numbers_and_booleans_and_keep_empty() {
        accepts(
            opt_string,
            &[
                (json!("a b "), some("a b ")),
                (json!(""), some("")),
                (json!(6979000000u64), some("6979000000")),
                (json!(1.5), some("1.5")),
                (json!(false), some("false")),
                (json!(null), None),
            ],
        );
        rejects(opt_string, &[json!({"a": 1}), json!([])], "a string");

        accepts(string, &[(json!(42), "42".into()), (json!(""), "".into())]);
        rejects(string, &[json!(null), json!([1])], "a string");

        accepts(
            string_or_empty,
            &[(json!(null), "".into()), (json!("x"), "x".into())],
        );
        rejects(string_or_empty, &[json!({})], "a string");
    }

    #[test]
    fn integers_accept_numbers_and_numeric_strings() {
        accepts(
            opt_i64,
            &[
                (json!(5), Some(5)),
                (json!(-5), Some(-5)),
                (json!(5.0), Some(5)),
                (json!(" 7 "), Some(7)),
                (json!("-7"), Some(-7)),
                (json!(null), None),
                (json!("  "), None),
            ],
        );
        let bad = [
            json!(5.5),
            json!("abc"),
            json!("5.0"),
            json!(true),
            json!([1]),
            json!(1e300),
        ];
        rejects(opt_i64, &bad, "an integer");

        accepts(i64, &[(json!("4017"), 4017), (json!(4001), 4001)]);
        rejects(i64, &[json!(null), json!(""), json!({})], "an integer");
    }

    #[test]
    fn unsigned_integers_refuse_negatives() {
        accepts(
            opt_u64,
            &[
                (json!(u64::MAX), Some(u64::MAX)),
                (json!("12345001"), Some(12345001)),
                (json!(3.0), Some(3)),
                (json!(null), None),
                (json!(""), None),
            ],
        );
        let bad = [json!(-1), json!("-1"), json!(1.5), json!("x"), json!(false)];
        rejects(opt_u64, &bad, "a non-negative integer");

        accepts(u64, &[(json!(" 15 "), 15)]);
        rejects(
            u64,
            &[json!(null), json!(""), json!(-3)],
            "a non-negative integer",
        );
    }

    #[test]
    fn floats_accept_numbers_and_numeric_strings_but_not_infinity() {
        accepts(
            opt_f64,
            &[
                (json!(30.23), Some(30.23)),
                (json!(15), Some(15.0)),
                (json!(" 44.5 "), Some(44.5)),
                (json!(null), None),
                (json!(""), None),
            ],
        );
        let bad = [
            json!("abc"),
            json!("inf"),
            json!("NaN"),
            json!(true),
            json!({}),
        ];
        rejects(opt_f64, &bad, "a number");

        accepts(f64, &[(json!("23.9"), 23.9)]);
        rejects(f64, &[json!(null), json!([])], "a number");
    }

    #[test]
    fn decimals_are_exact() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        accepts(
            decimal,
            &[
                (json!(30.23), d("30.23")),
                (json!(15), d("15")),
                (json!(-2), d("-2")),
                (json!(" 12.50 "), d("12.5")),
                (json!("1.5e3"), d("1500")),
            ],
        );
        let bad = [
            json!("abc"),
            json!(""),
            json!(null),
            json!(true),
            json!([1]),
        ];
        rejects(decimal, &bad, "a decimal number");
    }

    #[test]
    fn booleans_read_every_php_spelling() {
        accepts(
            opt_bool,
            &[
                (json!(true), Some(true)),
                (json!(false), Some(false)),
                (json!(1), Some(true)),
                (json!(0), Some(false)),
                (json!("1"), Some(true)),
                (json!("0"), Some(false)),
                (json!("true"), Some(true)),
                (json!(" False "), Some(false)),
                (json!("yes"), Some(true)),
                (json!("NO"), Some(false)),
                (json!(""), None),
                (json!(null), None),
            ],
        );
        let bad = [json!(2), json!("maybe"), json!(1.0), json!([]), json!({})];
        rejects(opt_bool, &bad, "a boolean");
    }

    #[test]
    fn lists_read_php_empty_values_as_empty() {
        let ints: Reader<Vec<i64>> = list;
        accepts(
            ints,
            &[
                (json!([1, 2]), vec![1, 2]),
                (json!([]), vec![]),
                (json!(null), vec![]),
                (json!(""), vec![]),
                (json!({}), vec![]),
            ],
        );
        rejects(ints, &[json!("x"), json!({"a": 1}), json!(3)], "a list");
        // An element of the wrong kind is an error too.
        assert!(ints(json!([1, "x"])).is_err());
    }

    #[test]
    fn objects_read_php_empty_values_as_none() {
        type Map = std::collections::BTreeMap<String, i64>;
        let obj: Reader<Option<Map>> = opt_object;
        let one = Map::from([("a".to_owned(), 1)]);
        accepts(
            obj,
            &[
                (json!({"a": 1}), Some(one)),
                (json!({}), Some(Map::new())),
                (json!(null), None),
                (json!(""), None),
                (json!([]), None),
            ],
        );
        rejects(obj, &[json!("x"), json!([1]), json!(7)], "an object");
    }

    #[test]
    fn missing_and_null_optional_fields_read_as_none_through_derive() {
        #[derive(Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "opt_u64")]
            n: Option<u64>,
            #[serde(default, deserialize_with = "list")]
            items: Vec<String>,
        }
        let t: T = serde_json::from_str("{}").unwrap();
        assert_eq!((t.n, t.items.len()), (None, 0));
        let t: T = serde_json::from_str(r#"{"n": "9", "items": ""}"#).unwrap();
        assert_eq!((t.n, t.items.len()), (Some(9), 0));
        assert!(serde_json::from_str::<T>(r#"{"n": {}}"#).is_err());
    }

    #[test]
    fn scalars_accept_strings_and_numbers() {
        let v: Scalar = serde_json::from_str("5011787223").unwrap();
        assert_eq!(v.as_text().as_deref(), Some("5011787223"));
        let v: Scalar = serde_json::from_str(r#"" 5011787223 ""#).unwrap();
        assert_eq!(v.as_text().as_deref(), Some("5011787223"));
        let v: Scalar = serde_json::from_str(r#""""#).unwrap();
        assert_eq!(v.as_text(), None);
        assert!(serde_json::from_str::<Scalar>("[1]").is_err());
        assert!(serde_json::from_str::<Scalar>("true").is_err());
        assert_eq!(
            serde_json::to_string(&Scalar::Number(6979000000u64.into())).unwrap(),
            "6979000000"
        );
        assert_eq!(serde_json::to_string(&Scalar::text("x")).unwrap(), r#""x""#);
    }
}
