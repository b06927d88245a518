#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::{GroupCommit, SendGroup};
use crate::store::StoreError;

/// A sender that records each group and holds every request until the test lets it go; items
/// equal to `fail` fail.
fn recording(gate: Arc<Semaphore>, groups: Arc<Mutex<Vec<Vec<u32>>>>, fail: u32) -> SendGroup<u32, StoreError> {
    Box::new(move |items: Vec<u32>| {
        let (gate, groups) = (Arc::clone(&gate), Arc::clone(&groups));
        Box::pin(async move {
            groups.lock().unwrap().push(items.clone());
            gate.acquire().await.unwrap().forget();
            items
                .iter()
                .map(|i| {
                    if *i == fail {
                        Err(StoreError::Backend { operation: "BatchWriteItem", message: format!("item {i}") })
                    } else {
                        Ok(())
                    }
                })
                .collect()
        })
    })
}

#[tokio::test]
async fn a_lone_write_goes_at_once_and_those_arriving_meanwhile_go_together() {
    let (gate, groups) = (Arc::new(Semaphore::new(0)), Arc::new(Mutex::new(Vec::new())));
    let commit = GroupCommit::new(25, recording(Arc::clone(&gate), Arc::clone(&groups), u32::MAX));
    let first = tokio::spawn({
        let commit = commit.clone();
        async move { commit.submit(0).await }
    });
    // The first is in flight (recorded, held at the gate) before the others arrive.
    while groups.lock().unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
    let rest: Vec<_> = (1..=5)
        .map(|i| {
            let commit = commit.clone();
            tokio::spawn(async move { commit.submit(i).await })
        })
        .collect();
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    gate.add_permits(2);
    first.await.unwrap().unwrap();
    for write in rest {
        write.await.unwrap().unwrap();
    }
    assert_eq!(*groups.lock().unwrap(), vec![vec![0], vec![1, 2, 3, 4, 5]]);
}

#[tokio::test]
async fn groups_hold_at_most_max_items_and_each_caller_gets_its_own_result() {
    let (gate, groups) = (Arc::new(Semaphore::new(0)), Arc::new(Mutex::new(Vec::new())));
    let commit = GroupCommit::new(2, recording(Arc::clone(&gate), Arc::clone(&groups), 3));
    let writes: Vec<_> = (1..=5)
        .map(|i| {
            let commit = commit.clone();
            tokio::spawn(async move { (i, commit.submit(i).await) })
        })
        .collect();
    gate.add_permits(10);
    let mut results = Vec::new();
    for write in writes {
        results.push(write.await.unwrap());
    }
    for (i, result) in results {
        assert_eq!(result.is_err(), i == 3, "item {i}: {result:?}");
    }
    let groups = groups.lock().unwrap();
    assert!(groups.iter().all(|g| !g.is_empty() && g.len() <= 2), "{groups:?}");
    let mut all: Vec<u32> = groups.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(all, vec![1, 2, 3, 4, 5], "every item written once");
}

#[tokio::test]
async fn a_write_after_the_queue_drained_starts_a_new_group() {
    let (gate, groups) = (Arc::new(Semaphore::new(10)), Arc::new(Mutex::new(Vec::new())));
    let commit = GroupCommit::new(25, recording(gate, Arc::clone(&groups), u32::MAX));
    commit.submit(1).await.unwrap();
    commit.submit(2).await.unwrap();
    assert_eq!(*groups.lock().unwrap(), vec![vec![1], vec![2]]);
}
