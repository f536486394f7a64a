//! Task and exec stdio. `ignore` gives the shim no paths (it uses /dev/null); `logFile` gives it a
//! `file://` URI it appends stdout and stderr to (this also works for remote daemons); `inherit`
//! uses FIFOs in a private 0700 directory whose read ends this process pumps into its own
//! stdout/stderr.
//!
//! The FIFO pitfalls: a non-blocking read end reports EOF while no writer is connected, so until
//! the shim has opened its end we hold a placeholder writer; it is dropped once Tasks.Create or
//! Exec returned, after which EOF really means the process closed its output. The FIFO files are
//! unlinked at that point too (the open descriptors keep working), so nothing is left on disk.

use super::error::{Code, Error, Result};
use std::fs::{File, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdioMode {
    Ignore,
    Inherit,
    /// An absolute path on the daemon's host.
    LogFile(String),
}

/// The stdio paths for Tasks.Create / Exec, and what must happen once the shim has them.
pub struct PreparedIo {
    pub stdin: String,
    pub stdout: String,
    pub stderr: String,
    pub terminal: bool,
    dir: Option<PathBuf>,
    placeholders: Vec<File>,
    /// Read ends and where their bytes go (1 = our stdout, 2 = our stderr).
    pumps: Vec<(pipe::Receiver, i32)>,
}

fn io_error(what: &str, e: std::io::Error) -> Error {
    Error::new(Code::Internal, format!("{what}: {e}"))
}

fn mkfifo(path: &Path) -> std::io::Result<()> {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl PreparedIo {
    pub fn prepare(mode: &StdioMode, terminal: bool, id: &str) -> Result<PreparedIo> {
        let mut io = PreparedIo {
            stdin: String::new(),
            stdout: String::new(),
            stderr: String::new(),
            terminal,
            dir: None,
            placeholders: Vec::new(),
            pumps: Vec::new(),
        };
        match mode {
            StdioMode::Ignore => {}
            StdioMode::LogFile(path) => {
                if !Path::new(path).is_absolute() {
                    return Err(Error::invalid_argument(format!("logFile must be an absolute path, got {path:?}")));
                }
                io.stdout = format!("file://{path}");
                io.stderr = io.stdout.clone();
            }
            StdioMode::Inherit => {
                let dir = std::env::temp_dir().join(format!("containerd-napi-fifo-{:016x}", rand::random::<u64>()));
                std::fs::DirBuilder::new().mode(0o700).create(&dir).map_err(|e| io_error("create fifo dir", e))?;
                io.dir = Some(dir.clone());
                // With a terminal the shim has one output stream.
                let streams: &[(&str, i32)] = if terminal { &[("stdout", 1)] } else { &[("stdout", 1), ("stderr", 2)] };
                for (name, target) in streams {
                    let path = dir.join(format!("{id}-{name}"));
                    io.open_reader(&path, *target).map_err(|e| {
                        io.abandon_ref();
                        io_error("open fifo", e)
                    })?;
                    let uri = path.to_string_lossy().into_owned();
                    if *name == "stdout" {
                        io.stdout = uri;
                    } else {
                        io.stderr = uri;
                    }
                }
            }
        }
        Ok(io)
    }

    fn open_reader(&mut self, path: &Path, target: i32) -> std::io::Result<()> {
        mkfifo(path)?;
        let read = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
        // Succeeds because a reader exists; keeps the read end from seeing EOF before the shim opens.
        let placeholder = OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(path)?;
        self.placeholders.push(placeholder);
        self.pumps.push((pipe::Receiver::from_file(read)?, target));
        Ok(())
    }

    /// The shim has its ends: release the placeholders, unlink the FIFOs, start the pumps.
    pub fn opened(mut self) {
        self.placeholders.clear();
        self.remove_dir();
        for (mut reader, target) in self.pumps.drain(..) {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> =
                    if target == 1 { Box::new(tokio::io::stdout()) } else { Box::new(tokio::io::stderr()) };
                while let Ok(n) = reader.read(&mut buf).await {
                    if n == 0 || out.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    let _ = out.flush().await;
                }
            });
        }
    }

    /// Creating the process failed: close and remove everything.
    pub fn abandon(mut self) {
        self.abandon_ref();
    }

    fn abandon_ref(&mut self) {
        self.placeholders.clear();
        self.pumps.clear();
        self.remove_dir();
    }

    fn remove_dir(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Drop for PreparedIo {
    fn drop(&mut self) {
        self.remove_dir();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn inherit_makes_private_fifos_and_removes_them() {
        let io = PreparedIo::prepare(&StdioMode::Inherit, false, "t1").unwrap();
        let dir = io.dir.clone().unwrap();
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(std::fs::metadata(&io.stdout).unwrap().file_type().is_fifo());
        assert!(std::fs::metadata(&io.stderr).unwrap().file_type().is_fifo());
        io.opened();
        assert!(!dir.exists());
    }

    #[test]
    fn log_files_must_be_absolute() {
        let io = PreparedIo::prepare(&StdioMode::LogFile("/var/log/x.log".into()), false, "t").unwrap();
        assert_eq!((io.stdout.as_str(), io.stderr.as_str()), ("file:///var/log/x.log", "file:///var/log/x.log"));
        assert!(PreparedIo::prepare(&StdioMode::LogFile("x.log".into()), false, "t").is_err());
        let tty = PreparedIo::prepare(&StdioMode::Inherit, true, "t").unwrap();
        assert!(tty.stderr.is_empty());
        tty.abandon();
    }
}
