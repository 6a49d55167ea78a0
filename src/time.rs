//! Simulated time: integer microseconds, never floating point.
//!
//! `SimTime` is an instant since the start of the run (t = 0); `SimDuration` a span.
//! Both are plain `u64` microsecond counts, so arithmetic is exact and the same run
//! gives the same bytes on every machine. Display uses the compact unit form of the
//! scenario format (`1h30m`, `250ms`, `12.345s`).

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Microseconds in one millisecond, second, minute, hour, day.
pub const US_PER_MS: u64 = 1_000;
pub const US_PER_S: u64 = 1_000_000;
pub const US_PER_MIN: u64 = 60 * US_PER_S;
pub const US_PER_H: u64 = 60 * US_PER_MIN;
pub const US_PER_D: u64 = 24 * US_PER_H;

/// An instant of simulated time, in microseconds since t = 0.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct SimTime(pub u64);

/// A span of simulated time, in microseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn from_micros(us: u64) -> Self {
        SimTime(us)
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms * US_PER_MS)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimTime(s * US_PER_S)
    }
    pub fn as_micros(self) -> u64 {
        self.0
    }
    /// Whole milliseconds, rounded down (the unit of every output).
    pub fn as_millis(self) -> u64 {
        self.0 / US_PER_MS
    }
    /// The span from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    pub fn saturating_sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub fn from_micros(us: u64) -> Self {
        SimDuration(us)
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * US_PER_MS)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * US_PER_S)
    }
    pub const fn from_hours(h: u64) -> Self {
        SimDuration(h * US_PER_H)
    }
    pub fn as_micros(self) -> u64 {
        self.0
    }
    pub fn as_millis(self) -> u64 {
        self.0 / US_PER_MS
    }
    /// Milliseconds rounded up: how AWS bills duration (R-METRIC-2).
    pub fn as_millis_ceil(self) -> u64 {
        self.0.div_ceil(US_PER_MS)
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    fn sub(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(d.0))
    }
}

/// Writes `us` microseconds in the scenario format's compact form: the largest units
/// first (`1d2h`, `1h30m`, `90s` as `1m30s`, `250ms`, `1.5ms`), `0s` for zero.
fn write_compact(f: &mut fmt::Formatter<'_>, us: u64) -> fmt::Result {
    if us == 0 {
        return f.write_str("0s");
    }
    let whole_secs = us / US_PER_S;
    let sub_us = us % US_PER_S;
    let mut rest = whole_secs;
    for (unit, secs) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= secs {
            write!(f, "{}{}", rest / secs, unit)?;
            rest %= secs;
        }
    }
    if sub_us > 0 {
        if sub_us.is_multiple_of(US_PER_MS) {
            write!(f, "{}ms", sub_us / US_PER_MS)?;
        } else {
            let ms = sub_us / US_PER_MS;
            let frac = sub_us % US_PER_MS;
            let digits = format!("{frac:03}");
            write!(f, "{}.{}ms", ms, digits.trim_end_matches('0'))?;
        }
    }
    Ok(())
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_compact(f, self.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_compact(f, self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_compact_and_exact() {
        assert_eq!(SimDuration(0).to_string(), "0s");
        assert_eq!(SimDuration::from_millis(250).to_string(), "250ms");
        assert_eq!(SimDuration::from_secs(90).to_string(), "1m30s");
        assert_eq!(SimDuration::from_secs(5400).to_string(), "1h30m");
        assert_eq!(SimDuration::from_hours(26).to_string(), "1d2h");
        assert_eq!(SimDuration(1_500).to_string(), "1.5ms");
        assert_eq!(SimDuration(100).to_string(), "0.1ms");
        assert_eq!(SimDuration(12_345_000).to_string(), "12s345ms");
    }

    #[test]
    fn billing_rounds_up_to_the_millisecond() {
        assert_eq!(SimDuration(1).as_millis_ceil(), 1);
        assert_eq!(SimDuration(1_000).as_millis_ceil(), 1);
        assert_eq!(SimDuration(1_001).as_millis_ceil(), 2);
    }
}
