//! The endpoint state as attributes of the integration item (`state`, `failingSince`,
//! `consecutiveFailures`, `disabledAt`, `disabledReason`, guarded by `stateVersion`), written by
//! a settings change and by a delivery's transition, each as one conditional update.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{StoreError, integrations::DynamoIntegrationStore, schema::PK};
use apviso_core::domain::{
    endpoint_state::EndpointState,
    ids::{AccountId, IntegrationId},
};

/// The attribute names every state write uses, as `(placeholder, name)`.
pub(super) const NAMES: [(&str, &str); 6] = [
    ("#st", "state"),
    ("#fs", "failingSince"),
    ("#cf", "consecutiveFailures"),
    ("#da", "disabledAt"),
    ("#dr", "disabledReason"),
    ("#sv", "stateVersion"),
];

/// The parts of an update expression that write `next` (an active state removes every
/// attribute, as items are stored), and the condition that the state version is still `read`.
pub(super) struct StateWrite {
    pub set: Vec<&'static str>,
    pub remove: Vec<&'static str>,
    pub values: Vec<(&'static str, AttributeValue)>,
    pub condition: &'static str,
}

pub(super) fn state_write(next: &EndpointState, read: u64) -> StateWrite {
    let s = |v: String| AttributeValue::S(v);
    let n = |v: u64| AttributeValue::N(v.to_string());
    let (set, remove, mut values) = match next {
        EndpointState::Active => (vec![], vec!["#st", "#fs", "#cf", "#da", "#dr"], vec![]),
        EndpointState::Failing { since, consecutive } => (
            vec!["#st = :st", "#fs = :fs", "#cf = :cf"],
            vec!["#da", "#dr"],
            vec![(":st", s("failing".into())), (":fs", s(since.to_string())), (":cf", n(u64::from(*consecutive)))],
        ),
        EndpointState::Disabled { at, reason } => (
            vec!["#st = :st", "#da = :da", "#dr = :dr"],
            vec!["#fs", "#cf"],
            vec![(":st", s("disabled".into())), (":da", s(at.to_string())), (":dr", s(reason.clone()))],
        ),
    };
    let mut set = set;
    set.push("#sv = :svNext");
    values.push((":svNext", n(read + 1)));
    values.push((":svRead", n(read)));
    // Items written before states existed have no version: they read as 0.
    let condition = if read == 0 { "(attribute_not_exists(#sv) OR #sv = :svRead)" } else { "#sv = :svRead" };
    StateWrite { set, remove, values, condition }
}

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
