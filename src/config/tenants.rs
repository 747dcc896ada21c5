//! `[tenants.<id>]`: more tenants besides `default`, each with its own vendor accounts.

use super::ConfigError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use vendors::settings::VendorsSettings;

/// The tenant a token without a `tenant` claim belongs to; its vendors are `[vendors]`.
pub const DEFAULT_TENANT: &str = "default";

/// Credential keys a tenant never inherits from `[vendors]`: one tenant must never call a
/// vendor with another's account.
const CREDENTIAL_KEYS: [&str; 4] = ["username", "api_key", "password", "user_token"];

/// One tenant's vendor accounts. Every `[vendors.<v>]` setting is inherited except the
/// credentials, which the tenant gives itself (`[tenants.<id>.vendors.<v>]`): a vendor whose
/// credentials a tenant leaves empty is refused by that vendor, never called with another
/// tenant's account.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TenantSettings {
    pub vendors: VendorsSettings,
}

/// A tenant id is 1 to 64 of `a-z`, `0-9`, `-`, `_`, starting with a letter or digit, and not
/// `default` (that tenant's vendors are `[vendors]`).
pub(super) fn validate_tenant_id(id: &str) -> Result<(), ConfigError> {
    let valid = id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid || id == DEFAULT_TENANT {
        return Err(ConfigError::Invalid {
            key: format!("tenants.{id}"),
            reason: format!(
                "a tenant id is 1 to 64 of a-z, 0-9, '-', '_' and not {DEFAULT_TENANT:?} \
                 (that tenant's vendors are [vendors])"
            ),
        });
    }
    Ok(())
}

/// Gives every `[tenants.<id>.vendors.<v>]` the `[vendors.<v>]` settings it does not set,
/// credentials excepted (see [`TenantSettings`]).
pub(super) fn inherit_vendor_settings(root: &mut toml::Table) -> Result<(), ConfigError> {
    let shared = root.get("vendors").cloned();
    let Some(tenants) = root.get_mut("tenants") else {
        return Ok(());
    };
    let tenants = tenants.as_table_mut().ok_or_else(|| ConfigError::Invalid {
        key: "tenants".into(),
        reason: "must be a table of tenants".into(),
    })?;
    let Some(toml::Value::Table(shared)) = shared else {
        return Ok(());
    };
    for (id, tenant) in tenants.iter_mut() {
        let not_a_table = || ConfigError::Invalid {
            key: format!("tenants.{id}"),
            reason: "must be a table".into(),
        };
        let tenant = tenant.as_table_mut().ok_or_else(not_a_table)?;
        let own = tenant
            .entry("vendors")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(not_a_table)?;
        for (vendor, settings) in &shared {
            let toml::Value::Table(settings) = settings else {
                continue;
            };
            let mine = own
                .entry(vendor.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(mine) = mine.as_table_mut() else {
                continue; // deserialisation names the bad key
            };
            for (key, value) in settings {
                if CREDENTIAL_KEYS.contains(&key.as_str()) {
                    continue;
                }
                match (mine.get_mut(key), value) {
                    (Some(toml::Value::Table(m)), toml::Value::Table(v)) => {
                        // e.g. `resilience`: the tenant's keys win, the rest are inherited.
                        for (k, x) in v {
                            m.entry(k.clone()).or_insert_with(|| x.clone());
                        }
                    }
                    (Some(_), _) => {}
                    (None, _) => {
                        mine.insert(key.clone(), value.clone());
                    }
                }
            }
        }
    }
    Ok(())
}
