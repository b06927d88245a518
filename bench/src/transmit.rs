//! The pipeline's SDK clients with a `transmit` span around each HTTP exchange, so the CPU
//! layer (`cpu_spans.rs`) can tell the exchange (TCP connect, writing the request, reading the
//! response head) from the signing and bookkeeping of the attempt around it. The client inside
//! is the SDK's default one (hyper 1, rustls with aws-lc), built the same way.

use aws_config::SdkConfig;
use aws_smithy_http_client::{Builder, tls};
use aws_smithy_runtime_api::client::{
    http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
    },
    orchestrator::HttpRequest,
    runtime_components::RuntimeComponents,
};
use tracing::Instrument;

/// `sdk` with its HTTP client wrapped.
pub fn with_timed_transmit(sdk: &SdkConfig) -> SdkConfig {
    let inner =
        Builder::new().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc)).build_https();
    sdk.to_builder().http_client(Timed(inner)).build()
}

#[derive(Debug)]
struct Timed(SharedHttpClient);

impl HttpClient for Timed {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(TimedConnector(self.0.http_connector(settings, components)))
    }
}

#[derive(Debug)]
struct TimedConnector(SharedHttpConnector);

impl HttpConnector for TimedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let span = tracing::debug_span!("transmit");
        let call = span.in_scope(|| self.0.call(request));
        HttpConnectorFuture::new(call.instrument(span))
    }
}
