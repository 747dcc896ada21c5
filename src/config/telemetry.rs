//! `[telemetry]`: OpenTelemetry traces, exported over OTLP/HTTP (protobuf). Off unless
//! `otlp_endpoint` is set.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// The collector's OTLP/HTTP base URL (e.g. `http://otel-collector:4318`); spans go to its
    /// `/v1/traces`. Empty: no traces are recorded (a caller's `traceparent` is still passed
    /// on to the vendors).
    pub otlp_endpoint: String,
    /// `service.name` of the spans.
    pub service_name: String,
    /// Share of traces recorded when the caller did not decide, 0.0 to 1.0. A caller's
    /// `traceparent` decides for its request (sampled or not).
    pub sampling_ratio: f64,
    /// How long one export may take before it is given up.
    pub export_timeout_ms: u64,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings {
            otlp_endpoint: String::new(),
            service_name: "returns-gateway".into(),
            sampling_ratio: 1.0,
            export_timeout_ms: 10_000,
        }
    }
}

impl TelemetrySettings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: &str| ConfigError::Invalid {
            key: format!("telemetry.{key}"),
            reason: reason.into(),
        };
        let endpoint = &self.otlp_endpoint;
        if !endpoint.is_empty()
            && !reqwest::Url::parse(endpoint).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            return Err(invalid(
                "otlp_endpoint",
                &format!("{endpoint:?} is not an http(s) URL"),
            ));
        }
        if !(0.0..=1.0).contains(&self.sampling_ratio) {
            return Err(invalid("sampling_ratio", "must be 0.0 to 1.0"));
        }
        if self.service_name.trim().is_empty() {
            return Err(invalid("service_name", "must not be empty"));
        }
        if self.export_timeout_ms == 0 {
            return Err(invalid("export_timeout_ms", "must be above zero"));
        }
        Ok(())
    }

    /// Where spans are sent: the endpoint's `/v1/traces`.
    pub fn traces_url(&self) -> Option<String> {
        (!self.otlp_endpoint.is_empty())
            .then(|| format!("{}/v1/traces", self.otlp_endpoint.trim_end_matches('/')))
    }
}
