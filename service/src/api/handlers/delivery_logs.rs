//! The delivery log of an integration. Entries outlive a deleted integration for their retention
//! period, so a deleted integration's log stays readable; an id with neither is not found.

use http::StatusCode;
use lambda_http::{Request, RequestExt};

use crate::{
    api::{
        Reply,
        error::ApiError,
        models::delivery_log::{LogDetailOut, LogListOut, LogSummaryOut, PaginationOut},
        request,
    },
    store::{DeliveryLogStore, EventStore, IntegrationStore},
};
use apviso_core::{
    domain::{
        delivery_log::DeliveryLog,
        ids::{AccountId, IntegrationId},
        integration::DeliveryStatus,
        log_query::{self, LogFilter},
        validation::FieldError,
    },
    pipeline::{
        stored_event::{StoredData, StoredEvent},
        webhook::webhook_body,
    },
    ports::clock::Clock,
    time_fmt,
};
use sha2::{Digest, Sha256};

pub use crate::api::models::delivery_log::{DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE};

pub(super) async fn ensure_known(
    store: &impl IntegrationStore,
    logs: &impl DeliveryLogStore,
    account: &AccountId,
    id: IntegrationId,
) -> Result<(), ApiError> {
    if store.get(account, id).await.map_err(ApiError::internal)?.is_some() {
        return Ok(());
    }
    if logs.any(account, id).await.map_err(ApiError::internal)? { Ok(()) } else { Err(ApiError::NotFound) }
}

/// The list's filters, typed: every bad value is named (422), all at once.
fn filter(req: &Request) -> Result<LogFilter, ApiError> {
    let query = req.query_string_parameters_ref();
    let raw = |name: &str| query.and_then(|q| q.first(name)).map(str::to_owned);
    let mut errors = Vec::new();
    let mut filter = LogFilter::default();
    if let Some(status) = raw("status") {
        match status.as_str() {
            "success" => filter.status = Some(DeliveryStatus::Success),
            "failed" => filter.status = Some(DeliveryStatus::Failed),
            _ => errors.push(FieldError::new("status", "must be success or failed")),
        }
    }
    if let Some(event) = raw("event") {
        match event.parse() {
            Ok(event) => filter.event = Some(event),
            Err(()) => {
                errors.push(FieldError::new("event", "must be an event type of the catalog, such as finding.new"))
            }
        }
    }
    for (name, slot) in [("since", &mut filter.since), ("until", &mut filter.until)] {
        if let Some(text) = raw(name) {
            match time_fmt::parse_rfc3339(&text) {
                Some(t) => *slot = Some(t),
                None => {
                    errors.push(FieldError::new(name, "must be an RFC 3339 date-time, such as 2026-04-10T16:30:22Z"))
                }
            }
        }
    }
    // A `since` at or after `until` is a valid, empty window, not a mistake to refuse.
    if errors.is_empty() { Ok(filter) } else { Err(ApiError::Validation(errors)) }
}

pub async fn list(
    store: &impl IntegrationStore,
    logs: &impl DeliveryLogStore,
    clock: &impl Clock,
    retention: std::time::Duration,
    account: &AccountId,
    req: &Request,
) -> Result<Reply, ApiError> {
    let id = request::integration_id(req)?;
    let page = request::query_number(req, "page", 1, MAX_PAGE);
    let limit = request::query_number(req, "limit", DEFAULT_LIMIT, MAX_LIMIT);
    let (page, limit) = match (page, limit) {
        (Ok(p), Ok(l)) => (p, l),
        (Err(ApiError::InvalidParameter(mut a)), Err(ApiError::InvalidParameter(b))) => {
            a.extend(b);
            return Err(ApiError::InvalidParameter(a));
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let filter = filter(req)?;
    ensure_known(store, logs, account, id).await?;
    let now = clock.now();
    let spans = log_query::spans(&filter, now, retention);
    let found =
        logs.page(account, id, &filter, &spans, page, limit, now.unix_timestamp()).await.map_err(ApiError::internal)?;
    let total_pages = found.total.div_ceil(limit as usize);
    Ok(Reply::model(
        StatusCode::OK,
        &LogListOut {
            data: found.entries.iter().map(LogSummaryOut::from).collect(),
            pagination: PaginationOut { page, limit, total: found.total, total_pages },
        },
    ))
}

/// A malformed log id can name no entry, so it is simply not found.
pub(super) fn log_id(req: &Request) -> Result<String, ApiError> {
    Ok(req
        .path_parameters_ref()
        .and_then(|p| p.first("logId"))
        .filter(|raw| uuid::Uuid::try_parse(raw).is_ok())
        .ok_or(ApiError::NotFound)?
        .to_owned())
}

pub async fn get(
    store: &impl IntegrationStore,
    logs: &impl DeliveryLogStore,
    events: &impl EventStore,
    clock: &impl Clock,
    account: &AccountId,
    req: &Request,
) -> Result<Reply, ApiError> {
    let id = request::integration_id(req)?;
    let log_id = log_id(req)?;
    ensure_known(store, logs, account, id).await?;
    let now = clock.now().unix_timestamp();
    let mut entry = logs.get(account, id, &log_id, now).await.map_err(ApiError::internal)?.ok_or(ApiError::NotFound)?;
    if entry.request.body_in_event {
        rebuild_body(events, &mut entry, now).await?;
    }
    Ok(Reply::model(StatusCode::OK, &LogDetailOut::from(&entry)))
}

/// Puts back the body of an entry that refers to its stored event: the webhook body of that
/// event as the integration received it, checked against the SHA-256 the entry kept. An event
/// that is gone or does not match leaves the body empty (its size and hash still show), and
/// says why in the function's log.
async fn rebuild_body(events: &impl EventStore, entry: &mut DeliveryLog, now: i64) -> Result<(), ApiError> {
    let stored = match &entry.event_id {
        Some(event_id) => events.get(&entry.account_id, event_id, now).await.map_err(ApiError::internal)?,
        None => None,
    };
    let Some(StoredEvent { event_id, timestamp, data: StoredData::Inline(data), .. }) = stored else {
        tracing::error!(log_id = %entry.id, "log entry refers to an event no longer stored; body not shown");
        return Ok(());
    };
    let body = webhook_body(&event_id, entry.event, &timestamp, &data);
    if entry.request.body_sha256.as_deref() != Some(hex::encode(Sha256::digest(&body)).as_str()) {
        tracing::error!(log_id = %entry.id, "stored event does not give the logged body back (SHA-256); body not shown");
        return Ok(());
    }
    entry.request.body = String::from_utf8_lossy(&body).into_owned();
    entry.request.body_in_event = false;
    // Shown as a kept copy would be: the first 64 KiB, with the whole body's size and hash.
    entry.request = entry.request.clone().bounded();
    Ok(())
}
