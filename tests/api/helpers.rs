//! The test kit (`returns_gateway::testkit`, shared with the benchmarks), and the vendor doc
//! samples the tests compare with.

pub use returns_gateway::testkit::*;

/// A sample body from the vendor docs, as copied into `crates/vendors/fixtures/<vendor>/`.
pub fn fixture(path: &str) -> String {
    let full = format!(
        "{}/crates/vendors/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// `tools/<name>`, with its Node packages installed from its package-lock.json (`npm ci`, once
/// per clone) when `node_modules/<probe>` is missing, so `cargo test` needs only Node.js.
pub fn node_tool(name: &str, probe: &str) -> std::path::PathBuf {
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tools")
        .join(name);
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    if !dir.join("node_modules").join(probe).is_dir() {
        let installed = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run `npm` ({e}): install Node.js and npm (.ci/run installs them)")
            });
        assert!(
            installed.status.success(),
            "`npm ci --prefix tools/{name}` failed: {}",
            String::from_utf8_lossy(&installed.stderr)
        );
    }
    dir
}
