//! Amazon SES v2 adapter.

use aws_sdk_sesv2::{
    Client,
    types::{Body, Content, Destination, EmailContent, Message},
};

use super::{Mail, MailError, MailSender};
use apviso_core::error::ErrorChain;

#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
    from: String,
}

impl SesMailer {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Self { client, from: from.into() }
    }

    pub fn from_address(&self) -> &str {
        &self.from
    }
}

fn content(text: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError { message: format!("could not build the e-mail: {e}"), retryable: false })
}

impl MailSender for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<String, MailError> {
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(Body::builder().text(content(&mail.text)?).html(content(&mail.html)?).build())
            .build();
        let result = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().set_to_addresses(Some(mail.to.clone())).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.message_id.unwrap_or_default()),
            Err(err) => {
                let service = err.as_service_error();
                let permanent = service.is_some_and(|s| {
                    s.is_message_rejected()
                        || s.is_mail_from_domain_not_verified_exception()
                        || s.is_account_suspended_exception()
                        || s.is_not_found_exception()
                        || s.is_bad_request_exception()
                });
                let reason = service.and_then(|s| s.meta().message()).map(str::to_owned);
                let message = match reason {
                    Some(reason) => format!("Amazon SES refused the e-mail: {reason}"),
                    None => format!("Amazon SES could not be reached: {}", ErrorChain(&err)),
                };
                Err(MailError { message, retryable: !permanent })
            }
        }
    }
}
