//! Python 3.11's `datetime.fromisoformat`, for the wall clock SPEC prints
//! from a row's `ts`.

/// Python 3.11 `datetime.fromisoformat(ts).strftime("%Y-%m-%dT%H:%M:%SZ")`; `None` when
/// `fromisoformat` raises.
///
/// A port of CPython 3.11's C parser (`Modules/_datetimemodule.c`), quirks included: it works on
/// the UTF-8 bytes, the date/time separator may be any character, week dates (`2025-W01-3`),
/// basic formats (`20250929T120000`), hours only (`T12`), a fraction after minutes or seconds
/// (`.` or `,`, digits past 6 ignored), offsets `Z`/`±HH[:MM[:SS[.f]]]` (any minutes, total
/// below 24 h). The result is the ts's own wall clock, no time-zone conversion; `%Y` is not
/// zero-padded (glibc: year 1 prints as `1`).
pub fn iso_wall_clock(ts: &str) -> Option<String> {
    if ts.chars().count() < 7 {
        return None;
    }
    let b = ts.as_bytes();
    let len = b.len();
    let sep = find_isoformat_datetime_separator(b)?;
    let (year, month, day) = parse_isoformat_date(b, sep)?;
    let mut time = IsoTime::default();
    if len > sep {
        // Skip the separator: one UTF-8 encoded character.
        let lead = at(b, sep);
        let skip = if lead & 0x80 == 0 {
            1
        } else {
            match lead & 0xf0 {
                0xe0 => 3,
                0xf0 => 4,
                _ => 2,
            }
        };
        time = parse_isoformat_time(b, (sep + skip).min(len))?;
    }
    let valid_date = (1..=9999).contains(&year)
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month);
    let valid_time = time.hour <= 23 && time.minute <= 59 && time.second <= 59;
    // A UTC offset must be strictly between -24 h and +24 h.
    let valid_offset = time.offset_us.abs() < 86_400_000_000;
    if !(valid_date && valid_time && valid_offset) {
        return None;
    }
    Some(format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        time.hour, time.minute, time.second
    ))
}

/// The byte at `i`, or 0 past the end: the C parser reads a NUL-terminated buffer.
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// `parse_digits`: exactly `n` ASCII digits at `*p`, accumulated into `*value`.
fn parse_digits(b: &[u8], p: &mut usize, n: usize, value: &mut i64) -> Option<()> {
    for _ in 0..n {
        let d = at(b, *p).wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        *value = *value * 10 + i64::from(d);
        *p += 1;
    }
    Some(())
}

/// `_find_isoformat_datetime_separator`: where the date ends (a byte index).
fn find_isoformat_datetime_separator(b: &[u8]) -> Option<usize> {
    let len = b.len();
    if len == 7 {
        return Some(7);
    }
    if at(b, 4) == b'-' {
        if at(b, 5) == b'W' {
            if len > 8 && at(b, 8) == b'-' {
                if len == 9 {
                    return None;
                }
                if len > 10 && at(b, 10).is_ascii_digit() {
                    return Some(8);
                }
                return Some(10);
            }
            return Some(8);
        }
        return Some(10);
    }
    if at(b, 4) == b'W' {
        let mut idx = 7;
        while idx < len && b[idx].is_ascii_digit() {
            idx += 1;
        }
        if idx < 9 {
            return Some(idx);
        }
        return Some(if idx % 2 == 0 { 7 } else { 8 });
    }
    Some(8)
}

/// `parse_isoformat_date`: `YYYY-MM-DD`, `YYYYMMDD`, `YYYY-Www[-D]`, `YYYYWww[D]`.
fn parse_isoformat_date(b: &[u8], len: usize) -> Option<(i64, i64, i64)> {
    let mut p = 0;
    let mut year = 0;
    parse_digits(b, &mut p, 4, &mut year)?;
    let uses_separator = at(b, p) == b'-';
    if uses_separator {
        p += 1;
    }
    if at(b, p) == b'W' {
        p += 1;
        let (mut week, mut weekday) = (0, 0);
        parse_digits(b, &mut p, 2, &mut week)?;
        if p < len {
            if uses_separator {
                if at(b, p) != b'-' {
                    return None;
                }
                p += 1;
            }
            parse_digits(b, &mut p, 1, &mut weekday)?;
        } else {
            weekday = 1;
        }
        return iso_to_ymd(year, week, weekday);
    }
    let (mut month, mut day) = (0, 0);
    parse_digits(b, &mut p, 2, &mut month)?;
    if uses_separator {
        if at(b, p) != b'-' {
            return None;
        }
        p += 1;
    }
    parse_digits(b, &mut p, 2, &mut day)?;
    Some((year, month, day))
}

#[derive(Default)]
struct IsoTime {
    hour: i64,
    minute: i64,
    second: i64,
    /// The UTC offset in microseconds (only its range matters here).
    offset_us: i64,
}

/// `parse_hh_mm_ss_ff` on `b[start..end]`: `HH[:?MM[:?SS]][{.,}ffffff…]`. Returns the four fields
/// and whether it stopped before a NUL (C's "1: not the end of the string").
fn parse_hh_mm_ss_ff(b: &[u8], start: usize, end: usize) -> Option<([i64; 4], bool)> {
    let mut vals = [0i64; 4];
    let mut p = start;
    let mut has_separator = true;
    for (i, val) in vals.iter_mut().take(3).enumerate() {
        parse_digits(b, &mut p, 2, val)?;
        let c = at(b, p);
        p += 1;
        if i == 0 {
            has_separator = c == b':';
        }
        if p >= end {
            return Some((vals, c != 0));
        } else if has_separator && c == b':' {
            continue;
        } else if c == b'.' || c == b',' {
            break;
        } else if !has_separator {
            p -= 1;
        } else {
            return None; // malformed time separator
        }
    }
    let to_parse = end.saturating_sub(p).min(6);
    let mut micro = 0;
    parse_digits(b, &mut p, to_parse, &mut micro)?;
    if let Some(scale) = [1_000_000, 100_000, 10_000, 1_000, 100, 10].get(to_parse) {
        micro *= scale;
    }
    while at(b, p).is_ascii_digit() {
        p += 1; // digits past the sixth are ignored
    }
    vals[3] = micro;
    Some((vals, at(b, p) != 0))
}

/// `parse_isoformat_time` on `b[start..]`: a time, then optionally `Z` or `±` and an offset.
fn parse_isoformat_time(b: &[u8], start: usize) -> Option<IsoTime> {
    let end = b.len();
    let mut tz = start;
    loop {
        if matches!(at(b, tz), b'Z' | b'+' | b'-') {
            break;
        }
        tz += 1;
        if tz >= end {
            break;
        }
    }
    let ([hour, minute, second, _], trailing) = parse_hh_mm_ss_ff(b, start, tz)?;
    let mut time = IsoTime {
        hour,
        minute,
        second,
        offset_us: 0,
    };
    if tz == end {
        return (!trailing).then_some(time);
    }
    if at(b, tz) == b'Z' {
        return (at(b, tz + 1) == 0).then_some(time);
    }
    let sign = if at(b, tz) == b'-' { -1 } else { 1 };
    let ([h, m, s, us], trailing) = parse_hh_mm_ss_ff(b, tz + 1, end)?;
    if trailing {
        return None;
    }
    time.offset_us = sign * ((h * 3600 + m * 60 + s) * 1_000_000 + us);
    Some(time)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    const DAYS: [i64; 13] = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if month == 2 && is_leap(year) {
        29
    } else {
        DAYS.get(month as usize).copied().unwrap_or(0)
    }
}

/// `ymd_to_ord`: days since 0001-01-01 (which is day 1).
fn ymd_to_ord(year: i64, month: i64, day: i64) -> i64 {
    const BEFORE: [i64; 13] = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let y = year - 1;
    let leap_day = i64::from(month > 2 && is_leap(year));
    let before = BEFORE.get(month as usize).copied().unwrap_or(0);
    y * 365 + y / 4 - y / 100 + y / 400 + before + leap_day + day
}

/// `ord_to_ymd`: the inverse of [`ymd_to_ord`] for ordinals >= 1.
fn ord_to_ymd(ordinal: i64) -> (i64, i64, i64) {
    const DI400Y: i64 = 146_097;
    const DI100Y: i64 = 36_524;
    const DI4Y: i64 = 1_461;
    let mut n = ordinal - 1;
    let n400 = n / DI400Y;
    n %= DI400Y;
    let mut year = n400 * 400 + 1;
    let n100 = n / DI100Y;
    n %= DI100Y;
    let n4 = n / DI4Y;
    n %= DI4Y;
    let n1 = n / 365;
    n %= 365;
    year += n100 * 100 + n4 * 4 + n1;
    if n1 == 4 || n100 == 4 {
        return (year - 1, 12, 31);
    }
    let mut month = 1;
    while month < 12 && ymd_to_ord(year, month + 1, 1) - ymd_to_ord(year, 1, 1) <= n {
        month += 1;
    }
    let day = n - (ymd_to_ord(year, month, 1) - ymd_to_ord(year, 1, 1)) + 1;
    (year, month, day)
}

/// `iso_to_ymd`: ISO year, week (1-52, or 53 in long years) and weekday (1-7) to a date.
fn iso_to_ymd(year: i64, week: i64, weekday: i64) -> Option<(i64, i64, i64)> {
    if !(1..=9999).contains(&year) {
        return None;
    }
    let jan1 = ymd_to_ord(year, 1, 1);
    let first_weekday = (jan1 + 6) % 7; // 0 = Monday
    if !(1..53).contains(&week) {
        let long_year = first_weekday == 3 || (first_weekday == 2 && is_leap(year));
        if !(week == 53 && long_year) {
            return None;
        }
    }
    if !(1..8).contains(&weekday) {
        return None;
    }
    let mut week1_monday = jan1 - first_weekday;
    if first_weekday > 3 {
        week1_monday += 7;
    }
    Some(ord_to_ymd(week1_monday + (week - 1) * 7 + weekday - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_wall_clock_cases() {
        let ok: &[(&str, &str)] = &[
            ("2025-09-29T12:00:00+00:00", "2025-09-29T12:00:00Z"),
            ("2025-09-29T12:34:56.123456+00:00", "2025-09-29T12:34:56Z"),
            ("2025-09-29T23:59:59.999999-05:00", "2025-09-29T23:59:59Z"),
            ("2025-09-29T12:00:00Z", "2025-09-29T12:00:00Z"),
            ("2025-09-29", "2025-09-29T00:00:00Z"),
            ("20250929", "2025-09-29T00:00:00Z"),
            ("20250929T120000", "2025-09-29T12:00:00Z"),
            ("2025-09-29 12:00", "2025-09-29T12:00:00Z"),
            ("2025-09-29T12", "2025-09-29T12:00:00Z"),
            ("2025-09-29x12:30", "2025-09-29T12:30:00Z"),
            ("2025-09-29é12:30", "2025-09-29T12:30:00Z"),
            ("2025-09-29T12:30:45,5", "2025-09-29T12:30:45Z"),
            ("2025-09-29T12:30:45.1234567", "2025-09-29T12:30:45Z"),
            ("2025-09-29T12:30+05:99", "2025-09-29T12:30:00Z"),
            ("2025-09-29T12:30+23:59:59.999999", "2025-09-29T12:30:00Z"),
            ("2024-02-29T00:00", "2024-02-29T00:00:00Z"),
            ("2000-02-29", "2000-02-29T00:00:00Z"),
            ("2025-W01-1", "2024-12-30T00:00:00Z"),
            ("2025W013", "2025-01-01T00:00:00Z"),
            ("2025-W01", "2024-12-30T00:00:00Z"),
            ("2020-W53-7", "2021-01-03T00:00:00Z"),
            ("0001-01-01T00:00:00", "1-01-01T00:00:00Z"),
            ("0999-12-31", "999-12-31T00:00:00Z"),
            ("9999-12-31T23:59:59", "9999-12-31T23:59:59Z"),
        ];
        for &(ts, want) in ok {
            assert_eq!(iso_wall_clock(ts).as_deref(), Some(want), "{ts:?}");
        }
        let bad = [
            "",
            "2025",
            "2025-1",
            "2025-09",
            "not a date",
            "2025-13-01",
            "2025-00-10",
            "2025-02-29",
            "1900-02-29",
            "2025-04-31",
            "0000-01-01",
            "2025-09-29T24:00",
            "2025-09-29T12:60",
            "2025-09-29T12:00:60",
            "2025-09-29T",
            "2025-09-29T1",
            "2025-09-29T123",
            "2025-09-29T12:00+24:00",
            "2025-09-29T12:00-24:00",
            "2025-09-29T12:00Zx",
            "2025-09-29T12:00+05:0",
            "2025-09-29T12:00:00.",
            "2025-0929",
            "202509-29",
            "2025-W54-1",
            "2025-W53-1",
            "2025-W01-8",
            "2025-W00-1",
            "9999-W52-6",
            "2025/09/29",
            "29-09-2025",
            "2025-09-29T12:3O",
        ];
        for ts in bad {
            assert_eq!(iso_wall_clock(ts), None, "{ts:?}");
        }
    }
}
