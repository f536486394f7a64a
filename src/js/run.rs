//! `run()` on `NativeClient`.

use super::cancel::{from_handle, CancelHandle};
use super::client::{spawn, NativeClient};
use super::containers::{container_options, NativeContainerOptions};
use super::images::{pull_options, NativePullOptions};
use crate::core;
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;

#[napi(object)]
pub struct NativeRunOptions {
    pub container: NativeContainerOptions,
    pub id: Option<String>,
    /// Pull the image when it is missing (default true), with `pull_options`.
    pub pull: Option<bool>,
    pub pull_options: Option<NativePullOptions>,
    pub input: Option<Buffer>,
    pub timeout_ms: Option<f64>,
    /// Bytes kept per stream; undefined: the core's default (64 MiB); Infinity: no limit.
    pub max_buffer: Option<f64>,
}

#[napi(object)]
pub struct RunResultInfo {
    pub exit_code: u32,
    pub exited_at: f64,
    /// Raw bytes; index.js decodes them (utf8 unless `encoding: 'buffer'`).
    pub stdout: Buffer,
    pub stderr: Buffer,
    /// Killed after `timeoutMs`; index.js turns this into a DeadlineExceededError carrying the output.
    pub timed_out: bool,
    /// A stream passed maxBuffer; index.js turns this into a ResourceExhaustedError with the output.
    pub max_buffer_exceeded: bool,
}

#[napi]
impl NativeClient {
    #[napi]
    pub fn run<'env>(
        &self,
        env: &'env Env,
        options: NativeRunOptions,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, RunResultInfo>> {
        let container = container_options(options.container).map_err(super::error::to_napi)?;
        let pull = options.pull.unwrap_or(true).then(|| pull_options(options.pull_options, None));
        let timeout = match options.timeout_ms.map(|ms| core::client::millis("timeoutMs", ms)).transpose() {
            Ok(limit) => limit.flatten(),
            Err(e) => return Err(super::error::to_napi(e)),
        };
        let run = core::run::RunOptions {
            id: options.id,
            container,
            pull,
            input: options.input.map(|b| b.to_vec()),
            timeout,
            max_buffer: options.max_buffer,
        };
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            let out = client.run(run, &cancel).await?;
            Ok(RunResultInfo {
                exit_code: out.exit.code,
                exited_at: out.exit.exited_at,
                stdout: out.stdout.into(),
                stderr: out.stderr.into(),
                timed_out: out.timed_out,
                max_buffer_exceeded: out.max_buffer_exceeded,
            })
        })
    }
}

#[napi(object)]
pub struct CleanupInfo {
    pub containers: Vec<String>,
    pub leases: Vec<String>,
    pub networks: u32,
}

#[napi]
impl NativeClient {
    /// Removes what dead processes on this machine left in this namespace (run() containers,
    /// leases), and the networks' leftovers when the daemon is local.
    #[napi]
    pub fn cleanup<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, CleanupInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            let r = client.cleanup(&cancel).await?;
            Ok(CleanupInfo { containers: r.containers, leases: r.leases, networks: r.networks })
        })
    }
}
