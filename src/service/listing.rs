//! Keyset pages of a newest-first listing: items sorted by `(created_at desc, vendor, id)` (a
//! stable order, so a cursor stays valid while data changes), cut after a cursor, `first` long.
//! Returns and orders page the same way, through here.

use std::cmp::Reverse;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, FixedOffset};
use vendors::model::Vendor;
use vendors::VendorError;

use super::error::{Result, ServiceError};

/// Position of an item in a newest-first listing: `(created_at, vendor, id)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SortKey(Reverse<i64>, &'static str, String);

impl SortKey {
    pub fn of(created_at: Option<DateTime<FixedOffset>>, vendor: Vendor, id: &str) -> Self {
        let millis = created_at.map_or(i64::MIN, |t| t.timestamp_millis());
        SortKey(Reverse(millis), vendor.as_str(), id.to_owned())
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

/// Something a newest-first listing holds.
pub trait Listed {
    fn sort_key(&self) -> SortKey;
}

/// The page of `items` that `request` asks for: sorted, cut after the cursor, at most
/// `max_page_size` long (a larger `first` is refused, naming `first`).
pub fn page<T: Listed>(
    mut items: Vec<T>,
    request: &PageRequest,
    max_page_size: usize,
    failures: Vec<Arc<VendorError>>,
) -> Result<Page<T>> {
    let first = usize::try_from(request.first)
        .ok()
        .filter(|&f| f <= max_page_size)
        .ok_or_else(|| {
            ServiceError::invalid("first", format!("must be between 0 and {max_page_size}"))
        })?;
    let after = match &request.after {
        None => None,
        Some(cursor) => Some(
            SortKey::parse(cursor)
                .ok_or_else(|| ServiceError::invalid("after", "not a cursor of this listing"))?,
        ),
    };
    items.sort_by_cached_key(T::sort_key);
    let total_count = items.len();
    let start = after.map_or(0, |after| items.partition_point(|i| i.sort_key() <= after));
    let items: Vec<(String, T)> = items
        .into_iter()
        .skip(start)
        .take(first)
        .map(|item| (item.sort_key().cursor(), item))
        .collect();
    Ok(Page {
        has_next_page: start + items.len() < total_count,
        end_cursor: items.last().map(|(c, _)| c.clone()),
        items,
        total_count,
        failures,
    })
}

impl Listed for Arc<vendors::model::Return> {
    fn sort_key(&self) -> SortKey {
        SortKey::of(self.created_at, self.vendor, &self.id)
    }
}

impl Listed for Arc<vendors::model::Order> {
    fn sort_key(&self) -> SortKey {
        SortKey::of(self.created_at, self.vendor, &self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Item(i64, &'static str);
    impl Listed for Item {
        fn sort_key(&self) -> SortKey {
            let at = DateTime::from_timestamp(self.0, 0).map(|t| t.fixed_offset());
            SortKey::of(at, Vendor::Rrr, self.1)
        }
    }

    #[test]
    fn pages_walk_newest_first_and_cursors_round_trip() {
        let items = || vec![Item(1, "a"), Item(3, "c"), Item(2, "b"), Item(3, "d")];
        let request = |after| PageRequest { first: 2, after };
        let first = page(items(), &request(None), 100, Vec::new()).unwrap();
        let ids: Vec<&str> = first.items.iter().map(|(_, i)| i.1).collect();
        assert_eq!(ids, ["c", "d"]);
        assert!(first.has_next_page);
        let second = page(items(), &request(first.end_cursor), 100, Vec::new()).unwrap();
        let ids: Vec<&str> = second.items.iter().map(|(_, i)| i.1).collect();
        assert_eq!(ids, ["b", "a"]);
        assert!(!second.has_next_page);
        assert_eq!(second.total_count, 4);
    }

    #[test]
    fn bad_pages_name_their_argument() {
        let bad = |first, after: Option<&str>| match page(
            Vec::<Item>::new(),
            &PageRequest {
                first,
                after: after.map(str::to_owned),
            },
            10,
            Vec::new(),
        ) {
            Err(ServiceError::InvalidArgument { field, .. }) => field,
            other => panic!("{:?}", other.map(|p| p.total_count)),
        };
        assert_eq!(bad(11, None), "first");
        assert_eq!(bad(-1, None), "first");
        assert_eq!(bad(1, Some("not a cursor")), "after");
    }
}
