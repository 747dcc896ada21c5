//! The windowed, paged reads a returns index syncs with answer what the world holds: each
//! simulator reads them from its indexes, and these walks compare every page with the world
//! filtered and sorted plainly.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, FixedOffset};
use reqwest::Client;
use serde_json::{json, Value};
use simulators::world::{ReturnChannel, World};
use simulators::{SimSettings, Simulators};
use vendors::model::Vendor;
use vendors::procarrier::mapping::format_filter_date;

const RETURNS: usize = 3000;

async fn start() -> Simulators {
    let settings = SimSettings {
        returns: RETURNS,
        now: "2026-06-15T09:30:00Z".into(),
        ..SimSettings::default()
    };
    simulators::start_all(&settings, true, std::future::pending())
        .await
        .expect("the simulators start")
}

/// From and to, either open.
type Window = (Option<DateTime<FixedOffset>>, Option<DateTime<FixedOffset>>);

/// Windows over the world: recent, older, one end open, none.
fn windows(w: &World) -> Vec<Window> {
    let day = |n: i64| w.now - Duration::days(n);
    vec![
        (Some(day(7)), Some(w.now)),
        (Some(day(60)), Some(day(30))),
        (Some(day(20)), None),
        (None, Some(day(100))),
        (None, None),
    ]
}

fn within(at: DateTime<FixedOffset>, (from, to): Window) -> bool {
    from.is_none_or(|f| at >= f) && to.is_none_or(|t| at <= t)
}

async fn procarrier(client: &Client, sims: &Simulators, method: &str, request: Value) -> Value {
    let answer: Value = client
        .post(format!(
            "{}/{method}/json",
            sims.base_url(Vendor::ProCarrier)
        ))
        .json(&json!({"ApiKey": "procarrier-demo-key", "Request": request}))
        .send()
        .await
        .expect("ProCarrier answers")
        .json()
        .await
        .expect("JSON");
    answer["Success"].clone()
}

fn ids(values: &Value, key: &str) -> Vec<i64> {
    values
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v[key].as_i64().expect("an id"))
        .collect()
}

#[tokio::test]
async fn procarrier_returns_search_walks_each_window_by_id_last() {
    let sims = start().await;
    let (client, w) = (Client::new(), &sims.world);
    for window in windows(w) {
        let mut want: Vec<i64> = w
            .returns
            .iter()
            .filter(|r| r.channel == ReturnChannel::ProCarrier && within(r.created_at, window))
            .map(|r| r.id as i64)
            .collect();
        want.sort_unstable();
        let mut filter = json!({});
        if let Some(from) = window.0 {
            filter["DateFrom"] = json!(format_filter_date(from));
        }
        if let Some(to) = window.1 {
            filter["DateTo"] = json!(format_filter_date(to));
        }
        let mut got: Vec<i64> = Vec::new();
        loop {
            let page =
                procarrier(&client, &sims, "returns/search", json!({"Filter": filter})).await;
            assert_eq!(page["Total"], json!(want.len()), "{window:?}");
            let rows = ids(&page["Return"], "Id");
            got.extend(&rows);
            if rows.len() < 1000 {
                break;
            }
            filter["IdLast"] = json!(rows.last());
        }
        assert_eq!(got, want, "{window:?}");
    }
}

#[tokio::test]
async fn procarrier_tracking_windows_page_every_event_once_by_id() {
    let sims = start().await;
    let (client, w) = (Client::new(), &sims.world);
    // An event added now that happened a month ago: in a window of when events were added,
    // not of when they happened.
    let (parcel, month_ago) = (
        w.returns
            .iter()
            .find(|r| r.channel == ReturnChannel::ProCarrier)
            .map(|r| &w.parcels[r.parcel])
            .expect("a ProCarrier return"),
        w.now - Duration::days(30),
    );
    let added = procarrier(
        &client,
        &sims,
        "tracking/add",
        json!({"TrackingStatus": {"TrackingNumber": parcel.tracking_number, "Status": 26,
            "Date": format_filter_date(month_ago)}}),
    )
    .await;
    assert!(added.is_object(), "{added}");
    let recent = (w.now - Duration::days(3), w.now + Duration::hours(1));
    let older = (w.now - Duration::days(31), w.now - Duration::days(29));
    for (method, (from, to), late_event) in [
        ("tracking/range", recent, false),
        ("tracking/added", recent, true),
        ("tracking/range", older, true),
        ("tracking/added", older, false),
    ] {
        let mut want: Vec<i64> = w
            .returns
            .iter()
            .filter(|r| r.channel == ReturnChannel::ProCarrier)
            .flat_map(|r| &w.parcels[r.parcel].events)
            .filter(|e| within(e.at, (Some(from), Some(to))))
            .map(|e| e.id as i64)
            .collect();
        want.sort_unstable();
        let mut got = Vec::new();
        let mut late = 0;
        for page in 1.. {
            let answer = procarrier(
                &client,
                &sims,
                method,
                json!({"Filter": {"DateFrom": format_filter_date(from),
                    "DateTo": format_filter_date(to), "Page": page, "CountPerPage": 40}}),
            )
            .await;
            let mut events = Vec::new();
            for parcel in answer["TrackingData"].as_array().expect("tracking data") {
                events.extend(ids(&parcel["Events"], "Id"));
            }
            // The one event added by this test has an id above every world event's.
            late += events.iter().filter(|id| !want.contains(id)).count();
            got.extend(events.into_iter().filter(|id| want.contains(id)));
            if page >= answer["TotalPagesCount"].as_i64().expect("a page count") {
                assert_eq!(
                    answer["TotalEventsCount"],
                    json!(want.len() + usize::from(late_event)),
                    "{method} {from}"
                );
                break;
            }
        }
        got.sort_unstable();
        assert_eq!(got, want, "{method} {from}: every event once");
        assert_eq!(late, usize::from(late_event), "{method} {from}");
    }
}

#[tokio::test]
async fn rrr_pages_hold_each_window_by_id_until_an_empty_one() {
    let sims = start().await;
    let (client, w) = (Client::new(), &sims.world);
    for window in windows(w) {
        let day = |at: Option<DateTime<FixedOffset>>| at.map(|at| at.date_naive());
        let (from, to) = (day(window.0), day(window.1));
        let mut want: Vec<u64> = w
            .returns
            .iter()
            .filter(|r| r.channel == ReturnChannel::Rrr)
            .filter(|r| {
                let d = r.created_at.date_naive();
                from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t)
            })
            .map(|r| r.id)
            .collect();
        want.sort_unstable();
        let mut got = Vec::new();
        for page in 1.. {
            let mut query = vec![("page", page.to_string())];
            query.extend(from.map(|f| ("date_from", f.to_string())));
            query.extend(to.map(|t| ("date_to", t.to_string())));
            let answer: Value = client
                .post(format!("{}/get/order_returns", sims.base_url(Vendor::Rrr)))
                .query(&query)
                .form(&[
                    ("username", "demo"),
                    ("password", "rrr-demo-password"),
                    ("user_token", "rrr-demo-token"),
                ])
                .send()
                .await
                .expect("RRR answers")
                .json()
                .await
                .expect("JSON");
            let rows = ids(&answer["list"], "id");
            if rows.is_empty() {
                break;
            }
            assert!(rows.len() <= simulators::rrr::PAGE_SIZE);
            got.extend(rows.into_iter().map(|id| id as u64));
        }
        assert_eq!(got, want, "{window:?}");
    }
}

#[tokio::test]
async fn merchantpro_date_windows_page_by_start_in_either_order() {
    let sims = start().await;
    let (client, w) = (Client::new(), &sims.world);
    let orders = simulators::merchantpro::seed_orders(w);
    let created = |o: &vendors::merchantpro::wire::Order| {
        DateTime::parse_from_rfc3339(o.date_created.as_deref().expect("a creation date"))
            .expect("an RFC 3339 date")
    };
    for window in windows(w) {
        for sort in [Some("date_created.desc"), Some("date_created"), None] {
            // Windows are [after, before): the end is exclusive here.
            let mut want: Vec<(DateTime<FixedOffset>, u64)> = orders
                .iter()
                .filter(|o| {
                    let c = created(o);
                    window.0.is_none_or(|a| c >= a) && window.1.is_none_or(|b| c < b)
                })
                .map(|o| (created(o), o.id.0))
                .collect();
            match sort {
                Some(_) => want.sort_unstable(),
                None => want.sort_unstable_by_key(|&(_, id)| id),
            }
            if sort == Some("date_created.desc") {
                want.reverse();
            }
            let want: Vec<u64> = want.into_iter().map(|(_, id)| id).collect();
            let mut query: Vec<(&str, String)> = vec![("limit", "100".into())];
            query.extend(window.0.map(|a| ("created_after", a.to_rfc3339())));
            query.extend(window.1.map(|b| ("created_before", b.to_rfc3339())));
            query.extend(sort.map(|s| ("sort", s.to_owned())));
            let mut got = Vec::new();
            // A start that is not a multiple of the limit reads the same list.
            let mut start = 7usize.min(want.len());
            got.extend(&want[..start]);
            loop {
                let answer: Value = client
                    .get(format!(
                        "{}/api/v2/orders",
                        sims.base_url(Vendor::MerchantPro)
                    ))
                    .basic_auth("demo", Some("merchantpro-demo-password"))
                    .query(&query)
                    .query(&[("start", start)])
                    .send()
                    .await
                    .expect("MerchantPro answers")
                    .json()
                    .await
                    .expect("JSON");
                assert_eq!(answer["meta"]["count"]["total"], json!(want.len()));
                let rows: Vec<u64> = ids(&answer["data"], "id")
                    .into_iter()
                    .map(|id| id as u64)
                    .collect();
                if rows.is_empty() {
                    break;
                }
                start += rows.len();
                got.extend(rows);
            }
            assert_eq!(got, want, "{window:?} {sort:?}");
        }
    }
    let some: Vec<u64> = orders
        .iter()
        .step_by(37)
        .map(|o| o.id.0)
        .take(100)
        .collect();
    let answer: Value = client
        .get(format!(
            "{}/api/v2/orders",
            sims.base_url(Vendor::MerchantPro)
        ))
        .basic_auth("demo", Some("merchantpro-demo-password"))
        .query(&[(
            "ids",
            some.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(","),
        )])
        .send()
        .await
        .expect("MerchantPro answers")
        .json()
        .await
        .expect("JSON");
    let got: Vec<u64> = ids(&answer["data"], "id")
        .into_iter()
        .map(|id| id as u64)
        .collect();
    assert_eq!(got, some, "ids= by id");
}

#[tokio::test]
async fn trackru_numbers_find_their_trackings_newest_first() {
    let sims = start().await;
    let (client, w) = (Client::new(), &sims.world);
    let numbers: Vec<&str> = w
        .parcels
        .iter()
        .step_by(101)
        .take(40)
        .map(|p| p.tracking_number.as_str())
        .collect();
    let answer: Value = client
        .get(format!("{}/trackings/get", sims.base_url(Vendor::TrackRu)))
        .header("Api-Key", "trackru-demo-key")
        .query(&[("numbers", numbers.join(",")), ("limit", "40".into())])
        .send()
        .await
        .expect("TrackRU answers")
        .json()
        .await
        .expect("JSON");
    let items = answer["data"]["items"].as_array().expect("items");
    let got: BTreeSet<&str> = items
        .iter()
        .map(|t| t["tracking_number"].as_str().expect("a number"))
        .collect();
    assert_eq!(got, numbers.iter().copied().collect());
    assert_eq!(answer["data"]["total"], json!(40));
    let created: Vec<&str> = items
        .iter()
        .map(|t| t["created_at"].as_str().expect("a date"))
        .collect();
    assert!(created.windows(2).all(|p| p[0] >= p[1]), "newest first");
}
