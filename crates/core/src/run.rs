//! `run()`, like `ctr run --rm`: pull if missing, create, start, feed stdin, collect output, wait,
//! and always remove the task, container and snapshot again (on success, failure, timeout and
//! abort alike).

use super::cancel::Cancel;
use super::client::Client;
use super::containers::ContainerOptions;
use super::error::{Code, Error, Result};
use super::pull::PullOptions;
use super::stdio::{PipeFds, StdioMode};
use super::tasks::ExitStatus;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;
use tokio::sync::Notify;

/// Cleanup must finish even when the daemon is slow; it is never cancelled by the caller.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(30);
const SIGKILL: u32 = 9;

pub struct RunOptions {
    /// Default: `run-<random>`.
    pub id: Option<String>,
    pub container: ContainerOptions,
    /// Pull the image when it is missing, with these options; `None` = never pull.
    pub pull: Option<PullOptions>,
    /// Written to stdin, which is then closed.
    pub input: Option<Vec<u8>>,
    /// SIGKILL after this long; the output so far is returned with `timed_out`.
    pub timeout: Option<Duration>,
    /// Bytes kept per stream (stdout, stderr); more output kills the process and the output so far
    /// is returned with `max_buffer_exceeded`. `None`: [`DEFAULT_MAX_BUFFER`]; infinity: no limit.
    pub max_buffer: Option<f64>,
}

/// run()'s default `maxBuffer`: 64 MiB per stream.
pub const DEFAULT_MAX_BUFFER: usize = 64 << 20;

/// `maxBuffer` in bytes: a whole number of at least 1, or infinity (no limit).
pub fn max_buffer_bytes(value: Option<f64>) -> Result<usize> {
    match value {
        None => Ok(DEFAULT_MAX_BUFFER),
        Some(v) if v == f64::INFINITY => Ok(usize::MAX),
        Some(v) if v.is_finite() && v >= 1.0 && v.fract() == 0.0 => Ok(v.min(usize::MAX as f64) as usize),
        Some(v) => Err(Error::invalid_argument(format!(
            "invalid maxBuffer {v}: must be a whole number of bytes of at least 1, or Infinity"
        ))),
    }
}

#[derive(Debug)]
pub struct RunOutput {
    pub exit: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
    /// A stream passed `max_buffer`: the process was killed; the output is cut at the limit.
    pub max_buffer_exceeded: bool,
}

/// What exists so far, for cleanup.
#[derive(Default)]
struct Made {
    container: Option<super::containers::ContainerRecord>,
    task: bool,
    /// The task's exit was seen: no need to ask for its state before deleting it.
    exited: bool,
    /// Deleting the task failed.
    task_left: bool,
}

fn owned(fd: Option<i32>) -> Option<OwnedFd> {
    // SAFETY: the descriptors come from PreparedIo::opened, which hands over ownership.
    fd.map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// After the exit, how long output may keep arriving (a background child can hold the pipe open;
/// the shim closes it when the task is deleted).
const OUTPUT_GRACE: Duration = Duration::from_secs(2);

type Buffer = Arc<Mutex<Vec<u8>>>;

/// Reads a FIFO into `out` until its end, or until `limit` bytes: then it keeps `limit` bytes,
/// signals `full` and stops reading.
async fn collect(fd: Option<OwnedFd>, out: Buffer, limit: usize, full: Arc<Notify>) {
    let Some(Ok(mut reader)) = fd.map(pipe::Receiver::from_owned_fd) else { return };
    let mut chunk = vec![0u8; 64 * 1024];
    while let Ok(n) = reader.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        let Ok(mut out) = out.lock() else { break };
        let room = limit.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..n.min(room)]);
        if n > room {
            full.notify_one();
            break;
        }
    }
}

fn take(buffer: &Buffer) -> Vec<u8> {
    buffer.lock().map(|mut b| std::mem::take(&mut *b)).unwrap_or_default()
}

impl Client {
    pub async fn run(&self, options: RunOptions, cancel: &Cancel) -> Result<RunOutput> {
        let id = options.id.clone().unwrap_or_else(|| format!("run-{:016x}", rand::random::<u64>()));
        super::identifiers::validate("container id", &id)?;
        if options.container.log.is_some() {
            return Err(Error::invalid_argument(
                "run() removes its container and so its log: use createContainer with log, then newTask",
            ));
        }
        if options.container.restart.is_some() {
            return Err(Error::invalid_argument(
                "run() removes its container when the process exits: restart needs createContainer",
            ));
        }
        max_buffer_bytes(options.max_buffer)?;
        let mut made = Made::default();
        // Boxed: the steps' state machine is large, and callers build this future on their stack.
        let outcome = cancel.run("run", Box::pin(self.run_steps(&id, &options, &mut made, cancel))).await;
        // Always, and never cancelled: kill what runs, then remove task, container and snapshot.
        let cleanup = async {
            if made.task {
                if !made.exited {
                    if let Ok(state) = self.task_state(&id, "", &Cancel::none()).await {
                        if state.status != "stopped" {
                            let _ = self.kill_process(&id, "", SIGKILL, true, &Cancel::none()).await;
                            let _ = self.wait_process(&id, "", &Cancel::none()).await;
                        }
                    }
                }
                if let Err(e) = self.delete_task(&id, &Cancel::none()).await {
                    // Not gone: the checked delete refuses rather than orphan a task.
                    if e.code != Code::NotFound {
                        made.task_left = true;
                    }
                }
            }
            match &made.container {
                Some(_) if made.task_left => self.delete_container(&id, true, &Cancel::none()).await?,
                Some(container) => self.remove_container(container, true, &Cancel::none()).await?,
                None => {}
            }
            Ok::<_, Error>(())
        };
        let cleaned = tokio::time::timeout(CLEANUP_TIMEOUT, cleanup).await;
        let output = outcome?;
        match cleaned {
            Ok(done) => done?,
            Err(_) => {
                return Err(Error::new(Code::DeadlineExceeded, format!("run: removing container {id:?} timed out")))
            }
        }
        Ok(output)
    }

    async fn run_steps(&self, id: &str, options: &RunOptions, made: &mut Made, cancel: &Cancel) -> Result<RunOutput> {
        // `timeout` covers the whole run, the pull and the setup included: they end through
        // their own cancellation (the pull removes what it made) when it passes.
        let deadline = options.timeout.map(|t| tokio::time::Instant::now() + t);
        let (setup_cancel, setup_token) = cancel.child();
        let timer = deadline.map(|at| {
            let token = setup_token.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(at).await;
                token.cancel();
            })
        });
        let setup = self.run_setup(id, options, made, &setup_cancel).await;
        if let Some(timer) = timer {
            timer.abort();
        }
        let fds = match setup {
            Ok(fds) => fds,
            Err(e) if e.code == Code::Cancelled && setup_token.is_cancelled() && !cancel.is_cancelled() => {
                let ms = options.timeout.map_or(0, |t| t.as_millis());
                let step = e.message.split_once(": the operation was aborted").map_or("setup", |(step, _)| step);
                return Err(Error::new(
                    Code::DeadlineExceeded,
                    format!("run: the process did not start within timeoutMs ({ms} ms); stopped during: {step}"),
                ));
            }
            Err(e) => return Err(e),
        };
        let PipeFds { stdin, stdout, stderr } = fds;
        let (stdout, stderr, stdin) = (owned(stdout), owned(stderr), owned(stdin));
        let (out, err) = (Buffer::default(), Buffer::default());
        let (limit, full) = (max_buffer_bytes(options.max_buffer)?, Arc::new(Notify::new()));
        let readers = tokio::spawn({
            let (out, err, full) = (out.clone(), err.clone(), full.clone());
            async move { tokio::join!(collect(stdout, out, limit, full.clone()), collect(stderr, err, limit, full)) }
        });
        self.start_process(id, "", cancel).await?;
        if let (Some(input), Some(fd)) = (&options.input, stdin) {
            let (input, client, id) = (input.clone(), self.clone(), id.to_string());
            // Written concurrently: a process that does not read must not stall the run. The shim
            // holds a writer of its own on the stdin FIFO, so EOF needs CloseIO as well.
            tokio::spawn(async move {
                if let Ok(mut writer) = pipe::Sender::from_owned_fd(fd) {
                    let _ = writer.write_all(&input).await;
                }
                let _ = client.close_stdin(&id, "", &Cancel::none()).await;
            });
        }
        let waited = async {
            match deadline {
                Some(at) => tokio::time::timeout_at(at, self.wait_process(id, "", cancel)).await.ok(),
                None => Some(self.wait_process(id, "", cancel).await),
            }
        };
        // None: killed, for the timeout (false) or for too much output (true).
        let stopped = tokio::select! {
            waited = waited => waited.map(|exit| (exit, false)).ok_or(false),
            _ = full.notified() => Err(true),
        };
        let (exit, timed_out, max_buffer_exceeded) = match stopped {
            Ok((exit, _)) => (exit?, false, false),
            Err(overflow) => {
                // It may have exited meanwhile: the wait below has the status either way.
                let _ = self.kill_process(id, "", SIGKILL, true, cancel).await;
                (self.wait_process(id, "", cancel).await?, !overflow, overflow)
            }
        };
        made.exited = true;
        if tokio::time::timeout(OUTPUT_GRACE, readers).await.is_err() {
            // Still open after the grace period: keep what arrived; deleting the task closes it.
        }
        Ok(RunOutput { exit, stdout: take(&out), stderr: take(&err), timed_out, max_buffer_exceeded })
    }

    /// Pull if missing, create the container and the task (not started): what may take long
    /// before the process runs.
    async fn run_setup(&self, id: &str, options: &RunOptions, made: &mut Made, cancel: &Cancel) -> Result<PipeFds> {
        // The image and the container are resolved once and handed down the pipeline.
        let image = &options.container.image;
        let image = match self.get_image(image, cancel).await {
            Ok(record) => record,
            Err(e) if e.code == Code::NotFound => match &options.pull {
                // Boxed: the pull's state machine is large; keep it off this future.
                Some(pull) => Box::pin(self.pull(image, pull.clone(), cancel)).await?,
                None => return Err(e),
            },
            Err(e) => return Err(e),
        };
        let mut container = options.container.clone();
        // Whose it is: cleanup() removes it should this process die before its own cleanup runs.
        container.labels.insert(super::cleanup::OWNER_LABEL.to_string(), super::cleanup::Owner::me().label());
        // The pull may have normalised the name (busybox → docker.io/library/busybox:latest).
        container.image = image.name.clone();
        let container = Box::pin(self.create_container_from(id, container, Some(image), cancel)).await?;
        made.container = Some(container.clone());
        let stdio = StdioMode::Pipe { stdin: options.input.is_some() };
        let (_, fds) = Box::pin(self.create_task_for(&container, &stdio, cancel)).await?;
        made.task = true;
        Ok(fds)
    }
}

#[cfg(test)]
mod size_tests {
    /// Futures are built on the caller's stack before napi boxes them, and the JS thread's stack
    /// is shared with V8: a future of hundreds of KiB there makes V8 report a stack overflow (seen
    /// as a throw of `undefined`). Nested operations are boxed to keep these small.
    #[test]
    fn operation_futures_stay_small() {
        fn size<F: std::future::Future>(_: &F) -> usize {
            std::mem::size_of::<F>()
        }
        // A client is needed only to name the futures; they are never polled.
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let _guard = rt.enter();
        let client = crate::client::Client::for_size_test();
        let cancel = crate::Cancel::none();
        let options = super::RunOptions {
            id: None,
            container: container_options(),
            pull: None,
            input: None,
            timeout: None,
            max_buffer: None,
        };
        let run = client.run(options, &cancel);
        let pull = client.pull("x", Default::default(), &cancel);
        let create = client.create_container("x", container_options(), &cancel);
        assert_eq!(super::max_buffer_bytes(None).unwrap(), 64 << 20);
        assert_eq!(super::max_buffer_bytes(Some(f64::INFINITY)).unwrap(), usize::MAX);
        assert_eq!(super::max_buffer_bytes(Some(1024.0)).unwrap(), 1024);
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::NEG_INFINITY] {
            assert!(super::max_buffer_bytes(Some(bad)).is_err(), "{bad}");
        }
        for (name, bytes) in [("run", size(&run)), ("pull", size(&pull)), ("create_container", size(&create))] {
            assert!(bytes < 32 * 1024, "{name} future is {bytes} bytes");
        }
    }

    fn container_options() -> crate::containers::ContainerOptions {
        crate::containers::ContainerOptions {
            image: String::new(),
            spec: Default::default(),
            user: None,
            labels: Default::default(),
            snapshotter: String::new(),
            runtime: String::new(),
            network: Default::default(),
            log: None,
            restart: None,
        }
    }
}
