//! The event pipeline's pure parts: ingest parsing, matching, queue messages, signing, retry
//! policy and provider request rendering. No I/O here.
