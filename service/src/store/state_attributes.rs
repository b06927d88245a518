//! The endpoint state as attributes of the integration item (`state`, `failingSince`,
//! `consecutiveFailures`, `disabledAt`, `disabledReason`, guarded by `stateVersion`): the parts
//! of an update expression that write it, shared by a settings change (`integrations`) and a
//! delivery's transition (`endpoint_state`).

use aws_sdk_dynamodb::types::AttributeValue;

use apviso_core::domain::endpoint_state::EndpointState;

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
