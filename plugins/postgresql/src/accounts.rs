//! PostgreSQL accounts: databases, login roles with access to databases, and root (the
//! `postgres` superuser given a password, so it can log in over TCP).
//!
//! A database Drover creates is closed to PUBLIC: only users granted access may connect, and a
//! user with access may create objects in its `public` schema.

use drover_driver_sdk::accounts::{Credentials, UserUpdate};
use drover_driver_sdk::prelude::*;
use drover_driver_sdk::secrets;

use crate::replication::REPLICATOR;
use crate::sql::{self, ident, literal};

/// Databases users may not create, drop or name.
const RESERVED_DATABASES: &[&str] = &["postgres", "template0", "template1"];
/// Roles users may not create, drop or name (and every `pg_` role): the superuser, the
/// accounts the driver makes for itself, and `public`. Never listed, shown or changed.
const RESERVED_ROLES: &[&str] = &["postgres", REPLICATOR, "drover", "public"];
/// Character sets (PostgreSQL encodings) a database may use.
const ENCODINGS: &[&str] = &[
    "UTF8",
    "LATIN1",
    "LATIN2",
    "LATIN9",
    "WIN1252",
    "SQL_ASCII",
    "EUC_JP",
    "EUC_KR",
    "GB18030",
];

/// PostgreSQL identifiers: 1 to 63 bytes; Drover also keeps them to letters, digits, `_`, `-`
/// and `$`, starting with a letter or `_`, so they read the same quoted or not in any client.
fn name_problem(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-$".contains(c));
    (!ok).then(|| format!("{name:?} must be 1 to 63 letters, digits, '_', '-' or '$', starting with a letter or '_'"))
}

/// `accounts.validate-databases`: names, encodings and collations; defaults filled in.
pub fn validate_databases(databases: Vec<Database>) -> DriverResult<Vec<Database>> {
    let mut problems = Problems::new();
    let mut result = Vec::with_capacity(databases.len());
    for (index, database) in databases.into_iter().enumerate() {
        if let Some(problem) = name_problem(&database.name) {
            problems.push(
                format!("databases[{index}].name"),
                format!("database name {problem}"),
            );
        } else if RESERVED_DATABASES.contains(&database.name.to_ascii_lowercase().as_str()) {
            problems.push(
                format!("databases[{index}].name"),
                format!("database name {:?} is reserved", database.name),
            );
        }
        if result.iter().any(|d: &Database| d.name == database.name) {
            problems.push(
                format!("databases[{index}].name"),
                format!("database {:?} is given more than once", database.name),
            );
        }
        let encoding = database
            .character_set
            .clone()
            .unwrap_or_else(|| "UTF8".into())
            .to_ascii_uppercase()
            .replace('-', "");
        if !ENCODINGS.contains(&encoding.as_str()) {
            problems.push(
                format!("databases[{index}].character_set"),
                format!("{encoding:?} is not one of {}", ENCODINGS.join(", ")),
            );
        }
        if let Some(collation) = &database.collation
            && !(collation.len() <= 64
                && collation
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.@-".contains(c)))
        {
            problems.push(
                format!("databases[{index}].collate"),
                format!("{collation:?} is not a locale name like C.UTF-8"),
            );
        }
        result.push(Database {
            name: database.name,
            character_set: Some(encoding),
            collation: database.collation,
        });
    }
    problems.into_result(result)
}

/// `accounts.validate-users`: names, passwords, host and database names.
pub fn validate_users(users: Vec<User>) -> DriverResult<Vec<User>> {
    let mut problems = Problems::new();
    for (index, user) in users.iter().enumerate() {
        if let Some(problem) = name_problem(&user.name) {
            problems.push(
                format!("users[{index}].name"),
                format!("user name {problem}"),
            );
        } else if RESERVED_ROLES.contains(&user.name.to_ascii_lowercase().as_str())
            || user.name.to_ascii_lowercase().starts_with("pg_")
        {
            problems.push(
                format!("users[{index}].name"),
                format!("user name {:?} is reserved", user.name),
            );
        }
        if users[..index].iter().any(|other| other.name == user.name) {
            problems.push(
                format!("users[{index}].name"),
                format!("user {:?} is given more than once", user.name),
            );
        }
        if let Some(host) = user.host.as_deref().filter(|h| !h.is_empty() && *h != "%") {
            problems.push(
                format!("users[{index}].host"),
                format!("PostgreSQL users are not limited by host here; {host:?} cannot be used"),
            );
        }
        match &user.password {
            None => problems.push(format!("users[{index}].password"), "a password is required"),
            Some(p) if p.is_empty() || p.len() > 128 || p.chars().any(char::is_control) => problems
                .push(
                    format!("users[{index}].password"),
                    "the password must be 1 to 128 characters without control characters",
                ),
            Some(_) => {}
        }
        for (d, database) in user.databases.iter().enumerate() {
            if name_problem(database).is_some() {
                problems.push(
                    format!("users[{index}].databases[{d}]"),
                    format!("{database:?} is not a database name"),
                );
            }
        }
    }
    problems.into_result(
        users
            .into_iter()
            .map(|u| User { host: None, ..u })
            .collect(),
    )
}

fn database_exists(node: &Node, name: &str) -> DriverResult<bool> {
    sql::exists(
        node,
        "postgres",
        &format!(
            "SELECT 1 FROM pg_database WHERE datname = {};",
            literal(name)
        ),
    )
}

fn role_exists(node: &Node, name: &str) -> DriverResult<bool> {
    sql::exists(
        node,
        "postgres",
        &format!("SELECT 1 FROM pg_roles WHERE rolname = {};", literal(name)),
    )
}

/// `accounts.create-databases`: existing databases are left as they are.
pub fn create_databases(node: &Node, databases: Vec<Database>) -> DriverResult<()> {
    refuse_on_replica(node)?;
    for database in validate_databases(databases)? {
        if database_exists(node, &database.name)? {
            continue;
        }
        let mut statement = format!(
            "CREATE DATABASE {} TEMPLATE template0 ENCODING {}",
            ident(&database.name),
            literal(database.character_set.as_deref().unwrap_or("UTF8"))
        );
        if let Some(collation) = &database.collation {
            statement.push_str(&format!(" LC_COLLATE {0} LC_CTYPE {0}", literal(collation)));
        }
        statement.push(';');
        unless_created_meanwhile(sql::run(node, "postgres", &statement), || {
            database_exists(node, &database.name)
        })?;
        sql::run(
            node,
            "postgres",
            &format!(
                "REVOKE ALL ON DATABASE {} FROM PUBLIC;",
                ident(&database.name)
            ),
        )?;
    }
    Ok(())
}

/// A create that failed because the object appeared after it was looked for counts as done:
/// a statement a killed host had sent still runs in the server (killing its client does not
/// stop it) and commits while the retried step creates the same object.
fn unless_created_meanwhile<T>(
    created: DriverResult<T>,
    exists: impl FnOnce() -> DriverResult<bool>,
) -> DriverResult<()> {
    match created {
        Ok(_) => Ok(()),
        Err(error) => match exists() {
            Ok(true) => Ok(()),
            _ => Err(error),
        },
    }
}

/// `accounts.list-databases`.
pub fn list_databases(node: &Node) -> DriverResult<Vec<Database>> {
    let rows = sql::run(
        node,
        "postgres",
        "SELECT datname, pg_encoding_to_char(encoding), datcollate FROM pg_database \
         WHERE NOT datistemplate AND datname <> 'postgres' ORDER BY datname;",
    )?;
    Ok(rows
        .into_iter()
        .map(|row| Database {
            name: row[0].clone(),
            character_set: row.get(1).cloned(),
            collation: row.get(2).cloned(),
        })
        .collect())
}

/// `accounts.delete-database`.
pub fn delete_database(node: &Node, name: &str) -> DriverResult<()> {
    refuse_on_replica(node)?;
    if RESERVED_DATABASES.contains(&name) || !database_exists(node, name)? {
        return Err(DriverError::not_found(format!(
            "Database {name} does not exist."
        )));
    }
    sql::run(
        node,
        "postgres",
        &format!("DROP DATABASE {} WITH (FORCE);", ident(name)),
    )?;
    Ok(())
}

fn grant(node: &Node, user: &str, database: &str) -> DriverResult<()> {
    if !database_exists(node, database)? {
        return Err(DriverError::not_found(format!(
            "Database {database} does not exist."
        )));
    }
    sql::run(
        node,
        "postgres",
        &format!(
            "GRANT ALL PRIVILEGES ON DATABASE {} TO {};",
            ident(database),
            ident(user)
        ),
    )?;
    sql::run(
        node,
        database,
        &format!("GRANT ALL ON SCHEMA public TO {};", ident(user)),
    )?;
    Ok(())
}

/// What creating a user that already exists means.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// A conflict (`accounts.create-users`): the request would silently keep the old
    /// password. PostgreSQL keeps only a salted hash, so whether the passwords match is not
    /// known without logging in as the user.
    Conflict,
    /// Left as it is, with its access granted (a create's step, which may run again after the
    /// host is restarted and finds the users it made the first time).
    Keep,
}

/// Creates the users, with access to their databases; `existing` says what a user that
/// exists means. Nothing is created unless every user is new.
pub fn create_users(node: &Node, users: Vec<User>, existing: Existing) -> DriverResult<()> {
    refuse_on_replica(node)?;
    let users = validate_users(users)?;
    if existing == Existing::Conflict {
        for user in &users {
            if role_exists(node, &user.name)? {
                return Err(DriverError::conflict(format!(
                    "User {} already exists.",
                    user.name
                )));
            }
        }
    }
    for user in users {
        // Under Conflict every user was just found absent: no second look.
        if existing == Existing::Conflict || !role_exists(node, &user.name)? {
            let password = user.password.as_deref().unwrap_or_default();
            let created = sql::run(
                node,
                "postgres",
                &format!(
                    "CREATE ROLE {} LOGIN PASSWORD {};",
                    ident(&user.name),
                    literal(password)
                ),
            );
            unless_created_meanwhile(created, || role_exists(node, &user.name))?;
        }
        for database in &user.databases {
            grant(node, &user.name, database)?;
        }
    }
    Ok(())
}

/// The databases (other than `postgres`) a role may connect to.
fn access_of(node: &Node, name: &str) -> DriverResult<Vec<String>> {
    let rows = sql::run(
        node,
        "postgres",
        &format!(
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' \
             AND has_database_privilege({}, datname, 'CREATE') ORDER BY datname;",
            literal(name)
        ),
    )?;
    Ok(rows.into_iter().map(|row| row[0].clone()).collect())
}

fn user_rows(node: &Node, only: Option<&str>) -> DriverResult<Vec<String>> {
    let filter = only
        .map(|name| format!(" AND rolname = {}", literal(name)))
        .unwrap_or_default();
    let reserved = RESERVED_ROLES
        .iter()
        .map(|role| literal(role))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sql::run(
        node,
        "postgres",
        &format!(
            "SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolname NOT IN ({reserved}) \
             AND NOT starts_with(rolname, 'pg_'){filter} ORDER BY rolname;"
        ),
    )?;
    Ok(rows.into_iter().map(|row| row[0].clone()).collect())
}

/// `accounts.list-users`.
pub fn list_users(node: &Node) -> DriverResult<Vec<User>> {
    user_rows(node, None)?
        .into_iter()
        .map(|name| {
            Ok(User {
                databases: access_of(node, &name)?,
                name,
                host: None,
                password: None,
            })
        })
        .collect()
}

/// `accounts.get-user`.
pub fn get_user(node: &Node, name: &str) -> DriverResult<User> {
    if user_rows(node, Some(name))?.is_empty() {
        return Err(DriverError::not_found(format!(
            "User {name} does not exist."
        )));
    }
    Ok(User {
        name: name.into(),
        host: None,
        password: None,
        databases: access_of(node, name)?,
    })
}

/// `accounts.delete-user`: what it owns is handed to `postgres` first, so no data is lost.
pub fn delete_user(node: &Node, name: &str) -> DriverResult<()> {
    refuse_on_replica(node)?;
    get_user(node, name)?;
    let databases = sql::run(
        node,
        "postgres",
        "SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname;",
    )?;
    for database in databases {
        sql::run(
            node,
            &database[0],
            &format!(
                "REASSIGN OWNED BY {0} TO postgres;\nDROP OWNED BY {0};",
                ident(name)
            ),
        )?;
    }
    sql::run(node, "postgres", &format!("DROP ROLE {};", ident(name)))?;
    Ok(())
}

/// `accounts.update-user`: rename and new password.
pub fn update_user(node: &Node, name: &str, update: UserUpdate) -> DriverResult<()> {
    refuse_on_replica(node)?;
    get_user(node, name)?;
    if update
        .host
        .as_deref()
        .is_some_and(|h| !h.is_empty() && h != "%")
    {
        return Err(DriverError::invalid(
            "user.host",
            "PostgreSQL users are not limited by host here",
        ));
    }
    let mut current = name.to_string();
    if let Some(new_name) = update.name.filter(|n| n != name) {
        let check = User {
            name: new_name.clone(),
            host: None,
            password: Some("x".into()),
            databases: vec![],
        };
        validate_users(vec![check]).map_err(|_| {
            DriverError::invalid(
                "user.name",
                format!("user name {new_name:?} is not allowed"),
            )
        })?;
        if role_exists(node, &new_name)? {
            return Err(DriverError::conflict(format!(
                "User {new_name} already exists."
            )));
        }
        sql::run(
            node,
            "postgres",
            &format!("ALTER ROLE {} RENAME TO {};", ident(name), ident(&new_name)),
        )?;
        current = new_name;
    }
    if let Some(password) = update.password {
        if password.is_empty() || password.len() > 128 || password.chars().any(char::is_control) {
            return Err(DriverError::invalid(
                "user.password",
                "the password must be 1 to 128 characters without control characters",
            ));
        }
        sql::run(
            node,
            "postgres",
            &format!(
                "ALTER ROLE {} PASSWORD {};",
                ident(&current),
                literal(&password)
            ),
        )?;
    }
    Ok(())
}

/// `accounts.grant-access`.
pub fn grant_access(node: &Node, name: &str, databases: Vec<String>) -> DriverResult<()> {
    refuse_on_replica(node)?;
    get_user(node, name)?;
    for database in databases {
        grant(node, name, &database)?;
    }
    Ok(())
}

/// `accounts.revoke-access`.
pub fn revoke_access(node: &Node, name: &str, database: &str) -> DriverResult<()> {
    refuse_on_replica(node)?;
    get_user(node, name)?;
    if !database_exists(node, database)? {
        return Err(DriverError::not_found(format!(
            "Database {database} does not exist."
        )));
    }
    sql::run(
        node,
        database,
        &format!("REVOKE ALL ON SCHEMA public FROM {};", ident(name)),
    )?;
    sql::run(
        node,
        "postgres",
        &format!(
            "REVOKE ALL PRIVILEGES ON DATABASE {} FROM {};",
            ident(database),
            ident(name)
        ),
    )?;
    Ok(())
}

/// `accounts.list-access`.
pub fn list_access(node: &Node, name: &str) -> DriverResult<Vec<String>> {
    get_user(node, name)?;
    access_of(node, name)
}

/// `accounts.enable-root`: `postgres` gets a password and so may log in over TCP.
pub fn enable_root(node: &Node, password: Option<String>) -> DriverResult<Credentials> {
    refuse_on_replica(node)?;
    let password = match password {
        Some(p) if p.is_empty() || p.len() > 128 || p.chars().any(char::is_control) => {
            return Err(DriverError::invalid(
                "password",
                "the password must be 1 to 128 characters without control characters",
            ));
        }
        Some(p) => p,
        None => secrets::password(24)?,
    };
    sql::run(
        node,
        "postgres",
        &format!("ALTER ROLE postgres PASSWORD {};", literal(&password)),
    )?;
    Ok(Credentials {
        name: "postgres".into(),
        password,
    })
}

/// `accounts.disable-root`: `postgres` loses its password; the socket still serves Drover.
pub fn disable_root(node: &Node) -> DriverResult<()> {
    refuse_on_replica(node)?;
    sql::run(node, "postgres", "ALTER ROLE postgres PASSWORD NULL;")?;
    Ok(())
}

/// `accounts.root-enabled`.
pub fn root_enabled(node: &Node) -> DriverResult<bool> {
    sql::exists(
        node,
        "postgres",
        "SELECT 1 FROM pg_authid WHERE rolname = 'postgres' AND rolpassword IS NOT NULL;",
    )
}

/// Roles and databases replicate from the source; a standby cannot change them.
fn refuse_on_replica(node: &Node) -> DriverResult<()> {
    if crate::replication::in_recovery(node)? {
        return Err(DriverError::conflict(
            "This instance is a replica: its databases and users come from its source. Change them on the source.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, password: Option<&str>) -> User {
        User {
            name: name.into(),
            host: None,
            password: password.map(Into::into),
            databases: vec![],
        }
    }

    #[test]
    fn the_accounts_the_driver_makes_for_itself_cannot_be_taken() {
        for name in [REPLICATOR, "postgres"] {
            assert!(
                validate_users(vec![user(name, Some("pw"))]).is_err(),
                "{name}"
            );
        }
    }

    #[test]
    fn names_follow_postgresql_rules_and_reserved_ones_are_refused() {
        assert!(validate_users(vec![user("app_user-1", Some("pw"))]).is_ok());
        let DriverError::Invalid(problems) = validate_users(vec![
            user("1abc", Some("pw")),
            user("pg_monitor", Some("pw")),
            user("ok", None),
        ])
        .unwrap_err() else {
            panic!()
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["users[0].name", "users[1].name", "users[2].password"]
        );
        let long = "a".repeat(64);
        let DriverError::Invalid(problems) = validate_databases(vec![Database {
            name: long,
            character_set: None,
            collation: None,
        }])
        .unwrap_err() else {
            panic!()
        };
        assert_eq!(problems[0].field, "databases[0].name");
    }

    #[test]
    fn databases_get_utf8_unless_another_encoding_is_asked() {
        let databases = validate_databases(vec![Database {
            name: "app".into(),
            character_set: Some("latin-1".into()),
            collation: None,
        }]);
        // The spelling is normalised to PostgreSQL's.
        assert_eq!(
            databases.unwrap()[0].character_set.as_deref(),
            Some("LATIN1")
        );
        let defaulted = validate_databases(vec![Database {
            name: "app".into(),
            character_set: None,
            collation: None,
        }])
        .unwrap();
        assert_eq!(defaulted[0].character_set.as_deref(), Some("UTF8"));
        assert!(
            validate_databases(vec![Database {
                name: "postgres".into(),
                character_set: None,
                collation: None
            }])
            .is_err()
        );
    }
}
