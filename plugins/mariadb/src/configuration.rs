//! MariaDB configuration: the catalog generated from `information_schema.SYSTEM_VARIABLES`,
//! plus the rules across values the server refuses at start and the ones that depend on the
//! flavor. Sizes are stored in bytes, the only form `SET GLOBAL` takes.

use drover_driver_sdk::catalog::{Catalog, Checked, Kind, given, memory, plain, show};
use drover_driver_sdk::configuration::{ApplyOutcome, ApplyRequest, Validated, ValidationRequest};
use drover_driver_sdk::prelude::*;

use crate::{catalog_10_11, lifecycle, sql, values};

/// The longest value my.cnf holds: the server reads option files in lines of at most 4095
/// bytes and takes the rest of a longer one for another option.
const MAX_OPTION_BYTES: usize = 3500;
/// `max_session_mem_used` below this crashes the server at the first connection.
const MIN_SESSION_MEMORY: f64 = 1048576.0;
/// Replicas are seeded with a dump whose statements are up to 1 MiB long (mariadb-dump's
/// default `net_buffer_length`), which a smaller `max_allowed_packet` refuses.
const MIN_PACKET: f64 = 1048576.0;
/// The page compression algorithms built into the server; the others need provider plugins,
/// without which InnoDB does not start.
const COMPRESSION: &[&str] = &["none", "zlib"];

/// The catalog of a served MariaDB version.
pub fn catalog(version: &str) -> DriverResult<&'static Catalog> {
    match version {
        "10.11" => Ok(&catalog_10_11::CATALOG),
        other => Err(DriverError::not_found(format!(
            "the MariaDB driver does not serve version {other}"
        ))),
    }
}

/// `configuration.validate`: every problem with every value, or the values to store.
pub fn validate(request: &ValidationRequest) -> DriverResult<Validated> {
    let catalog = catalog(&request.datastore_version)?;
    let mut problems = Problems::new();
    // Names as the server reads them: a parameter users may not set is refused under every
    // spelling, and the server's other spellings of one they may set are accepted.
    let mut settings: Vec<Setting> = Vec::with_capacity(request.settings.len());
    for setting in &request.settings {
        // The catalog's own spelling of an excluded name is refused by the generic check.
        let spelt_as_excluded = catalog.excluded_reason(&setting.name).is_some();
        if let Some(reason) =
            values::forbidden(catalog, &setting.name).filter(|_| !spelt_as_excluded)
        {
            problems.push(
                setting.name.as_str(),
                format!(
                    "{} cannot be set in a configuration group: {reason}",
                    setting.name
                ),
            );
            continue;
        }
        let name = values::normalize(&setting.name);
        settings.push(Setting {
            name: if catalog.find(&name).is_some() {
                name
            } else {
                setting.name.clone()
            },
            value: setting.value.clone(),
        });
    }
    let checked = catalog.check(&settings, &mut problems);
    for item in &checked {
        if let Err(message) = check_value(item) {
            problems.push(item.param.name, format!("{}: {message}", item.param.name));
        }
    }
    check_collation(&checked, &mut problems);
    // The server starts with a minimum above the maximum (it adjusts neither), but then no word
    // is both long enough and short enough to be indexed: full-text searches find nothing.
    const NO_WORD: &str =
        "the server takes it, but then no word is indexed and full-text searches find nothing";
    for pair in [
        ("innodb_ft_min_token_size", "innodb_ft_max_token_size"),
        ("ft_min_word_len", "ft_max_word_len"),
    ] {
        catalog.check_order(&checked, pair, false, NO_WORD, &mut problems);
    }
    if let Some(flavor) = &request.flavor {
        check_flavor(&checked, flavor, &mut problems);
    }
    let settings = checked
        .iter()
        .map(|item| Setting {
            name: item.param.name.to_string(),
            value: item.value.clone(),
        })
        .collect();
    let restart_required = checked
        .iter()
        .filter(|item| !item.param.dynamic)
        .map(|item| item.param.name.to_string())
        .collect();
    problems.into_result(Validated {
        settings,
        restart_required,
    })
}

/// `configuration.apply`: `SET GLOBAL` for each value that changed and can change live; a
/// value that went away goes back to Drover's default for the node, or else the server's.
pub fn apply(node: &Node, request: &ApplyRequest) -> DriverResult<ApplyOutcome> {
    let catalog = catalog(&request.context.datastore_version)?;
    let base = crate::lifecycle::defaults(&request.context);
    catalog.apply_live(
        &request.previous,
        &request.context.settings,
        |name, value| {
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("{name:?} is not a variable name"));
            }
            let value = match value {
                Some(Value::Integer(n)) => n.to_string(),
                Some(Value::Float(f)) => f.to_string(),
                Some(Value::Boolean(flag)) => if *flag { "ON" } else { "OFF" }.to_string(),
                Some(Value::Text(text)) => sql::literal(text),
                None => match base.iter().find(|(known, _)| known == name) {
                    Some((_, value)) => option_value(value),
                    None => "DEFAULT".to_string(),
                },
            };
            sql::run(node, &format!("SET GLOBAL {name} = {value};"))
                .map(|_| ())
                .map_err(|e| e.message())
        },
    )
}

/// The checks of one value beyond its type and range: free text in the syntax the server
/// parses, values it takes but cannot start or run with, and what my.cnf can hold.
fn check_value(item: &Checked) -> Result<(), String> {
    let name = item.param.name;
    if item.param.kind == Kind::Text {
        let text = plain(&item.value);
        if lifecycle::option_value(&text).len() > MAX_OPTION_BYTES {
            return Err(format!(
                "the value is longer than the {MAX_OPTION_BYTES} bytes an option file line holds"
            ));
        }
        return values::check(name, &text).unwrap_or(Ok(()));
    }
    match name {
        "max_session_mem_used" if item.number.is_some_and(|n| n < MIN_SESSION_MEMORY) => {
            Err(format!(
                "value {} is less than {MIN_SESSION_MEMORY} bytes (1M); smaller values crash the server",
                show(&item.value)
            ))
        }
        "max_allowed_packet" if item.number.is_some_and(|n| n < MIN_PACKET) => Err(format!(
            "value {} is less than {MIN_PACKET} bytes (1M), the statements replicas are seeded with",
            show(&item.value)
        )),
        "innodb_compression_algorithm"
            if !COMPRESSION.contains(&plain(&item.value).to_ascii_lowercase().as_str()) =>
        {
            Err(format!(
                "value {} needs a compression provider plugin, which the service does not load; use {}",
                show(&item.value),
                COMPRESSION.join(" or ")
            ))
        }
        _ => Ok(()),
    }
}

/// The server refuses to start with a collation of another character set than its own: the
/// group's, or Drover's utf8mb4 when the group sets only a collation.
fn check_collation(checked: &[Checked], problems: &mut Problems) {
    let Some(collation) = given(checked, "collation_server") else {
        return;
    };
    let character_set = given(checked, "character_set_server")
        .map(|item| plain(&item.value))
        .unwrap_or_else(|| "utf8mb4".into());
    let name = plain(&collation.value);
    if !values::collation_fits(&name, &character_set) {
        problems.push(
            "collation_server",
            format!(
                "collation_server: {name:?} is not a collation of the character set {character_set} (set character_set_server to its character set too)"
            ),
        );
    }
}

/// An option-file value (`256M`, `ON`) as `SET GLOBAL` takes it: sizes in bytes.
fn option_value(value: &str) -> String {
    let digits = value.trim_end_matches(['K', 'M', 'G']);
    let factor: u64 = match &value[digits.len()..] {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => 0,
    };
    match digits.parse::<u64>() {
        Ok(n) if factor > 0 && !digits.is_empty() => (n * factor).to_string(),
        _ => sql::literal(value),
    }
}

/// A busy connection costs MariaDB its thread stack (292K), network buffers and the sort, join
/// and read buffers its statements allocate: about 1 MiB. (An idle one, about 80K: 150 idle
/// connections grew mariadbd 10.11's resident memory by 12 MB.)
const MIB_PER_CONNECTION: f64 = 1.0;

/// Rules that depend on the memory the node will have.
fn check_flavor(checked: &[Checked], flavor: &Flavor, problems: &mut Problems) {
    let pool = given(checked, "innodb_buffer_pool_size");
    let pool_mb = pool
        .and_then(|item| item.number)
        .map(|bytes| bytes / f64::from(1u32 << 20));
    if let (Some(item), Some(mb)) = (pool, pool_mb) {
        memory::at_most_share(problems, item, mb, flavor, 0.8);
    }
    if let Some(item) = given(checked, "max_connections") {
        // Without a value the driver gives the pool half of the memory.
        let reserved = pool_mb.unwrap_or(f64::from(flavor.ram_mb) / 2.0);
        memory::connections_fit(
            problems,
            item,
            flavor,
            ("the buffer pool", reserved),
            MIB_PER_CONNECTION,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(settings: Vec<(&str, Value)>) -> ValidationRequest {
        drover_driver_sdk::catalog::validation_request("10.11", settings, Some(512))
    }

    fn fields(error: DriverError) -> Vec<(String, String)> {
        assert!(matches!(error, DriverError::Invalid(_)), "{error:?}");
        error.field_messages()
    }

    #[test]
    fn sizes_become_bytes_and_restart_only_values_are_flagged() {
        let validated = validate(&request(vec![
            ("max_allowed_packet", Value::Text("32M".into())),
            ("innodb_log_file_size", Value::Text("64m".into())),
            ("slow_query_log", Value::Boolean(true)),
            ("back_log", Value::Integer(100)),
        ]))
        .unwrap();
        assert!(validated.settings.contains(&Setting {
            name: "max_allowed_packet".into(),
            value: Value::Integer(32 << 20)
        }));
        assert!(validated.settings.contains(&Setting {
            name: "slow_query_log".into(),
            value: Value::Text("ON".into())
        }));
        assert!(validated.settings.contains(&Setting {
            name: "innodb_log_file_size".into(),
            value: Value::Integer(64 << 20)
        }));
        assert_eq!(validated.restart_required, vec!["back_log".to_string()]);
    }

    #[test]
    fn every_bad_value_is_named_with_its_rule() {
        let problems = fields(
            validate(&request(vec![
                ("max_connections", Value::Text("many".into())),
                ("max_allowed_packet", Value::Text("1Q".into())),
                ("binlog_row_image", Value::Text("some".into())),
                ("wait_timeout", Value::Integer(0)),
                ("datadir", Value::Text("/tmp".into())),
                ("no_such_variable", Value::Integer(1)),
                ("innodb_ft_min_token_size", Value::Integer(16)),
                ("innodb_ft_max_token_size", Value::Integer(10)),
            ]))
            .unwrap_err(),
        );
        let named: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            named,
            [
                "max_connections",
                "max_allowed_packet",
                "binlog_row_image",
                "wait_timeout",
                "datadir",
                "no_such_variable",
                "innodb_ft_min_token_size"
            ],
            "{problems:?}"
        );
        assert!(problems[1].1.contains("unknown unit"), "{}", problems[1].1);
        assert!(
            problems[2].1.contains("allowed values"),
            "{}",
            problems[2].1
        );
        assert!(
            problems[6].1.contains("innodb_ft_max_token_size"),
            "{}",
            problems[6].1
        );
    }

    #[test]
    fn values_the_server_cannot_start_with_are_refused() {
        let problems = fields(
            validate(&request(vec![
                ("skip_grant_tables", Value::Text("ON".into())),
                ("skip-grant-tables", Value::Boolean(true)),
                ("loose-plugin-load-add", Value::Text("ha_spider.so".into())),
                ("sql_mode", Value::Text("FOO".into())),
                (
                    "init_connect",
                    Value::Text("SET @a = 1;\nSET @b = 2".into()),
                ),
                ("lc_time_names", Value::Text("xx_XX".into())),
                ("collation_server", Value::Text("latin1_swedish_ci".into())),
                ("max_session_mem_used", Value::Integer(8192)),
                ("ft_boolean_syntax", Value::Text("abc".into())),
                ("old_passwords", Value::Boolean(true)),
                ("innodb_compression_algorithm", Value::Text("lz4".into())),
                ("innodb_page_size", Value::Text("8K".into())),
            ]))
            .unwrap_err(),
        );
        let named: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            named,
            [
                "skip-grant-tables",
                "loose-plugin-load-add",
                "skip_grant_tables",
                "init_connect",
                "old_passwords",
                "innodb_page_size",
                "sql_mode",
                "lc_time_names",
                "max_session_mem_used",
                "ft_boolean_syntax",
                "innodb_compression_algorithm",
                "collation_server",
            ],
            "{problems:?}"
        );
        for (field, message) in &problems {
            assert!(message.contains(field.as_str()), "{field}: {message}");
        }
        assert!(
            problems[0].1.contains("privilege checks"),
            "{}",
            problems[0].1
        );
        assert!(
            problems[2].1.contains("privilege checks"),
            "{}",
            problems[2].1
        );
        assert!(problems[3].1.contains("line breaks"), "{}", problems[3].1);
    }

    #[test]
    fn values_the_server_reads_back_are_accepted_in_its_spellings() {
        let validated = validate(&request(vec![
            (
                "sql_mode",
                Value::Text("NO_BACKSLASH_ESCAPES,ANSI_QUOTES".into()),
            ),
            ("max-connections", Value::Integer(90)),
            (
                "init_connect",
                Value::Text(r#"SET @x = 'a\b' # "not a comment""#.into()),
            ),
            ("character_set_server", Value::Text("latin1".into())),
            ("collation_server", Value::Text("latin1_bin".into())),
            ("optimizer_switch", Value::Text("index_merge=off".into())),
        ]))
        .unwrap();
        assert!(validated.settings.contains(&Setting {
            name: "max_connections".into(),
            value: Value::Integer(90)
        }));
        assert_eq!(validated.settings.len(), 6);
        let long = "x".repeat(4000);
        assert!(validate(&request(vec![("init_connect", Value::Text(long))])).is_err());
    }

    #[test]
    fn option_file_sizes_become_bytes_for_set_global() {
        assert_eq!(option_value("256M"), (256u64 << 20).to_string());
        assert_eq!(option_value("151"), "151");
        assert_eq!(option_value("ON"), "'ON'");
    }

    /// The spellings mariadbd 10.11.19 takes in my.cnf, stored as the numbers it reads.
    #[test]
    fn numbers_are_read_as_mariadbd_reads_them() {
        let mut big = request(vec![
            ("max_allowed_packet", Value::Text("16MB".into())),
            ("sort_buffer_size", Value::Text("1GB".into())),
            ("thread_stack", Value::Text("256K".into())),
            ("query_cache_limit", Value::Text("2m".into())),
            ("max_heap_table_size", Value::Text("32MiB".into())),
            ("max_connections", Value::Text("1K".into())),
            ("thread_cache_size", Value::Text("1k".into())),
            (
                "aria_sort_buffer_size",
                Value::Text("1152921504606846975".into()),
            ),
            ("long_query_time", Value::Text("1.5".into())),
            ("autocommit", Value::Integer(0)),
        ]);
        big.flavor.as_mut().unwrap().ram_mb = 4096;
        let validated = validate(&big).unwrap();
        let stored = |name: &str| {
            validated
                .settings
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.value.clone())
                .unwrap_or_else(|| panic!("{name} is missing"))
        };
        assert_eq!(stored("max_allowed_packet"), Value::Integer(16 << 20));
        assert_eq!(stored("sort_buffer_size"), Value::Integer(1 << 30));
        assert_eq!(stored("thread_stack"), Value::Integer(256 << 10));
        assert_eq!(stored("query_cache_limit"), Value::Integer(2 << 20));
        assert_eq!(stored("max_heap_table_size"), Value::Integer(32 << 20));
        assert_eq!(stored("max_connections"), Value::Integer(1024));
        assert_eq!(stored("thread_cache_size"), Value::Integer(1024));
        assert_eq!(
            stored("aria_sort_buffer_size"),
            Value::Integer(1_152_921_504_606_846_975)
        );
        assert_eq!(stored("long_query_time"), Value::Float(1.5));
        assert_eq!(stored("autocommit"), Value::Text("OFF".into()));
        assert!(
            validated
                .restart_required
                .contains(&"thread_stack".to_string())
        );

        let problems = fields(
            validate(&request(vec![
                ("max_allowed_packet", Value::Text("16 M".into())),
                ("sort_buffer_size", Value::Text("1.5M".into())),
                ("join_buffer_size", Value::Text("16B".into())),
                ("tmp_table_size", Value::Text("0x100000".into())),
                ("long_query_time", Value::Text("1K".into())),
                ("innodb_change_buffer_max_size", Value::Text("1K".into())),
                ("myisam_sort_buffer_size", Value::Text("1E".into())),
                ("innodb_page_size", Value::Text("8K".into())),
            ]))
            .unwrap_err(),
        );
        let named: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            named,
            [
                "max_allowed_packet",
                "sort_buffer_size",
                "join_buffer_size",
                "tmp_table_size",
                "long_query_time",
                "innodb_change_buffer_max_size",
                "myisam_sort_buffer_size",
                "innodb_page_size",
            ],
            "{problems:?}"
        );
        for (field, message) in &problems {
            assert!(message.starts_with(field.as_str()), "{message}");
        }
        assert!(problems[0].1.contains("unknown unit"), "{}", problems[0].1);
        assert!(problems[1].1.contains("whole number"), "{}", problems[1].1);
        assert!(
            problems[4].1.contains("not of type float"),
            "{}",
            problems[4].1
        );
        // A percentage: 1K is 1024, more than 50.
        assert!(
            problems[5].1.contains("maximum allowed: 50"),
            "{}",
            problems[5].1
        );
        // 1E is 2^60, one more than the maximum.
        assert!(
            problems[6]
                .1
                .contains("maximum allowed: 1152921504606846975"),
            "{}",
            problems[6].1
        );
        assert!(
            problems[7].1.contains("data directory"),
            "{}",
            problems[7].1
        );
    }

    #[test]
    fn the_servers_own_connection_limit_fits_every_flavor() {
        let on = |ram_mb: u32, connections: i64| {
            let mut tiny = request(vec![("max_connections", Value::Integer(connections))]);
            tiny.flavor.as_mut().unwrap().ram_mb = ram_mb;
            validate(&tiny)
        };
        // 151 is mariadbd's default: a node without the value runs with it.
        assert!(on(256, 151).is_ok());
        assert!(on(256, 100).is_ok());
        let problems = fields(on(256, 300).unwrap_err());
        assert!(
            problems[0].1.contains("at most 151 fit"),
            "{}",
            problems[0].1
        );
    }

    #[test]
    fn full_text_bounds_say_what_the_server_does_with_them() {
        let problems = fields(
            validate(&request(vec![
                ("innodb_ft_min_token_size", Value::Integer(16)),
                ("innodb_ft_max_token_size", Value::Integer(12)),
                ("ft_min_word_len", Value::Integer(30)),
                ("ft_max_word_len", Value::Integer(20)),
            ]))
            .unwrap_err(),
        );
        let named: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(named, ["innodb_ft_min_token_size", "ft_min_word_len"]);
        for (_, message) in &problems {
            assert!(
                message.contains("the server takes it, but then no word is indexed"),
                "{message}"
            );
        }
    }

    #[test]
    fn memory_rules_follow_the_flavor() {
        let problems = fields(
            validate(&request(vec![
                ("innodb_buffer_pool_size", Value::Text("1G".into())),
                ("max_connections", Value::Integer(5000)),
            ]))
            .unwrap_err(),
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].1.contains("flavor small"), "{}", problems[0].1);
        assert!(problems[1].1.contains("at most"), "{}", problems[1].1);
    }
}
