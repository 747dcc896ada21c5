//! GraphiQL for browsers, `GET /` (and a browser's `GET /graphql`) when `server.graphiql` is
//! on: the page and every file it loads come from the gateway itself, compiled into the binary
//! (pinned versions from npm; `assets/graphiql/README.md` says which), so it works offline,
//! behind a proxy or an air gap. The page's Content-Security-Policy allows this origin only.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;
use vendors::settings::Secret;

use super::AppState;

/// Where the assets are served: `/graphiql/<name>`.
pub const ASSETS_PATH: &str = "/graphiql";

/// The page and its assets may load and connect to this origin only (`'self'` covers its
/// `ws://` for subscriptions); `data:` for the fonts and icons GraphiQL's CSS inlines.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A file the page loads.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    /// The name carries the upstream version: its content never changes, so browsers keep it.
    versioned: bool,
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

macro_rules! asset {
    ($name:literal, $content_type:expr, $versioned:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/assets/graphiql/",
                $name
            )),
            versioned: $versioned,
        }
    };
}

/// In the order the page loads them: React, then GraphiQL (a UMD bundle over the globals
/// `React` and `ReactDOM`), then our start script.
const ASSETS: [Asset; 6] = [
    asset!("graphiql-4.1.2.min.css", CSS, true),
    asset!("page.css", CSS, false),
    asset!("react-18.3.1.production.min.js", JS, true),
    asset!("react-dom-18.3.1.production.min.js", JS, true),
    asset!("graphiql-4.1.2.min.js", JS, true),
    asset!("start.js", JS, false),
];

/// What the page opens with: example queries as tabs, and a token in the headers pane. The
/// demo fills it in; a `serve`d gateway shows an empty GraphiQL and embeds no token.
#[derive(Debug, Clone, Default)]
pub struct GraphiqlPage {
    tabs: Vec<String>,
    token: Option<Secret>,
}

impl GraphiqlPage {
    /// Opens with `query` in a tab of its own (after those added before).
    pub fn tab(mut self, query: impl Into<String>) -> Self {
        self.tabs.push(query.into());
        self
    }

    /// Puts `Authorization: Bearer <token>` in the headers pane (and in every tab's headers,
    /// which GraphiQL also sends as graphql-ws `connection_init` payload). Anyone who can load
    /// the page can read it: for the demo's development token only.
    pub fn token(mut self, token: Secret) -> Self {
        self.token = Some(token);
        self
    }

    /// The HTML: stylesheets, the settings as a JSON data block (not executed, so not an
    /// inline script), then the scripts.
    pub fn html(&self) -> String {
        let headers = self.token.as_ref().map(|token| {
            let bearer = format!("Bearer {}", token.expose());
            serde_json::to_string_pretty(&json!({ "Authorization": bearer }))
                .expect("a JSON object")
        });
        let tabs: Vec<_> = self
            .tabs
            .iter()
            .map(|query| match &headers {
                Some(headers) => json!({ "query": query, "headers": headers }),
                None => json!({ "query": query }),
            })
            .collect();
        let settings = json!({ "endpoint": "/graphql", "tabs": tabs, "headers": headers });
        // `<` only ever appears inside JSON strings, where `\u003c` means the same: no text can
        // close the data block (`</script>`) or open a comment.
        let settings = settings.to_string().replace('<', "\\u003c");
        let mut head = String::new();
        let mut body = String::new();
        for asset in &ASSETS {
            if asset.content_type == CSS {
                head.push_str(&format!(
                    "    <link rel=\"stylesheet\" href=\"{ASSETS_PATH}/{}\">\n",
                    asset.name
                ));
            } else {
                body.push_str(&format!(
                    "    <script src=\"{ASSETS_PATH}/{}\"></script>\n",
                    asset.name
                ));
            }
        }
        format!(
            r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>returns-gateway · GraphiQL</title>
    <link rel="icon" href="data:,">
{head}  </head>
  <body>
    <div id="graphiql">Loading…</div>
    <script type="application/json" id="graphiql-settings">{settings}</script>
{body}  </body>
</html>
"#
        )
    }
}

/// The headers every GraphiQL response carries.
fn protected(mut response: Response, cache_control: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    response
}

/// The page. Never cached: the demo's holds a token.
pub async fn page(State(state): State<Arc<AppState>>) -> Response {
    if !state.settings.graphiql {
        return StatusCode::NOT_FOUND.into_response();
    }
    let html = axum::response::Html(state.graphiql.html()).into_response();
    protected(html, "no-store")
}

/// `GET /graphiql/{name}`: one of the page's files.
pub async fn asset(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    let found = ASSETS.iter().find(|a| a.name == name);
    let Some(asset) = found.filter(|_| state.settings.graphiql) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let cache_control = if asset.versioned {
        "public, max-age=31536000, immutable"
    } else {
        // Ours change with the gateway: revalidated on every load (they are small).
        "no-cache"
    };
    let response = ([(header::CONTENT_TYPE, asset.content_type)], asset.bytes).into_response();
    protected(response, cache_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_embeds_a_token_only_when_given_one() {
        let plain = GraphiqlPage::default().tab("{ vendors { vendor } }").html();
        assert!(!plain.contains("Authorization"), "{plain}");
        assert!(plain.contains("vendors { vendor }"));
        let demo = GraphiqlPage::default()
            .tab("{ a }")
            .token(Secret::new("dev.token"))
            .html();
        assert!(demo.contains("Bearer dev.token"), "{demo}");
    }

    #[test]
    fn no_query_text_can_end_the_settings_block() {
        let html = GraphiqlPage::default()
            .tab("# </script><script>alert(1)</script>")
            .html();
        assert_eq!(html.matches("</script>").count(), 1 + 4, "{html}");
        assert!(!html.contains("<script>alert"));
    }

    #[test]
    fn the_page_loads_nothing_from_another_origin() {
        let html = GraphiqlPage::default().html();
        assert!(
            !html.contains("//"),
            "no absolute or scheme-relative URL: {html}"
        );
        for asset in &ASSETS {
            assert!(html.contains(&format!("{ASSETS_PATH}/{}", asset.name)));
        }
    }
}
