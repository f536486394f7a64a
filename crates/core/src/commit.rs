//! Committing a container to an image: containerd's Diff service turns what the container's
//! active snapshot changed over its parent (seen through a View snapshot) into one new layer; a
//! new config (its diff ID appended, a history entry, `config` overrides) and manifest are written,
//! the layer is applied into a snapshot committed under its chain ID (so the image runs without
//! another unpack), and the image record is written — all under a lease, with the GC labels.

use super::cancel::Cancel;
use super::client::Client;
use super::error::{Code, Error, Result};
use super::images::{Descriptor, ImageRecord};
use super::leases::lease_id;
use super::progress::Progress;
use super::reference::Reference;
use super::tracked::Tracked;
use super::unpack::UnpackTarget;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

const LEASE_EXPIRY: Duration = Duration::from_secs(3600);
const MEDIA_OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const MEDIA_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const MEDIA_OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const MEDIA_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const MEDIA_DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const MEDIA_DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// The keys of an image config's `config` that `overrides` may set.
const CONFIG_KEYS: [&str; 10] = [
    "User",
    "ExposedPorts",
    "Env",
    "Entrypoint",
    "Cmd",
    "Volumes",
    "WorkingDir",
    "Labels",
    "StopSignal",
    "ArgsEscaped",
];

#[derive(Clone, Default)]
pub struct CommitOptions {
    /// Pause a running task while the diff is taken (default true).
    pub pause: Option<bool>,
    /// Overrides for the image config's `config` (JSON object: Cmd, Env, Entrypoint, …).
    pub config: Option<String>,
    /// The history entry's comment.
    pub message: Option<String>,
    pub author: Option<String>,
}

/// The base config with the new layer, history entry and overrides.
fn new_config(base: &[u8], diff_id: &str, options: &CommitOptions, created: &str) -> Result<Vec<u8>> {
    let mut config: Map<String, Value> = serde_json::from_slice(base)
        .map_err(|e| Error::new(Code::FailedPrecondition, format!("commit: the image config is not JSON: {e}")))?;
    if let Some(text) = &options.config {
        let overrides: Map<String, Value> = serde_json::from_str(text)
            .map_err(|e| Error::invalid_argument(format!("commit: config must be an object: {e}")))?;
        let target = config.entry("config").or_insert_with(|| json!({}));
        let Some(target) = target.as_object_mut() else {
            return Err(Error::new(Code::FailedPrecondition, "commit: the image config's config is not an object"));
        };
        for (k, v) in overrides {
            if !CONFIG_KEYS.contains(&k.as_str()) {
                return Err(Error::invalid_argument(format!(
                    "commit: config.{k} is not an image config field (one of {})",
                    CONFIG_KEYS.join(", ")
                )));
            }
            if v.is_null() {
                target.remove(&k);
            } else {
                target.insert(k, v);
            }
        }
    }
    let rootfs = config.entry("rootfs").or_insert_with(|| json!({ "type": "layers", "diff_ids": [] }));
    match rootfs.get_mut("diff_ids").and_then(Value::as_array_mut) {
        Some(ids) => ids.push(json!(diff_id)),
        None => rootfs["diff_ids"] = json!([diff_id]),
    }
    let mut entry = Map::new();
    entry.insert("created".into(), json!(created));
    entry.insert("created_by".into(), json!("containerd-napi commit"));
    if let Some(m) = &options.message {
        entry.insert("comment".into(), json!(m));
    }
    if let Some(a) = &options.author {
        entry.insert("author".into(), json!(a));
        config.insert("author".into(), json!(a));
    }
    match config.get_mut("history").and_then(Value::as_array_mut) {
        Some(history) => history.push(Value::Object(entry)),
        None => {
            config.insert("history".into(), json!([entry]));
        }
    }
    config.insert("created".into(), json!(created));
    let bytes = serde_json::to_vec(&config).map_err(|e| Error::new(Code::Internal, e.to_string()))?;
    // What we write must read back as an image config.
    oci_spec::image::ImageConfiguration::from_reader(&bytes[..])
        .map_err(|e| Error::invalid_argument(format!("commit: the resulting image config is invalid: {e}")))?;
    Ok(bytes)
}

impl Client {
    /// Commits container `id`'s filesystem changes as image `name`; see the module comment.
    pub async fn commit_container(
        &self,
        id: &str,
        name: &str,
        options: CommitOptions,
        cancel: &Cancel,
    ) -> Result<ImageRecord> {
        let name = Reference::parse(name)?.name();
        let container = self.get_container(id, cancel).await?;
        if container.snapshot_key.is_empty() || container.snapshotter.is_empty() {
            return Err(Error::new(Code::FailedPrecondition, format!("commit {id}: the container has no snapshot")));
        }
        if container.image.is_empty() {
            return Err(Error::new(Code::FailedPrecondition, format!("commit {id}: the container has no image")));
        }
        let base = self.resolve_image(&container.image, None, cancel).await.map_err(|e| {
            Error::new(
                if e.code == Code::NotFound { Code::FailedPrecondition } else { e.code },
                format!("commit {id}: its image {}: {}", container.image, e.message),
            )
        })?;
        // Validate the overrides before any work.
        new_config(&base.config_bytes, "sha256:0", &options, "1970-01-01T00:00:00Z")?;
        let snapshotter = container.snapshotter.clone();
        let parent = self.snapshot_parent(&snapshotter, &container.snapshot_key).await?;

        let lease = lease_id("commit");
        self.create_lease(&lease, LEASE_EXPIRY).await?;
        let leased = self.with_lease(&lease);
        let view = format!("commit-view-{:016x}", rand::random::<u64>());
        let ingests = Tracked::default();
        let active = Tracked::default();
        let mut creating = false;
        // Set while the task is paused: an abort mid-diff still resumes it.
        let paused = std::sync::atomic::AtomicBool::new(false);
        let work = async {
            // Pause a running task for a consistent diff; resume whatever happens.
            let pause = options.pause.unwrap_or(true)
                && matches!(self.task_state(id, "", &Cancel::none()).await, Ok(t) if t.status == "running");
            if pause {
                self.pause_task(id, &Cancel::none()).await?;
                paused.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            let diffed = async {
                let upper = leased.snapshot_mounts(&snapshotter, &container.snapshot_key).await?;
                let lower = if parent.is_empty() {
                    Vec::new()
                } else {
                    leased.view_snapshot(&snapshotter, &view, &parent).await?
                };
                let reference = format!("commit-{:016x}", rand::random::<u64>());
                leased.diff_mounts(lower, upper, MEDIA_OCI_LAYER_GZIP, &reference, cancel).await
            }
            .await;
            let _ = self.remove_snapshot(&snapshotter, &view).await;
            if paused.swap(false, std::sync::atomic::Ordering::SeqCst) {
                let resumed = self.resume_task(id, &Cancel::none()).await;
                if diffed.is_ok() {
                    resumed?;
                }
            }
            let mut layer = diffed?;
            let info = leased
                .content_info(&layer.digest)
                .await?
                .ok_or_else(|| Error::new(Code::Internal, format!("commit {id}: the differ's layer is missing")))?;
            let diff_id = info.labels.get("containerd.io/uncompressed").cloned().ok_or_else(|| {
                Error::new(Code::Internal, format!("commit {id}: the differ did not label the layer's diff ID"))
            })?;
            layer.annotations.clear();
            let docker = base.documents.last().is_some_and(|m| m.media_type == MEDIA_DOCKER_MANIFEST);
            if docker {
                layer.media_type = MEDIA_DOCKER_LAYER_GZIP.to_string();
            }
            let mut layers = base.layers.clone();
            layers.push(layer.clone());
            let mut ids = base.diff_ids.clone();
            ids.push(diff_id.clone());

            // The new layer as a snapshot under its chain ID (the others exist: the container runs on them).
            let progress = Progress::new(&name, None);
            let target =
                UnpackTarget { snapshotter: &snapshotter, lease: &lease, active: &active, progress: &progress };
            let ready = layers
                .iter()
                .map(|_| {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    let _ = tx.send(());
                    rx
                })
                .collect();
            let top = leased.unpack_layers(&layers, &ids, ready, &target).await?;

            let created = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
            let config_bytes = Bytes::from(new_config(&base.config_bytes, &diff_id, &options, &created)?);
            let config_labels = HashMap::from([(format!("containerd.io/gc.ref.snapshot.{snapshotter}"), top)]);
            let config_digest = leased.write_bytes(&config_bytes, config_labels, &ingests).await?;
            let (manifest_type, config_type) = if docker {
                (MEDIA_DOCKER_MANIFEST, MEDIA_DOCKER_CONFIG)
            } else {
                (MEDIA_OCI_MANIFEST, MEDIA_OCI_CONFIG)
            };
            let mut labels =
                HashMap::from([("containerd.io/gc.ref.content.config".to_string(), config_digest.clone())]);
            for (i, l) in layers.iter().enumerate() {
                labels.insert(format!("containerd.io/gc.ref.content.l.{i}"), l.digest.clone());
            }
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": manifest_type,
                "config": { "mediaType": config_type, "digest": config_digest, "size": config_bytes.len() },
                "layers": layers.iter().map(|l| json!({ "mediaType": l.media_type, "digest": l.digest, "size": l.size })).collect::<Vec<_>>(),
            });
            let manifest_bytes =
                Bytes::from(serde_json::to_vec(&manifest).map_err(|e| Error::new(Code::Internal, e.to_string()))?);
            let manifest_digest = leased.write_bytes(&manifest_bytes, labels, &ingests).await?;
            let target = Descriptor {
                media_type: manifest_type.to_string(),
                digest: manifest_digest,
                size: manifest_bytes.len() as u64,
                annotations: HashMap::new(),
            };
            creating = match self.get_image(&name, &Cancel::none()).await {
                Ok(_) => false,
                Err(e) if e.code == Code::NotFound => true,
                Err(e) => return Err(e),
            };
            self.put_image(&name, &target, &HashMap::new()).await
        };
        let outcome = cancel.run("commit", Box::pin(work)).await;
        let failed = outcome.is_err();
        if paused.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = self.resume_task(id, &Cancel::none()).await;
        }
        let _ = self.remove_snapshot(&snapshotter, &view).await;
        for key in active.take() {
            let _ = self.remove_snapshot(&snapshotter, &key).await;
        }
        for stale in ingests.take() {
            let _ = self.content_abort(&stale).await;
        }
        if failed && creating {
            let _ = self.delete_image(&name, false, &Cancel::none()).await;
        }
        let released = self.delete_lease(&lease, failed).await;
        let image = outcome?;
        released?;
        Ok(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_gets_layer_history_and_overrides() {
        let base = br#"{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"],"Env":["A=1"]},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]},"history":[{"created_by":"x"}]}"#;
        let options = CommitOptions {
            config: Some(r#"{"Cmd":["echo","hi"],"Env":null}"#.into()),
            message: Some("m".into()),
            author: Some("me".into()),
            ..Default::default()
        };
        let out: Value =
            serde_json::from_slice(&new_config(base, "sha256:bb", &options, "2024-01-01T00:00:00Z").unwrap()).unwrap();
        assert_eq!(out["rootfs"]["diff_ids"], json!(["sha256:aa", "sha256:bb"]));
        assert_eq!(out["config"]["Cmd"], json!(["echo", "hi"]));
        assert!(out["config"].get("Env").is_none());
        assert_eq!(out["history"][1]["comment"], json!("m"));
        assert_eq!(out["author"], json!("me"));
        let bad = CommitOptions { config: Some(r#"{"Nope":1}"#.into()), ..Default::default() };
        assert_eq!(new_config(base, "sha256:bb", &bad, "x").unwrap_err().code, Code::InvalidArgument);
        let bad = CommitOptions { config: Some("[1]".into()), ..Default::default() };
        assert_eq!(new_config(base, "sha256:bb", &bad, "x").unwrap_err().code, Code::InvalidArgument);
    }
}
