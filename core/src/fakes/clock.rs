//! A clock that says what the test tells it to.

use std::{sync::Mutex, time::Duration};

use time::OffsetDateTime;

use super::lock;
use crate::ports::clock::Clock;

/// Stands still at the time it was given until [`FakeClock::advance`] or [`FakeClock::set`].
#[derive(Debug)]
pub struct FakeClock {
    now: Mutex<OffsetDateTime>,
}

impl FakeClock {
    pub fn at(now: OffsetDateTime) -> Self {
        Self { now: Mutex::new(now) }
    }

    pub fn advance(&self, by: Duration) {
        let mut now = lock(&self.now);
        *now += by;
    }

    pub fn set(&self, to: OffsetDateTime) {
        *lock(&self.now) = to;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        *lock(&self.now)
    }
}
