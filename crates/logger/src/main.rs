//! containerd-napi-logger: the logging binary the runc shim starts for a `binary://` stdio URI.
//!
//! The shim hands it fd 3 (the container's stdout), fd 4 (stderr) and fd 5 (readiness: the shim
//! waits, with no timeout, until it gets a byte or every copy of it is closed), the URI's query as
//! key/value arguments, CONTAINER_ID and CONTAINER_NAMESPACE, and the bundle as cwd. It never
//! starts a child, and every descriptor is close-on-exec.
//!
//! Two reader threads turn output into records stamped when it was read and queue them; a writer
//! thread appends them to the rotated files. The queue is bounded: when the disk cannot keep up,
//! readers drop output (counting the bytes) instead of blocking the container, and write a record
//! saying how much was dropped once there is room again. On task delete the shim closes the
//! pipes (EOF), then sends SIGTERM (ignored until the queue is written), then SIGKILL after 12 s.

use containerd_napi_logger::{encode, format_time, now, parse_args, Rotator, MAX_LINE};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Bytes of records waiting for the disk before readers start dropping output.
const QUEUE_LIMIT: usize = 4 << 20;
/// Pipe capacity asked for on fd 3/4, so bursts do not block the container.
const PIPE_SIZE: i32 = 1 << 20;

static TERMINATED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigterm(_: libc::c_int) {
    TERMINATED.store(true, Ordering::SeqCst);
}

#[derive(Default)]
struct State {
    records: VecDeque<Vec<u8>>,
    bytes: usize,
    readers_done: usize,
}

struct Queue {
    state: Mutex<State>,
    changed: Condvar,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn valid_fd(fd: i32) -> bool {
    // SAFETY: F_GETFD only queries the descriptor table.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

fn set_cloexec(fd: i32) {
    // SAFETY: plain fcntl calls on a descriptor number; harmless if it is not open.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
        }
    }
}

/// Reads one stream until EOF, queueing a record per line (lines longer than MAX_LINE split).
fn read_stream(fd: i32, stream: &'static str, queue: &Queue) {
    // SAFETY: asking the kernel for a bigger pipe; failure only leaves the default size.
    unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_SIZE) };
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut dropped: u64 = 0;
    loop {
        // SAFETY: `buf` is valid for `buf.len()` bytes.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        let (secs, nanos) = now();
        let time = format_time(secs, nanos);
        let mut records: Vec<Vec<u8>> = Vec::new();
        let mut emit = |line: &[u8]| {
            let mut rec = Vec::with_capacity(line.len() + 80);
            encode(&mut rec, &time, stream, line, None);
            records.push(rec);
        };
        if n == 0 {
            if !pending.is_empty() {
                emit(&pending);
            }
        } else {
            pending.extend_from_slice(&buf[..n as usize]);
            let mut start = 0;
            while let Some(i) = pending[start..].iter().position(|&b| b == b'\n') {
                emit(&pending[start..start + i]);
                start += i + 1;
            }
            while pending.len() - start >= MAX_LINE {
                emit(&pending[start..start + MAX_LINE]);
                start += MAX_LINE;
            }
            pending.drain(..start);
        }
        let size: usize = records.iter().map(Vec::len).sum();
        {
            let mut state = queue.lock();
            if state.bytes + size > QUEUE_LIMIT {
                // Never block the container: count what is lost.
                dropped += records.iter().map(|r| r.len() as u64).sum::<u64>();
            } else {
                if dropped > 0 {
                    let mut rec = Vec::new();
                    let note =
                        format!("[containerd-napi logger: {dropped} bytes of {stream} dropped: the disk fell behind]");
                    encode(&mut rec, &time, stream, note.as_bytes(), Some(dropped));
                    state.bytes += rec.len();
                    state.records.push_back(rec);
                    dropped = 0;
                }
                state.bytes += size;
                state.records.extend(records);
            }
            if n == 0 {
                state.readers_done += 1;
            }
        }
        queue.changed.notify_all();
        if n == 0 {
            return;
        }
    }
    queue.lock().readers_done += 1;
    queue.changed.notify_all();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    for fd in 3..=5 {
        set_cloexec(fd);
    }
    // SAFETY: installing a handler that only stores to an atomic; SIGPIPE cannot happen (no
    // pipes are written) but is ignored anyway.
    unsafe {
        libc::signal(libc::SIGTERM, on_sigterm as *const () as libc::sighandler_t);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let config = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("containerd-napi-logger: {e}");
            std::process::exit(2);
        }
    };
    let mut rotator = match Rotator::open(config.clone()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("containerd-napi-logger: {}: {e}", config.dir.display());
            std::process::exit(1);
        }
    };
    let queue = Arc::new(Queue { state: Mutex::new(State::default()), changed: Condvar::new() });
    let streams: Vec<(i32, &'static str)> =
        [(3, "stdout"), (4, "stderr")].into_iter().filter(|(fd, _)| valid_fd(*fd)).collect();
    let readers = streams.len();
    for (fd, stream) in streams {
        let queue = queue.clone();
        std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || read_stream(fd, stream, &queue))
            .expect("spawning a reader thread");
    }
    // Ready: the shim may start the container now.
    if valid_fd(5) {
        // SAFETY: writing one byte from a static buffer, then closing our copy of fd 5.
        unsafe {
            libc::write(5, b"R".as_ptr().cast(), 1);
            libc::close(5);
        }
    }
    // Writes until both streams ended, or after SIGTERM once what was read is written (a
    // terminal's unused stderr pipe may never see EOF).
    let mut deadline: Option<Instant> = None;
    loop {
        let batch = {
            let mut state = queue.lock();
            while state.records.is_empty()
                && state.readers_done < readers
                && deadline.is_none_or(|d| Instant::now() < d)
            {
                if TERMINATED.load(Ordering::SeqCst) && deadline.is_none() {
                    deadline = Some(Instant::now() + Duration::from_millis(500));
                }
                state = queue
                    .changed
                    .wait_timeout(state, Duration::from_millis(100))
                    .map(|(s, _)| s)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
            if state.records.is_empty() {
                break;
            }
            std::mem::take(&mut state.records)
        };
        let size: usize = batch.iter().map(Vec::len).sum();
        for record in &batch {
            if let Err(e) = rotator.push(record) {
                eprintln!("containerd-napi-logger: {}: {e}", config.dir.display());
            }
        }
        if let Err(e) = rotator.flush() {
            eprintln!("containerd-napi-logger: {}: {e}", config.dir.display());
        }
        // Room again only once it is written: queued plus in-flight stays under QUEUE_LIMIT.
        queue.lock().bytes -= size;
    }
    let _ = rotator.flush();
}
