//! One Unix identity per node: a user and a group of its own, so that no node can read,
//! write, connect to or signal what another node has (when the host runs as root).
//!
//! Identities come from a configured uid range. Which node holds which uid is recorded in a
//! claims directory shared by every Drover service on the machine (uids are a machine's, not a
//! state directory's): one file per claimed uid, naming the node directory that holds it,
//! which exists before the claim is made. A claim is given to another node only once its node
//! directory is gone and no process runs with its uid, so a uid is reused only after its node
//! is deleted and its files are gone.
//! Accounts are created on demand (`groupadd`, `useradd`): datastore programs look their user
//! up by uid.

use std::fs;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

/// A node's user and group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// Its uid.
    pub uid: u32,
    /// Its gid (equal to the uid).
    pub gid: u32,
}

impl Identity {
    /// The account's name.
    pub fn name(&self) -> String {
        account_name(self.uid)
    }
}

fn account_name(uid: u32) -> String {
    format!("drover-{uid}")
}

/// The allocator.
#[derive(Debug, Clone)]
pub(crate) struct Identities {
    range: (u32, u32),
    claims: PathBuf,
}

/// Whether any process runs with `uid` as its real, effective or saved uid.
pub(crate) fn processes_of(uid: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| process_uid(*pid) == Some(uid))
        .collect()
}

/// The real uid of a process, from the kernel.
pub(crate) fn process_uid(pid: u32) -> Option<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

impl Identities {
    /// An allocator for `range` (inclusive) keeping claims in `claims`.
    pub fn new(range: (u32, u32), claims: &Path) -> anyhow::Result<Identities> {
        anyhow::ensure!(
            range.0 >= 1000 && range.0 <= range.1,
            "backend.uid_range [{}, {}] must be a non-empty range of uids from 1000",
            range.0,
            range.1
        );
        fs::create_dir_all(claims)?;
        fs::set_permissions(claims, fs::Permissions::from_mode(0o700))?;
        Ok(Identities {
            range,
            claims: claims.to_path_buf(),
        })
    }

    fn claim_file(&self, uid: u32) -> PathBuf {
        self.claims.join(uid.to_string())
    }

    /// The identity `node_dir` holds, claiming a free one if it holds none. Idempotent.
    pub fn claim(&self, node_dir: &Path, held: Option<Identity>) -> Result<Identity, String> {
        let _lock = self.lock()?;
        if let Some(identity) = held
            && self.holder(identity.uid).as_deref() == Some(node_dir)
        {
            ensure_account(identity)?;
            return Ok(identity);
        }
        for uid in self.range.0..=self.range.1 {
            let free = match self.holder(uid) {
                None => true,
                Some(holder) if holder == node_dir => true,
                // Left by a node whose directory is gone (deleted, or a state directory
                // removed) and whose processes are gone too.
                Some(holder) => !holder.exists() && processes_of(uid).is_empty(),
            };
            if !free || !account_usable(uid) {
                continue;
            }
            let identity = Identity { uid, gid: uid };
            ensure_account(identity)?;
            self.write_claim(uid, node_dir)?;
            return Ok(identity);
        }
        Err(format!(
            "every uid of backend.uid_range [{}, {}] is held by a node",
            self.range.0, self.range.1
        ))
    }

    /// The identity the claims give `node_dir`, if any.
    pub fn held_by(&self, node_dir: &Path) -> Option<Identity> {
        fs::read_dir(&self.claims)
            .ok()?
            .flatten()
            .find_map(|entry| {
                let uid: u32 = entry.file_name().to_str()?.parse().ok()?;
                (self.holder(uid).as_deref() == Some(node_dir))
                    .then_some(Identity { uid, gid: uid })
            })
    }

    /// Gives a node's identity back, once its directory is gone.
    pub fn release(&self, identity: Identity, node_dir: &Path) -> Result<(), String> {
        let _lock = self.lock()?;
        if self.holder(identity.uid).as_deref() == Some(node_dir) {
            fs::remove_file(self.claim_file(identity.uid))
                .map_err(|e| format!("releasing uid {}: {e}", identity.uid))?;
        }
        Ok(())
    }

    fn holder(&self, uid: u32) -> Option<PathBuf> {
        fs::read_to_string(self.claim_file(uid))
            .ok()
            .map(|text| PathBuf::from(text.trim_end_matches('\n')))
    }

    fn write_claim(&self, uid: u32, node_dir: &Path) -> Result<(), String> {
        let mut line = node_dir.as_os_str().as_encoded_bytes().to_vec();
        line.push(b'\n');
        super::write_private(&self.claim_file(uid), &line, super::Durability::Machine)
            .map_err(|e| format!("claiming uid {uid}: {e}"))
    }

    fn lock(&self) -> Result<Flock<fs::File>, String> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.claims.join(".lock"))
            .map_err(|e| format!("{}: {e}", self.claims.display()))?;
        Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| format!("locking {}: {e}", self.claims.display()))
    }
}

/// Whether `uid` is free for Drover to use: no account, or one Drover made.
fn account_usable(uid: u32) -> bool {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => user.name == account_name(uid),
        Ok(None) => group_usable(uid),
        Err(_) => false,
    }
}

fn group_usable(gid: u32) -> bool {
    match nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid)) {
        Ok(Some(group)) => group.name == account_name(gid),
        Ok(None) => true,
        Err(_) => false,
    }
}

/// Creates the node's group and user unless they exist: no home, no login shell.
fn ensure_account(identity: Identity) -> Result<(), String> {
    let name = identity.name();
    if nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(identity.gid))
        .ok()
        .flatten()
        .is_none()
    {
        run(
            "groupadd",
            &["--system", "--gid", &identity.gid.to_string(), &name],
        )?;
    }
    if nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(identity.uid))
        .ok()
        .flatten()
        .is_none()
    {
        run(
            "useradd",
            &[
                "--system",
                "--uid",
                &identity.uid.to_string(),
                "--gid",
                &identity.gid.to_string(),
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "Drover node",
                &name,
            ],
        )?;
    }
    Ok(())
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let output = std::process::Command::new(program)
        .args(args)
        .env("PATH", super::SEARCH_PATH)
        .output()
        .map_err(|e| format!("{program}: {e} (install the Debian package passwd)"))?;
    // Two services creating the same account at once: the loser finds it made.
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() || stderr.contains("already exists") {
        return Ok(());
    }
    Err(format!("{program} {}: {}", args.join(" "), stderr.trim()))
}
