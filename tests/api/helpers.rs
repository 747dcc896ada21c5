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
