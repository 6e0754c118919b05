//! Times as the subcommands print them: RFC 3339, in UTC by default (`2026-12-01T23:13:26.850Z`)
//! or in the system's time zone with `--local-time` (`2026-12-02T00:13:26.850+01:00`). Machine
//! formats (`--json`) keep go-micro's epoch numbers.

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// How to show a time.
pub enum Clock {
    /// UTC, with a `Z`.
    Utc,
    /// In this zone, with its offset.
    Zone(TimeZone),
}

impl Clock {
    /// UTC, or the system's zone (falling back to UTC when it cannot be found).
    pub fn new(local: bool) -> Clock {
        if local {
            Clock::Zone(TimeZone::system())
        } else {
            Clock::Utc
        }
    }

    /// `unix_ms` (milliseconds since the epoch) in RFC 3339 with milliseconds.
    pub fn format(&self, unix_ms: u64) -> String {
        let Ok(timestamp) = Timestamp::from_millisecond(unix_ms as i64) else {
            return unix_ms.to_string();
        };
        match self {
            Clock::Utc => timestamp.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            Clock::Zone(zone) => timestamp
                .to_zoned(zone.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
                .to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-01 23:13:26.850 UTC.
    const AT: u64 = 1_796_166_806_850;

    #[test]
    fn utc_is_rfc3339_with_z() {
        assert_eq!(Clock::Utc.format(AT), "2026-12-01T23:13:26.850Z");
        assert_eq!(Clock::Utc.format(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn a_zone_shows_its_offset() {
        let paris = Clock::Zone(TimeZone::fixed(jiff::tz::offset(1)));
        assert_eq!(paris.format(AT), "2026-12-02T00:13:26.850+01:00");
    }
}
