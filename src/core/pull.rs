//! The pull pipeline, done client-side as containerd 1.6's Go client does it (there is no
//! Transfer service): resolve → pick the platform → stream every blob into the content store under
//! a lease, with GC and distribution-source labels → write the image record → drop the lease.

use super::cancel::Cancel;
use super::client::Client;
use super::content::{BlobStream, Expected, Ingests};
use super::error::{Code, Error, Result};
use super::images::{Descriptor, ImageRecord};
use super::leases::lease_id;
use super::platform::Platform;
use super::reference::Reference;
use super::registry::{Fetched, Registry, RegistryOptions, MEDIA_DOCKER_LIST, MEDIA_OCI_INDEX};
use bytes::Bytes;
use futures_util::{stream, StreamExt, TryStreamExt};
use oci_spec::image::{ImageIndex, ImageManifest};
use std::collections::HashMap;
use std::time::Duration;

/// Long enough for any pull; the collector removes the lease by itself if we crash mid-way.
const LEASE_EXPIRY: Duration = Duration::from_secs(3600);
/// Cleanup after a failure or abort must not hang on a dead daemon.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct PullOptions {
    /// `os/arch[/variant]`; default: this host.
    pub platform: Option<String>,
    pub registry: RegistryOptions,
    pub max_concurrent_downloads: usize,
    /// Labels for the image record.
    pub labels: HashMap<String, String>,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            platform: None,
            registry: RegistryOptions::default(),
            max_concurrent_downloads: 3,
            labels: HashMap::new(),
        }
    }
}

/// One blob to bring into the content store.
struct Blob {
    /// Ingest ref prefix, as containerd's remotes use: index, manifest, config, layer.
    kind: &'static str,
    desc: Descriptor,
    labels: HashMap<String, String>,
    /// Manifests and indexes are already in memory; other blobs are streamed from the registry.
    bytes: Option<Bytes>,
}

fn is_index(media_type: &str) -> bool {
    media_type == MEDIA_OCI_INDEX || media_type == MEDIA_DOCKER_LIST
}

fn invalid_document(what: &str, err: impl std::fmt::Display) -> Error {
    Error::new(
        Code::FailedPrecondition,
        format!("{what}: the registry served an invalid document: {err}"),
    )
}

fn descriptor_of(fetched: &Fetched) -> Descriptor {
    Descriptor {
        media_type: fetched.media_type.clone(),
        digest: fetched.digest.clone(),
        size: fetched.bytes.len() as u64,
        annotations: HashMap::new(),
    }
}

fn oci_descriptor(d: &oci_spec::image::Descriptor) -> Descriptor {
    Descriptor {
        media_type: d.media_type().to_string(),
        digest: d.digest().to_string(),
        size: d.size(),
        annotations: d.annotations().clone().unwrap_or_default(),
    }
}

impl Client {
    /// Pulls `reference` into the content store and writes its image record.
    pub async fn pull(
        &self,
        reference: &str,
        options: PullOptions,
        cancel: &Cancel,
    ) -> Result<ImageRecord> {
        let reference = Reference::parse(reference)?;
        let platform = match &options.platform {
            Some(p) => Platform::parse(p)?,
            None => Platform::host(),
        };
        if options.max_concurrent_downloads == 0 {
            return Err(Error::invalid_argument(
                "maxConcurrentDownloads must be at least 1",
            ));
        }
        let registry = Registry::new(&reference, &options.registry)?;
        if cancel.is_cancelled() {
            return Err(Error::cancelled("pull"));
        }

        let lease = lease_id("pull");
        self.create_lease(&lease, LEASE_EXPIRY).await?;
        let ingests = Ingests::default();
        let leased = self.with_lease(&lease);
        let outcome = cancel
            .run(
                "pull",
                leased.fetch_image(&reference, &platform, &registry, &options, &lease, &ingests),
            )
            .await;

        // Runs after success, failure and abort alike; the pull future is gone by now, so whatever
        // it was writing is aborted and the lease (holding everything it wrote) released.
        let cleanup = async {
            for stale in ingests.take() {
                let _ = self.content_abort(&stale).await;
            }
            self.delete_lease(&lease).await
        };
        let released = tokio::time::timeout(CLEANUP_TIMEOUT, cleanup).await;
        let image = outcome?;
        match released {
            Ok(done) => done?,
            Err(_) => {
                return Err(Error::new(
                    Code::DeadlineExceeded,
                    format!("pull: releasing lease {lease} timed out"),
                ))
            }
        }
        Ok(image)
    }

    async fn fetch_image(
        &self,
        reference: &Reference,
        platform: &Platform,
        registry: &Registry,
        options: &PullOptions,
        lease: &str,
        ingests: &Ingests,
    ) -> Result<ImageRecord> {
        let name = reference.name();
        let top = registry.manifest(reference.object()).await?;
        if let Some(pinned) = &reference.digest {
            if &top.digest != pinned {
                return Err(Error::new(
                    Code::DataLoss,
                    format!(
                        "resolve {name}: the registry served content with digest {}",
                        top.digest
                    ),
                ));
            }
        }
        let target = descriptor_of(&top);
        let mut documents = Vec::new();
        let manifest = if is_index(&top.media_type) {
            let index =
                ImageIndex::from_reader(&top.bytes[..]).map_err(|e| invalid_document(&name, e))?;
            let mut available = Vec::new();
            let mut chosen = None;
            for m in index.manifests() {
                let Some(p) = m.platform() else { continue };
                let (os, arch) = (p.os().to_string(), p.architecture().to_string());
                available.push(match p.variant() {
                    Some(v) => format!("{os}/{arch}/{v}"),
                    None => format!("{os}/{arch}"),
                });
                if chosen.is_none() && platform.matches(&os, &arch, p.variant().as_deref()) {
                    chosen = Some(oci_descriptor(m));
                }
            }
            let chosen = chosen.ok_or_else(|| {
                Error::new(
                    Code::NotFound,
                    format!(
                        "pull {name}: no manifest for platform {platform} (the index has {})",
                        available.join(", ")
                    ),
                )
            })?;
            let labels = index
                .manifests()
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    (
                        format!("containerd.io/gc.ref.content.m.{i}"),
                        m.digest().to_string(),
                    )
                })
                .collect();
            documents.push(Blob {
                kind: "index",
                desc: target.clone(),
                labels,
                bytes: Some(top.bytes.clone()),
            });
            let fetched = registry.manifest(&chosen.digest).await?;
            if fetched.digest != chosen.digest || fetched.bytes.len() as u64 != chosen.size {
                return Err(Error::new(
                    Code::DataLoss,
                    format!(
                        "pull {name}: manifest {} does not match its descriptor (got {}, {} bytes)",
                        chosen.digest,
                        fetched.digest,
                        fetched.bytes.len()
                    ),
                ));
            }
            fetched
        } else {
            top
        };

        let parsed = ImageManifest::from_reader(&manifest.bytes[..])
            .map_err(|e| invalid_document(&name, e))?;
        let config = oci_descriptor(parsed.config());
        let layers: Vec<Descriptor> = parsed.layers().iter().map(oci_descriptor).collect();
        let mut labels = HashMap::from([(
            "containerd.io/gc.ref.content.config".to_string(),
            config.digest.clone(),
        )]);
        for (i, layer) in layers.iter().enumerate() {
            labels.insert(
                format!("containerd.io/gc.ref.content.l.{i}"),
                layer.digest.clone(),
            );
        }
        documents.push(Blob {
            kind: "manifest",
            desc: descriptor_of(&manifest),
            labels,
            bytes: Some(manifest.bytes.clone()),
        });

        // Config and layers are streamed, a few at a time; a digest seen twice is fetched once.
        let mut seen = std::collections::HashSet::new();
        let blobs: Vec<Blob> = std::iter::once(Blob {
            kind: "config",
            desc: config,
            labels: HashMap::new(),
            bytes: None,
        })
        .chain(layers.into_iter().map(|desc| Blob {
            kind: "layer",
            desc,
            labels: HashMap::new(),
            bytes: None,
        }))
        .filter(|b| seen.insert(b.desc.digest.clone()))
        .collect();
        // Boxed so the stream's future type has no higher-ranked lifetime (which defeats Send).
        let downloads: Vec<
            std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + '_>>,
        > = blobs
            .iter()
            .map(|blob| Box::pin(self.store_blob(blob, registry, lease, ingests)) as _)
            .collect();
        stream::iter(downloads)
            .buffer_unordered(options.max_concurrent_downloads)
            .try_collect::<Vec<()>>()
            .await?;
        // The documents last, so what their GC labels reference is already there.
        for blob in documents.iter().rev() {
            self.store_blob(blob, registry, lease, ingests).await?;
        }
        self.put_image(&name, &target, &options.labels).await
    }

    /// Brings one blob into the content store (or only labels it, if it is there already).
    async fn store_blob(
        &self,
        blob: &Blob,
        registry: &Registry,
        lease: &str,
        ingests: &Ingests,
    ) -> Result<()> {
        let mut labels = blob.labels.clone();
        let source_key = format!("containerd.io/distribution.source.{}", registry.host);
        let digest = blob.desc.digest.as_str();
        if let Some(info) = self.content_info(digest).await? {
            let sources = info
                .labels
                .get(&source_key)
                .map(String::as_str)
                .unwrap_or("");
            if !sources.split(',').any(|r| r == registry.repository) {
                let joined = if sources.is_empty() {
                    registry.repository.clone()
                } else {
                    format!("{sources},{}", registry.repository)
                };
                labels.insert(source_key, joined);
            }
            self.lease_content(lease, digest).await?;
            return self.content_set_labels(digest, labels).await;
        }
        labels.insert(source_key, registry.repository.clone());
        let reference = format!("{}-{}", blob.kind, digest);
        let expected = Expected {
            digest,
            size: blob.desc.size,
        };
        let open = || async {
            let body: BlobStream = match &blob.bytes {
                Some(bytes) => Box::pin(stream::once(std::future::ready(Ok(bytes.clone())))),
                None => Box::pin(registry.blob(digest).await?),
            };
            Ok(body)
        };
        self.write_blob(&reference, expected, &labels, ingests, open, &|_| {})
            .await
    }
}
