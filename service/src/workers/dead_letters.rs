//! Parking a message that can never be processed in a dead-letter queue, always with its
//! reason attribute, whatever its size.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::WorkerError;
use crate::{
    queue::{DeadLetters, limits::MAX_MESSAGE_BYTES},
    store::PayloadStore,
};

/// Room kept for the reason attribute (at most 1,024 characters, so 4 KiB of UTF-8) and the
/// attribute's name and type.
const REASON_ROOM: usize = 4 * 1024 + 128;

/// Where bodies too large to dead-letter with their reason are kept.
pub const STORED_BODY_PREFIX: &str = "dead-letters/";

/// Sends `body` to `queue_url` with `reason`. A body that would not fit next to the reason
/// (an ingest message close to SQS's 1 MiB) is stored whole in the payload store and the
/// dead letter names it, so neither the evidence nor the reason is lost.
pub async fn park<Q: DeadLetters, P: PayloadStore>(
    queue: &Q,
    payloads: &P,
    queue_url: &str,
    body: &str,
    reason: &str,
) -> Result<(), WorkerError> {
    if body.len() + REASON_ROOM <= MAX_MESSAGE_BYTES {
        queue.dead_letter(queue_url, body, reason).await?;
        crate::metrics::dead_lettered(queue_url);
        return Ok(());
    }
    let key = format!("{STORED_BODY_PREFIX}{}.txt", uuid::Uuid::now_v7());
    payloads.put(&key, body.as_bytes().to_vec()).await?;
    let pointer = json!({
        "storedBody": key,
        "bytes": body.len(),
        "sha256": hex::encode(Sha256::digest(body.as_bytes())),
    });
    tracing::warn!(%key, bytes = body.len(), "dead letter too large for SQS; its body is stored");
    queue.dead_letter(queue_url, &pointer.to_string(), reason).await?;
    crate::metrics::dead_lettered(queue_url);
    Ok(())
}
