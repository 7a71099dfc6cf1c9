//! MariaDB accounts: databases, users (`'name'@'host'`, host `%` by default) with access to
//! databases, and root (`'root'@'%'` with a password; Drover's own `drover@localhost` and
//! the socket-only `root@localhost` are never shown or touched).

use drover_driver_sdk::accounts::{Credentials, UserUpdate};
use drover_driver_sdk::prelude::*;
use drover_driver_sdk::secrets;

use crate::lifecycle::ADMIN;
use crate::replication::REPLICATOR;
use crate::sql::{self, account, ident, literal};

/// Schemas users may not create, drop or see as their own.
const RESERVED_DATABASES: &[&str] = &[
    "mysql",
    "information_schema",
    "performance_schema",
    "sys",
    "lost+found",
];
/// Account names users may not take: root, the accounts the driver makes for itself and the
/// server's own. Never listed, shown or changed.
const RESERVED_USERS: &[&str] = &["root", ADMIN, REPLICATOR, "mysql", "mariadb.sys", "public"];

fn database_problem(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-$".contains(c));
    (!ok)
        .then(|| format!("database name {name:?} must be 1 to 64 letters, digits, '_', '-' or '$'"))
}

fn user_problem(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 80
        && name.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    (!ok).then(|| format!("user name {name:?} must be 1 to 80 letters, digits, '_', '-' or '.', not starting with '-' or '.'"))
}

fn host_problem(host: &str) -> Option<String> {
    let ok = !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".%_-:/".contains(c));
    (!ok).then(|| format!("host {host:?} must be '%', an address, or a pattern such as 10.0.%"))
}

fn password_ok(password: &str) -> bool {
    !password.is_empty() && password.len() <= 128 && !password.chars().any(char::is_control)
}

/// `accounts.validate-databases`: defaults utf8mb4 / utf8mb4_general_ci.
pub fn validate_databases(databases: Vec<Database>) -> DriverResult<Vec<Database>> {
    let mut problems = Problems::new();
    let mut result: Vec<Database> = Vec::with_capacity(databases.len());
    for (index, database) in databases.into_iter().enumerate() {
        if let Some(problem) = database_problem(&database.name) {
            problems.push(format!("databases[{index}].name"), problem);
        } else if RESERVED_DATABASES.contains(&database.name.to_ascii_lowercase().as_str()) {
            problems.push(
                format!("databases[{index}].name"),
                format!("database name {:?} is reserved", database.name),
            );
        }
        if result.iter().any(|d| d.name == database.name) {
            problems.push(
                format!("databases[{index}].name"),
                format!("database {:?} is given more than once", database.name),
            );
        }
        for (field, value) in [
            ("character_set", &database.character_set),
            ("collate", &database.collation),
        ] {
            if let Some(value) = value
                && !(value.len() <= 64
                    && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            {
                problems.push(
                    format!("databases[{index}].{field}"),
                    format!("{value:?} is not a character set or collation name"),
                );
            }
        }
        let character_set = database
            .character_set
            .clone()
            .unwrap_or_else(|| "utf8mb4".into());
        let collation = database
            .collation
            .clone()
            .or_else(|| (character_set == "utf8mb4").then(|| "utf8mb4_general_ci".into()));
        result.push(Database {
            name: database.name,
            character_set: Some(character_set),
            collation,
        });
    }
    problems.into_result(result)
}

/// `accounts.validate-users`: host `%` unless given.
pub fn validate_users(users: Vec<User>) -> DriverResult<Vec<User>> {
    let mut problems = Problems::new();
    let mut result: Vec<User> = Vec::with_capacity(users.len());
    for (index, user) in users.into_iter().enumerate() {
        if let Some(problem) = user_problem(&user.name) {
            problems.push(format!("users[{index}].name"), problem);
        } else if RESERVED_USERS.contains(&user.name.to_ascii_lowercase().as_str()) {
            problems.push(
                format!("users[{index}].name"),
                format!("user name {:?} is reserved", user.name),
            );
        }
        let host = user
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "%".into());
        if let Some(problem) = host_problem(&host) {
            problems.push(format!("users[{index}].host"), problem);
        }
        if result
            .iter()
            .any(|u| u.name == user.name && u.host.as_deref() == Some(host.as_str()))
        {
            problems.push(
                format!("users[{index}].name"),
                format!("user {:?}@{host:?} is given more than once", user.name),
            );
        }
        match &user.password {
            None => problems.push(format!("users[{index}].password"), "a password is required"),
            Some(p) if !password_ok(p) => problems.push(
                format!("users[{index}].password"),
                "the password must be 1 to 128 characters without control characters",
            ),
            Some(_) => {}
        }
        for (d, database) in user.databases.iter().enumerate() {
            if database_problem(database).is_some() {
                problems.push(
                    format!("users[{index}].databases[{d}]"),
                    format!("{database:?} is not a database name"),
                );
            }
        }
        result.push(User {
            host: Some(host),
            ..user
        });
    }
    problems.into_result(result)
}

fn host_of(host: Option<&str>) -> &str {
    host.filter(|h| !h.is_empty()).unwrap_or("%")
}

fn database_exists(node: &Node, name: &str) -> DriverResult<bool> {
    sql::exists(
        node,
        &format!(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = {};",
            literal(name)
        ),
    )
}

fn user_exists(node: &Node, name: &str, host: &str) -> DriverResult<bool> {
    sql::exists(
        node,
        &format!(
            "SELECT 1 FROM mysql.user WHERE User = {} AND Host = {};",
            literal(name),
            literal(host)
        ),
    )
}

/// `accounts.create-databases`.
pub fn create_databases(node: &Node, databases: Vec<Database>) -> DriverResult<()> {
    refuse_on_replica(node)?;
    for database in validate_databases(databases)? {
        let mut statement = format!("CREATE DATABASE IF NOT EXISTS {}", ident(&database.name));
        if let Some(character_set) = &database.character_set {
            statement.push_str(&format!(" CHARACTER SET {character_set}"));
        }
        if let Some(collation) = &database.collation {
            statement.push_str(&format!(" COLLATE {collation}"));
        }
        sql::run(node, &format!("{statement};"))?;
    }
    Ok(())
}

/// `accounts.list-databases`.
pub fn list_databases(node: &Node) -> DriverResult<Vec<Database>> {
    let reserved = RESERVED_DATABASES
        .iter()
        .map(|d| literal(d))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sql::run(
        node,
        &format!(
            "SELECT schema_name, default_character_set_name, default_collation_name FROM information_schema.schemata \
             WHERE schema_name NOT IN ({reserved}) ORDER BY schema_name;"
        ),
    )?;
    Ok(rows
        .into_iter()
        .map(|r| Database {
            name: r[0].clone(),
            character_set: r.get(1).cloned(),
            collation: r.get(2).cloned(),
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
    sql::run(node, &format!("DROP DATABASE {};", ident(name)))?;
    Ok(())
}

fn grant(node: &Node, name: &str, host: &str, database: &str) -> DriverResult<()> {
    if !database_exists(node, database)? {
        return Err(DriverError::not_found(format!(
            "Database {database} does not exist."
        )));
    }
    sql::run(
        node,
        &format!(
            "GRANT ALL PRIVILEGES ON {}.* TO {};",
            ident(database),
            account(name, host)
        ),
    )?;
    Ok(())
}

/// `accounts.create-users`: an identical user is left as it is; one with another password is
/// a conflict.
pub fn create_users(node: &Node, users: Vec<User>) -> DriverResult<()> {
    refuse_on_replica(node)?;
    for user in validate_users(users)? {
        let host = host_of(user.host.as_deref()).to_string();
        let password = user.password.clone().unwrap_or_default();
        if user_exists(node, &user.name, &host)? {
            let same = sql::exists(
                node,
                &format!(
                    "SELECT 1 FROM mysql.user WHERE User = {} AND Host = {} AND authentication_string = PASSWORD({});",
                    literal(&user.name),
                    literal(&host),
                    literal(&password)
                ),
            )?;
            if !same {
                return Err(DriverError::conflict(format!(
                    "User {}@{host} already exists.",
                    user.name
                )));
            }
        } else {
            // IF NOT EXISTS: the same create a killed host had sent may still commit first.
            sql::run(
                node,
                &sql::with_password(
                    &format!("CREATE USER IF NOT EXISTS {}", account(&user.name, &host)),
                    &password,
                    "",
                ),
            )?;
        }
        for database in &user.databases {
            grant(node, &user.name, &host, database)?;
        }
    }
    Ok(())
}

fn access_of(node: &Node, name: &str, host: &str) -> DriverResult<Vec<String>> {
    let rows = sql::run(
        node,
        &format!(
            "SELECT Db FROM mysql.db WHERE User = {} AND Host = {} ORDER BY Db;",
            literal(name),
            literal(host)
        ),
    )?;
    Ok(rows.into_iter().map(|r| r[0].clone()).collect())
}

/// `accounts.list-users`.
pub fn list_users(node: &Node) -> DriverResult<Vec<User>> {
    let reserved = RESERVED_USERS
        .iter()
        .map(|u| literal(u))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sql::run(
        node,
        &format!(
            "SELECT User, Host FROM mysql.user WHERE User <> '' AND User NOT IN ({reserved}) ORDER BY User, Host;"
        ),
    )?;
    rows.into_iter()
        .map(|r| {
            Ok(User {
                databases: access_of(node, &r[0], &r[1])?,
                name: r[0].clone(),
                host: Some(r[1].clone()),
                password: None,
            })
        })
        .collect()
}

/// `accounts.get-user`.
pub fn get_user(node: &Node, name: &str, host: Option<&str>) -> DriverResult<User> {
    let host = host_of(host);
    if RESERVED_USERS.contains(&name) || !user_exists(node, name, host)? {
        return Err(DriverError::not_found(format!(
            "User {name}@{host} does not exist."
        )));
    }
    Ok(User {
        name: name.into(),
        host: Some(host.into()),
        password: None,
        databases: access_of(node, name, host)?,
    })
}

/// `accounts.delete-user`.
pub fn delete_user(node: &Node, name: &str, host: Option<&str>) -> DriverResult<()> {
    refuse_on_replica(node)?;
    let user = get_user(node, name, host)?;
    sql::run(
        node,
        &format!(
            "DROP USER {};",
            account(&user.name, user.host.as_deref().unwrap_or("%"))
        ),
    )?;
    Ok(())
}

/// `accounts.update-user`: rename, new host, new password.
pub fn update_user(
    node: &Node,
    name: &str,
    host: Option<&str>,
    update: UserUpdate,
) -> DriverResult<()> {
    refuse_on_replica(node)?;
    let user = get_user(node, name, host)?;
    let old_host = user.host.unwrap_or_else(|| "%".into());
    let new_name = update.name.unwrap_or_else(|| name.to_string());
    let new_host = update
        .host
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| old_host.clone());
    if new_name != name || new_host != old_host {
        if let Some(problem) = user_problem(&new_name).or_else(|| host_problem(&new_host)) {
            return Err(DriverError::invalid("user", problem));
        }
        if RESERVED_USERS.contains(&new_name.as_str()) {
            return Err(DriverError::invalid(
                "user.name",
                format!("user name {new_name:?} is reserved"),
            ));
        }
        if user_exists(node, &new_name, &new_host)? {
            return Err(DriverError::conflict(format!(
                "User {new_name}@{new_host} already exists."
            )));
        }
        sql::run(
            node,
            &format!(
                "RENAME USER {} TO {};",
                account(name, &old_host),
                account(&new_name, &new_host)
            ),
        )?;
    }
    if let Some(password) = update.password {
        if !password_ok(&password) {
            return Err(DriverError::invalid(
                "user.password",
                "the password must be 1 to 128 characters without control characters",
            ));
        }
        sql::run(
            node,
            &sql::with_password(
                &format!("ALTER USER {}", account(&new_name, &new_host)),
                &password,
                "",
            ),
        )?;
    }
    Ok(())
}

/// `accounts.grant-access`.
pub fn grant_access(
    node: &Node,
    name: &str,
    host: Option<&str>,
    databases: Vec<String>,
) -> DriverResult<()> {
    refuse_on_replica(node)?;
    let user = get_user(node, name, host)?;
    for database in databases {
        grant(node, name, user.host.as_deref().unwrap_or("%"), &database)?;
    }
    Ok(())
}

/// `accounts.revoke-access`.
pub fn revoke_access(
    node: &Node,
    name: &str,
    host: Option<&str>,
    database: &str,
) -> DriverResult<()> {
    refuse_on_replica(node)?;
    let user = get_user(node, name, host)?;
    let host = user.host.unwrap_or_else(|| "%".into());
    if !access_of(node, name, &host)?.iter().any(|d| d == database) {
        return Err(DriverError::not_found(format!(
            "User {name}@{host} has no access to {database}."
        )));
    }
    sql::run(
        node,
        &format!(
            "REVOKE ALL PRIVILEGES ON {}.* FROM {};",
            ident(database),
            account(name, &host)
        ),
    )?;
    Ok(())
}

/// `accounts.list-access`.
pub fn list_access(node: &Node, name: &str, host: Option<&str>) -> DriverResult<Vec<String>> {
    Ok(get_user(node, name, host)?.databases)
}

/// `accounts.enable-root`: `'root'@'%'` with every privilege and this or a generated password.
pub fn enable_root(node: &Node, password: Option<String>) -> DriverResult<Credentials> {
    refuse_on_replica(node)?;
    let password = match password {
        Some(p) if !password_ok(&p) => {
            return Err(DriverError::invalid(
                "password",
                "the password must be 1 to 128 characters without control characters",
            ));
        }
        Some(p) => p,
        None => secrets::password(24)?,
    };
    let root = account("root", "%");
    sql::run(
        node,
        &format!(
            "{}{}GRANT ALL PRIVILEGES ON *.* TO {root} WITH GRANT OPTION;",
            sql::with_password(&format!("CREATE USER IF NOT EXISTS {root}"), &password, ""),
            sql::with_password(&format!("ALTER USER {root}"), &password, ""),
        ),
    )?;
    Ok(Credentials {
        name: "root".into(),
        password,
    })
}

/// `accounts.disable-root`.
pub fn disable_root(node: &Node) -> DriverResult<()> {
    refuse_on_replica(node)?;
    sql::run(
        node,
        &format!("DROP USER IF EXISTS {};", account("root", "%")),
    )?;
    Ok(())
}

/// `accounts.root-enabled`.
pub fn root_enabled(node: &Node) -> DriverResult<bool> {
    user_exists(node, "root", "%")
}

/// Accounts and databases replicate from the source; a local change on a replica would also
/// write a GTID of its own and break its replication.
fn refuse_on_replica(node: &Node) -> DriverResult<()> {
    if sql::row(node, "SHOW SLAVE STATUS;")?.is_some() {
        return Err(DriverError::conflict(
            "This instance is a replica: its databases and users come from its source. Change them on the source.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, host: Option<&str>) -> User {
        User {
            name: name.into(),
            host: host.map(Into::into),
            password: Some("pw".into()),
            databases: vec![],
        }
    }

    #[test]
    fn the_accounts_the_driver_makes_for_itself_cannot_be_taken() {
        for name in [REPLICATOR, ADMIN, "root"] {
            assert!(validate_users(vec![user(name, None)]).is_err(), "{name}");
        }
    }

    #[test]
    fn users_default_to_any_host_and_bad_names_are_named() {
        let users = validate_users(vec![user("app", None), user("app", Some("10.0.%"))]).unwrap();
        // The same name on two hosts is two users; the host defaults to %.
        assert_eq!(users[0].host.as_deref(), Some("%"));
        assert_eq!(users[1].host.as_deref(), Some("10.0.%"));
        let DriverError::Invalid(problems) = validate_users(vec![
            user("root", None),
            user("x y", None),
            user("ok", Some("a'b")),
        ])
        .unwrap_err() else {
            panic!()
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["users[0].name", "users[1].name", "users[2].host"]);
    }

    #[test]
    fn databases_default_to_utf8mb4() {
        let databases = validate_databases(vec![Database {
            name: "app".into(),
            character_set: None,
            collation: None,
        }])
        .unwrap();
        assert_eq!(databases[0].character_set.as_deref(), Some("utf8mb4"));
        assert_eq!(
            databases[0].collation.as_deref(),
            Some("utf8mb4_general_ci")
        );
        assert!(
            validate_databases(vec![Database {
                name: "mysql".into(),
                character_set: None,
                collation: None
            }])
            .is_err()
        );
    }
}
