//! Files in node directories. The host may run as root while drivers choose the paths, so every
//! operation stays inside the node directory: parents are checked after resolving symbolic
//! links, and the final component is never followed if it is a link (a node process could
//! have planted one pointing at a host file).

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::RunAs;

/// Creates the nodes directory and makes sure the node user can reach it.
pub fn prepare_nodes_dir(nodes_dir: &Path, run_as: Option<&RunAs>) -> anyhow::Result<()> {
    fs::create_dir_all(nodes_dir)?;
    let Some(run_as) = run_as else { return Ok(()) };
    // The node user must be able to traverse (not list) the nodes directory and the state
    // directory above it, which this service owns; further ancestors are the operator's.
    for (depth, dir) in nodes_dir.ancestors().enumerate() {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let dir = fs::canonicalize(dir)?;
        let metadata = fs::metadata(&dir)?;
        let mode = metadata.permissions().mode();
        use std::os::unix::fs::MetadataExt;
        let traversable = mode & 0o001 != 0
            || (metadata.uid() == run_as.uid && mode & 0o100 != 0)
            || (metadata.gid() == run_as.gid && mode & 0o010 != 0);
        if traversable {
            continue;
        }
        if depth <= 1 {
            fs::set_permissions(&dir, fs::Permissions::from_mode((mode | 0o011) & 0o7777))?;
        } else {
            anyhow::bail!(
                "the node user {} cannot reach {} ({} is not searchable by it): put the state directory where that user can \
                 traverse, or give the directory o+x",
                run_as.name,
                nodes_dir.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

fn chown(path: &Path, run_as: Option<&RunAs>) -> Result<(), String> {
    if let Some(run_as) = run_as {
        std::os::unix::fs::lchown(path, Some(run_as.uid), Some(run_as.gid))
            .map_err(|e| format!("chown {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Creates a node directory, mode 0700, owned by the node user.
pub fn create_node_dir(dir: &Path, run_as: Option<&RunAs>) -> Result<(), String> {
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(format!("creating {}: {error}", dir.display())),
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
    chown(dir, run_as)?;
    create_dir(dir, Path::new(".drover"), run_as)
}

/// The absolute path of `relative` in `dir`, after checking that its parent resolves inside
/// `dir` and that it is not itself a symbolic link.
fn inside(dir: &Path, relative: &Path) -> Result<PathBuf, String> {
    let target = dir.join(relative);
    let root =
        fs::canonicalize(dir).map_err(|e| format!("node directory {}: {e}", dir.display()))?;
    let mut existing = target
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.to_path_buf());
    while !existing.exists() {
        existing = match existing.parent() {
            Some(parent) => parent.to_path_buf(),
            None => break,
        };
    }
    let resolved = fs::canonicalize(&existing).map_err(|e| e.to_string())?;
    if !resolved.starts_with(&root) {
        return Err(format!(
            "{} leads outside the node directory",
            relative.display()
        ));
    }
    if fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!(
            "{} is a symbolic link; the host does not follow links in node directories",
            relative.display()
        ));
    }
    Ok(target)
}

/// Creates a directory and its missing parents (mode 0700, owned by the node user).
pub fn create_dir(dir: &Path, relative: &Path, run_as: Option<&RunAs>) -> Result<(), String> {
    let mut current = dir.to_path_buf();
    for part in relative.components() {
        current.push(part);
        let checked = inside(dir, current.strip_prefix(dir).unwrap())?;
        match fs::create_dir(&checked) {
            Ok(()) => {
                fs::set_permissions(&checked, fs::Permissions::from_mode(0o700))
                    .map_err(|e| e.to_string())?;
                chown(&checked, run_as)?;
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && checked.is_dir() => {
                // A host killed between creating it and setting it up left it half made (its
                // default mode, root's): finish the job.
                let found = fs::symlink_metadata(&checked).map_err(|e| e.to_string())?;
                let owner_differs = run_as.is_some_and(|run_as| found.uid() != run_as.uid);
                if owner_differs || found.mode() & 0o7777 != 0o700 {
                    fs::set_permissions(&checked, fs::Permissions::from_mode(0o700))
                        .map_err(|e| e.to_string())?;
                    chown(&checked, run_as)?;
                }
            }
            Err(error) => return Err(format!("creating {}: {error}", relative.display())),
        }
    }
    Ok(())
}

/// Writes a file atomically: a temporary file in the same directory, renamed into place.
pub fn write(
    dir: &Path,
    relative: &Path,
    contents: &[u8],
    mode: u32,
    run_as: Option<&RunAs>,
) -> Result<(), String> {
    if let Some(parent) = relative.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir(dir, parent, run_as)?;
    }
    let target = inside(dir, relative)?;
    // Unique per write, so that two writers of one file never share a temporary.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let temporary = target.with_file_name(format!(
        ".{}.drover-{}-{}",
        target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("file"),
        std::process::id(),
        WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(mode)
            .open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::set_permissions(&temporary, fs::Permissions::from_mode(mode))?;
        Ok::<(), std::io::Error>(())
    })();
    if let Err(error) = result {
        let _ = fs::remove_file(&temporary);
        return Err(format!("writing {}: {error}", relative.display()));
    }
    chown(&temporary, run_as)?;
    fs::rename(&temporary, &target).map_err(|e| format!("writing {}: {e}", relative.display()))
}

/// Reads a file of at most `cap` bytes.
pub fn read(dir: &Path, relative: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let target = inside(dir, relative)?;
    let metadata = fs::metadata(&target).map_err(|e| format!("{}: {e}", relative.display()))?;
    if metadata.len() > cap {
        return Err(format!(
            "{} is {} bytes, more than the {cap} a driver may read",
            relative.display(),
            metadata.len()
        ));
    }
    fs::read(&target).map_err(|e| format!("{}: {e}", relative.display()))
}

/// Whether a path exists (a symbolic link counts as existing, and is not followed).
pub fn exists(dir: &Path, relative: &Path) -> Result<bool, String> {
    let target = dir.join(relative);
    if fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink()) {
        return Ok(true);
    }
    Ok(inside(dir, relative)?.exists())
}

/// Removes a file or directory tree; nothing to remove is fine. A symbolic link is removed,
/// never followed.
pub fn remove(dir: &Path, relative: &Path) -> Result<(), String> {
    let target = dir.join(relative);
    let Ok(metadata) = fs::symlink_metadata(&target) else {
        return Ok(());
    };
    let parent = target.parent().unwrap_or(dir);
    let root = fs::canonicalize(dir).map_err(|e| e.to_string())?;
    if !fs::canonicalize(parent)
        .map_err(|e| e.to_string())?
        .starts_with(&root)
    {
        return Err(format!(
            "{} leads outside the node directory",
            relative.display()
        ));
    }
    let result = if metadata.is_dir() {
        fs::remove_dir_all(&target)
    } else {
        fs::remove_file(&target)
    };
    result.map_err(|e| format!("removing {}: {e}", relative.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_made_directory_is_finished_on_the_next_attempt() {
        let root = tempfile::tempdir().unwrap();
        let node = root.path().join("n1");
        fs::create_dir(&node).unwrap();
        // As a host killed right after mkdir leaves it: the default mode.
        fs::create_dir(node.join("run")).unwrap();
        fs::set_permissions(node.join("run"), fs::Permissions::from_mode(0o755)).unwrap();
        let me = RunAs {
            uid: fs::metadata(&node).unwrap().uid(),
            gid: fs::metadata(&node).unwrap().gid(),
            name: "me".into(),
        };
        create_dir(&node, Path::new("run"), Some(&me)).unwrap();
        let made = fs::metadata(node.join("run")).unwrap();
        assert_eq!(made.mode() & 0o7777, 0o700);
        assert_eq!(made.uid(), me.uid);
    }

    #[test]
    fn files_stay_inside_the_node_directory() {
        let root = tempfile::tempdir().unwrap();
        let node = root.path().join("n1");
        fs::create_dir(&node).unwrap();
        // Writing creates parents and the file with its mode.
        write(
            &node,
            Path::new("conf/server.conf"),
            b"port 1\n",
            0o600,
            None,
        )
        .unwrap();
        assert_eq!(
            read(&node, Path::new("conf/server.conf"), 1024).unwrap(),
            b"port 1\n"
        );
        assert_eq!(
            fs::metadata(node.join("conf/server.conf"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        // A link a node process planted is neither read nor written through.
        std::os::unix::fs::symlink("/etc/passwd", node.join("planted")).unwrap();
        assert!(
            read(&node, Path::new("planted"), 1 << 20)
                .unwrap_err()
                .contains("symbolic link")
        );
        assert!(write(&node, Path::new("planted"), b"x", 0o600, None).is_err());
        assert!(fs::read_to_string("/etc/passwd").unwrap().contains("root"));
        // Nor a directory link leading out.
        fs::create_dir(root.path().join("elsewhere")).unwrap();
        fs::write(root.path().join("elsewhere/secret"), b"s").unwrap();
        std::os::unix::fs::symlink(root.path().join("elsewhere"), node.join("out")).unwrap();
        assert!(
            read(&node, Path::new("out/secret"), 1024)
                .unwrap_err()
                .contains("outside")
        );
        assert!(write(&node, Path::new("out/new"), b"x", 0o600, None).is_err());
        assert!(!root.path().join("elsewhere/new").exists());
        // Removing a link removes the link only.
        remove(&node, Path::new("planted")).unwrap();
        assert!(Path::new("/etc/passwd").exists());
        // Reads are capped.
        assert!(
            read(&node, Path::new("conf/server.conf"), 3)
                .unwrap_err()
                .contains("more than")
        );
        // Removing what is not there is fine.
        remove(&node, Path::new("nothing/here")).unwrap();
    }
}
