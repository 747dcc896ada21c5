//! The server under the routes: header and body read timeouts, the connection cap, readiness
//! from a shared check and what each listener shows, draining on SIGTERM, GraphiQL's default.
//! Raw TCP where a well-behaved client cannot show it (half-open requests, refused connections).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use returns_gateway::config::{Settings, TenantSettings};
use returns_gateway::testkit::{TestGateway, TestSims};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use vendors::model::Vendor;

use crate::helpers;
use crate::mutations::{create_input, CREATE};

/// How long a test waits for something that should happen soon; only reached on failure.
const PATIENCE: Duration = Duration::from_secs(15);

/// `host:port` of a gateway.
fn address(g: &TestGateway) -> String {
    g.url
        .trim_start_matches("http://")
        .trim_end_matches("/graphql")
        .to_owned()
}

/// One whole response (headers, and a body of `content-length` bytes) read from `conn`; `None`
/// when the server closes or resets the connection before it is complete.
async fn read_response(conn: &mut TcpStream) -> Option<String> {
    let deadline = Instant::now() + PATIENCE;
    let mut received = Vec::new();
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                let length = name.eq_ignore_ascii_case("content-length");
                length.then(|| value.trim().parse::<usize>().ok()).flatten()
            });
            if length.is_some_and(|length| body.len() >= length) {
                return Some(text);
            }
        }
        let mut chunk = [0u8; 4096];
        let read = tokio::time::timeout_at(deadline, conn.read(&mut chunk))
            .await
            .expect("the server answers or closes within the patience window");
        match read {
            Ok(0) | Err(_) => return None,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Sends `GET /healthz` on `conn` (kept alive) and reads the answer.
async fn healthz(conn: &mut TcpStream) -> Option<String> {
    let request = "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n";
    conn.write_all(request.as_bytes()).await.ok()?;
    read_response(conn).await
}

/// Whether the server closes (or resets) `conn` within the patience window, whatever it
/// sends first.
async fn closed_by_server(conn: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    tokio::time::timeout(PATIENCE, conn.read_to_end(&mut rest))
        .await
        .is_ok()
}

#[tokio::test]
async fn idle_and_half_open_connections_are_dropped_after_the_header_timeout() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| s.server.header_read_timeout_ms = 200).await;
    // Connected, nothing sent; and a request cut off in its headers.
    let mut idle = TcpStream::connect(address(&g)).await.unwrap();
    let mut half_open = TcpStream::connect(address(&g)).await.unwrap();
    half_open
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Ty")
        .await
        .unwrap();
    assert!(
        closed_by_server(&mut idle).await,
        "an idle connection is held"
    );
    assert!(
        closed_by_server(&mut half_open).await,
        "a half-open request is held"
    );
    // A client that sends its request in time is served.
    let mut prompt = TcpStream::connect(address(&g)).await.unwrap();
    let answer = healthz(&mut prompt).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_stalled_request_body_gets_408() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| s.server.body_read_timeout_ms = 200).await;
    let mut conn = TcpStream::connect(address(&g)).await.unwrap();
    let head = "POST /graphql HTTP/1.1\r\nHost: gateway\r\ncontent-type: application/json\r\n\
                content-length: 100\r\n\r\n";
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(br#"{"query": "{ vend"#).await.unwrap();
    let answer = read_response(&mut conn).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("REQUEST_BODY_TIMEOUT"), "{answer}");
}

#[tokio::test]
async fn connections_beyond_max_connections_are_closed_while_the_first_stay_served() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| {
        s.server.max_connections = 2;
        // The first connections stay open, idle, for the whole test.
        s.server.header_read_timeout_ms = 600_000;
    })
    .await;
    let mut first = Vec::new();
    for _ in 0..2 {
        let mut conn = TcpStream::connect(address(&g)).await.unwrap();
        let answer = healthz(&mut conn).await.expect("served");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        first.push(conn);
    }
    let mut closed = 0;
    for _ in 0..5 {
        // The kernel accepts the connection; the gateway closes it at once.
        let mut extra = TcpStream::connect(address(&g)).await.unwrap();
        if healthz(&mut extra).await.is_none() {
            closed += 1;
        }
    }
    assert_eq!(closed, 5, "connections beyond the cap are closed");
    let mut served = 0;
    for conn in &mut first {
        if healthz(conn)
            .await
            .is_some_and(|a| a.starts_with("HTTP/1.1 200"))
        {
            served += 1;
        }
    }
    assert_eq!(served, 2, "the first connections are still served");
}

/// `check/available` calls the ProCarrier simulator received.
fn availability_checks(t: &TestSims) -> u64 {
    t.calls()
        .iter()
        .filter(|(endpoint, _)| endpoint.contains("check/available"))
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn a_thousand_readyz_hits_make_a_handful_of_procarrier_calls() {
    let t = helpers::start().await;
    // The check outlives the test, whatever the machine's speed: every hit may share it.
    let g = helpers::gateway_with(&t, |s| s.server.readiness_cache_ms = 600_000).await;
    // A slow ProCarrier: hits arrive while a check is under way.
    t.set_faults(t.sim(Vendor::ProCarrier), helpers::latency(200));
    let readyz = g.url.replace("/graphql", "/readyz");
    let mut ok = 0;
    for _ in 0..20 {
        let batch = (0..50).map(|_| {
            let (http, readyz) = (g.http.clone(), readyz.clone());
            async move { http.get(readyz).send().await.map(|r| r.status()) }
        });
        for status in futures_util::future::join_all(batch).await {
            if status.is_ok_and(|s| s == 200) {
                ok += 1;
            }
        }
    }
    assert_eq!(ok, 1000, "every hit is answered, ready");
    let calls = availability_checks(&t);
    assert!(
        (1..=3).contains(&calls),
        "1,000 hits made {calls} check/available calls"
    );
}

#[tokio::test]
async fn readiness_names_tenants_only_on_the_admin_listener() {
    const TENANT: &str = "northwind-traders";
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| {
        s.server.admin_listen = "127.0.0.1:0".into();
        let vendors = s.vendors.clone();
        s.tenants.insert(TENANT.into(), TenantSettings { vendors });
    })
    .await;
    let public = g
        .http
        .get(g.url.replace("/graphql", "/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 200);
    let public: Value = public.json().await.unwrap();
    assert_eq!(public["ready"], true, "{public}");
    assert_eq!(public["vendors"].as_array().map(Vec::len), Some(5));
    assert!(!public.to_string().contains(TENANT), "{public}");
    assert!(public.get("tenants").is_none(), "{public}");
    let metrics = g.url.replace("/graphql", "/metrics");
    let public_metrics = g.http.get(metrics).send().await.unwrap();
    assert_eq!(
        public_metrics.status(),
        404,
        "metrics live on the admin listener"
    );

    let admin = g.admin.as_deref().expect("an admin listener");
    let detailed: Value = g
        .http
        .get(format!("{admin}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tenants: Vec<&Value> = detailed["tenants"]
        .as_array()
        .map(|ts| ts.iter().map(|t| &t["tenant"]).collect())
        .unwrap_or_default();
    assert_eq!(tenants, [&json!("default"), &json!(TENANT)], "{detailed}");
    let metrics = g.http.get(format!("{admin}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains(&format!("tenant=\"{TENANT}\"")), "{text}");
    // The public listener serves no admin route.
    let admin_route_elsewhere = g.http.get(format!("{admin}/graphql")).send().await.unwrap();
    assert_eq!(admin_route_elsewhere.status(), 404);
}

#[tokio::test]
async fn graphiql_is_off_for_serve_and_on_in_the_demo() {
    let t = helpers::start().await;
    let serve_defaults = Settings::from_toml("").unwrap().server;
    let served = helpers::gateway_with(&t, |s| s.server = serve_defaults).await;
    let demo = helpers::gateway(&t).await;
    for (g, status) in [(&served, 404), (&demo, 200)] {
        for page in [g.url.replace("/graphql", "/"), g.url.clone()] {
            let html = g
                .http
                .get(&page)
                .header("accept", "text/html")
                .send()
                .await
                .unwrap();
            assert_eq!(html.status(), status, "{page}");
        }
    }
}

#[tokio::test]
async fn websockets_close_with_1001_when_the_gateway_stops() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let mut socket = crate::ws::connect(&g, json!({})).await.unwrap();
    let stopped = tokio::spawn(g.shutdown());
    let close = socket.next_message().await.expect("a close frame");
    assert_eq!(close["type"], "close", "{close}");
    assert_eq!(close["code"], 1001, "{close}");
    tokio::time::timeout(PATIENCE, stopped)
        .await
        .expect("the gateway drained")
        .unwrap();
}

/// The `serve` command's configuration for a gateway wired to `t`'s simulators.
fn serve_config(t: &TestSims) -> String {
    let v = &t.settings.vendors;
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
# Generous: the test counts answers, it does not time them.
shutdown_grace_s = 120

[auth]
allow_anonymous = true

# In memory: a test writes nothing into the working directory.
[index]
data_dir = ""

[vendors.vtrack]
base_url = "{}"
username = "{}"
api_key = "{}"

[vendors.procarrier]
base_url = "{}"
api_key = "{}"

[vendors.rrr]
base_url = "{}"
username = "{}"
password = "{}"
user_token = "{}"

[vendors.merchantpro]
base_url = "{}"
username = "{}"
password = "{}"

[vendors.trackru]
base_url = "{}"
api_key = "{}"
"#,
        v.vtrack.base_url,
        v.vtrack.username,
        v.vtrack.api_key.expose(),
        v.procarrier.base_url,
        v.procarrier.api_key.expose(),
        v.rrr.base_url,
        v.rrr.username,
        v.rrr.password.expose(),
        v.rrr.user_token.expose(),
        v.merchantpro.base_url,
        v.merchantpro.username,
        v.merchantpro.password.expose(),
        v.trackru.base_url,
        v.trackru.api_key.expose(),
    )
}

/// The gateway process, killed if the test ends before it exits.
struct Gateway(std::process::Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn returns_created(t: &TestSims) -> u64 {
    t.calls()
        .iter()
        .filter(|(endpoint, _)| endpoint.contains("returns/create"))
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn sigterm_answers_the_writes_in_flight_then_exits_0() {
    // The process reads the system clock: so does this world.
    let t = TestSims::builder()
        .returns(helpers::SMALL_WORLD)
        .system_clock()
        .start()
        .await;
    let config = std::env::temp_dir().join(format!(
        "returns-gateway-sigterm-{}.toml",
        std::process::id()
    ));
    std::fs::write(&config, serve_config(&t)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_returns-gateway"))
        .args(["--log-format", "json", "serve", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut gateway = Gateway(child);
    // The log line that says where it listens is the readiness signal.
    let (listening, address) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
        let found = lines.by_ref().find_map(|line| {
            let entry: Value = serde_json::from_str(&line).ok()?;
            (entry["message"] == "gateway listening").then(|| entry["address"].to_string())
        });
        let _ = listening.send(found);
        // Keep draining: a closed pipe would fail the process's next log line.
        lines.for_each(drop);
    });
    let address = tokio::time::timeout(PATIENCE, address)
        .await
        .expect("the gateway starts")
        .unwrap()
        .expect("it logs where it listens");
    let _ = std::fs::remove_file(&config);
    let url = format!("http://{}/graphql", address.trim_matches('"'));

    // Every create waits at ProCarrier, so all five are in flight when SIGTERM comes.
    t.set_faults(t.sim(Vendor::ProCarrier), helpers::latency(2_000));
    let http = reqwest::Client::new();
    let creates: Vec<_> = (1..=5)
        .map(|n| {
            let mut input = create_input();
            input["externalId"] = json!(format!("RMA-SIGTERM-{n}"));
            let request = http
                .post(&url)
                .json(&json!({"query": CREATE, "variables": {"input": input}}));
            tokio::spawn(async move {
                let response = request.send().await.ok()?;
                let status = response.status().as_u16();
                Some((status, response.json::<Value>().await.ok()?))
            })
        })
        .collect();
    let deadline = Instant::now() + PATIENCE;
    while returns_created(&t) < 5 {
        assert!(Instant::now() < deadline, "the creates reached ProCarrier");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = gateway.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());

    let mut answered = 0;
    for create in creates {
        let answer = tokio::time::timeout(Duration::from_secs(60), create)
            .await
            .expect("answered within the grace period")
            .unwrap();
        match answer {
            Some((200, body)) if body["data"]["createReturn"]["trackingNumber"].is_string() => {
                answered += 1
            }
            other => eprintln!("not answered: {other:?}"),
        }
    }
    assert_eq!(answered, 5, "every create in flight is answered");
    assert_eq!(returns_created(&t), 5, "ProCarrier saw the five");
    let deadline = Instant::now() + Duration::from_secs(60);
    let exit = loop {
        if let Some(exit) = gateway.0.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "the gateway exits once drained");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(exit.code(), Some(0), "{exit}");
}
