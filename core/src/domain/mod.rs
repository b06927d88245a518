//! Pure domain: no I/O here, so every rule is tested without AWS or a network.

pub mod catalog;
pub mod day_counts;
pub mod delivery_log;
pub mod destination;
pub mod endpoint_state;
pub mod events;
pub mod field_error;
pub mod ids;
pub mod integration;
pub mod ip_guard;
pub mod last_delivery;
pub mod log_query;
pub mod provider_settings;
pub mod recovery;
pub mod sealed;
pub mod secret;
pub mod secret_rotation;
pub mod signing_key;
pub mod target;
pub mod validation;
