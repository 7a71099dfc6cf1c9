//! Redis accounts: ACL users (Redis 6+) and root, which is Redis's `default` user with a
//! password. Redis has no named databases, so database functions are not offered and users
//! have access to the whole keyspace.
//!
//! Users get every command except the `@admin` category (CONFIG, ACL changes, SHUTDOWN,
//! REPLICAOF, DEBUG, …), so they cannot change what configuration groups and replication
//! manage. Root gets the same plus reading the configuration and the ACLs.

use drover_driver_sdk::accounts::{Credentials, UserUpdate};
use drover_driver_sdk::prelude::*;
use drover_driver_sdk::secrets;
use sha2::{Digest, Sha256};

use crate::admin::{self, ADMIN_USER};
use crate::replication::REPLICATOR;

/// ACL rules of a user created through the API (after `reset on >password`).
const USER_RULES: &[&str] = &["~*", "&*", "+@all", "-@admin"];
/// ACL rules of root.
const ROOT_RULES: &[&str] = &[
    "~*",
    "&*",
    "+@all",
    "-@admin",
    "+config|get",
    "+acl|list",
    "+acl|users",
    "+acl|getuser",
];
/// Names users may not take.
const RESERVED: &[&str] = &["default", ADMIN_USER, REPLICATOR];

/// The error for anything about databases.
pub fn no_databases() -> DriverError {
    DriverError::unsupported(
        "Redis has no named databases; users have access to the whole keyspace",
    )
}

/// Checks user names, hosts and passwords.
pub fn validate_users(users: Vec<User>) -> DriverResult<Vec<User>> {
    let mut problems = Problems::new();
    for (index, user) in users.iter().enumerate() {
        let name_ok = !user.name.is_empty()
            && user.name.len() <= 64
            && user.name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && user
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if !name_ok {
            problems.push(
                format!("users[{index}].name"),
                format!("user name {:?} must be 1 to 64 letters, digits, '_', '-' or '.', starting with a letter or digit", user.name),
            );
        } else if RESERVED.contains(&user.name.as_str()) {
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
                format!("Redis users are not limited by host; {host:?} cannot be used"),
            );
        }
        match &user.password {
            None => problems.push(format!("users[{index}].password"), "a password is required"),
            Some(password)
                if password.is_empty()
                    || password.len() > 128
                    || password.chars().any(char::is_control) =>
            {
                problems.push(
                    format!("users[{index}].password"),
                    "the password must be 1 to 128 characters without control characters",
                )
            }
            Some(_) => {}
        }
        if !user.databases.is_empty() {
            problems.push(
                format!("users[{index}].databases"),
                no_databases().to_string(),
            );
        }
    }
    problems.into_result(
        users
            .into_iter()
            .map(|u| User { host: None, ..u })
            .collect(),
    )
}

/// A user as `ACL GETUSER` describes it: its flags and password hashes.
struct AclUser {
    flags: Vec<String>,
    passwords: Vec<String>,
}

fn get(node: &Node, name: &str) -> DriverResult<Option<AclUser>> {
    let reply = admin::command(node, &["ACL", "GETUSER", name])?;
    if reply.lines.iter().all(|line| line.trim().is_empty()) {
        return Ok(None);
    }
    let mut user = AclUser {
        flags: Vec::new(),
        passwords: Vec::new(),
    };
    let mut section = "";
    for line in &reply.lines {
        match line.as_str() {
            "flags" | "passwords" | "commands" | "keys" | "channels" | "selectors" => {
                section = line
            }
            value => match section {
                "flags" => user.flags.push(value.to_string()),
                "passwords" => user.passwords.push(value.to_string()),
                _ => {}
            },
        }
    }
    Ok(Some(user))
}

fn hash(password: &str) -> String {
    format!("{:x}", Sha256::digest(password.as_bytes()))
}

fn set_user(node: &Node, name: &str, password: &str, rules: &[&str]) -> DriverResult<()> {
    let secret = format!(">{password}");
    let mut args = vec!["ACL", "SETUSER", name, "reset", "on", secret.as_str()];
    args.extend_from_slice(rules);
    admin::command(node, &args)?;
    Ok(())
}

/// `accounts.create-users`: an existing user with the same password is left as it is.
pub fn create_users(node: &Node, users: Vec<User>) -> DriverResult<()> {
    let users = validate_users(users)?;
    for user in &users {
        let password = user.password.as_deref().unwrap_or_default();
        if let Some(existing) = get(node, &user.name)? {
            if existing.passwords.contains(&hash(password)) {
                continue;
            }
            return Err(DriverError::conflict(format!(
                "user {} already exists",
                user.name
            )));
        }
        set_user(node, &user.name, password, USER_RULES)?;
    }
    admin::save_acl(node)
}

/// `accounts.list-users`.
pub fn list_users(node: &Node) -> DriverResult<Vec<User>> {
    let reply = admin::command(node, &["ACL", "USERS"])?;
    Ok(reply
        .lines
        .iter()
        .filter(|name| !name.is_empty() && !RESERVED.contains(&name.as_str()))
        .map(|name| User {
            name: name.clone(),
            host: None,
            password: None,
            databases: vec![],
        })
        .collect())
}

/// `accounts.get-user`.
pub fn get_user(node: &Node, name: &str) -> DriverResult<User> {
    if RESERVED.contains(&name) || get(node, name)?.is_none() {
        return Err(DriverError::not_found(format!(
            "User {name} does not exist."
        )));
    }
    Ok(User {
        name: name.into(),
        host: None,
        password: None,
        databases: vec![],
    })
}

/// `accounts.delete-user`.
pub fn delete_user(node: &Node, name: &str) -> DriverResult<()> {
    get_user(node, name)?;
    admin::command(node, &["ACL", "DELUSER", name])?;
    admin::save_acl(node)
}

/// `accounts.update-user`: Redis can change a password, not a name.
pub fn update_user(node: &Node, name: &str, update: UserUpdate) -> DriverResult<()> {
    get_user(node, name)?;
    if update.name.as_deref().is_some_and(|new| new != name) {
        return Err(DriverError::unsupported("Redis cannot rename users"));
    }
    if update
        .host
        .as_deref()
        .is_some_and(|h| !h.is_empty() && h != "%")
    {
        return Err(DriverError::invalid(
            "host",
            "Redis users are not limited by host",
        ));
    }
    if let Some(password) = update.password {
        validate_users(vec![User {
            name: name.into(),
            host: None,
            password: Some(password.clone()),
            databases: vec![],
        }])?;
        let secret = format!(">{password}");
        admin::command(node, &["ACL", "SETUSER", name, "resetpass", &secret])?;
        admin::save_acl(node)?;
    }
    Ok(())
}

/// `accounts.enable-root`: the `default` user, on, with this password or a generated one.
pub fn enable_root(node: &Node, password: Option<String>) -> DriverResult<Credentials> {
    let password = match password {
        Some(password) => {
            validate_users(vec![User {
                name: "root".into(),
                host: None,
                password: Some(password.clone()),
                databases: vec![],
            }])
            .map_err(|_| {
                DriverError::invalid(
                    "password",
                    "the password must be 1 to 128 characters without control characters",
                )
            })?;
            password
        }
        None => secrets::password(24)?,
    };
    set_user(node, "default", &password, ROOT_RULES)?;
    admin::save_acl(node)?;
    Ok(Credentials {
        name: "default".into(),
        password,
    })
}

/// `accounts.disable-root`: the `default` user off, without password.
pub fn disable_root(node: &Node) -> DriverResult<()> {
    admin::command(
        node,
        &["ACL", "SETUSER", "default", "reset", "off", "-@all"],
    )?;
    admin::save_acl(node)
}

/// `accounts.root-enabled`.
pub fn root_enabled(node: &Node) -> DriverResult<bool> {
    Ok(get(node, "default")?.is_some_and(|user| user.flags.iter().any(|flag| flag == "on")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, host: Option<&str>, password: Option<&str>) -> User {
        User {
            name: name.into(),
            host: host.map(Into::into),
            password: password.map(Into::into),
            databases: vec![],
        }
    }

    #[test]
    fn the_accounts_the_driver_makes_for_itself_cannot_be_taken() {
        for name in [REPLICATOR, ADMIN_USER, "default"] {
            assert!(
                validate_users(vec![user(name, None, Some("pw"))]).is_err(),
                "{name}"
            );
        }
    }

    #[test]
    fn user_names_hosts_and_passwords_follow_redis_rules() {
        // A plain user with a password is fine, and `%` means any host.
        assert!(validate_users(vec![user("app.reader-1", Some("%"), Some("s3cret"))]).is_ok());
        let DriverError::Invalid(problems) = validate_users(vec![
            user("bad name", None, Some("x")),
            user("default", None, Some("x")),
            user("ok", Some("10.0.0.1"), None),
        ])
        .unwrap_err() else {
            panic!("expected invalid")
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        // Each bad field is named: the name with a space, the reserved name, the host, the missing password.
        assert_eq!(
            fields,
            [
                "users[0].name",
                "users[1].name",
                "users[2].host",
                "users[2].password"
            ]
        );
    }

    #[test]
    fn passwords_are_compared_by_their_acl_hash() {
        // The SHA-256 hex Redis shows in ACL GETUSER.
        assert_eq!(
            hash("password"),
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
        );
    }
}
