//! Settings: one TOML document (one file here per section), `deny_unknown_fields` everywhere,
//! defaults in one place (each section's `Default`), secrets in [`Secret`] so they never reach a
//! log. Environment variables override the file (see [`Settings::from_toml_with_env`]).

mod auth;
mod cache;
mod idempotency;
mod index;
mod server;
mod telemetry;
mod tenants;
mod webhooks;

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use auth::AuthSettings;
pub use cache::{CacheSettings, VendorTtls};
pub use idempotency::IdempotencySettings;
pub use index::{IndexSettings, SyncIntervals, SyncSettings};
pub use server::ServerSettings;
pub use telemetry::TelemetrySettings;
pub use tenants::{TenantSettings, DEFAULT_TENANT};
pub use vendors::settings::{
    MerchantProSettings, ProCarrierSettings, RrrSettings, Secret, TrackRuSettings, VTrackSettings,
    VendorHttp, VendorResilience, VendorsSettings,
};
pub use webhooks::WebhookSettings;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The TOML error's message already names the key and shows the line.
    #[error("invalid config: {0}")]
    Parse(toml::de::Error),
    #[error("invalid config: {key}: {reason}")]
    Invalid { key: String, reason: String },
}

/// Environment variables with this prefix override settings.
pub const ENV_PREFIX: &str = "RETURNS_GATEWAY__";

impl From<toml::de::Error> for ConfigError {
    fn from(e: toml::de::Error) -> Self {
        ConfigError::Parse(e)
    }
}

impl From<vendors::settings::Invalid> for ConfigError {
    fn from(e: vendors::settings::Invalid) -> Self {
        ConfigError::Invalid {
            key: e.key,
            reason: e.reason,
        }
    }
}

/// The returns-gateway configuration: one TOML file, every key optional (defaults in
/// config/default.toml), unknown keys refused. Environment variables
/// `RETURNS_GATEWAY__<SECTION>__<KEY>` override it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[schemars(title = "returns-gateway configuration")]
pub struct Settings {
    pub server: ServerSettings,
    pub auth: AuthSettings,
    pub cache: CacheSettings,
    pub idempotency: IdempotencySettings,
    pub index: IndexSettings,
    pub sync: SyncSettings,
    pub vendors: VendorsSettings,
    /// More tenants besides `default` (whose vendors are `[vendors]`), by tenant id: a token's
    /// `tenant` claim selects one (docs/tenants.md).
    pub tenants: BTreeMap<String, TenantSettings>,
    pub webhooks: WebhookSettings,
    /// OpenTelemetry traces (off unless `otlp_endpoint` is set).
    pub telemetry: TelemetrySettings,
    /// The simulators of `demo` and `sim` (only with the `demo` feature).
    #[cfg(feature = "demo")]
    pub sim: simulators::SimSettings,
}

impl Settings {
    /// The embedded demo configuration (simulators + gateway on this machine).
    #[cfg(feature = "demo")]
    pub fn demo() -> Settings {
        Settings::from_toml(include_str!("../../config/demo.toml"))
            .expect("config/demo.toml is valid (checked by a test)")
    }

    /// JSON Schema (draft 7, which taplo / Even Better TOML read) of the configuration file, as
    /// `returns-gateway config-schema` prints it and `config/schema.json` holds it. Built from
    /// the structs serde reads, so it cannot drift from them; secrets are plain strings.
    pub fn json_schema() -> String {
        let schema = schemars::generate::SchemaSettings::draft07()
            .into_generator()
            .into_root_schema_for::<Settings>();
        let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
        text.push('\n');
        text
    }

    /// The effective settings as TOML (defaults filled in, secrets as `***`, unset ones `""`).
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).expect("settings serialise as TOML")
    }

    pub fn from_toml(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_toml_with_env(text, std::iter::empty())
    }

    /// The file at `path`, then the process environment's overrides (see
    /// [`Settings::from_toml_with_env`]).
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Settings::from_toml_with_env(&text, std::env::vars())
    }

    /// TOML, then overrides from `RETURNS_GATEWAY__<SECTION>__<KEY>=value` variables (`__`
    /// separates levels, names are case-insensitive): `RETURNS_GATEWAY__VENDORS__TRACKRU__API_KEY`
    /// sets `vendors.trackru.api_key`. A value is read as TOML (`5000`, `true`, `0.5`) and
    /// otherwise taken as a string. Unknown keys are errors that name the variable.
    pub fn from_toml_with_env(
        text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut root: toml::Table = toml::from_str(text)?;
        for (name, raw) in vars {
            let Some(path) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
            if keys.iter().any(String::is_empty) {
                return Err(ConfigError::Invalid {
                    key: name,
                    reason: "empty key segment".into(),
                });
            }
            let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(raw));
            let (last, parents) = keys.split_last().expect("at least one segment");
            let mut table = &mut root;
            for key in parents {
                let entry = table
                    .entry(key.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                table = entry.as_table_mut().ok_or_else(|| ConfigError::Invalid {
                    key: name.clone(),
                    reason: format!("`{key}` is not a section"),
                })?;
            }
            table.insert(last.clone(), value);
        }
        tenants::inherit_vendor_settings(&mut root)?;
        let settings: Settings = toml::Value::Table(root)
            .try_into()
            .map_err(ConfigError::Parse)?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate_request_limits(&self) -> Result<(), ConfigError> {
        let server = &self.server;
        let invalid = |key: &str, reason: &str| ConfigError::Invalid {
            key: format!("server.{key}"),
            reason: reason.into(),
        };
        if server.rate_limit_per_client_per_s > 0 && server.rate_limit_burst == 0 {
            return Err(invalid(
                "rate_limit_burst",
                "must be above zero while server.rate_limit_per_client_per_s is",
            ));
        }
        if !(1..=1_000_000).contains(&server.max_concurrent_requests) {
            return Err(invalid("max_concurrent_requests", "must be 1 to 1000000"));
        }
        if !(1..=3_600_000).contains(&server.request_timeout_ms) {
            return Err(invalid(
                "request_timeout_ms",
                "must be 1 to 3600000 (an hour)",
            ));
        }
        if server.max_vendor_calls_per_request == 0 {
            return Err(invalid(
                "max_vendor_calls_per_request",
                "must be above zero",
            ));
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.auth.leeway_s > 60 {
            return Err(ConfigError::Invalid {
                key: "auth.leeway_s".into(),
                reason: "at most 60 seconds".into(),
            });
        }
        if let Some(bad) = self
            .auth
            .algorithms
            .iter()
            .find(|a| !["HS256", "RS256", "ES256"].contains(&a.as_str()))
        {
            return Err(ConfigError::Invalid {
                key: "auth.algorithms".into(),
                reason: format!("{bad:?} is not one of HS256, RS256, ES256"),
            });
        }
        if self.server.max_websocket_message_bytes == 0 {
            return Err(ConfigError::Invalid {
                key: "server.max_websocket_message_bytes".into(),
                reason: "must be above zero".into(),
            });
        }
        let init_bytes = self.server.max_websocket_init_bytes;
        if init_bytes == 0 || init_bytes > self.server.max_websocket_message_bytes {
            return Err(ConfigError::Invalid {
                key: "server.max_websocket_init_bytes".into(),
                reason: "must be above zero and at most server.max_websocket_message_bytes".into(),
            });
        }
        if self.server.websocket_init_timeout_ms == 0 {
            return Err(ConfigError::Invalid {
                key: "server.websocket_init_timeout_ms".into(),
                reason: "must be above zero".into(),
            });
        }
        for (key, value) in [
            (
                "server.header_read_timeout_ms",
                self.server.header_read_timeout_ms,
            ),
            (
                "server.body_read_timeout_ms",
                self.server.body_read_timeout_ms,
            ),
            ("server.readiness_cache_ms", self.server.readiness_cache_ms),
            ("server.max_connections", self.server.max_connections as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    reason: "must be above zero".into(),
                });
            }
        }
        let admin = &self.server.admin_listen;
        let host_port = admin
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !admin.is_empty() && !host_port {
            return Err(ConfigError::Invalid {
                key: "server.admin_listen".into(),
                reason: format!("{admin:?} is not host:port (e.g. 127.0.0.1:9090)"),
            });
        }
        self.validate_request_limits()?;
        if self.server.max_page_size == 0 {
            return Err(ConfigError::Invalid {
                key: "server.max_page_size".into(),
                reason: "must be above zero".into(),
            });
        }
        if self.idempotency.ttl_s == 0 {
            return Err(ConfigError::Invalid {
                key: "idempotency.ttl_s".into(),
                reason: "must be above zero".into(),
            });
        }
        if self.cache.max_entries_per_vendor == 0 {
            return Err(ConfigError::Invalid {
                key: "cache.max_entries_per_vendor".into(),
                reason: "must be above zero".into(),
            });
        }
        self.sync.validate()?;
        self.vendors.validate("vendors")?;
        for (id, tenant) in &self.tenants {
            tenants::validate_tenant_id(id)?;
            tenant
                .vendors
                .validate(&format!("tenants.{id}.vendors"))
                .map_err(ConfigError::from)?;
        }
        if self.webhooks.max_body_bytes == 0
            || self.webhooks.dedupe_ttl_s == 0
            || self.webhooks.subscriber_buffer == 0
        {
            return Err(ConfigError::Invalid {
                key: "webhooks".into(),
                reason: "max_body_bytes, dedupe_ttl_s and subscriber_buffer \
                         must be above zero"
                    .into(),
            });
        }
        self.telemetry.validate()?;
        #[cfg(feature = "demo")]
        self.sim.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_parses() {
        let s = Settings::demo();
        assert_eq!(s.vendors.procarrier.api_key.expose(), "procarrier-demo-key");
    }

    #[test]
    fn request_limits_are_checked_and_named() {
        let d = crate::config::ServerSettings::default();
        assert_eq!(
            (
                d.rate_limit_per_client_per_s,
                d.rate_limit_burst,
                d.max_concurrent_requests
            ),
            (100, 200, 256)
        );
        assert_eq!(
            (d.request_timeout_ms, d.max_vendor_calls_per_request),
            (30_000, 200)
        );
        for (toml, key) in [
            ("rate_limit_burst = 0", "server.rate_limit_burst"),
            (
                "max_concurrent_requests = 0",
                "server.max_concurrent_requests",
            ),
            ("request_timeout_ms = 0", "server.request_timeout_ms"),
            (
                "max_vendor_calls_per_request = 0",
                "server.max_vendor_calls_per_request",
            ),
        ] {
            let err = Settings::from_toml(&format!("[server]\n{toml}\n")).unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
        }
        let off = Settings::from_toml(
            "[server]\nrate_limit_per_client_per_s = 0\nrate_limit_burst = 0\n",
        );
        assert!(off.is_ok(), "no burst is needed without a rate limit");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Settings::from_toml("[vendors.trackru]\napi_kee = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("api_kee"), "{err}");
    }

    #[test]
    fn websocket_message_limits_name_their_key() {
        for (toml, key) in [
            (
                "[server]\nmax_websocket_message_bytes = 0\n",
                "server.max_websocket_message_bytes",
            ),
            (
                "[server]\nmax_websocket_init_bytes = 0\n",
                "server.max_websocket_init_bytes",
            ),
            (
                "[server]\nmax_websocket_message_bytes = 1000\nmax_websocket_init_bytes = 1001\n",
                "server.max_websocket_init_bytes",
            ),
        ] {
            let err = Settings::from_toml(toml).unwrap_err();
            assert!(err.to_string().contains(key), "{toml}: {err}");
        }
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = Settings::from_toml("[vendors.rrr]\nbase_url = \"nope\"\n").unwrap_err();
        assert!(err.to_string().contains("vendors.rrr.base_url"), "{err}");
        let err = Settings::from_toml("[sim.faults.rrr]\nerror_rate = 2.0\n").unwrap_err();
        assert!(err.to_string().contains("sim.faults.rrr"), "{err}");
        for (toml, key) in [
            (
                "[server]\nheader_read_timeout_ms = 0\n",
                "server.header_read_timeout_ms",
            ),
            (
                "[server]\nbody_read_timeout_ms = 0\n",
                "server.body_read_timeout_ms",
            ),
            (
                "[server]\nreadiness_cache_ms = 0\n",
                "server.readiness_cache_ms",
            ),
            ("[server]\nmax_connections = 0\n", "server.max_connections"),
            ("[server]\nadmin_listen = \"9090\"\n", "server.admin_listen"),
            (
                "[server]\nadmin_listen = \"localhost:http\"\n",
                "server.admin_listen",
            ),
        ] {
            let err = Settings::from_toml(toml).unwrap_err();
            assert!(err.to_string().contains(key), "{toml}: {err}");
        }
        let admin = Settings::from_toml("[server]\nadmin_listen = \"[::1]:9090\"\n").unwrap();
        assert_eq!(admin.server.admin_listen, "[::1]:9090");
    }

    /// GraphiQL is a development tool: off for `serve` unless configured, on in the demo.
    #[test]
    fn graphiql_is_off_by_default_and_on_in_the_demo() {
        assert!(!Settings::default().server.graphiql);
        let documented = Settings::from_toml(include_str!("../../config/default.toml")).unwrap();
        assert!(!documented.server.graphiql);
        assert!(Settings::demo().server.graphiql);
    }

    #[test]
    fn environment_overrides_win_and_name_bad_keys() {
        let vars = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let base = "[vendors.trackru]\napi_key = \"from-file\"\n";
        let s = Settings::from_toml_with_env(
            base,
            vars(&[
                ("RETURNS_GATEWAY__VENDORS__TRACKRU__API_KEY", "from-env"),
                ("RETURNS_GATEWAY__VENDORS__RRR__TIMEOUT_MS", "1234"),
                ("RETURNS_GATEWAY__SERVER__INTROSPECTION", "true"),
                ("RETURNS_GATEWAY__SERVER__LISTEN", "0.0.0.0:8080"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(s.vendors.trackru.api_key.expose(), "from-env");
        assert_eq!(s.vendors.rrr.timeout_ms, 1234);
        assert!(s.server.introspection);
        assert_eq!(s.server.listen, "0.0.0.0:8080");
        let err = Settings::from_toml_with_env(
            base,
            vars(&[("RETURNS_GATEWAY__VENDORS__TRACKRU__API_KEE", "x")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("api_kee"), "{err}");
        let err = Settings::from_toml_with_env(
            base,
            vars(&[("RETURNS_GATEWAY__VENDORS__RRR__TIMEOUT_MS", "0")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("vendors.rrr.timeout_ms"), "{err}");
    }

    #[test]
    fn tenants_inherit_vendor_settings_but_never_credentials() {
        let s = Settings::from_toml_with_env(
            r#"
[vendors.procarrier]
base_url = "http://pc.example/api"
timeout_ms = 1234
api_key = "default-key"
[vendors.procarrier.resilience]
max_concurrency = 7
read_retries = 1
[vendors.rrr]
username = "default-user"
[tenants.acme.vendors.procarrier]
api_key = "acme-key"
[tenants.acme.vendors.procarrier.resilience]
read_retries = 3
"#,
            [(
                "RETURNS_GATEWAY__TENANTS__ACME__VENDORS__TRACKRU__API_KEY".to_owned(),
                "acme-trackru".to_owned(),
            )],
        )
        .unwrap();
        let acme = &s.tenants["acme"].vendors;
        assert_eq!(acme.procarrier.base_url, "http://pc.example/api");
        assert_eq!(acme.procarrier.timeout_ms, 1234);
        assert_eq!(acme.procarrier.api_key.expose(), "acme-key");
        assert_eq!(acme.procarrier.resilience.max_concurrency, 7, "inherited");
        assert_eq!(acme.procarrier.resilience.read_retries, 3, "its own wins");
        assert_eq!(acme.rrr.username, "", "credentials are never inherited");
        assert_eq!(acme.trackru.api_key.expose(), "acme-trackru");
        assert_eq!(s.vendors.procarrier.api_key.expose(), "default-key");
    }

    #[test]
    fn a_partial_resilience_table_keeps_the_vendors_own_defaults() {
        let s = Settings::from_toml("[vendors.trackru.resilience]\nread_retries = 1\n").unwrap();
        let r = &s.vendors.trackru.resilience;
        assert_eq!(r.read_retries, 1);
        assert_eq!(r.rate_limit_per_s, 1.0, "TrackRU's 1 call/s survives");
        assert_eq!(r.endpoint_rate_limits_per_s["trackings/realtime"], 3.0);
        assert_eq!(r.auth_refusal_cooldown_s, 300);
        assert_eq!(r.rate_limited_hold_ms, 1_000);
        let s = Settings::from_toml("[vendors.trackru.resilience]\nauth_refusal_cooldown_s = 0\n")
            .unwrap();
        let r = &s.vendors.trackru.resilience;
        assert_eq!(r.auth_refusal_cooldown_s, 0, "the latch can be turned off");
        assert_eq!(r.rate_limit_per_s, 1.0);
        let err = Settings::from_toml(
            "[vendors.trackru.resilience.endpoint_rate_limits_per_s]\n\"trackings/realtime\" = -1.0\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("endpoint_rate_limits_per_s"),
            "{err}"
        );
        let err = Settings::from_toml("[vendors.trackru.resilience]\nretries = 1\n").unwrap_err();
        assert!(err.to_string().contains("retries"), "{err}");
    }

    #[test]
    fn bad_tenants_are_named() {
        for (toml, key) in [
            (
                "[tenants.default.vendors.rrr]\nusername = \"x\"\n",
                "tenants.default",
            ),
            ("[tenants.Acme]\n", "tenants.Acme"),
            (
                "[tenants.acme.vendors.rrr]\nbase_url = \"nope\"\n",
                "tenants.acme.vendors.rrr.base_url",
            ),
            ("[tenants.acme]\nvendor = 1\n", "vendor"),
        ] {
            let err = Settings::from_toml(toml).unwrap_err();
            assert!(err.to_string().contains(key), "{toml}: {err}");
        }
    }

    #[test]
    fn telemetry_is_off_by_default_and_its_bad_values_are_named() {
        let s = Settings::default();
        assert_eq!(s.telemetry.traces_url(), None);
        let on = Settings::from_toml("[telemetry]\notlp_endpoint = \"http://collector:4318/\"\n")
            .unwrap();
        assert_eq!(
            on.telemetry.traces_url().as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        for (toml, key) in [
            (
                "otlp_endpoint = \"collector:4318\"",
                "telemetry.otlp_endpoint",
            ),
            ("sampling_ratio = 1.5", "telemetry.sampling_ratio"),
            ("service_name = \" \"", "telemetry.service_name"),
            ("export_timeout_ms = 0", "telemetry.export_timeout_ms"),
            ("endpoint = \"x\"", "endpoint"),
        ] {
            let err = Settings::from_toml(&format!("[telemetry]\n{toml}\n")).unwrap_err();
            assert!(err.to_string().contains(key), "{toml}: {err}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let s = Settings::demo();
        let shown = format!("{s:?}");
        assert!(!shown.contains("procarrier-demo-key"));
    }
}

#[cfg(test)]
mod default_toml {
    use super::*;

    /// `config/default.toml` documents every setting with its default: it must parse, and say
    /// exactly what the code's defaults are.
    #[test]
    fn default_toml_states_the_defaults() {
        let documented = Settings::from_toml(include_str!("../../config/default.toml"))
            .expect("config/default.toml parses");
        let as_json = |s: &Settings| serde_json::to_value(s).expect("settings serialise");
        assert_eq!(as_json(&documented), as_json(&Settings::default()));
    }

    /// The production image ships `config/default.toml`: it names no simulator (nor their
    /// credentials); those are in `config/demo.toml`.
    #[test]
    fn default_toml_has_no_simulator_settings() {
        let text = include_str!("../../config/default.toml");
        assert!(
            !text.contains("[sim"),
            "config/default.toml has a [sim] table"
        );
        assert!(!text.contains("demo-key") && !text.contains("demo-password"));
    }
}
