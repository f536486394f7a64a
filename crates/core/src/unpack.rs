//! Unpacking layers into a snapshotter by chain ID: Prepare on the parent chain, Diff.Apply the
//! layer, check the diff ID, Commit under the chain ID. Existing chains are reused; a race with
//! another unpacker (ALREADY_EXISTS) counts as done.

use super::client::Client;
use super::error::{Code, Error, Result};
use super::images::Descriptor;
use super::manifest::chain_ids;
use super::progress::{LayerStatus, Progress};
use super::tracked::Tracked;
use tokio::sync::oneshot;

/// What an unpack needs besides the layers: where, under which lease, and who watches.
pub(crate) struct UnpackTarget<'a> {
    pub snapshotter: &'a str,
    pub lease: &'a str,
    /// Active `extract-*` snapshot keys, removed by the caller's cleanup after an abort.
    pub active: &'a Tracked,
    pub progress: &'a Progress,
}

impl Client {
    /// Unpacks `layers` in order; layer `i` starts once `ready[i]` fires (its blob is in the
    /// content store), so unpacking overlaps later downloads. Returns the top chain ID.
    pub(crate) async fn unpack_layers(
        &self,
        layers: &[Descriptor],
        diff_ids: &[String],
        ready: Vec<oneshot::Receiver<()>>,
        target: &UnpackTarget<'_>,
    ) -> Result<String> {
        let chains = chain_ids(diff_ids);
        let mut parent = String::new();
        for (((layer, diff_id), chain), ready) in layers.iter().zip(diff_ids).zip(&chains).zip(ready) {
            if ready.await.is_err() {
                // The download failed and its error wins the race; never report a second one.
                std::future::pending::<()>().await;
            }
            self.unpack_layer(layer, diff_id, chain, &parent, target).await?;
            parent = chain.clone();
        }
        Ok(parent)
    }

    async fn unpack_layer(
        &self,
        layer: &Descriptor,
        diff_id: &str,
        chain: &str,
        parent: &str,
        target: &UnpackTarget<'_>,
    ) -> Result<()> {
        let snapshotter = target.snapshotter;
        if self.snapshot_exists(snapshotter, chain).await? {
            // Held by the lease until the image's labels reference it.
            self.lease_resource(target.lease, chain, &format!("snapshots/{snapshotter}")).await?;
            target.progress.layer_status(&layer.digest, LayerStatus::Unpacked);
            return Ok(());
        }
        target.progress.layer_status(&layer.digest, LayerStatus::Unpacking);
        let key = format!("extract-{:016x}-{chain}", rand::random::<u64>());
        target.active.add(&key);
        let outcome = async {
            let mounts = self.prepare_snapshot(snapshotter, &key, parent).await?;
            let applied = self.apply_layer(layer, mounts).await?;
            if applied != diff_id {
                return Err(Error::new(
                    Code::DataLoss,
                    format!(
                        "unpack {}: the layer's content has diff ID {applied}, the image config says {diff_id}",
                        layer.digest
                    ),
                ));
            }
            self.commit_snapshot(snapshotter, chain, &key).await
        }
        .await;
        match outcome {
            Ok(()) => {}
            // Another unpacker committed the same chain first: ours is surplus.
            Err(e) if e.code == Code::AlreadyExists => self.remove_snapshot(snapshotter, &key).await?,
            Err(e) => {
                let _ = self.remove_snapshot(snapshotter, &key).await;
                target.active.remove(&key);
                return Err(e);
            }
        }
        target.active.remove(&key);
        target.progress.layer_status(&layer.digest, LayerStatus::Unpacked);
        Ok(())
    }
}
