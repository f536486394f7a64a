//! Pinned network namespaces, as containerd's CRI makes them: an empty file, and a short-lived
//! thread of its own that unshares its network namespace and bind-mounts it onto the file. The
//! namespace lives as long as the mount, across task restarts. Never on a tokio or libuv thread:
//! unshare changes the calling thread for good.

use crate::error::{Code, Error, Result};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

fn cstring(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::invalid_argument("path contains a NUL byte"))
}

fn os_error(what: String) -> Error {
    Error::new(Code::Internal, format!("{what}: {}", std::io::Error::last_os_error()))
}

/// Creates a new network namespace pinned at `path` (which must not exist).
pub fn create(path: &Path) -> Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::new(Code::Internal, format!("creating {}: {e}", path.display())))?;
    let target = cstring(path)?;
    let pinned = std::thread::spawn(move || -> Result<()> {
        // SAFETY: this thread is ours alone and ends right after; unshare and mount take valid
        // NUL-terminated paths.
        unsafe {
            if libc::unshare(libc::CLONE_NEWNET) != 0 {
                return Err(os_error("unshare(CLONE_NEWNET)".into()));
            }
            let source = c"/proc/thread-self/ns/net";
            if libc::mount(source.as_ptr(), target.as_ptr(), std::ptr::null(), libc::MS_BIND, std::ptr::null()) != 0 {
                return Err(os_error("bind-mounting the network namespace".into()));
            }
        }
        Ok(())
    })
    .join()
    .unwrap_or_else(|_| Err(Error::new(Code::Internal, "the namespace thread panicked")));
    if pinned.is_err() {
        let _ = std::fs::remove_file(path);
    }
    pinned
}

/// Unpins and removes `path`; a missing file or a file that is not mounted is fine.
pub fn remove(path: &Path) -> Result<()> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    let target = cstring(path)?;
    // SAFETY: umount2 with a valid NUL-terminated path; MNT_DETACH also releases a busy mount.
    if unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) } != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINVAL) {
            return Err(Error::new(Code::Internal, format!("unmounting {}: {err}", path.display())));
        }
    }
    std::fs::remove_file(path).map_err(|e| Error::new(Code::Internal, format!("removing {}: {e}", path.display())))
}
