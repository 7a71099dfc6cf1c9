//! Generating secrets (passwords for a driver's own accounts, generated root passwords) from
//! the host's secure random source.

use crate::errors::DriverResult;
use crate::exec::NodeExt;
use crate::{DriverError, Node};

/// Letters and digits: safe in every configuration syntax and command line without quoting.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/// A random password of `length` letters and digits.
pub fn password(length: usize) -> DriverResult<String> {
    let mut bytes = vec![0u8; length];
    getrandom::fill(&mut bytes)
        .map_err(|e| DriverError::Failed(format!("no random source: {e}")))?;
    // 256 is not a multiple of the alphabet's size; the bias of the modulo is below 1 % per
    // character and irrelevant for passwords of this length.
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

/// The password kept in a node's file `path` (mode 0600), made on first use: the same one on
/// every later call, for accounts whose password others are given (replication users).
pub fn kept_password(node: &Node, path: &str) -> DriverResult<String> {
    if let Some(password) = node.read_text(path)? {
        return Ok(password.trim().to_string());
    }
    let password = password(32)?;
    node.write_text(path, &password, 0o600)?;
    Ok(password)
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_random_letters_and_digits() {
        let first = super::password(24).unwrap();
        let second = super::password(24).unwrap();
        // The requested length, only safe characters, and not the same twice.
        assert_eq!(first.len(), 24);
        assert!(first.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(first, second);
    }
}
