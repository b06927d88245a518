//! Group commit: writes that arrive while a request is in flight go out together in the next
//! one. A write that finds nothing in flight is sent at once, so no caller ever waits on a timer;
//! under concurrency (a batch's records ending together) ten PutItems become one or two
//! BatchWriteItems, ten SendMessages one SendMessageBatch. Each caller still resolves only when
//! its own item is written, with its own result, so callers see exactly what a lone write would
//! give them.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use tokio::sync::oneshot;

/// Writes one group (1 to `max` items) and answers one result per item, in their order.
pub type SendGroup<T, E> =
    Box<dyn Fn(Vec<T>) -> Pin<Box<dyn Future<Output = Vec<Result<(), E>>> + Send>> + Send + Sync>;

/// The error a caller gets when its group's request was abandoned (its task panicked).
pub trait Abandoned {
    fn abandoned() -> Self;
}

pub struct GroupCommit<T, E> {
    inner: Arc<Inner<T, E>>,
}

impl<T, E> Clone for GroupCommit<T, E> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<T, E> std::fmt::Debug for GroupCommit<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("max", &self.inner.max).finish_non_exhaustive()
    }
}

struct Inner<T, E> {
    max: usize,
    send: SendGroup<T, E>,
    state: Mutex<State<T, E>>,
}

struct State<T, E> {
    /// A drain task is running: new items only queue.
    draining: bool,
    queued: Vec<(T, oneshot::Sender<Result<(), E>>)>,
}

impl<T: Send + 'static, E: Abandoned + Send + 'static> GroupCommit<T, E> {
    pub fn new(max: usize, send: SendGroup<T, E>) -> Self {
        assert!(max > 0, "a group holds at least one item");
        let state = Mutex::new(State { draining: false, queued: Vec::new() });
        Self { inner: Arc::new(Inner { max, send, state }) }
    }

    /// Writes `item`, alone or with others that arrive meanwhile.
    pub async fn submit(&self, item: T) -> Result<(), E> {
        let (done, result) = oneshot::channel();
        let start = {
            let mut state = lock(&self.inner.state);
            state.queued.push((item, done));
            !std::mem::replace(&mut state.draining, true)
        };
        if start {
            // Its own task, so no caller waits for other callers' groups after its own.
            tokio::spawn(drain(Arc::clone(&self.inner)));
        }
        result.await.unwrap_or_else(|_| Err(E::abandoned()))
    }
}

fn lock<T, E>(state: &Mutex<State<T, E>>) -> MutexGuard<'_, State<T, E>> {
    // Plain values: a panic elsewhere cannot leave them half-updated.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sends groups until nothing is queued.
async fn drain<T, E>(inner: Arc<Inner<T, E>>) {
    // Should a group's future panic (tests unwind; releases abort), the next submit drains again.
    struct Reset<'a, T, E>(&'a Inner<T, E>);
    impl<T, E> Drop for Reset<'_, T, E> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                lock(&self.0.state).draining = false;
            }
        }
    }
    let _reset = Reset(&inner);
    loop {
        let group: Vec<_> = {
            let mut state = lock(&inner.state);
            if state.queued.is_empty() {
                // Under the lock that queues: an item queued after this starts a new drain.
                state.draining = false;
                return;
            }
            let n = state.queued.len().min(inner.max);
            state.queued.drain(..n).collect()
        };
        let (items, waiting): (Vec<T>, Vec<_>) = group.into_iter().unzip();
        let n = items.len();
        let results = (inner.send)(items).await;
        assert_eq!(results.len(), n, "a group's sender answers one result per item");
        for (done, result) in waiting.into_iter().zip(results) {
            // The caller may have gone (its future dropped): nothing to tell.
            let _ = done.send(result);
        }
    }
}

#[cfg(test)]
mod tests;
