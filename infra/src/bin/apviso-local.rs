//! `make run`: the whole service on this machine against the emulator named by
//! `AWS_ENDPOINT_URL`, reached through the SDK's standard configuration.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use apviso_infra::{dev_keys, gateway::Gateway, local_config::LocalConfig, local_pipeline::LocalPipeline, stack};
use apviso_service::{config::Config, runtime, store::api_keys::DynamoApiKeyStore};
use tokio::net::TcpListener;

/// How long a message whose handler failed waits before it is offered again; the template uses
/// six times the consumer timeout, locally a short wait keeps feedback quick.
const LOCAL_VISIBILITY: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    lambda_http::tracing::init_default_subscriber();
    let local = LocalConfig::from_env()?;
    let sdk = runtime::sdk_config().await;
    let provisioned = stack::provision(&sdk, "apviso-", LOCAL_VISIBILITY).await?;
    let config = Config::from_lookup(provisioned.lookup(|name| std::env::var(name).ok()))?;
    stack::verify_sender(&sdk, &config.providers.email_from).await?;

    let keys = DynamoApiKeyStore::new(aws_sdk_dynamodb::Client::new(&sdk), &config.tables.api_keys);
    dev_keys::seed(&keys, &local.dev_keys).await?;
    let _pipeline = LocalPipeline::start(&sdk, &config, &provisioned)?;

    let gateway = Arc::new(Gateway { api: runtime::api_deps(&sdk, &config)?, keys });
    let addr = SocketAddr::from(([127, 0, 0, 1], local.port));
    let listener = TcpListener::bind(addr).await?;
    print_banner(addr, &local, &provisioned);

    tokio::select! {
        served = apviso_infra::gateway::serve(listener, gateway) => served?,
        _ = tokio::signal::ctrl_c() => println!("\nstopping the APVISO local stack"),
    }
    Ok(())
}

fn print_banner(addr: SocketAddr, local: &LocalConfig, stack: &stack::Provisioned) {
    let key = local.dev_keys.first().map_or("<key>", |k| k.key.as_str());
    println!("APVISO integrations API listening on http://{addr}");
    for k in &local.dev_keys {
        println!("  API key {} -> account {}", k.key, k.account);
    }
    println!("Events queue (publish scan events here): {}", stack.events.url);
    println!("Operational event bus (integration.failing/disabled/recovered): {}", stack.event_bus);
    println!("Metrics are the EMF lines ({{\"_aws\":...}}) in this log.");
    println!("Try:\n  curl -s http://{addr}/v1/integrations/providers -H 'X-API-Key: {key}'");
    println!("Press Ctrl-C to stop.");
}
