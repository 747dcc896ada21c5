//! Keyset pages of a newest-first listing: items sorted by `(created_at desc, vendor, id)` (a
//! stable order, so a cursor stays valid while data changes), cut after a cursor, `first` long.
//! The index runs the query; returns and orders page the same way, through here.

use std::cmp::Reverse;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, FixedOffset};
use vendors::model::Vendor;
use vendors::VendorError;

use super::error::{Result, ServiceError};
use crate::index::{Position, Rows};

/// Position of an item in a newest-first listing: `(created_at, vendor, id)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SortKey(Reverse<i64>, &'static str, String);

impl SortKey {
    pub fn of(created_at: Option<DateTime<FixedOffset>>, vendor: Vendor, id: &str) -> Self {
        let millis = created_at.map_or(i64::MIN, |t| t.timestamp_millis());
        SortKey(Reverse(millis), vendor.as_str(), id.to_owned())
    }

    /// Where this key stands in the index's listing order.
    pub fn position(&self) -> Position {
        Position {
            created_at: self.0 .0,
            vendor: self.1.to_owned(),
            id: self.2.clone(),
        }
    }

    /// Opaque to callers: base64url of `millis|vendor|id`.
    pub fn cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}|{}", self.0 .0, self.1, self.2))
    }

    pub fn parse(cursor: &str) -> Option<SortKey> {
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
        let mut parts = raw.splitn(3, '|');
        let millis = parts.next()?.parse().ok()?;
        let vendor = parts.next()?;
        let vendor = Vendor::ALL.into_iter().find(|v| v.as_str() == vendor)?;
        Some(SortKey(
            Reverse(millis),
            vendor.as_str(),
            parts.next()?.to_owned(),
        ))
    }
}

/// Which page: `first` items after the cursor `after`.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub first: i32,
    pub after: Option<String>,
}

/// One page of a listing, with where it stands and the vendors that could not answer (the
/// listing covers the others).
#[derive(Debug)]
pub struct Page<T> {
    /// `(cursor, item)`, in listing order.
    pub items: Vec<(String, T)>,
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
    /// Every item matching, across pages.
    pub total_count: usize,
    pub failures: Vec<Arc<VendorError>>,
}

impl PageRequest {
    /// How many items and after which position, or the argument that is wrong: `first` above
    /// `max_page_size` (or below 0), an `after` that is not a cursor of this listing.
    pub(super) fn position(&self, max_page_size: usize) -> Result<(usize, Option<Position>)> {
        let first = usize::try_from(self.first)
            .ok()
            .filter(|&f| f <= max_page_size)
            .ok_or_else(|| {
                ServiceError::invalid("first", format!("must be between 0 and {max_page_size}"))
            })?;
        let after = match &self.after {
            None => None,
            Some(cursor) => Some(
                SortKey::parse(cursor)
                    .ok_or_else(|| ServiceError::invalid("after", "not a cursor of this listing"))?
                    .position(),
            ),
        };
        Ok((first, after))
    }
}

/// A page of rows the index answered, with each row's cursor.
pub(super) fn page_of<T>(
    rows: Rows<T>,
    key: impl Fn(&T) -> SortKey,
    failures: Vec<Arc<VendorError>>,
) -> Page<Arc<T>> {
    let items: Vec<(String, Arc<T>)> = rows
        .rows
        .into_iter()
        .map(|row| (key(&row).cursor(), Arc::new(row)))
        .collect();
    Page {
        has_next_page: rows.more,
        end_cursor: items.last().map(|(c, _)| c.clone()),
        items,
        total_count: rows.total,
        failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_to_positions() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).map(|t| t.fixed_offset());
        let key = SortKey::of(at, Vendor::Rrr, "42|x");
        let parsed = SortKey::parse(&key.cursor()).unwrap();
        assert_eq!(parsed, key);
        assert_eq!(
            parsed.position(),
            Position {
                created_at: 1_700_000_000_000,
                vendor: "rrr".into(),
                id: "42|x".into()
            }
        );
        assert_eq!(SortKey::parse("not a cursor"), None);
    }

    #[test]
    fn bad_pages_name_their_argument() {
        let bad = |first, after: Option<&str>| match (PageRequest {
            first,
            after: after.map(str::to_owned),
        })
        .position(10)
        {
            Err(ServiceError::InvalidArgument { field, .. }) => field,
            other => panic!("{:?}", other.map(|p| p.0)),
        };
        assert_eq!(bad(11, None), "first");
        assert_eq!(bad(-1, None), "first");
        assert_eq!(bad(1, Some("not a cursor")), "after");
    }
}
