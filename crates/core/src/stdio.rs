//! Task and exec stdio. `ignore` gives the shim no paths (it uses /dev/null); `logFile` gives it a
//! `file://` URI it appends stdout and stderr to (this also works for remote daemons); `inherit`
//! and `pipe` use FIFOs in a private 0700 directory. With `inherit` this process pumps the read
//! ends into its own stdout/stderr on tokio; with `pipe` the non-blocking descriptors are handed
//! to Node, which polls them on its event loop (no libuv thread-pool thread per stream).
//!
//! The FIFO pitfalls: a non-blocking read end reports EOF while no writer is connected, and a
//! non-blocking write-only open fails with ENXIO while no reader is. So we hold a placeholder
//! writer on each output FIFO until the shim has opened its ends (at Tasks.Create for a task, at
//! Start for an exec process); after that EOF really means the process closed its output. Stdin
//! is opened read-write, which never blocks and needs no reader. The caller gets its descriptors
//! at once ([`PreparedIo::handover`]), so it can attach to them before the process starts; the
//! placeholders are dropped and the FIFO files unlinked by [`PreparedIo::release`] (the open
//! descriptors keep working), so nothing is left on disk.

use super::error::{Code, Error, Result};
use std::fs::{File, OpenOptions};
use std::os::fd::{IntoRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdioMode {
    Ignore,
    Inherit,
    /// Descriptors for the caller; `stdin` adds a writable stdin.
    Pipe {
        stdin: bool,
    },
    /// An absolute path on the daemon's host.
    LogFile(String),
    /// Not chosen: the container's log if it was created with one, else `Pipe` (see
    /// [`crate::logs::resolve_task_stdio`]).
    Auto {
        stdin: bool,
    },
    /// The container's logger (resolved to `Binary` for the task).
    Log,
    /// A `binary://` URI the shim starts a logging binary from.
    Binary(String),
}

impl StdioMode {
    /// The one place the stdio option is read: 'pipe', 'inherit', 'ignore' or 'log', unless
    /// `log_file` is set; none chosen means the container's log if it has one, else 'pipe'.
    pub fn from_options(stdio: Option<&str>, stdin: bool, log_file: Option<String>) -> Result<StdioMode> {
        match (stdio, log_file) {
            (Some("log"), Some(_)) => Err(Error::invalid_argument("stdio 'log' and logFile exclude each other")),
            (_, Some(path)) => Ok(StdioMode::LogFile(path)),
            (None, None) => Ok(StdioMode::Auto { stdin }),
            (Some("log"), None) => Ok(StdioMode::Log),
            (Some("pipe"), None) => Ok(StdioMode::Pipe { stdin }),
            (Some("ignore"), None) => Ok(StdioMode::Ignore),
            (Some("inherit"), None) => Ok(StdioMode::Inherit),
            (Some(other), None) => Err(Error::invalid_argument(format!(
                "options.stdio must be 'pipe', 'inherit', 'ignore' or 'log', got {other:?}"
            ))),
        }
    }
}

/// The caller's ends of piped stdio: non-blocking descriptors it now owns (None where absent).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PipeFds {
    pub stdin: Option<RawFd>,
    pub stdout: Option<RawFd>,
    pub stderr: Option<RawFd>,
}

/// Where an output FIFO's bytes go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sink {
    /// This process's descriptor 1 or 2.
    Inherit(i32),
    Stdout,
    Stderr,
}

/// The stdio paths for Tasks.Create / Exec, and what must happen once the shim has them.
pub struct PreparedIo {
    pub stdin: String,
    pub stdout: String,
    pub stderr: String,
    pub terminal: bool,
    dir: Option<PathBuf>,
    placeholders: Vec<File>,
    readers: Vec<(File, Sink)>,
    stdin_writer: Option<File>,
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
            readers: Vec::new(),
            stdin_writer: None,
        };
        let (out, err, stdin) = match mode {
            StdioMode::Ignore => return Ok(io),
            StdioMode::LogFile(path) => {
                if !Path::new(path).is_absolute() {
                    return Err(Error::invalid_argument(format!("logFile must be an absolute path, got {path:?}")));
                }
                io.stdout = format!("file://{path}");
                io.stderr = io.stdout.clone();
                return Ok(io);
            }
            StdioMode::Binary(uri) => {
                io.stdout = uri.clone();
                io.stderr = uri.clone();
                return Ok(io);
            }
            StdioMode::Log => return Err(Error::invalid_argument("stdio 'log' is for tasks, not exec processes")),
            StdioMode::Inherit => (Sink::Inherit(1), Sink::Inherit(2), false),
            StdioMode::Pipe { stdin } | StdioMode::Auto { stdin } => (Sink::Stdout, Sink::Stderr, *stdin),
        };
        io.make_fifos(id, out, err, stdin).map_err(|e| {
            io.close();
            io_error("set up stdio fifos", e)
        })?;
        Ok(io)
    }

    fn make_fifos(&mut self, id: &str, out: Sink, err: Sink, stdin: bool) -> std::io::Result<()> {
        let dir = std::env::temp_dir().join(format!("containerd-napi-fifo-{:016x}", rand::random::<u64>()));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        self.dir = Some(dir.clone());
        let path = |name: &str| dir.join(format!("{id}-{name}"));
        self.stdout = self.open_reader(&path("stdout"), out)?;
        // With a terminal the shim has one output stream.
        if !self.terminal {
            self.stderr = self.open_reader(&path("stderr"), err)?;
        }
        if stdin {
            let p = path("stdin");
            mkfifo(&p)?;
            // Read-write never blocks and needs no reader; the caller only ever writes to it.
            self.stdin_writer =
                Some(OpenOptions::new().read(true).write(true).custom_flags(libc::O_NONBLOCK).open(&p)?);
            self.stdin = p.to_string_lossy().into_owned();
        }
        Ok(())
    }

    fn open_reader(&mut self, path: &Path, sink: Sink) -> std::io::Result<String> {
        mkfifo(path)?;
        let read = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
        // Succeeds because a reader exists; keeps the read end from seeing EOF before the shim opens.
        self.placeholders.push(OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(path)?);
        self.readers.push((read, sink));
        Ok(path.to_string_lossy().into_owned())
    }

    /// The caller's descriptors (`pipe`), now owned by it; `inherit` pumps start here. Safe to
    /// read before the shim opened its ends: the placeholders keep EOF away until [`Self::release`].
    pub fn handover(&mut self) -> Result<PipeFds> {
        let mut fds = PipeFds { stdin: self.stdin_writer.take().map(IntoRawFd::into_raw_fd), ..PipeFds::default() };
        for (reader, sink) in std::mem::take(&mut self.readers) {
            match sink {
                Sink::Stdout => fds.stdout = Some(reader.into_raw_fd()),
                Sink::Stderr => fds.stderr = Some(reader.into_raw_fd()),
                Sink::Inherit(target) => {
                    let reader = pipe::Receiver::from_file(reader).map_err(|e| io_error("stdio pump", e))?;
                    tokio::spawn(pump(reader, target));
                }
            }
        }
        Ok(fds)
    }

    /// The shim has opened its ends: drop the placeholders and unlink the FIFOs.
    pub fn release(mut self) {
        self.close();
    }

    /// Creating the process failed: close and remove everything.
    pub fn abandon(mut self) {
        self.close();
    }

    fn close(&mut self) {
        self.placeholders.clear();
        self.readers.clear();
        self.stdin_writer = None;
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

/// Copies a FIFO into this process's stdout (1) or stderr (2) until the writer closes it.
async fn pump(mut reader: pipe::Receiver, target: i32) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> =
        if target == 1 { Box::new(tokio::io::stdout()) } else { Box::new(tokio::io::stderr()) };
    while let Ok(n) = reader.read(&mut buf).await {
        if n == 0 || out.write_all(&buf[..n]).await.is_err() {
            break;
        }
        let _ = out.flush().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    #[tokio::test]
    async fn inherit_makes_private_fifos_and_removes_them() {
        let io = PreparedIo::prepare(&StdioMode::Inherit, false, "t1").unwrap();
        let dir = io.dir.clone().unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(std::fs::metadata(&io.stdout).unwrap().file_type().is_fifo());
        assert!(std::fs::metadata(&io.stderr).unwrap().file_type().is_fifo());
        let mut io = io;
        assert_eq!(io.handover().unwrap(), PipeFds::default());
        io.release();
        assert!(!dir.exists());
    }

    #[tokio::test]
    async fn pipes_hand_over_descriptors_that_see_eof_only_from_the_real_writer() {
        let mut io = PreparedIo::prepare(&StdioMode::Pipe { stdin: true }, false, "t2").unwrap();
        let fds = io.handover().unwrap();
        // Play the shim: open the write ends of stdout/stderr and the read end of stdin.
        let shim_out = OpenOptions::new().write(true).open(&io.stdout).unwrap();
        let shim_in = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&io.stdin).unwrap();
        io.release();
        let (stdin, stdout) = (fds.stdin.unwrap(), fds.stdout.unwrap());
        assert!(fds.stderr.is_some());
        use std::io::{Read, Write};
        use std::os::fd::FromRawFd;
        // SAFETY: the descriptors were just handed over to us and are used once here.
        let (mut stdin, mut stdout) = unsafe { (File::from_raw_fd(stdin), File::from_raw_fd(stdout)) };
        stdin.write_all(b"in").unwrap();
        let mut got = [0u8; 2];
        (&shim_in).read_exact(&mut got).unwrap();
        assert_eq!(&got, b"in");
        (&shim_out).write_all(b"out").unwrap();
        drop(shim_out);
        let mut all = Vec::new();
        loop {
            let mut chunk = [0u8; 16];
            match stdout.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => all.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(all, b"out");
    }

    #[test]
    fn log_files_must_be_absolute() {
        let io = PreparedIo::prepare(&StdioMode::LogFile("/var/log/x.log".into()), false, "t").unwrap();
        assert_eq!((io.stdout.as_str(), io.stderr.as_str()), ("file:///var/log/x.log", "file:///var/log/x.log"));
        assert!(PreparedIo::prepare(&StdioMode::LogFile("x.log".into()), false, "t").is_err());
    }

    #[tokio::test]
    async fn a_terminal_has_no_stderr() {
        let tty = PreparedIo::prepare(&StdioMode::Pipe { stdin: true }, true, "t").unwrap();
        assert!(tty.stderr.is_empty());
        tty.abandon();
    }
}
