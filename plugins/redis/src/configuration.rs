//! Redis configuration: the generated catalog, plus what the generic checks cannot know —
//! the syntax of Redis's structured text parameters and rules that depend on the flavor.

use drover_driver_sdk::catalog::{Catalog, Checked, given, memory, plain, show};
use drover_driver_sdk::configuration::{ApplyOutcome, ApplyRequest, Validated, ValidationRequest};
use drover_driver_sdk::prelude::*;

use crate::{admin, catalog_7_0};

/// The catalog of a served Redis version.
pub fn catalog(version: &str) -> DriverResult<&'static Catalog> {
    match version {
        "7.0" => Ok(&catalog_7_0::CATALOG),
        other => Err(DriverError::not_found(format!(
            "the Redis driver does not serve version {other}"
        ))),
    }
}

/// Directives of redis.conf that are not parameters (`CONFIG GET` does not show them, so the
/// catalog does not list them), with the reason a user is given.
const DIRECTIVES: &[(&str, &str)] = &[
    (
        "include",
        "the service renders the whole configuration file; it includes no other file",
    ),
    (
        "loadmodule",
        "loading modules would run arbitrary code on the node",
    ),
    (
        "rename-command",
        "the service's own commands depend on their names",
    ),
    ("sentinel", "the service does not run Redis Sentinel"),
    ("user", "ACL users are managed through the users API"),
];

/// `configuration.validate`: every problem with every value, or the values to store.
pub fn validate(request: &ValidationRequest) -> DriverResult<Validated> {
    let catalog = catalog(&request.datastore_version)?;
    let mut problems = Problems::new();
    let directive = |s: &Setting| {
        DIRECTIVES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s.name.trim()))
    };
    for setting in &request.settings {
        if let Some((_, reason)) = directive(setting) {
            problems.push(
                setting.name.as_str(),
                format!(
                    "{} cannot be set in a configuration group: {reason}",
                    setting.name
                ),
            );
        }
    }
    // maxmemory-clients also takes a percentage of maxmemory, which the generic size check
    // does not know; it is checked here and kept out of the generic pass.
    let is_percent = |s: &Setting| {
        s.name.eq_ignore_ascii_case("maxmemory-clients")
            && matches!(&s.value, Value::Text(t) if t.trim().ends_with('%'))
    };
    let checked = catalog.check(
        request
            .settings
            .iter()
            .filter(|s| !is_percent(s) && directive(s).is_none()),
        &mut problems,
    );

    let mut settings: Vec<Setting> = Vec::with_capacity(request.settings.len());
    for item in &checked {
        if let Err(message) = check_syntax(item) {
            problems.push(item.param.name, format!("{}: {message}", item.param.name));
        }
        settings.push(Setting {
            name: item.param.name.to_string(),
            value: item.value.clone(),
        });
    }
    for setting in request.settings.iter().filter(|s| is_percent(s)) {
        let text = plain(&setting.value);
        let text = text.trim();
        // As redis-server reads a percentage: an integer as string2ll reads it (no sign, no
        // leading zero, no space), then `%`.
        let digits = &text[..text.len() - 1];
        let well_formed = digits == "0"
            || (!digits.is_empty()
                && !digits.starts_with('0')
                && digits.bytes().all(|b| b.is_ascii_digit()));
        match digits.parse::<u32>() {
            Ok(p) if well_formed && p <= 100 => settings.push(Setting {
                name: "maxmemory-clients".into(),
                value: Value::Text(text.into()),
            }),
            _ => problems.push(
                "maxmemory-clients",
                format!(
                    "maxmemory-clients: value {} must be a memory value or a percentage from 0% to 100%",
                    show(&setting.value)
                ),
            ),
        }
    }
    if let Some(flavor) = &request.flavor {
        check_flavor(&checked, flavor, &mut problems);
    }
    let restart_required = checked
        .iter()
        .filter(|c| !c.param.dynamic)
        .map(|c| c.param.name.to_string())
        .collect();
    problems.into_result(Validated {
        settings,
        restart_required,
    })
}

/// `configuration.apply`: `CONFIG SET` for each value that changed and can change live; a value
/// that went away goes back to Drover's default for the node, or else Redis's own.
pub fn apply(node: &Node, request: &ApplyRequest) -> DriverResult<ApplyOutcome> {
    let catalog = catalog(&request.context.datastore_version)?;
    let base = crate::lifecycle::defaults(&request.context);
    catalog.apply_live(
        &request.previous,
        &request.context.settings,
        |name, value| {
            let text = match value {
                Some(value) => plain(value),
                None => base
                    .iter()
                    .find(|(known, _)| known == name)
                    .map(|(_, value)| value.trim_matches('"').to_string())
                    .or_else(|| {
                        catalog
                            .find(name)
                            .and_then(|p| p.default)
                            .map(str::to_string)
                    })
                    .unwrap_or_default(),
            };
            admin::command(node, &["CONFIG", "SET", name, &text])
                .map(|_| ())
                .map_err(|e| e.message())
        },
    )
}

/// Parameters with a syntax of their own, checked in [`check_syntax`].
const STRUCTURED: &[&str] = &[
    "save",
    "notify-keyspace-events",
    "client-output-buffer-limit",
    "latency-tracking-info-percentiles",
];

/// The structured text parameters, checked the way redis-server checks them.
fn check_syntax(item: &Checked) -> Result<(), String> {
    if !STRUCTURED.contains(&item.param.name) {
        return Ok(());
    }
    let text = plain(&item.value);
    let words: Vec<&str> = text.split_whitespace().collect();
    match item.param.name {
        "save" => {
            let pairs_ok = words.len().is_multiple_of(2)
                && words.chunks(2).all(|pair| {
                    matches!(pair[0].parse::<i64>(), Ok(seconds) if seconds >= 1)
                        && matches!(pair[1].parse::<i64>(), Ok(changes) if changes >= 0)
                });
            if pairs_ok {
                Ok(())
            } else {
                Err(format!(
                    "value \"{text}\" must be empty or pairs of <seconds> <changes> (seconds at least 1), for example \"3600 1 300 100\""
                ))
            }
        }
        "notify-keyspace-events" => match text.chars().find(|c| !"Ag$lshzxeKEtmdn".contains(*c)) {
            None => Ok(()),
            Some(bad) => Err(format!(
                "value \"{text}\" has the invalid event class '{bad}'; use characters from Ag$lshzxeKEtmdn"
            )),
        },
        "client-output-buffer-limit" => {
            if words.is_empty() || !words.len().is_multiple_of(4) {
                return Err(format!(
                    "value \"{text}\" must be groups of <class> <hard limit> <soft limit> <soft seconds>"
                ));
            }
            for group in words.chunks(4) {
                if !matches!(
                    group[0].to_ascii_lowercase().as_str(),
                    "normal" | "replica" | "slave" | "pubsub"
                ) {
                    return Err(format!(
                        "value \"{text}\" names the unknown client class \"{}\" (normal, replica, pubsub)",
                        group[0]
                    ));
                }
                if !is_memory(group[1]) || !is_memory(group[2]) || group[3].parse::<u64>().is_err()
                {
                    return Err(format!(
                        "value \"{text}\": hard and soft limits must be memory values and soft seconds a whole number"
                    ));
                }
            }
            Ok(())
        }
        "latency-tracking-info-percentiles" => {
            if words
                .iter()
                .all(|w| matches!(w.parse::<f64>(), Ok(p) if (0.0..=100.0).contains(&p)))
            {
                Ok(())
            } else {
                Err(format!(
                    "value \"{text}\" must be percentiles between 0.0 and 100.0 separated by spaces"
                ))
            }
        }
        _ => Ok(()),
    }
}

fn is_memory(word: &str) -> bool {
    crate::units::memory(word).is_ok()
}

/// Rules that depend on the memory the node will have.
fn check_flavor(checked: &[Checked], flavor: &Flavor, problems: &mut Problems) {
    if let Some(item) = given(checked, "maxmemory")
        && let Some(bytes) = item.number
    {
        memory::at_most_share(problems, item, bytes / f64::from(1u32 << 20), flavor, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(settings: Vec<(&str, Value)>) -> ValidationRequest {
        drover_driver_sdk::catalog::validation_request("7.0", settings, Some(512))
    }

    fn fields(error: DriverError) -> Vec<(String, String)> {
        assert!(matches!(error, DriverError::Invalid(_)), "{error:?}");
        error.field_messages()
    }

    #[test]
    fn good_values_are_normalised_and_restart_only_ones_flagged() {
        let validated = validate(&request(vec![
            ("maxmemory", Value::Text("100mb".into())),
            ("appendonly", Value::Boolean(true)),
            ("maxmemory-policy", Value::Text("ALLKEYS-LRU".into())),
            ("databases", Value::Integer(8)),
            ("save", Value::Text("3600 1 300 100".into())),
        ]))
        .unwrap();
        // Booleans take Redis's spelling and enumerations its case.
        assert!(validated.settings.contains(&Setting {
            name: "appendonly".into(),
            value: Value::Text("yes".into())
        }));
        assert!(validated.settings.contains(&Setting {
            name: "maxmemory-policy".into(),
            value: Value::Text("allkeys-lru".into())
        }));
        // databases cannot change on a running server.
        assert_eq!(validated.restart_required, vec!["databases".to_string()]);
    }

    #[test]
    fn every_bad_value_is_named_with_its_rule() {
        let problems = fields(
            validate(&request(vec![
                ("maxclients", Value::Text("many".into())),
                ("hz", Value::Integer(-1)),
                ("maxmemory-policy", Value::Text("random".into())),
                ("maxmemory", Value::Text("10qb".into())),
                ("port", Value::Integer(7000)),
                ("no-such-thing", Value::Integer(1)),
                ("save", Value::Text("60".into())),
            ]))
            .unwrap_err(),
        );
        let named: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            named,
            [
                "maxclients",
                "hz",
                "maxmemory-policy",
                "maxmemory",
                "port",
                "no-such-thing",
                "save"
            ]
        );
        assert!(
            problems[0].1.contains("not of type integer"),
            "{}",
            problems[0].1
        );
        assert!(
            problems[1].1.contains("less than the minimum allowed: 0"),
            "{}",
            problems[1].1
        );
        assert!(problems[2].1.contains("allkeys-lru"), "{}", problems[2].1);
        assert!(
            problems[3].1.contains("unknown unit \"qb\""),
            "{}",
            problems[3].1
        );
        assert!(
            problems[4].1.contains("allocates the node's port"),
            "{}",
            problems[4].1
        );
        assert!(
            problems[5].1.contains("not supported for this datastore"),
            "{}",
            problems[5].1
        );
        assert!(
            problems[6].1.contains("pairs of <seconds> <changes>"),
            "{}",
            problems[6].1
        );
    }

    #[test]
    fn what_would_load_code_or_move_files_is_refused_with_a_reason() {
        let problems = fields(
            validate(&request(vec![
                ("loadmodule", Value::Text("/tmp/evil.so".into())),
                ("include", Value::Text("/etc/redis/other.conf".into())),
                ("Rename-Command", Value::Text("CONFIG \"\"".into())),
                ("dir", Value::Text("/tmp".into())),
                ("DBFILENAME", Value::Text("x.rdb".into())),
                ("enable-module-command", Value::Text("yes".into())),
                ("enable-protected-configs", Value::Text("yes".into())),
                ("requirepass", Value::Text("x".into())),
                ("masterauth", Value::Text("x".into())),
                ("aclfile", Value::Text("/tmp/acl".into())),
                ("unixsocket", Value::Text("/tmp/s".into())),
                ("ignore-warnings", Value::Text("a\nb".into())),
            ]))
            .unwrap_err(),
        );
        let named: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            named,
            [
                "loadmodule",
                "include",
                "Rename-Command",
                "dir",
                "DBFILENAME",
                "enable-module-command",
                "enable-protected-configs",
                "requirepass",
                "masterauth",
                "aclfile",
                "unixsocket",
                "ignore-warnings",
            ],
            "{problems:?}"
        );
        assert!(
            problems[0].1.contains("arbitrary code"),
            "{}",
            problems[0].1
        );
        assert!(problems[11].1.contains("line breaks"), "{}", problems[11].1);
        // A quote is a character like any other once it is quoted in the file.
        assert!(
            validate(&request(vec![(
                "ignore-warnings",
                Value::Text("'x".into())
            )]))
            .is_ok()
        );
    }

    #[test]
    fn maxmemory_may_not_exceed_the_flavor() {
        let problems =
            fields(validate(&request(vec![("maxmemory", Value::Text("1gb".into()))])).unwrap_err());
        assert_eq!(problems[0].0, "maxmemory");
        assert!(problems[0].1.contains("512 MB"), "{}", problems[0].1);
    }

    #[test]
    fn numbers_are_read_as_redis_server_reads_them() {
        // Read on redis-server 7.0.15, with CONFIG SET and in redis.conf.
        let validated = validate(&request(vec![
            ("maxmemory", Value::Text("100MB".into())),
            ("hz", Value::Text("20".into())),
            ("repl-backlog-size", Value::Text("010".into())),
            ("list-max-listpack-size", Value::Text("-2".into())),
            ("maxmemory-clients", Value::Text("100%".into())),
        ]))
        .unwrap();
        assert!(validated.settings.contains(&Setting {
            name: "maxmemory".into(),
            value: Value::Text("100MB".into())
        }));
        assert!(validated.settings.contains(&Setting {
            name: "hz".into(),
            value: Value::Integer(20)
        }));
        let problems = fields(
            validate(&request(vec![
                ("maxmemory", Value::Text("100 mb".into())),
                ("repl-backlog-size", Value::Text("+100mb".into())),
                ("proto-max-bulk-len", Value::Text("1.5gb".into())),
                ("active-defrag-ignore-bytes", Value::Text("1tb".into())),
                ("hz", Value::Text("+10".into())),
                ("maxclients", Value::Text("010".into())),
                ("timeout", Value::Float(1.5)),
                (
                    "client-output-buffer-limit",
                    Value::Text("normal +1mb 0 0".into()),
                ),
                ("maxmemory-clients", Value::Text("+10%".into())),
            ]))
            .unwrap_err(),
        );
        let named: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            named,
            [
                "maxmemory",
                "repl-backlog-size",
                "proto-max-bulk-len",
                "active-defrag-ignore-bytes",
                "hz",
                "maxclients",
                "timeout",
                "client-output-buffer-limit",
                "maxmemory-clients",
            ],
            "{problems:?}"
        );
        for (field, message) in &problems {
            assert!(message.starts_with(&format!("{field}: ")), "{message}");
        }
        assert!(
            problems[0].1.contains("not a memory value"),
            "{}",
            problems[0].1
        );
        assert!(
            problems[4].1.contains("not of type integer"),
            "{}",
            problems[4].1
        );
    }

    #[test]
    fn maxmemory_clients_takes_a_percentage() {
        assert!(
            validate(&request(vec![(
                "maxmemory-clients",
                Value::Text("10%".into())
            )]))
            .is_ok()
        );
        let problems = fields(
            validate(&request(vec![(
                "maxmemory-clients",
                Value::Text("120%".into()),
            )]))
            .unwrap_err(),
        );
        assert_eq!(problems[0].0, "maxmemory-clients");
    }
}
