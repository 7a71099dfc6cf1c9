//! The unit suffixes Redis accepts in memory values (`1k` is 1000 bytes, `1kb` 1024), and how it
//! reads numbers. Redis takes durations only as plain numbers.
//!
//! Read on redis-server 7.0 (`CONFIG SET` and redis.conf alike): a memory value is decimal
//! digits directly followed by a unit or by none (`100mb`, `010` is 10); a sign, a space, a
//! fraction or any other unit is refused (`+100mb`, `100 mb`, `1.5gb`, `1tb`: "argument must be
//! a memory value"). Other integers are read strictly: an optional `-` and digits without a
//! leading zero (`+10`, `010` and `1e1` are refused: "argument couldn't be parsed into an
//! integer").

use drover_driver_sdk::Value;
use drover_driver_sdk::catalog::{Kind, Number, Param, Read, Reading, Units, plain_reading};

/// Redis memory units, case-insensitive.
pub static UNITS: Units = Units {
    sizes: &[
        ("b", 1),
        ("k", 1_000),
        ("kb", 1 << 10),
        ("m", 1_000_000),
        ("mb", 1 << 20),
        ("g", 1_000_000_000),
        ("gb", 1 << 30),
    ],
    durations: &[],
    case_sensitive: false,
    read: Read::Own(read),
};

/// How redis-server reads a numeric value.
fn read(param: &Param, text: &str) -> Result<Reading, String> {
    let text = text.trim();
    match param.kind {
        Kind::Size => memory(text).map(|bytes| Reading {
            number: Number::Whole(bytes),
            value: Value::Text(text.to_string()),
        }),
        Kind::Integer => integer(text)
            .map(|n| Reading {
                number: Number::Whole(i128::from(n)),
                value: Value::Integer(n),
            })
            .ok_or_else(|| {
                format!("value \"{text}\" is not of type integer (digits, with a - for a negative number)")
            }),
        _ => plain_reading(&UNITS, param, text),
    }
}

/// A memory value as `memtoull` reads it, in bytes.
pub fn memory(text: &str) -> Result<i128, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let factor = if unit.is_empty() {
        Some(1)
    } else {
        UNITS.size_factor(unit)
    };
    match (number.parse::<i128>(), factor) {
        (Ok(number), Some(factor)) => Ok(number * i128::from(factor)),
        (Ok(_), None) if unit.bytes().all(|b| b.is_ascii_alphabetic()) => Err(format!(
            "value \"{text}\" has an unknown unit \"{unit}\" (accepted units: {})",
            UNITS.accepted(Kind::Size)
        )),
        _ => Err(format!(
            "value \"{text}\" is not a memory value: digits directly followed by a unit ({}) or by none, without a sign or a space, for example 100mb",
            UNITS.accepted(Kind::Size)
        )),
    }
}

/// An integer as `string2ll` reads it: `0`, or an optional `-` and digits without a leading
/// zero.
fn integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let well_formed = text == "0"
        || (!digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0'));
    if well_formed { text.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_values_are_digits_and_a_unit() {
        assert_eq!(memory("100mb"), Ok(100 << 20));
        assert_eq!(memory("100MB"), Ok(100 << 20));
        assert_eq!(memory("1K"), Ok(1000));
        assert_eq!(memory("1kb"), Ok(1024));
        assert_eq!(memory("100b"), Ok(100));
        assert_eq!(memory("010"), Ok(10));
        assert_eq!(memory("5"), Ok(5));
        for refused in [
            "100 mb", "+100mb", "-1", "1.5gb", "1tb", "1gib", "0x10", "", "mb",
        ] {
            assert!(memory(refused).is_err(), "{refused:?} was accepted");
        }
    }

    #[test]
    fn integers_are_read_as_string2ll_reads_them() {
        assert_eq!(integer("10"), Some(10));
        assert_eq!(integer("0"), Some(0));
        assert_eq!(integer("-2"), Some(-2));
        for refused in ["+10", "010", "-0", "1e1", "0x10", "10k", "10.0", "", "-"] {
            assert_eq!(integer(refused), None, "{refused:?} was accepted");
        }
    }
}
