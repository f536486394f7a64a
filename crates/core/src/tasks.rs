//! Tasks and their processes: create (with stdio), start, wait, kill, delete, status, pause,
//! resume, pids, metrics. `exec_id` empty means the task's init process.

use super::cancel::Cancel;
use super::client::{Client, MAX_MESSAGE_BYTES};
use super::containers::ContainerRecord;
use super::error::{Code, Error, Result};
use super::images::millis;
use super::stdio::{PipeFds, PreparedIo, StdioMode};
use crate::transport::Transport;
use containerd_client::services::v1::snapshots::{snapshots_client::SnapshotsClient, MountsRequest};
use containerd_client::services::v1::{
    tasks_client::TasksClient, CreateTaskRequest, DeleteTaskRequest, GetRequest, KillRequest, ListPidsRequest,
    ListTasksRequest, MetricsRequest, PauseTaskRequest, ResumeTaskRequest, StartRequest, UpdateTaskRequest,
    WaitRequest,
};
use containerd_client::types::v1::Status;

/// How often a wait retries while the daemon is unreachable (e.g. restarting).
const RECONNECT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

fn tasks(ch: Transport) -> TasksClient<Transport> {
    TasksClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES)
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExitStatus {
    pub code: u32,
    /// Milliseconds since the epoch.
    pub exited_at: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskState {
    pub id: String,
    pub pid: u32,
    pub status: &'static str,
    /// Only for stopped tasks.
    pub exit: Option<ExitStatus>,
}

fn status_name(status: i32) -> &'static str {
    match Status::try_from(status).unwrap_or(Status::Unknown) {
        Status::Created => "created",
        Status::Running => "running",
        Status::Stopped => "stopped",
        Status::Paused => "paused",
        Status::Pausing => "pausing",
        Status::Unknown => "unknown",
    }
}

fn state(p: containerd_client::types::v1::Process) -> TaskState {
    let status = status_name(p.status);
    let exit = (status == "stopped").then(|| ExitStatus { code: p.exit_status, exited_at: millis(p.exited_at) });
    TaskState { id: if p.id.is_empty() { p.container_id } else { p.id }, pid: p.pid, status, exit }
}

impl Client {
    /// Creates the container's task with the given stdio (a terminal if its spec asks for one);
    /// returns its pid and, for piped stdio, the caller's descriptors.
    pub async fn create_task(&self, container_id: &str, stdio: &StdioMode, cancel: &Cancel) -> Result<(u32, PipeFds)> {
        let container = self.get_container(container_id, cancel).await?;
        self.create_task_for(&container, stdio, cancel).await
    }

    /// As `create_task`, for a container record the caller holds (no GetContainer).
    pub(crate) async fn create_task_for(
        &self,
        container: &ContainerRecord,
        stdio: &StdioMode,
        cancel: &Cancel,
    ) -> Result<(u32, PipeFds)> {
        let container_id = container.id.as_str();
        let what = format!("create task {container_id:?}");
        let terminal = serde_json::from_slice::<serde_json::Value>(&container.spec)
            .ok()
            .and_then(|spec| spec["process"]["terminal"].as_bool())
            .unwrap_or(false);
        let mounts = self
            .unary(&what, cancel, |ch| {
                let request =
                    MountsRequest { snapshotter: container.snapshotter.clone(), key: container.snapshot_key.clone() };
                async move {
                    SnapshotsClient::new(ch)
                        .max_decoding_message_size(MAX_MESSAGE_BYTES)
                        .mounts(self.request(request))
                        .await
                }
            })
            .await?
            .mounts;
        let stdio = &super::logs::resolve_task_stdio(container, stdio)?;
        let io = PreparedIo::prepare(stdio, terminal, container_id)?;
        let request = CreateTaskRequest {
            container_id: container_id.to_string(),
            rootfs: mounts,
            stdin: io.stdin.clone(),
            stdout: io.stdout.clone(),
            stderr: io.stderr.clone(),
            terminal,
            ..Default::default()
        };
        // Starting the shim and runc can take a while under load: only cancellation applies.
        match self.long_unary(&what, cancel, |ch| async move { tasks(ch).create(self.request(request)).await }).await {
            Ok(reply) => {
                // The shim opened the FIFOs during Create.
                let mut io = io;
                let fds = io.handover();
                io.release();
                Ok((reply.pid, fds?))
            }
            Err(e) => {
                io.abandon();
                Err(missing_executable(e))
            }
        }
    }

    pub async fn start_process(&self, container_id: &str, exec_id: &str, cancel: &Cancel) -> Result<u32> {
        let what = format!("start {}", process_name(container_id, exec_id));
        let request = StartRequest { container_id: container_id.to_string(), exec_id: exec_id.to_string() };
        let started =
            self.long_unary(&what, cancel, |ch| async move { tasks(ch).start(self.request(request)).await }).await;
        // An exec's shim opens its FIFOs at Start: now (or after a failed start) they can go.
        if let Some(io) = self.take_pending_io(container_id, exec_id) {
            io.release();
        }
        match started {
            Ok(reply) => Ok(reply.pid),
            // The shim answers UNKNOWN ("cannot start a running process"): a state problem.
            Err(e) if e.code == Code::Unknown => match self.task_state(container_id, exec_id, cancel).await {
                Ok(state) if state.status != "created" => Err(Error {
                    code: Code::FailedPrecondition,
                    message: format!("{what}: the process is {}; a process starts only once", state.status),
                    details: e.details,
                }),
                _ => Err(missing_executable(e)),
            },
            Err(e) => Err(e),
        }
    }

    /// Waits for the process to exit; returns at once if it already has (the daemon keeps the
    /// status until the task is deleted). Survives a daemon restart: the shim keeps the process,
    /// so a lost connection is retried until the daemon answers again (or `cancel`).
    pub async fn wait_process(&self, container_id: &str, exec_id: &str, cancel: &Cancel) -> Result<ExitStatus> {
        let what = format!("wait for {}", process_name(container_id, exec_id));
        loop {
            let request = WaitRequest { container_id: container_id.to_string(), exec_id: exec_id.to_string() };
            match self.long_unary(&what, cancel, |ch| async move { tasks(ch).wait(self.request(request)).await }).await
            {
                Ok(reply) => return Ok(ExitStatus { code: reply.exit_status, exited_at: millis(reply.exited_at) }),
                Err(e) if e.is_connection_failure() => {
                    cancel
                        .run(&what, async {
                            tokio::time::sleep(RECONNECT_EVERY).await;
                            Ok(())
                        })
                        .await?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub async fn kill_process(
        &self,
        container_id: &str,
        exec_id: &str,
        signal: u32,
        all: bool,
        cancel: &Cancel,
    ) -> Result<()> {
        let what = format!("kill {}", process_name(container_id, exec_id));
        let request = KillRequest { container_id: container_id.to_string(), exec_id: exec_id.to_string(), signal, all };
        self.unary(&what, cancel, |ch| async move { tasks(ch).kill(self.request(request)).await }).await?;
        Ok(())
    }

    /// Deletes a stopped task; returns its exit status.
    pub async fn delete_task(&self, container_id: &str, cancel: &Cancel) -> Result<ExitStatus> {
        let what = format!("delete task {container_id:?}");
        let request = DeleteTaskRequest { container_id: container_id.to_string() };
        match self.long_unary(&what, cancel, |ch| async move { tasks(ch).delete(self.request(request)).await }).await {
            Ok(reply) => {
                // Its execs are gone with it: close the FIFOs of those never started.
                self.take_pending_io_of(container_id).into_iter().for_each(super::stdio::PreparedIo::abandon);
                Ok(ExitStatus { code: reply.exit_status, exited_at: millis(reply.exited_at) })
            }
            // containerd 1.6 answers UNKNOWN for a task that is still running; say what it is.
            Err(e) if e.code == Code::Unknown => match self.task_state(container_id, "", cancel).await {
                Ok(state) if state.status != "stopped" => Err(Error {
                    code: Code::FailedPrecondition,
                    message: format!("{what}: the task is {}; kill it and wait for it first", state.status),
                    details: e.details,
                }),
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    pub async fn task_state(&self, container_id: &str, exec_id: &str, cancel: &Cancel) -> Result<TaskState> {
        let what = format!("get {}", process_name(container_id, exec_id));
        let request = GetRequest { container_id: container_id.to_string(), exec_id: exec_id.to_string() };
        let reply = self.unary(&what, cancel, |ch| async move { tasks(ch).get(self.request(request)).await }).await?;
        reply
            .process
            .map(state)
            .ok_or_else(|| Error::new(Code::Internal, format!("{what}: the daemon answered without the process")))
    }

    pub async fn pause_task(&self, container_id: &str, cancel: &Cancel) -> Result<()> {
        let what = format!("pause task {container_id:?}");
        let request = PauseTaskRequest { container_id: container_id.to_string() };
        self.unary(&what, cancel, |ch| async move { tasks(ch).pause(self.request(request)).await }).await?;
        Ok(())
    }

    pub async fn resume_task(&self, container_id: &str, cancel: &Cancel) -> Result<()> {
        let what = format!("resume task {container_id:?}");
        let request = ResumeTaskRequest { container_id: container_id.to_string() };
        self.unary(&what, cancel, |ch| async move { tasks(ch).resume(self.request(request)).await }).await?;
        Ok(())
    }

    pub async fn task_pids(&self, container_id: &str, cancel: &Cancel) -> Result<Vec<u32>> {
        let what = format!("list pids of task {container_id:?}");
        let request = ListPidsRequest { container_id: container_id.to_string() };
        let reply =
            self.unary(&what, cancel, |ch| async move { tasks(ch).list_pids(self.request(request)).await }).await?;
        Ok(reply.processes.into_iter().map(|p| p.pid).collect())
    }

    pub async fn task_metrics(&self, container_id: &str, cancel: &Cancel) -> Result<super::metrics::TaskMetrics> {
        let what = format!("metrics of task {container_id:?}");
        let request = MetricsRequest { filters: vec![format!("id=={container_id}")] };
        let reply =
            self.unary(&what, cancel, |ch| async move { tasks(ch).metrics(self.request(request)).await }).await?;
        let metric = reply
            .metrics
            .into_iter()
            .find(|m| m.id == container_id)
            .ok_or_else(|| Error::new(Code::NotFound, format!("{what}: no metrics (is the task running?)")))?;
        let data = metric.data.ok_or_else(|| Error::new(Code::NotFound, format!("{what}: the daemon sent no data")))?;
        super::metrics::decode(&data.type_url, &data.value)
    }

    pub async fn list_tasks(&self, cancel: &Cancel) -> Result<Vec<TaskState>> {
        let reply = self
            .unary("list tasks", cancel, |ch| async move {
                tasks(ch).list(self.request(ListTasksRequest { filter: String::new() })).await
            })
            .await?;
        Ok(reply.tasks.into_iter().map(state).collect())
    }
}

/// New limits for a running task (`Task.update()`), as JS passes them.
#[derive(Debug, Clone, Default)]
pub struct ResourceUpdate {
    pub memory_limit_bytes: Option<f64>,
    pub cpus: Option<f64>,
    pub pids_limit: Option<f64>,
}

/// containerd's type URL for `specs.LinuxResources` (JSON, as the runc shim unmarshals it).
pub const LINUX_RESOURCES_TYPE_URL: &str = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

/// The largest integer a JS number holds exactly.
const MAX_SAFE: u64 = (1 << 53) - 1;

impl ResourceUpdate {
    /// The `LinuxResources` JSON: only the given fields (runc leaves the others as they are).
    pub fn to_json(&self) -> Result<serde_json::Value> {
        let mut out = serde_json::Map::new();
        if let Some(n) = self.memory_limit_bytes {
            let limit = super::numbers::integer_in("memoryLimitBytes", n, 1, MAX_SAFE)?;
            out.insert("memory".into(), serde_json::json!({ "limit": limit }));
        }
        if let Some(cpus) = self.cpus {
            let quota = super::spec::checked_cpu_quota(cpus)?;
            out.insert("cpu".into(), serde_json::json!({ "quota": quota, "period": super::spec::CPU_PERIOD }));
        }
        if let Some(n) = self.pids_limit {
            let limit = super::numbers::integer_in("pidsLimit", n, 1, MAX_SAFE)?;
            out.insert("pids".into(), serde_json::json!({ "limit": limit }));
        }
        if out.is_empty() {
            return Err(Error::invalid_argument("update: give memoryLimitBytes, cpus or pidsLimit"));
        }
        Ok(serde_json::Value::Object(out))
    }
}

impl Client {
    /// Changes a running task's cgroup limits (Tasks.Update with LinuxResources).
    pub async fn update_task(&self, container_id: &str, update: &ResourceUpdate, cancel: &Cancel) -> Result<()> {
        let what = format!("update task {container_id:?}");
        let value =
            serde_json::to_vec(&update.to_json()?).map_err(|e| Error::new(Code::Internal, format!("{what}: {e}")))?;
        let request = UpdateTaskRequest {
            container_id: container_id.to_string(),
            resources: Some(prost_types::Any { type_url: LINUX_RESOURCES_TYPE_URL.to_string(), value }),
            ..Default::default()
        };
        match self.unary(&what, cancel, |ch| async move { tasks(ch).update(self.request(request)).await }).await {
            Ok(_) => Ok(()),
            // The shim answers UNKNOWN "cannot update a stopped container".
            Err(e) if e.code == Code::Unknown => match self.task_state(container_id, "", cancel).await {
                Ok(state) if state.status != "running" && state.status != "paused" => Err(Error {
                    code: Code::FailedPrecondition,
                    message: format!("{what}: the task is {}; only a running task can be updated", state.status),
                    details: e.details,
                }),
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }
}

/// The runtime's "executable file not found" (or a missing absolute path) as a NotFound naming
/// the executable; other errors unchanged.
pub(crate) fn missing_executable(e: Error) -> Error {
    if e.code != Code::Unknown {
        return e;
    }
    let text = e.details.clone().unwrap_or_else(|| e.message.clone());
    let Some(start) = text.find("exec: \"") else { return e };
    let rest = &text[start + 7..];
    let Some(end) = rest.find("\": ") else { return e };
    let (name, after) = (&rest[..end], &rest[end + 3..]);
    let missing = after.starts_with("executable file not found")
        || (after.starts_with("stat ") && after.contains("no such file or directory"));
    if !missing {
        return e;
    }
    let message = if name.contains('/') {
        format!("executable {name:?} not found in the container")
    } else {
        format!("executable {name:?} not found in the container's $PATH")
    };
    let hint = if name.contains(' ') || name.contains(';') {
        " (args are argv, not a shell command: use ['sh', '-c', …])"
    } else {
        ""
    };
    Error { code: Code::NotFound, message: format!("{message}{hint}"), details: e.details }
}

impl Client {
    pub async fn resize_pty(
        &self,
        container_id: &str,
        exec_id: &str,
        cols: f64,
        rows: f64,
        cancel: &Cancel,
    ) -> Result<()> {
        let size = |n, what| super::numbers::integer_in(what, n, 1, 65535).map(|n| n as u32);
        let (cols, rows) = (size(cols, "cols")?, size(rows, "rows")?);
        let what = format!("resize {}", process_name(container_id, exec_id));
        let request = containerd_client::services::v1::ResizePtyRequest {
            container_id: container_id.to_string(),
            exec_id: exec_id.to_string(),
            width: cols,
            height: rows,
        };
        self.unary(&what, cancel, |ch| async move { tasks(ch).resize_pty(self.request(request)).await }).await?;
        Ok(())
    }

    /// Closes the process's stdin (the shim closes its end of the FIFO).
    pub async fn close_stdin(&self, container_id: &str, exec_id: &str, cancel: &Cancel) -> Result<()> {
        let what = format!("close stdin of {}", process_name(container_id, exec_id));
        let request = containerd_client::services::v1::CloseIoRequest {
            container_id: container_id.to_string(),
            exec_id: exec_id.to_string(),
            stdin: true,
        };
        self.unary(&what, cancel, |ch| async move { tasks(ch).close_io(self.request(request)).await }).await?;
        Ok(())
    }
}

fn process_name(container_id: &str, exec_id: &str) -> String {
    if exec_id.is_empty() {
        format!("task {container_id:?}")
    } else {
        format!("process {exec_id:?} of task {container_id:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_executables_are_not_found() {
        let runc =
            |text: &str| Error { code: Code::Unknown, message: format!("start: {text}"), details: Some(text.into()) };
        let e = missing_executable(runc(
            "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"nope\": executable file not found in $PATH: unknown",
        ));
        assert_eq!(e.code, Code::NotFound);
        assert!(e.message.contains("\"nope\""), "{}", e.message);
        let e = missing_executable(runc("OCI runtime exec failed: exec failed: unable to start container process: exec: \"ps;\": executable file not found in $PATH: unknown"));
        assert_eq!(e.code, Code::NotFound);
        assert!(e.message.contains("sh"), "{}", e.message);
        let e = missing_executable(runc("exec: \"/bin/nope\": stat /bin/nope: no such file or directory: unknown"));
        assert_eq!(e.code, Code::NotFound);
        let other = runc("exec: \"/bin/x\": permission denied");
        assert_eq!(missing_executable(other.clone()), other);
        let unrelated = Error::new(Code::Internal, "exec: \"x\": executable file not found");
        assert_eq!(missing_executable(unrelated.clone()), unrelated);
    }

    #[test]
    fn resource_updates() {
        let u = ResourceUpdate { memory_limit_bytes: Some(64.0 * 1048576.0), cpus: Some(0.5), pids_limit: Some(20.0) };
        assert_eq!(
            u.to_json().unwrap(),
            serde_json::json!({"memory": {"limit": 67108864u64}, "cpu": {"quota": 50000, "period": 100000}, "pids": {"limit": 20}})
        );
        for bad in [
            ResourceUpdate::default(),
            ResourceUpdate { memory_limit_bytes: Some(-1.0), ..Default::default() },
            ResourceUpdate { memory_limit_bytes: Some(1.5), ..Default::default() },
            ResourceUpdate { pids_limit: Some(0.0), ..Default::default() },
            ResourceUpdate { cpus: Some(-2.0), ..Default::default() },
            ResourceUpdate { cpus: Some(f64::NAN), ..Default::default() },
        ] {
            assert_eq!(bad.to_json().unwrap_err().code, Code::InvalidArgument, "{bad:?}");
        }
    }
}
