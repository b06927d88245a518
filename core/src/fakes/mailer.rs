//! A mailer that records every mail and answers with a made-up message id (or a scripted
//! failure).

use std::{collections::VecDeque, sync::Mutex};

use super::lock;
use crate::ports::mail::{Mail, MailError, MailSender};

#[derive(Debug, Default)]
pub struct RecordingMailer {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    sent: Vec<Mail>,
    failures: VecDeque<MailError>,
    accepted: usize,
}

impl RecordingMailer {
    /// Every mail handed to `send`, refused ones included.
    pub fn sent(&self) -> Vec<Mail> {
        lock(&self.state).sent.clone()
    }

    /// The next `send` fails with `error`.
    pub fn fail_next(&self, error: MailError) {
        lock(&self.state).failures.push_back(error);
    }
}

impl MailSender for RecordingMailer {
    /// Message ids are `fake-1`, `fake-2`, … in the order mails were accepted.
    async fn send(&self, mail: &Mail) -> Result<String, MailError> {
        let mut state = lock(&self.state);
        state.sent.push(mail.clone());
        if let Some(error) = state.failures.pop_front() {
            return Err(error);
        }
        state.accepted += 1;
        Ok(format!("fake-{}", state.accepted))
    }
}
