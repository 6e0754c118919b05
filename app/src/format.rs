//! Text for times and durations, identical on the server and in the browser (so hydration
//! sees the same text the server rendered).

/// `2026-11-25 10:42:07` (UTC) for a Unix time in milliseconds.
pub fn utc_time(unix_ms: u64) -> String {
    if unix_ms == 0 {
        return "—".to_string();
    }
    let secs = unix_ms / 1000;
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        day_secs / 3600,
        (day_secs / 60) % 60,
        day_secs % 60
    )
}

/// `1 h 4 min`, `42 s`: a short human duration.
pub fn duration(ms: u64) -> String {
    let secs = ms / 1000;
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min {} s", secs / 60, secs % 60),
        3600..=86_399 => format!("{} h {} min", secs / 3600, (secs / 60) % 60),
        _ => format!("{} d {} h", secs / 86_400, (secs / 3600) % 24),
    }
}

/// `3 min ago`, `just now`: how long before `now_ms` the time `at_ms` was, coarsely (the
/// exact time goes in a title); `—` for none (0).
pub fn ago(now_ms: u64, at_ms: u64) -> String {
    if at_ms == 0 {
        return "—".to_string();
    }
    let secs = now_ms.saturating_sub(at_ms) / 1000;
    match secs {
        0..=4 => "just now".to_string(),
        5..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// Howard Hinnant's days-from-civil inverse: proleptic Gregorian date of a day number.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        assert_eq!(utc_time(0), "—");
        assert_eq!(utc_time(1_000), "1970-01-01 00:00:01");
        assert_eq!(utc_time(1_795_603_327_000), "2026-11-25 10:42:07");
        assert_eq!(utc_time(951_782_400_000), "2000-02-29 00:00:00");
    }

    #[test]
    fn says_how_long_ago() {
        let now = 1_795_603_327_000;
        assert_eq!(ago(now, 0), "—");
        assert_eq!(ago(now, now + 500), "just now", "a clock a little ahead");
        assert_eq!(ago(now, now - 12_000), "12 s ago");
        assert_eq!(ago(now, now - 180_000), "3 min ago");
        assert_eq!(ago(now, now - 7_300_000), "2 h ago");
        assert_eq!(ago(now, now - 3 * 86_400_000), "3 d ago");
    }

    #[test]
    fn formats_durations() {
        assert_eq!(duration(999), "0 s");
        assert_eq!(duration(61_000), "1 min 1 s");
        assert_eq!(duration(3_840_000), "1 h 4 min");
        assert_eq!(duration(90_000_000), "1 d 1 h");
    }
}
