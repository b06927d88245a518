//! The SES v2 adapter of the mail port (`apviso_core::ports::mail`).

pub mod ses;

pub use apviso_core::ports::mail::*;
