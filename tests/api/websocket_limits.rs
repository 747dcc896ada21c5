//! What an unauthenticated WebSocket client can hold: the `connection_init` deadline whatever
//! else it sends.

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{self, TestGateway};
use crate::ws::{self, Subscription, PATIENCE};

const SUBSCRIPTION: &str = "subscription { returnUpdated { receivedAt } }";

async fn gateway(
    customize: impl FnOnce(&mut returns_gateway::config::ServerSettings),
) -> (helpers::TestSims, TestGateway) {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| customize(&mut s.server)).await;
    (t, g)
}

/// A graphql-ws session as soon as the gateway has room for one (a closed connection's place
/// comes back when the gateway has noticed).
async fn connect_when_room(g: &TestGateway) -> Subscription {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match ws::connect(g, json!({})).await {
            Ok(session) => return session,
            Err(refused) if refused.starts_with("429") || refused.starts_with("503") => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "never any room: {refused}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            Err(other) => panic!("{other}"),
        }
    }
}

#[tokio::test]
async fn a_websocket_that_pings_before_connection_init_is_closed_at_the_deadline() {
    let (_t, g) = gateway(|s| {
        s.websocket_init_timeout_ms = 300;
        s.max_websockets = 1;
    })
    .await;
    let mut pinger = ws::open(&g).await.unwrap();
    // Everything but a connection_init, in turn, until the gateway closes the socket.
    let frames = [
        Message::Text(json!({"type": "ping"}).to_string().into()),
        Message::Ping(b"ping".to_vec().into()),
        Message::Pong(b"pong".to_vec().into()),
        Message::Binary(json!({"type": "pong"}).to_string().into_bytes().into()),
    ];
    let (mut sent, mut answered) = (0, 0);
    let closed = loop {
        assert!(
            sent < 300,
            "still open after {sent} frames ({answered} graphql-ws pongs)"
        );
        // The gateway may have closed meanwhile: its close frame is still there to be read.
        let _ = pinger.send(frames[sent % frames.len()].clone()).await;
        sent += 1;
        let pause = std::time::Duration::from_millis(50);
        match pinger.next_message_within(pause).await {
            Err(_quiet) => {}
            Ok(Some(m)) if m["type"] == "pong" => answered += 1,
            Ok(other) => break other,
        }
    };
    assert_eq!(
        closed.as_ref().map(|m| (&m["type"], &m["code"])),
        Some((&json!("close"), &json!(4408))),
        "after {sent} frames ({answered} graphql-ws pongs): {closed:?}"
    );

    // Its place (max_websockets = 1) is free again for a subscriber.
    let mut subscriber = connect_when_room(&g).await;
    subscriber.subscribe("s", SUBSCRIPTION, json!({})).await;
    ws::wait_for_subscribers(&g, 1).await;
}
