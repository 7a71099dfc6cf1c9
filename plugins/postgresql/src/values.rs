//! The syntax of PostgreSQL's free-text parameters, checked the way the server's own check
//! hooks check them. A value the server refuses in postgresql.conf stops it at its next start
//! ("configuration file contains errors"), and a reload skips it with no more than "setting could
//! not be applied" in `pg_file_settings`; so validation refuses what it can judge, and the rest is
//! judged by the server that is to run it, before it runs it (`configuration::apply`,
//! `lifecycle::initialize`): the limits of the numbers of a POSIX time zone rule, names of
//! catalog objects (`default_tablespace`), and what the node lacks of the lists here.

use crate::catalog_15;

/// How a free-text parameter is checked, by name; `None` for text the server takes as it is.
pub fn check(name: &str, text: &str) -> Option<Result<(), String>> {
    let result = match name {
        "search_path" | "temp_tablespaces" => identifier_list(text).map(|_| ()),
        "DateStyle" => date_style(text),
        "TimeZone" | "log_timezone" => time_zone(text),
        "lc_messages" | "lc_monetary" | "lc_numeric" | "lc_time" => locale(text),
        "client_encoding" => encoding(text),
        "timezone_abbreviations" => one_of(text, TIMEZONE_ABBREVIATIONS),
        "restrict_nonsystem_relation_kind" => identifier_list(text).and_then(|kinds| {
            match kinds
                .iter()
                .find(|kind| !["view", "foreign-table"].contains(&kind.to_ascii_lowercase().as_str()))
            {
                None => Ok(()),
                Some(kind) => Err(format!(
                    "{kind:?} is not a relation kind: give a comma-separated list of view and foreign-table"
                )),
            }
        }),
        _ => return None,
    };
    Some(result)
}

/// The bytes PostgreSQL's scanner takes for white space (`scanner_isspace`).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{c}')
}

/// A comma-separated list of identifiers, split as `SplitIdentifierString` splits it: each is
/// a double-quoted name (`""` for a quote inside) or an unquoted one (lower-cased), with white
/// space around the commas; the empty string is the empty list.
pub fn identifier_list(text: &str) -> Result<Vec<String>, String> {
    let bad = |why: &str| {
        Err(format!(
            "{text:?} is not a valid list: {why} (names are separated by commas; a name with a comma, a space or a double quote is written in double quotes, with \"\" for a double quote)"
        ))
    };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let skip_spaces = |i: &mut usize| {
        while *i < chars.len() && is_space(chars[*i]) {
            *i += 1;
        }
    };
    skip_spaces(&mut i);
    let mut names = Vec::new();
    if i == chars.len() {
        return Ok(names);
    }
    loop {
        let mut name = String::new();
        if chars.get(i) == Some(&'"') {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return bad("a double quote is not closed"),
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        name.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        name.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            let start = i;
            while i < chars.len() && chars[i] != ',' && !is_space(chars[i]) {
                i += 1;
            }
            if start == i {
                return bad("a name is missing");
            }
            name = chars[start..i].iter().collect::<String>().to_lowercase();
        }
        names.push(name);
        skip_spaces(&mut i);
        match chars.get(i) {
            None => return Ok(names),
            Some(',') => {
                i += 1;
                skip_spaces(&mut i);
            }
            Some(_) => return bad("names must be separated by commas"),
        }
    }
}

/// `DateStyle`: an output style (ISO, SQL, Postgres, German) and a field order (YMD, DMY or
/// MDY and their synonyms), or DEFAULT, separated by commas; not two different styles or
/// orders.
fn date_style(text: &str) -> Result<(), String> {
    let words = identifier_list(text)?;
    if words.is_empty() {
        return Err("give an output style and a field order, for example \"ISO, MDY\"".into());
    }
    let mut style: Option<&str> = None;
    let mut order: Option<&str> = None;
    for word in &words {
        let (slot, value) = match word.to_ascii_lowercase().as_str() {
            "iso" => (&mut style, "iso"),
            "sql" => (&mut style, "sql"),
            "postgres" => (&mut style, "postgres"),
            "german" => (&mut style, "german"),
            "ymd" => (&mut order, "ymd"),
            "dmy" | "euro" | "european" => (&mut order, "dmy"),
            "mdy" | "us" | "noneuro" | "noneuropean" => (&mut order, "mdy"),
            "default" => continue,
            _ => {
                return Err(format!(
                    "{word:?} is not a date style: give ISO, SQL, Postgres or German and YMD, DMY or MDY, for example \"ISO, DMY\""
                ));
            }
        };
        if slot.is_some_and(|previous| previous != value) {
            return Err(format!("{text:?} gives two conflicting date styles"));
        }
        *slot = Some(value);
    }
    Ok(())
}

/// `TimeZone` and `log_timezone`: a time zone name the server lists (`pg_timezone_names`), a
/// number of hours east of UTC (less than a week of hours: `pg_tzset_offset`), or a POSIX rule
/// (`EST5EDT`, `<+03>-3`, `EST5EDT,M3.2.0,M11.1.0`). A rule is checked for its form; the limits
/// of its numbers (hours up to 167, minutes and seconds, months 1–12, weeks 1–5, days 0–6) are
/// the server's tz reader's, which PostgreSQL updates with the IANA code it copies, and the
/// server that runs the value judges them before it is applied.
fn time_zone(text: &str) -> Result<(), String> {
    let known = catalog_15::TIMEZONES
        .iter()
        .any(|zone| zone.eq_ignore_ascii_case(text));
    let hours = text
        .trim_start_matches(is_space)
        .parse::<f64>()
        .is_ok_and(|h| h.is_finite() && h.abs() < 168.0);
    if known || hours || posix_zone(text) {
        Ok(())
    } else {
        Err(format!(
            "{text:?} is not a time zone: give a name such as UTC or Europe/Paris (see pg_timezone_names), a number of hours, or a POSIX rule such as EST5EDT or EST5EDT,M3.2.0,M11.1.0"
        ))
    }
}

/// The form of a POSIX time zone rule, as `tzparse` reads one: `std offset [dst [offset]
/// [,start[/time],end[/time]]]`, where a zone name is three or more letters or `<…>` with
/// letters, digits, `+` and `-`, an offset and a time are `[+-]hh[:mm[:ss]]`, and a date is
/// `Jn`, `n` or `Mm.w.d`.
fn posix_zone(text: &str) -> bool {
    fn name(s: &str) -> Option<&str> {
        if let Some(rest) = s.strip_prefix('<') {
            let end = rest.find('>')?;
            let inner = &rest[..end];
            let ok = !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-');
            return ok.then(|| &rest[end + 1..]);
        }
        let letters = s.chars().take_while(char::is_ascii_alphabetic).count();
        (letters >= 3).then(|| &s[letters..])
    }
    fn digits(s: &str, most: usize) -> Option<&str> {
        let n = s.chars().take_while(char::is_ascii_digit).count();
        (1..=most).contains(&n).then(|| &s[n..])
    }
    /// `[+-]hh[:mm[:ss]]`.
    fn offset(s: &str) -> Option<&str> {
        let s = s.strip_prefix(['+', '-']).unwrap_or(s);
        let mut rest = digits(s, 3)?;
        for _ in 0..2 {
            match rest.strip_prefix(':') {
                Some(after) => rest = digits(after, 2)?,
                None => break,
            }
        }
        Some(rest)
    }
    /// `Jn`, `n` or `Mm.w.d`, then optionally `/time`.
    fn date(s: &str) -> Option<&str> {
        let rest = if let Some(after) = s.strip_prefix('J') {
            digits(after, 3)?
        } else if let Some(after) = s.strip_prefix('M') {
            let after = digits(after, 2)?.strip_prefix('.')?;
            digits(digits(after, 1)?.strip_prefix('.')?, 1)?
        } else {
            digits(s, 3)?
        };
        match rest.strip_prefix('/') {
            Some(time) => offset(time),
            None => Some(rest),
        }
    }
    let parse = || -> Option<()> {
        let rest = offset(name(text)?)?;
        if rest.is_empty() {
            return Some(());
        }
        let mut rest = name(rest)?;
        if !rest.is_empty() && !rest.starts_with(',') {
            rest = offset(rest)?;
        }
        if rest.is_empty() {
            return Some(());
        }
        let rest = date(rest.strip_prefix(',')?)?;
        date(rest.strip_prefix(',')?)?.is_empty().then_some(())
    };
    parse().is_some()
}

/// The locales every node has (the others depend on what the machine generated).
const LOCALES: &[&str] = &["C", "POSIX", "C.UTF-8", "C.utf8"];

fn locale(text: &str) -> Result<(), String> {
    if LOCALES.contains(&text) {
        Ok(())
    } else {
        Err(format!(
            "{text:?} is not a locale the nodes have: give one of {}",
            LOCALES.join(", ")
        ))
    }
}

/// PostgreSQL's encodings (`pg_encoding_to_char`), every one valid for clients.
const ENCODINGS: &[&str] = &[
    "SQL_ASCII",
    "EUC_JP",
    "EUC_CN",
    "EUC_KR",
    "EUC_TW",
    "EUC_JIS_2004",
    "UTF8",
    "MULE_INTERNAL",
    "LATIN1",
    "LATIN2",
    "LATIN3",
    "LATIN4",
    "LATIN5",
    "LATIN6",
    "LATIN7",
    "LATIN8",
    "LATIN9",
    "LATIN10",
    "WIN1256",
    "WIN1258",
    "WIN866",
    "WIN874",
    "KOI8R",
    "WIN1251",
    "WIN1252",
    "ISO_8859_5",
    "ISO_8859_6",
    "ISO_8859_7",
    "ISO_8859_8",
    "WIN1250",
    "WIN1253",
    "WIN1254",
    "WIN1255",
    "WIN1257",
    "KOI8U",
    "SJIS",
    "BIG5",
    "GBK",
    "UHC",
    "GB18030",
    "JOHAB",
    "SHIFT_JIS_2004",
];

/// An encoding name as PostgreSQL compares them: letters and digits only, in lower case.
fn clean_encoding(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn encoding(text: &str) -> Result<(), String> {
    let cleaned = clean_encoding(text);
    if !cleaned.is_empty() && ENCODINGS.iter().any(|e| clean_encoding(e) == cleaned) {
        Ok(())
    } else {
        Err(format!(
            "{text:?} is not an encoding PostgreSQL knows, such as UTF8, LATIN1 or SQL_ASCII"
        ))
    }
}

/// The abbreviation sets in the server's share/timezonesets that it can load.
const TIMEZONE_ABBREVIATIONS: &[&str] = &["Default", "Australia", "India"];

fn one_of(text: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&text) {
        Ok(())
    } else {
        Err(format!("{text:?} is not one of {}", allowed.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_lists_split_like_the_server() {
        assert_eq!(
            identifier_list(r#""$user", public"#).unwrap(),
            ["$user", "public"]
        );
        assert_eq!(identifier_list("").unwrap(), Vec::<String>::new());
        assert_eq!(identifier_list("  ").unwrap(), Vec::<String>::new());
        // Unquoted names are lower-cased and may hold a single quote; quoted ones keep their
        // case and hold a double quote written twice.
        assert_eq!(
            identifier_list(r#"App's,"Mixed""Case""#).unwrap(),
            ["app's", "Mixed\"Case"]
        );
        // A double quote inside an unquoted name is part of it, as in the server.
        assert_eq!(
            identifier_list(r#""$user", public""#).unwrap(),
            ["$user", "public\""]
        );
        for bad in [
            r#""abc"#,
            r#""$user, public"#,
            r#""a"b"#,
            "a b",
            "a,,b",
            "a,",
            ",a",
        ] {
            assert!(identifier_list(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn date_styles_are_a_style_and_an_order() {
        for good in [
            "ISO, MDY",
            "sql,dmy",
            "German",
            "default",
            "Postgres, European",
            "iso, iso",
        ] {
            assert!(date_style(good).is_ok(), "{good:?}: {:?}", date_style(good));
        }
        for bad in ["iso, foo", "ISO MDY", "ISO, SQL", "DMY, MDY", ""] {
            assert!(date_style(bad).is_err(), "{bad:?} was accepted");
        }
    }

    /// Each as PostgreSQL 15.20 answered `SET TimeZone`.
    #[test]
    fn time_zones_are_names_numbers_or_posix_rules() {
        for good in [
            "UTC",
            "utc",
            "Europe/Paris",
            "europe/paris",
            "EST",
            "EST5EDT",
            "XYZ-3",
            "UTC+3",
            "ABC-3:30",
            "ABC3:59",
            "ABC167",
            "-8",
            "5.5",
            "42",
            "167",
            "-15.5",
            "ABC3:30",
            "<+03>-3",
            "EST5EDT,M3.2.0,M11.1.0",
            "EST5EDT4,M3.2.0/2,M11.1.0/2",
            "ABC3DEF",
            "ABC3DEF2",
        ] {
            assert!(time_zone(good).is_ok(), "{good:?} was refused");
        }
        // Refused by the server too (but AB3, which it takes: POSIX names have three letters).
        for bad in [
            "Nowhere/City",
            "Europe/Nowhere",
            "",
            "168",
            "PST",
            "XYZ",
            "ABCD",
            "AB3",
            "Europe/Paris'",
            "../etc/passwd",
            "EST5EDT,M3.2.0",
            "EST5EDT,X3,M11.1.0",
            "interval '-08:00' hour to minute",
        ] {
            assert!(time_zone(bad).is_err(), "{bad:?} was accepted");
        }
        // The limits of a rule's numbers are the server's: it judges them before they apply.
        for left_to_the_server in ["ABC3:60", "ABC168", "EST5EDT,M13.2.0,M11.1.0"] {
            assert!(
                time_zone(left_to_the_server).is_ok(),
                "{left_to_the_server:?}"
            );
        }
    }

    #[test]
    fn the_other_free_text_parameters_are_checked_too() {
        assert_eq!(check("lc_monetary", "C.UTF-8"), Some(Ok(())));
        assert!(matches!(check("lc_messages", ""), Some(Err(_))));
        assert!(matches!(check("lc_time", "de_DE.UTF-8"), Some(Err(_))));
        assert_eq!(check("client_encoding", "utf-8"), Some(Ok(())));
        assert_eq!(check("client_encoding", "LATIN1"), Some(Ok(())));
        assert!(matches!(check("client_encoding", "klingon"), Some(Err(_))));
        assert_eq!(check("timezone_abbreviations", "India"), Some(Ok(())));
        assert!(matches!(
            check("timezone_abbreviations", "Europe.txt"),
            Some(Err(_))
        ));
        assert_eq!(
            check("restrict_nonsystem_relation_kind", "view, foreign-table"),
            Some(Ok(()))
        );
        assert!(matches!(
            check("restrict_nonsystem_relation_kind", "table"),
            Some(Err(_))
        ));
        assert!(matches!(check("temp_tablespaces", r#""x"#), Some(Err(_))));
        // Free text the server takes as it is.
        assert_eq!(check("application_name", "any 'thing' \\ at all"), None);
    }
}
