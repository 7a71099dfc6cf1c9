//! PostgreSQL configuration: the catalog generated from `pg_settings`, plus the rules across
//! values that would keep the server from starting, and the ones that depend on the flavor.

use drover_driver_sdk::catalog::{Catalog, Checked, given, memory};
use drover_driver_sdk::configuration::{ApplyOutcome, ApplyRequest, Validated, ValidationRequest};
use drover_driver_sdk::prelude::*;

use crate::{catalog_15, sql};

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
    let checked = catalog.check(&request.settings, &mut problems);
    check_across(catalog, &checked, &mut problems);
    if let Some(flavor) = &request.flavor {
        check_flavor(catalog, &checked, flavor, &mut problems);
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

/// `configuration.apply`: the host has rewritten postgresql.conf with the new values. The
/// server is first asked what it makes of the file (`pg_file_settings`), so a value it refuses
/// changes nothing; then it reloads, and values that went away return to their defaults.
pub fn apply(node: &Node, request: &ApplyRequest) -> DriverResult<ApplyOutcome> {
    let catalog = catalog(&request.context.datastore_version)?;
    let changes = catalog.changes(&request.previous, &request.context.settings);
    // "could not be applied" is how the file view marks a restart-only value that changed.
    let refused = sql::run(
        node,
        "postgres",
        "SELECT name, error FROM pg_file_settings \
         WHERE error IS NOT NULL AND error <> 'setting could not be applied' ORDER BY seqno;",
    )?;
    if let Some(row) = refused.first() {
        return Err(DriverError::failed(format!(
            "the server refused {}: {}",
            row.first().map(String::as_str).unwrap_or("a value"),
            row.get(1).map(String::as_str).unwrap_or("")
        )));
    }
    let loaded = |node: &Node| -> DriverResult<String> {
        Ok(sql::run(node, "postgres", "SELECT pg_conf_load_time();")?
            .first()
            .and_then(|row| row.first().cloned())
            .unwrap_or_default())
    };
    let before = loaded(node)?;
    sql::run(node, "postgres", "SELECT pg_reload_conf();")?;
    // The postmaster rereads the file asynchronously; new sessions see the new values once
    // its load time has moved.
    for _ in 0..100 {
        if loaded(node)? != before {
            break;
        }
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

/// Pairs the server refuses at start.
fn check_across(catalog: &Catalog, checked: &[Checked], problems: &mut Problems) {
    catalog.check_order(checked, ("min_wal_size", "max_wal_size"), false, problems);
    catalog.check_order(
        checked,
        ("superuser_reserved_connections", "max_connections"),
        true,
        problems,
    );
}

/// PostgreSQL takes about 2 MiB per allowed connection, which must fit beside
/// shared_buffers in the flavor's memory.
const MIB_PER_CONNECTION: f64 = 2.0;

/// Rules that depend on the memory the node will have.
fn check_flavor(catalog: &Catalog, checked: &[Checked], flavor: &Flavor, problems: &mut Problems) {
    let pages_to_mb = |pages: f64| pages * 8.0 / 1024.0;
    if let Some(item) = given(checked, "shared_buffers")
        && let Some(pages) = item.number
    {
        memory::at_most_share(problems, item, pages_to_mb(pages), flavor, 0.8);
    }
    if let Some(item) = given(checked, "max_connections") {
        let buffers = catalog
            .effective(checked, "shared_buffers")
            .unwrap_or(16384.0);
        memory::connections_fit(
            problems,
            item,
            flavor,
            ("shared_buffers", pages_to_mb(buffers)),
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
                ("min_wal_size", Value::Text("2GB".into())),
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
                "min_wal_size"
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
        // 2GB is over max_wal_size's default of 1GB.
        assert!(problems[6].1.contains("max_wal_size"), "{}", problems[6].1);
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
        // A flavor with room for them is fine.
        let mut big = request(vec![("max_connections", Value::Integer(200))]);
        big.flavor.as_mut().unwrap().ram_mb = 2048;
        assert!(validate(&big).is_ok());
    }
}
