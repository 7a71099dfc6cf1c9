//! Instance pages as they were last sent, kept until the store changes: `GET /instances` is
//! the request clients poll, and between two commits it answers the same bytes. A page is
//! kept with the store's data version (see `Store::data_version`) and for at most a second
//! (what a view computes from the clock, such as whether a host is silent, is no older). A
//! store that cannot tell when it changed (PostgreSQL, shared by hosts) keeps nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;

/// How long a page is kept at most.
const FRESH: Duration = Duration::from_secs(1);

/// How many pages are kept at most (all are dropped when there would be more).
const MOST: usize = 256;

/// Pages by request: the project, whether the caller is an admin, the base URL and the query.
#[derive(Default)]
pub struct Pages {
    held: Mutex<HashMap<String, Held>>,
}

struct Held {
    version: i64,
    at: Instant,
    body: Bytes,
}

impl Pages {
    /// The page kept for `key` if the store is still at `version`.
    pub fn get(&self, key: &str, version: i64) -> Option<Bytes> {
        let held = self.held.lock().unwrap();
        held.get(key)
            .filter(|h| h.version == version && h.at.elapsed() < FRESH)
            .map(|h| h.body.clone())
    }

    /// Keeps the page built for `key` at `version`.
    pub fn put(&self, key: String, version: i64, body: Bytes) {
        let mut held = self.held.lock().unwrap();
        if held.len() >= MOST && !held.contains_key(&key) {
            held.clear();
        }
        held.insert(
            key,
            Held {
                version,
                at: Instant::now(),
                body,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_kept_for_its_version_only() {
        let pages = Pages::default();
        pages.put("p1".into(), 7, Bytes::from_static(b"[]"));
        assert_eq!(pages.get("p1", 7).as_deref(), Some(&b"[]"[..]));
        assert_eq!(pages.get("p1", 8), None);
        assert_eq!(pages.get("p2", 7), None);
    }
}
