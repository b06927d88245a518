//! The local stack: what stands in for API Gateway and the AWS resources SAM would create, so the
//! same handler functions run on a laptop against moto. Nothing here is deployed.

pub mod apigw_events;
pub mod dev_keys;
pub mod event_source;
pub mod gateway;
pub mod http_server;
pub mod local_config;
pub mod local_pipeline;
pub mod queues;
pub mod scaling;
pub mod schedule_pump;
pub mod secrets_key;
pub mod stack;
pub mod tables;
pub mod wiring;
