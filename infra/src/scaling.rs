//! How Lambda runs the SQS consumers in AWS, copied for the local runner: the batch size and
//! maximum concurrency of each event source mapping in `template.yaml`. The local stack polls
//! each queue with that many concurrent consumers, so a local figure about contention between
//! accounts means something. A test (`template_wiring`) reads the template and fails when the
//! two disagree.

/// One event source mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The template's resource name, for messages.
    pub resource: &'static str,
    /// `BatchSize`: records per invocation.
    pub batch_size: i32,
    /// `ScalingConfig.MaximumConcurrency`: concurrent invocations.
    pub max_concurrency: usize,
}

/// The fan-out function on the events queue.
pub const FANOUT: Mapping = Mapping { resource: "FanoutEventsQueueMapping", batch_size: 10, max_concurrency: 5 };

/// The delivery function on the shared lane's deliveries queue.
pub const DELIVERY: Mapping =
    Mapping { resource: "DeliveryDeliveriesQueueMapping", batch_size: 10, max_concurrency: 10 };

/// The delivery function on the slow lane's queue: few slots, since every attempt there may
/// last the whole timeout, and they are all another account's slots no more.
pub const SLOW_DELIVERY: Mapping =
    Mapping { resource: "DeliverySlowDeliveriesQueueMapping", batch_size: 10, max_concurrency: 2 };

pub const ALL: [Mapping; 3] = [FANOUT, DELIVERY, SLOW_DELIVERY];
