//! Time as a port: the workers and the API ask a [`Clock`] instead of the system, so tests can
//! fix "now" and assert literal timestamps (delivery log times, retry due times, expiries).

use time::OffsetDateTime;

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The system's clock, in UTC: what every deployed function and the local stack use.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
