//! How PostgreSQL reads numeric values, in postgresql.conf and in `SET` alike (`parse_int`,
//! `parse_real` and `convert_to_base_unit` in guc.c), and how it shows them.
//!
//! Read on PostgreSQL 15.20:
//! - a number is what C's `strtol` (base 0: `0x10` is 16, `010` is 8) or, when it goes on with a
//!   `.` or an `e`, `strtod` reads, with white space before it; then optional white space and a
//!   unit, then optional white space (`1.5 GB`);
//! - units are case-sensitive (`B`, `kB`, `MB`, `GB`, `TB`; `us`, `ms`, `s`, `min`, `h`, `d`),
//!   and every parameter with a unit takes all of its kind, floats too
//!   (`autovacuum_vacuum_cost_delay = '500us'`); `8kB` is the unit pages are counted in, not one
//!   users may write (`'100 8kB'` is refused);
//! - a fraction is converted to the parameter's unit, first rounded to the next smaller unit
//!   (`1.5GB` is 1536MB; `1.5kB` of a kB parameter is 2kB), then to a whole number, halves to
//!   even (`1.5ms` is 2ms, `2.5ms` is 2ms);
//! - the server shows a value in the largest unit that divides it (`SHOW work_mem` is `1536kB`
//!   after `'1.5MB'`); validated sizes and durations are stored in that form.

use drover_driver_sdk::Value;
use drover_driver_sdk::catalog::{Kind, Number, Param, Read, Reading, Units};

/// PostgreSQL units, as users write them: the memory and time units of guc.c.
pub static UNITS: Units = Units {
    sizes: &[
        ("B", 1),
        ("kB", 1 << 10),
        ("MB", 1 << 20),
        ("GB", 1 << 30),
        ("TB", 1 << 40),
    ],
    durations: &[
        ("us", 1),
        ("ms", 1_000),
        ("s", 1_000_000),
        ("min", 60_000_000),
        ("h", 3_600_000_000),
        ("d", 86_400_000_000),
    ],
    case_sensitive: true,
    read: Read::Own(read),
};

/// The units of a kind from the largest to the smallest, as guc.c's conversion tables list
/// them, with their size in bytes or length in microseconds.
const MEMORY: &[(&str, u64)] = &[
    ("TB", 1 << 40),
    ("GB", 1 << 30),
    ("MB", 1 << 20),
    ("kB", 1 << 10),
    ("B", 1),
];
const TIME: &[(&str, u64)] = &[
    ("d", 86_400_000_000),
    ("h", 3_600_000_000),
    ("min", 60_000_000),
    ("s", 1_000_000),
    ("ms", 1_000),
    ("us", 1),
];

/// The unit a parameter counts in, as `pg_settings.unit` names it, with its size in bytes or
/// length in microseconds, and the table of units of its kind.
fn base(unit: &str) -> Option<(u64, &'static [(&'static str, u64)])> {
    match unit {
        "8kB" => Some((8 << 10, MEMORY)),
        "ms" | "s" | "min" => TIME
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, size)| (*size, TIME)),
        _ => MEMORY
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, size)| (*size, MEMORY)),
    }
}

/// C's `isspace` in the C locale.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

/// How PostgreSQL reads a numeric value of `param`.
fn read(param: &Param, text: &str) -> Result<Reading, String> {
    let not_a = |what: &str| format!("value \"{text}\" is not {what}");
    let integer = param.kind != Kind::Float;
    let (number, rest) = if integer {
        int_prefix(text)
    } else {
        strtod(text)
    }
    .ok_or_else(|| {
        not_a(if integer {
            "of type integer"
        } else {
            "of type float"
        })
    })?;
    let rest = rest.trim_matches(is_space);
    let mut number = number;
    if !rest.is_empty() {
        let Some((base_size, table)) = param.unit.and_then(base) else {
            return Err(format!(
                "value \"{text}\" has the unit \"{rest}\", but {} takes no unit",
                param.name
            ));
        };
        let valid = table
            .iter()
            .rev()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ");
        let Some(at) = table.iter().position(|(name, _)| *name == rest) else {
            return Err(format!(
                "value \"{text}\" has an unknown unit \"{rest}\" (this parameter takes {valid}, in this case)"
            ));
        };
        let multiplier = |i: usize| table[i].1 as f64 / base_size as f64;
        number *= multiplier(at);
        // A fraction is rounded to the next smaller unit first, as guc.c does.
        if at + 1 < table.len() {
            number = (number / multiplier(at + 1)).round_ties_even() * multiplier(at + 1);
        }
    }
    if !integer {
        return Ok(Reading {
            number: Number::Fraction(number),
            value: Value::Float(number),
        });
    }
    let number = number.round_ties_even();
    if !(f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&number) {
        return Err(format!(
            "value \"{text}\" is outside the range of integers PostgreSQL keeps parameters in"
        ));
    }
    let whole = number as i64;
    let value = match (param.kind, param.unit.and_then(base)) {
        (Kind::Size | Kind::Duration, Some((base_size, table))) => {
            Value::Text(show_int(whole, base_size, table))
        }
        _ => Value::Integer(whole),
    };
    Ok(Reading {
        number: Number::Whole(i128::from(whole)),
        value,
    })
}

/// A whole number as the server shows it: in the largest unit that divides it (`convert_int_
/// from_base_unit`); zero and negative numbers without a unit.
fn show_int(value: i64, base_size: u64, table: &[(&str, u64)]) -> String {
    if value <= 0 {
        return value.to_string();
    }
    let bytes = i128::from(value) * i128::from(base_size);
    for (name, size) in table {
        // Units no larger than the base always divide: the server takes the first of them.
        if *size <= base_size || bytes % i128::from(*size) == 0 {
            return format!("{}{name}", bytes / i128::from(*size));
        }
    }
    value.to_string()
}

/// `parse_int`'s number: `strtol` with base 0, or `strtod` when that stops at a `.` or an `e`
/// or overflows. The number and the rest of the text.
fn int_prefix(text: &str) -> Option<(f64, &str)> {
    match strtol(text) {
        Some((_, rest)) if rest.starts_with(['.', 'e', 'E']) => strtod(text),
        Some((Some(n), rest)) => Some((n as f64, rest)),
        Some((None, _)) => strtod(text),
        // No digits: `strtol` leaves its end at the start of the text, which `parse_int` then
        // looks at (`.5MB` is read by `strtod`; ` .5MB` is not).
        None if text.starts_with(['.', 'e', 'E']) => strtod(text),
        None => None,
    }
}

/// C's `strtol` with base 0: white space, a sign, then `0x` and hex digits, `0` and octal
/// digits, or decimal digits. The number (`None` when it overflows a `long`) and the rest;
/// `None` when there are no digits.
fn strtol(text: &str) -> Option<(Option<i64>, &str)> {
    let s = text.trim_start_matches(is_space);
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let hex = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_hexdigit()));
    let (radix, digits) = match hex {
        Some(rest) => (16, rest),
        None if s.starts_with('0') => (8, s),
        None => (10, s),
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    let magnitude = i128::from_str_radix(&digits[..end], radix).ok();
    let value = magnitude
        .map(|m| if negative { -m } else { m })
        .and_then(|n| i64::try_from(n).ok());
    Some((value, &digits[end..]))
}

/// C's `strtod`, for the forms PostgreSQL users write: white space, a sign, then a decimal
/// number with an optional exponent, a hex number (`0x1p-3`), `inf`/`infinity` or `nan`. The
/// number and the rest; `None` when nothing is a number, or it overflows or underflows
/// (`ERANGE`), or it is not a number (PostgreSQL refuses NaN).
fn strtod(text: &str) -> Option<(f64, &str)> {
    let s = text.trim_start_matches(is_space);
    let (sign, body) = match s.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    let lower = body.to_ascii_lowercase();
    if lower.starts_with("nan") {
        return None;
    }
    for word in ["infinity", "inf"] {
        if lower.starts_with(word) {
            return Some((sign * f64::INFINITY, &body[word.len()..]));
        }
    }
    if let Some(hex) = body
        .strip_prefix("0x")
        .or_else(|| body.strip_prefix("0X"))
        .filter(|rest| {
            rest.starts_with(|c: char| c.is_ascii_hexdigit())
                || (rest.starts_with('.') && rest[1..].starts_with(|c: char| c.is_ascii_hexdigit()))
        })
    {
        return hex_float(hex).map(|(value, rest)| (sign * value, rest));
    }
    let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let whole = digits(body);
    let mut end = whole;
    let mut fraction = 0;
    if body[end..].starts_with('.') {
        fraction = digits(&body[end + 1..]);
        end += 1 + fraction;
    }
    if whole == 0 && fraction == 0 {
        return None;
    }
    if body[end..].starts_with(['e', 'E']) {
        let after = &body[end + 1..];
        let signed = after.strip_prefix(['+', '-']).unwrap_or(after);
        let exponent = digits(signed);
        if exponent > 0 {
            end += 1 + (after.len() - signed.len()) + exponent;
        }
    }
    let literal = &body[..end];
    let value: f64 = literal.parse().ok()?;
    let mantissa_is_zero = literal
        .split(['e', 'E'])
        .next()
        .is_some_and(|m| m.chars().all(|c| c == '0' || c == '.'));
    if value.is_infinite() || (!mantissa_is_zero && (value == 0.0 || !value.is_normal())) {
        return None;
    }
    Some((sign * value, &body[end..]))
}

/// The digits of a hex float after `0x`: hex digits, an optional fraction, an optional `p`
/// exponent.
fn hex_float(text: &str) -> Option<(f64, &str)> {
    let mut value = 0.0f64;
    let mut scale = 0i32;
    let mut chars = text.char_indices().peekable();
    let mut end = 0;
    let mut seen_point = false;
    while let Some(&(i, c)) = chars.peek() {
        if let Some(digit) = c.to_digit(16) {
            value = value * 16.0 + f64::from(digit);
            if seen_point {
                scale -= 4;
            }
        } else if c == '.' && !seen_point {
            seen_point = true;
        } else {
            break;
        }
        end = i + c.len_utf8();
        chars.next();
    }
    let mut rest = &text[end..];
    if let Some(after) = rest.strip_prefix(['p', 'P']) {
        let signed = after.strip_prefix(['+', '-']).unwrap_or(after);
        let len = signed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(signed.len());
        if len > 0 {
            let exponent: i32 = signed[..len].parse().ok()?;
            scale += if after.starts_with('-') {
                -exponent
            } else {
                exponent
            };
            rest = &signed[len..];
        }
    }
    let value = value * 2f64.powi(scale);
    value.is_finite().then_some((value, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_driver_sdk::catalog::Range;

    fn param(kind: Kind, unit: Option<&'static str>) -> Param {
        Param {
            name: "p",
            kind,
            range: Range::None,
            allowed: &[],
            unit,
            dynamic: true,
            default: None,
            description: "",
        }
    }

    /// What PostgreSQL 15.20 made of each spelling, read back with `SET` and `SHOW`.
    #[test]
    fn sizes_and_durations_read_and_show_as_the_server_does() {
        let kb = param(Kind::Size, Some("kB"));
        let pages = param(Kind::Size, Some("8kB"));
        let ms = param(Kind::Duration, Some("ms"));
        let s = param(Kind::Duration, Some("s"));
        let shown = |p: &Param, text: &str| match read(p, text) {
            Ok(Reading { value, number, .. }) => {
                assert!(matches!(number, Number::Whole(_)));
                Ok(drover_driver_sdk::catalog::plain(&value))
            }
            Err(e) => Err(e),
        };
        for (p, given, server) in [
            (&kb, "1.5MB", "1536kB"),
            (&kb, "1.5 MB", "1536kB"),
            (&kb, " 1.5 MB ", "1536kB"),
            (&kb, "1.5GB", "1536MB"),
            (&kb, "4MB", "4MB"),
            (&kb, "4 MB", "4MB"),
            (&kb, "+4MB", "4MB"),
            (&kb, "1e3", "1000kB"),
            (&kb, "1e3kB", "1000kB"),
            (&kb, ".5MB", "512kB"),
            (&kb, "1.MB", "1MB"),
            (&kb, "64.5", "64kB"),
            (&kb, "65.5", "66kB"),
            (&kb, "100.5kB", "100kB"),
            (&kb, "65537B", "64kB"),
            (&kb, "1TB", "1TB"),
            (&kb, "0x10", "16kB"),
            (&kb, "010", "8kB"),
            (&kb, "-1", "-1"),
            (&kb, "0", "0"),
            (&pages, "1.5GB", "1536MB"),
            (&pages, "128MB", "128MB"),
            (&pages, "100", "800kB"),
            (&pages, "12kB", "16kB"),
            (&ms, "1.5s", "1500ms"),
            (&ms, "1.5", "2ms"),
            (&ms, "2.5", "2ms"),
            (&ms, "3.5", "4ms"),
            (&ms, "1500us", "2ms"),
            (&ms, "0.4ms", "0"),
            (&ms, "60000", "1min"),
            (&s, "2.5min", "150s"),
            (&s, "1h", "1h"),
            (&s, "1d", "1d"),
        ] {
            assert_eq!(shown(p, given), Ok(server.to_string()), "{given:?}");
        }
        for (p, refused, word) in [
            (&kb, "100 8kB", "unknown unit \"8kB\""),
            (&pages, "100 8kB", "unknown unit \"8kB\""),
            (&kb, "4mb", "unknown unit \"mb\""),
            (&kb, "4 M B", "unknown unit"),
            (&kb, "1,5MB", "unknown unit"),
            (&kb, "1_000", "unknown unit"),
            (&kb, "1ms", "unknown unit \"ms\""),
            (&ms, "1kB", "unknown unit \"kB\""),
            (&kb, "inf", "not of type integer"),
            (&kb, "nan", "not of type integer"),
            (&kb, "", "not of type integer"),
            (&kb, "MB", "not of type integer"),
            (&kb, "2147483648", "range of integers"),
            (&kb, "2048GB", "range of integers"),
        ] {
            let error = shown(p, refused).unwrap_err();
            assert!(error.contains(word), "{refused:?}: {error}");
        }
    }

    #[test]
    fn floats_take_units_where_the_parameter_has_one() {
        let delay = param(Kind::Float, Some("ms"));
        let cost = param(Kind::Float, None);
        let number = |p: &Param, text: &str| read(p, text).map(|r| r.number);
        for (given, ms) in [
            ("20ms", 20.0),
            ("0.5ms", 0.5),
            ("500us", 0.5),
            ("2.5", 2.5),
            ("1s", 1000.0),
            (" 5 ms", 5.0),
            ("1e1", 10.0),
            ("0x10", 16.0),
        ] {
            assert_eq!(number(&delay, given), Ok(Number::Fraction(ms)), "{given:?}");
        }
        assert_eq!(number(&cost, "1e-3"), Ok(Number::Fraction(0.001)));
        assert_eq!(number(&cost, "0x1p-3"), Ok(Number::Fraction(0.125)));
        assert_eq!(number(&cost, " .5 "), Ok(Number::Fraction(0.5)));
        assert_eq!(
            number(&cost, "Infinity"),
            Ok(Number::Fraction(f64::INFINITY))
        );
        for refused in ["NaN", "5ms", "1,5", "", "e3"] {
            assert!(number(&cost, refused).is_err(), "{refused:?}");
        }
        assert!(number(&delay, "5 mins").is_err());
    }

    #[test]
    fn integers_without_units_are_read_as_parse_int_reads_them() {
        let count = param(Kind::Integer, None);
        let value = |text: &str| read(&count, text).map(|r| r.value);
        assert_eq!(value("100"), Ok(Value::Integer(100)));
        assert_eq!(value("0x1F"), Ok(Value::Integer(31)));
        assert_eq!(value("017"), Ok(Value::Integer(15)));
        assert_eq!(value("1.5"), Ok(Value::Integer(2)));
        assert_eq!(value("-3"), Ok(Value::Integer(-3)));
        assert!(value("10k").unwrap_err().contains("takes no unit"));
        assert!(value("lots").is_err());
    }
}
