//! `make run`: the whole service on this machine against the emulator named by
//! `AWS_ENDPOINT_URL`, reached through the SDK's standard configuration.

use std::{net::SocketAddr, sync::Arc};

use apviso_infra::{dev_keys, gateway::Gateway, local_config::LocalConfig, tables};
use apviso_shared::{config::Config, runtime, store::api_keys::DynamoApiKeyStore};
use aws_config::BehaviorVersion;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber_init();
    let config = Config::from_env()?;
    let local = LocalConfig::from_env()?;
    let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);

    tables::ensure_tables(&dynamo, &config.tables).await?;
    let keys = DynamoApiKeyStore::new(dynamo.clone(), &config.tables.api_keys);
    dev_keys::seed(&keys, &local.dev_keys).await?;

    let gateway = Arc::new(Gateway { api: runtime::api_deps(&config).await, keys });
    let addr = SocketAddr::from(([127, 0, 0, 1], local.port));
    let listener = TcpListener::bind(addr).await?;
    print_banner(addr, &local);

    tokio::select! {
        served = apviso_infra::gateway::serve(listener, gateway) => served?,
        _ = tokio::signal::ctrl_c() => println!("\nstopping the APVISO local gateway"),
    }
    Ok(())
}

fn tracing_subscriber_init() {
    lambda_http::tracing::init_default_subscriber();
}

fn print_banner(addr: SocketAddr, local: &LocalConfig) {
    let key = local.dev_keys.first().map_or("<key>", |k| k.key.as_str());
    println!("APVISO integrations API listening on http://{addr}");
    for k in &local.dev_keys {
        println!("  API key {} -> account {}", k.key, k.account);
    }
    println!("Try:\n  curl -s http://{addr}/v1/integrations/providers -H 'X-API-Key: {key}'");
    println!("Press Ctrl-C to stop.");
}
