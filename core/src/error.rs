//! Error plumbing every layer shares: a boxed cause and a way to print its whole chain. It sits
//! here, not in the API layer, so storage, queues and workers need not import HTTP to use it.

use std::error::Error as StdError;

pub type BoxError = Box<dyn StdError + Send + Sync>;

/// Renders an error with every `source()` in its chain, the way the logs need it.
pub struct ErrorChain<'a>(pub &'a (dyn StdError + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
