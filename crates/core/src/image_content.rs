//! What an image record points at, read back from the content store: its platform's manifest,
//! config and layers; and the image-level operations built on that (config, size, unpack).

use super::cancel::Cancel;
use super::client::Client;
use super::error::{Code, Error, Result};
use super::images::{Descriptor, ImageRecord};
use super::leases::lease_id;
use super::manifest::{chain_ids, choose_manifest, diff_ids, index_platforms, is_index, parse_manifest};
use super::platform::Platform;
use super::progress::Progress;
use super::tracked::Tracked;
use super::unpack::UnpackTarget;
use bytes::Bytes;
use std::collections::HashMap;
use std::time::Duration;

/// One platform's view of an image.
pub struct Resolved {
    /// The index (if the target is one) and the manifest.
    pub documents: Vec<Descriptor>,
    pub config: Descriptor,
    pub config_bytes: Bytes,
    pub layers: Vec<Descriptor>,
    pub diff_ids: Vec<String>,
}

fn platform_or_host(platform: Option<&str>) -> Result<Platform> {
    platform.map_or_else(|| Ok(Platform::host()), Platform::parse)
}

impl Client {
    /// Reads the image `name`'s documents for `platform` (default: this host).
    pub async fn resolve_image(&self, name: &str, platform: Option<&str>, cancel: &Cancel) -> Result<Resolved> {
        let image = self.get_image(name, cancel).await?;
        self.resolve_record(&image, platform).await
    }

    /// As `resolve_image`, for an image record the caller already has (no GetImage).
    pub(crate) async fn resolve_record(&self, image: &ImageRecord, platform: Option<&str>) -> Result<Resolved> {
        let platform = platform_or_host(platform)?;
        let what = format!("image {}", image.name);
        let mut documents = vec![image.target.clone()];
        let mut manifest = image.target.clone();
        let mut bytes = self.content_read(&manifest.digest, manifest.size).await.map_err(|e| missing(&what, e))?;
        if is_index(&manifest.media_type) {
            let index = bytes;
            manifest = choose_manifest(&index, &platform, &what)?.0;
            bytes = match self.content_read(&manifest.digest, manifest.size).await {
                Ok(bytes) => bytes,
                Err(e) if e.code == Code::NotFound => {
                    return Err(self
                        .platform_missing(&what, &index, &platform)
                        .await
                        .unwrap_or_else(|| missing(&what, e)))
                }
                Err(e) => return Err(e),
            };
            documents.push(manifest.clone());
        }
        let (config, layers, _) = parse_manifest(&bytes, &what)?;
        let config_bytes = self.content_read(&config.digest, config.size).await.map_err(|e| missing(&what, e))?;
        let diff_ids = diff_ids(&config_bytes, layers.len(), &what)?;
        Ok(Resolved { documents, config, config_bytes, layers, diff_ids })
    }

    /// When an index's manifest for `platform` is not in the store but another platform's is (the
    /// image was pulled for another platform): a FailedPrecondition naming both. `None` when no
    /// platform's manifest is there (then the image is simply incomplete).
    async fn platform_missing(&self, what: &str, index: &[u8], platform: &Platform) -> Option<Error> {
        let mut present = Vec::new();
        for (name, desc) in index_platforms(index) {
            if matches!(self.content_info(&desc.digest).await, Ok(Some(_))) {
                present.push(name);
            }
        }
        (!present.is_empty()).then(|| {
            Error::new(
                Code::FailedPrecondition,
                format!(
                    "{what}: no content for platform {platform} in the store (it was pulled for {}); \
                     pull it with platform {platform}",
                    present.join(", ")
                ),
            )
        })
    }

    /// Compressed bytes of index, manifest, config and layers for one platform.
    pub async fn image_size(&self, name: &str, platform: Option<&str>, cancel: &Cancel) -> Result<u64> {
        let r = self.resolve_image(name, platform, cancel).await?;
        Ok(r.documents.iter().chain(std::iter::once(&r.config)).chain(&r.layers).map(|d| d.size).sum())
    }

    /// Whether this host's layers of the image are unpacked in `snapshotter`.
    pub async fn image_is_unpacked(&self, name: &str, snapshotter: &str, cancel: &Cancel) -> Result<bool> {
        let r = match self.resolve_image(name, None, cancel).await {
            Ok(r) => r,
            // Pulled for another platform only: nothing of this host's platform can be unpacked.
            Err(e) if e.code == Code::FailedPrecondition && e.message.contains("no content for platform") => {
                return Ok(false)
            }
            Err(e) => return Err(e),
        };
        match chain_ids(&r.diff_ids).last() {
            Some(top) => self.snapshot_exists(snapshotter, top).await,
            None => Ok(true),
        }
    }

    /// Unpacks this host's layers of an image already in the content store, GC-safely (under a
    /// lease until the config references the top snapshot). An abort removes what it made.
    pub async fn image_unpack(&self, name: &str, snapshotter: &str, cancel: &Cancel) -> Result<()> {
        if snapshotter.is_empty() {
            return Err(Error::invalid_argument("snapshotter must not be empty"));
        }
        let r = self.resolve_image(name, None, cancel).await?;
        let lease = lease_id("unpack");
        self.create_lease(&lease, Duration::from_secs(3600)).await?;
        let active = Tracked::default();
        let progress = Progress::new(name, None);
        let leased = self.with_lease(&lease);
        let work = async {
            let target = UnpackTarget { snapshotter, lease: &lease, active: &active, progress: &progress };
            let ready = r
                .layers
                .iter()
                .map(|_| {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    let _ = tx.send(());
                    rx
                })
                .collect();
            let top = leased.unpack_layers(&r.layers, &r.diff_ids, ready, &target).await?;
            let label = format!("containerd.io/gc.ref.snapshot.{snapshotter}");
            leased.content_set_labels(&r.config.digest, HashMap::from([(label, top)])).await
        };
        let outcome = cancel.run("unpack", work).await;
        for key in active.take() {
            let _ = self.remove_snapshot(snapshotter, &key).await;
        }
        self.delete_lease(&lease, outcome.is_err()).await?;
        outcome
    }
}

/// Content an image record points at but the store lacks: the image is incomplete.
fn missing(what: &str, e: Error) -> Error {
    if e.code == Code::NotFound {
        Error::new(Code::NotFound, format!("{what}: content is missing from the store ({})", e.message))
    } else {
        e
    }
}
