//! How model records become the index's columns: times as unix millis, statuses by their
//! serde names, the normalised contact keys, a return's reasons.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, FixedOffset};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use vendors::model::{Order, Return, TrackingStatus};

/// Hashed before the key, so the digests are ours alone (no table of hashed e-mails matches).
const DIGEST_DOMAIN: &[u8] = b"returns-gateway customer id\n";

/// A one-way digest of a contact key (a normalised e-mail or E.164 phone): `h:` and 128 bits
/// of SHA-256, base64url. What a customer's global id carries, so an id (plain base64 to
/// anyone) shows no e-mail or phone.
pub fn key_digest(key: &str) -> String {
    let hash = Sha256::new()
        .chain_update(DIGEST_DOMAIN)
        .chain_update(key)
        .finalize();
    format!("h:{}", URL_SAFE_NO_PAD.encode(&hash[..16]))
}

/// Unix millis; the smallest i64 for "unknown" (last in a newest-first listing, as the
/// listing's sort key puts it).
pub fn millis(at: Option<DateTime<FixedOffset>>) -> i64 {
    at.map_or(i64::MIN, |t| t.timestamp_millis())
}

/// A unit enum's serde name (`InTransit`), as stored.
pub fn code<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => panic!("a status serialises to its name, not {other:?}"),
    }
}

/// The enum a stored name names; `None` for a name this build does not know.
pub fn decode_code<T: DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

/// `text` for a `LIKE … ESCAPE '\'` pattern: its own `%`, `_` and `\` taken literally.
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An order whose shipping may still change (so the sync refreshes it).
pub fn order_is_open(o: &Order) -> bool {
    !matches!(
        o.shipping_status,
        TrackingStatus::Delivered | TrackingStatus::Cancelled | TrackingStatus::ReturnToSender
    )
}

/// The columns of a return row besides those copied as they are.
pub struct ReturnColumns {
    pub created_at: i64,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// ISO-3166 alpha-2, upper-case.
    pub country: Option<String>,
    /// Distinct reasons as given.
    pub reasons: Vec<String>,
    /// The reasons lower-case, one a line: what the reason filter searches.
    pub reasons_text: String,
}

impl ReturnColumns {
    pub fn of(r: &Return) -> ReturnColumns {
        let mut reasons: Vec<String> = Vec::new();
        for reason in r
            .items
            .iter()
            .filter_map(|i| i.reason.as_ref()?.reason.clone())
        {
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        let reasons_text = reasons
            .iter()
            .map(|r| r.to_lowercase())
            .collect::<Vec<_>>()
            .join("\n");
        ReturnColumns {
            created_at: millis(r.created_at),
            email: r.customer.as_ref().and_then(|c| c.email.clone()),
            phone: r.customer.as_ref().and_then(|c| c.phone.clone()),
            country: r
                .address
                .as_ref()
                .and_then(|a| a.country.as_deref())
                .map(str::to_ascii_uppercase),
            reasons,
            reasons_text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vendors::model::ReturnStatus;

    #[test]
    fn statuses_are_stored_by_name_and_read_back() {
        assert_eq!(code(&ReturnStatus::InTransit), "InTransit");
        assert_eq!(
            decode_code::<ReturnStatus>("InTransit"),
            Some(ReturnStatus::InTransit)
        );
        assert_eq!(decode_code::<ReturnStatus>("Teleported"), None);
    }

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_escape("50%_off\\"), "50\\%\\_off\\\\");
    }
}
