//! Latency histograms (HdrHistogram, nanoseconds, 3 significant digits) and
//! CPU time from /proc.

use std::time::Duration;

use hdrhistogram::Histogram;

use super::LoadError;

/// Longest latency recorded exactly: one hour (longer ones saturate).
const HIGHEST_NS: u64 = 3_600_000_000_000;

/// A latency histogram.
#[derive(Clone, Debug)]
pub struct Latencies {
    hist: Histogram<u64>,
}

/// Percentiles of a histogram, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub min_us: f64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

impl Latencies {
    pub fn new() -> Result<Latencies, LoadError> {
        let hist = Histogram::new_with_bounds(1, HIGHEST_NS, 3)
            .map_err(|e| LoadError::Internal(format!("histogram: {e}")))?;
        Ok(Latencies { hist })
    }

    /// Records one latency.
    pub fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.hist.saturating_record(ns);
    }

    /// Adds another histogram's counts to this one.
    pub fn merge(&mut self, other: &Latencies) -> Result<(), LoadError> {
        self.hist
            .add(&other.hist)
            .map_err(|e| LoadError::Internal(format!("histogram merge: {e:?}")))
    }

    pub fn len(&self) -> u64 {
        self.hist.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// The percentiles (all 0 when empty).
    pub fn summary(&self) -> Summary {
        if self.hist.is_empty() {
            return Summary::default();
        }
        let us = |ns: u64| ns as f64 / 1000.0;
        Summary {
            count: self.hist.len(),
            min_us: us(self.hist.min()),
            mean_us: self.hist.mean() / 1000.0,
            p50_us: us(self.hist.value_at_quantile(0.50)),
            p90_us: us(self.hist.value_at_quantile(0.90)),
            p99_us: us(self.hist.value_at_quantile(0.99)),
            max_us: us(self.hist.max()),
        }
    }
}

/// Clock ticks per second of /proc/PID/stat times.
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions and only reads a constant.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// User + system CPU time of process `pid` (or of this process for
/// `None`), when /proc can tell.
pub fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces) start at ")".
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime is field 14, stime field 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64(
        (utime + stime) / ticks_per_second(),
    ))
}

/// A `/proc/PID/status` field in kB (e.g. `VmHWM`, `VmRSS`).
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_merge() {
        let mut a = Latencies::new().expect("hist");
        let mut b = Latencies::new().expect("hist");
        for us in 1..=100u64 {
            a.record(Duration::from_micros(us));
        }
        b.record(Duration::from_millis(10));
        a.merge(&b).expect("merge");
        let s = a.summary();
        assert_eq!(s.count, 101);
        assert!((s.p50_us - 51.0).abs() < 0.1, "{s:?}");
        assert!(s.max_us >= 9_990.0, "{s:?}");
    }

    #[test]
    fn proc_figures_of_this_process() {
        assert!(status_kb(std::process::id(), "VmHWM").unwrap_or(0) > 0);
        assert!(cpu_time(None).is_some());
    }
}
