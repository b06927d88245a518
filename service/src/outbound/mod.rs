//! The one way the service talks HTTP to customer endpoints: [`GuardedClient`], the production
//! [`Sender`], refuses private, loopback and metadata targets at connect time and never follows
//! redirects. The port itself (`Sender`, `SendResult`) lives in `apviso_core::ports::sender`.

mod client;
mod resolver;

#[cfg(test)]
mod tests;

pub use apviso_core::ports::sender::*;
pub use client::{GuardedClient, check_target};
pub use resolver::{BlockedError, GuardedResolver, ResolveError, filter_addrs, refusal};
