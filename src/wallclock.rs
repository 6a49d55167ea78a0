//! Wall-clock time at the edges: ISO-8601 text in scenario files and in AWS-shaped
//! outputs, as Unix milliseconds inside. The model itself only knows `SimTime`; a run's
//! `simulation.start_time` maps t = 0 to the wall clock.

use jiff::civil::{Date, DateTime};
use jiff::{Timestamp, tz::TimeZone};

/// Reads an ISO-8601 / RFC 3339 time as Unix milliseconds: with a zone (`Z`, `+01:00`)
/// as given, without one as UTC, a bare date as its midnight UTC.
pub fn parse_iso8601_ms(text: &str) -> Result<i64, String> {
    let s = text.trim();
    let bad = || format!("`{text}` is not an ISO-8601 time");
    let ts = if let Ok(ts) = s.parse::<Timestamp>() {
        ts
    } else if let Ok(dt) = s.parse::<DateTime>() {
        TimeZone::UTC.to_timestamp(dt).map_err(|_| bad())?
    } else if let Ok(d) = s.parse::<Date>() {
        TimeZone::UTC
            .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .map_err(|_| bad())?
    } else {
        return Err(bad());
    };
    Ok(ts.as_millisecond())
}

/// `2026-01-01T00:00:00.000Z`: UTC with milliseconds, as AWS writes timestamps.
pub fn format_iso8601_ms(unix_ms: i64) -> String {
    match Timestamp::from_millisecond(unix_ms) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Err(_) => "1970-01-01T00:00:00.000Z".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zones_and_defaults_to_utc() {
        assert_eq!(
            parse_iso8601_ms("2026-01-01T00:00:00Z"),
            Ok(1_767_225_600_000)
        );
        assert_eq!(
            parse_iso8601_ms("2026-01-01T01:00:00.5+01:00"),
            Ok(1_767_225_600_500)
        );
        assert_eq!(
            parse_iso8601_ms("2026-01-01T00:00:00"),
            Ok(1_767_225_600_000)
        );
        assert_eq!(parse_iso8601_ms("2026-01-01"), Ok(1_767_225_600_000));
        assert!(parse_iso8601_ms("yesterday").is_err());
        assert!(parse_iso8601_ms("2026-02-30").is_err());
    }

    #[test]
    fn formats_with_milliseconds_and_z() {
        assert_eq!(
            format_iso8601_ms(1_767_225_600_000),
            "2026-01-01T00:00:00.000Z"
        );
        assert_eq!(
            format_iso8601_ms(1_767_225_661_021),
            "2026-01-01T00:01:01.021Z"
        );
    }
}
