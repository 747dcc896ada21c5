//! What an unauthenticated WebSocket client can hold: the `connection_init` deadline whatever
//! else it sends, message limits enforced from a frame's header (before its payload is read),
//! and open connections per client address.

use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{self, TestGateway};
use crate::ws::{self, Subscription, PATIENCE};

const SUBSCRIPTION: &str = "subscription { returnUpdated { receivedAt } }";
const MIB: usize = 1024 * 1024;

/// WebSocket opcodes (RFC 6455 §5.2).
const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;

async fn gateway(
    customize: impl FnOnce(&mut returns_gateway::config::ServerSettings),
) -> (helpers::TestSims, TestGateway) {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| customize(&mut s.server)).await;
    (t, g)
}

/// A client frame's header for `len` payload bytes, masked with a zero key (so the payload
/// follows as is).
fn frame_header(opcode: u8, fin: bool, len: usize) -> Vec<u8> {
    let mut header = vec![if fin { 0x80 | opcode } else { opcode }];
    match len {
        0..=125 => header.push(0x80 | len as u8),
        126..=0xFFFF => {
            header.push(0x80 | 126);
            header.extend((len as u16).to_be_bytes());
        }
        _ => {
            header.push(0x80 | 127);
            header.extend((len as u64).to_be_bytes());
        }
    }
    header.extend([0; 4]);
    header
}

/// A whole client frame (see [`frame_header`]).
fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut frame = frame_header(opcode, fin, payload.len());
    frame.extend_from_slice(payload);
    frame
}

/// The next message must be the gateway's close frame with `code`.
async fn assert_closed_with(g: &TestGateway, session: &mut Subscription, code: u16, what: &str) {
    let Ok(closed) = session.next_message_within(PATIENCE).await else {
        let running = subscriptions_active(g).await;
        panic!("{what}: still open, {running} subscriptions running");
    };
    assert_eq!(
        closed.as_ref().map(|m| (&m["type"], &m["code"])),
        Some((&json!("close"), &json!(code))),
        "{what}: {closed:?}"
    );
}

/// `returnUpdated` subscriptions running now, from `/metrics`.
async fn subscriptions_active(g: &TestGateway) -> usize {
    let metrics = g.url.replace("/graphql", "/metrics");
    let text = g
        .http
        .get(&metrics)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("gateway_subscriptions_active "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
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

#[tokio::test]
async fn an_oversized_connection_init_is_refused_before_it_is_read() {
    // The defaults: 16 KiB before connection_init is accepted, 2 MiB per message.
    let (_t, g) = gateway(|_| {}).await;

    // 100 KiB (under the message limit, over the init limit): closed before it is parsed or
    // authenticated, so no connection_ack.
    let mut padded = ws::open(&g).await.unwrap();
    let init = json!({"type": "connection_init", "payload": {"padding": "x".repeat(100 * 1024)}});
    padded
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    assert_closed_with(&g, &mut padded, 1009, "a 100 KiB connection_init").await;

    // In frames of 1 MiB: refused at the one that takes the message over 2 MiB.
    let mut fragmented = ws::open(&g).await.unwrap();
    let chunk = vec![b' '; MIB];
    let mut frames = frame(TEXT, false, &chunk);
    frames.extend(frame(CONTINUATION, false, &chunk));
    frames.extend(frame(CONTINUATION, false, &chunk));
    fragmented.send_raw(&frames).await;
    assert_closed_with(&g, &mut fragmented, 1009, "3 MiB in 1 MiB frames").await;

    // A 60 MiB connection_init: only its frame header is sent, and the gateway closes the
    // socket on it (it would wait for the payload otherwise).
    let mut huge = ws::open(&g).await.unwrap();
    huge.send_raw(&frame_header(TEXT, true, 60 * MIB)).await;
    assert_closed_with(&g, &mut huge, 1009, "a 60 MiB frame header").await;

    // A connection_init of the usual size is still accepted.
    ws::connect(&g, json!({})).await.unwrap();
}

#[tokio::test]
async fn an_oversized_websocket_query_is_refused_before_it_is_read_and_never_runs() {
    let (_t, g) = gateway(|_| {}).await;

    // Once authenticated a connection may send up to 2 MiB: a 100 KiB subscription runs.
    let mut session = ws::connect(&g, json!({})).await.unwrap();
    let padded = format!("{SUBSCRIPTION}{}", " ".repeat(100 * 1024));
    session.subscribe("padded", &padded, json!({})).await;
    ws::wait_for_subscribers(&g, 1).await;

    // A whole subscribe message of 2 MiB + 1 byte, in three frames: refused at the last one,
    // before it is parsed, so the subscription never starts.
    let mut over = ws::connect(&g, json!({})).await.unwrap();
    let start = format!(r#"{{"id":"over","type":"subscribe","payload":{{"query":"{SUBSCRIPTION}"#);
    let end = r#""}}"#;
    let mut text = start.into_bytes();
    text.resize(2 * MIB + 1 - end.len(), b' ');
    text.extend(end.as_bytes());
    serde_json::from_slice::<Value>(&text).expect("a well-formed subscribe message");
    let mut frames = frame(TEXT, false, &text[..MIB]);
    frames.extend(frame(CONTINUATION, false, &text[MIB..2 * MIB]));
    frames.extend(frame(CONTINUATION, true, &text[2 * MIB..]));
    over.send_raw(&frames).await;
    assert_closed_with(&g, &mut over, 1009, "a 2 MiB + 1 byte subscribe").await;

    // A 30 MiB query: closed on its frame header.
    let mut huge = ws::connect(&g, json!({})).await.unwrap();
    huge.send_raw(&frame_header(TEXT, true, 30 * MIB)).await;
    assert_closed_with(&g, &mut huge, 1009, "a 30 MiB frame header").await;

    assert_eq!(
        subscriptions_active(&g).await,
        1,
        "only the 100 KiB subscription runs"
    );
}

#[tokio::test]
async fn one_client_address_opens_at_most_max_websockets_per_ip() {
    let (_t, g) = gateway(|s| {
        s.max_websockets = 10;
        s.max_websockets_per_ip = 3;
    })
    .await;
    let (mut open, mut refused) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        match ws::connect(&g, json!({})).await {
            Ok(session) => open.push(session),
            Err(refusal) => refused.push(refusal),
        }
    }
    assert_eq!((open.len(), refused.len()), (3, 2), "{refused:?}");
    for refusal in &refused {
        assert!(
            refusal.starts_with("429") && refusal.contains("TOO_MANY_CONNECTIONS"),
            "{refusal}"
        );
    }

    // The first three are still served.
    for session in &mut open {
        let ping = json!({"type": "ping"}).to_string();
        session.send(Message::Text(ping.into())).await.unwrap();
        let pong = session.next_message().await;
        assert_eq!(pong.as_ref().map(|m| &m["type"]), Some(&json!("pong")));
    }

    // One leaves: a subscriber from the same address takes its place, and the address is at
    // its limit again.
    drop(open.pop());
    let mut subscriber = connect_when_room(&g).await;
    subscriber.subscribe("s", SUBSCRIPTION, json!({})).await;
    ws::wait_for_subscribers(&g, 1).await;
    let one_more = ws::connect(&g, json!({})).await;
    assert!(
        one_more.as_ref().is_err_and(|e| e.starts_with("429")),
        "{:?}",
        one_more.err()
    );
}
