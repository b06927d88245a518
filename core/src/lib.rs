//! The pure core of APVISO integrations: the domain (ids, catalog, settings, validation, target
//! rules), the pipeline's rules (ingest, matching, messages, retry policy, signing), the providers'
//! rendering and judging, and the ports (traits) through which they reach storage, queues, mail
//! and HTTP. Nothing here depends on the AWS SDK, an HTTP client or the Lambda runtime; the
//! `apviso-service` crate holds the adapters, the workers and the API. In-memory implementations
//! of the ports, for tests, are in `fakes` (feature `fakes`).

pub mod domain;
pub mod error;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod pipeline;
pub mod ports;
pub mod providers;
pub mod sealing;
pub mod text;
pub mod time_fmt;
