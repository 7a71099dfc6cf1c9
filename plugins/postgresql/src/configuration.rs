//! PostgreSQL configuration: the catalog generated from `pg_settings`, plus the rules across
//! values that would keep the server from starting, and the ones that depend on the flavor.

use drover_driver_sdk::catalog::{Catalog, Checked, Kind, given, memory, plain, show};
use drover_driver_sdk::configuration::{ApplyOutcome, ApplyRequest, Validated, ValidationRequest};
use drover_driver_sdk::prelude::*;

use crate::{catalog_15, lifecycle, sql, values};

/// Lines of postgresql.conf that are not parameters: they would make the server read files the
/// service does not control.
const DIRECTIVES: &[(&str, &str)] = &[
    (
        "include",
        "the service renders the whole configuration file; it includes no other file",
    ),
    (
        "include_dir",
        "the service renders the whole configuration file; it includes no other file",
    ),
    (
        "include_if_exists",
        "the service renders the whole configuration file; it includes no other file",
    ),
];

/// The deepest `max_stack_depth` the server takes, in kB: the stack limit of a node's processes
/// (8 MB, the Linux default, which the nodes inherit) less the 512 kB PostgreSQL keeps in hand.
const MAX_STACK_DEPTH_KB: f64 = 8192.0 - 512.0;
/// The most server processes PostgreSQL can count (`MAX_BACKENDS`).
const MAX_BACKENDS: f64 = 262_143.0;
/// The WAL senders the driver configures.
const WAL_SENDERS: f64 = 10.0;

/// The catalog of a served PostgreSQL version.
pub fn catalog(version: &str) -> DriverResult<&'static Catalog> {
    match version {
        "15" => Ok(&catalog_15::CATALOG),
        other => Err(DriverError::not_found(format!(
            "the PostgreSQL driver does not serve version {other}"
        ))),
    }
}

/// `configuration.validate`: every problem with every value, or the values to store.
pub fn validate(request: &ValidationRequest) -> DriverResult<Validated> {
    let catalog = catalog(&request.datastore_version)?;
    let mut problems = Problems::new();
    let settings: Vec<Setting> = request
        .settings
        .iter()
        .map(|setting| boolean_enumeration(catalog, setting))
        .filter(|setting| {
            let directive = DIRECTIVES
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(setting.name.trim()));
            if let Some((name, reason)) = directive {
                problems.push(
                    setting.name.as_str(),
                    format!("{name} cannot be set in a configuration group: {reason}"),
                );
            }
            directive.is_none()
        })
        .collect();
    let checked = catalog.check(&settings, &mut problems);
    for item in &checked {
        if let Err(message) = check_value(item) {
            problems.push(item.param.name, format!("{}: {message}", item.param.name));
        }
    }
    check_across(catalog, &checked, &mut problems);
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

/// A value of an enumeration that has `on` and `off` among its values, in their spelling when it
/// is one of the boolean spellings the server also takes for them (`synchronous_commit = false`,
/// `wal_compression = 1`: guc.c lists `true`, `false`, `yes`, `no`, `1` and `0` as hidden
/// values of each such enumeration, in any case). Other values are left to the catalog.
fn boolean_enumeration(catalog: &Catalog, setting: &Setting) -> Setting {
    let takes_booleans = catalog.find(&setting.name).is_some_and(|param| {
        param.kind == Kind::Enumeration
            && param.allowed.contains(&"on")
            && param.allowed.contains(&"off")
    });
    let flag = match &setting.value {
        Value::Boolean(flag) => Some(*flag),
        Value::Integer(1) => Some(true),
        Value::Integer(0) => Some(false),
        Value::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    };
    match flag {
        Some(flag) if takes_booleans => Setting {
            name: setting.name.clone(),
            value: Value::Text(if flag { "on" } else { "off" }.into()),
        },
        _ => setting.clone(),
    }
}

/// `configuration.apply`: the host has rewritten postgresql.conf with the new values. Before
/// anything changes, the running server judges them: each new value a session can set is set
/// in a transaction that is rolled back (the checks that need the server's catalogs, its time
/// zones and locales run only there: `postgres -C` reads `default_tablespace = 'nosuch'`
/// without complaint, and a reload reports no more than "setting could not be applied"); then
/// the server's own parser reads the whole file as it would at its next start (`postgres -C`),
/// so a value it refuses never stops the node later. Then the server reloads, and values that
/// went away return to their defaults. Should the reloaded server still report a value of the
/// group it could not use (`pg_file_settings`), the previous file is put back and reloaded, and
/// the apply fails with the server's reason. A refusal names the value and gives the server's
/// own words.
pub fn apply(node: &Node, request: &ApplyRequest) -> DriverResult<ApplyOutcome> {
    let catalog = catalog(&request.context.datastore_version)?;
    let changes = catalog.changes(&request.previous, &request.context.settings);
    let new_values: Vec<(&str, &Value)> = changes
        .iter()
        .filter_map(|change| change.after.map(|value| (change.name, value)))
        .collect();
    check_live(node, &new_values)?;
    check_file(node, &request.context)?;
    reload(node)?;
    if let Some((name, error)) = refused_after_reload(node, &request.context.settings)? {
        let previous = NodeContext {
            settings: request.previous.clone(),
            ..request.context.clone()
        };
        node.write_text("postgresql.conf", &lifecycle::render_conf(&previous), 0o600)?;
        reload(node)?;
        let setting = request
            .context
            .settings
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(&name));
        // "setting could not be applied" is all pg_file_settings says; a session says why,
        // where one can set the value.
        if let Some(setting) = setting {
            check_live(node, &[(setting.name.as_str(), &setting.value)])?;
        }
        let shown = setting
            .map(|s| format!(" = {}", show(&s.value)))
            .unwrap_or_default();
        return Err(DriverError::failed(format!(
            "the server refused {name}{shown}: {error} (pg_file_settings; the server's log says why)"
        )));
    }
    Ok(ApplyOutcome {
        applied: changes
            .iter()
            .filter(|c| c.dynamic)
            .map(|c| c.name.to_string())
            .collect(),
        restart_required: changes
            .iter()
            .filter(|c| !c.dynamic)
            .map(|c| c.name.to_string())
            .collect(),
    })
}

/// Has the running server judge values the way a session takes them: those of parameters a
/// session may set (`user` and `superuser` contexts; the driver's session is a superuser's)
/// are set with `SET LOCAL` in one transaction, which is rolled back. Fails with the server's
/// words for the first it refuses.
fn check_live(node: &Node, values: &[(&str, &Value)]) -> DriverResult<()> {
    if values.is_empty() {
        return Ok(());
    }
    let names = values
        .iter()
        .map(|(name, _)| sql::literal(&name.to_ascii_lowercase()))
        .collect::<Vec<_>>()
        .join(", ");
    let settable: Vec<String> = sql::run(
        node,
        "postgres",
        &format!(
            "SELECT lower(name) FROM pg_settings \
             WHERE context IN ('user', 'superuser') AND lower(name) IN ({names});"
        ),
    )?
    .into_iter()
    .filter_map(|row| row.into_iter().next())
    .collect();
    let values: Vec<&(&str, &Value)> = values
        .iter()
        .filter(|(name, _)| {
            // What the driver's sessions pin is not set in one (a small
            // idle_in_transaction_session_timeout would end it between two statements,
            // client_encoding change how it reads the rest, log_statement log it); those are
            // numbers and names validation and `postgres -C` judge fully.
            settable.contains(&name.to_ascii_lowercase())
                && !sql::SESSION
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name))
        })
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    // One statement a line (values have no line breaks): psql names the line that failed.
    let mut script = String::from("BEGIN;\n");
    for (name, value) in &values {
        script.push_str(&format!(
            "SET LOCAL {} = {};\n",
            sql::ident(name),
            sql::literal(&plain(value))
        ));
    }
    script.push_str("ROLLBACK;\n");
    match sql::run(node, "postgres", &script) {
        Ok(_) => Ok(()),
        Err(DriverError::Failed(message)) => {
            let (line, reason) = session_refusal(&message);
            let refused = line
                .and_then(|line| line.checked_sub(2))
                .and_then(|i| values.get(i));
            Err(DriverError::failed(match refused {
                Some((name, value)) => {
                    format!("the server refused {name} = {}: {reason}", show(value))
                }
                None => format!("the server refused the configuration: {reason}"),
            }))
        }
        Err(other) => Err(other),
    }
}

/// What psql reported for a failed script, as the driver's SQL helper passes it on
/// (`PostgreSQL: 3: ERROR:  invalid value …; DETAIL:  …`): the line of the statement, and the
/// server's words without their labels.
pub fn session_refusal(message: &str) -> (Option<usize>, String) {
    let message = message.strip_prefix("PostgreSQL: ").unwrap_or(message);
    let (line, rest) = match message.split_once(": ") {
        Some((number, rest)) if number.parse::<usize>().is_ok() => (number.parse().ok(), rest),
        _ => (None, message),
    };
    let words = rest
        .split("; ")
        .map(|part| {
            ["ERROR:", "DETAIL:", "HINT:", "FATAL:"]
                .iter()
                .find_map(|label| part.strip_prefix(label))
                .unwrap_or(part)
                .trim()
        })
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    (line, words)
}

/// Has the server's parser read the node's configuration as a starting server would: every
/// value through its check, restart-only ones included. Fails naming the value it refused.
pub fn check_file(node: &Node, context: &NodeContext) -> DriverResult<()> {
    let dir = &context.directory;
    let data = format!("{dir}/data");
    let config = format!("config_file={dir}/postgresql.conf");
    let output = node.run(
        &["postgres", "-D", &data, "-c", &config, "-C", "port"],
        None,
    )?;
    if output.status == 0 {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(DriverError::failed(refusal(&stderr, &context.settings)))
}

/// What the server said about a configuration file it refused, naming the group's value.
pub fn refusal(stderr: &str, settings: &[Setting]) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter_map(|line| {
            ["LOG:", "DETAIL:", "HINT:", "ERROR:", "FATAL:"]
                .iter()
                .find_map(|level| line.split_once(level).map(|(_, rest)| rest.trim()))
        })
        .filter(|text| !text.is_empty() && !text.starts_with("configuration file"))
        .collect();
    let named = lines.iter().find_map(|line| {
        let (_, rest) = line.split_once("parameter \"")?;
        let (name, _) = rest.split_once('"')?;
        Some(name.to_string())
    });
    let setting = named
        .as_deref()
        .and_then(|name| settings.iter().find(|s| s.name.eq_ignore_ascii_case(name)));
    let detail = if lines.is_empty() {
        stderr.trim().to_string()
    } else {
        lines.join("; ")
    };
    match (setting, named) {
        (Some(setting), _) => format!(
            "the server refused {} = {}: {detail}",
            setting.name,
            show(&setting.value)
        ),
        (None, Some(name)) => format!("the server refused {name}: {detail}"),
        (None, None) => format!("the server refused the configuration: {detail}"),
    }
}

/// Reloads the configuration and waits until the postmaster has read it: new sessions see the
/// new values once its load time has moved.
fn reload(node: &Node) -> DriverResult<()> {
    let loaded = |node: &Node| -> DriverResult<String> {
        Ok(sql::run(node, "postgres", "SELECT pg_conf_load_time();")?
            .first()
            .and_then(|row| row.first().cloned())
            .unwrap_or_default())
    };
    let before = loaded(node)?;
    sql::run(node, "postgres", "SELECT pg_reload_conf();")?;
    for _ in 0..100 {
        if loaded(node)? != before {
            break;
        }
    }
    Ok(())
}

/// A value of the group the reloaded server reports it could not use, with its error: a
/// restart-only value that is waiting for the restart is fine (`pending_restart`), anything
/// else the reload skipped is not.
fn refused_after_reload(
    node: &Node,
    settings: &[Setting],
) -> DriverResult<Option<(String, String)>> {
    if settings.is_empty() {
        return Ok(None);
    }
    let names = settings
        .iter()
        .map(|s| sql::literal(&s.name.to_ascii_lowercase()))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sql::run(
        node,
        "postgres",
        &format!(
            "SELECT f.name, f.error FROM pg_file_settings f \
             LEFT JOIN pg_settings s ON lower(s.name) = lower(f.name) \
             WHERE f.error IS NOT NULL AND lower(f.name) IN ({names}) \
             AND NOT coalesce(s.context = 'postmaster' AND s.pending_restart, false) \
             ORDER BY f.seqno;"
        ),
    )?;
    Ok(rows.into_iter().next().map(|row| {
        (
            row.first().cloned().unwrap_or_default(),
            row.get(1).cloned().unwrap_or_default(),
        )
    }))
}

/// The checks of one value beyond its type and range: free text in the syntax the server
/// reads, and values the server takes but cannot start with.
fn check_value(item: &Checked) -> Result<(), String> {
    let name = item.param.name;
    if item.param.kind == Kind::Text {
        return values::check(name, &plain(&item.value)).unwrap_or(Ok(()));
    }
    match name {
        "huge_pages" if plain(&item.value) == "on" => Err(
            "value \"on\" stops the server from starting on a machine without huge pages reserved for it; use try".into(),
        ),
        "max_stack_depth" if item.number.is_some_and(|kb| kb > MAX_STACK_DEPTH_KB) => Err(format!(
            "value {} is more than the {MAX_STACK_DEPTH_KB} kB the nodes' 8 MB stack limit allows",
            show(&item.value)
        )),
        _ => Ok(()),
    }
}

/// Values the server refuses together at start. (min_wal_size above max_wal_size is not one:
/// the server starts and keeps that much WAL recycled.)
fn check_across(catalog: &Catalog, checked: &[Checked], problems: &mut Problems) {
    // Checked by the postmaster after it reads its file, so `postgres -C` does not see it.
    catalog.check_order(
        checked,
        ("superuser_reserved_connections", "max_connections"),
        true,
        "the server does not start otherwise",
        problems,
    );
    // The postmaster refuses to start with more server processes than it can count.
    let processes = [
        "max_connections",
        "autovacuum_max_workers",
        "max_worker_processes",
    ];
    if let Some(blamed) = processes.iter().find_map(|name| given(checked, name)) {
        let total: f64 = processes
            .iter()
            .filter_map(|name| catalog.effective(checked, name))
            .sum::<f64>()
            + WAL_SENDERS
            + 1.0;
        if total > MAX_BACKENDS {
            problems.push(
                blamed.param.name,
                format!(
                    "{}: max_connections, autovacuum_max_workers and max_worker_processes add up to more than the {MAX_BACKENDS} server processes PostgreSQL can run",
                    blamed.param.name
                ),
            );
        }
    }
}

/// PostgreSQL takes about 2 MiB per allowed connection, which must fit beside
/// shared_buffers in the flavor's memory.
const MIB_PER_CONNECTION: f64 = 2.0;

/// Rules that depend on the memory the node will have.
fn check_flavor(checked: &[Checked], flavor: &Flavor, problems: &mut Problems) {
    let pages_to_mb = |pages: f64| pages * 8.0 / 1024.0;
    if let Some(item) = given(checked, "shared_buffers")
        && let Some(pages) = item.number
    {
        memory::at_most_share(problems, item, pages_to_mb(pages), flavor, 0.8);
    }
    if let Some(item) = given(checked, "max_connections") {
        // The group's shared_buffers, or the driver's for the flavor.
        let buffers_mb = given(checked, "shared_buffers")
            .and_then(|item| item.number)
            .map(pages_to_mb)
            .or_else(|| {
                lifecycle::memory(flavor.ram_mb)
                    .into_iter()
                    .find(|(name, _)| *name == "shared_buffers")
                    .and_then(|(_, value)| value.trim_end_matches("MB").parse().ok())
            })
            .unwrap_or(0.0);
        memory::connections_fit(
            problems,
            item,
            flavor,
            ("shared_buffers", buffers_mb),
            MIB_PER_CONNECTION,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(settings: Vec<(&str, Value)>) -> ValidationRequest {
        drover_driver_sdk::catalog::validation_request("15", settings, Some(512))
    }

    fn fields(error: DriverError) -> Vec<(String, String)> {
        assert!(matches!(error, DriverError::Invalid(_)), "{error:?}");
        error.field_messages()
    }

    #[test]
    fn units_convert_and_restart_only_values_are_flagged() {
        let validated = validate(&request(vec![
            ("shared_buffers", Value::Text("128MB".into())),
            ("work_mem", Value::Text("8MB".into())),
            ("statement_timeout", Value::Text("30s".into())),
            ("enable_seqscan", Value::Boolean(false)),
            ("log_min_messages", Value::Text("WARNING".into())),
        ]))
        .unwrap();
        assert!(validated.settings.contains(&Setting {
            name: "enable_seqscan".into(),
            value: Value::Text("off".into())
        }));
        assert!(validated.settings.contains(&Setting {
            name: "log_min_messages".into(),
            value: Value::Text("warning".into())
        }));
        assert_eq!(
            validated.restart_required,
            vec!["shared_buffers".to_string()]
        );
    }

    /// The spellings PostgreSQL 15.20 takes (read back with SHOW), stored as it shows them.
    #[test]
    fn values_are_read_and_normalised_as_the_server_does() {
        let mut big = request(vec![
            ("shared_buffers", Value::Text("1.5GB".into())),
            ("work_mem", Value::Text("1.5 MB".into())),
            ("statement_timeout", Value::Text("1.5s".into())),
            ("lock_timeout", Value::Float(1.5)),
            ("autovacuum_vacuum_cost_delay", Value::Text("20ms".into())),
            ("vacuum_cost_delay", Value::Text("500us".into())),
            ("synchronous_commit", Value::Boolean(false)),
            ("wal_compression", Value::Integer(1)),
            ("constraint_exclusion", Value::Text("Yes".into())),
            ("huge_pages", Value::Text("FALSE".into())),
            ("min_wal_size", Value::Text("2GB".into())),
            ("max_connections", Value::Text("0x40".into())),
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
        let text = |t: &str| Value::Text(t.into());
        assert_eq!(stored("shared_buffers"), text("1536MB"));
        assert_eq!(stored("work_mem"), text("1536kB"));
        assert_eq!(stored("statement_timeout"), text("1500ms"));
        assert_eq!(stored("lock_timeout"), text("2ms"));
        assert_eq!(stored("autovacuum_vacuum_cost_delay"), Value::Float(20.0));
        assert_eq!(stored("vacuum_cost_delay"), Value::Float(0.5));
        assert_eq!(stored("synchronous_commit"), text("off"));
        assert_eq!(stored("wal_compression"), text("on"));
        assert_eq!(stored("constraint_exclusion"), text("on"));
        assert_eq!(stored("huge_pages"), text("off"));
        // The server starts with min_wal_size above max_wal_size (1GB by default).
        assert_eq!(stored("min_wal_size"), text("2GB"));
        assert_eq!(stored("max_connections"), Value::Integer(64));

        let problems = fields(
            validate(&request(vec![
                ("shared_buffers", Value::Text("100 8kB".into())),
                ("work_mem", Value::Text("4 mb".into())),
                ("vacuum_cost_delay", Value::Text("1s".into())),
                ("seq_page_cost", Value::Text("1ms".into())),
                ("synchronous_commit", Value::Text("tr".into())),
                ("enable_seqscan", Value::Text("maybe".into())),
                ("temp_buffers", Value::Text("8kB".into())),
            ]))
            .unwrap_err(),
        );
        let named: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            named,
            [
                "shared_buffers",
                "work_mem",
                "vacuum_cost_delay",
                "seq_page_cost",
                "synchronous_commit",
                "enable_seqscan",
                "temp_buffers"
            ],
            "{problems:?}"
        );
        for (field, message) in &problems {
            assert!(message.starts_with(&format!("{field}: ")), "{message}");
        }
        assert!(
            problems[0].1.contains("unknown unit \"8kB\""),
            "{}",
            problems[0].1
        );
        assert!(
            problems[2]
                .1
                .contains("greater than the maximum allowed: 100 ms"),
            "{}",
            problems[2].1
        );
        assert!(problems[3].1.contains("takes no unit"), "{}", problems[3].1);
        // 8kB is one page, less than temp_buffers' minimum of 100.
        assert!(
            problems[6].1.contains("less than the minimum"),
            "{}",
            problems[6].1
        );
    }

    #[test]
    fn every_bad_value_is_named_with_its_rule() {
        let problems = fields(
            validate(&request(vec![
                ("work_mem", Value::Text("8mb".into())),
                ("max_connections", Value::Text("lots".into())),
                ("statement_timeout", Value::Integer(-5)),
                ("wal_compression", Value::Text("maybe".into())),
                ("port", Value::Integer(6000)),
                ("no_such_setting", Value::Integer(1)),
                ("superuser_reserved_connections", Value::Integer(100)),
            ]))
            .unwrap_err(),
        );
        let named: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            named,
            [
                "work_mem",
                "max_connections",
                "statement_timeout",
                "wal_compression",
                "port",
                "no_such_setting",
                "superuser_reserved_connections"
            ],
            "{problems:?}"
        );
        // Units are case-sensitive, as in the server.
        assert!(
            problems[0].1.contains("unknown unit \"mb\""),
            "{}",
            problems[0].1
        );
        assert!(
            problems[2].1.contains("less than the minimum"),
            "{}",
            problems[2].1
        );
        assert!(
            problems[4].1.contains("allocates the node's port"),
            "{}",
            problems[4].1
        );
        // 100 is max_connections' default: the postmaster refuses to start.
        assert!(
            problems[6].1.contains("max_connections") && problems[6].1.contains("does not start"),
            "{}",
            problems[6].1
        );
    }

    #[test]
    fn values_the_server_would_refuse_in_its_file_are_refused() {
        let problems = fields(
            validate(&request(vec![
                ("search_path", Value::Text(r#""$user, public"#.into())),
                ("application_name", Value::Text("two\nlines".into())),
                ("TimeZone", Value::Text("Nowhere/City".into())),
                ("DateStyle", Value::Text("ISO, Foo".into())),
                ("lc_messages", Value::Text("xx_XX".into())),
                ("huge_pages", Value::Text("on".into())),
                ("max_stack_depth", Value::Text("8MB".into())),
                ("include", Value::Text("/etc/passwd".into())),
                ("hba_file", Value::Text("/tmp/hba".into())),
                ("db_user_namespace", Value::Boolean(true)),
                ("extension_destdir", Value::Text("/tmp".into())),
                ("shared_preload_libraries", Value::Text("x".into())),
                ("autovacuum_max_workers", Value::Integer(262_143)),
            ]))
            .unwrap_err(),
        );
        let named: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            named,
            [
                "include",
                "application_name",
                "hba_file",
                "db_user_namespace",
                "extension_destdir",
                "shared_preload_libraries",
                "search_path",
                "TimeZone",
                "DateStyle",
                "lc_messages",
                "huge_pages",
                "max_stack_depth",
                "autovacuum_max_workers",
            ],
            "{problems:?}"
        );
        for (field, message) in &problems {
            assert!(message.contains(field.as_str()), "{field}: {message}");
        }
        assert!(
            problems[0].1.contains("includes no other file"),
            "{}",
            problems[0].1
        );
        assert!(problems[1].1.contains("line breaks"), "{}", problems[1].1);
        assert!(problems[6].1.contains("double quote"), "{}", problems[6].1);
    }

    #[test]
    fn values_the_server_reads_back_are_accepted() {
        let validated = validate(&request(vec![
            (
                "search_path",
                Value::Text(r#""it's", public, "$user""#.into()),
            ),
            ("TimeZone", Value::Text("Europe/Paris".into())),
            ("log_timezone", Value::Text("UTC".into())),
            ("DateStyle", Value::Text("SQL, DMY".into())),
            (
                "application_name",
                Value::Text(r"back\slash 'quoted'".into()),
            ),
            ("lc_monetary", Value::Text("C.UTF-8".into())),
            ("huge_pages", Value::Text("try".into())),
            ("max_stack_depth", Value::Text("4MB".into())),
            ("standard_conforming_strings", Value::Boolean(false)),
        ]))
        .unwrap();
        assert_eq!(validated.settings.len(), 9);
    }

    #[test]
    fn a_refused_file_names_the_value() {
        let settings = vec![Setting {
            name: "search_path".into(),
            value: Value::Text("\"abc".into()),
        }];
        let stderr = "2026-01-01 00:00:00.000 UTC [1] LOG:  invalid value for parameter \"search_path\": \"\"abc\"\n\
                      2026-01-01 00:00:00.000 UTC [1] DETAIL:  List syntax is invalid.\n\
                      2026-01-01 00:00:00.000 UTC [1] FATAL:  configuration file \"/n/postgresql.conf\" contains errors\n";
        let message = refusal(stderr, &settings);
        assert!(
            message.starts_with("the server refused search_path = \"\"abc\": invalid value"),
            "{message}"
        );
        assert!(message.contains("List syntax is invalid."), "{message}");
        assert!(!message.contains("contains errors"), "{message}");
    }

    #[test]
    fn a_value_a_session_refused_is_named_with_the_servers_words() {
        let message = "PostgreSQL: 3: ERROR:  invalid value for parameter \"default_tablespace\": \"nosuch\"; DETAIL:  Tablespace \"nosuch\" does not exist.";
        let (line, reason) = session_refusal(message);
        assert_eq!(line, Some(3));
        assert_eq!(
            reason,
            "invalid value for parameter \"default_tablespace\": \"nosuch\"; Tablespace \"nosuch\" does not exist."
        );
        let (line, reason) = session_refusal("PostgreSQL: could not connect");
        assert_eq!((line, reason.as_str()), (None, "could not connect"));
    }

    #[test]
    fn memory_rules_follow_the_flavor() {
        let problems = fields(
            validate(&request(vec![
                ("shared_buffers", Value::Text("1GB".into())),
                ("max_connections", Value::Integer(1000)),
            ]))
            .unwrap_err(),
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].1.contains("flavor small"), "{}", problems[0].1);
        assert!(problems[1].1.contains("at most"), "{}", problems[1].1);
        // The server's default always fits, even beside the driver's 64MB on 256 MB.
        let mut tiny = request(vec![("max_connections", Value::Integer(100))]);
        tiny.flavor.as_mut().unwrap().ram_mb = 256;
        assert!(validate(&tiny).is_ok());
        // A flavor with room for them is fine.
        let mut big = request(vec![("max_connections", Value::Integer(200))]);
        big.flavor.as_mut().unwrap().ram_mb = 2048;
        assert!(validate(&big).is_ok());
    }
}
