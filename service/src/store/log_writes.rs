//! How the delivery log's entries are written: a group commit (`group_commit`) whose groups go
//! out as one PutItem (alone) or one BatchWriteItem (several), with every entry's own result.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, PutRequest, WriteRequest},
};

use super::{
    StoreError, UNPROCESSED_BACKOFF,
    schema::{PK, SK},
};
use crate::group_commit::{Abandoned, GroupCommit};

/// BatchWriteItem takes at most 25 items. Its 16 MB request limit holds by construction: an
/// entry is at most about 80 KiB (`DeliveryLog`'s bounds, under DynamoDB's 400 KB per item), so
/// 25 of them stay near 2 MB.
const BATCH_WRITE_MAX: usize = 25;

pub type Item = HashMap<String, AttributeValue>;

/// The writer of one table's log entries, shared by every clone of its store.
pub(super) fn entry_writer(client: Client, table: String) -> GroupCommit<Item, StoreError> {
    GroupCommit::new(
        BATCH_WRITE_MAX,
        Box::new(move |items| Box::pin(write_group(client.clone(), table.clone(), items))),
    )
}

impl Abandoned for StoreError {
    fn abandoned() -> Self {
        StoreError::Backend { operation: "BatchWriteItem", message: "the write was abandoned".into() }
    }
}

/// Log entries written by BatchWriteItem in this process (the cost benchmark prices them per
/// item, as DynamoDB bills them, beside the PutItems it counts itself).
static BATCH_WRITTEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn batch_written_entries() -> u64 {
    BATCH_WRITTEN.load(std::sync::atomic::Ordering::Relaxed)
}

async fn put(client: &Client, table: &str, item: Item) -> Result<(), StoreError> {
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .map_err(|e| StoreError::backend("PutItem", &e))?;
    Ok(())
}

/// An entry's key (both parts are strings): what matches unprocessed items to their callers.
fn key_of(item: &Item) -> (Option<&String>, Option<&String>) {
    let part = |name| item.get(name).and_then(|v: &AttributeValue| v.as_s().ok());
    (part(PK), part(SK))
}

/// Writes a group of entries: one alone by PutItem; more by BatchWriteItem, asking again for
/// those left unprocessed. Whatever a batch could not write (a failed request, items still
/// unprocessed) is written one PutItem each, so every entry gets its own result.
async fn write_group(client: Client, table: String, items: Vec<Item>) -> Vec<Result<(), StoreError>> {
    if let [item] = items.as_slice() {
        return vec![put(&client, &table, item.clone()).await];
    }
    let mut written = vec![false; items.len()];
    let mut pending: Vec<usize> = (0..items.len()).collect();
    for wait in std::iter::once(Duration::ZERO).chain(UNPROCESSED_BACKOFF) {
        if pending.is_empty() {
            break;
        }
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let requests: Option<Vec<WriteRequest>> = pending
            .iter()
            .map(|&i| {
                let put = PutRequest::builder().set_item(Some(items[i].clone())).build().ok()?;
                Some(WriteRequest::builder().put_request(put).build())
            })
            .collect();
        let Some(requests) = requests else { break };
        let out = match client.batch_write_item().request_items(&table, requests).send().await {
            Ok(out) => out,
            Err(e) => {
                tracing::warn!(error = %StoreError::backend("BatchWriteItem", &e), "log entries written one by one instead");
                break;
            }
        };
        let left: Vec<Item> = out
            .unprocessed_items
            .and_then(|mut u| u.remove(&table))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|w| w.put_request.map(|p| p.item))
            .collect();
        let left: HashSet<_> = left.iter().map(key_of).collect();
        pending.retain(|&i| {
            let done = !left.contains(&key_of(&items[i]));
            written[i] |= done;
            !done
        });
    }
    let done = written.iter().filter(|w| **w).count() as u64;
    BATCH_WRITTEN.fetch_add(done, std::sync::atomic::Ordering::Relaxed);
    let rest = futures::future::join_all(pending.iter().map(|&i| put(&client, &table, items[i].clone()))).await;
    let mut rest = pending.into_iter().zip(rest).collect::<HashMap<_, _>>();
    (0..items.len()).map(|i| rest.remove(&i).unwrap_or(Ok(()))).collect()
}
