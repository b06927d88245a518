//! What every benchmark item gets: the SDK configs of both sides, the runtimes and the SDK
//! call counters.

use std::{future::Future, time::Duration};

use aws_config::SdkConfig;
use tokio::runtime::Handle;

use crate::{BoxError, cpu_spans::CpuSpans, spans::SdkCalls};

pub struct Ctx {
    /// The harness's SDK config (floors, publishing, seeding).
    pub sdk: SdkConfig,
    /// The pipeline's own SDK config, loaded on the pipeline runtime as a function would.
    pub pipe_sdk: SdkConfig,
    pub pipe: Handle,
    pub calls: SdkCalls,
    /// CPU time per SDK operation and phase on the pipeline threads.
    pub cpu: CpuSpans,
    pub moto_pid: Option<u32>,
}

impl Ctx {
    /// Runs `fut` on the pipeline runtime (so its threads, CPU time and SDK calls count as the
    /// pipeline's) and waits for it.
    pub async fn on_pipeline<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, BoxError> {
        Ok(self.pipe.spawn(fut).await?)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    pub fn dynamo(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }
}

/// A pause between measured operations, so the previous one's trailing work (log writes,
/// deletes) is not queued in front of the next one.
pub async fn settle(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
