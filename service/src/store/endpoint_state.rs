//! A delivery's change of an integration's endpoint state, as one conditional update of the
//! integration item (see `state_attributes` for the attributes).

use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    StoreError,
    integrations::DynamoIntegrationStore,
    schema::PK,
    state_attributes::{NAMES, state_write},
};
use apviso_core::domain::{
    endpoint_state::EndpointState,
    ids::{AccountId, IntegrationId},
};

impl DynamoIntegrationStore {
    pub(super) async fn put_state(
        &self,
        account: &AccountId,
        id: IntegrationId,
        read: u64,
        next: &EndpointState,
    ) -> Result<(), StoreError> {
        let write = state_write(next, read);
        let mut set = write.set.join(", ");
        if next.is_disabled() {
            set.push_str(", #enabled = :false, #version = #version + :one");
        }
        let mut expression = format!("SET {set}");
        if !write.remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", write.remove.join(", ")));
        }
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(account, id).into_iter().collect()))
            .update_expression(expression)
            .condition_expression(format!("attribute_exists(#pk) AND {}", write.condition))
            .expression_attribute_names("#pk", PK);
        for (placeholder, name) in NAMES {
            update = update.expression_attribute_names(placeholder, name);
        }
        if next.is_disabled() {
            update = update
                .expression_attribute_names("#enabled", "enabled")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .expression_attribute_values(":one", AttributeValue::N("1".into()));
        }
        for (placeholder, value) in write.values {
            update = update.expression_attribute_values(placeholder, value);
        }
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(StoreError::backend("UpdateItem", &e)),
        }
    }
}
