//! Push: an image record's stored documents and blobs to a registry, as containerd's Go client
//! does it — every blob the repository lacks (HEAD first; a cross-repository mount when the blob
//! came from another repository of the same registry; else a streamed monolithic upload), then the
//! manifests with their stored bytes (so digests do not change), the index last, under the tag.

use super::cancel::Cancel;
use super::client::Client;
use super::content::content_stream;
use super::error::{Code, Error, Result};
use super::images::Descriptor;
use super::manifest::{choose_manifest, is_index, parse_manifest};
use super::platform::Platform;
use super::reference::Reference;
use super::registry::{Registry, RegistryOptions, UploadStart};
use bytes::Bytes;
use futures_util::{stream, StreamExt, TryStreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SOURCE_LABEL: &str = "containerd.io/distribution.source.";
const BYTES_STEP: u64 = 1 << 20;
const TIME_STEP: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct PushOptions {
    /// Where to push (`host/repo:tag`); default: the image's own name.
    pub target: Option<String>,
    /// Push only this platform's manifest of an index (`os/arch[/variant]`).
    pub platform: Option<String>,
    pub registry: RegistryOptions,
    /// An integer from 1 to 64 (JS passes numbers as f64).
    pub max_concurrent_uploads: f64,
    pub on_progress: Option<PushProgressSink>,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            target: None,
            platform: None,
            registry: RegistryOptions::default(),
            max_concurrent_uploads: 3.0,
            on_progress: None,
        }
    }
}

/// What was pushed under the tag: the top document's digest and size.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub digest: String,
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobStatus {
    Waiting,
    Uploading,
    /// The repository had it already (HEAD).
    Exists,
    /// Linked from another repository of the same registry.
    Mounted,
    Uploaded,
}

impl BlobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BlobStatus::Waiting => "waiting",
            BlobStatus::Uploading => "uploading",
            BlobStatus::Exists => "exists",
            BlobStatus::Mounted => "mounted",
            BlobStatus::Uploaded => "uploaded",
        }
    }
}

#[derive(Debug, Clone)]
pub struct BlobProgress {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    pub uploaded: u64,
    pub status: BlobStatus,
}

/// A report per state change and at least every 1 MiB or 100 ms of upload.
#[derive(Debug, Clone)]
pub struct PushProgress {
    pub reference: String,
    /// 'pushing' or 'done'.
    pub phase: &'static str,
    pub total_bytes: u64,
    pub uploaded_bytes: u64,
    pub blobs: Vec<BlobProgress>,
}

pub type PushProgressSink = Arc<dyn Fn(PushProgress) + Send + Sync>;

struct Reporter {
    sink: Option<PushProgressSink>,
    state: Mutex<(PushProgress, Instant, u64)>,
}

impl Reporter {
    fn new(reference: String, blobs: &[Descriptor], sink: Option<PushProgressSink>) -> Reporter {
        let blobs: Vec<BlobProgress> = blobs
            .iter()
            .map(|d| BlobProgress {
                digest: d.digest.clone(),
                media_type: d.media_type.clone(),
                size: d.size,
                uploaded: 0,
                status: BlobStatus::Waiting,
            })
            .collect();
        let total_bytes = blobs.iter().map(|b| b.size).sum();
        let report = PushProgress { reference, phase: "pushing", total_bytes, uploaded_bytes: 0, blobs };
        Reporter { sink, state: Mutex::new((report, Instant::now(), 0)) }
    }

    fn update(&self, digest: &str, change: impl Fn(&mut BlobProgress), forced: bool) {
        let Some(sink) = &self.sink else { return };
        let report = {
            let Ok(mut state) = self.state.lock() else { return };
            let (report, at, emitted) = &mut *state;
            if let Some(blob) = report.blobs.iter_mut().find(|b| b.digest == digest) {
                change(blob);
            }
            report.uploaded_bytes = report.blobs.iter().map(|b| b.uploaded).sum();
            if !forced && report.uploaded_bytes < *emitted + BYTES_STEP && at.elapsed() < TIME_STEP {
                return;
            }
            *at = Instant::now();
            *emitted = report.uploaded_bytes;
            report.clone()
        };
        sink(report);
    }

    fn status(&self, digest: &str, status: BlobStatus) {
        self.update(
            digest,
            |b| {
                b.status = status;
                if status != BlobStatus::Uploading && status != BlobStatus::Waiting {
                    b.uploaded = b.size;
                }
            },
            true,
        );
    }

    fn done(&self) {
        let Some(sink) = &self.sink else { return };
        let report = match self.state.lock() {
            Ok(mut state) => {
                state.0.phase = "done";
                state.0.clone()
            }
            Err(_) => return,
        };
        sink(report);
    }
}

type Boxed<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>>;

/// A manifest to push, its stored bytes, and the blobs it references.
struct Document {
    desc: Descriptor,
    bytes: Bytes,
}

impl Client {
    /// Pushes the image record `name` (or only its manifest for `platform`) to `options.target`
    /// (default: its own name). Nothing is written to the content store; the pushed blobs gain the
    /// target repository in their distribution-source label, for later mounts.
    pub async fn push(&self, name: &str, options: PushOptions, cancel: &Cancel) -> Result<Pushed> {
        super::numbers::integer_in("maxConcurrentUploads", options.max_concurrent_uploads, 1, 64)?;
        let platform = options.platform.as_deref().map(Platform::parse).transpose()?;
        let image = self.get_image(name, cancel).await?;
        let reference = Reference::parse(options.target.as_deref().unwrap_or(&image.name))?;
        let what = format!("push {}", reference.name());
        let work = async {
            // Documents child-first: manifests, then the index that names them.
            let mut documents = Vec::new();
            let top_bytes = self.stored(&image.target, &what).await?;
            let top = if is_index(&image.target.media_type) {
                let children = match &platform {
                    Some(p) => vec![choose_manifest(&top_bytes, p, &what)?.0],
                    None => index_children(&top_bytes, &what)?,
                };
                for child in &children {
                    if self.content_info(&child.digest).await?.is_none() {
                        return Err(Error::new(
                            Code::FailedPrecondition,
                            format!(
                                "{what}: the manifest {} of the index is not in the content store (the image \
                                 was pulled for some platforms only); push one platform with the platform option",
                                child.digest
                            ),
                        ));
                    }
                    let bytes = self.stored(child, &what).await?;
                    documents.push(Document { desc: child.clone(), bytes });
                }
                if platform.is_some() {
                    // Only that platform's manifest goes under the tag.
                    documents.pop().ok_or_else(|| Error::new(Code::Internal, format!("{what}: no manifest")))?
                } else {
                    Document { desc: image.target.clone(), bytes: top_bytes }
                }
            } else {
                Document { desc: image.target.clone(), bytes: top_bytes }
            };
            let manifests: Vec<&Document> =
                if is_index(&top.desc.media_type) { documents.iter().collect() } else { vec![&top] };
            let mut blobs: Vec<Descriptor> = Vec::new();
            let mut seen = HashSet::new();
            for m in &manifests {
                let (config, layers, _) = parse_manifest(&m.bytes, &what)?;
                for d in std::iter::once(config).chain(layers) {
                    if seen.insert(d.digest.clone()) {
                        blobs.push(d);
                    }
                }
            }

            // Where each blob came from on this registry: mount candidates.
            let source_key = format!("{SOURCE_LABEL}{}", reference.domain);
            let mut sources: HashMap<String, Vec<String>> = HashMap::new();
            for blob in &blobs {
                let info = self.content_info(&blob.digest).await?.ok_or_else(|| {
                    Error::new(
                        Code::NotFound,
                        format!("{what}: blob {} is not in the content store (the image is incomplete)", blob.digest),
                    )
                })?;
                let repos = info
                    .labels
                    .get(&source_key)
                    .map(|v| {
                        v.split(',').filter(|r| !r.is_empty() && *r != reference.repository).map(String::from).collect()
                    })
                    .unwrap_or_default();
                sources.insert(blob.digest.clone(), repos);
            }
            let registry = Registry::new(&reference, &options.registry)?
                .with_mount_sources(sources.values().flatten().cloned().collect::<Vec<_>>());
            let reporter = Reporter::new(reference.name(), &blobs, options.on_progress.clone());

            // Boxed so the stream's future type has no higher-ranked lifetime (which defeats Send).
            let uploads: Vec<Boxed<'_>> = blobs
                .iter()
                .map(|blob| {
                    let (registry, reporter, sources) = (&registry, &reporter, &sources);
                    Box::pin(async move {
                        let from = sources.get(&blob.digest).map(Vec::as_slice).unwrap_or_default();
                        let status = self.push_blob(registry, blob, from, reporter).await?;
                        reporter.status(&blob.digest, status);
                        Ok(())
                    }) as Boxed<'_>
                })
                .collect();
            stream::iter(uploads)
                .buffer_unordered(options.max_concurrent_uploads as usize)
                .try_collect::<Vec<()>>()
                .await?;
            if is_index(&top.desc.media_type) {
                for m in &documents {
                    registry.put_manifest(&m.desc.digest, &m.desc.media_type, m.bytes.clone()).await?;
                }
            }
            registry.put_manifest(reference.object(), &top.desc.media_type, top.bytes.clone()).await?;

            // Later pushes to other repositories of this registry may mount from this one.
            let pushed = blobs.iter().chain(manifests.iter().map(|m| &m.desc)).chain(std::iter::once(&top.desc));
            for desc in pushed {
                let _ = self.add_source(&desc.digest, &source_key, &reference.repository).await;
            }
            reporter.done();
            Ok(Pushed { digest: top.desc.digest.clone(), size: top.desc.size })
        };
        cancel.run("push", Box::pin(work)).await
    }

    /// A document's stored bytes, checked against its descriptor.
    async fn stored(&self, desc: &Descriptor, what: &str) -> Result<Bytes> {
        let bytes = self.content_read(&desc.digest, desc.size).await.map_err(|e| {
            if e.code == Code::NotFound {
                Error::new(Code::NotFound, format!("{what}: {} is not in the content store", desc.digest))
            } else {
                e
            }
        })?;
        if super::digest::sha256(&bytes) != desc.digest {
            return Err(Error::new(
                Code::DataLoss,
                format!("{what}: the stored {} does not match its digest", desc.digest),
            ));
        }
        Ok(bytes)
    }

    async fn push_blob(
        &self,
        registry: &Registry,
        blob: &Descriptor,
        from: &[String],
        reporter: &Reporter,
    ) -> Result<BlobStatus> {
        if registry.blob_exists(&blob.digest).await? {
            return Ok(BlobStatus::Exists);
        }
        // One mount attempt, from the first repository it came from: a refused mount (202) has
        // already opened an ordinary upload session, which is then used.
        let mut session = None;
        if let Some(source) = from.first() {
            match registry.start_upload(Some((&blob.digest, source))).await? {
                UploadStart::Mounted => return Ok(BlobStatus::Mounted),
                UploadStart::Session(url) => session = Some(url),
            }
        }
        let url = match session {
            Some(url) => url,
            None => match registry.start_upload(None).await? {
                UploadStart::Session(url) => url,
                UploadStart::Mounted => return Ok(BlobStatus::Mounted),
            },
        };
        reporter.status(&blob.digest, BlobStatus::Uploading);
        let reporter_digest = blob.digest.clone();
        let body = content_stream(self, &blob.digest).await?;
        let progress = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let seen = progress.clone();
        let counted = body.inspect(move |chunk| {
            if let Ok(c) = chunk {
                seen.fetch_add(c.len() as u64, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let upload = registry.put_blob(url, &blob.digest, blob.size, counted);
        tokio::pin!(upload);
        let mut ticker = tokio::time::interval(TIME_STEP);
        loop {
            tokio::select! {
                done = &mut upload => {
                    done?;
                    return Ok(BlobStatus::Uploaded);
                }
                _ = ticker.tick() => {
                    let n = progress.load(std::sync::atomic::Ordering::Relaxed);
                    reporter.update(&reporter_digest, |b| b.uploaded = n.min(b.size), false);
                }
            }
        }
    }

    /// Adds `repository` to a blob's distribution-source label for `key`.
    async fn add_source(&self, digest: &str, key: &str, repository: &str) -> Result<()> {
        let Some(info) = self.content_info(digest).await? else { return Ok(()) };
        let sources = info.labels.get(key).map(String::as_str).unwrap_or("");
        if sources.split(',').any(|r| r == repository) {
            return Ok(());
        }
        let joined = if sources.is_empty() { repository.to_string() } else { format!("{sources},{repository}") };
        self.content_set_labels(digest, HashMap::from([(key.to_string(), joined)])).await
    }
}

/// Every manifest an index names.
fn index_children(index: &[u8], what: &str) -> Result<Vec<Descriptor>> {
    let index = oci_spec::image::ImageIndex::from_reader(index)
        .map_err(|e| Error::new(Code::FailedPrecondition, format!("{what}: invalid image index: {e}")))?;
    Ok(index.manifests().iter().map(super::manifest::descriptor).collect())
}
