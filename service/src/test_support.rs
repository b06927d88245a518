//! What the workers' and handlers' unit tests share: a fixed "now", integrations built the way
//! the API builds them (from a create body), and the fakes wired as the live deps are.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use std::{collections::HashMap, time::Duration};

use lambda_http::RequestExt;

use serde_json::{Value, json};
use time::{OffsetDateTime, macros::datetime};

use apviso_core::{
    domain::{
        ids::{AccountId, IntegrationId},
        integration::Integration,
        target::TargetPolicy,
        validation,
    },
    fakes::{FakeClock, MemoryDigestStore, RecordingMailer, ScriptedSender},
    providers::Providers,
};

/// "Now" in every test, unless a test moves the clock: 2026-11-24T09:00:00Z.
pub const NOW: OffsetDateTime = datetime!(2026-11-24 09:00 UTC);
/// [`NOW`] in Unix seconds.
pub const NOW_UNIX: i64 = 1_795_510_800;
/// When the integrations built here were created, an hour before [`NOW`].
pub const CREATED_AT: &str = "2026-11-24T08:00:00Z";
/// The delivery-log retention the tests configure (the default, 30 days).
pub const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Fixed integration ids, oldest first (UUIDv7 ids order by creation).
pub const ID_1: &str = "01900000-0000-7000-8000-000000000001";
pub const ID_2: &str = "01900000-0000-7000-8000-000000000002";
pub const ID_3: &str = "01900000-0000-7000-8000-000000000003";
pub const ID_4: &str = "01900000-0000-7000-8000-000000000004";
pub const ID_5: &str = "01900000-0000-7000-8000-000000000005";

/// The hourly mail budget the test providers get (the default).
pub const MAIL_BUDGET: u32 = 200;

pub const HOOK_URL: &str = "https://hooks.example.com/apviso";

pub fn clock() -> FakeClock {
    FakeClock::at(NOW)
}

pub fn account(raw: &str) -> AccountId {
    AccountId::parse(raw).unwrap()
}

pub fn id(raw: &str) -> IntegrationId {
    raw.parse().unwrap()
}

/// The integration a create request with `body` makes, under `account_id` and `id`.
pub fn integration(account_id: &str, id: &str, body: Value) -> Integration {
    let new = validation::parse_create(&body, TargetPolicy::default()).unwrap();
    let mut integration = Integration::create(account(account_id), new.settings, CREATED_AT.into());
    integration.id = id.parse().unwrap();
    integration
}

/// A webhook to [`HOOK_URL`] subscribed to `events`.
pub fn webhook(account_id: &str, id: &str, events: &[&str]) -> Integration {
    let body = json!({
        "provider": "webhook", "name": format!("Hook {id}"),
        "credentials": {"url": HOOK_URL, "secret": "test-secret-0123456789"},
        "enabledEvents": events,
    });
    integration(account_id, id, body)
}

pub type FakeProviders = Providers<ScriptedSender, RecordingMailer, MemoryDigestStore>;

/// The real providers over a scripted HTTP sender and a recording mailer.
pub fn providers(http: ScriptedSender) -> FakeProviders {
    Providers {
        http,
        pagerduty_url: "https://events.pagerduty.com/v2/enqueue".into(),
        mailer: RecordingMailer::default(),
        mail_from: "alerts@apviso.example".into(),
        digests: MemoryDigestStore::default(),
        mail_hourly_budget: MAIL_BUDGET,
    }
}

/// An API request with the given path parameters, query parameters and JSON body.
pub fn request(path: &[(&str, &str)], query: &[(&str, &str)], body: Option<Value>) -> lambda_http::Request {
    let pairs = |list: &[(&str, &str)]| -> HashMap<String, String> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    let body = body.map_or(lambda_http::Body::Empty, |b| lambda_http::Body::Text(b.to_string()));
    http::Request::builder()
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body)
        .unwrap()
        .with_path_parameters(pairs(path))
        .with_query_string_parameters(pairs(query))
}
