//! A small graphql-ws (`graphql-transport-ws`) client for subscription tests.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::error::Elapsed;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestGateway;

/// How long a test waits for something that should happen at once; only reached on failure.
pub const PATIENCE: Duration = Duration::from_secs(15);

pub struct Subscription {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Opens the WebSocket (graphql-transport-ws) without saying anything yet. `Err` carries a
/// refused upgrade's status and body.
pub async fn open(g: &TestGateway) -> Result<Subscription, String> {
    let mut request = g
        .url
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(response) => format!(
                "{} {}",
                response.status(),
                String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
            ),
            other => other.to_string(),
        })?;
    Ok(Subscription { socket })
}

/// Opens a graphql-ws session on the gateway with `init` as the `connection_init` payload.
/// `Err` carries the server's refusal (its close frame or error message) as text.
pub async fn connect(g: &TestGateway, init: Value) -> Result<Subscription, String> {
    let Subscription { mut socket } = open(g).await?;
    socket
        .send(Message::Text(
            json!({"type": "connection_init", "payload": init})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let mut s = Subscription { socket };
    match s.next_message().await {
        Some(m) if m["type"] == "connection_ack" => Ok(s),
        other => Err(format!("{other:?}")),
    }
}

impl Subscription {
    /// Sends any WebSocket message (a ping frame, a graphql-ws message); `Err` when the
    /// connection is gone.
    pub async fn send(&mut self, message: Message) -> Result<(), String> {
        self.socket.send(message).await.map_err(|e| e.to_string())
    }

    /// Writes `bytes` to the connection under the WebSocket as they are: for frames no client
    /// library sends, such as a header whose payload never follows.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.socket.get_mut().write_all(bytes).await.unwrap();
    }

    /// Starts operation `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let start = json!({"id": id, "type": "subscribe",
            "payload": {"query": query, "variables": variables}});
        self.socket
            .send(Message::Text(start.to_string().into()))
            .await
            .unwrap();
    }

    /// The next protocol message (pings answered), or `None` when the server closed.
    pub async fn next_message(&mut self) -> Option<Value> {
        self.next_message_within(PATIENCE)
            .await
            .expect("the gateway sends within the patience window")
    }

    /// [`Self::next_message`], or `Err` when nothing comes within `wait`.
    pub async fn next_message_within(&mut self, wait: Duration) -> Result<Option<Value>, Elapsed> {
        let socket = &mut self.socket;
        tokio::time::timeout(wait, async move {
            loop {
                match socket.next().await? {
                    Ok(Message::Text(text)) => {
                        let m: Value = serde_json::from_str(&text).unwrap();
                        if m["type"] == "ping" {
                            let pong = json!({"type": "pong"}).to_string();
                            socket.send(Message::Text(pong.into())).await.unwrap();
                            continue;
                        }
                        return Some(m);
                    }
                    Ok(Message::Close(frame)) => {
                        return Some(json!({"type": "close",
                            "code": frame.as_ref().map(|f| u16::from(f.code)),
                            "reason": frame.as_ref().map(|f| f.reason.to_string())}))
                    }
                    Ok(_) => continue,
                    Err(_) => return None,
                }
            }
        })
        .await
    }

    /// The payload of the next `next` message.
    pub async fn next_event(&mut self) -> Value {
        let m = self.next_message().await.expect("an event");
        assert_eq!(m["type"], "next", "{m}");
        m["payload"].clone()
    }
}

/// Waits until the gateway counts `n` open `returnUpdated` subscriptions (read from
/// `/metrics`): an event published before the subscription is registered would be missed.
pub async fn wait_for_subscribers(g: &TestGateway, n: usize) {
    let metrics = g.url.replace("/graphql", "/metrics");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let text = g
            .http
            .get(&metrics)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let open: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("gateway_subscriptions_active "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if open >= n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} subscriptions never opened ({open})"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
