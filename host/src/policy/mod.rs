//! Authorization in oslo.policy's rule language, with Trove's default rules, overridable by a
//! policy file (oslo's flat YAML `policy.yaml`, or JSON).
//!
//! The language: `rule:NAME`, `role:NAME` (case-insensitive), `KEY:VALUE` comparing a credential
//! (`project_id`, `user_id`, `is_admin`, …) with a literal (`True`, `'text'`) or a target value
//! (`%(project_id)s`), `@` (always), `!` (never), an empty rule (always), `not`, `and`, `or`
//! (in that order of precedence) and parentheses. A rule name with no rule falls back to
//! `default`; without `default` it is denied.
//!
//! Must not import anything else of the host: it is a leaf.

mod defaults;
mod parse;

use std::collections::BTreeMap;
use std::path::Path;

pub use defaults::DEFAULTS;
use parse::{Check, Expr};

/// Who is asking.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The caller's project.
    pub project_id: String,
    /// The caller's user.
    pub user_id: Option<String>,
    /// The caller's roles.
    pub roles: Vec<String>,
    /// Whether the caller is an administrator.
    pub is_admin: bool,
}

/// What is being acted on: values rules refer to as `%(key)s`.
#[derive(Debug, Clone, Default)]
pub struct Target(BTreeMap<String, String>);

impl Target {
    /// A target owned by `project_id` (set as both `project_id` and Trove's `tenant`).
    pub fn project(project_id: &str) -> Target {
        let mut map = BTreeMap::new();
        map.insert("project_id".to_string(), project_id.to_string());
        map.insert("tenant".to_string(), project_id.to_string());
        Target(map)
    }

    /// Adds a value.
    pub fn with(mut self, key: &str, value: &str) -> Target {
        self.0.insert(key.to_string(), value.to_string());
        self
    }
}

/// A denial, with Trove's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Policy doesn't allow {action} to be performed.")]
pub struct Denied {
    /// The action.
    pub action: String,
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("reading the policy file {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What happened.
        error: std::io::Error,
    },
    /// The file is not a map of rule names to rules.
    #[error("the policy file {path} is not a map of rule names to rules: {message}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A rule does not parse.
    #[error("policy rule {name:?}: {message} (at character {position} of {rule:?})")]
    Syntax {
        /// The rule's name.
        name: String,
        /// Its text.
        rule: String,
        /// Where, counted from 0.
        position: usize,
        /// What is wrong.
        message: String,
    },
}

/// A set of parsed rules.
#[derive(Debug, Clone)]
pub struct Policy {
    rules: BTreeMap<String, (String, Expr)>,
}

impl Policy {
    /// Trove's default rules and Drover's.
    pub fn trove_defaults() -> Policy {
        let mut rules = BTreeMap::new();
        for (name, text) in DEFAULTS {
            let expr = parse::parse(text)
                .unwrap_or_else(|e| panic!("default rule {name} does not parse: {e:?}"));
            rules.insert(name.to_string(), (text.to_string(), expr));
        }
        Policy { rules }
    }

    /// The defaults with the rules of a policy file on top.
    pub fn from_file(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|error| PolicyError::Io {
            path: path.display().to_string(),
            error,
        })?;
        Policy::trove_defaults().with_overrides(&text, &path.display().to_string())
    }

    /// The rules of `text` (JSON or flat YAML) on top of these.
    pub fn with_overrides(mut self, text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let entries = parse::rule_file(text).map_err(|message| PolicyError::Format {
            path: origin.to_string(),
            message,
        })?;
        for (name, rule) in entries {
            let expr = parse::parse(&rule).map_err(|(position, message)| PolicyError::Syntax {
                name: name.clone(),
                rule: rule.clone(),
                position,
                message,
            })?;
            self.rules.insert(name, (rule, expr));
        }
        Ok(self)
    }

    /// The text of a rule.
    pub fn rule(&self, name: &str) -> Option<&str> {
        self.rules.get(name).map(|(text, _)| text.as_str())
    }

    /// Every rule name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.keys().map(String::as_str)
    }

    /// Whether `credentials` may perform `action` on `target`.
    pub fn authorize(
        &self,
        action: &str,
        credentials: &Credentials,
        target: &Target,
    ) -> Result<(), Denied> {
        let expr = self
            .rules
            .get(action)
            .or_else(|| self.rules.get("default"))
            .map(|(_, e)| e);
        match expr {
            Some(expr) if self.eval(expr, credentials, target, 0) => Ok(()),
            _ => Err(Denied {
                action: action.to_string(),
            }),
        }
    }

    fn eval(&self, expr: &Expr, credentials: &Credentials, target: &Target, depth: usize) -> bool {
        // Rules referring to each other in a loop are denied rather than looping forever.
        if depth > 32 {
            return false;
        }
        match expr {
            Expr::Always => true,
            Expr::Never => false,
            Expr::Not(inner) => !self.eval(inner, credentials, target, depth),
            Expr::And(parts) => parts
                .iter()
                .all(|p| self.eval(p, credentials, target, depth)),
            Expr::Or(parts) => parts
                .iter()
                .any(|p| self.eval(p, credentials, target, depth)),
            Expr::Check(check) => self.check(check, credentials, target, depth),
        }
    }

    fn check(
        &self,
        check: &Check,
        credentials: &Credentials,
        target: &Target,
        depth: usize,
    ) -> bool {
        match check {
            Check::Rule(name) => match self.rules.get(name) {
                Some((_, expr)) => self.eval(expr, credentials, target, depth + 1),
                None => false,
            },
            Check::Role(role) => credentials
                .roles
                .iter()
                .any(|r| r.eq_ignore_ascii_case(role)),
            Check::Generic { key, value } => {
                let expected = match value {
                    parse::Value::Target(name) => match target.0.get(name) {
                        Some(value) => value.clone(),
                        None => return false,
                    },
                    parse::Value::Literal(text) => text.clone(),
                };
                match key.as_str() {
                    "is_admin" => expected.eq_ignore_ascii_case(if credentials.is_admin {
                        "true"
                    } else {
                        "false"
                    }),
                    "project_id" | "tenant" | "tenant_id" => credentials.project_id == expected,
                    "user_id" | "user" => credentials.user_id.as_deref() == Some(expected.as_str()),
                    "roles" | "role" => credentials
                        .roles
                        .iter()
                        .any(|r| r.eq_ignore_ascii_case(&expected)),
                    _ => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(project: &str) -> Credentials {
        Credentials {
            project_id: project.into(),
            user_id: Some("u".into()),
            roles: vec!["member".into()],
            is_admin: false,
        }
    }

    fn admin() -> Credentials {
        Credentials {
            project_id: "ops".into(),
            user_id: None,
            roles: vec!["admin".into()],
            is_admin: true,
        }
    }

    #[test]
    fn defaults_let_owners_and_admins_in_and_keep_others_out() {
        let policy = Policy::trove_defaults();
        // The owner of a project may create instances in it.
        assert!(
            policy
                .authorize("instance:create", &member("p1"), &Target::project("p1"))
                .is_ok()
        );
        // Another project's member may not, with Trove's message.
        let denied = policy
            .authorize("instance:delete", &member("p2"), &Target::project("p1"))
            .unwrap_err();
        assert_eq!(
            denied.to_string(),
            "Policy doesn't allow instance:delete to be performed."
        );
        // An admin may act on any project.
        assert!(
            policy
                .authorize("instance:delete", &admin(), &Target::project("p1"))
                .is_ok()
        );
        // Admin-only actions are forbidden to an owner.
        assert!(
            policy
                .authorize(
                    "instance:reset_status",
                    &member("p1"),
                    &Target::project("p1")
                )
                .is_err()
        );
        assert!(
            policy
                .authorize("driver:create", &member("p1"), &Target::project("p1"))
                .is_err()
        );
        assert!(
            policy
                .authorize("driver:create", &admin(), &Target::project("p1"))
                .is_ok()
        );
        // Datastores and flavors are open to everyone.
        assert!(
            policy
                .authorize("flavor:index", &member("p2"), &Target::project("p1"))
                .is_ok()
        );
        // An action without a rule falls back to `default` (admin or owner).
        assert!(
            policy
                .authorize("some:new:action", &member("p1"), &Target::project("p1"))
                .is_ok()
        );
        assert!(
            policy
                .authorize("some:new:action", &member("p2"), &Target::project("p1"))
                .is_err()
        );
    }

    #[test]
    fn an_override_file_in_yaml_or_json_changes_rules() {
        let yaml = "# operators' rules\n\"instance:create\": \"rule:admin\"\ninstance:index: 'role:reader or rule:admin_or_owner'\n";
        let policy = Policy::trove_defaults()
            .with_overrides(yaml, "policy.yaml")
            .unwrap();
        // instance:create became admin-only.
        assert!(
            policy
                .authorize("instance:create", &member("p1"), &Target::project("p1"))
                .is_err()
        );
        assert!(
            policy
                .authorize("instance:create", &admin(), &Target::project("p1"))
                .is_ok()
        );
        // A reader of another project may list.
        let reader = Credentials {
            roles: vec!["Reader".into()],
            ..member("p9")
        };
        assert!(
            policy
                .authorize("instance:index", &reader, &Target::project("p1"))
                .is_ok()
        );
        // Rules the file does not mention keep their defaults.
        assert!(
            policy
                .authorize("instance:delete", &member("p1"), &Target::project("p1"))
                .is_ok()
        );

        let json = r#"{"instance:delete": "!", "flavor:index": "@"}"#;
        let policy = Policy::trove_defaults()
            .with_overrides(json, "policy.json")
            .unwrap();
        // `!` denies everyone, admins included; `@` allows everyone.
        assert!(
            policy
                .authorize("instance:delete", &admin(), &Target::project("p1"))
                .is_err()
        );
        assert!(
            policy
                .authorize("flavor:index", &member("x"), &Target::project("p1"))
                .is_ok()
        );
    }

    #[test]
    fn operators_combine_with_precedence_and_parentheses() {
        let rules = r#"{
            "a": "role:x or role:y and role:z",
            "b": "(role:x or role:y) and role:z",
            "c": "not role:x and role:y",
            "d": "is_admin:True or user_id:%(owner)s",
            "e": "project_id:'literal'"
        }"#;
        let policy = Policy::trove_defaults()
            .with_overrides(rules, "test")
            .unwrap();
        let with = |roles: &[&str]| Credentials {
            roles: roles.iter().map(|r| r.to_string()).collect(),
            ..member("p")
        };
        // `and` binds tighter than `or`: x alone satisfies a, not b.
        assert!(
            policy
                .authorize("a", &with(&["x"]), &Target::default())
                .is_ok()
        );
        assert!(
            policy
                .authorize("b", &with(&["x"]), &Target::default())
                .is_err()
        );
        assert!(
            policy
                .authorize("b", &with(&["x", "z"]), &Target::default())
                .is_ok()
        );
        // `not` binds tightest.
        assert!(
            policy
                .authorize("c", &with(&["y"]), &Target::default())
                .is_ok()
        );
        assert!(
            policy
                .authorize("c", &with(&["x", "y"]), &Target::default())
                .is_err()
        );
        // Substitutions come from the target; a missing one fails the check.
        assert!(
            policy
                .authorize("d", &member("p"), &Target::default().with("owner", "u"))
                .is_ok()
        );
        assert!(
            policy
                .authorize("d", &member("p"), &Target::default())
                .is_err()
        );
        // Quoted literals compare as text.
        let literal = Credentials {
            project_id: "literal".into(),
            ..member("x")
        };
        assert!(policy.authorize("e", &literal, &Target::default()).is_ok());
    }

    #[test]
    fn syntax_errors_name_the_rule_and_the_position() {
        let error = Policy::trove_defaults()
            .with_overrides(r#"{"x": "role:a or (role:b"}"#, "test")
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("\"x\"") && message.contains("character"),
            "{message}"
        );
        let error = Policy::trove_defaults()
            .with_overrides(r#"{"x": "role:a and and role:b"}"#, "test")
            .unwrap_err();
        assert!(error.to_string().contains("at character 11"), "{error}");
        // A file that is not a map is refused as a whole.
        assert!(
            Policy::trove_defaults()
                .with_overrides("[1, 2]", "test")
                .is_err()
        );
    }
}
