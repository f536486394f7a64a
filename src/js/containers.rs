//! Containers on `NativeClient`.

use super::cancel::{from_handle, CancelHandle};
use super::client::{spawn, spawn_here, NativeClient};
use super::networks::{network_request, NativePortMapping};
use super::settle::to_json;
use crate::core;
use crate::core::containers::ContainerOptions;
use crate::core::seccomp::SeccompOption;
use crate::core::spec::{MountOptions, SpecOptions, Ulimit};
use napi::bindgen_prelude::{Either, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;
use std::collections::HashMap;

#[napi(object)]
pub struct NativeUlimit {
    pub name: String,
    pub soft: f64,
    pub hard: f64,
}

#[napi(object)]
pub struct NativeMount {
    pub r#type: Option<String>,
    pub source: Option<String>,
    pub destination: String,
    pub options: Option<Vec<String>>,
}

/// the README's ContainerOptions, with `env` already a list and capabilities split (index.js shapes them).
#[napi(object)]
pub struct NativeContainerOptions {
    pub image: String,
    pub args: Option<Vec<String>>,
    pub env: Option<Vec<String>>,
    pub cwd: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub tty: Option<bool>,
    pub host_network: Option<bool>,
    pub network: Option<String>,
    pub ports: Option<Vec<Either<String, NativePortMapping>>>,
    pub dns: Option<Vec<String>>,
    pub extra_hosts: Option<HashMap<String, String>>,
    pub mounts: Option<Vec<NativeMount>>,
    pub readonly_rootfs: Option<bool>,
    pub memory_limit_bytes: Option<f64>,
    pub cpus: Option<f64>,
    pub privileged: Option<bool>,
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub labels: Option<HashMap<String, String>>,
    pub annotations: Option<HashMap<String, String>>,
    pub snapshotter: Option<String>,
    pub runtime: Option<String>,
    pub log: Option<NativeLogOptions>,
    /// 'default' or 'unconfined'; a profile object arrives as `seccomp_profile` (JSON).
    pub seccomp: Option<String>,
    pub seccomp_profile: Option<String>,
    pub no_new_privileges: Option<bool>,
    pub pids_limit: Option<f64>,
    pub ulimits: Option<Vec<NativeUlimit>>,
    pub sysctls: Option<HashMap<String, String>>,
    /// The merge patch as JSON.
    pub spec_patch: Option<String>,
    pub restart: Option<String>,
}

/// `log: true` or `{ maxSizeBytes, maxFiles }`, plus where the package's logger binary is.
#[napi(object)]
pub struct NativeLogOptions {
    pub max_size_bytes: Option<f64>,
    pub max_files: Option<f64>,
    pub logger: Option<String>,
}

fn json_option(what: &str, json: Option<String>) -> core::Result<Option<serde_json::Value>> {
    json.map(|j| serde_json::from_str(&j).map_err(|e| core::Error::invalid_argument(format!("{what}: {e}"))))
        .transpose()
}

/// A JS number as an integer (non-integers are kept distinguishable: they fail the core's checks).
fn integer(n: f64) -> i64 {
    if n.fract() == 0.0 && n.is_finite() {
        n as i64
    } else {
        i64::MIN
    }
}

#[napi(object)]
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInfo {
    pub id: String,
    pub image: String,
    pub labels: HashMap<String, String>,
    pub snapshotter: String,
    pub snapshot_key: String,
    pub runtime: String,
    pub created_at: f64,
    pub updated_at: f64,
}

impl From<core::containers::ContainerRecord> for ContainerInfo {
    fn from(c: core::containers::ContainerRecord) -> ContainerInfo {
        ContainerInfo {
            id: c.id,
            image: c.image,
            labels: c.labels,
            snapshotter: c.snapshotter,
            snapshot_key: c.snapshot_key,
            runtime: c.runtime,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

pub(super) fn container_options(o: NativeContainerOptions) -> core::Result<ContainerOptions> {
    let seccomp = match (json_option("seccomp profile", o.seccomp_profile)?, o.seccomp) {
        (Some(profile), _) => SeccompOption::Profile(profile),
        (None, Some(name)) => SeccompOption::parse_name(&name)?,
        (None, None) => SeccompOption::Default,
    };
    let spec = SpecOptions {
        args: o.args,
        env: o.env.unwrap_or_default(),
        cwd: o.cwd,
        hostname: o.hostname,
        tty: o.tty.unwrap_or(false),
        host_network: o.host_network.unwrap_or(false),
        network: None,
        mounts: o
            .mounts
            .unwrap_or_default()
            .into_iter()
            .map(|m| MountOptions {
                // Empty means the core's defaults: a bind mount; a non-bind source named after its type.
                kind: m.r#type.unwrap_or_default(),
                source: m.source.unwrap_or_default(),
                destination: m.destination,
                options: m.options.unwrap_or_default(),
            })
            .collect(),
        readonly_rootfs: o.readonly_rootfs.unwrap_or(false),
        memory_limit_bytes: o.memory_limit_bytes.map(|n| n as i64),
        cpus: o.cpus,
        privileged: o.privileged.unwrap_or(false),
        cap_add: o.cap_add.unwrap_or_default(),
        cap_drop: o.cap_drop.unwrap_or_default(),
        annotations: o.annotations.unwrap_or_default(),
        seccomp,
        no_new_privileges: o.no_new_privileges,
        pids_limit: o.pids_limit.map(integer),
        ulimits: o
            .ulimits
            .unwrap_or_default()
            .into_iter()
            .map(|u| Ulimit { name: u.name, soft: integer(u.soft), hard: integer(u.hard) })
            .collect(),
        sysctls: o.sysctls.unwrap_or_default(),
        spec_patch: json_option("specPatch", o.spec_patch)?,
    };
    Ok(ContainerOptions {
        image: o.image,
        spec,
        user: o.user,
        labels: o.labels.unwrap_or_default(),
        snapshotter: o.snapshotter.unwrap_or_else(|| core::pull::DEFAULT_SNAPSHOTTER.to_string()),
        runtime: o.runtime.unwrap_or_else(|| core::containers::DEFAULT_RUNTIME.to_string()),
        network: network_request(o.network, o.ports, o.dns, o.extra_hosts),
        restart: o.restart,
        log: o.log.map(|l| core::logs::LogRequest {
            max_size_bytes: l.max_size_bytes,
            max_files: l.max_files,
            logger: l.logger.map(std::path::PathBuf::from),
        }),
    })
}

#[napi]
impl NativeClient {
    #[napi]
    pub fn create_container<'env>(
        &self,
        env: &'env Env,
        id: String,
        options: NativeContainerOptions,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ContainerInfo>> {
        let options = container_options(options).map_err(super::error::to_napi)?;
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { Ok(client.create_container(&id, options, &cancel).await?.into()) })
    }

    #[napi]
    pub fn get_container<'env>(
        &self,
        env: &'env Env,
        id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ContainerInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn_here(env, &self.inner, async move { Ok(client.get_container(&id, &cancel).await?.into()) })
    }

    /// A JSON array of `ContainerInfo` (see `list_images`).
    #[napi(ts_return_type = "Promise<string /* ContainerInfo[] as JSON */>")]
    pub fn list_containers<'env>(
        &self,
        env: &'env Env,
        filters: Option<Vec<String>>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, String>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn_here(env, &self.inner, async move {
            let list = client.list_containers(filters.unwrap_or_default(), &cancel).await?;
            to_json(&list.into_iter().map(ContainerInfo::from).collect::<Vec<_>>())
        })
    }

    /// The container's OCI runtime spec (JSON text; index.js parses it).
    #[napi]
    pub fn container_spec<'env>(
        &self,
        env: &'env Env,
        id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, String>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn_here(env, &self.inner, async move {
            let container = client.get_container(&id, &cancel).await?;
            Ok(String::from_utf8_lossy(&container.spec).into_owned())
        })
    }

    #[napi]
    pub fn set_container_labels<'env>(
        &self,
        env: &'env Env,
        id: String,
        labels: HashMap<String, Option<String>>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ContainerInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn_here(env, &self.inner, async move { Ok(client.set_container_labels(&id, labels, &cancel).await?.into()) })
    }

    /// `Container.update({ restart, labels })`.
    #[napi]
    pub fn update_container<'env>(
        &self,
        env: &'env Env,
        id: String,
        restart: Option<String>,
        labels: Option<HashMap<String, Option<String>>>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ContainerInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            Ok(client.update_container(&id, restart.as_deref(), labels.unwrap_or_default(), &cancel).await?.into())
        })
    }

    #[napi]
    pub fn delete_container<'env>(
        &self,
        env: &'env Env,
        id: String,
        snapshot: bool,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { client.delete_container(&id, snapshot, &cancel).await })
    }
}

#[napi(object)]
pub struct NativeCommitOptions {
    pub pause: Option<bool>,
    /// The `config` overrides as JSON (index.js stringifies the object).
    pub config: Option<String>,
    pub message: Option<String>,
    pub author: Option<String>,
}

#[napi]
impl NativeClient {
    /// Commits the container's filesystem changes as a new image named `name`.
    #[napi]
    pub fn commit_container<'env>(
        &self,
        env: &'env Env,
        id: String,
        name: String,
        options: Option<NativeCommitOptions>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, super::images::ImageInfo>> {
        let options = options
            .map(|o| crate::core::commit::CommitOptions {
                pause: o.pause,
                config: o.config,
                message: o.message,
                author: o.author,
            })
            .unwrap_or_default();
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { Ok(client.commit_container(&id, &name, options, &cancel).await?.into()) })
    }
}
