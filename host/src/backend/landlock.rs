//! The few Landlock calls node confinement needs, as raw system calls.
//!
//! Written out rather than taken from the `landlock` crate: a node's ruleset is built once, from
//! paths as the node sees them (by the node's anchor thread, inside its root: its private `/tmp`
//! exists nowhere else), kept as a descriptor, and enforced by every process the node starts in
//! the forked child, where nothing may allocate. The crate's ruleset is consumed by the one
//! thread that restricts itself with it. The structures and constants are the kernel's
//! (`include/uapi/linux/landlock.h`); which rights exist depends on the ABI version the kernel
//! reports, and only those are handled, so an older kernel still confines what it can.

use std::ffi::CStr;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// `LANDLOCK_ACCESS_FS_*` (those this module names; ABI 1 has bits 0 to 12).
pub mod fs {
    pub const EXECUTE: u64 = 1 << 0;
    pub const WRITE_FILE: u64 = 1 << 1;
    pub const READ_FILE: u64 = 1 << 2;
    pub const READ_DIR: u64 = 1 << 3;
    pub const MAKE_CHAR: u64 = 1 << 6;
    pub const MAKE_BLOCK: u64 = 1 << 11;
    /// ABI 2.
    pub const REFER: u64 = 1 << 13;
    /// ABI 3.
    pub const TRUNCATE: u64 = 1 << 14;
    /// ABI 5.
    pub const IOCTL_DEV: u64 = 1 << 15;
    /// Rights that apply to files (the others apply to directories only).
    pub const FILE: u64 = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV;
}

/// `LANDLOCK_ACCESS_NET_*` (ABI 4).
pub mod net {
    pub const BIND_TCP: u64 = 1 << 0;
    pub const CONNECT_TCP: u64 = 1 << 1;
}

/// `LANDLOCK_SCOPE_*` (ABI 6).
pub mod scope {
    pub const ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
    pub const SIGNAL: u64 = 1 << 1;
}

const CREATE_RULESET_VERSION: u32 = 1 << 0;
const RULE_PATH_BENEATH: libc::c_int = 1;
const RULE_NET_PORT: libc::c_int = 2;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

#[repr(C)]
struct NetPortAttr {
    allowed_access: u64,
    port: u64,
}

/// What the running kernel's Landlock offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abi {
    /// The ABI version; 0 when Landlock is unavailable.
    pub version: u32,
    /// Every file-system right this ABI knows.
    pub fs: u64,
    /// Every network right this ABI knows.
    pub net: u64,
    /// Every scope this ABI knows.
    pub scoped: u64,
}

impl Abi {
    /// Asks the kernel.
    pub fn detect() -> Abi {
        // SAFETY: the documented way to ask for the ABI version: no attribute, size 0.
        let version = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<RulesetAttr>(),
                0usize,
                CREATE_RULESET_VERSION,
            )
        };
        Abi::of(u32::try_from(version).unwrap_or(0))
    }

    /// The rights of ABI `version`.
    pub fn of(version: u32) -> Abi {
        let mut fs = if version >= 1 { (1 << 13) - 1 } else { 0 };
        if version >= 2 {
            fs |= fs::REFER;
        }
        if version >= 3 {
            fs |= fs::TRUNCATE;
        }
        if version >= 5 {
            fs |= fs::IOCTL_DEV;
        }
        Abi {
            version,
            fs,
            net: if version >= 4 {
                net::BIND_TCP | net::CONNECT_TCP
            } else {
                0
            },
            scoped: if version >= 6 {
                scope::ABSTRACT_UNIX_SOCKET | scope::SIGNAL
            } else {
                0
            },
        }
    }

    fn attr_size(&self) -> usize {
        match self.version {
            0..=3 => 8,
            4 | 5 => 16,
            _ => 24,
        }
    }
}

/// A ruleset under construction, as a raw descriptor (closed on drop).
pub struct Ruleset {
    fd: RawFd,
}

impl Ruleset {
    /// A ruleset handling the given rights. Async-signal-safe.
    pub fn new(abi: &Abi, fs: u64, net: u64, scoped: u64) -> Result<Ruleset, i32> {
        let attr = RulesetAttr {
            handled_access_fs: fs & abi.fs,
            handled_access_net: net & abi.net,
            scoped: scoped & abi.scoped,
        };
        // SAFETY: a valid attribute of at least the size passed.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                &attr as *const RulesetAttr,
                abi.attr_size(),
                0u32,
            )
        };
        if fd < 0 {
            return Err(errno());
        }
        Ok(Ruleset { fd: fd as RawFd })
    }

    /// Allows `allowed` beneath `path` (a directory, or a file for file rights only). A path
    /// that does not exist is skipped. Async-signal-safe.
    pub fn allow_path(&self, path: &CStr, allowed: u64) -> Result<(), i32> {
        // SAFETY: a valid NUL-terminated path.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
        if fd < 0 {
            let error = errno();
            return if error == libc::ENOENT {
                Ok(())
            } else {
                Err(error)
            };
        }
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fd is open; stat is a valid out-pointer.
        let is_dir = unsafe { libc::fstat(fd, &mut stat) } == 0
            && stat.st_mode & libc::S_IFMT == libc::S_IFDIR;
        let attr = PathBeneathAttr {
            allowed_access: if is_dir { allowed } else { allowed & fs::FILE },
            parent_fd: fd,
        };
        // SAFETY: a valid rule attribute for a ruleset this value owns.
        let result = unsafe {
            libc::syscall(
                libc::SYS_landlock_add_rule,
                self.fd,
                RULE_PATH_BENEATH,
                &attr as *const PathBeneathAttr,
                0u32,
            )
        };
        let error = errno();
        // SAFETY: closing the descriptor opened above.
        unsafe { libc::close(fd) };
        if result < 0 { Err(error) } else { Ok(()) }
    }

    /// Allows `allowed` on TCP `port`. Async-signal-safe.
    pub fn allow_port(&self, port: u16, allowed: u64) -> Result<(), i32> {
        let attr = NetPortAttr {
            allowed_access: allowed,
            port: u64::from(port),
        };
        // SAFETY: a valid rule attribute for a ruleset this value owns.
        let result = unsafe {
            libc::syscall(
                libc::SYS_landlock_add_rule,
                self.fd,
                RULE_NET_PORT,
                &attr as *const NetPortAttr,
                0u32,
            )
        };
        if result < 0 { Err(errno()) } else { Ok(()) }
    }

    /// The descriptor, kept open beyond this value (a node's ruleset, which each of its
    /// processes restricts itself with).
    pub fn into_fd(self) -> OwnedFd {
        let fd = self.fd;
        std::mem::forget(self);
        // SAFETY: this value owned the descriptor and gives it up.
        unsafe { OwnedFd::from_raw_fd(fd) }
    }
}

impl Drop for Ruleset {
    fn drop(&mut self) {
        // SAFETY: closing a descriptor this value owns.
        unsafe { libc::close(self.fd) };
    }
}

/// Restricts the calling thread to the ruleset `fd`. Needs no-new-privileges (or
/// CAP_SYS_ADMIN). Async-signal-safe.
pub fn restrict_self(fd: RawFd) -> Result<(), i32> {
    // SAFETY: the ruleset descriptor is valid for the call.
    let result = unsafe { libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) };
    if result < 0 { Err(errno()) } else { Ok(()) }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_grow_with_the_abi() {
        assert_eq!(Abi::of(0).fs, 0);
        assert_eq!(Abi::of(1).fs, (1 << 13) - 1);
        assert_eq!(Abi::of(3).fs & fs::TRUNCATE, fs::TRUNCATE);
        assert_eq!(Abi::of(3).net, 0);
        assert_eq!(Abi::of(4).net, net::BIND_TCP | net::CONNECT_TCP);
        assert_eq!(Abi::of(5).scoped, 0);
        assert_eq!(
            Abi::of(7).scoped,
            scope::ABSTRACT_UNIX_SOCKET | scope::SIGNAL
        );
        assert_eq!(std::mem::size_of::<PathBeneathAttr>(), 12);
    }
}
