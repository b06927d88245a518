//! Idempotent table creation, mirroring the key schema the SAM template declares.

use apviso_service::{
    config::Tables,
    store::{
        delivery_logs::TTL_ATTR,
        schema::{API_KEYS_KEYS, DELIVERY_LOGS_KEYS, DIGESTS_KEYS, INTEGRATIONS_KEYS, TableKeys},
    },
};
use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
    },
};

#[derive(Debug, thiserror::Error)]
#[error("creating table {table}: {message}")]
pub struct TableError {
    pub table: String,
    pub message: String,
}

/// The tables of a stack, each with its key schema.
pub fn table_specs(tables: &Tables) -> Vec<(String, TableKeys)> {
    vec![
        (tables.integrations.clone(), INTEGRATIONS_KEYS),
        (tables.api_keys.clone(), API_KEYS_KEYS),
        (tables.delivery_logs.clone(), DELIVERY_LOGS_KEYS),
        (tables.digests.clone(), DIGESTS_KEYS),
    ]
}

/// Tables with a TTL attribute, as the template declares them.
pub fn ttl_attributes(tables: &Tables) -> Vec<(String, &'static str)> {
    vec![(tables.delivery_logs.clone(), TTL_ATTR), (tables.digests.clone(), TTL_ATTR)]
}

pub async fn ensure_tables(client: &Client, tables: &Tables) -> Result<(), TableError> {
    for (name, keys) in table_specs(tables) {
        ensure_table(client, &name, keys).await?;
    }
    for (name, attr) in ttl_attributes(tables) {
        let spec = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(attr)
            .build()
            .map_err(|e| TableError { table: name.clone(), message: e.to_string() })?;
        match client.update_time_to_live().table_name(&name).time_to_live_specification(spec).send().await {
            Ok(_) => {}
            // Already enabled on an existing table: the state we want.
            Err(e) if format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)).contains("already enabled") => {}
            Err(e) => {
                let message = aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string();
                return Err(TableError { table: name, message });
            }
        }
    }
    Ok(())
}

async fn ensure_table(client: &Client, name: &str, keys: TableKeys) -> Result<(), TableError> {
    let err = |message: String| TableError { table: name.to_owned(), message };
    match client.describe_table().table_name(name).send().await {
        Ok(_) => return Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {}
        Err(e) => return Err(err(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())),
    }
    let mut create = client.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest);
    let mut attrs = vec![(keys.partition, KeyType::Hash)];
    attrs.extend(keys.sort.map(|s| (s, KeyType::Range)));
    for (attr, key_type) in attrs {
        let definition = AttributeDefinition::builder()
            .attribute_name(attr)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| err(e.to_string()))?;
        let element = KeySchemaElement::builder()
            .attribute_name(attr)
            .key_type(key_type)
            .build()
            .map_err(|e| err(e.to_string()))?;
        create = create.attribute_definitions(definition).key_schema(element);
    }
    match create.send().await {
        Ok(_) => Ok(()),
        // Another process created it between our describe and create: that is the goal anyway.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => Ok(()),
        Err(e) => Err(err(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())),
    }
}
