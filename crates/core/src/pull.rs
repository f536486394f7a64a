//! The pull pipeline, done client-side as containerd 1.6's Go client does it (there is no
//! Transfer service): resolve → pick the platform → stream every blob into the content store under
//! a lease, with GC and distribution-source labels, unpacking each layer as soon as it and its
//! parents are in → write the image record → drop the lease.

use super::cancel::Cancel;
use super::client::Client;
use super::content::{BlobStream, Expected, Written};
use super::error::{Code, Error, Result};
use super::images::{Descriptor, ImageRecord};
use super::leases::lease_id;
use super::manifest::{choose_manifest, diff_ids, is_index, parse_manifest};
use super::platform::Platform;
use super::progress::{LayerStatus, Phase, Progress, ProgressSink};
use super::reference::Reference;
use super::registry::{Fetched, Registry, RegistryOptions};
use super::tracked::Tracked;
use super::unpack::UnpackTarget;
use bytes::Bytes;
use futures_util::{stream, StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::oneshot;

/// Long enough for any pull; the collector removes the lease by itself if we crash mid-way.
const LEASE_EXPIRY: Duration = Duration::from_secs(3600);
pub const DEFAULT_SNAPSHOTTER: &str = "overlayfs";

#[derive(Clone)]
pub struct PullOptions {
    /// `os/arch[/variant]`; default: this host.
    pub platform: Option<String>,
    pub registry: RegistryOptions,
    /// An integer from 1 to 64 (JS passes numbers as f64).
    pub max_concurrent_downloads: f64,
    /// Labels for the image record.
    pub labels: HashMap<String, String>,
    pub unpack: bool,
    pub snapshotter: String,
    pub on_progress: Option<ProgressSink>,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            platform: None,
            registry: RegistryOptions::default(),
            max_concurrent_downloads: 3.0,
            labels: HashMap::new(),
            unpack: true,
            snapshotter: DEFAULT_SNAPSHOTTER.to_string(),
            on_progress: None,
        }
    }
}

/// One blob to bring into the content store.
struct Blob {
    /// Ingest ref prefix, as containerd's remotes use: index, manifest, config, layer.
    kind: &'static str,
    desc: Descriptor,
    labels: HashMap<String, String>,
    /// Documents are already in memory; layers are streamed from the registry.
    bytes: Option<Bytes>,
}

/// What a pull owns on the daemon while it runs, for cleanup after a failure or abort.
struct Owned<'a> {
    lease: &'a str,
    ingests: Tracked,
    snapshots: Tracked,
    /// Set just before the image record is written when no record of that name existed.
    creating_image: AtomicBool,
}

fn descriptor_of(fetched: &Fetched) -> Descriptor {
    Descriptor {
        media_type: fetched.media_type.clone(),
        digest: fetched.digest.clone(),
        size: fetched.bytes.len() as u64,
        annotations: HashMap::new(),
    }
}

type Boxed<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

impl Client {
    /// Pulls `reference` into the content store (and snapshotter, with `unpack`) and writes its
    /// image record. On failure or abort, everything it made is removed before it returns.
    pub async fn pull(&self, reference: &str, options: PullOptions, cancel: &Cancel) -> Result<ImageRecord> {
        let reference = Reference::parse(reference)?;
        let platform = match &options.platform {
            Some(p) => Platform::parse(p)?,
            None => Platform::host(),
        };
        super::numbers::integer_in("maxConcurrentDownloads", options.max_concurrent_downloads, 1, 64)?;
        if options.snapshotter.is_empty() {
            return Err(Error::invalid_argument("snapshotter must not be empty"));
        }
        let registry = Registry::new(&reference, &options.registry)?;
        if cancel.is_cancelled() {
            return Err(Error::cancelled("pull"));
        }

        let lease = lease_id("pull");
        self.create_lease(&lease, LEASE_EXPIRY).await?;
        let owned = Owned {
            lease: &lease,
            ingests: Tracked::default(),
            snapshots: Tracked::default(),
            creating_image: AtomicBool::new(false),
        };
        let progress = Progress::new(&reference.name(), options.on_progress.clone());
        let leased = self.with_lease(&lease);
        // Boxed: the pipeline's state machine is large, and callers build this future on their stack.
        let fetch = Box::pin(leased.fetch_image(&reference, &platform, &registry, &options, &owned, &progress));
        let outcome = cancel.run("pull", fetch).await;

        // The pull future is gone by now (finished or dropped): remove what it left half-made.
        let undo = async {
            if owned.creating_image.load(Ordering::SeqCst) {
                let _ = self.delete_image(&reference.name(), false, &Cancel::none()).await;
            }
        };
        // Boxed like the work itself: callers build this future on their stack.
        let released = Box::pin(self.release_leased(
            "pull",
            &lease,
            &options.snapshotter,
            (&owned.ingests, &owned.snapshots),
            outcome.is_err(),
            undo,
        ))
        .await;
        let image = outcome?;
        released?;
        progress.phase(Phase::Done);
        Ok(image)
    }

    async fn fetch_image(
        &self,
        reference: &Reference,
        platform: &Platform,
        registry: &Registry,
        options: &PullOptions,
        owned: &Owned<'_>,
        progress: &Progress,
    ) -> Result<ImageRecord> {
        let name = reference.name();
        let top = registry.manifest(reference.object()).await?;
        if let Some(pinned) = &reference.digest {
            if &top.digest != pinned {
                return Err(Error::new(
                    Code::DataLoss,
                    format!("resolve {name}: the registry served content with digest {}", top.digest),
                ));
            }
        }
        let target = descriptor_of(&top);
        let mut documents = Vec::new();
        let manifest = if is_index(&top.media_type) {
            let (chosen, labels) = choose_manifest(&top.bytes, platform, &format!("pull {name}"))?;
            progress.add_blob(&target.digest, &target.media_type, target.size, false, true);
            documents.push(Blob { kind: "index", desc: target.clone(), labels, bytes: Some(top.bytes.clone()) });
            let fetched = registry.manifest(&chosen.digest).await?;
            check_fetched(&fetched, &chosen, &name)?;
            fetched
        } else {
            top
        };
        let manifest_desc = descriptor_of(&manifest);
        let (config, layers, labels) = parse_manifest(&manifest.bytes, &format!("pull {name}"))?;
        progress.add_blob(&manifest_desc.digest, &manifest_desc.media_type, manifest_desc.size, false, true);
        documents.push(Blob { kind: "manifest", desc: manifest_desc, labels, bytes: Some(manifest.bytes.clone()) });

        // The config is small and says what the layers unpack to: fetch it first.
        let config_bytes = match self.content_read(&config.digest, config.size).await {
            Ok(bytes) => bytes,
            Err(e) if e.code == Code::NotFound => registry.blob_bytes(&config.digest, config.size).await?,
            Err(e) => return Err(e),
        };
        let diff_ids = diff_ids(&config_bytes, layers.len(), &format!("pull {name}"))?;
        progress.add_blob(&config.digest, &config.media_type, config.size, false, true);
        let config_blob =
            Blob { kind: "config", desc: config.clone(), labels: HashMap::new(), bytes: Some(config_bytes) };
        self.store_blob(&config_blob, registry, owned, progress).await?;

        // Layers stream in a few at a time (a digest seen twice is fetched once); each one's
        // completion lets the unpacker go on, in order.
        let mut waiting: HashMap<String, Vec<oneshot::Sender<()>>> = HashMap::new();
        let mut ready = Vec::new();
        let mut blobs: Vec<Blob> = Vec::new();
        for (layer, diff_id) in layers.iter().zip(&diff_ids) {
            let (tx, rx) = oneshot::channel();
            ready.push(rx);
            let senders = waiting.entry(layer.digest.clone()).or_default();
            if senders.is_empty() {
                progress.add_blob(&layer.digest, &layer.media_type, layer.size, true, false);
                let labels = HashMap::from([("containerd.io/uncompressed".to_string(), diff_id.clone())]);
                blobs.push(Blob { kind: "layer", desc: layer.clone(), labels, bytes: None });
            }
            senders.push(tx);
        }
        progress.phase(Phase::Downloading);
        let waiting = std::sync::Mutex::new(waiting);
        // Boxed so the stream's future type has no higher-ranked lifetime (which defeats Send).
        let downloads: Vec<Boxed<'_>> = blobs
            .iter()
            .map(|blob| {
                let waiting = &waiting;
                Box::pin(async move {
                    self.store_blob(blob, registry, owned, progress).await?;
                    let senders = waiting.lock().ok().and_then(|mut w| w.remove(&blob.desc.digest)).unwrap_or_default();
                    for tx in senders {
                        let _ = tx.send(());
                    }
                    Ok(())
                }) as Boxed<'_>
            })
            .collect();
        let fetch_all = async {
            stream::iter(downloads)
                .buffer_unordered(options.max_concurrent_downloads as usize)
                .try_collect::<Vec<()>>()
                .await?;
            if options.unpack {
                progress.phase(Phase::Unpacking);
            }
            Ok::<_, Error>(())
        };
        let top_chain = if options.unpack {
            let target = UnpackTarget {
                snapshotter: &options.snapshotter,
                lease: owned.lease,
                active: &owned.snapshots,
                progress,
            };
            let (_, top) = tokio::try_join!(fetch_all, self.unpack_layers(&layers, &diff_ids, ready, &target))?;
            Some(top)
        } else {
            fetch_all.await?;
            None
        };

        // The documents last, so what their GC labels reference is already there.
        for blob in documents.iter().rev() {
            self.store_blob(blob, registry, owned, progress).await?;
        }
        if let Some(top) = top_chain {
            let label = format!("containerd.io/gc.ref.snapshot.{}", options.snapshotter);
            self.content_set_labels(&config.digest, HashMap::from([(label, top)])).await?;
        }
        let exists = match self.get_image(&name, &Cancel::none()).await {
            Ok(_) => true,
            Err(e) if e.code == Code::NotFound => false,
            Err(e) => return Err(e),
        };
        owned.creating_image.store(!exists, Ordering::SeqCst);
        self.put_image(&name, &target, &options.labels).await
    }

    /// Brings one blob into the content store (or only labels it, if it is there already).
    async fn store_blob(&self, blob: &Blob, registry: &Registry, owned: &Owned<'_>, progress: &Progress) -> Result<()> {
        let mut labels = blob.labels.clone();
        let source_key = format!("containerd.io/distribution.source.{}", registry.host);
        let digest = blob.desc.digest.as_str();
        if let Some(info) = self.content_info(digest).await? {
            let sources = info.labels.get(&source_key).map(String::as_str).unwrap_or("");
            if !sources.split(',').any(|r| r == registry.repository) {
                let joined = if sources.is_empty() {
                    registry.repository.clone()
                } else {
                    format!("{sources},{}", registry.repository)
                };
                labels.insert(source_key, joined);
            }
            self.lease_resource(owned.lease, digest, "content").await?;
            self.content_set_labels(digest, labels).await?;
            if blob.bytes.is_none() {
                // Status first: the byte jump that follows is then reported as a present blob's.
                progress.layer_status(digest, LayerStatus::Exists);
                progress.bytes(digest, blob.desc.size);
            }
            return Ok(());
        }
        labels.insert(source_key, registry.repository.clone());
        let reference = format!("{}-{}", blob.kind, digest);
        let expected = Expected { digest, size: blob.desc.size };
        let open = || async {
            let body: BlobStream = match &blob.bytes {
                Some(bytes) => Box::pin(stream::once(std::future::ready(Ok(bytes.clone())))),
                None => {
                    progress.layer_status(digest, LayerStatus::Downloading);
                    Box::pin(registry.blob(digest).await?)
                }
            };
            Ok(body)
        };
        let count = |n: u64| {
            if blob.bytes.is_none() {
                progress.bytes(digest, n);
            }
        };
        match self.write_blob(&reference, expected, &labels, &owned.ingests, open, &count).await? {
            Written::Stored => progress.layer_status(digest, LayerStatus::Downloaded),
            Written::Linked if blob.bytes.is_none() => {
                // Another namespace's (or a concurrent pull's) copy: present, not downloaded.
                progress.layer_status(digest, LayerStatus::Exists);
                progress.bytes(digest, blob.desc.size);
            }
            Written::Linked => {}
        }
        Ok(())
    }
}

fn check_fetched(fetched: &Fetched, expected: &Descriptor, name: &str) -> Result<()> {
    if fetched.digest != expected.digest || fetched.bytes.len() as u64 != expected.size {
        return Err(Error::new(
            Code::DataLoss,
            format!(
                "pull {name}: {} does not match its descriptor (got {}, {} bytes)",
                expected.digest,
                fetched.digest,
                fetched.bytes.len()
            ),
        ));
    }
    Ok(())
}
