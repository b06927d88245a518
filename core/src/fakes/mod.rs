//! In-memory implementations of every port, for unit tests of the workers and the API (and any
//! crate that enables the `fakes` feature). They keep the contracts the real adapters keep where
//! callers rely on them (the optimistic version check, `record_delivery` never moving back in
//! time, newest-first pages within retention) and record what was sent, so a test can assert on
//! it. None of them is meant for production: they hold everything in memory, forever.

mod api_keys;
mod clock;
mod delivery_logs;
mod digests;
mod event_bus;
mod events;
mod integrations;
mod keyring;
mod mailer;
mod payloads;
mod queue;
mod scheduler;
mod sender;

#[cfg(test)]
mod delivery_logs_tests;
#[cfg(test)]
mod integrations_tests;
#[cfg(test)]
mod recorders_tests;

pub use api_keys::MemoryApiKeys;
pub use clock::FakeClock;
pub use delivery_logs::MemoryDeliveryLogStore;
pub use digests::MemoryDigestStore;
pub use event_bus::RecordingEventBus;
pub use events::MemoryEventStore;
pub use integrations::MemoryIntegrationStore;
pub use keyring::{FAKE_KEY_ID, FakeKeyring};
pub use mailer::RecordingMailer;
pub use payloads::MemoryPayloadStore;
pub use queue::{DeadLetter, RecordingQueue};
pub use scheduler::{RecordingScheduler, Scheduled};
pub use sender::{Answer, ScriptedSender};

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, carrying on after a panic elsewhere: a fake's state is plain data that no
/// half-done update can leave inconsistent, and the panicking test has failed already.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
