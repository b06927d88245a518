//! Settings that exist only for the local stack.

use crate::dev_keys::{DEFAULT_DEV_KEYS, DevKey, parse_dev_keys};

#[derive(Debug)]
pub struct LocalConfig {
    pub port: u16,
    pub dev_keys: Vec<DevKey>,
}

impl LocalConfig {
    pub fn from_env() -> Result<Self, String> {
        let port = match std::env::var("APVISO_PORT") {
            Ok(p) => p.trim().parse().map_err(|_| format!("APVISO_PORT: '{p}' is not a port number"))?,
            Err(_) => 3000,
        };
        let raw_keys = std::env::var("APVISO_DEV_API_KEYS").unwrap_or_else(|_| DEFAULT_DEV_KEYS.to_owned());
        let dev_keys = parse_dev_keys(&raw_keys).map_err(|e| format!("APVISO_DEV_API_KEYS: {e}"))?;
        Ok(Self { port, dev_keys })
    }
}
