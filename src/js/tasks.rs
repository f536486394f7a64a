//! Tasks and processes on `NativeClient`; `execId` "" is the task's init process.

use super::cancel::{from_handle, CancelHandle};
use super::client::{spawn, NativeClient};
use crate::core;
use crate::core::stdio::StdioMode;
use napi::bindgen_prelude::PromiseRaw;
use napi::{Env, Result};
use napi_derive::napi;

#[napi(object)]
pub struct ExitInfo {
    pub exit_code: u32,
    /// Milliseconds since the epoch (index.js makes a Date).
    pub exited_at: f64,
}

impl From<core::tasks::ExitStatus> for ExitInfo {
    fn from(e: core::tasks::ExitStatus) -> ExitInfo {
        ExitInfo { exit_code: e.code, exited_at: e.exited_at }
    }
}

#[napi(object)]
pub struct TaskStateInfo {
    pub id: String,
    pub pid: u32,
    #[napi(ts_type = "'created' | 'running' | 'stopped' | 'paused' | 'pausing' | 'unknown'")]
    pub status: String,
    pub exit_code: Option<u32>,
    pub exited_at: Option<f64>,
}

impl From<core::tasks::TaskState> for TaskStateInfo {
    fn from(s: core::tasks::TaskState) -> TaskStateInfo {
        TaskStateInfo {
            id: s.id,
            pid: s.pid,
            status: s.status.to_string(),
            exit_code: s.exit.map(|e| e.code),
            exited_at: s.exit.map(|e| e.exited_at),
        }
    }
}

#[napi(object)]
pub struct MetricsInfo {
    pub memory_bytes: Option<f64>,
    pub cpu_usage_nanos: Option<f64>,
    pub pids: Option<f64>,
    /// The decoded cgroup metrics as JSON text (index.js parses it).
    pub raw: String,
}

/// A new process: its pid, and for piped stdio the non-blocking descriptors index.js wraps in
/// `net.Socket`s (libuv then polls them; no thread-pool thread per stream).
#[napi(object)]
pub struct NewProcessInfo {
    pub pid: u32,
    pub stdin: Option<i32>,
    pub stdout: Option<i32>,
    pub stderr: Option<i32>,
}

impl NewProcessInfo {
    fn new(pid: u32, fds: core::stdio::PipeFds) -> NewProcessInfo {
        NewProcessInfo { pid, stdin: fds.stdin, stdout: fds.stdout, stderr: fds.stderr }
    }
}

/// `stdio` is 'pipe', 'inherit', 'ignore' or 'log', unless `logFile` is set; none chosen means
/// the container's log if it has one, else 'pipe' (the core decides).
fn stdio_mode(stdio: Option<String>, stdin: bool, log_file: Option<String>) -> core::Result<StdioMode> {
    match (stdio.as_deref(), log_file) {
        (Some("log"), Some(_)) => Err(core::Error::invalid_argument("stdio 'log' and logFile exclude each other")),
        (_, Some(path)) => Ok(StdioMode::LogFile(path)),
        (None, None) => Ok(StdioMode::Auto { stdin }),
        (Some("log"), None) => Ok(StdioMode::Log),
        (Some("pipe"), None) => Ok(StdioMode::Pipe { stdin }),
        (Some("ignore"), None) => Ok(StdioMode::Ignore),
        (Some("inherit"), None) => Ok(StdioMode::Inherit),
        (Some(other), None) => Err(core::Error::invalid_argument(format!("unsupported stdio {other:?}"))),
    }
}

#[napi(object)]
pub struct NativeExecOptions {
    pub args: Vec<String>,
    pub env: Option<Vec<String>>,
    pub cwd: Option<String>,
    pub user: Option<String>,
    pub tty: Option<bool>,
    pub stdio: Option<String>,
    pub stdin: Option<bool>,
}

#[napi]
impl NativeClient {
    #[napi]
    pub fn new_task<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        stdio: Option<String>,
        stdin: Option<bool>,
        log_file: Option<String>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, NewProcessInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            let mode = stdio_mode(stdio, stdin.unwrap_or(false), log_file)?;
            let (pid, fds) = client.create_task(&container_id, &mode, &cancel).await?;
            Ok(NewProcessInfo::new(pid, fds))
        })
    }

    #[napi]
    pub fn exec_process<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        exec_id: String,
        options: NativeExecOptions,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, NewProcessInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            let mode = stdio_mode(options.stdio, options.stdin.unwrap_or(false), None)?;
            let exec = core::exec::ExecOptions {
                args: options.args,
                env: options.env.unwrap_or_default(),
                cwd: options.cwd,
                user: options.user,
                tty: options.tty.unwrap_or(false),
            };
            let fds = client.exec_process(&container_id, &exec_id, &exec, &mode, &cancel).await?;
            Ok(NewProcessInfo::new(0, fds))
        })
    }

    #[napi]
    pub fn delete_process<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        exec_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ExitInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { Ok(client.delete_process(&container_id, &exec_id, &cancel).await?.into()) })
    }

    #[napi]
    pub fn start_process<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        exec_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, u32>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { client.start_process(&container_id, &exec_id, &cancel).await })
    }

    #[napi]
    pub fn wait_process<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        exec_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ExitInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { Ok(client.wait_process(&container_id, &exec_id, &cancel).await?.into()) })
    }

    /// `signal`: a name ('SIGTERM', 'term') or a number as text.
    #[napi]
    pub fn kill_process<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        exec_id: String,
        signal: String,
        all: bool,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            let signal = core::signals::parse(&signal)?;
            client.kill_process(&container_id, &exec_id, signal, all, &cancel).await
        })
    }

    #[napi]
    pub fn delete_task<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ExitInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { Ok(client.delete_task(&container_id, &cancel).await?.into()) })
    }

    #[napi]
    pub fn task_state<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        exec_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, TaskStateInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { Ok(client.task_state(&container_id, &exec_id, &cancel).await?.into()) })
    }

    #[napi]
    pub fn pause_task<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { client.pause_task(&container_id, &cancel).await })
    }

    #[napi]
    pub fn resume_task<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { client.resume_task(&container_id, &cancel).await })
    }

    #[napi]
    pub fn task_pids<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, Vec<u32>>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { client.task_pids(&container_id, &cancel).await })
    }

    #[napi]
    pub fn task_metrics<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, MetricsInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            let m = client.task_metrics(&container_id, &cancel).await?;
            Ok(MetricsInfo {
                memory_bytes: m.memory_bytes.map(|n| n as f64),
                cpu_usage_nanos: m.cpu_usage_nanos.map(|n| n as f64),
                pids: m.pids.map(|n| n as f64),
                raw: m.raw.to_string(),
            })
        })
    }

    #[napi]
    pub fn resize_pty<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        exec_id: String,
        cols: u32,
        rows: u32,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { client.resize_pty(&container_id, &exec_id, cols, rows, &cancel).await })
    }

    #[napi]
    pub fn close_stdin<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        exec_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { client.close_stdin(&container_id, &exec_id, &cancel).await })
    }

    #[napi]
    pub fn list_tasks<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, Vec<TaskStateInfo>>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { Ok(client.list_tasks(&cancel).await?.into_iter().map(TaskStateInfo::from).collect()) })
    }
}
