//! Per-integration time windows as attributes of the integration item ("not before", Unix
//! milliseconds): the `POST …/test` rate limit and the pending verification ping. Claiming one
//! is one conditional update, so of concurrent claimers exactly one wins; nothing else on the
//! item is touched, and integrations decode without them (unknown attributes are ignored).

use aws_sdk_dynamodb::types::AttributeValue;

use super::{Claim, StoreError, Window, integrations::DynamoIntegrationStore, schema::PK};
use apviso_core::domain::ids::{AccountId, IntegrationId};

fn attribute(window: Window) -> &'static str {
    match window {
        Window::Test => "testNotBefore",
        Window::VerificationPending => "verificationPendingUntil",
    }
}

/// A claim that lost is read back to say until when; it is tried again this often if the window
/// opened in between.
const ATTEMPTS: u32 = 3;

impl DynamoIntegrationStore {
    pub(super) async fn claim(
        &self,
        account: &AccountId,
        id: IntegrationId,
        window: Window,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Claim, StoreError> {
        let name = attribute(window);
        for _ in 0..ATTEMPTS {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Self::key(account, id).into_iter().collect()))
                .update_expression("SET #w = :until")
                .condition_expression("attribute_exists(#pk) AND (attribute_not_exists(#w) OR #w <= :now)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#w", name)
                .expression_attribute_values(":until", AttributeValue::N(until_ms.to_string()))
                .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(Claim::Granted),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(StoreError::backend("UpdateItem", &e)),
            }
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(Self::key(account, id).into_iter().collect()))
                .projection_expression("#pk, #w")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#w", name)
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| StoreError::backend("GetItem", &e))?;
            let Some(item) = out.item else { return Ok(Claim::Missing) };
            if let Some(AttributeValue::N(raw)) = item.get(name)
                && let Ok(until) = raw.parse::<i64>()
                && until > now_ms
            {
                return Ok(Claim::Busy { until_ms: until });
            }
        }
        // Opened and closed again by others each time we looked: as good as busy.
        Ok(Claim::Busy { until_ms: until_ms.min(now_ms.saturating_add(1000)) })
    }

    pub(super) async fn release(
        &self,
        account: &AccountId,
        id: IntegrationId,
        window: Window,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(account, id).into_iter().collect()))
            .update_expression("REMOVE #w")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#w", attribute(window))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Deleted meanwhile: nothing to open.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(StoreError::backend("UpdateItem", &e)),
        }
    }
}
