//! An `integration.test` or `integration.verification` event: written by APVISO itself, never
//! ingested, so nothing in it is checked.

use std::borrow::Cow;

use super::{finding::FindingView, rules::Reader};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TestView<'a> {
    pub message: Option<Cow<'a, str>>,
    /// A sample finding, formatted the way real alerts arrive.
    pub finding: Option<FindingView<'a>>,
}

impl<'a> TestView<'a> {
    pub(super) fn read(r: &mut Reader<'a>) -> Self {
        let message = r.string("message");
        let finding = r.object("finding").map(|fields| FindingView::read(&mut Reader::new(fields)));
        Self { message, finding }
    }
}
