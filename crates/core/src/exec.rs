//! Exec processes: the container's process spec with the caller's args, env, cwd, user and tty.

use super::cancel::Cancel;
use super::client::{Client, MAX_MESSAGE_BYTES};
use super::error::{Code, Error, Result};
use super::identifiers;
use super::images::millis;
use super::spec::{merge_env, validate_cwd, validate_env};
use super::stdio::{PipeFds, PreparedIo, StdioMode};
use super::tasks::ExitStatus;
use containerd_client::services::v1::{tasks_client::TasksClient, DeleteProcessRequest, ExecProcessRequest};
use serde_json::{json, Value};

const PROCESS_TYPE_URL: &str = "types.containerd.io/opencontainers/runtime-spec/1/Process";

#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub args: Vec<String>,
    /// Merged over the container's process env.
    pub env: Vec<String>,
    pub cwd: Option<String>,
    /// 'uid', 'uid:gid', 'name' or 'name:group', resolved against the container's image.
    pub user: Option<String>,
    pub tty: bool,
}

/// The container's `process` with the exec's overrides applied.
fn process_spec(container_spec: &[u8], options: &ExecOptions, user: Option<Value>) -> Result<Vec<u8>> {
    if options.args.first().is_none_or(|a| a.is_empty()) {
        return Err(Error::invalid_argument("exec needs args, and args[0] must not be empty"));
    }
    if options.args.iter().any(|a| a.contains('\0')) {
        return Err(Error::invalid_argument("exec args must not contain NUL bytes"));
    }
    validate_env(&options.env)?;
    if let Some(cwd) = &options.cwd {
        validate_cwd(cwd)?;
    }
    let spec: Value = serde_json::from_slice(container_spec)
        .map_err(|e| Error::new(Code::FailedPrecondition, format!("the container's spec is not valid JSON: {e}")))?;
    let mut process = spec.get("process").cloned().unwrap_or_else(|| json!({}));
    let mut env: Vec<String> = process["env"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    merge_env(&mut env, &options.env);
    if options.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".to_string());
    }
    process["args"] = json!(options.args);
    process["env"] = json!(env);
    process["terminal"] = json!(options.tty);
    if let Some(cwd) = &options.cwd {
        process["cwd"] = json!(cwd);
    }
    if let Some(user) = user {
        process["user"] = user;
    }
    serde_json::to_vec(&process).map_err(|e| Error::new(Code::Internal, format!("exec process spec: {e}")))
}

impl Client {
    /// Adds process `exec_id` to the running task; `start_process` starts it.
    pub async fn exec_process(
        &self,
        container_id: &str,
        exec_id: &str,
        options: &ExecOptions,
        stdio: &StdioMode,
        cancel: &Cancel,
    ) -> Result<PipeFds> {
        identifiers::validate("exec id", exec_id)?;
        let container = self.get_container(container_id, cancel).await?;
        let user = match options.user.as_deref() {
            None => None,
            Some(spec) => {
                let resolved = self.resolve_image(&container.image, None, cancel).await?;
                let u = self.image_user(&resolved.layers, spec).await?;
                Some(json!({ "uid": u.uid, "gid": u.gid, "additionalGids": u.additional_gids }))
            }
        };
        let spec = process_spec(&container.spec, options, user)?;
        let io = PreparedIo::prepare(stdio, options.tty, &format!("{container_id}-{exec_id}"))?;
        let request = ExecProcessRequest {
            container_id: container_id.to_string(),
            stdin: io.stdin.clone(),
            stdout: io.stdout.clone(),
            stderr: io.stderr.clone(),
            terminal: options.tty,
            spec: Some(prost_types::Any { type_url: PROCESS_TYPE_URL.to_string(), value: spec }),
            exec_id: exec_id.to_string(),
        };
        let what = format!("exec {exec_id:?} in task {container_id:?}");
        let created = self
            .long_unary(&what, cancel, |ch| async move {
                TasksClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES).exec(self.request(request)).await
            })
            .await;
        match created {
            Ok(_) => {
                let mut io = io;
                let fds = io.handover()?;
                // The shim opens the FIFOs only at Start; keep them until then.
                self.put_pending_io(container_id, exec_id, io);
                Ok(fds)
            }
            Err(e) => {
                io.abandon();
                Err(e)
            }
        }
    }

    /// Deletes an exited exec process; returns its exit status.
    pub async fn delete_process(&self, container_id: &str, exec_id: &str, cancel: &Cancel) -> Result<ExitStatus> {
        let what = format!("delete process {exec_id:?} of task {container_id:?}");
        if let Some(io) = self.take_pending_io(container_id, exec_id) {
            io.release();
        }
        let request = DeleteProcessRequest { container_id: container_id.to_string(), exec_id: exec_id.to_string() };
        let reply = self
            .long_unary(&what, cancel, |ch| async move {
                TasksClient::new(ch)
                    .max_decoding_message_size(MAX_MESSAGE_BYTES)
                    .delete_process(self.request(request))
                    .await
            })
            .await?;
        Ok(ExitStatus { code: reply.exit_status, exited_at: millis(reply.exited_at) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &[u8] =
        br#"{"process":{"args":["sleep","9"],"env":["PATH=/bin","A=1"],"cwd":"/","user":{"uid":5,"gid":5}},"root":{}}"#;

    #[test]
    fn overrides_the_containers_process() {
        let options = ExecOptions {
            args: vec!["id".into()],
            env: vec!["A=2".into(), "B=3".into()],
            cwd: Some("/tmp".into()),
            user: None,
            tty: true,
        };
        let p: Value = serde_json::from_slice(&process_spec(SPEC, &options, None).unwrap()).unwrap();
        assert_eq!(p["args"], json!(["id"]));
        assert_eq!(p["env"], json!(["PATH=/bin", "A=2", "B=3", "TERM=xterm"]));
        assert_eq!((p["cwd"].as_str(), p["terminal"].as_bool()), (Some("/tmp"), Some(true)));
        assert_eq!(p["user"]["uid"], 5);
        let as_root = process_spec(SPEC, &options, Some(json!({"uid": 0, "gid": 0}))).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&as_root).unwrap()["user"]["uid"], 0);
    }

    #[test]
    fn rejects_bad_input() {
        for options in [
            ExecOptions::default(),
            ExecOptions { args: vec!["".into()], ..Default::default() },
            ExecOptions { args: vec!["x".into()], env: vec!["NOPE".into()], ..Default::default() },
            ExecOptions { args: vec!["x".into()], cwd: Some("rel".into()), ..Default::default() },
        ] {
            assert_eq!(process_spec(SPEC, &options, None).unwrap_err().code, Code::InvalidArgument);
        }
    }
}
