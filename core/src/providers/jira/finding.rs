//! The few fields of a finding that its Jira issue shows, read straight from the event's JSON
//! text. Parsing the whole `data` into a `Map` would copy every string (the 10 KB description
//! included) only to look a handful of them up; here unescaped strings are borrowed from the
//! text and fields the issue does not show are skipped without being built.
//!
//! Values are taken as loosely as `Value::as_str` / `as_f64` took them from the `Map`: a field
//! of another type counts as absent, never as an error, and a repeated key keeps its last value.

use std::{borrow::Cow, fmt};

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A finding as the issue sees it: a finding event's `data`, or a test event's sample finding.
#[derive(Default)]
pub struct Finding<'a> {
    pub id: Option<Cow<'a, str>>,
    pub title: Option<Cow<'a, str>>,
    pub severity: Option<Cow<'a, str>>,
    pub cvss_score: Option<f64>,
    pub endpoint: Option<Cow<'a, str>>,
    pub scan_id: Option<Cow<'a, str>>,
    pub description: Option<Cow<'a, str>>,
    pub reproduction_steps: Loose<'a>,
    pub remediation: Option<Cow<'a, str>>,
    /// `finding`, when it is an object: where a test event carries its sample finding.
    pub sample: Option<Box<Finding<'a>>>,
}

impl<'a> Finding<'a> {
    /// The fields of `json`; none when it is not a JSON object (an event's data always is).
    pub fn parse(json: &'a str) -> Self {
        serde_json::from_str(json).unwrap_or_default()
    }
}

/// A value of one of the fields above, kept only in the shapes the issue can use.
#[derive(Default)]
pub enum Loose<'a> {
    Str(Cow<'a, str>),
    Number(f64),
    /// An array's string elements, in order; its other elements are dropped.
    Strings(Vec<Cow<'a, str>>),
    Object(Box<Finding<'a>>),
    #[default]
    Other,
}

impl<'a> Loose<'a> {
    fn into_str(self) -> Option<Cow<'a, str>> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Finding<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FindingVisitor)
    }
}

struct FindingVisitor;

impl<'de> Visitor<'de> for FindingVisitor {
    type Value = Finding<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut finding = Finding::default();
        while let Some(key) = map.next_key::<Loose<'de>>()? {
            let Loose::Str(key) = key else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let slot = match key.as_ref() {
                "id" => &mut finding.id,
                "title" => &mut finding.title,
                "severity" => &mut finding.severity,
                "endpoint" => &mut finding.endpoint,
                "scanId" => &mut finding.scan_id,
                "description" => &mut finding.description,
                "remediation" => &mut finding.remediation,
                "cvssScore" => {
                    finding.cvss_score = match map.next_value()? {
                        Loose::Number(n) => Some(n),
                        _ => None,
                    };
                    continue;
                }
                "reproductionSteps" => {
                    finding.reproduction_steps = map.next_value()?;
                    continue;
                }
                "finding" => {
                    finding.sample = match map.next_value()? {
                        Loose::Object(sample) => Some(sample),
                        _ => None,
                    };
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value::<Loose<'de>>()?.into_str();
        }
        Ok(finding)
    }
}

impl<'de> Deserialize<'de> for Loose<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LooseVisitor)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v)))
    }

    // As `Value::as_f64` converts the integers it holds.
    #[allow(clippy::cast_precision_loss)]
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Loose::Number(v as f64))
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Loose::Number(v as f64))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Loose::Number(v))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Loose::Other)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Loose::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut strings = Vec::new();
        while let Some(element) = seq.next_element::<Loose<'de>>()? {
            strings.extend(element.into_str());
        }
        Ok(Loose::Strings(strings))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        FindingVisitor.visit_map(map).map(|finding| Loose::Object(Box::new(finding)))
    }
}
