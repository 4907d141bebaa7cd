//! The server clock on the wire: RFC 3339 in UTC with milliseconds, such as
//! `2026-11-27T09:15:02.123Z`. Written by hand to keep the dependency list short.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Formats a point in time as RFC 3339 UTC with milliseconds.
pub fn rfc3339(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// The current time, formatted by [`rfc3339`].
pub fn now() -> String {
    rfc3339(SystemTime::now())
}

/// Parses what [`rfc3339`] writes (and any RFC 3339 time with `Z` or a numeric offset).
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    // 60 is a leap second, as RFC 3339 allows; it counts as the next minute's first.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Only ASCII can be valid here, and checking that first makes every byte offset below a
    // character boundary: a server time is peer data and must never make slicing panic.
    if !text.is_ascii() {
        return None;
    }
    let mut rest = text.get(19..)?;
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let scaled: String = frac
            .get(..digits)?
            .chars()
            .chain("000000000".chars())
            .take(9)
            .collect();
        nanos = scaled.parse().ok()?;
        rest = frac.get(digits..)?;
    }
    let offset_secs = match rest.as_bytes() {
        b"Z" | b"z" => 0,
        [sign, _, _, b':', _, _] => {
            let sign = match sign {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (hours, minutes) = (num_in(rest, 1..3)?, num_in(rest, 4..6)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month as u32, day as u32);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    // Before 1970 or after 9999 in UTC (a year 9999 time with a negative offset can be):
    // refused, so that whatever parses also formats as a time that parses.
    let secs = u64::try_from(secs).ok().filter(|&s| s <= LAST_SECOND)?;
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// 9999-12-31T23:59:59Z, the last second with a four-digit year.
const LAST_SECOND: u64 = 253_402_300_799;

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn num_in(s: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = s.get(range)?;
    if part.bytes().all(|c| c.is_ascii_digit()) {
        part.parse().ok()
    } else {
        None
    }
}

// Howard Hinnant's algorithms for the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
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

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = i64::from(if month > 2 { month - 3 } else { month + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_770_902_123);
        assert_eq!(rfc3339(t), "2026-11-27T09:15:02.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn round_trips_and_offsets() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_770_902_123);
        assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        let shifted = parse_rfc3339("2026-11-27T10:15:02.123+01:00");
        assert_eq!(shifted, Some(t));
        assert_eq!(
            parse_rfc3339("2026-11-27 09:15:02Z"),
            Some(t - Duration::from_millis(123))
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-27T09:15:02",
            "2026-11-27T09:15:02.Z",
            // Multi-byte characters where digits or signs belong (issue 9, item 9).
            "2026-11-27T09:15:02+0é00",
            "2026-11-27T09:15:02é",
            "2026-11-27T09:15:02.1é",
            "2026-11-27T09:15:0é+01:00",
            "é026-11-27T09:15:02Z",
            "2026-11-27T09:15:02+é:00",
            "2026-11-27T09:15:02+01:00é",
            // Out of range: fields, offsets, and instants outside 1970..=9999 in UTC.
            "2026-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-27T24:00:00Z",
            "2026-11-27T09:15:61Z",
            "2026-11-27T09:15:02+24:00",
            "2026-11-27T09:15:02-01:60",
            "9999-12-31T23:59:59-00:01",
            "1970-01-01T00:00:00+00:01",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_edges_of_the_calendar() {
        assert!(parse_rfc3339("2024-02-29T00:00:00Z").is_some());
        assert!(parse_rfc3339("2000-02-29T00:00:00Z").is_some());
        assert!(parse_rfc3339("1900-02-29T00:00:00Z").is_none());
        let leap = parse_rfc3339("2016-12-31T23:59:60Z");
        assert_eq!(leap, parse_rfc3339("2017-01-01T00:00:00Z"));
        let last = parse_rfc3339("9999-12-31T23:59:59.999999999Z");
        assert_eq!(
            last.map(rfc3339).as_deref(),
            Some("9999-12-31T23:59:59.999Z")
        );
        let first = parse_rfc3339("1970-01-01T00:00:00-00:00");
        assert_eq!(first, Some(UNIX_EPOCH));
    }

    #[test]
    fn a_wide_character_anywhere_is_refused_not_a_panic() {
        // Over every position of every form, one character as wide as the ASCII it
        // replaces: the length checks pass and every later byte offset is mid-character.
        for valid in [
            "2026-11-27T09:15:02.123Z",
            "2026-11-27T09:15:02+01:00",
            "2026-11-27T09:15:02.5-13:45",
        ] {
            for wide in ['é', '€', '😀'] {
                for at in 0..valid.len() {
                    let end = (at + wide.len_utf8()).min(valid.len());
                    let damaged = format!("{}{wide}{}", &valid[..at], &valid[end..]);
                    assert_eq!(parse_rfc3339(&damaged), None, "{damaged}");
                }
            }
        }
    }
}
