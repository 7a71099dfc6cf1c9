//! MariaDB's free-text options, checked the way the server parses them at start: a value it
//! cannot parse in my.cnf makes it abort ("Error while setting value … to 'sql_mode'"), so
//! validation refuses it first. Names of options are also read the way the server reads them
//! (`-` and `_` alike, any case, `loose-`, `skip-`… prefixes), so a parameter users may not set
//! is refused under every spelling.

use drover_driver_sdk::catalog::Catalog;

use crate::catalog_10_11;

/// Options of my.cnf that are not system variables (so not in the catalog) and that the
/// service must keep control of, with the reason a user is given.
pub const DIRECTIVES: &[(&str, &str)] = &[
    ("!include", INCLUDE),
    ("!includedir", INCLUDE),
    ("bootstrap", STARTUP),
    ("chroot", "file locations are controlled by the service"),
    ("debug", STARTUP),
    ("defaults_extra_file", INCLUDE),
    ("defaults_file", INCLUDE),
    ("external_locking", STARTUP),
    (
        "feedback",
        "it would send information about the server to a third party",
    ),
    ("gdb", STARTUP),
    (
        "init_rpl_role",
        "replication is managed through the replication API",
    ),
    ("log_basename", "server logs are collected by the service"),
    ("memlock", STARTUP),
    ("no_defaults", INCLUDE),
    ("plugin_load", PLUGINS),
    ("plugin_load_add", PLUGINS),
    (
        "symbolic_links",
        "symbolic links would let tables live outside the node's directory",
    ),
    (
        "user",
        "node processes run as the service's unprivileged user",
    ),
];
const INCLUDE: &str = "the service renders the whole option file; it reads no other file";
const STARTUP: &str = "the service decides how the server starts";
const PLUGINS: &str = "loading plugins would run arbitrary code on the node";

/// What the server's option parser may put before an option's name.
const PREFIXES: &[&str] = &["enable_", "disable_", "skip_", "maximum_"];

/// An option name as MariaDB compares them: lower case, `-` as `_`, without `loose_`.
pub fn normalize(name: &str) -> String {
    let mut name = name.trim().to_ascii_lowercase().replace('-', "_");
    while let Some(rest) = name.strip_prefix("loose_") {
        name = rest.to_string();
    }
    name
}

/// Why an option name (in any spelling) may not be set, if it may not.
pub fn forbidden(catalog: &Catalog, name: &str) -> Option<&'static str> {
    let name = normalize(name);
    let reason = |name: &str| {
        DIRECTIVES
            .iter()
            .find(|(directive, _)| *directive == name)
            .map(|(_, reason)| *reason)
            .or_else(|| catalog.excluded_reason(name))
    };
    if let Some(reason) = reason(&name) {
        return Some(reason);
    }
    if catalog.find(&name).is_some() {
        return None;
    }
    PREFIXES
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix).and_then(reason))
}

/// How a free-text parameter is checked, by name; `None` for text the server takes as it is.
pub fn check(name: &str, text: &str) -> Option<Result<(), String>> {
    if let Some((_, flags, members)) = catalog_10_11::SETS.iter().find(|(set, ..)| *set == name) {
        return Some(if *flags {
            flag_set(text, members)
        } else {
            set(text, members)
        });
    }
    let result = match name {
        "ft_boolean_syntax" => ft_boolean_syntax(text),
        "lc_messages" | "lc_time_names" => {
            if catalog_10_11::LOCALES
                .iter()
                .any(|l| l.eq_ignore_ascii_case(text))
            {
                Ok(())
            } else {
                Err(format!(
                    "{text:?} is not a locale the server knows, such as en_US or de_DE"
                ))
            }
        }
        "default_storage_engine" | "default_tmp_storage_engine" | "enforce_storage_engine" => {
            if ENGINES.iter().any(|e| e.eq_ignore_ascii_case(text)) {
                Ok(())
            } else {
                Err(format!(
                    "{text:?} is not a storage engine the server has: give one of {}",
                    ENGINES.join(", ")
                ))
            }
        }
        "session_track_system_variables" => tracked_variables(text),
        "character_set_server" | "character_set_filesystem" | "collation_server" => {
            if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                Ok(())
            } else {
                Err(format!("{text:?} is not a character set or collation name"))
            }
        }
        _ => return None,
    };
    Some(result)
}

/// The storage engines built into the server that can hold tables.
const ENGINES: &[&str] = &["InnoDB", "Aria", "MyISAM", "MEMORY"];

/// A SET value: members separated by commas (no spaces), in any case; empty for none.
fn set(text: &str, members: &[&str]) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    match text
        .split(',')
        .find(|item| !members.iter().any(|m| m.eq_ignore_ascii_case(item)))
    {
        None => Ok(()),
        Some(item) => Err(format!(
            "{item:?} is not one of {} (separate them with commas, without spaces)",
            members.join(", ")
        )),
    }
}

/// A FLAGSET value: `default`, or `flag=on|off|default` items separated by commas.
fn flag_set(text: &str, members: &[&str]) -> Result<(), String> {
    let flags: Vec<&str> = members
        .iter()
        .copied()
        .filter(|m| !m.eq_ignore_ascii_case("default"))
        .collect();
    for item in text.split(',') {
        if item.eq_ignore_ascii_case("default") {
            continue;
        }
        let ok = item.split_once('=').is_some_and(|(flag, state)| {
            flags.iter().any(|f| f.eq_ignore_ascii_case(flag))
                && ["on", "off", "default"]
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(state))
        });
        if !ok {
            return Err(format!(
                "{item:?} is not flag=on, flag=off or flag=default for a flag of {} (separate them with commas, without spaces)",
                flags.join(", ")
            ));
        }
    }
    Ok(())
}

/// `ft_boolean_syntax`, as `ft_boolean_check_syntax_string` checks it: 14 characters, the
/// second or first a space, no letter, digit or non-ASCII character, none repeated but the
/// quote pair at positions 11 and 12.
fn ft_boolean_syntax(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let bad = || {
        Err(format!(
            "{text:?} is not a full-text boolean syntax: 14 punctuation characters, each once (but the two quotes), like the default \"+ -><()~*:\"\"&|\""
        ))
    };
    if bytes.len() != 14 || (bytes[0] != b' ' && bytes[1] != b' ') {
        return bad();
    }
    for (i, b) in bytes.iter().enumerate() {
        if *b > 127 || b.is_ascii_alphanumeric() {
            return bad();
        }
        if bytes[..i]
            .iter()
            .enumerate()
            .any(|(j, c)| c == b && !(i == 11 && j == 10))
        {
            return bad();
        }
    }
    Ok(())
}

/// `session_track_system_variables`: `*`, or system variable names separated by commas.
fn tracked_variables(text: &str) -> Result<(), String> {
    let catalog = &catalog_10_11::CATALOG;
    if text.is_empty() || text == "*" {
        return Ok(());
    }
    match text.split(',').find(|name| {
        *name != "*" && catalog.find(name).is_none() && catalog.excluded_reason(name).is_none()
    }) {
        None => Ok(()),
        Some(name) => Err(format!(
            "{name:?} is not a system variable (give *, or names separated by commas, without spaces)"
        )),
    }
}

/// The character set a collation belongs to, by MariaDB's naming: `<character set>_…`.
pub fn collation_fits(collation: &str, character_set: &str) -> bool {
    let collation = collation.to_ascii_lowercase();
    let character_set = character_set.to_ascii_lowercase();
    let sets: &[&str] = match character_set.as_str() {
        "utf8" | "utf8mb3" => &["utf8", "utf8mb3"],
        other => &[other][..],
    };
    (character_set == "binary" && collation == "binary")
        || sets.iter().any(|set| {
            collation
                .strip_prefix(set)
                .is_some_and(|rest| rest.starts_with('_'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excluded_options_are_refused_under_every_spelling() {
        let catalog = &catalog_10_11::CATALOG;
        for spelling in [
            "skip_grant_tables",
            "skip-grant-tables",
            "SKIP_GRANT_TABLES",
            "Skip-Grant-Tables",
            "loose-skip-grant-tables",
            "loose_loose_skip_grant_tables",
            "enable-skip-grant-tables",
            " skip_grant_tables ",
        ] {
            assert!(
                forbidden(catalog, spelling).is_some_and(|r| r.contains("privilege")),
                "{spelling:?}"
            );
        }
        for (name, word) in [
            ("plugin-load-add", "plugins"),
            ("plugin_load", "plugins"),
            ("init-file", "init file"),
            ("plugin_dir", "plugins"),
            ("secure-file-priv", "file locations"),
            ("skip-networking", "listens"),
            ("bind-address", "listens"),
            ("datadir", "file locations"),
            ("general-log-file", "logs"),
            ("!include", "no other file"),
            ("user", "unprivileged"),
            ("skip-symbolic-links", "symbolic links"),
            ("old_passwords", "pre-4.1"),
            ("innodb-encrypt-tables", "key management"),
        ] {
            let reason = forbidden(catalog, name).unwrap_or_else(|| panic!("{name} is allowed"));
            assert!(reason.contains(word), "{name}: {reason}");
        }
        // Parameters users may set stay allowed, in the server's spellings too.
        for name in ["max_connections", "max-connections", "skip_show_database"] {
            assert_eq!(forbidden(catalog, name), None, "{name}");
        }
    }

    #[test]
    fn sets_are_checked_member_by_member() {
        assert_eq!(check("sql_mode", "NO_BACKSLASH_ESCAPES"), Some(Ok(())));
        assert_eq!(
            check("sql_mode", "ansi_quotes,STRICT_ALL_TABLES"),
            Some(Ok(()))
        );
        assert_eq!(check("sql_mode", ""), Some(Ok(())));
        for bad in ["FOO", "ANSI_QUOTES, STRICT_ALL_TABLES", "ANSI_QUOTES,", "1"] {
            assert!(matches!(check("sql_mode", bad), Some(Err(_))), "{bad:?}");
        }
        assert!(matches!(check("log_output", "FILE,XYZ"), Some(Err(_))));
        assert_eq!(
            check("optimizer_switch", "index_merge=off,derived_merge=on"),
            Some(Ok(()))
        );
        assert_eq!(check("optimizer_switch", "default"), Some(Ok(())));
        for bad in ["foo=on", "index_merge", "index_merge=maybe"] {
            assert!(
                matches!(check("optimizer_switch", bad), Some(Err(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_other_options_follow_the_servers_rules() {
        assert_eq!(check("ft_boolean_syntax", "+ -><()~*:\"\"&|"), Some(Ok(())));
        assert_eq!(check("ft_boolean_syntax", " +-><()~*:\"\"&|"), Some(Ok(())));
        for bad in [
            "abc",
            "+ -><()~*:\"\"&a",
            "++-><()~*:\"\"&|",
            "+-><()~*:\"\"&|x",
        ] {
            assert!(
                matches!(check("ft_boolean_syntax", bad), Some(Err(_))),
                "{bad:?}"
            );
        }
        assert_eq!(check("lc_time_names", "de_DE"), Some(Ok(())));
        assert!(matches!(check("lc_messages", "xx_XX"), Some(Err(_))));
        assert_eq!(check("default_storage_engine", "innodb"), Some(Ok(())));
        assert!(matches!(
            check("enforce_storage_engine", "nope"),
            Some(Err(_))
        ));
        assert_eq!(
            check(
                "session_track_system_variables",
                "autocommit,character_set_client"
            ),
            Some(Ok(()))
        );
        assert!(matches!(
            check("session_track_system_variables", "nonexistent"),
            Some(Err(_))
        ));
        // The server knows its character sets: only the form of the name is checked here.
        assert_eq!(check("character_set_server", "klingon"), Some(Ok(())));
        assert!(matches!(
            check("character_set_server", "utf8mb4'"),
            Some(Err(_))
        ));
        assert_eq!(check("init_connect", "SET NAMES utf8mb4"), None);
    }

    #[test]
    fn collations_belong_to_their_character_set() {
        assert!(collation_fits("utf8mb4_general_ci", "utf8mb4"));
        assert!(collation_fits("utf8mb3_bin", "utf8"));
        assert!(collation_fits("utf8_general_ci", "utf8mb3"));
        assert!(collation_fits("binary", "binary"));
        assert!(!collation_fits("latin1_swedish_ci", "utf8mb4"));
        assert!(!collation_fits("utf8mb4_general_ci", "utf8"));
        assert!(!collation_fits("latin1", "latin1"));
    }
}
