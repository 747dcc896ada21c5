//! The Docker image's first run, without Docker: the binary started with the Dockerfile's own
//! ENTRYPOINT, CMD and ENV (read from the Dockerfile, so this follows it), the files its COPY
//! lines place, and a fresh directory for every other path. Started as shipped, it stops before
//! listening with one line naming the missing settings and the docs page; given those settings
//! (as `docker run -e` would), it serves.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::helpers::TempDir;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// What the Dockerfile's runtime stage says about starting the process.
struct Image {
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    env: BTreeMap<String, String>,
    /// Image path → repository path, from `COPY <repo path> <image path>`.
    copied: BTreeMap<String, String>,
}

/// The Dockerfile's instructions with their continuation lines joined.
fn instructions(text: &str) -> Vec<String> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
}

fn read_image() -> Image {
    let text = std::fs::read_to_string(format!("{ROOT}/Dockerfile")).expect("the Dockerfile");
    let all = instructions(&text);
    // The runtime stage: everything after the last FROM.
    let last_from = all
        .iter()
        .rposition(|i| i.starts_with("FROM "))
        .expect("FROM");
    let exec_form = |line: &str| -> Vec<String> {
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not an exec-form array: {line}: {e}"))
    };
    let mut image = Image {
        entrypoint: Vec::new(),
        cmd: Vec::new(),
        env: BTreeMap::new(),
        copied: BTreeMap::new(),
    };
    for instruction in &all[last_from..] {
        let (word, rest) = instruction.split_once(' ').unwrap_or((instruction, ""));
        match word {
            "ENTRYPOINT" => image.entrypoint = exec_form(rest),
            "CMD" => image.cmd = exec_form(rest),
            "ENV" => {
                for pair in rest.split_whitespace() {
                    let (key, value) = pair.split_once('=').expect("ENV KEY=value");
                    image.env.insert(key.into(), value.trim_matches('"').into());
                }
            }
            "COPY" if !rest.starts_with("--from") => {
                let parts: Vec<&str> = rest.split_whitespace().collect();
                if let [from, to] = parts[..] {
                    image.copied.insert(to.into(), from.into());
                }
            }
            _ => {}
        }
    }
    image
}

/// The image's command, its environment only (nothing from this test's), with its paths put
/// on this machine: copied files from the repository, other paths as fresh directories. The
/// listener's port becomes 0, the one change (tests never take a fixed port).
fn image_command(image: &Image, scratch: &TempDir, extra_env: &[(&str, &str)]) -> Command {
    assert_eq!(
        image.entrypoint,
        ["returns-gateway"],
        "the binary is the entrypoint"
    );
    // `.ci/run` also runs these tests against the image's own build (release, without the
    // `demo` feature), named by RETURNS_GATEWAY_IMAGE_BINARY.
    let binary = std::env::var("RETURNS_GATEWAY_IMAGE_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_returns-gateway").to_owned());
    let mut command = Command::new(binary);
    command.args(&image.cmd).env_clear();
    for (key, value) in &image.env {
        let value = if let Some(repo_path) = image.copied.get(value) {
            format!("{ROOT}/{repo_path}")
        } else if value.starts_with('/') {
            let dir: PathBuf = scratch.path().join(value.trim_start_matches('/'));
            std::fs::create_dir_all(&dir).expect("scratch dir");
            dir.display().to_string()
        } else if key == "RETURNS_GATEWAY_LISTEN" {
            let (host, _port) = value.rsplit_once(':').expect("host:port");
            assert_eq!(host, "0.0.0.0", "a container listens on every address");
            "127.0.0.1:0".into()
        } else {
            value.clone()
        };
        command.env(key, value);
    }
    command.envs(extra_env.iter().copied());
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

#[tokio::test]
async fn the_image_as_shipped_stops_with_one_line_naming_what_is_missing() {
    let image = read_image();
    assert_eq!(image.cmd, ["serve"]);
    let scratch = TempDir::new();
    let output = image_command(&image, &scratch, &[])
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    for named in [
        "auth.issuer",
        "auth.audience",
        "auth.hs256_secret",
        "vendors.trackru.api_key",
        "docs/configuration.md#a-minimal-production-configuration",
    ] {
        assert!(stderr.contains(named), "{named} not in: {stderr}");
    }
    assert!(!stderr.contains("listening"), "{stderr}");
    // The page the line names has that section.
    let docs = std::fs::read_to_string(Path::new(ROOT).join("docs/configuration.md")).unwrap();
    assert!(docs.contains("\n## A minimal production configuration\n"));
}

#[tokio::test]
async fn the_image_serves_once_given_the_missing_settings() {
    let image = read_image();
    let scratch = TempDir::new();
    let mut child = image_command(
        &image,
        &scratch,
        &[
            ("RETURNS_GATEWAY__AUTH__ISSUER", "https://id.example.com"),
            ("RETURNS_GATEWAY__AUTH__AUDIENCE", "returns-gateway"),
            (
                "RETURNS_GATEWAY__AUTH__HS256_SECRET",
                "a-long-random-secret",
            ),
            (
                "RETURNS_GATEWAY__VENDORS__TRACKRU__API_KEY",
                "a-trackru-key",
            ),
            // Not part of the first run: the background sync would call the real vendors.
            ("RETURNS_GATEWAY__SYNC__ENABLED", "false"),
        ],
    )
    .spawn()
    .expect("the binary starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let guard = Kill(child);
    // The log line that says where it listens is the readiness signal (it is bound by then).
    let (found, address) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
        let listening = lines
            .by_ref()
            .find(|line| line.contains("gateway listening"))
            .and_then(|line| {
                let at = line.split("address=").nth(1)?;
                Some(at.split_whitespace().next()?.to_owned())
            });
        let _ = found.send(listening);
        lines.for_each(drop);
    });
    let address = address
        .await
        .expect("the reader ran")
        .expect("a `gateway listening` line with its address");
    let health = reqwest::get(format!("http://{address}/healthz"))
        .await
        .expect("the gateway answers");
    assert_eq!(health.status(), 200);
    drop(guard);
}

struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
