//! Time as people read it: the server's timestamps (PROTOCOL.md: RFC 3339, UTC) shown in
//! the user's own time zone. Both clients format time here, with jiff reading the system's
//! zone (`TZ`, else `/etc/localtime`), so the window and the terminal always agree.

use std::time::SystemTime;

pub use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

/// When the server says something happened, or now if it sent something unreadable.
pub fn server_time(text: &str) -> SystemTime {
    crate::wire::time::parse_rfc3339(text).unwrap_or_else(SystemTime::now)
}

/// `at` in the local time zone with a `strftime` pattern (`%H:%M`, `%A %e %B %Y`, ...).
pub fn local(at: SystemTime, pattern: &str) -> String {
    zoned(at).strftime(pattern).to_string()
}

/// The local calendar day of `at`.
pub fn local_day(at: SystemTime) -> Option<Date> {
    Some(zoned(at).date())
}

/// The heading for the day of `at`, as seen `now`: "Today", "Yesterday" or
/// "Monday 30 November 2026".
pub fn day_heading(at: SystemTime, now: SystemTime) -> String {
    let (day, today) = (local_day(at), local_day(now));
    let yesterday = today.and_then(|d| d.yesterday().ok());
    match day {
        Some(day) if Some(day) == today => "Today".into(),
        Some(day) if Some(day) == yesterday => "Yesterday".into(),
        _ => local(at, "%A %-d %B %Y"),
    }
}

/// `at` in the local time zone. An instant past the calendar's range in either direction
/// (the server may say 9999-12-31T23:59:59Z) is shown as its last or first moment: a stamp
/// is always there.
fn zoned(at: SystemTime) -> ZonedDateTime {
    let edge = match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(_) => Timestamp::MAX,
        Err(_) => Timestamp::MIN,
    };
    Timestamp::try_from(at)
        .unwrap_or(edge)
        .to_zoned_datetime(TimeZone::system())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn minutes_and_seconds_are_those_of_utc() {
        // Every time zone in use is offset by whole quarter hours from UTC.
        let at = UNIX_EPOCH + Duration::from_secs(1_764_234_902); // 2025-11-27T09:15:02Z
        let shown = local(at, "%H:%M:%S");
        assert_eq!(shown.len(), 8, "{shown}");
        assert_eq!(&shown[6..], "02");
        let minute: u32 = shown[3..5].parse().expect("minutes");
        assert_eq!(minute % 15, 0);
    }

    #[test]
    fn the_last_time_the_server_can_write_still_has_a_clock() {
        let last = server_time("9999-12-31T23:59:59.999Z");
        assert_eq!(local(last, "%H:%M:%S").len(), 8);
        assert!(local_day(last).is_some());
    }

    #[test]
    fn days_are_named_as_people_say_them() {
        let now = SystemTime::now();
        let day = Duration::from_secs(86_400);
        assert_eq!(day_heading(now, now), "Today");
        assert_eq!(day_heading(now - day, now), "Yesterday");
        let older = day_heading(now - day * 9, now);
        assert!(!older.contains("  "), "{older}");
        assert!(older.ends_with(&local(now - day * 9, "%Y")), "{older}");
        assert_eq!(
            server_time("2026-11-27T09:15:02.123Z"),
            UNIX_EPOCH + Duration::from_millis(1_795_770_902_123)
        );
    }
}
