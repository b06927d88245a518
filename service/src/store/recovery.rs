//! The recovery index of the delivery log (`domain::recovery`): one item per delivery that
//! failed for good, keyed by time, and one state item per delivery that failed, holding its
//! last later success and the marker of a pending recovery. Claiming a recovery is one
//! conditional write on the state item, so of two concurrent recoveries one sends.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    StoreError,
    delivery_logs::{DynamoDeliveryLogStore, TTL_ATTR},
    schema::{PK, SK, delivery_state_pk, failed_pk, failed_sk},
};
use apviso_core::domain::{
    ids::{AccountId, DeliveryId, IntegrationId},
    recovery::FailedDelivery,
};

const SUCCEEDED_AT: &str = "succeededAt";
const PENDING_UNTIL: &str = "recoveryPendingUntil";

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn corrupt(why: &str) -> StoreError {
    StoreError::Corrupt(why.to_owned().into())
}

fn decode(item: &std::collections::HashMap<String, AttributeValue>) -> Result<FailedDelivery, StoreError> {
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        _ => Err(corrupt("failure item without its text attributes")),
    };
    let number = |name: &str| match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse::<i64>().map_err(|_| corrupt("failure item with a bad number")),
        _ => Err(corrupt("failure item without its number attributes")),
    };
    Ok(FailedDelivery {
        delivery_id: text("deliveryId")?.parse().map_err(|_| corrupt("failure item with a bad delivery id"))?,
        event_id: text("eventId")?,
        event: text("event")?.parse().map_err(|()| corrupt("failure item with an unknown event"))?,
        failed_at_ms: number("failedAt")?,
        expires_at: number(TTL_ATTR)?,
    })
}

impl DynamoDeliveryLogStore {
    pub(super) async fn put_failure(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        failed: &FailedDelivery,
    ) -> Result<(), StoreError> {
        let delivery = failed.delivery_id.to_string();
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, AttributeValue::S(failed_pk(account, integration)))
            .item(SK, AttributeValue::S(failed_sk(failed.failed_at_ms, &delivery)))
            .item("deliveryId", AttributeValue::S(delivery))
            .item("eventId", AttributeValue::S(failed.event_id.clone()))
            .item("event", AttributeValue::S(failed.event.as_str().into()))
            .item("failedAt", n(failed.failed_at_ms))
            .item(TTL_ATTR, n(failed.expires_at))
            .send()
            .await
            .map_err(|e| StoreError::backend("PutItem", &e))?;
        Ok(())
    }

    pub(super) async fn put_success(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        delivery: DeliveryId,
        at_ms: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(delivery_state_pk(account, integration)))
            .key(SK, AttributeValue::S(delivery.to_string()))
            .update_expression("SET #ok = :at, #ttl = :ttl REMOVE #pending")
            // Never moves a later success back.
            .condition_expression("attribute_not_exists(#ok) OR #ok < :at")
            .expression_attribute_names("#ok", SUCCEEDED_AT)
            .expression_attribute_names("#ttl", TTL_ATTR)
            .expression_attribute_names("#pending", PENDING_UNTIL)
            .expression_attribute_values(":at", n(at_ms))
            .expression_attribute_values(":ttl", n(expires_at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(StoreError::backend("UpdateItem", &e)),
        }
    }

    pub(super) async fn failures_between(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        since_ms: i64,
        until_ms: i64,
        max: usize,
    ) -> Result<Vec<FailedDelivery>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        while found.len() < max {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", AttributeValue::S(failed_pk(account, integration)))
                .expression_attribute_values(":from", AttributeValue::S(failed_sk(since_ms, "")))
                // `#` sorts before every digit: the last key of the millisecond before `until`.
                .expression_attribute_values(":to", AttributeValue::S(failed_sk(until_ms.saturating_sub(1), "~")))
                .limit(i32::try_from(max - found.len()).unwrap_or(i32::MAX).clamp(1, 1000))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::backend("Query", &e))?;
            for item in out.items.unwrap_or_default() {
                found.push(decode(&item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(found)
    }

    pub(super) async fn claim(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        failed: &FailedDelivery,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(delivery_state_pk(account, integration)))
            .key(SK, AttributeValue::S(failed.delivery_id.to_string()))
            .update_expression("SET #pending = :until, #ttl = if_not_exists(#ttl, :ttl)")
            .condition_expression(
                "(attribute_not_exists(#ok) OR #ok < :failed) AND (attribute_not_exists(#pending) OR #pending <= :now)",
            )
            .expression_attribute_names("#ok", SUCCEEDED_AT)
            .expression_attribute_names("#pending", PENDING_UNTIL)
            .expression_attribute_names("#ttl", TTL_ATTR)
            .expression_attribute_values(":until", n(until_ms))
            .expression_attribute_values(":failed", n(failed.failed_at_ms))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":ttl", n(failed.expires_at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(StoreError::backend("UpdateItem", &e)),
        }
    }

    pub(super) async fn release(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        delivery: DeliveryId,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(delivery_state_pk(account, integration)))
            .key(SK, AttributeValue::S(delivery.to_string()))
            .update_expression("REMOVE #pending")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#pending", PENDING_UNTIL)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(StoreError::backend("UpdateItem", &e)),
        }
    }
}
