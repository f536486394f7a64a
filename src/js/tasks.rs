//! Tasks and processes on `NativeClient`; `execId` "" is the task's init process.

use super::cancel::{from_handle, CancelHandle};
use super::client::{spawn, spawn_here, NativeClient};
use crate::core;
use crate::core::stdio::StdioMode;
use napi::bindgen_prelude::PromiseRaw;
use napi::{Env, Result};
use napi_derive::napi;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

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

#[napi(object)]
pub struct NativeResourceUpdate {
    pub memory_limit_bytes: Option<f64>,
    pub cpus: Option<f64>,
    pub pids_limit: Option<f64>,
}

#[napi(object)]
pub struct TaskStatsInfo {
    /// Milliseconds since the epoch.
    pub time: f64,
    pub cpu_percent: f64,
    pub memory_bytes: f64,
    pub memory_limit_bytes: Option<f64>,
    pub pids: f64,
    pub net_rx_bytes: Option<f64>,
    pub net_tx_bytes: Option<f64>,
}

#[napi]
pub struct NativeStatsStream {
    stream: Arc<tokio::sync::Mutex<core::stats::StatsStream>>,
    closer: CancellationToken,
}

#[napi]
impl NativeStatsStream {
    /// The next sample, or null once the task exited (or the stream was closed).
    #[napi]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<TaskStatsInfo>>> {
        let stream = self.stream.clone();
        spawn(env, async move {
            let sample = stream.lock().await.next().await?;
            Ok(sample.map(|s| TaskStatsInfo {
                time: s.time,
                cpu_percent: s.cpu_percent,
                memory_bytes: s.memory_bytes as f64,
                memory_limit_bytes: s.memory_limit_bytes.map(|n| n as f64),
                pids: s.pids as f64,
                net_rx_bytes: s.net_rx_bytes.map(|n| n as f64),
                net_tx_bytes: s.net_tx_bytes.map(|n| n as f64),
            }))
        })
    }

    #[napi]
    pub fn close(&self) {
        self.closer.cancel();
    }
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
            let mode = StdioMode::from_options(stdio.as_deref(), stdin.unwrap_or(false), log_file)?;
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
            let mode = StdioMode::from_options(options.stdio.as_deref(), options.stdin.unwrap_or(false), None)?;
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
        spawn(env, async move { client.start_process_managed(&container_id, &exec_id, &cancel).await })
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
            client.kill_process_managed(&container_id, &exec_id, signal, all, &cancel).await
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
        spawn(env, async move { Ok(client.delete_task_managed(&container_id, &cancel).await?.into()) })
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
        spawn_here(
            env,
            &self.inner,
            async move { Ok(client.task_state(&container_id, &exec_id, &cancel).await?.into()) },
        )
    }

    #[napi]
    pub fn pause_task<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn_here(env, &self.inner, async move { client.pause_task(&container_id, &cancel).await })
    }

    #[napi]
    pub fn resume_task<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn_here(env, &self.inner, async move { client.resume_task(&container_id, &cancel).await })
    }

    #[napi]
    pub fn task_pids<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, Vec<u32>>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn_here(env, &self.inner, async move { client.task_pids(&container_id, &cancel).await })
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

    /// New cgroup limits for the running task.
    #[napi]
    pub fn update_task<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        resources: NativeResourceUpdate,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        let update = core::tasks::ResourceUpdate {
            memory_limit_bytes: resources.memory_limit_bytes,
            cpus: resources.cpus,
            pids_limit: resources.pids_limit,
        };
        spawn(env, async move { client.update_task(&container_id, &update, &cancel).await })
    }

    /// Clears the restart monitor's status label (before a dispose), so it leaves the task alone.
    #[napi]
    pub fn hold_restarts<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { client.hold_restarts(&container_id, &cancel).await })
    }

    /// Opens `Task.stats()` (the first reading is the baseline of the first sample's CPU share).
    #[napi]
    pub fn open_stats<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        interval_ms: Option<f64>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, NativeStatsStream>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            let stream = client.open_stats(&container_id, interval_ms, &cancel).await?;
            Ok(NativeStatsStream { closer: stream.closer(), stream: Arc::new(tokio::sync::Mutex::new(stream)) })
        })
    }

    #[napi]
    pub fn resize_pty<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        exec_id: String,
        cols: f64,
        rows: f64,
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
        spawn_here(env, &self.inner, async move {
            Ok(client.list_tasks(&cancel).await?.into_iter().map(TaskStateInfo::from).collect())
        })
    }
}
