//! How MariaDB reads numbers in option files (`my_getopt`'s `eval_num_suffix`), which is how the
//! driver takes them: validated integers are stored as plain numbers, the only form `SET
//! GLOBAL` takes.
//!
//! Read on mariadbd 10.11.19, in my.cnf: an integer option is a decimal number (`strtoll`: a
//! sign, leading zeros are decimal) and one suffix letter, K, M, G, T, P or E in either case
//! (powers of 1024), directly after it; the server looks at that letter only, so `16MB`,
//! `16mb` and `16MiB` are 16M. Every integer option takes a suffix, sizes or not
//! (`max_connections=1K` is 1024). Refused: a fraction (`1.5M`), a space (`16 M`), hex
//! (`0x10`), any other letter (`16B`, `16X`): "Unknown suffix … Legal suffix characters are: K,
//! M, G, T, P, E", and the server does not start. A float option takes no suffix (`1K`:
//! "Invalid decimal value"). The driver takes the letter with nothing, `B` or `iB` after it
//! (the spellings people write), and refuses other tails the server would ignore.

use drover_driver_sdk::Value;
use drover_driver_sdk::catalog::{Kind, Number, Param, Read, Reading, Units, plain_reading};

/// MariaDB's suffixes, in either case.
pub static UNITS: Units = Units {
    sizes: &[
        ("K", 1 << 10),
        ("M", 1 << 20),
        ("G", 1 << 30),
        ("T", 1 << 40),
        ("P", 1 << 50),
        ("E", 1 << 60),
    ],
    durations: &[],
    case_sensitive: false,
    read: Read::Own(read),
};

/// How mariadbd reads a numeric option.
fn read(param: &Param, text: &str) -> Result<Reading, String> {
    if !matches!(param.kind, Kind::Integer | Kind::Size) {
        return plain_reading(&UNITS, param, text);
    }
    let number = integer(text)?;
    Ok(Reading {
        number: Number::Whole(number),
        // Out of i64 is out of every range: the catalog's check refuses it.
        value: Value::Integer(i64::try_from(number).unwrap_or(i64::MAX)),
    })
}

/// An integer option's value: digits with a sign, then a suffix letter.
pub fn integer(text: &str) -> Result<i128, String> {
    let text = text.trim();
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let digits = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    let sign_len = text.len() - unsigned.len();
    let (number, suffix) = text.split_at(sign_len + digits);
    let number: i128 = number
        .parse()
        .map_err(|_| format!("value \"{text}\" is not of type integer"))?;
    if suffix.is_empty() {
        return Ok(number);
    }
    let (letter, tail) = suffix.split_at(suffix.chars().next().map_or(0, char::len_utf8));
    let factor = UNITS
        .size_factor(letter)
        .filter(|_| ["", "b", "ib"].contains(&tail.to_ascii_lowercase().as_str()));
    match factor {
        Some(factor) => Ok(number * i128::from(factor)),
        None if suffix.starts_with(['.', ',']) => Err(format!(
            "value \"{text}\" is not a whole number: MariaDB takes no fraction, give 1536K for 1.5M"
        )),
        None => Err(format!(
            "value \"{text}\" has an unknown unit \"{suffix}\" (MariaDB takes K, M, G, T, P or E directly after the number, with or without a B)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As mariadbd 10.11.19 read each in my.cnf (`mariadbd --help --verbose`, and a started
    /// server's `SELECT @@…`).
    #[test]
    fn integers_take_a_suffix_letter_as_mariadbd_reads_them() {
        for (given, server) in [
            ("16M", 16i128 << 20),
            ("16MB", 16 << 20),
            ("16mb", 16 << 20),
            ("16Mb", 16 << 20),
            ("16MiB", 16 << 20),
            ("1GB", 1 << 30),
            ("1g", 1 << 30),
            ("256K", 256 << 10),
            ("1k", 1 << 10),
            ("2T", 2 << 40),
            ("16P", 16 << 50),
            ("1E", 1 << 60),
            ("+16M", 16 << 20),
            ("016777216", 16_777_216),
            (" 16M ", 16 << 20),
            ("-1", -1),
            ("151", 151),
        ] {
            assert_eq!(integer(given), Ok(server), "{given:?}");
        }
        for (refused, word) in [
            ("16 M", "unknown unit"),
            ("1.5M", "whole number"),
            ("0x100000", "unknown unit"),
            ("16X", "unknown unit"),
            ("16B", "unknown unit"),
            ("16Mfoo", "unknown unit"),
            ("", "not of type integer"),
            ("M", "not of type integer"),
            ("many", "not of type integer"),
        ] {
            let error = integer(refused).unwrap_err();
            assert!(error.contains(word), "{refused:?}: {error}");
        }
    }
}
