//! An HTTP sender that answers from a script and records every request.

use std::{collections::VecDeque, sync::Mutex, time::Duration};

use super::lock;
use crate::{
    pipeline::{outcome::FailureKind, webhook::OutboundRequest},
    ports::sender::{SendResult, Sender, TransportError},
};

/// How long every scripted answer says the request took, so logged response times are literal.
pub const ELAPSED: Duration = Duration::from_millis(25);

/// One scripted answer: a response, or a failure before any status arrived.
#[derive(Clone, Debug)]
pub enum Answer {
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    Failure(TransportError),
    /// Accepts the request and never answers, like an endpoint that black-holes traffic.
    Hang,
}

impl Answer {
    /// A response with no headers and no body.
    pub fn status(status: u16) -> Self {
        Answer::Response { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn json(status: u16, body: &str) -> Self {
        let headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        Answer::Response { status, headers, body: body.as_bytes().to_vec() }
    }

    /// Adds a response header (names are kept lower-case, as the real sender keeps them).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Answer::Response { headers, .. } = &mut self {
            headers.push((name.to_ascii_lowercase(), value.to_owned()));
        }
        self
    }

    pub fn failure(kind: FailureKind, message: &str) -> Self {
        Answer::Failure(TransportError::new(kind, message))
    }

    /// `None` for [`Answer::Hang`]: there is never a result.
    fn into_result(self) -> Option<SendResult> {
        match self {
            Answer::Response { status, headers, body } => {
                Some(SendResult { status: Some(status), headers, body, elapsed: ELAPSED, error: None })
            }
            Answer::Failure(error) => Some(SendResult::failed(error, ELAPSED)),
            Answer::Hang => None,
        }
    }
}

#[derive(Debug, Default)]
pub struct ScriptedSender {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    script: VecDeque<Answer>,
    /// Given once the script is used up, if set.
    otherwise: Option<Answer>,
    requests: Vec<OutboundRequest>,
}

impl ScriptedSender {
    /// Gives `answers` in order, one per request, then panics: a request the test did not
    /// expect fails it loudly.
    pub fn answering(answers: impl IntoIterator<Item = Answer>) -> Self {
        let state = State { script: answers.into_iter().collect(), ..State::default() };
        Self { state: Mutex::new(state) }
    }

    /// Gives `answer` to every request.
    pub fn always(answer: Answer) -> Self {
        Self { state: Mutex::new(State { otherwise: Some(answer), ..State::default() }) }
    }

    /// Every request sent, in order.
    pub fn requests(&self) -> Vec<OutboundRequest> {
        lock(&self.state).requests.clone()
    }
}

impl Sender for ScriptedSender {
    async fn send(&self, request: &OutboundRequest) -> SendResult {
        // The guard lives in this block only: the future must stay `Send` across the await below.
        let answer = {
            let mut state = lock(&self.state);
            state.requests.push(request.clone());
            state.script.pop_front().or_else(|| state.otherwise.clone())
        };
        match answer.map(Answer::into_result) {
            Some(Some(result)) => result,
            Some(None) => std::future::pending().await,
            None => panic!("ScriptedSender: no answer scripted for {} {}", request.method, request.url),
        }
    }
}
