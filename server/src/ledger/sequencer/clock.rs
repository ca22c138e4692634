//! Timestamps of appended rows, as the reference writes them.

/// The timestamp of a row written now: UTC, microseconds, `+00:00`, the
/// fraction omitted when it is zero (as the reference writes it).
pub fn now_ts() -> String {
    format_ts(chrono::Utc::now())
}

/// Written field by field: chrono's `format` parses its pattern on every
/// call, a cost paid per appended event on the writer.
fn format_ts(t: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write as _;
    let mut ts = String::with_capacity(32);
    let _ = write!(
        ts,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let micros = t.timestamp_subsec_micros();
    if micros != 0 {
        let _ = write!(ts, ".{micros:06}");
    }
    ts.push_str("+00:00");
    ts
}

#[cfg(test)]
mod tests {
    use super::format_ts;
    use chrono::{TimeZone, Utc};

    #[test]
    fn timestamps_are_written_as_the_reference_writes_them() {
        let at = |secs: i64, micros: u32| {
            Utc.timestamp_opt(secs, micros * 1000)
                .single()
                .expect("valid time")
        };
        assert_eq!(format_ts(at(0, 0)), "1970-01-01T00:00:00+00:00");
        assert_eq!(
            format_ts(at(1_795_000_000, 5)),
            "2026-11-18T11:06:40.000005+00:00"
        );
        assert_eq!(
            format_ts(at(253_402_300_799, 999_999)),
            "9999-12-31T23:59:59.999999+00:00"
        );
        // Nanoseconds below a microsecond are dropped, as Python's
        // datetime keeps only microseconds.
        let t = Utc.timestamp_opt(60, 1_999).single().expect("valid time");
        assert_eq!(format_ts(t), "1970-01-01T00:01:00.000001+00:00");
    }
}
