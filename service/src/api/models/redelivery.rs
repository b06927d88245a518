//! `POST /v1/integrations/{id}/logs/{logId}/redeliver`: the queued redelivery.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Redelivery)]
pub struct RedeliveryOut {
    /// Always `Redelivery queued`.
    pub message: &'static str,
    /// The delivery id the new attempt is sent under: the one every earlier attempt of this
    /// delivery carried (`X-APVISO-Delivery`, `webhook-id`).
    pub delivery_id: String,
}
