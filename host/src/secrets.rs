//! Secrets the host must keep — passwords in a task until the users exist, the credentials a
//! replica follows its source with — are sealed before they reach the store, so neither the
//! database nor its journal (SQLite's WAL keeps old pages) nor a backup of it holds one in
//! clear. The key lives in a file outside the database (mode 0600, in the state directory by
//! default); hosts sharing a store share the key file.
//!
//! Sealing is XChaCha20-Poly1305 with a random nonce per value: `sealed:v1:<base64(nonce ‖
//! ciphertext)>`. A value without the prefix was written by an earlier Drover and is read as it
//! is (and sealed when it is next written).

use std::fmt;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const PREFIX: &str = "sealed:v1:";

/// Why a sealed value could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The value is not valid sealed text.
    #[error("a sealed secret is malformed")]
    Malformed,
    /// The value was sealed with another key (a host with a different key file).
    #[error(
        "a sealed secret was sealed with another key: hosts sharing a store need the same key file"
    )]
    WrongKey,
}

/// The key secrets are sealed with.
pub struct Keyring {
    cipher: XChaCha20Poly1305,
    /// What hosts sharing the key show each other on the host link (derived from the key, so
    /// it is never the key itself).
    link_token: String,
}

/// The host-link token of a key: SHA-256 of a label and the key.
fn link_token(key: &[u8]) -> String {
    use sha2::{Digest as _, Sha256};
    let mut hash = Sha256::new();
    hash.update(b"drover host link v1\0");
    hash.update(key);
    BASE64.encode(hash.finalize())
}

impl Keyring {
    /// The key in `path`, created (32 random bytes, mode 0600) if the file does not exist.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Keyring> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key)
                    .map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| {
                        anyhow::anyhow!("creating the key file {}: {e}", path.display())
                    })?;
                file.write_all(&key)?;
                file.sync_all()?;
                key.to_vec()
            }
            Err(error) => anyhow::bail!("reading the key file {}: {error}", path.display()),
        };
        anyhow::ensure!(
            bytes.len() == 32,
            "the key file {} must hold 32 bytes, not {}",
            path.display(),
            bytes.len()
        );
        Ok(Keyring {
            cipher: XChaCha20Poly1305::new(Key::from_slice(&bytes)),
            link_token: link_token(&bytes),
        })
    }

    /// A key that lives as long as the process: for tools and tests that never reopen what
    /// they seal in another process.
    pub fn ephemeral() -> Keyring {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system provides randomness");
        Keyring {
            cipher: XChaCha20Poly1305::new(Key::from_slice(&key)),
            link_token: link_token(&key),
        }
    }

    /// Seals a value.
    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).expect("the operating system provides randomness");
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .expect("sealing a value in memory cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", BASE64.encode(bytes))
    }

    /// Opens a sealed value; a value without the prefix is returned as it is.
    pub fn open(&self, text: &str) -> Result<String, SecretError> {
        let Some(encoded) = text.strip_prefix(PREFIX) else {
            return Ok(text.to_string());
        };
        let bytes = BASE64.decode(encoded).map_err(|_| SecretError::Malformed)?;
        if bytes.len() < 24 {
            return Err(SecretError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(24);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), sealed)
            .map_err(|_| SecretError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SecretError::Malformed)
    }
}

static KEYRING: OnceLock<Keyring> = OnceLock::new();

/// Makes `keyring` the process's key. Call once, before anything is sealed; a second call is
/// refused.
pub fn install(keyring: Keyring) -> anyhow::Result<()> {
    KEYRING
        .set(keyring)
        .map_err(|_| anyhow::anyhow!("the secrets key was already chosen"))
}

fn keyring() -> &'static Keyring {
    KEYRING.get_or_init(Keyring::ephemeral)
}

/// Seals a value with the process's key.
pub fn seal(plain: &str) -> String {
    keyring().seal(plain)
}

/// Opens a value sealed with the process's key.
pub fn open(text: &str) -> Result<String, SecretError> {
    keyring().open(text)
}

/// The token this host shows the hosts that share its key when it calls them over the host
/// link.
pub fn host_token() -> &'static str {
    &keyring().link_token
}

/// Whether `presented` is the host-link token of this host's key, compared in constant time.
pub fn is_host_token(presented: &str) -> bool {
    let expected = host_token().as_bytes();
    let presented = presented.as_bytes();
    presented.len() == expected.len()
        && presented
            .iter()
            .zip(expected)
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

/// A secret held in a serialised structure (a task's payload): sealed when serialised, opened
/// when read back, and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&seal(&self.0))
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        let text = String::deserialize(deserializer)?;
        open(&text).map(Secret).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_their_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let key = Keyring::load_or_create(&path).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let sealed = key.seal("p'a\\ss");
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("p'a"));
        // The same value seals differently each time.
        assert_ne!(sealed, key.seal("p'a\\ss"));
        assert_eq!(key.open(&sealed).unwrap(), "p'a\\ss");
        // The same file gives the same key; another key cannot open it.
        assert_eq!(
            Keyring::load_or_create(&path)
                .unwrap()
                .open(&sealed)
                .unwrap(),
            "p'a\\ss"
        );
        assert!(matches!(
            Keyring::ephemeral().open(&sealed),
            Err(SecretError::WrongKey)
        ));
        // What an earlier Drover wrote in clear is read as it is.
        assert_eq!(key.open("plain").unwrap(), "plain");
    }

    #[test]
    fn host_link_tokens_are_the_keys_and_not_the_key() {
        let a = Keyring::ephemeral();
        let b = Keyring::ephemeral();
        assert_ne!(a.link_token, b.link_token);
        assert_eq!(a.link_token.len(), 44);
        assert!(is_host_token(host_token()));
        assert!(!is_host_token(""));
        assert!(!is_host_token(&b.link_token));
    }

    #[test]
    fn a_secret_is_sealed_in_json_and_hidden_from_debug() {
        let json = serde_json::to_string(&Secret::new("hunter2")).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        let back: Secret = serde_json::from_str(&json).unwrap();
        assert_eq!(back.expose(), "hunter2");
        assert!(!format!("{back:?}").contains("hunter2"));
    }
}
