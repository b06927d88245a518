//! The whole integration suite as one test binary: each file below was its own binary, and each
//! linked the whole stack and recompiled `common` again, so one edit to a provider relinked
//! fifteen executables. Test names carry their file as a module prefix (`provider_jira::...`).
//!
//! Cargo finds it as `tests/e2e/main.rs`. Most tests need the moto server that `make test`
//! starts; the `template_` and `openapi_document` checks run offline, e.g.
//! `cargo test -p apviso-tests --test e2e template_`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails loudly on purpose")]

mod common;

mod api_crud;
mod api_delivery_logs;
mod api_in_process;
mod api_log_search;
mod api_recover;
mod api_redeliver;
mod api_validation;
mod fair_delivery;
mod openapi_document;
mod pipeline_delivery;
mod pipeline_endpoint_state;
mod pipeline_fixtures;
mod pipeline_limits;
mod pipeline_retries;
mod provider_email;
mod provider_jira;
mod provider_pagerduty;
mod provider_slack;
mod secret_rotation;
mod secrets_at_rest;
mod template_access;
mod template_operations;
mod template_wiring;
mod tenant_quotas;
