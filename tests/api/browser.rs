//! GraphiQL in a real browser: headless Chromium (Debian's `chromium`) loads the demo's page
//! from a gateway on 127.0.0.1:0, runs README's example query, opens the docs, runs a
//! subscription and sees the event ProCarrier's simulator sends; every request the page makes
//! goes to the gateway, and nothing else could leave the machine.
//!
//! The browser is driven over the DevTools protocol by the small client below (JSON over the
//! WebSocket crate the subscription tests use): the four commands and four events this test
//! needs do not justify a CDP crate (chromiumoxide and the like bring hundreds of generated
//! types and their own runtime glue).
//!
//! Other origins are kept out three ways: no host name resolves (`--host-resolver-rules`),
//! anything not on loopback goes to a proxy that refuses (port 1), and the page's requests are
//! intercepted (`Fetch`) and failed unless they are for the gateway. The page's own CSP would
//! refuse them first; the test asserts that none was even attempted.
//!
//! A screenshot of the end state is kept in `target/browser/graphiql.png`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use returns_gateway::auth::Scope;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{self, TempDir, TestGateway};

/// How long the browser may take to start, or the page to show what is awaited; only reached
/// when something is broken.
const PATIENCE: Duration = Duration::from_secs(30);

/// How often a condition in the page is looked at again while it does not hold yet.
const POLL: Duration = Duration::from_millis(25);

/// README.md, "Example".
const README_EXAMPLE: &str = r#"{
  returns(first: 2, filter: {vendors: [PROCARRIER], statuses: [IN_TRANSIT, RECEIVED]}) {
    totalCount
    edges { node {
      vendorId status createdAt reasons
      customer { name email phone }
      order { reference total { amount currency } }
      tracking { status sources }
    } }
  }
}"#;

const SUBSCRIPTION: &str = "subscription BrowserTest { returnUpdated { receivedAt \
     return { vendorId status trackingStatus } } }";

// ---- Chromium -----------------------------------------------------------------------------------

/// Headless Chromium, killed on drop, with a profile of its own removed after it.
struct Chromium {
    child: Child,
    devtools: String,
    /// What it wrote to stderr, for failure messages.
    stderr: Arc<Mutex<Vec<String>>>,
    _profile: TempDir,
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `chromium` on the PATH; a one-line failure saying how to get it otherwise.
fn chromium_path() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("chromium"))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "chromium not found on PATH: the browser test needs Debian's `chromium` \
             (apt-get install chromium; .ci/run installs it)"
        )
    })
}

/// Whether this process runs as root (CI does): Chromium's sandbox refuses to start as root.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

impl Chromium {
    async fn launch() -> Chromium {
        let profile = TempDir::new();
        let mut command = Command::new(chromium_path());
        command
            .args([
                "--headless",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
                "--window-size=1280,900",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--mute-audio",
                // No name or address resolves but 127.0.0.1; what is not on loopback (which a proxy
                // setting bypasses by default) goes to a
                // proxy nobody listens on.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--proxy-server=http://127.0.0.1:1",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if running_as_root() {
            command.arg("--no-sandbox");
        }
        let mut child = command.spawn().expect("chromium starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (found, listening) = oneshot::channel();
        let kept = lines.clone();
        // Read to the end, so that Chromium never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    if let Some(found) = found.take() {
                        let _ = found.send(url.trim().to_owned());
                    }
                }
                kept.lock().push(line);
            }
        });
        let mut browser = Chromium {
            child,
            devtools: String::new(),
            stderr: lines,
            _profile: profile,
        };
        match tokio::time::timeout(PATIENCE, listening).await {
            Ok(Ok(url)) => browser.devtools = url,
            _ => panic!(
                "chromium did not start its DevTools endpoint; its stderr:\n{}",
                browser.stderr.lock().join("\n")
            ),
        }
        browser
    }
}

// ---- The DevTools protocol ------------------------------------------------------------------

/// A DevTools-protocol connection to the browser: commands answered by id; events kept; the
/// page's requests allowed to `origin` only (the rest failed and kept in `refused`).
struct Devtools {
    out: mpsc::UnboundedSender<Message>,
    replies: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>,
    events: Arc<Mutex<Vec<Value>>>,
    refused: Arc<Mutex<Vec<String>>>,
    next_id: AtomicU64,
}

impl Devtools {
    async fn connect(url: &str, origin: String) -> Devtools {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the DevTools WebSocket opens");
        let (mut sink, mut stream) = socket.split();
        let (out, mut outgoing) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(message) = outgoing.recv().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
        });
        let replies: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>> = Arc::default();
        let events: Arc<Mutex<Vec<Value>>> = Arc::default();
        let refused: Arc<Mutex<Vec<String>>> = Arc::default();
        let next_id = AtomicU64::new(1);
        // Fetch.continueRequest / failRequest are sent from the reader, with ids of their own
        // (the protocol's ids are 32-bit integers), answered to no one.
        let reader_ids = AtomicU64::new(1 << 30);
        let (r, e, f, o) = (
            replies.clone(),
            events.clone(),
            refused.clone(),
            out.clone(),
        );
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let message: Value = serde_json::from_str(&text).expect("DevTools sends JSON");
                if let Some(id) = message["id"].as_u64() {
                    if let Some(reply) = r.lock().remove(&id) {
                        let _ = reply.send(message);
                    }
                    continue;
                }
                if message["method"] == "Fetch.requestPaused" {
                    let params = &message["params"];
                    let url = params["request"]["url"].as_str().unwrap_or_default();
                    let allowed = url == origin || url.starts_with(&format!("{origin}/"));
                    let (method, mut reply) = if allowed {
                        ("Fetch.continueRequest", json!({}))
                    } else {
                        f.lock().push(url.to_owned());
                        (
                            "Fetch.failRequest",
                            json!({"errorReason": "BlockedByClient"}),
                        )
                    };
                    reply["requestId"] = params["requestId"].clone();
                    let command = json!({
                        "id": reader_ids.fetch_add(1, Ordering::Relaxed),
                        "sessionId": message["sessionId"],
                        "method": method,
                        "params": reply,
                    });
                    let _ = o.send(Message::Text(command.to_string().into()));
                }
                e.lock().push(message);
            }
        });
        Devtools {
            out,
            replies,
            events,
            refused,
            next_id,
        }
    }

    /// Sends `method` (to the page's `session`, or the browser) and returns its result.
    async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        self.replies.lock().insert(id, reply);
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.out
            .send(Message::Text(command.to_string().into()))
            .expect("the DevTools connection is open");
        let answer = tokio::time::timeout(PATIENCE, answer)
            .await
            .unwrap_or_else(|_| panic!("no answer to {method}"))
            .expect("the DevTools connection is open");
        assert!(answer.get("error").is_none(), "{method}: {answer}");
        answer["result"].clone()
    }

    /// The URLs of every request the page made (HTTP and WebSocket), in order; not the `data:`
    /// URLs (GraphiQL's fonts), which are no requests to anyone.
    fn requested(&self) -> Vec<String> {
        self.events
            .lock()
            .iter()
            .filter_map(|e| match e["method"].as_str()? {
                "Network.requestWillBeSent" => e["params"]["request"]["url"].as_str(),
                "Network.webSocketCreated" => e["params"]["url"].as_str(),
                _ => None,
            })
            .filter(|url| !url.starts_with("data:"))
            .map(str::to_owned)
            .collect()
    }

    /// Uncaught exceptions in the page.
    fn exceptions(&self) -> Vec<Value> {
        self.events
            .lock()
            .iter()
            .filter(|e| e["method"] == "Runtime.exceptionThrown")
            .map(|e| e["params"]["exceptionDetails"].clone())
            .collect()
    }
}

/// A page (tab) in the browser, attached for commands.
struct Page<'a> {
    devtools: &'a Devtools,
    session: String,
}

impl Page<'_> {
    async fn open<'a>(devtools: &'a Devtools, url: &str) -> Page<'a> {
        let target = devtools
            .call(None, "Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = devtools
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        let page = Page {
            devtools,
            session: attached["sessionId"].as_str().unwrap().to_owned(),
        };
        for domain in ["Page.enable", "Runtime.enable", "Network.enable"] {
            page.call(domain, json!({})).await;
        }
        page.call("Fetch.enable", json!({"patterns": [{"urlPattern": "*"}]}))
            .await;
        // Content-Security-Policy violations, from the first script on.
        page.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": "window.__csp = []; document.addEventListener(\
                'securitypolicyviolation', e => window.__csp.push(\
                e.violatedDirective + ' ' + e.blockedURI));"}),
        )
        .await;
        page.call("Page.navigate", json!({"url": url})).await;
        page
    }

    async fn call(&self, method: &str, params: Value) -> Value {
        self.devtools
            .call(Some(&self.session), method, params)
            .await
    }

    /// The value of a JavaScript expression in the page.
    async fn eval(&self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Polls `expression` until it is neither null, false nor absent; its value then.
    async fn wait_for(&self, what: &str, expression: &str) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let value = self.eval(expression).await;
            if !matches!(value, Value::Null | Value::Bool(false)) {
                return value;
            }
            if tokio::time::Instant::now() > deadline {
                self.screenshot("graphiql-failed.png").await;
                panic!(
                    "{what}: not within {PATIENCE:?} (screenshot: target/browser/graphiql-failed.png); \
                     page exceptions: {:?}",
                    self.devtools.exceptions()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Writes a PNG of the page to `target/browser/<name>`; its path.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("PNG data"))
            .expect("base64");
        // CARGO_TARGET_TMPDIR is `<target>/tmp`.
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("the target directory")
            .join("browser");
        std::fs::create_dir_all(&dir).expect("target/browser");
        let path = dir.join(name);
        std::fs::write(&path, png).expect("the screenshot is written");
        path
    }

    /// Puts `query`, an operation called `name`, in the query editor and presses the run
    /// button once GraphiQL has parsed it (the active tab is named after it): before, it would
    /// run the new text as the old operation (a subscription over HTTP, say).
    async fn run(&self, name: &str, query: &str) {
        self.eval(&format!(
            "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue({}); true",
            json!(query)
        ))
        .await;
        self.wait_for(
            &format!("GraphiQL parsed {name}"),
            &format!(
                "document.querySelector('.graphiql-tab-active .graphiql-tab-button').textContent.trim() === {}",
                json!(name)
            ),
        )
        .await;
        self.eval("document.querySelector('.graphiql-execute-button').click(); true")
            .await;
    }

    /// The response pane's text once `holds` (a JavaScript condition on `text`) is true.
    async fn response_where(&self, what: &str, holds: &str) -> Value {
        let text = self
            .wait_for(
                what,
                &format!(
                    "(() => {{ const text = document.querySelector('.result-window .CodeMirror')\
                     .CodeMirror.getValue(); return ({holds}) ? text : null; }})()"
                ),
            )
            .await;
        serde_json::from_str(text.as_str().unwrap()).expect("the response pane holds JSON")
    }
}

// ---- The test ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_queries_docs_and_subscriptions_from_the_gateway_alone() {
    let t = helpers::start().await;
    // The demo's page: its example queries as tabs, a development token in the headers pane.
    let token = returns_gateway::auth::mint(&t.settings.auth, "default", &Scope::ALL, 3600)
        .expect("the demo settings sign tokens");
    let page = returns_gateway::demo::graphiql_page(t.sims.world.clock.now(), Some(&token));
    let g = TestGateway::builder(&t).graphiql(page).start().await;
    let origin = g.url.trim_end_matches("/graphql").to_owned();

    let browser = Chromium::launch().await;
    let devtools = Devtools::connect(&browser.devtools, origin.clone()).await;
    let page = Page::open(&devtools, &format!("{origin}/")).await;

    // GraphiQL starts with the demo's three tabs and the token in the headers pane.
    let tabs = page
        .wait_for(
            "GraphiQL with the demo's tabs",
            "(() => { const tabs = [...document.querySelectorAll('.graphiql-tab .graphiql-tab-button')]\
             .map(t => t.textContent.trim()); return tabs.length > 0 ? tabs : null; })()",
        )
        .await;
    assert_eq!(tabs, json!(["Dashboard", "Summary", "ReturnUpdates"]));
    let headers = page
        .eval(
            "[...document.querySelectorAll('.CodeMirror')].map(e => e.CodeMirror.getValue())\
             .find(v => v.includes('Authorization')) || ''",
        )
        .await;
    assert!(
        headers
            .as_str()
            .unwrap()
            .contains(&format!("Bearer {token}")),
        "the headers pane: {headers}"
    );

    // README's example, typed in and run.
    page.run(
        "ReadmeExample",
        &format!("query ReadmeExample {README_EXAMPLE}"),
    )
    .await;
    let answer = page
        .response_where("README's example answered", "text.includes('totalCount')")
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let returns = &answer["data"]["returns"];
    assert!(returns["totalCount"].as_u64().unwrap() > 0, "{answer}");
    assert_eq!(
        returns["edges"].as_array().map(Vec::len),
        Some(2),
        "{answer}"
    );
    assert!(returns["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["node"]["customer"]["email"]
            .as_str()
            .unwrap()
            .contains('@')));

    // The docs, from the schema GraphiQL introspected.
    page.eval(
        "[...document.querySelectorAll('.graphiql-sidebar button')]\
         .find(b => (b.getAttribute('aria-label') || '').includes('Documentation')).click(); true",
    )
    .await;
    page.wait_for(
        "the documentation explorer shows the root types",
        "(document.querySelector('.graphiql-doc-explorer') || {}).textContent?.includes('Subscription')",
    )
    .await;

    // A subscription over graphql-ws, and the event ProCarrier's simulator sends.
    page.run("BrowserTest", SUBSCRIPTION).await;
    crate::ws::wait_for_subscribers(&g, 1).await;
    let procarrier = &t.sims.procarrier.origin;
    let set = g
        .http
        .put(format!("{procarrier}/__sim/webhooks"))
        .json(
            &json!({"url": format!("{origin}/webhooks/procarrier/default"),
            "interval_ms": 0, "per_tick": 1}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let tick: Value = g
        .http
        .post(format!("{procarrier}/__sim/webhooks/advance?count=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sent = &tick["deliveries"][0];
    assert_eq!(sent["httpStatus"], 200, "the gateway accepted it: {tick}");
    let vendor_id = sent["returnId"].as_i64().unwrap().to_string();
    let event = page
        .response_where(
            "the subscription's event shown",
            &format!("text.includes({})", json!(vendor_id)),
        )
        .await;
    assert_eq!(
        event["data"]["returnUpdated"]["return"]["vendorId"], vendor_id,
        "{event}"
    );
    let shot = page.screenshot("graphiql.png").await;
    eprintln!("screenshot: {}", shot.display());

    // Nothing but the gateway was asked for anything; the CSP had nothing to refuse.
    let requested = devtools.requested();
    let ws_origin = origin.replacen("http://", "ws://", 1);
    let elsewhere: Vec<_> = requested
        .iter()
        .filter(|url| {
            !(url.starts_with(&format!("{origin}/")) || url.starts_with(&format!("{ws_origin}/")))
        })
        .collect();
    assert!(elsewhere.is_empty(), "requests elsewhere: {elsewhere:?}");
    assert!(
        requested.iter().any(|u| u.ends_with(".min.js")),
        "the scripts were requested: {requested:?}"
    );
    assert!(
        requested.contains(&format!("{ws_origin}/graphql")),
        "the subscription's WebSocket: {requested:?}"
    );
    assert!(
        devtools.refused.lock().is_empty(),
        "{:?}",
        devtools.refused.lock()
    );
    assert_eq!(page.eval("window.__csp").await, json!([]), "CSP violations");
    assert_eq!(
        devtools.exceptions(),
        Vec::<Value>::new(),
        "page exceptions"
    );
}

/// The page and its files carry the CSP; the pinned files are cached for a year; a served
/// gateway's page holds no token.
#[tokio::test]
async fn graphiql_assets_are_served_with_their_policy_and_caching() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let origin = g.url.trim_end_matches("/graphql");
    let page = g.http.get(format!("{origin}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("Authorization"),
        "no token unless the demo's: {html}"
    );
    assert!(!html.contains("https://"), "{html}");

    let script = g
        .http
        .get(format!("{origin}/graphiql/graphiql-4.1.2.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        script.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(script.headers().contains_key("content-security-policy"));
    let ours = g
        .http
        .get(format!("{origin}/graphiql/start.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(ours.headers()["cache-control"], "no-cache");
    let missing = g
        .http
        .get(format!("{origin}/graphiql/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Off (a served gateway's default): neither the page nor its files.
    let serve_defaults = returns_gateway::config::Settings::from_toml("")
        .unwrap()
        .server;
    let off = helpers::gateway_with(&t, |s| s.server = serve_defaults).await;
    let off_origin = off.url.trim_end_matches("/graphql");
    let asset = off
        .http
        .get(format!("{off_origin}/graphiql/start.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 404);
}
