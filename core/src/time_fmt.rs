//! One timestamp format for the whole API: RFC 3339, UTC, whole seconds, `Z` suffix.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_z_and_whole_seconds() {
        let t = parse_rfc3339("2026-04-10T18:30:22.123+02:00").unwrap();
        assert_eq!(rfc3339(t), "2026-04-10T16:30:22Z");
    }
}
