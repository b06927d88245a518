//! Route handlers: plain async functions over borrowed dependencies, one file per resource.

pub mod delivery_logs;
pub mod integrations;
pub mod public;
pub mod quotas;
pub mod recover;
pub mod redeliver;
pub mod rotation;
pub mod test_delivery;
pub mod verification;

#[cfg(test)]
mod delivery_logs_tests;
#[cfg(test)]
mod integrations_tests;
#[cfg(test)]
mod quotas_tests;
#[cfg(test)]
mod recover_tests;
#[cfg(test)]
mod redeliver_tests;
#[cfg(test)]
mod rotation_tests;
#[cfg(test)]
mod test_delivery_tests;
#[cfg(test)]
mod verification_tests;
