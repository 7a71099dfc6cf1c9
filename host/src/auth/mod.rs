//! Who is calling. In `token` mode (the embedded default) an `X-Auth-Token` is looked up in the
//! tokens file, which keeps only SHA-256 hashes of tokens, each with its project and roles; in
//! `keystone` mode Keystone validates it (`keystone.rs`); in `noauth` mode (development only)
//! the project in the path is trusted and roles come from `X-Roles`.
//!
//! Must not import: the store, runtime, orchestrator, backends. It produces a [`Caller`].

mod keystone;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::AuthMode;

/// The role that makes a caller an administrator.
pub const ADMIN_ROLE: &str = "admin";

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's project.
    pub project_id: String,
    /// The caller's user, when known.
    pub user_id: Option<String>,
    /// The caller's roles.
    pub roles: Vec<String>,
}

impl Caller {
    /// Whether the caller has the admin role.
    pub fn is_admin(&self) -> bool {
        self.roles
            .iter()
            .any(|role| role.eq_ignore_ascii_case(ADMIN_ROLE))
    }
}

/// Why a request is not authenticated or not allowed into a project.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token, or an unknown one.
    #[error("{0}")]
    Unauthenticated(String),
    /// The identity service could not answer (503).
    #[error("{0}")]
    Unavailable(String),
    /// The token's project is not the project in the path.
    #[error("User with tenant id {caller} cannot access this resource.")]
    WrongProject {
        /// The caller's project.
        caller: String,
    },
}

/// One entry of the tokens file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenEntry {
    /// `sha256:<hex>` of the token.
    pub hash: String,
    /// The project the token belongs to.
    pub project_id: String,
    /// Its roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The user, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// What the token is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// The tokens file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokensFile {
    /// The tokens.
    pub tokens: Vec<TokenEntry>,
}

/// Checks callers.
pub struct Authenticator {
    mode: AuthMode,
    tokens_path: PathBuf,
    /// The tokens, reloaded when the file changes.
    tokens: Mutex<(Option<SystemTime>, TokensFile)>,
    keystone: Option<keystone::Keystone>,
}

/// The hash stored for a token.
pub fn hash_token(token: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(token.as_bytes())))
}

/// A new random token (32 bytes, hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl TokensFile {
    /// Reads a tokens file; a missing file is empty.
    pub fn read(path: &Path) -> anyhow::Result<TokensFile> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(TokensFile::default()),
            Err(error) => Err(anyhow::anyhow!("{}: {error}", path.display())),
        }
    }

    /// Writes the file atomically, readable by its owner only.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let partial = path.with_extension("partial");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial)?;
        std::io::Write::write_all(&mut file, serde_json::to_string_pretty(self)?.as_bytes())?;
        std::fs::rename(partial, path)?;
        Ok(())
    }

    /// Adds a token for `project_id` with `roles` and returns the token (its hash is stored).
    pub fn add(&mut self, project_id: &str, roles: &[String], description: &str) -> String {
        let token = new_token();
        self.tokens.push(TokenEntry {
            hash: hash_token(&token),
            project_id: project_id.into(),
            roles: roles.to_vec(),
            user_id: None,
            description: description.into(),
        });
        token
    }
}

impl Authenticator {
    /// An authenticator for `mode` reading `tokens_path`.
    pub fn new(mode: AuthMode, tokens_path: PathBuf) -> Authenticator {
        Authenticator {
            mode,
            tokens_path,
            tokens: Mutex::new((None, TokensFile::default())),
            keystone: None,
        }
    }

    /// An authenticator in `keystone` mode, validating with the Keystone `settings` name.
    pub fn keystone(
        settings: &crate::config::KeystoneSection,
        tokens_path: PathBuf,
    ) -> anyhow::Result<Authenticator> {
        Ok(Authenticator {
            keystone: Some(keystone::Keystone::new(settings)?),
            ..Authenticator::new(AuthMode::Keystone, tokens_path)
        })
    }

    /// The mode.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// In token mode, creates an admin token when the tokens file has none, writes the token to
    /// `admin-token` beside the tokens file (mode 0600) and returns that path.
    pub fn ensure_admin_token(&self) -> anyhow::Result<Option<PathBuf>> {
        if self.mode != AuthMode::Token {
            return Ok(None);
        }
        let mut file = TokensFile::read(&self.tokens_path)?;
        if file.tokens.iter().any(|entry| {
            entry
                .roles
                .iter()
                .any(|r| r.eq_ignore_ascii_case(ADMIN_ROLE))
        }) {
            return Ok(None);
        }
        let token = file.add("admin", &[ADMIN_ROLE.to_string()], "created at first start");
        file.write(&self.tokens_path)?;
        let token_path = self.tokens_path.with_file_name("admin-token");
        TokensFile::write_secret(&token_path, &token)?;
        Ok(Some(token_path))
    }

    /// Authenticates a request for `path_project` from its `X-Auth-Token` and, in noauth mode,
    /// `X-Roles`/`X-User-Id`. A non-admin may only use its own project.
    pub async fn authenticate(
        &self,
        path_project: Option<&str>,
        token: Option<&str>,
        roles_header: Option<&str>,
        user_header: Option<&str>,
    ) -> Result<Caller, AuthError> {
        match (&self.keystone, self.mode) {
            (Some(keystone), AuthMode::Keystone) => {
                let caller = keystone.validate(need_token(token)?).await?;
                admitted(path_project, caller)
            }
            _ => self.authenticate_locally(path_project, token, roles_header, user_header),
        }
    }

    /// [`Authenticator::authenticate`] in the modes that need no other service.
    pub fn authenticate_locally(
        &self,
        path_project: Option<&str>,
        token: Option<&str>,
        roles_header: Option<&str>,
        user_header: Option<&str>,
    ) -> Result<Caller, AuthError> {
        let caller = match self.mode {
            AuthMode::Noauth => Caller {
                project_id: path_project.unwrap_or("").to_string(),
                user_id: user_header.map(str::to_string),
                roles: roles_header
                    .map(|header| {
                        header
                            .split(',')
                            .map(|r| r.trim().to_string())
                            .filter(|r| !r.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            AuthMode::Token => self.lookup(need_token(token)?)?,
            AuthMode::Keystone => {
                return Err(AuthError::Unavailable("Keystone is not configured.".into()));
            }
        };
        admitted(path_project, caller)
    }

    fn lookup(&self, token: &str) -> Result<Caller, AuthError> {
        let hash = hash_token(token);
        let mut cache = self.tokens.lock().unwrap();
        let modified = std::fs::metadata(&self.tokens_path)
            .and_then(|m| m.modified())
            .ok();
        if cache.0 != modified || modified.is_none() {
            // A file that cannot be read grants nothing (a revocation with a typo in it must
            // not leave the revoked token working), and says so once per change.
            let tokens = TokensFile::read(&self.tokens_path).unwrap_or_else(|error| {
                if cache.0 != modified {
                    tracing::error!(
                        "the tokens file cannot be read, so no token is accepted until it is fixed: {error:#}"
                    );
                }
                TokensFile::default()
            });
            *cache = (modified, tokens);
        }
        cache
            .1
            .tokens
            .iter()
            .find(|entry| entry.hash == hash)
            .map(|entry| Caller {
                project_id: entry.project_id.clone(),
                user_id: entry.user_id.clone(),
                roles: entry.roles.clone(),
            })
            .ok_or_else(|| AuthError::Unauthenticated("The X-Auth-Token is not valid.".into()))
    }
}

fn need_token(token: Option<&str>) -> Result<&str, AuthError> {
    token.filter(|t| !t.is_empty()).ok_or_else(|| {
        AuthError::Unauthenticated("This request needs an X-Auth-Token header.".into())
    })
}

/// A non-admin may only use its own project's paths.
fn admitted(path_project: Option<&str>, caller: Caller) -> Result<Caller, AuthError> {
    if let Some(project) = path_project
        && project != caller.project_id
        && !caller.is_admin()
    {
        return Err(AuthError::WrongProject {
            caller: caller.project_id,
        });
    }
    Ok(caller)
}

impl TokensFile {
    fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        std::io::Write::write_all(&mut file, format!("{secret}\n").as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_auth(dir: &Path) -> (Authenticator, String, String) {
        let path = dir.join("tokens.json");
        let mut file = TokensFile::default();
        let member = file.add("project-a", &["member".into()], "");
        let admin = file.add("ops", &["admin".into()], "");
        file.write(&path).unwrap();
        (Authenticator::new(AuthMode::Token, path), member, admin)
    }

    #[test]
    fn tokens_are_stored_hashed_and_map_to_their_project() {
        let dir = tempfile::tempdir().unwrap();
        let (auth, member, _) = token_auth(dir.path());
        // The file holds hashes, never the tokens themselves.
        let text = std::fs::read_to_string(dir.path().join("tokens.json")).unwrap();
        assert!(!text.contains(&member) && text.contains(&hash_token(&member)));
        // The token authenticates its own project.
        let caller = auth
            .authenticate_locally(Some("project-a"), Some(&member), None, None)
            .unwrap();
        assert_eq!(caller.project_id, "project-a");
        assert!(!caller.is_admin());
    }

    #[test]
    fn a_member_is_kept_to_its_project_and_an_admin_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let (auth, member, admin) = token_auth(dir.path());
        // Another project's path is forbidden to a member, with Trove's message.
        let error = auth
            .authenticate_locally(Some("project-b"), Some(&member), None, None)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "User with tenant id project-a cannot access this resource."
        );
        // An admin may use any project's path.
        assert!(
            auth.authenticate_locally(Some("project-b"), Some(&admin), None, None)
                .unwrap()
                .is_admin()
        );
        // No token, or a wrong one, is unauthenticated.
        assert!(matches!(
            auth.authenticate_locally(Some("project-a"), None, None, None),
            Err(AuthError::Unauthenticated(_))
        ));
        assert!(matches!(
            auth.authenticate_locally(Some("project-a"), Some("nope"), None, None),
            Err(AuthError::Unauthenticated(_))
        ));
    }

    #[test]
    fn first_start_creates_an_admin_token_once() {
        let dir = tempfile::tempdir().unwrap();
        let auth = Authenticator::new(AuthMode::Token, dir.path().join("tokens.json"));
        let written = auth
            .ensure_admin_token()
            .unwrap()
            .expect("an admin token is created");
        let token = std::fs::read_to_string(&written)
            .unwrap()
            .trim()
            .to_string();
        // The written token is an admin of project "admin".
        assert!(
            auth.authenticate_locally(Some("anything"), Some(&token), None, None)
                .unwrap()
                .is_admin()
        );
        // A second start creates nothing new.
        assert_eq!(auth.ensure_admin_token().unwrap(), None);
    }

    #[test]
    fn noauth_trusts_the_path_and_the_roles_header() {
        let auth = Authenticator::new(AuthMode::Noauth, PathBuf::from("/nonexistent"));
        let caller = auth
            .authenticate_locally(
                Some("p1"),
                Some("notused"),
                Some("member, admin"),
                Some("u1"),
            )
            .unwrap();
        assert_eq!(caller.project_id, "p1");
        assert_eq!(caller.roles, ["member", "admin"]);
        assert_eq!(caller.user_id.as_deref(), Some("u1"));
    }
}
