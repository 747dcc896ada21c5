//! Wire types: exactly as the vendor documents them.
//!
//! TrackRU mirrors TrackingMore's v2 API. The doc shows one tracking object (the update
//! sample); the shapes it leaves out (list page, batch result, realtime result, checkpoints)
//! follow TrackingMore v2, which is what TrackRU fronts. The same types serve the client and the
//! simulator, so both speak one wire format.
//!
//! Tolerance: the vendor writes `archived` and `status` as strings but TrackingMore-style APIs
//! send numbers or booleans in places (`"total": "53"`, `"status": 7` in the update request,
//! phones as numbers), so scalar fields accept a string, a number or a boolean (the shared
//! [`lenient`] readers). Checkpoint blocks (`origin_info` / `destination_info`) are not in the
//! doc at all and may be missing, `null`, `""` or `[]`: all of those read as "no checkpoints".

use serde::{Deserialize, Serialize};

use crate::lenient;

/// `{"meta": {...}, "data": ...}` around every answer. On an error `data` may be missing, empty
/// or `[]`: use `Envelope<Option<T>>` (or read only the [`Meta`]) there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub meta: Meta,
    pub data: T,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Meta {
    /// 200 / 201 on success, otherwise a TrackingMore error code (4001, 4016, ...).
    #[serde(deserialize_with = "lenient::i64")]
    pub code: i64,
    #[serde(rename = "type")]
    #[serde(deserialize_with = "lenient::string_or_empty")]
    pub kind: String,
    #[serde(deserialize_with = "lenient::string_or_empty")]
    pub message: String,
}

/// Only the `meta` of an answer, whatever its `data` is: how errors are read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetaOnly {
    pub meta: Meta,
}

/// A tracking item, as `GET|PUT /trackings/{carrier_code}/{tracking_number}`, `POST
/// /trackings/post`, the list and realtime answers carry it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tracking {
    /// 32 hex digits the vendor assigns.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::string_or_empty")]
    pub tracking_number: String,
    #[serde(deserialize_with = "lenient::string_or_empty")]
    pub carrier_code: String,
    /// RFC 3339 with offset, e.g. `2018-04-18T14:34:30+08:00`.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub title: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub logistics_channel: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_name: Option<String>,
    /// As the vendor has it; may be an obfuscated placeholder such as `[email protected]`.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_email: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_phone: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_id: Option<String>,
    /// ISO alpha-2 destination country.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_code: Option<String>,
    /// `"true"` / `"false"` as a string.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub archived: Option<String>,
    /// `pending`, `notfound`, `transit`, `pickup`, `delivered`, `undelivered`, `exception`,
    /// `expired`, or a manual override (`"4"` delivered, `"7"` exception).
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<String>,
    /// TrackingMore sub-status (e.g. `transit001`); kept, not interpreted.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub substatus: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub original_country: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_country: Option<String>,
    /// Checkpoints from the origin carrier (TrackingMore shape; not in TrackRU's doc).
    #[serde(
        deserialize_with = "lenient::opt_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub origin_info: Option<CarrierInfo>,
    /// Checkpoints from the destination country's carrier, when the parcel changed hands.
    #[serde(
        deserialize_with = "lenient::opt_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_info: Option<CarrierInfo>,
    #[serde(
        rename = "lastEvent",
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_event: Option<String>,
    #[serde(
        rename = "lastUpdateTime",
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_update_time: Option<String>,
}

/// `origin_info` / `destination_info`: one carrier's view of the parcel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CarrierInfo {
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub weblink: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub phone: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub carrier_code: Option<String>,
    /// Newest first, as TrackingMore lists them.
    #[serde(deserialize_with = "lenient::list")]
    pub trackinfo: Vec<Checkpoint>,
}

/// One `trackinfo[]` entry. Capitalised keys as TrackingMore writes them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Checkpoint {
    /// `YYYY-MM-DD HH:MM:SS` (carrier-local, no offset) or RFC 3339.
    #[serde(rename = "Date", deserialize_with = "lenient::string_or_empty")]
    pub date: String,
    #[serde(
        rename = "StatusDescription",
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub status_description: Option<String>,
    /// Where it happened, free text.
    #[serde(
        rename = "Details",
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub details: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub checkpoint_status: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub substatus: Option<String>,
}

/// Body of `POST /trackings/post`, and one element of `POST /trackings/batch`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateTracking {
    #[serde(deserialize_with = "lenient::string_or_empty")]
    pub tracking_number: String,
    /// Optional in TrackingMore (the vendor then tries to detect the carrier; 4032 if it can't).
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub carrier_code: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_code: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub title: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub logistics_channel: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_name: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_email: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_phone: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_id: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub lang: Option<String>,
}

/// Manual status commands of `PUT /trackings/{carrier_code}/{tracking_number}`.
pub mod status_command {
    /// Mark delivered.
    pub const DELIVERED: i64 = 4;
    /// Mark as an exception.
    pub const EXCEPTION: i64 = 7;
    /// Undo a manual override: back to the carrier's own status. Not a parcel state.
    pub const CARRIER_STATUS: i64 = 8;
}

/// Body of `PUT /trackings/{carrier_code}/{tracking_number}`, exactly the doc's parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdateTracking {
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub title: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub logistics_channel: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_name: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_email: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_phone: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_id: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_code: Option<String>,
    /// `"true"` / `"false"`.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub archived: Option<String>,
    /// A number (4, 7 or 8, see [`status_command`]); a numeric string is accepted too.
    #[serde(
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<i64>,
}

/// Query of `GET /trackings/get`. TrackRU's doc names no parameters; these are TrackingMore
/// v2's names: `page` (from 1), `limit` (default 100, at most 2000), `status`, and unix-second
/// ranges `created_at_min/max`, `update_time_min/max`; `numbers` / `orders` are comma lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at_min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at_max: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_time_min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_time_max: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numbers: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orders: Option<String>,
}

/// `data` of `GET /trackings/get`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListPage {
    #[serde(deserialize_with = "lenient::opt_u64")]
    pub page: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64")]
    pub limit: Option<u64>,
    /// All trackings matching the filters (TrackingMore writes it as a string at times).
    #[serde(deserialize_with = "lenient::opt_u64")]
    pub total: Option<u64>,
    #[serde(deserialize_with = "lenient::list")]
    pub items: Vec<Tracking>,
}

/// `data` of `POST /trackings/batch`: what was added and what was refused, per number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchResult {
    #[serde(deserialize_with = "lenient::opt_u64")]
    pub submitted: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64")]
    pub added: Option<u64>,
    #[serde(deserialize_with = "lenient::list")]
    pub trackings: Vec<Tracking>,
    #[serde(deserialize_with = "lenient::list")]
    pub errors: Vec<BatchError>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchError {
    #[serde(deserialize_with = "lenient::string_or_empty")]
    pub tracking_number: String,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub carrier_code: Option<String>,
    /// A TrackingMore error code (4016 already exists, 4013 number missing, ...).
    #[serde(deserialize_with = "lenient::i64")]
    pub code: i64,
    #[serde(deserialize_with = "lenient::string_or_empty")]
    pub message: String,
}

/// Body of `POST /trackings/realtime`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RealtimeRequest {
    #[serde(deserialize_with = "lenient::string_or_empty")]
    pub tracking_number: String,
    #[serde(deserialize_with = "lenient::string_or_empty")]
    pub carrier_code: String,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_code: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub lang: Option<String>,
}

/// `data` of `POST /trackings/realtime` (TrackingMore v2: `{"items": [tracking]}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RealtimeResult {
    #[serde(deserialize_with = "lenient::list")]
    pub items: Vec<Tracking>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn scalars_accept_strings_numbers_and_booleans() {
        let t: Tracking = serde_json::from_str(
            r#"{"tracking_number": 402934299065, "carrier_code": "sto", "archived": false,
                "status": 7, "customer_phone": 8612345678, "origin_info": "",
                "destination_info": []}"#,
        )
        .unwrap();
        assert_eq!(t.tracking_number, "402934299065");
        assert_eq!(t.archived.as_deref(), Some("false"));
        assert_eq!(t.status.as_deref(), Some("7"));
        assert_eq!(t.customer_phone.as_deref(), Some("8612345678"));
        assert_eq!(t.origin_info, None);
        assert_eq!(t.destination_info, None);
    }

    #[test]
    fn update_status_is_a_number_or_a_numeric_string() {
        let u: UpdateTracking = serde_json::from_str(r#"{"status": "8"}"#).unwrap();
        assert_eq!(u.status, Some(8));
        let json = serde_json::to_value(UpdateTracking {
            status: Some(status_command::EXCEPTION),
            ..UpdateTracking::default()
        })
        .unwrap();
        assert_eq!(json, serde_json::json!({"status": 7}));
    }

    #[test]
    fn error_envelopes_read_with_empty_or_missing_data() {
        for body in [
            r#"{"meta":{"code":4001,"type":"Unauthorized","message":"Invalid API key."},"data":[]}"#,
            r#"{"meta":{"code":"4017","type":"Bad Request","message":"Tracking does not exist."}}"#,
        ] {
            let e: Envelope<Option<Value>> = serde_json::from_str(body).unwrap();
            assert!(e.meta.code == 4001 || e.meta.code == 4017);
        }
    }
}
