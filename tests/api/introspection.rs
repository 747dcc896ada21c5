//! The schema a gateway serves (its introspection) is the schema in `schema.graphql`, as
//! graphql-js (what clients and codegen read them with) sees both: descriptions, `@specifiedBy`,
//! `@oneOf` and the directive list included. The comparison is `tools/schema-check/compare.mjs`;
//! its graphql package comes from `npm ci --prefix tools/schema-check` (run by the test when
//! missing).

use std::process::Command;

use crate::helpers;

#[tokio::test]
async fn served_introspection_is_schema_graphql() {
    // Never skipped: without node the test fails and says what to install.
    let tools = helpers::node_tool("schema-check", "graphql");
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| s.server.introspection = true).await;
    let url = g.url.clone();
    // Node fetches from the gateway, which serves on this runtime meanwhile.
    let compared = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .current_dir(tools)
            .args(["compare.mjs", &url, "../../schema.graphql"])
            .output()
    })
    .await
    .expect("the comparison ran")
    .unwrap_or_else(|e| panic!("cannot run `node` ({e}): install Node.js (.ci/run installs it)"));
    assert!(
        compared.status.success(),
        "{}{}",
        String::from_utf8_lossy(&compared.stdout),
        String::from_utf8_lossy(&compared.stderr)
    );
}
