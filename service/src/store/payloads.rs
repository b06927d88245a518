//! S3 adapter for stored event data (one object per event, expired by the bucket's lifecycle
//! rule after the delivery-log retention) and oversized dead letters.

use aws_sdk_s3::{Client, primitives::ByteStream};

use super::{PayloadStore, StoreError};
use apviso_core::error::ErrorChain;

#[derive(Clone, Debug)]
pub struct S3PayloadStore {
    client: Client,
    bucket: String,
}

impl S3PayloadStore {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }
}

fn failed(operation: &'static str, err: &(dyn std::error::Error + 'static)) -> StoreError {
    StoreError::Objects { operation, message: ErrorChain(err).to_string() }
}

impl PayloadStore for S3PayloadStore {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| failed("PutObject", &e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(failed("GetObject", &e)),
        };
        let bytes = out.body.collect().await.map_err(|e| failed("GetObject", &e))?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }
}
