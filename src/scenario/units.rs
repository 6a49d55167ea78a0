//! Units of the scenario format: durations (`250ms`, `1h30m`), sizes (`1KiB`, `1MB`),
//! rates (`400/s`, `5/min`) and percentages (`0.1%`).
//!
//! Every number is read as an exact decimal (digits, an optional point, digits) and
//! converted with integer arithmetic, so `0.1ms` is exactly 100 µs and never a float that
//! prints as 99.99999. A value finer than the target unit (a tenth of a microsecond, half a
//! byte, a millionth of a percent) is an error rather than a silent rounding, except rates,
//! whose per-second form is rounded to the nearest micro-record (a rate like `5/min` has
//! no exact decimal in records per second). Errors are plain messages: the caller adds the
//! file position and the key path.

use crate::time::{SimDuration, US_PER_D, US_PER_H, US_PER_MIN, US_PER_MS, US_PER_S};

use super::types::Ppm;

/// An exact decimal: `mantissa / 10^scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decimal {
    pub mantissa: u128,
    pub scale: u32,
}

/// More digits than any sensible scenario value; keeps the u128 arithmetic far from
/// overflow (10^30 × 10^12 still fits in u128).
const MAX_DIGITS: usize = 30;

impl Decimal {
    /// `value × factor`, exactly, if it is a whole number; `None` if it has a fraction
    /// left or overflows.
    pub(crate) fn times_exact(self, factor: u128) -> Option<u128> {
        let scaled = self.mantissa.checked_mul(factor)?;
        let div = 10u128.checked_pow(self.scale)?;
        if scaled % div == 0 {
            Some(scaled / div)
        } else {
            None
        }
    }

    /// `value × factor / divisor`, rounded to the nearest integer (halves up).
    pub(crate) fn times_div_round(self, factor: u128, divisor: u128) -> Option<u128> {
        let num = self.mantissa.checked_mul(factor)?;
        let den = 10u128.checked_pow(self.scale)?.checked_mul(divisor)?;
        if den == 0 {
            return None;
        }
        Some((num + den / 2) / den)
    }
}

/// Reads a non-negative decimal like `12`, `0.5`, `.5` or `1.` (no sign, no exponent).
pub(crate) fn parse_decimal(s: &str) -> Result<Decimal, String> {
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(format!("`{s}` is not a number"));
    }
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || !all_digits(frac_part) {
        return Err(format!("`{s}` is not a plain decimal number"));
    }
    let digits = int_part.trim_start_matches('0').len() + frac_part.len();
    if digits > MAX_DIGITS {
        return Err(format!("`{s}` has too many digits"));
    }
    let mut mantissa: u128 = 0;
    for b in int_part.bytes().chain(frac_part.bytes()) {
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|m| m.checked_add(u128::from(b - b'0')))
            .ok_or_else(|| format!("`{s}` is too large"))?;
    }
    let scale = u32::try_from(frac_part.len()).map_err(|_| format!("`{s}` is too long"))?;
    Ok(Decimal { mantissa, scale })
}

/// Splits `12.5KiB` into (`12.5`, `KiB`): the longest leading run of digits and points.
fn split_number(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    s.split_at(end)
}

fn duration_unit_us(unit: &str) -> Option<u64> {
    Some(match unit {
        "d" => US_PER_D,
        "h" => US_PER_H,
        "m" | "min" => US_PER_MIN,
        "s" => US_PER_S,
        "ms" => US_PER_MS,
        "us" | "µs" => 1,
        _ => return None,
    })
}

/// Parses a duration: one or more `<number><unit>` parts, units `d h m min s ms us`
/// (`1h30m`, `0.1ms`, `7d`). A bare number has no unit and is an error: the scenario's
/// own keys always say their unit (the AWS `...InSeconds` keys are read elsewhere).
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    const HINT: &str = "a duration like 250ms, 90s, 1h30m or 7d";
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty duration (expected {HINT})"));
    }
    if s.starts_with('-') {
        return Err(format!("`{s}`: a duration cannot be negative"));
    }
    let mut rest = s;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let (num, after) = split_number(rest);
        if num.is_empty() {
            return Err(format!("`{s}` is not {HINT}"));
        }
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
            .unwrap_or(after.len());
        let (unit, tail) = after.split_at(unit_end);
        if unit.is_empty() {
            return Err(format!(
                "`{s}` has no unit (expected {HINT}; e.g. `{num}s` for seconds)"
            ));
        }
        let unit_us = duration_unit_us(unit)
            .ok_or_else(|| format!("`{s}`: unknown unit `{unit}` (expected {HINT})"))?;
        let value = parse_decimal(num).map_err(|e| format!("{e} (expected {HINT})"))?;
        let part = value
            .times_exact(u128::from(unit_us))
            .ok_or_else(|| format!("`{s}` is finer than a microsecond or too large"))?;
        total = u64::try_from(part)
            .ok()
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| format!("`{s}` is too large"))?;
        rest = tail.trim_start();
    }
    Ok(SimDuration(total))
}

fn size_unit_bytes(unit: &str) -> Option<u64> {
    Some(match unit {
        "B" => 1,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    })
}

/// Parses a size in bytes: `<number><unit>` with `B`, `KB`/`kB` = 1000, `MB`, `GB`,
/// `KiB` = 1024, `MiB`, `GiB` (`512B`, `1KiB`, `1.5MiB`). The result must be whole bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    const HINT: &str = "a size like 512B, 1KiB, 1MiB or 1MB";
    let s = text.trim();
    let (num, unit) = split_number(s);
    if num.is_empty() {
        return Err(format!("`{s}` is not {HINT}"));
    }
    let unit = unit.trim_start();
    if unit.is_empty() {
        return Err(format!(
            "`{s}` has no unit (expected {HINT}; e.g. `{num}B` for bytes)"
        ));
    }
    let factor = size_unit_bytes(unit)
        .ok_or_else(|| format!("`{s}`: unknown unit `{unit}` (expected {HINT})"))?;
    let value = parse_decimal(num).map_err(|e| format!("{e} (expected {HINT})"))?;
    value
        .times_exact(u128::from(factor))
        .and_then(|b| u64::try_from(b).ok())
        .ok_or_else(|| format!("`{s}` is not a whole number of bytes, or too large"))
}

fn rate_unit_secs(unit: &str) -> Option<u128> {
    Some(match unit {
        "s" | "sec" | "second" => 1,
        "min" | "minute" => 60,
        "h" | "hour" => 3_600,
        "d" | "day" => 86_400,
        _ => return None,
    })
}

/// Parses a rate `<number>/<unit>` (`1000/s`, `5/min`, `2/h`, `0.5/s`, units `s min h d`)
/// into micro-records per second, rounded to the nearest (so `5/min` = 83_333).
pub fn parse_rate(text: &str) -> Result<u64, String> {
    const HINT: &str = "a rate like 1000/s, 5/min or 2/h";
    let s = text.trim();
    let Some((num, unit)) = s.split_once('/') else {
        return Err(format!("`{s}` is not {HINT} (the `/unit` part is missing)"));
    };
    let num = num.trim();
    let unit = unit.trim();
    let secs = rate_unit_secs(unit)
        .ok_or_else(|| format!("`{s}`: unknown unit `/{unit}` (expected {HINT})"))?;
    let value = parse_decimal(num).map_err(|e| format!("{e} (expected {HINT})"))?;
    value
        .times_div_round(1_000_000, secs)
        .and_then(|r| u64::try_from(r).ok())
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// Parses a percentage `<number>%` (`0.1%`, `100%`) into parts per million. Finer than
/// 1 ppm (0.0001%) is an error. No upper bound here: the caller checks its range.
pub fn parse_percent(text: &str) -> Result<Ppm, String> {
    const HINT: &str = "a percentage like 0.1%, 30% or 100%";
    let s = text.trim();
    let Some(num) = s.strip_suffix('%') else {
        return Err(format!("`{s}` is not {HINT} (the `%` sign is missing)"));
    };
    let value = parse_decimal(num.trim()).map_err(|e| format!("{e} (expected {HINT})"))?;
    value
        .times_exact(10_000)
        .ok_or_else(|| format!("`{s}` is finer than 0.0001% (one part per million)"))
        .and_then(|p| Ppm::try_from(p).map_err(|_| format!("`{s}` is too large")))
}

/// Reads a plain non-negative decimal as millionths (`5` → 5_000_000, `1.5` → 1_500_000):
/// factors and ratios kept as integers.
pub(crate) fn parse_millionths(text: &str) -> Result<u64, String> {
    let value = parse_decimal(text.trim())?;
    value
        .times_exact(1_000_000)
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| format!("`{text}` is finer than a millionth, or too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_of_every_unit_are_exact_microseconds() {
        assert_eq!(parse_duration("0.1ms"), Ok(SimDuration(100)));
        assert_eq!(parse_duration("250ms"), Ok(SimDuration::from_millis(250)));
        assert_eq!(parse_duration("90s"), Ok(SimDuration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(SimDuration::from_secs(5_400)));
        assert_eq!(parse_duration("7d"), Ok(SimDuration::from_hours(168)));
        assert_eq!(parse_duration("24h"), Ok(SimDuration::from_hours(24)));
        assert_eq!(parse_duration("1.5h"), Ok(SimDuration::from_secs(5_400)));
        assert_eq!(parse_duration("2min"), Ok(SimDuration::from_secs(120)));
        assert_eq!(parse_duration("15us"), Ok(SimDuration(15)));
        assert_eq!(
            parse_duration("1d2h3m4s5ms"),
            Ok(SimDuration(93_784_005_000))
        );
        assert_eq!(parse_duration("1h 30m"), Ok(SimDuration::from_secs(5_400)));
        assert_eq!(parse_duration("0s"), Ok(SimDuration::ZERO));
    }

    #[test]
    fn durations_without_unit_or_too_fine_are_errors() {
        assert!(parse_duration("90").unwrap_err().contains("no unit"));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        assert!(parse_duration("5x").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("0.0001ms").unwrap_err().contains("finer"));
        assert!(parse_duration("1.2.3s").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("99999999999999999999999d").is_err());
        assert!(parse_duration("1e3s").is_err());
    }

    #[test]
    fn sizes_distinguish_decimal_and_binary_units() {
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("1KiB"), Ok(1_024));
        assert_eq!(parse_size("1KB"), Ok(1_000));
        assert_eq!(parse_size("1kB"), Ok(1_000));
        assert_eq!(parse_size("1MiB"), Ok(1_048_576));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1.5KiB"), Ok(1_536));
        assert!(parse_size("0.5B").is_err());
        assert!(parse_size("100").unwrap_err().contains("no unit"));
        assert!(parse_size("1TB").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn rates_are_micro_records_per_second_rounded_to_nearest() {
        assert_eq!(parse_rate("1000/s"), Ok(1_000_000_000));
        assert_eq!(parse_rate("400/s"), Ok(400_000_000));
        assert_eq!(parse_rate("5/min"), Ok(83_333));
        assert_eq!(parse_rate("2/h"), Ok(556));
        assert_eq!(parse_rate("0.5/s"), Ok(500_000));
        assert_eq!(parse_rate("1/d"), Ok(12));
        assert_eq!(parse_rate("0/s"), Ok(0));
        assert!(parse_rate("400").unwrap_err().contains("/unit"));
        assert!(parse_rate("400/week").unwrap_err().contains("unknown unit"));
        assert!(parse_rate("-4/s").is_err());
    }

    #[test]
    fn percentages_are_parts_per_million() {
        assert_eq!(parse_percent("0.1%"), Ok(1_000));
        assert_eq!(parse_percent("100%"), Ok(1_000_000));
        assert_eq!(parse_percent("30%"), Ok(300_000));
        assert_eq!(parse_percent("0.0001%"), Ok(1));
        assert!(parse_percent("0.00001%").unwrap_err().contains("finer"));
        assert!(parse_percent("10").unwrap_err().contains("`%`"));
        assert!(parse_percent("%").is_err());
    }

    #[test]
    fn millionths_read_plain_factors() {
        assert_eq!(parse_millionths("5"), Ok(5_000_000));
        assert_eq!(parse_millionths("1.5"), Ok(1_500_000));
        assert!(parse_millionths("0.0000001").is_err());
    }
}
