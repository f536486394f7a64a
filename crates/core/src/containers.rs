//! Containers: a snapshot prepared from the image's top chain ID plus a record holding the OCI
//! runtime spec built from the image config and the caller's options.

use super::cancel::Cancel;
use super::client::{Client, MAX_MESSAGE_BYTES};
use super::content::content_stream;
use super::error::{Code, Error, Result};
use super::identifiers;
use super::images::{millis, Descriptor, ImageRecord};
use super::leases::lease_id;
use super::manifest::chain_ids;
use super::network::{Mode, NetworkRequest, NETWORK_LABEL};
use super::spec::{spec_json, ImageDefaults, ResolvedUser, SpecOptions, SPEC_TYPE_URL};
use super::users::{find_in_layer_bounded, needs_files, resolve_user, LayerFile, ScanLimits};
use crate::transport::Transport;
use containerd_client::services::v1::container::Runtime;
use containerd_client::services::v1::{
    containers_client::ContainersClient, Container, CreateContainerRequest, DeleteContainerRequest,
    GetContainerRequest, ListContainersRequest, UpdateContainerRequest,
};
use std::collections::HashMap;
use std::time::Duration;

pub const DEFAULT_RUNTIME: &str = "io.containerd.runc.v2";

#[derive(Debug, Clone)]
pub struct ContainerOptions {
    /// An image name as stored (or a reference normalising to one).
    pub image: String,
    pub spec: SpecOptions,
    /// Overrides the image's User.
    pub user: Option<String>,
    pub labels: HashMap<String, String>,
    pub snapshotter: String,
    pub runtime: String,
    /// network / ports / dns / extraHosts.
    pub network: NetworkRequest,
    /// `log`: its tasks' output goes to the logger (see logs.rs).
    pub log: Option<super::logs::LogRequest>,
    /// `restart`: a policy for containerd's restart monitor (see restart.rs).
    pub restart: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ContainerRecord {
    pub id: String,
    pub image: String,
    pub labels: HashMap<String, String>,
    pub snapshotter: String,
    pub snapshot_key: String,
    pub runtime: String,
    pub created_at: f64,
    pub updated_at: f64,
    /// The OCI runtime spec as containerd stores it (JSON).
    pub spec: Vec<u8>,
}

fn containers(ch: Transport) -> ContainersClient<Transport> {
    ContainersClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES)
}

fn record(c: Container) -> ContainerRecord {
    ContainerRecord {
        id: c.id,
        image: c.image,
        labels: c.labels,
        snapshotter: c.snapshotter,
        snapshot_key: c.snapshot_key,
        runtime: c.runtime.map(|r| r.name).unwrap_or_default(),
        created_at: millis(c.created_at),
        updated_at: millis(c.updated_at),
        spec: c.spec.map(|s| s.value).unwrap_or_default(),
    }
}

/// How long a container create may hold its snapshot in a lease before the record owns it.
const CREATE_LEASE: Duration = Duration::from_secs(600);

impl Client {
    /// Creates the container. Bad input fails before anything is made; a failure after the
    /// snapshot was prepared removes it again.
    pub async fn create_container(
        &self,
        id: &str,
        options: ContainerOptions,
        cancel: &Cancel,
    ) -> Result<ContainerRecord> {
        self.create_container_from(id, options, None, cancel).await
    }

    /// As `create_container`, with the image record when the caller has it (run() does: one
    /// GetImage for the whole run instead of three).
    pub(crate) async fn create_container_from(
        &self,
        id: &str,
        options: ContainerOptions,
        image: Option<ImageRecord>,
        cancel: &Cancel,
    ) -> Result<ContainerRecord> {
        identifiers::validate("container id", id)?;
        if options.snapshotter.is_empty() || options.runtime.is_empty() {
            return Err(Error::invalid_argument("snapshotter and runtime must not be empty"));
        }
        match self.get_container(id, cancel).await {
            Ok(_) => return Err(Error::new(Code::AlreadyExists, format!("container {id:?} already exists"))),
            Err(e) if e.code == Code::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut options = options;
        if let Some(log) = &options.log {
            log.settings()?;
        }
        let restart = options.restart.as_deref().map(super::restart::Policy::parse).transpose()?;
        let mode = options.network.check(options.spec.host_network)?;
        let attach = match mode {
            Mode::Host => {
                options.spec.host_network = true;
                None
            }
            Mode::None => None,
            Mode::Bridge(attach) => {
                options.spec.network = Some(self.network_files(id)?);
                options.labels.insert(NETWORK_LABEL.to_string(), attach.network.clone());
                Some(attach)
            }
        };
        let image = match image {
            Some(image) => image,
            None => self.get_image(&options.image, cancel).await?,
        };
        let restart_policy_label = match &restart {
            Some(policy) => self.restart_support(policy, cancel).await?,
            None => false,
        };
        let resolved = Box::pin(self.resolve_record(&image, None)).await?;
        let defaults = ImageDefaults::from_config_json(&resolved.config_bytes)?;
        let user_spec = options.user.clone().or_else(|| defaults.user.clone()).unwrap_or_default();
        let user = self.image_user(&resolved.layers, &user_spec).await?;
        let spec = spec_json(self.namespace(), id, &defaults, &options.spec, &user)?;
        let parent = chain_ids(&resolved.diff_ids).pop().unwrap_or_default();
        if !parent.is_empty() && !self.snapshot_exists(&options.snapshotter, &parent).await? {
            Box::pin(self.image_unpack(&image.name, &options.snapshotter, cancel)).await?;
        }

        if let Some(log) = &options.log {
            let labels = self.prepare_log(id, log).await?;
            options.labels.extend(labels);
        }
        if let Some(policy) = restart.filter(|p| *p != super::restart::Policy::No) {
            let labels = super::restart::restart_labels(&policy, restart_policy_label, &options.labels, id)?;
            options.labels.extend(labels.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        }
        // Last of the checks (ports free, network known), first of the things made.
        if let Some(attach) = &attach {
            let hostname = options.spec.hostname.clone().or_else(|| Some(id.to_string()));
            self.attach_network(id, hostname, attach).await?;
        }
        let created = Box::pin(self.create_record(id, &options, &image.name, &parent, spec)).await;
        if let Err(e) = &created {
            if e.code != Code::AlreadyExists {
                let _ = super::logs::remove_log_dir(
                    &ContainerRecord {
                        id: id.to_string(),
                        labels: options.labels.clone(),
                        ..record(Container::default())
                    },
                    self.namespace(),
                );
            }
        }
        if attach.is_some() {
            match &created {
                Ok(_) => self.confirm_network(id).await?,
                Err(_) => {
                    let _ = self.detach_network(id).await;
                }
            }
        }
        created
    }

    /// The snapshot and the record, under a lease until the record owns the snapshot.
    async fn create_record(
        &self,
        id: &str,
        options: &ContainerOptions,
        image: &str,
        parent: &str,
        spec: Vec<u8>,
    ) -> Result<ContainerRecord> {
        // The lease keeps the fresh snapshot from the collector until the record references it.
        let lease = lease_id("create");
        self.create_lease(&lease, CREATE_LEASE).await?;
        let leased = self.with_lease(&lease);
        let created = async {
            leased.prepare_snapshot(&options.snapshotter, id, parent).await?;
            let container = Container {
                id: id.to_string(),
                labels: options.labels.clone(),
                image: image.to_string(),
                runtime: Some(Runtime { name: options.runtime.clone(), options: None }),
                spec: Some(prost_types::Any { type_url: SPEC_TYPE_URL.to_string(), value: spec }),
                snapshotter: options.snapshotter.clone(),
                snapshot_key: id.to_string(),
                ..Default::default()
            };
            let what = format!("create container {id:?}");
            let reply = leased
                .unary(&what, &Cancel::none(), |ch| async move {
                    containers(ch).create(self.request(CreateContainerRequest { container: Some(container) })).await
                })
                .await;
            if reply.is_err() {
                let _ = leased.remove_snapshot(&options.snapshotter, id).await;
            }
            reply?
                .container
                .map(record)
                .ok_or_else(|| Error::new(Code::Internal, format!("{what}: no container in the answer")))
        }
        .await;
        let released = self.delete_lease(&lease, false).await;
        let container = created?;
        released?;
        Ok(container)
    }

    pub async fn get_container(&self, id: &str, cancel: &Cancel) -> Result<ContainerRecord> {
        let what = format!("get container {id:?}");
        let reply = self
            .unary(&what, cancel, |ch| async move {
                containers(ch).get(self.request(GetContainerRequest { id: id.to_string() })).await
            })
            .await?;
        reply.container.map(record).ok_or_else(|| Error::new(Code::NotFound, format!("{what}: not found")))
    }

    pub async fn list_containers(&self, filters: Vec<String>, cancel: &Cancel) -> Result<Vec<ContainerRecord>> {
        let reply = self
            .unary("list containers", cancel, |ch| async move {
                containers(ch).list(self.request(ListContainersRequest { filters })).await
            })
            .await?;
        Ok(reply.containers.into_iter().map(record).collect())
    }

    /// Merges labels into the container's; `None` removes a key.
    pub async fn set_container_labels(
        &self,
        id: &str,
        labels: HashMap<String, Option<String>>,
        cancel: &Cancel,
    ) -> Result<ContainerRecord> {
        let what = format!("update container {id:?}");
        let paths = labels.keys().map(|k| format!("labels.{k}")).collect();
        let container = Container {
            id: id.to_string(),
            labels: labels.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect(),
            ..Default::default()
        };
        let reply = self
            .unary(&what, cancel, |ch| async move {
                containers(ch)
                    .update(self.request(UpdateContainerRequest {
                        container: Some(container),
                        update_mask: Some(prost_types::FieldMask { paths }),
                    }))
                    .await
            })
            .await?;
        reply
            .container
            .map(record)
            .ok_or_else(|| Error::new(Code::Internal, format!("{what}: no container in the answer")))
    }

    /// Deletes the record, its network and, with `remove_snapshot`, its snapshot. Refused while the
    /// container has a task (running or not yet deleted), as containerd's Go client does: deleting
    /// under it would orphan the task.
    pub async fn delete_container(&self, id: &str, remove_snapshot: bool, cancel: &Cancel) -> Result<()> {
        let container = self.get_container(id, cancel).await?;
        // First, or the restart monitor could start a task for it meanwhile.
        self.hold_restarts_of(&container, cancel).await?;
        match self.task_state(id, "", cancel).await {
            Ok(task) => {
                return Err(Error::new(
                    Code::FailedPrecondition,
                    format!("delete container {id:?}: it has a task ({}); kill and delete the task first", task.status),
                ))
            }
            Err(e) if e.code == Code::NotFound => {}
            Err(e) => return Err(e),
        }
        self.remove_container(&container, remove_snapshot, cancel).await
    }

    /// Deletes a container record the caller holds and knows to have no task, then its snapshot
    /// and network.
    pub(crate) async fn remove_container(
        &self,
        container: &ContainerRecord,
        remove_snapshot: bool,
        cancel: &Cancel,
    ) -> Result<()> {
        let id = container.id.as_str();
        let what = format!("delete container {id:?}");
        self.unary(&what, cancel, |ch| async move {
            containers(ch).delete(self.request(DeleteContainerRequest { id: id.to_string() })).await
        })
        .await?;
        if remove_snapshot && !container.snapshot_key.is_empty() {
            self.remove_snapshot(&container.snapshotter, &container.snapshot_key).await?;
        }
        if container.labels.contains_key(NETWORK_LABEL) {
            self.detach_network(id).await?;
        }
        super::logs::remove_log_dir(container, self.namespace())?;
        Ok(())
    }

    /// Resolves a user spec against the image's /etc/passwd and /etc/group (read only when needed).
    pub(crate) async fn image_user(&self, layers: &[Descriptor], user: &str) -> Result<ResolvedUser> {
        let (passwd, group) = if needs_image_files(user) { self.image_user_files(layers).await? } else { (None, None) };
        resolve_user(user, passwd.as_deref(), group.as_deref())
    }

    /// /etc/passwd and /etc/group as the image's layers leave them, read from the layer blobs
    /// top-down (no mount, so it works against a remote daemon too).
    async fn image_user_files(&self, layers: &[Descriptor]) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>)> {
        const PATHS: [&str; 2] = ["etc/passwd", "etc/group"];
        let mut found: [Option<Option<Vec<u8>>>; 2] = [None, None];
        for layer in layers.iter().rev() {
            let reader = tokio_util::io::StreamReader::new(content_stream(self, &layer.digest).await?);
            let bridge = tokio_util::io::SyncIoBridge::new(reader);
            // Bounded by the layer's size (gzip bombs), and stopped when this future is dropped
            // (an aborted create or run) instead of reading on in its blocking thread.
            let limits = ScanLimits::for_layer(layer.size);
            let _stop_on_drop = StopOnDrop(limits.cancelled.clone());
            let files = tokio::task::spawn_blocking(move || find_in_layer_bounded(bridge, &PATHS, &limits))
                .await
                .map_err(|e| Error::new(Code::Internal, format!("reading layer {}: {e}", layer.digest)))??;
            for (slot, file) in found.iter_mut().zip(files) {
                if slot.is_none() {
                    match file {
                        LayerFile::Found(bytes) => *slot = Some(Some(bytes)),
                        LayerFile::Deleted => *slot = Some(None),
                        LayerFile::Absent => {}
                    }
                }
            }
            if found.iter().all(Option::is_some) {
                break;
            }
        }
        let [passwd, group] = found;
        Ok((passwd.flatten(), group.flatten()))
    }
}

/// Sets the flag when dropped: a layer scan in a blocking thread stops at its next read.
struct StopOnDrop(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Names need the image's files; so does a bare uid, whose primary gid comes from /etc/passwd.
fn needs_image_files(user: &str) -> bool {
    needs_files(user) || (!user.is_empty() && !user.contains(':'))
}
