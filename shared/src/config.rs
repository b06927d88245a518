//! Typed configuration, read once per cold start from the environment SAM (or the local stack)
//! sets. Nothing else in the code reads environment variables.

use crate::domain::target::TargetPolicy;

#[derive(Debug, thiserror::Error)]
#[error("configuration variable {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

/// DynamoDB table names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    pub integrations: String,
    pub api_keys: String,
}

impl Tables {
    pub const INTEGRATIONS_VAR: &'static str = "APVISO_INTEGRATIONS_TABLE";
    pub const API_KEYS_VAR: &'static str = "APVISO_API_KEYS_TABLE";

    /// Every table name with a common prefix: how the tests give each run its own tables.
    pub fn with_prefix(prefix: &str) -> Self {
        Self { integrations: format!("{prefix}integrations"), api_keys: format!("{prefix}api-keys") }
    }
}

impl Default for Tables {
    fn default() -> Self {
        Self::with_prefix("apviso-")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub tables: Tables,
    pub targets: TargetPolicy,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests never touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Tables::default();
        let table = |name: &'static str, default: String| -> Result<String, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(v) if valid_table_name(&v) => Ok(v),
                Some(v) => Err(ConfigError { name, problem: format!("'{v}' is not a DynamoDB table name") }),
            }
        };
        Ok(Self {
            tables: Tables {
                integrations: table(Tables::INTEGRATIONS_VAR, defaults.integrations)?,
                api_keys: table(Tables::API_KEYS_VAR, defaults.api_keys)?,
            },
            targets: TargetPolicy { allow_loopback: flag(&lookup, "APVISO_ALLOW_LOOPBACK_TARGETS")? },
        })
    }
}

fn flag(lookup: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<bool, ConfigError> {
    match lookup(name).as_deref().map(str::trim) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(ConfigError { name, problem: format!("'{other}' is not true or false") }),
    }
}

fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_are_safe() {
        let config = Config::from_lookup(lookup(&[])).unwrap();
        assert_eq!(config.tables.integrations, "apviso-integrations");
        assert!(!config.targets.allow_loopback);
    }

    #[test]
    fn reads_and_checks_values() {
        let config =
            Config::from_lookup(lookup(&[("APVISO_ALLOW_LOOPBACK_TARGETS", "true"), (Tables::API_KEYS_VAR, "keys-x")]))
                .unwrap();
        assert!(config.targets.allow_loopback);
        assert_eq!(config.tables.api_keys, "keys-x");
        let err = Config::from_lookup(lookup(&[("APVISO_ALLOW_LOOPBACK_TARGETS", "yes")])).unwrap_err();
        assert_eq!(err.name, "APVISO_ALLOW_LOOPBACK_TARGETS");
        assert!(Config::from_lookup(lookup(&[(Tables::INTEGRATIONS_VAR, "bad name")])).is_err());
    }
}
