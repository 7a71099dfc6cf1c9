//! Which drivers are loaded and which version of each is active. Reads are a lock-free
//! snapshot; activation and rollback publish a new snapshot atomically, so a call in flight
//! keeps the driver it started with and every call that starts later sees the new one.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use super::Driver;

/// The registry.
#[derive(Default)]
pub struct Registry {
    snapshot: ArcSwap<Snapshot>,
    /// Serialises writers; readers never take it.
    write: Mutex<()>,
}

#[derive(Clone, Default)]
struct Snapshot {
    /// Every loaded driver, by digest.
    loaded: BTreeMap<String, Driver>,
    /// For each driver name, the active digest and the one it replaced.
    names: BTreeMap<String, Slot>,
}

#[derive(Clone, Default)]
struct Slot {
    active: Option<String>,
    previous: Option<String>,
}

/// Why a registry change was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    /// No loaded driver has this digest.
    #[error("no driver with digest {0} is loaded")]
    UnknownDigest(String),
    /// No driver of this name is loaded.
    #[error("no driver named {0} is loaded")]
    UnknownName(String),
    /// Rollback needs a version to go back to.
    #[error("driver {0} has no previous version to roll back to")]
    NothingToRollBack(String),
    /// The active version cannot be removed.
    #[error("driver {0} is the active version of {1}; activate another version first")]
    Active(String, String),
}

/// What an activation replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    /// The digest now active.
    pub active: String,
    /// The digest that was active before, now kept for rollback.
    pub previous: Option<String>,
}

impl Registry {
    /// Adds a loaded driver without activating it. Adding the same digest again is a no-op.
    pub fn add(&self, driver: Driver) {
        let _writer = self.write.lock().unwrap();
        let mut next = Snapshot::clone(&self.snapshot.load());
        next.names.entry(driver.name().to_string()).or_default();
        next.loaded
            .entry(driver.digest().to_string())
            .or_insert(driver);
        self.snapshot.store(Arc::new(next));
    }

    /// Makes a loaded driver the active version of its name. The version it replaces is kept
    /// for rollback.
    pub fn activate(&self, digest: &str) -> Result<Activation, RegistryError> {
        let _writer = self.write.lock().unwrap();
        let mut next = Snapshot::clone(&self.snapshot.load());
        let name = next
            .loaded
            .get(digest)
            .ok_or_else(|| RegistryError::UnknownDigest(digest.into()))?
            .name()
            .to_string();
        let slot = next.names.entry(name).or_default();
        if slot.active.as_deref() != Some(digest) {
            slot.previous = slot.active.take();
            slot.active = Some(digest.to_string());
        }
        let activation = Activation {
            active: digest.to_string(),
            previous: slot.previous.clone(),
        };
        self.snapshot.store(Arc::new(next));
        Ok(activation)
    }

    /// Swaps the active version of `name` with the one it replaced.
    pub fn rollback(&self, name: &str) -> Result<Activation, RegistryError> {
        let _writer = self.write.lock().unwrap();
        let mut next = Snapshot::clone(&self.snapshot.load());
        let slot = next
            .names
            .get_mut(name)
            .ok_or_else(|| RegistryError::UnknownName(name.into()))?;
        let Some(previous) = slot.previous.take() else {
            return Err(RegistryError::NothingToRollBack(name.into()));
        };
        slot.previous = slot.active.replace(previous.clone());
        let activation = Activation {
            active: previous,
            previous: slot.previous.clone(),
        };
        self.snapshot.store(Arc::new(next));
        Ok(activation)
    }

    /// Unloads a driver that is not active.
    pub fn remove(&self, digest: &str) -> Result<Driver, RegistryError> {
        let _writer = self.write.lock().unwrap();
        let mut next = Snapshot::clone(&self.snapshot.load());
        let driver = next
            .loaded
            .get(digest)
            .cloned()
            .ok_or_else(|| RegistryError::UnknownDigest(digest.into()))?;
        let slot = next.names.entry(driver.name().to_string()).or_default();
        if slot.active.as_deref() == Some(digest) {
            return Err(RegistryError::Active(digest.into(), driver.name().into()));
        }
        if slot.previous.as_deref() == Some(digest) {
            slot.previous = None;
        }
        next.loaded.remove(digest);
        if !next.loaded.values().any(|d| d.name() == driver.name()) {
            next.names.remove(driver.name());
        }
        self.snapshot.store(Arc::new(next));
        Ok(driver)
    }

    /// The active version of a driver.
    pub fn active(&self, name: &str) -> Option<Driver> {
        let snapshot = self.snapshot.load();
        let digest = snapshot.names.get(name)?.active.as_ref()?;
        snapshot.loaded.get(digest).cloned()
    }

    /// The version kept for rollback.
    pub fn previous(&self, name: &str) -> Option<Driver> {
        let snapshot = self.snapshot.load();
        let digest = snapshot.names.get(name)?.previous.as_ref()?;
        snapshot.loaded.get(digest).cloned()
    }

    /// A loaded driver by digest, active or not (workflows pin the digest they started with).
    pub fn get(&self, digest: &str) -> Option<Driver> {
        self.snapshot.load().loaded.get(digest).cloned()
    }

    /// Every loaded driver, by digest.
    pub fn all(&self) -> Vec<Driver> {
        self.snapshot.load().loaded.values().cloned().collect()
    }

    /// Whether `digest` is the active version of its driver.
    pub fn is_active(&self, digest: &str) -> bool {
        let snapshot = self.snapshot.load();
        snapshot
            .names
            .values()
            .any(|slot| slot.active.as_deref() == Some(digest))
    }
}
