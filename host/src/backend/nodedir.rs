//! Files in a node directory, as the host touches them. The host may run as root while the
//! node's own processes — a tenant's datastore, with whatever the tenant's root can do — own
//! every byte below the directory. So nothing here trusts a path: the node directory is held
//! open, every path is resolved from that descriptor with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS)` (a symbolic link at any component, or a path leaving the directory,
//! fails), and every later step acts on the descriptors obtained, so a node that swaps a
//! directory for a link between two steps gains nothing (no check-then-use).
//!
//! Files the host creates get the node's owner through the descriptor it wrote them with.

use std::ffi::OsStr;
use std::io::{Read as _, Write as _};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag, openat, openat2, readlinkat, renameat};
use nix::sys::stat::{FileStat, Mode, SFlag, fchmod, fstat, fstatat, mkdirat};
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchown, fchownat, symlinkat, unlinkat};

/// Who owns what the host creates in a node directory (`None`: the host's own user).
pub(crate) type Owner = Option<(u32, u32)>;

/// An open node directory.
pub(crate) struct NodeDir {
    fd: OwnedFd,
    owner: Owner,
}

fn resolve() -> ResolveFlag {
    ResolveFlag::RESOLVE_BENEATH
        | ResolveFlag::RESOLVE_NO_SYMLINKS
        | ResolveFlag::RESOLVE_NO_MAGICLINKS
        | ResolveFlag::RESOLVE_NO_XDEV
}

/// Says what went wrong in words a driver author understands.
fn explain(path: &Path, error: Errno) -> String {
    match error {
        Errno::ELOOP => format!(
            "{} is or passes through a symbolic link; the host does not follow links in node directories",
            path.display()
        ),
        Errno::EXDEV => format!("{} leads outside the node directory", path.display()),
        other => format!("{}: {}", path.display(), other.desc()),
    }
}

/// Splits a relative path into its parent and final name.
fn split(relative: &Path) -> Result<(&Path, &OsStr), String> {
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(format!(
            "{} is not a plain relative path",
            relative.display()
        ));
    }
    let name = relative
        .file_name()
        .ok_or_else(|| format!("{} names no file", relative.display()))?;
    Ok((relative.parent().unwrap_or(Path::new("")), name))
}

fn is_dir(stat: &FileStat) -> bool {
    SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
}

fn kind(stat: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT
}

impl NodeDir {
    /// Opens the directory `name` in `parent` (a directory only the host can write, so the
    /// entry itself cannot be swapped by a node).
    pub fn open(parent: &Path, name: &str, owner: Owner) -> Result<NodeDir, String> {
        let parent_fd = open_trusted_dir(parent)?;
        let fd = open_child_dir(parent_fd.as_fd(), OsStr::new(name))
            .map_err(|e| explain(&parent.join(name), e))?;
        Ok(NodeDir { fd, owner })
    }

    /// Creates the directory `name` in `parent` (mode 0700, owned by `owner`), or finishes one
    /// a killed host left half made, and opens it.
    pub fn create(parent: &Path, name: &str, owner: Owner) -> Result<NodeDir, String> {
        let parent_fd = open_trusted_dir(parent)?;
        match mkdirat(&parent_fd, name, Mode::from_bits_truncate(0o700)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(error) => return Err(explain(&parent.join(name), error)),
        }
        let fd = open_child_dir(parent_fd.as_fd(), OsStr::new(name))
            .map_err(|e| explain(&parent.join(name), e))?;
        set_owner_and_mode(fd.as_fd(), owner, 0o700).map_err(|e| explain(Path::new(name), e))?;
        Ok(NodeDir { fd, owner })
    }

    /// The directory `relative` below the node directory, created (0700, the node's) with any
    /// missing parents when `create` is set.
    fn dir(&self, relative: &Path, create: bool) -> Result<OwnedFd, String> {
        let mut current = self.dup()?;
        let mut walked = PathBuf::new();
        for part in relative.components() {
            let Component::Normal(name) = part else {
                return Err(format!(
                    "{} is not a plain relative path",
                    relative.display()
                ));
            };
            walked.push(name);
            let how = OpenHow::new()
                .flags(OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
                .resolve(resolve());
            let next = match openat2(&current, name, how) {
                Ok(fd) => fd,
                Err(Errno::ENOENT) if create => {
                    match mkdirat(&current, name, Mode::from_bits_truncate(0o700)) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(error) => return Err(explain(&walked, error)),
                    }
                    let fd = openat2(&current, name, how).map_err(|e| explain(&walked, e))?;
                    set_owner_and_mode(fd.as_fd(), self.owner, 0o700)
                        .map_err(|e| explain(&walked, e))?;
                    fd
                }
                Err(error) => return Err(explain(&walked, error)),
            };
            current = next;
        }
        Ok(current)
    }

    fn dup(&self) -> Result<OwnedFd, String> {
        self.fd.try_clone().map_err(|e| e.to_string())
    }

    /// Creates a directory and its missing parents (mode 0700, the node's). A directory a
    /// killed host left with another owner or mode is finished.
    pub fn create_dir(&self, relative: &Path) -> Result<(), String> {
        let fd = self.dir(relative, true)?;
        let stat = fstat(&fd).map_err(|e| explain(relative, e))?;
        let owner_differs = self
            .owner
            .is_some_and(|(uid, gid)| stat.st_uid != uid || stat.st_gid != gid);
        if owner_differs || stat.st_mode & 0o7777 != 0o700 {
            set_owner_and_mode(fd.as_fd(), self.owner, 0o700).map_err(|e| explain(relative, e))?;
        }
        Ok(())
    }

    /// Writes a file atomically: a new file beside it, renamed over it. A link or a file a
    /// node put in its place is replaced, never written through.
    pub fn write(&self, relative: &Path, contents: &[u8], mode: u32) -> Result<(), String> {
        let (parent, name) = split(relative)?;
        let parent_fd = self.dir(parent, true)?;
        // Unique per write, so that two writers of one file never share a temporary.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mut temporary = b".".to_vec();
        temporary.extend_from_slice(name.as_bytes());
        temporary.extend_from_slice(
            format!(
                ".drover-{}-{}",
                std::process::id(),
                WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            )
            .as_bytes(),
        );
        let temporary = OsStr::from_bytes(&temporary);
        let fd = openat(
            &parent_fd,
            temporary,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| explain(relative, e))?;
        let result = (|| {
            let mut file = std::fs::File::from(fd);
            file.write_all(contents)?;
            set_owner_and_mode(file.as_fd(), self.owner, mode & 0o777)?;
            file.sync_all()?;
            renameat(&parent_fd, temporary, &parent_fd, name)?;
            Ok::<(), std::io::Error>(())
        })();
        if let Err(error) = result {
            let _ = unlinkat(&parent_fd, temporary, UnlinkatFlags::NoRemoveDir);
            return Err(format!("writing {}: {error}", relative.display()));
        }
        Ok(())
    }

    /// Reads a regular file of at most `cap` bytes.
    pub fn read(&self, relative: &Path, cap: u64) -> Result<Vec<u8>, String> {
        let how = OpenHow::new()
            // Non-blocking: a FIFO a node put there must not hang the host.
            .flags(OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)
            .resolve(resolve());
        let fd = openat2(&self.fd, relative, how).map_err(|e| explain(relative, e))?;
        let stat = fstat(&fd).map_err(|e| explain(relative, e))?;
        if kind(&stat) != SFlag::S_IFREG {
            return Err(format!("{} is not a regular file", relative.display()));
        }
        if stat.st_size as u64 > cap {
            return Err(format!(
                "{} is {} bytes, more than the {cap} a driver may read",
                relative.display(),
                stat.st_size
            ));
        }
        let mut contents = Vec::new();
        std::fs::File::from(fd)
            .take(cap + 1)
            .read_to_end(&mut contents)
            .map_err(|e| format!("{}: {e}", relative.display()))?;
        if contents.len() as u64 > cap {
            return Err(format!(
                "{} grew past the {cap} bytes a driver may read",
                relative.display()
            ));
        }
        Ok(contents)
    }

    /// Whether a path exists. A link as the final component counts as existing and is not
    /// followed; a link before it is an error.
    pub fn exists(&self, relative: &Path) -> Result<bool, String> {
        let (parent, name) = split(relative)?;
        let parent_fd = match self.dir(parent, false) {
            Ok(fd) => fd,
            Err(_) if self.missing_parent(parent) => return Ok(false),
            Err(error) => return Err(error),
        };
        match fstatat(&parent_fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(_) => Ok(true),
            Err(Errno::ENOENT) => Ok(false),
            Err(error) => Err(explain(relative, error)),
        }
    }

    /// Whether some component of `parent` does not exist (as opposed to being a link).
    fn missing_parent(&self, parent: &Path) -> bool {
        let how = OpenHow::new()
            .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
            .resolve(resolve());
        matches!(
            openat2(&self.fd, parent, how),
            Err(Errno::ENOENT | Errno::ENOTDIR)
        )
    }

    /// Removes a file or a directory tree; nothing to remove is fine. Links are removed,
    /// never followed.
    pub fn remove(&self, relative: &Path) -> Result<(), String> {
        let (parent, name) = split(relative)?;
        let parent_fd = match self.dir(parent, false) {
            Ok(fd) => fd,
            Err(_) if self.missing_parent(parent) => return Ok(()),
            Err(error) => return Err(error),
        };
        remove_at(parent_fd.as_fd(), name).map_err(|e| explain(relative, e))
    }

    /// The bytes the files below the directory hold.
    pub fn disk_usage(&self) -> u64 {
        self.dup().map(|fd| usage(fd, 0)).unwrap_or(0)
    }

    /// Copies the tree `from` of another node directory to `to` in this one, owned by this
    /// node: complete or not at all (it is assembled beside `to` and renamed into place). Links
    /// are copied as links (not followed), other special files are left out.
    pub fn copy_tree(&self, source: &NodeDir, from: &Path, to: &Path) -> Result<(), String> {
        let source_fd = source.dir(from, false)?;
        let (parent, name) = split(to)?;
        let parent_fd = self.dir(parent, true)?;
        let mut partial = name.to_os_string();
        partial.push(".part");
        remove_at(parent_fd.as_fd(), &partial).map_err(|e| explain(to, e))?;
        copy_dir(source_fd, parent_fd.as_fd(), &partial, self.owner, 0)
            .map_err(|e| format!("copying {} into {}: {e}", from.display(), to.display()))?;
        remove_at(parent_fd.as_fd(), name).map_err(|e| explain(to, e))?;
        renameat(&parent_fd, partial.as_os_str(), &parent_fd, name).map_err(|e| explain(to, e))
    }
}

fn open_trusted_dir(path: &Path) -> Result<OwnedFd, String> {
    nix::fcntl::open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| explain(path, e))
}

fn set_owner_and_mode(fd: BorrowedFd<'_>, owner: Owner, mode: u32) -> Result<(), Errno> {
    if let Some((uid, gid)) = owner {
        fchown(fd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))?;
    }
    fchmod(fd, Mode::from_bits_truncate(mode))
}

/// Deeper than this, a tree is refused: a node could build one to exhaust the host's stack.
const MAX_DEPTH: usize = 256;

fn open_child_dir(dir: BorrowedFd<'_>, name: &OsStr) -> Result<OwnedFd, Errno> {
    openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

fn entries(dir: &OwnedFd) -> Result<Vec<Vec<u8>>, Errno> {
    let mut listing = nix::dir::Dir::from_fd(dir.try_clone().map_err(|_| Errno::EBADF)?)?;
    let mut names = Vec::new();
    for entry in listing.iter() {
        let name = entry?.file_name().to_bytes().to_vec();
        if name != b"." && name != b".." {
            names.push(name);
        }
    }
    Ok(names)
}

fn remove_at(parent: BorrowedFd<'_>, name: &OsStr) -> Result<(), Errno> {
    let stat = match fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(stat) => stat,
        Err(Errno::ENOENT) => return Ok(()),
        Err(error) => return Err(error),
    };
    if !is_dir(&stat) {
        return match unlinkat(parent, name, UnlinkatFlags::NoRemoveDir) {
            Err(Errno::ENOENT) => Ok(()),
            other => other,
        };
    }
    remove_tree(parent, name, 0)
}

fn remove_tree(parent: BorrowedFd<'_>, name: &OsStr, depth: usize) -> Result<(), Errno> {
    if depth > MAX_DEPTH {
        return Err(Errno::ELOOP);
    }
    let dir = match open_child_dir(parent, name) {
        Ok(fd) => fd,
        // Replaced by a file or link since it was looked at: remove that instead.
        Err(Errno::ENOTDIR | Errno::ELOOP) => {
            return unlinkat(parent, name, UnlinkatFlags::NoRemoveDir);
        }
        Err(Errno::ENOENT) => return Ok(()),
        Err(error) => return Err(error),
    };
    for entry in entries(&dir)? {
        let entry = OsStr::from_bytes(&entry);
        match fstatat(&dir, entry, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(stat) if is_dir(&stat) => remove_tree(dir.as_fd(), entry, depth + 1)?,
            Ok(_) => match unlinkat(&dir, entry, UnlinkatFlags::NoRemoveDir) {
                Ok(()) | Err(Errno::ENOENT) => {}
                Err(error) => return Err(error),
            },
            Err(Errno::ENOENT) => {}
            Err(error) => return Err(error),
        }
    }
    match unlinkat(parent, name, UnlinkatFlags::RemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(error) => Err(error),
    }
}

fn usage(dir: OwnedFd, depth: usize) -> u64 {
    if depth > MAX_DEPTH {
        return 0;
    }
    let Ok(names) = entries(&dir) else { return 0 };
    names
        .iter()
        .map(|name| {
            let name = OsStr::from_bytes(name);
            match fstatat(&dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
                Ok(stat) if is_dir(&stat) => open_child_dir(dir.as_fd(), name)
                    .map(|child| usage(child, depth + 1))
                    .unwrap_or(0),
                Ok(stat) if kind(&stat) == SFlag::S_IFREG => stat.st_size as u64,
                _ => 0,
            }
        })
        .sum()
}

fn copy_dir(
    source: OwnedFd,
    parent: BorrowedFd<'_>,
    name: &OsStr,
    owner: Owner,
    depth: usize,
) -> Result<(), std::io::Error> {
    if depth > MAX_DEPTH {
        return Err(Errno::ELOOP.into());
    }
    let mode = fstat(&source)?.st_mode & 0o777;
    mkdirat(parent, name, Mode::from_bits_truncate(0o700))?;
    let target = open_child_dir(parent, name)?;
    for entry in entries(&source)? {
        let entry = OsStr::from_bytes(&entry);
        let stat = fstatat(&source, entry, AtFlags::AT_SYMLINK_NOFOLLOW)?;
        match kind(&stat) {
            SFlag::S_IFDIR => copy_dir(
                open_child_dir(source.as_fd(), entry)?,
                target.as_fd(),
                entry,
                owner,
                depth + 1,
            )?,
            SFlag::S_IFREG => {
                let from = openat(
                    &source,
                    entry,
                    OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )?;
                if kind(&fstat(&from)?) != SFlag::S_IFREG {
                    continue;
                }
                let to = openat(
                    &target,
                    entry,
                    OFlag::O_WRONLY
                        | OFlag::O_CREAT
                        | OFlag::O_EXCL
                        | OFlag::O_NOFOLLOW
                        | OFlag::O_CLOEXEC,
                    Mode::from_bits_truncate(0o600),
                )?;
                let mut to = std::fs::File::from(to);
                std::io::copy(&mut std::fs::File::from(from), &mut to)?;
                set_owner_and_mode(to.as_fd(), owner, stat.st_mode & 0o777)?;
            }
            SFlag::S_IFLNK => {
                let link = readlinkat(&source, entry)?;
                symlinkat(link.as_os_str(), &target, entry)?;
                if let Some((uid, gid)) = owner {
                    fchownat(
                        &target,
                        entry,
                        Some(Uid::from_raw(uid)),
                        Some(Gid::from_raw(gid)),
                        AtFlags::AT_SYMLINK_NOFOLLOW,
                    )?;
                }
            }
            _ => {}
        }
    }
    set_owner_and_mode(target.as_fd(), owner, mode)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn me() -> Owner {
        Some((
            nix::unistd::getuid().as_raw(),
            nix::unistd::getgid().as_raw(),
        ))
    }

    #[test]
    fn a_half_made_directory_is_finished_on_the_next_attempt() {
        let root = tempfile::tempdir().unwrap();
        let node = NodeDir::create(root.path(), "n1", me()).unwrap();
        // As a host killed right after mkdir leaves it: the default mode.
        fs::create_dir(root.path().join("n1/run")).unwrap();
        fs::set_permissions(
            root.path().join("n1/run"),
            fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        node.create_dir(Path::new("run")).unwrap();
        let made = fs::metadata(root.path().join("n1/run")).unwrap();
        assert_eq!(made.mode() & 0o7777, 0o700);
    }

    #[test]
    fn files_stay_inside_the_node_directory() {
        let root = tempfile::tempdir().unwrap();
        let node = NodeDir::create(root.path(), "n1", me()).unwrap();
        let dir = root.path().join("n1");
        // Writing creates parents and the file with its mode.
        node.write(Path::new("conf/server.conf"), b"port 1\n", 0o600)
            .unwrap();
        assert_eq!(
            node.read(Path::new("conf/server.conf"), 1024).unwrap(),
            b"port 1\n"
        );
        assert_eq!(
            fs::metadata(dir.join("conf/server.conf")).unwrap().mode() & 0o777,
            0o600
        );
        // A link a node process planted is neither read nor written through.
        let outside = root.path().join("outside");
        fs::write(&outside, b"host file").unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("planted")).unwrap();
        assert!(
            node.read(Path::new("planted"), 1 << 20)
                .unwrap_err()
                .contains("symbolic link")
        );
        // Writing replaces the link itself.
        node.write(Path::new("planted"), b"x", 0o600).unwrap();
        assert_eq!(fs::read(&outside).unwrap(), b"host file");
        assert!(
            !fs::symlink_metadata(dir.join("planted"))
                .unwrap()
                .is_symlink()
        );
        // Nor a directory link leading out, in any component.
        fs::create_dir(root.path().join("elsewhere")).unwrap();
        fs::write(root.path().join("elsewhere/secret"), b"s").unwrap();
        std::os::unix::fs::symlink(root.path().join("elsewhere"), dir.join("out")).unwrap();
        assert!(
            node.read(Path::new("out/secret"), 1024)
                .unwrap_err()
                .contains("symbolic link")
        );
        assert!(node.write(Path::new("out/new"), b"x", 0o600).is_err());
        assert!(node.create_dir(Path::new("out/deeper")).is_err());
        assert!(!root.path().join("elsewhere/new").exists());
        assert!(node.exists(Path::new("out/secret")).is_err());
        // A final link exists, and removing it removes the link only.
        assert!(node.exists(Path::new("out")).unwrap());
        node.remove(Path::new("out")).unwrap();
        assert!(root.path().join("elsewhere/secret").exists());
        // A FIFO is not read (and does not hang the host).
        nix::unistd::mkfifo(&dir.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        assert!(
            node.read(Path::new("fifo"), 1024)
                .unwrap_err()
                .contains("not a regular file")
        );
        // Reads are capped.
        assert!(
            node.read(Path::new("conf/server.conf"), 3)
                .unwrap_err()
                .contains("more than")
        );
        // Removing what is not there is fine; a tree goes with its links, not their targets.
        node.remove(Path::new("nothing/here")).unwrap();
        std::os::unix::fs::symlink(root.path().join("elsewhere"), dir.join("conf/link")).unwrap();
        node.remove(Path::new("conf")).unwrap();
        assert!(!dir.join("conf").exists());
        assert!(root.path().join("elsewhere/secret").exists());
        assert!(!node.exists(Path::new("conf/server.conf")).unwrap());
    }

    #[test]
    fn a_tree_is_copied_without_following_its_links() {
        let root = tempfile::tempdir().unwrap();
        let from = NodeDir::create(root.path(), "a", me()).unwrap();
        let to = NodeDir::create(root.path(), "b", me()).unwrap();
        from.write(Path::new("snap/data/base/1"), b"rows", 0o640)
            .unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.path().join("a/snap/data/link")).unwrap();
        to.copy_tree(&from, Path::new("snap"), Path::new(".copy"))
            .unwrap();
        assert_eq!(
            fs::read(root.path().join("b/.copy/data/base/1")).unwrap(),
            b"rows"
        );
        assert_eq!(
            fs::metadata(root.path().join("b/.copy/data/base/1"))
                .unwrap()
                .mode()
                & 0o777,
            0o640
        );
        assert_eq!(
            fs::read_link(root.path().join("b/.copy/data/link")).unwrap(),
            Path::new("/etc/passwd")
        );
        // Copying again replaces the copy.
        to.copy_tree(&from, Path::new("snap"), Path::new(".copy"))
            .unwrap();
        assert_eq!(to.disk_usage(), 4);
    }
}
