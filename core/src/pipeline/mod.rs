//! The event pipeline's pure parts: ingest parsing, matching, queue messages, signing, retry
//! policy and provider request rendering. No I/O here.

mod canonical_json;
pub mod data_ref;
pub mod delivery_id;
pub mod event_data;
pub mod event_view;
pub mod ingest;
pub mod lanes;
pub mod matching;
pub mod message;
pub mod operational;
pub mod outcome;
pub mod retry;
pub mod signing;
pub mod stored_event;
pub mod webhook;
