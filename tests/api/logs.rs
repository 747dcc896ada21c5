//! What the gateway writes to its log, read from the binary's stderr (text format, as a
//! container's log collector gets it): untrusted text is escaped, and a flood of refused
//! webhooks writes a handful of lines, counted in full by a metric.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::sync::mpsc::{self, UnboundedReceiver};

/// The ProCarrier key of the `default` tenant (also the key of its webhook signatures).
const KEY: &str = "log-test-key";

/// `returns-gateway serve` on 127.0.0.1:0, its stderr read line by line; killed on drop.
struct LoggingGateway {
    child: Child,
    root: String,
    lines: UnboundedReceiver<Vec<u8>>,
    /// Every line read so far, after the "gateway listening" one.
    log: Vec<Vec<u8>>,
    http: reqwest::Client,
}

impl Drop for LoggingGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long to wait for the next log line when one is due (the gateway writes it before it
/// answers the request that causes it); only a broken gateway takes this long.
const PATIENCE: Duration = Duration::from_secs(30);

impl LoggingGateway {
    async fn start() -> LoggingGateway {
        let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/default.toml");
        let mut child = Command::new(env!("CARGO_BIN_EXE_returns-gateway"))
            .args(["serve", "--config", config, "--listen", "127.0.0.1:0"])
            .env_clear()
            .env("RUST_LOG", "info")
            .env("RETURNS_GATEWAY_LOG_FORMAT", "text")
            .env("RETURNS_GATEWAY__AUTH__ALLOW_ANONYMOUS", "true")
            .env("RETURNS_GATEWAY__VENDORS__PROCARRIER__API_KEY", KEY)
            // Needed to start; no vendor is called (no sync: it would log the production
            // URLs' failures; the index in memory, not in the working directory).
            .env("RETURNS_GATEWAY__VENDORS__TRACKRU__API_KEY", "unused")
            .env("RETURNS_GATEWAY__SYNC__ENABLED", "false")
            .env("RETURNS_GATEWAY__INDEX__DATA_DIR", "")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (send, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            let mut stderr = BufReader::new(stderr);
            loop {
                let mut line = Vec::new();
                match stderr.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if send.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let mut gateway = LoggingGateway {
            child,
            root: String::new(),
            lines,
            log: Vec::new(),
            http: reqwest::Client::new(),
        };
        // Its first line says where it listens: the listener is bound before.
        let listening = gateway
            .read_until(|l| l.contains("gateway listening"))
            .await;
        let address = listening
            .split_whitespace()
            .find_map(|field| field.strip_prefix("address="))
            .unwrap_or_else(|| panic!("an address in: {listening}"));
        gateway.root = format!("http://{address}");
        gateway.log.clear();
        gateway
    }

    /// Reads lines (into `log`) until one `is` the line wanted, and answers it.
    async fn read_until(&mut self, is: impl Fn(&str) -> bool) -> String {
        loop {
            let line = match tokio::time::timeout(PATIENCE, self.lines.recv()).await {
                Ok(Some(line)) => line,
                Ok(None) => panic!("the gateway exited; its log: {}", self.text()),
                Err(_) => panic!("no such line; the log so far: {}", self.text()),
            };
            let text = String::from_utf8_lossy(&line).into_owned();
            self.log.push(line);
            if is(&text) {
                return text;
            }
        }
    }

    /// Everything logged up to now: a request to `/healthz` is logged after every earlier
    /// request's lines, so once its line is read, theirs are too. Its own line is left out.
    async fn logged(&mut self) -> Vec<Vec<u8>> {
        let ok = self.http.get(format!("{}/healthz", self.root)).send().await;
        assert_eq!(ok.expect("healthz answers").status(), 200);
        self.read_until(|l| l.contains("/healthz") && l.contains("request served"))
            .await;
        let mut log = std::mem::take(&mut self.log);
        log.pop();
        log
    }

    fn text(&self) -> String {
        self.log
            .iter()
            .map(|l| String::from_utf8_lossy(l))
            .collect()
    }

    /// POSTs the docs' sample delivery as return `id`, signed with the tenant's key.
    async fn accepted_webhook(&self, id: i64) -> u16 {
        let body = crate::webhooks::delivery(id, "1700000000");
        let signature = vendors::procarrier::signature::sign(KEY.as_bytes(), &body);
        let response = self
            .http
            .post(format!("{}/webhooks/procarrier/default", self.root))
            .header("content-type", "application/json")
            .header("X-Hmac-Sha256-Signature", signature)
            .body(body)
            .send()
            .await
            .expect("the gateway answers");
        response.status().as_u16()
    }

    /// POSTs a delivery with a signature that does not match to `/webhooks/procarrier/{segment}`
    /// (`segment` as it goes on the wire, percent-encoded).
    async fn refused_webhook(&self, segment: &str) -> u16 {
        let response = self
            .http
            .post(format!("{}/webhooks/procarrier/{segment}", self.root))
            .header("content-type", "application/json")
            .header("X-Hmac-Sha256-Signature", "00".repeat(32))
            .body(r#"{"id": 1}"#)
            .send()
            .await
            .expect("the gateway answers");
        response.status().as_u16()
    }
}

#[tokio::test]
async fn a_tenant_segment_that_would_forge_a_log_line_is_logged_escaped() {
    let mut g = LoggingGateway::start().await;
    let forged = "evil%0A1999-01-01T00:00:00Z%20%20INFO%20forged%1B%5B2J";
    assert_eq!(g.refused_webhook(forged).await, 401);
    let log = g.logged().await;
    let all: Vec<u8> = log.concat();
    let text = String::from_utf8_lossy(&all);
    assert!(
        !all.contains(&0x1b),
        "a raw ESC byte reached the log:\n{text}"
    );
    assert!(
        !log.iter().any(|l| l.starts_with(b"1999-01-01T00:00:00Z")),
        "a forged line:\n{text}"
    );
    assert!(
        text.contains(r#"tenant="evil\n1999-01-01T00:00:00Z  INFO forged\u{1b}[2J""#),
        "the segment, escaped:\n{text}"
    );
}

#[tokio::test]
async fn a_flood_of_bad_signatures_writes_a_handful_of_lines_and_counts_every_one() {
    let mut g = LoggingGateway::start().await;
    for _ in 0..100 {
        assert_eq!(g.refused_webhook("default").await, 401);
    }
    let log = g.logged().await;
    let bytes: usize = log.iter().map(Vec::len).sum();
    // The figure the audit quotes (run with --nocapture to see it).
    eprintln!(
        "100 bad-signature webhooks: {} log lines, {bytes} bytes",
        log.len()
    );
    assert!(
        log.len() <= 3,
        "{} lines:\n{}",
        log.len(),
        String::from_utf8_lossy(&log.concat())
    );
    let metrics = g
        .http
        .get(format!("{}/metrics", g.root))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted = "gateway_webhook_refusals_total{reason=\"SIGNATURE_INVALID\"} 100\n";
    assert!(metrics.contains(counted), "{counted} in:\n{metrics}");
}

/// The demo's simulator sends a webhook every 3 s: at info, their lines (two each) buried the
/// demo's instructions within a minute. Accepted (and repeated) deliveries log at debug.
#[tokio::test]
async fn accepted_webhooks_write_no_line_at_info() {
    let mut g = LoggingGateway::start().await;
    // The first opens the index (in memory), which says so once.
    assert_eq!(g.accepted_webhook(1).await, 200);
    g.logged().await;
    for id in 2..=20 {
        assert_eq!(g.accepted_webhook(id).await, 200);
    }
    // A repeat of the last one: acknowledged as a duplicate.
    assert_eq!(g.accepted_webhook(20).await, 200);
    let log = g.logged().await;
    assert!(
        log.is_empty(),
        "{} lines:\n{}",
        log.len(),
        String::from_utf8_lossy(&log.concat())
    );
}
