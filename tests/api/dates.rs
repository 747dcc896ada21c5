//! The clock-sensitive paths at other dates than the suite's [`helpers::NOW`]: the world, what
//! the simulators stamp and the windows the gateway and the tests compute all follow the
//! injected clock, so no answer depends on the day the suite runs.

use chrono::{DateTime, Duration, FixedOffset};
use serde_json::{json, Value};
use simulators::world::ReturnChannel;

use crate::helpers::{self, TestSims};
use crate::{merchantpro, mutations, procarrier};

/// A leap day in the past and a date years ahead, both far from [`helpers::NOW`].
const OTHER_DATES: [&str; 2] = ["2024-02-29T12:00:00Z", "2031-11-30T18:45:00Z"];

#[tokio::test]
async fn an_added_tracking_event_moves_the_status_at_other_dates() {
    for date in OTHER_DATES {
        procarrier::added_tracking_event_shows_and_moves_the_status(&helpers::start_at(date).await)
            .await;
    }
}

#[tokio::test]
async fn merchantpro_created_after_filters_the_last_month_at_other_dates() {
    for date in OTHER_DATES {
        merchantpro::create_after_filters_the_last_month(&helpers::start_at(date).await).await;
    }
}

fn created_at(node: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(node["createdAt"].as_str().expect("createdAt")).expect("RFC 3339")
}

#[tokio::test]
async fn the_dashboard_shows_the_recent_past_and_a_new_return_first_at_other_dates() {
    for date in OTHER_DATES {
        dashboard_shows_the_recent_past_and_a_new_return_first(&helpers::start_at(date).await)
            .await;
    }
}

async fn dashboard_shows_the_recent_past_and_a_new_return_first(t: &TestSims) {
    let g = helpers::gateway(t).await;
    let now = t.now_plus(Duration::zero());
    let listing = r#"{ returns(first: 100) { totalCount edges { node {
        vendor vendorId createdAt tracking { sources } } } } }"#;
    let page = g.query(listing).await;
    assert!(page.get("errors").is_none(), "{page}");
    let edges = page["data"]["returns"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 100);
    for edge in edges {
        let at = created_at(&edge["node"]);
        assert!(at < now && now - at < Duration::days(121), "{at} at {now}");
    }
    let newest = created_at(&edges[0]["node"]);
    assert!(now - newest < Duration::days(3), "{newest} at {now}");
    let world = &t.sims.world;
    let has_events = |vendor_id: &Value| {
        world.returns.iter().any(|r| {
            vendor_id == &json!(r.id.to_string()) && !world.parcels[r.parcel].events.is_empty()
        })
    };
    for node in edges.iter().map(|e| &e["node"]) {
        if node["vendor"] == "PROCARRIER" && has_events(&node["vendorId"]) {
            assert!(
                node["tracking"]["sources"]
                    .as_array()
                    .is_some_and(|s| s.contains(&json!("PROCARRIER"))),
                "a ProCarrier return has ProCarrier tracking: {node}"
            );
        }
    }

    // The last 30 days, counted against the world.
    let (from, to) = (now - Duration::days(30), now);
    let summary = g
        .query_with(
            "query($from: DateTime!, $to: DateTime!) { returnsSummary(from: $from, to: $to) { total } }",
            json!({"from": from, "to": to}),
        )
        .await;
    // V-Track dates a return by its parcel's first event (`finalization_dates`).
    let listed_at = |r: &simulators::world::Return| match r.channel {
        ReturnChannel::VTrack => world.parcels[r.parcel].events[0].at,
        _ => r.created_at,
    };
    let in_window = world
        .returns
        .iter()
        .filter(|r| (from..to).contains(&listed_at(r)))
        .count();
    assert!(in_window > 0);
    assert_eq!(
        summary["data"]["returnsSummary"]["total"], in_window,
        "{summary}"
    );

    // A return created now is the newest one.
    let created = g
        .query_with(
            mutations::CREATE,
            json!({"input": mutations::create_input()}),
        )
        .await;
    assert!(created.get("errors").is_none(), "{created}");
    let first = g.query(listing).await;
    let node = &first["data"]["returns"]["edges"][0]["node"];
    assert_eq!(
        node["vendorId"],
        created["data"]["createReturn"]["return"]["vendorId"]
    );
    let at = created_at(node);
    assert!(at >= now && at - now < Duration::hours(1), "{at} at {now}");
}
