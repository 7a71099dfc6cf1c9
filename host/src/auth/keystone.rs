//! Keystone tokens, checked as `keystonemiddleware`'s `auth_token` checks them: the service
//! logs in with its own credentials (a project-scoped password token, renewed before it
//! expires), validates each caller's token with `GET /v3/auth/tokens` (`X-Subject-Token`,
//! `?nocatalog`), and takes the caller's project, user and role names from the answer. An
//! answer is cached by the token's hash until the cache time or the token's expiry, whichever
//! comes first; a token Keystone refuses is not cached, so a new one works at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{AuthError, Caller, hash_token};
use crate::config::KeystoneSection;

/// The most answers kept; past it, expired ones go, then all.
const CACHE_CAP: usize = 10_000;

/// How long before its expiry the service's own token is renewed.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// Validates tokens against one Keystone.
pub struct Keystone {
    http: reqwest::Client,
    /// `…/v3`, without a trailing slash.
    url: String,
    settings: KeystoneSection,
    password: String,
    service_token: tokio::sync::Mutex<Option<(String, Instant)>>,
    cache: Mutex<HashMap<String, (Caller, Instant)>>,
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenInfo,
}

#[derive(Deserialize)]
struct TokenInfo {
    expires_at: String,
    #[serde(default)]
    project: Option<Named>,
    #[serde(default)]
    user: Option<Named>,
    #[serde(default)]
    roles: Vec<Named>,
}

#[derive(Deserialize)]
struct Named {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
}

/// How long from now until an ISO 8601 expiry; zero if it has passed or cannot be read.
fn remaining(expires_at: &str) -> Duration {
    chrono::DateTime::parse_from_rfc3339(expires_at)
        .ok()
        .and_then(|at| {
            (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .ok()
        })
        .unwrap_or_default()
}

fn unavailable(what: impl std::fmt::Display) -> AuthError {
    tracing::error!("Keystone: {what}");
    AuthError::Unavailable("The identity service cannot be reached; try again shortly.".into())
}

impl Keystone {
    /// A validator for the Keystone at `settings.auth_url`, logging in with the password in
    /// `settings.password_file`.
    pub fn new(settings: &KeystoneSection) -> anyhow::Result<Keystone> {
        let password = std::fs::read_to_string(&settings.password_file)
            .map_err(|e| {
                anyhow::anyhow!(
                    "keystone.password_file {}: {e}",
                    settings.password_file.display()
                )
            })?
            .trim_end_matches(['\n', '\r'])
            .to_string();
        if password.is_empty() {
            anyhow::bail!(
                "keystone.password_file {} is empty",
                settings.password_file.display()
            );
        }
        let base = settings.auth_url.trim_end_matches('/');
        let url = if base.ends_with("/v3") {
            base.to_string()
        } else {
            format!("{base}/v3")
        };
        if !url.starts_with("http://") && !url.starts_with("https://") {
            anyhow::bail!("keystone.auth_url must be an http:// or https:// URL, not {url:?}");
        }
        if url.starts_with("https://") {
            anyhow::bail!(
                "keystone.auth_url {url:?}: this build speaks plain HTTP to Keystone only; reach it on loopback or a trusted network (or through a local TLS proxy)"
            );
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_s.max(1)))
            .build()?;
        Ok(Keystone {
            http,
            url,
            settings: settings.clone(),
            password,
            service_token: tokio::sync::Mutex::new(None),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The caller a token stands for.
    pub async fn validate(&self, token: &str) -> Result<Caller, AuthError> {
        let key = hash_token(token);
        if let Some((caller, until)) = self.cache.lock().unwrap().get(&key)
            && Instant::now() < *until
        {
            return Ok(caller.clone());
        }
        let mut renewed = false;
        let body = loop {
            let service = self.service_token(renewed).await?;
            let answer = self
                .http
                .get(format!("{}/auth/tokens?nocatalog", self.url))
                .header("X-Auth-Token", &service)
                .header("X-Subject-Token", token)
                .send()
                .await
                .map_err(unavailable)?;
            match answer.status().as_u16() {
                200 => break answer.json::<TokenBody>().await.map_err(unavailable)?,
                // The service's own token was refused (revoked, Keystone restarted with new
                // keys): log in again, once.
                401 if !renewed => renewed = true,
                404 => {
                    return Err(AuthError::Unauthenticated(
                        "The X-Auth-Token is not valid (Keystone does not know it, or it has expired or been revoked).".into(),
                    ));
                }
                status => {
                    return Err(unavailable(format!("validating a token answered {status}")));
                }
            }
        };
        let token_info = body.token;
        let Some(project) = token_info.project else {
            return Err(AuthError::Unauthenticated(
                "The X-Auth-Token is not scoped to a project; the database service needs a project-scoped token.".into(),
            ));
        };
        let caller = Caller {
            project_id: project.id,
            user_id: token_info.user.map(|user| user.id),
            roles: token_info.roles.into_iter().map(|role| role.name).collect(),
        };
        let keep =
            remaining(&token_info.expires_at).min(Duration::from_secs(self.settings.cache_s));
        if !keep.is_zero() {
            let mut cache = self.cache.lock().unwrap();
            if cache.len() >= CACHE_CAP {
                let now = Instant::now();
                cache.retain(|_, (_, until)| *until > now);
                if cache.len() >= CACHE_CAP {
                    cache.clear();
                }
            }
            cache.insert(key, (caller.clone(), Instant::now() + keep));
        }
        Ok(caller)
    }

    /// The service's own token, logged in anew when it is about to expire or `renew`.
    async fn service_token(&self, renew: bool) -> Result<String, AuthError> {
        let mut held = self.service_token.lock().await;
        if let Some((token, until)) = held.as_ref()
            && !renew
            && Instant::now() + RENEW_BEFORE < *until
        {
            return Ok(token.clone());
        }
        let s = &self.settings;
        let login = serde_json::json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": s.username, "domain": {"name": s.user_domain_name}, "password": self.password}}},
            "scope": {"project": {"name": s.project_name, "domain": {"name": s.project_domain_name}}}}});
        let answer = self
            .http
            .post(format!("{}/auth/tokens?nocatalog", self.url))
            .json(&login)
            .send()
            .await
            .map_err(unavailable)?;
        let status = answer.status().as_u16();
        if status != 201 {
            return Err(unavailable(format!(
                "the service's login as {:?} answered {status}",
                s.username
            )));
        }
        let token = answer
            .headers()
            .get("X-Subject-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| unavailable("the service's login answered no X-Subject-Token"))?;
        let body = answer.json::<TokenBody>().await.map_err(unavailable)?;
        let until = Instant::now() + remaining(&body.token.expires_at);
        *held = Some((token.clone(), until));
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_read_as_keystone_writes_it() {
        let later = (chrono::Utc::now() + chrono::Duration::seconds(600))
            .format("%Y-%m-%dT%H:%M:%S.000000Z")
            .to_string();
        let left = remaining(&later);
        assert!(left > Duration::from_secs(590) && left <= Duration::from_secs(600));
        assert_eq!(remaining("2001-01-01T00:00:00.000000Z"), Duration::ZERO);
        assert_eq!(remaining("not a time"), Duration::ZERO);
    }
}
