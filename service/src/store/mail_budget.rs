//! The per-account hourly mail budget in the digests table: one counter item per account and
//! clock hour (UTC), raised by a conditional update that holds only while the hour's count
//! leaves room, and dropped by TTL after the hour.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    StoreError,
    digests::DynamoDigestStore,
    schema::{PK, SK, mail_budget_pk, mail_budget_sk},
};
use apviso_core::{domain::ids::AccountId, ports::mail::MailBudget};

/// Counters outlive their hour by this much, for an operator to look at.
const KEEP_SECS: i64 = 24 * 3600;

impl MailBudget for DynamoDigestStore {
    async fn spend(&self, account: &AccountId, mails: u32, per_hour: u32, now: i64) -> Result<bool, StoreError> {
        let Some(room) = per_hour.checked_sub(mails) else { return Ok(false) };
        let hour = now.div_euclid(3600);
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(PK, AttributeValue::S(mail_budget_pk(account)))
            .key(SK, AttributeValue::S(mail_budget_sk(hour)))
            .update_expression("SET #sent = if_not_exists(#sent, :zero) + :mails, #exp = :exp")
            .condition_expression("attribute_not_exists(#sent) OR #sent <= :room")
            .expression_attribute_names("#sent", "sent")
            .expression_attribute_names("#exp", "expiresAt")
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":mails", AttributeValue::N(mails.to_string()))
            .expression_attribute_values(":room", AttributeValue::N(room.to_string()))
            .expression_attribute_values(":exp", AttributeValue::N(((hour + 1) * 3600 + KEEP_SECS).to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(StoreError::backend("UpdateItem", &e)),
        }
    }
}
