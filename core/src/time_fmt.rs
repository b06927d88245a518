//! One timestamp format for the whole API: RFC 3339, UTC, whole seconds, `Z` suffix.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339, macros::format_description};

/// Formats `t` as `2026-04-10T16:30:22Z`, the shape the API reference documents.
#[expect(clippy::expect_used, reason = "an OffsetDateTime has every component this literal description names")]
pub fn rfc3339(t: OffsetDateTime) -> String {
    let utc = t.to_offset(UtcOffset::UTC);
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    utc.format(fmt).expect("an OffsetDateTime has a date, a time and an offset")
}

pub fn now() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

/// Parses any RFC 3339 timestamp (with offset or `Z`).
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// A moment as the API and the stores write it: UTC, whole seconds, written and read as
/// [`rfc3339`] text. Built from any `OffsetDateTime` by dropping what that text cannot show, so
/// a value written and read back is equal to itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    #[expect(clippy::expect_used, reason = "0 is a valid nanosecond of every second")]
    pub fn new(t: OffsetDateTime) -> Self {
        Self(t.to_offset(UtcOffset::UTC).replace_nanosecond(0).expect("0 is a valid nanosecond"))
    }

    /// Any RFC 3339 text; `None` when it is not one.
    pub fn parse(s: &str) -> Option<Self> {
        parse_rfc3339(s).map(Self::new)
    }

    pub fn get(self) -> OffsetDateTime {
        self.0
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(t: OffsetDateTime) -> Self {
        Self::new(t)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&rfc3339(self.0))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&rfc3339(self.0))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(&raw), &"an RFC 3339 timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_z_and_whole_seconds() {
        let t = parse_rfc3339("2026-04-10T18:30:22.123+02:00").unwrap();
        assert_eq!(rfc3339(t), "2026-04-10T16:30:22Z");
    }

    #[test]
    fn a_timestamp_is_written_as_the_api_writes_times_and_reads_back_equal() {
        let t = Timestamp::new(parse_rfc3339("2026-04-10T18:30:22.123+02:00").unwrap());
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-04-10T16:30:22Z\"");
        assert_eq!(t.to_string(), "2026-04-10T16:30:22Z");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }
}
