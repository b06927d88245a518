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
    store::{DeliveryLogStore, IntegrationStore},
};
use apviso_core::{
    domain::ids::{AccountId, IntegrationId},
    ports::clock::Clock,
};

pub use crate::api::models::delivery_log::{DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE};

async fn ensure_known(
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

pub async fn list(
    store: &impl IntegrationStore,
    logs: &impl DeliveryLogStore,
    clock: &impl Clock,
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
    ensure_known(store, logs, account, id).await?;
    let now = clock.now().unix_timestamp();
    let found = logs.page(account, id, page, limit, now).await.map_err(ApiError::internal)?;
    let total_pages = found.total.div_ceil(limit as usize);
    Ok(Reply::model(
        StatusCode::OK,
        &LogListOut {
            data: found.entries.iter().map(LogSummaryOut::from).collect(),
            pagination: PaginationOut { page, limit, total: found.total, total_pages },
        },
    ))
}

pub async fn get(
    store: &impl IntegrationStore,
    logs: &impl DeliveryLogStore,
    clock: &impl Clock,
    account: &AccountId,
    req: &Request,
) -> Result<Reply, ApiError> {
    let id = request::integration_id(req)?;
    let log_id = req
        .path_parameters_ref()
        .and_then(|p| p.first("logId"))
        .filter(|raw| uuid::Uuid::try_parse(raw).is_ok())
        .ok_or(ApiError::NotFound)?
        .to_owned();
    ensure_known(store, logs, account, id).await?;
    let now = clock.now().unix_timestamp();
    let entry = logs.get(account, id, &log_id, now).await.map_err(ApiError::internal)?.ok_or(ApiError::NotFound)?;
    Ok(Reply::model(StatusCode::OK, &LogDetailOut::from(&entry)))
}
