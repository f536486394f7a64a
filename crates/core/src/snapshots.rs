//! Snapshotter and differ calls used to unpack layers.

use super::cancel::Cancel;
use super::client::{Client, MAX_MESSAGE_BYTES};
use super::error::{Code, Result};
use super::images::Descriptor;
use crate::transport::Transport;
use containerd_client::services::v1::snapshots::{
    snapshots_client::SnapshotsClient, CommitSnapshotRequest, MountsRequest, PrepareSnapshotRequest,
    RemoveSnapshotRequest, StatSnapshotRequest, ViewSnapshotRequest,
};
use containerd_client::services::v1::{diff_client::DiffClient, ApplyRequest, DiffRequest};
use containerd_client::types::Mount;
use std::collections::HashMap;

fn snapshots(ch: Transport) -> SnapshotsClient<Transport> {
    SnapshotsClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES)
}

impl Client {
    /// Whether snapshot `key` exists in `snapshotter`.
    pub(crate) async fn snapshot_exists(&self, snapshotter: &str, key: &str) -> Result<bool> {
        let what = format!("stat snapshot {key}");
        let reply = self
            .unary(&what, &Cancel::none(), |ch| async move {
                snapshots(ch)
                    .stat(
                        self.request(StatSnapshotRequest {
                            snapshotter: snapshotter.to_string(),
                            key: key.to_string(),
                        }),
                    )
                    .await
            })
            .await;
        match reply {
            Ok(_) => Ok(true),
            Err(e) if e.code == Code::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// An active snapshot `key` on top of `parent` ("" for none); returns its mounts.
    pub(crate) async fn prepare_snapshot(&self, snapshotter: &str, key: &str, parent: &str) -> Result<Vec<Mount>> {
        let what = format!("prepare snapshot {key}");
        let request = PrepareSnapshotRequest {
            snapshotter: snapshotter.to_string(),
            key: key.to_string(),
            parent: parent.to_string(),
            labels: HashMap::new(),
        };
        let reply = self
            .unary(&what, &Cancel::none(), |ch| async move { snapshots(ch).prepare(self.request(request)).await })
            .await?;
        Ok(reply.mounts)
    }

    pub(crate) async fn commit_snapshot(&self, snapshotter: &str, name: &str, key: &str) -> Result<()> {
        let what = format!("commit snapshot {name}");
        let request = CommitSnapshotRequest {
            snapshotter: snapshotter.to_string(),
            name: name.to_string(),
            key: key.to_string(),
            labels: HashMap::new(),
        };
        self.unary(&what, &Cancel::none(), |ch| async move { snapshots(ch).commit(self.request(request)).await })
            .await?;
        Ok(())
    }

    /// Removes a snapshot; one that is already gone is fine.
    pub(crate) async fn remove_snapshot(&self, snapshotter: &str, key: &str) -> Result<()> {
        let what = format!("remove snapshot {key}");
        let done = self
            .unary(&what, &Cancel::none(), |ch| async move {
                snapshots(ch)
                    .remove(
                        self.request(RemoveSnapshotRequest {
                            snapshotter: snapshotter.to_string(),
                            key: key.to_string(),
                        }),
                    )
                    .await
            })
            .await;
        match done {
            Err(e) if e.code != Code::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Applies a layer blob onto `mounts`; returns the digest of the uncompressed tar (its diff ID).
    pub(crate) async fn apply_layer(&self, layer: &Descriptor, mounts: Vec<Mount>) -> Result<String> {
        let what = format!("apply layer {}", layer.digest);
        let request = ApplyRequest { diff: Some(layer.into()), mounts, payloads: HashMap::new(), sync_fs: false };
        let reply = self
            .long_unary(&what, &Cancel::none(), |ch| async move {
                DiffClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES).apply(self.request(request)).await
            })
            .await?;
        Ok(reply.applied.map(|d| d.digest).unwrap_or_default())
    }

    /// A snapshot's parent ("" for none); NOT_FOUND when it does not exist.
    pub(crate) async fn snapshot_parent(&self, snapshotter: &str, key: &str) -> Result<String> {
        let what = format!("stat snapshot {key}");
        let request = StatSnapshotRequest { snapshotter: snapshotter.to_string(), key: key.to_string() };
        let reply = self
            .unary(&what, &Cancel::none(), |ch| async move { snapshots(ch).stat(self.request(request)).await })
            .await?;
        Ok(reply.info.map(|i| i.parent).unwrap_or_default())
    }

    /// The mounts of an active or view snapshot.
    pub(crate) async fn snapshot_mounts(&self, snapshotter: &str, key: &str) -> Result<Vec<Mount>> {
        let what = format!("mounts of snapshot {key}");
        let request = MountsRequest { snapshotter: snapshotter.to_string(), key: key.to_string() };
        let reply = self
            .unary(&what, &Cancel::none(), |ch| async move { snapshots(ch).mounts(self.request(request)).await })
            .await?;
        Ok(reply.mounts)
    }

    /// A read-only view `key` of the committed snapshot `parent`; returns its mounts.
    pub(crate) async fn view_snapshot(&self, snapshotter: &str, key: &str, parent: &str) -> Result<Vec<Mount>> {
        let what = format!("view snapshot {parent}");
        let request = ViewSnapshotRequest {
            snapshotter: snapshotter.to_string(),
            key: key.to_string(),
            parent: parent.to_string(),
            labels: HashMap::new(),
        };
        let reply = self
            .unary(&what, &Cancel::none(), |ch| async move { snapshots(ch).view(self.request(request)).await })
            .await?;
        Ok(reply.mounts)
    }

    /// The differ's layer of what `upper` changed over `lower`, written to the content store (under
    /// the client's lease) as `media_type`; returns its descriptor.
    pub(crate) async fn diff_mounts(
        &self,
        lower: Vec<Mount>,
        upper: Vec<Mount>,
        media_type: &str,
        reference: &str,
        cancel: &Cancel,
    ) -> Result<Descriptor> {
        let what = "diff snapshot".to_string();
        let request = DiffRequest {
            left: lower,
            right: upper,
            media_type: media_type.to_string(),
            r#ref: reference.to_string(),
            labels: HashMap::new(),
            source_date_epoch: None,
        };
        let reply = self
            .long_unary(&what, cancel, |ch| async move {
                DiffClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES).diff(self.request(request)).await
            })
            .await?;
        reply.diff.map(Descriptor::from).ok_or_else(|| {
            super::error::Error::new(Code::Internal, format!("{what}: the daemon answered without a descriptor"))
        })
    }
}
