//! `POST /v1/integrations/{id}/recover`: the window asked for, and how many deliveries it queued.

use serde::Serialize;
use utoipa::ToSchema;

/// The window to recover. Both times are RFC 3339; `since` must be within the delivery log's
/// retention (30 days).
#[derive(Debug, ToSchema)]
#[schema(as = RecoverRequest)]
#[allow(dead_code, reason = "describes the body handlers::recover reads")]
pub struct RecoverIn {
    /// Recover deliveries that failed for good at or after this time.
    #[schema(format = DateTime)]
    pub since: String,
    /// ... and before this time; defaults to now.
    #[schema(format = DateTime, nullable = false)]
    pub until: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Recovery)]
pub struct RecoveryOut {
    /// Deliveries queued to be sent once more, oldest failure first.
    pub queued: usize,
}
