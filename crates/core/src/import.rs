//! Importing image archives: OCI image layout tars (`oci-layout`, `index.json`, `blobs/…`) and
//! `docker save` tars (`manifest.json` naming a config and layer files), plain or gzip.
//!
//! A blocking thread reads the tar (the `tar` crate over a file, or over the chunks JS hands in)
//! and passes each entry's bytes on through small bounded channels; each entry is written to the
//! content store as it comes, under the import's lease, its digest verified while it is written
//! (a `blobs/<alg>/<hex>` or `<hex>.tar` name says what to expect; other files are committed
//! under the digest computed). Only the small JSON documents are kept in memory. Once the tar
//! ends, index.json (else manifest.json) says what the images are: GC labels are set, a docker
//! archive gets a manifest written for it, layers are unpacked, the records written. A failure
//! removes everything (ingests aborted, lease deleted synchronously, no record left).

use super::cancel::Cancel;
use super::client::Client;
use super::content::{BlobStream, Expected};
use super::digest::{sha256, Verifier};
use super::error::{Code, Error, Result};
use super::images::{Descriptor, ImageRecord};
use super::leases::lease_id;
use super::manifest::{diff_ids, is_index, parse_manifest};
use super::platform::Platform;
use super::progress::Progress;
use super::pull::DEFAULT_SNAPSHOTTER;
use super::reference::Reference;
use super::tracked::Tracked;
use super::unpack::UnpackTarget;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

const LEASE_EXPIRY: Duration = Duration::from_secs(3600);
/// Bytes per chunk the reader passes on.
const CHUNK: usize = 256 << 10;
/// Chunks in flight per entry.
const QUEUE: usize = 4;
/// JSON documents outside `blobs/` up to this size are kept in memory; larger files are content.
const DOCUMENT_LIMIT: u64 = 4 << 20;
/// Chunks in flight from JS.
pub const SOURCE_QUEUE: usize = 8;

const MEDIA_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const MEDIA_DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const MEDIA_DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
const MEDIA_DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const ANNOTATION_IMAGE_NAME: &str = super::archive::ANNOTATION_IMAGE_NAME;
const ANNOTATION_REF_NAME: &str = super::archive::ANNOTATION_REF_NAME;

/// Where the archive's bytes come from.
pub enum ImportSource {
    /// A file on this host.
    Path(PathBuf),
    /// Chunks handed in (from JS); the end is the sender being dropped.
    Chunks(mpsc::Receiver<Bytes>),
}

#[derive(Clone)]
pub struct ImportOptions {
    pub unpack: bool,
    pub snapshotter: String,
    /// What to unpack for (`os/arch[/variant]`); default: this host.
    pub platform: Option<String>,
    /// Labels for every image record.
    pub labels: HashMap<String, String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            unpack: true,
            snapshotter: DEFAULT_SNAPSHOTTER.to_string(),
            platform: None,
            labels: HashMap::new(),
        }
    }
}

fn malformed(e: impl std::fmt::Display) -> Error {
    Error::invalid_argument(format!("import: not a readable image archive: {e}"))
}

/// What the reader tells the importer.
enum Event {
    File { path: String, size: u64, body: mpsc::Receiver<Result<Bytes>>, done: oneshot::Receiver<Result<Summary>> },
    Link { path: String, target: String },
    Error(Error),
    End,
}

/// An entry once read whole: its sha256 (when it was not named by a digest) and whether it is gzip.
struct Summary {
    digest: Option<String>,
    gzip: bool,
}

/// `a/./b/../c` → `a/c`; leading `/` dropped. `None` for the archive's root itself.
fn normalize(path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// `blobs/sha256/<hex>` → `sha256:<hex>`; `…/<64 hex>.tar|.json` (a docker archive's files) too.
fn named_digest(path: &str) -> Option<String> {
    let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(rest) = path.strip_prefix("blobs/") {
        let (alg, hex) = rest.split_once('/')?;
        return match alg {
            "sha256" if hex64(hex) => Some(format!("sha256:{hex}")),
            "sha512" if hex.len() == 128 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => Some(format!("sha512:{hex}")),
            _ => None,
        };
    }
    let base = path.rsplit('/').next()?;
    let stem = base.strip_suffix(".tar").or_else(|| base.strip_suffix(".json"))?;
    hex64(stem).then(|| format!("sha256:{stem}"))
}

/// Kept in memory: the layout's and docker's small JSON files (configs included).
fn is_document(path: &str, size: u64) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    size <= DOCUMENT_LIMIT
        && !path.starts_with("blobs/")
        && (base.ends_with(".json") || matches!(base, "oci-layout" | "repositories" | "VERSION" | "json"))
}

/// `std::io::Read` over the chunks JS hands in; `stop` ends it (the import is over).
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
    stop: CancellationToken,
    handle: tokio::runtime::Handle,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            let (rx, stop) = (&mut self.rx, &self.stop);
            let next = self.handle.block_on(async {
                tokio::select! {
                    chunk = rx.recv() => Ok(chunk),
                    _ = stop.cancelled() => Err(std::io::Error::other("the import is over")),
                }
            })?;
            match next {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// The reader thread: tar entries (gunzipped when the bytes start with gzip's magic) to events.
fn read_archive(source: Box<dyn Read + Send>, events: &mpsc::Sender<Event>) -> Result<()> {
    let mut buffered = BufReader::with_capacity(CHUNK, source);
    let gzip = buffered.fill_buf().map_err(malformed)?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> =
        if gzip { Box::new(flate2::read::MultiGzDecoder::new(buffered)) } else { Box::new(buffered) };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(malformed)? {
        let mut entry = entry.map_err(malformed)?;
        let Some(path) = normalize(&entry.path().map_err(malformed)?) else { continue };
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let Some(link) = entry.link_name().map_err(malformed)? else { continue };
            // A symlink is relative to its directory (absolute: to the archive's root); a hard
            // link names a path from the root.
            let joined = match (kind.is_symlink(), link.is_absolute(), path.rsplit_once('/')) {
                (true, false, Some((dir, _))) => Path::new(dir).join(&link),
                _ => link.to_path_buf(),
            };
            let Some(target) = normalize(&joined) else { continue };
            if events.blocking_send(Event::Link { path, target }).is_err() {
                return Ok(());
            }
            continue;
        }
        if !(kind.is_file() || kind.is_contiguous()) {
            continue;
        }
        let size = entry.size();
        let (tx, body) = mpsc::channel(QUEUE);
        let (done_tx, done) = oneshot::channel();
        let hash = named_digest(&path).is_none();
        if events.blocking_send(Event::File { path: path.clone(), size, body, done }).is_err() {
            return Ok(());
        }
        let summary = read_entry(&mut entry, &path, size, hash, &tx);
        drop(tx);
        let failed = summary.as_ref().err().cloned();
        let _ = done_tx.send(summary);
        if let Some(e) = failed {
            return Err(e);
        }
    }
    let _ = events.blocking_send(Event::End);
    Ok(())
}

/// One entry's bytes into `tx` (read on, discarding, once `tx` is closed: the store had the blob).
fn read_entry(
    entry: &mut impl Read,
    path: &str,
    size: u64,
    hash: bool,
    tx: &mpsc::Sender<Result<Bytes>>,
) -> Result<Summary> {
    let mut verifier = hash.then(Verifier::sha256);
    let mut first: Vec<u8> = Vec::with_capacity(2);
    let mut read = 0u64;
    let mut open = true;
    let fail = |err: Error, open: bool| {
        if open {
            let _ = tx.blocking_send(Err(err.clone()));
        }
        Err(err)
    };
    while read < size {
        let want = (size - read).min(CHUNK as u64) as usize;
        let mut chunk = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            match entry.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return fail(malformed(format!("{path}: {e}")), open),
            }
        }
        if filled < want {
            let got = read + filled as u64;
            return fail(malformed(format!("the archive is truncated ({path}: {got} of {size} bytes)")), open);
        }
        read += filled as u64;
        if first.len() < 2 {
            first.extend(chunk.iter().take(2 - first.len()));
        }
        if let Some(v) = verifier.as_mut() {
            v.update(&chunk);
        }
        if open && tx.blocking_send(Ok(Bytes::from(chunk))).is_err() {
            open = false;
        }
    }
    Ok(Summary { digest: verifier.map(Verifier::finish), gzip: first == [0x1f, 0x8b] })
}

/// A file of the archive once read.
#[derive(Clone)]
enum Stored {
    Document(Bytes),
    Content { digest: String, size: u64, gzip: bool },
}

/// What an import owns while it runs, for cleanup.
struct Owned<'a> {
    lease: &'a str,
    ingests: Tracked,
    snapshots: Tracked,
    /// Records this import created (did not exist before), deleted again after a failure.
    created: Mutex<Vec<String>>,
}

/// The archive's files and links, as read.
#[derive(Default)]
struct Files {
    files: HashMap<String, Stored>,
    links: HashMap<String, String>,
}

impl Files {
    /// The file at `path`, following links (a few hops at most).
    fn get(&self, path: &str) -> Option<&Stored> {
        let mut path = normalize(Path::new(path))?;
        for _ in 0..16 {
            if let Some(f) = self.files.get(&path) {
                return Some(f);
            }
            path = self.links.get(&path)?.clone();
        }
        None
    }
}

fn today() -> String {
    let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    now.get(..10).unwrap_or("unknown").to_string()
}

/// The record name for an index.json entry: containerd's image-name annotation, else the OCI ref
/// name (a full reference, normalised; a bare tag becomes `import-<date>:<tag>`), else
/// `import-<date>@<digest>`.
fn layout_name(annotations: &HashMap<String, String>, digest: &str, date: &str) -> String {
    if let Some(name) = annotations.get(ANNOTATION_IMAGE_NAME).filter(|n| !n.is_empty()) {
        return name.clone();
    }
    if let Some(r) = annotations.get(ANNOTATION_REF_NAME).filter(|n| !n.is_empty()) {
        if r.contains(['/', ':', '@']) {
            if let Ok(parsed) = Reference::parse(r) {
                return parsed.name();
            }
        } else if Reference::parse(&format!("import-{date}:{r}")).is_ok() {
            return format!("import-{date}:{r}");
        }
    }
    format!("import-{date}@{digest}")
}

/// A document parse error is the archive's fault here, not the store's.
fn archive_fault(e: Error) -> Error {
    if e.code == Code::FailedPrecondition {
        Error::invalid_argument(format!("import: {}", e.message))
    } else {
        e
    }
}

impl Client {
    /// Imports every image of the archive; see the module comment.
    pub async fn import_images(
        &self,
        source: ImportSource,
        options: ImportOptions,
        cancel: &Cancel,
    ) -> Result<Vec<ImageRecord>> {
        if options.snapshotter.is_empty() {
            return Err(Error::invalid_argument("snapshotter must not be empty"));
        }
        if let Some(p) = &options.platform {
            Platform::parse(p)?;
        }
        if cancel.is_cancelled() {
            return Err(Error::cancelled("import"));
        }
        // The reader: a file opened on this host, or the chunks handed in.
        let stop = CancellationToken::new();
        let _stop_reader = stop.clone().drop_guard();
        let source: Box<dyn Read + Send> = match source {
            ImportSource::Path(path) => {
                let file = std::fs::File::open(&path).map_err(|e| {
                    let code = match e.kind() {
                        std::io::ErrorKind::NotFound => Code::NotFound,
                        std::io::ErrorKind::PermissionDenied => Code::PermissionDenied,
                        _ => Code::InvalidArgument,
                    };
                    Error::new(code, format!("import: {}: {e}", path.display()))
                })?;
                if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
                    return Err(Error::invalid_argument(format!("import: {} is a directory", path.display())));
                }
                Box::new(file)
            }
            ImportSource::Chunks(rx) => Box::new(ChannelReader {
                rx,
                current: Bytes::new(),
                stop: stop.clone(),
                handle: tokio::runtime::Handle::current(),
            }),
        };
        let (events_tx, events) = mpsc::channel(1);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = read_archive(source, &events_tx) {
                let _ = events_tx.blocking_send(Event::Error(e));
            }
        });

        let lease = lease_id("import");
        self.create_lease(&lease, LEASE_EXPIRY).await?;
        let owned = Owned {
            lease: &lease,
            ingests: Tracked::default(),
            snapshots: Tracked::default(),
            created: Mutex::new(Vec::new()),
        };
        let leased = self.with_lease(&lease);
        let work = Box::pin(leased.import_archive(events, &options, &owned));
        let outcome = cancel.run("import", work).await;
        stop.cancel();

        let undo = async {
            let created = owned.created.lock().map(|mut c| std::mem::take(&mut *c)).unwrap_or_default();
            for name in created {
                let _ = self.delete_image(&name, false, &Cancel::none()).await;
            }
        };
        // Boxed like the work itself: callers build this future on their stack.
        let released = Box::pin(self.release_leased(
            "import",
            &lease,
            &options.snapshotter,
            (&owned.ingests, &owned.snapshots),
            outcome.is_err(),
            undo,
        ))
        .await;
        let images = outcome?;
        released?;
        Ok(images)
    }

    async fn import_archive(
        &self,
        mut events: mpsc::Receiver<Event>,
        options: &ImportOptions,
        owned: &Owned<'_>,
    ) -> Result<Vec<ImageRecord>> {
        let mut files = Files::default();
        let mut ended = false;
        let mut count = 0u64;
        while let Some(event) = events.recv().await {
            match event {
                Event::Link { path, target } => {
                    files.links.insert(path, target);
                }
                Event::Error(e) => return Err(e),
                Event::End => {
                    ended = true;
                    break;
                }
                Event::File { path, size, body, done } => {
                    count += 1;
                    let stored = self.store_entry(&path, size, body, done, owned, count).await?;
                    files.files.insert(path, stored);
                }
            }
        }
        if !ended {
            return Err(Error::new(Code::Internal, "import: the archive reader stopped early"));
        }
        let date = today();
        let mut images: Vec<(String, Descriptor)> = Vec::new();
        if let Some(index) = files.get("index.json") {
            let bytes = self.stored_bytes(index, "index.json").await?;
            for (name, target) in self.layout_images(&bytes, &date, owned).await? {
                images.push((name, target));
            }
        } else if let Some(manifest) = files.get("manifest.json") {
            let bytes = self.stored_bytes(manifest, "manifest.json").await?;
            images = self.docker_images(&bytes, &files, &date, owned).await?;
        } else {
            return Err(Error::invalid_argument(
                "import: not an image archive (it has neither index.json nor manifest.json)",
            ));
        }
        if images.is_empty() {
            return Err(Error::invalid_argument("import: the archive names no image"));
        }

        if options.unpack {
            let mut done = HashSet::new();
            for (name, target) in &images {
                if done.insert(target.digest.clone()) {
                    self.unpack_imported(name, target, options, owned).await?;
                }
            }
        }
        let mut records = Vec::with_capacity(images.len());
        for (name, target) in images {
            let exists = match self.get_image(&name, &Cancel::none()).await {
                Ok(_) => true,
                Err(e) if e.code == Code::NotFound || e.code == Code::InvalidArgument => false,
                Err(e) => return Err(e),
            };
            if !exists {
                if let Ok(mut c) = owned.created.lock() {
                    c.push(name.clone());
                }
            }
            records.push(self.put_image(&name, &target, &options.labels).await?);
        }
        Ok(records)
    }

    /// One file of the archive: a small document kept in memory, else written to the content store
    /// as it streams (verified against the digest its name gives, if any).
    async fn store_entry(
        &self,
        path: &str,
        size: u64,
        body: mpsc::Receiver<Result<Bytes>>,
        done: oneshot::Receiver<Result<Summary>>,
        owned: &Owned<'_>,
        n: u64,
    ) -> Result<Stored> {
        let named = named_digest(path);
        if is_document(path, size) {
            let mut body = body;
            let mut bytes = Vec::with_capacity(size as usize);
            while let Some(chunk) = body.recv().await {
                bytes.extend_from_slice(&chunk?);
            }
            if let Ok(Err(e)) = done.await {
                return Err(e);
            }
            if let Some(expected) = &named {
                let actual = sha256(&bytes);
                if &actual != expected {
                    return Err(Error {
                        code: Code::DataLoss,
                        message: format!("import: {path} does not match its digest (got {actual})"),
                        details: Some(format!("expected {expected}, got {actual}")),
                    });
                }
            }
            return Ok(Stored::Document(Bytes::from(bytes)));
        }
        let reference = format!("import-{:016x}-{n}", rand::random::<u64>());
        let body = Mutex::new(Some(body));
        let open = || {
            let rx = body.lock().ok().and_then(|mut b| b.take());
            async move {
                let rx = rx.ok_or_else(|| Error::new(Code::Internal, "import: an archive entry can be read once"))?;
                let stream: BlobStream = Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx));
                Ok(stream)
            }
        };
        let expected = Expected { digest: named.as_deref().unwrap_or(""), size };
        self.write_blob(&reference, expected, &HashMap::new(), &owned.ingests, open, &|_| {}).await?;
        drop(body);
        let summary =
            done.await.map_err(|_| Error::new(Code::Internal, "import: the archive reader stopped early"))??;
        let digest = named
            .or(summary.digest)
            .ok_or_else(|| Error::new(Code::Internal, format!("import: no digest for {path}")))?;
        // Held by the lease too when the store had it already.
        self.lease_resource(owned.lease, &digest, "content").await?;
        Ok(Stored::Content { digest, size, gzip: summary.gzip })
    }

    async fn stored_bytes(&self, stored: &Stored, path: &str) -> Result<Bytes> {
        match stored {
            Stored::Document(bytes) => Ok(bytes.clone()),
            Stored::Content { digest, size, .. } => self
                .content_read(digest, *size)
                .await
                .map_err(|e| Error::new(e.code, format!("import: {path}: {}", e.message))),
        }
    }

    /// A blob the archive's documents reference: in the store (from this archive or before).
    async fn require_blob(&self, digest: &str, owned: &Owned<'_>) -> Result<()> {
        if self.content_info(digest).await?.is_none() {
            return Err(Error::invalid_argument(format!("import: the archive lacks blob {digest}")));
        }
        self.lease_resource(owned.lease, digest, "content").await
    }

    /// index.json's entries as (record name, target), every document labelled for the collector.
    async fn layout_images(&self, index: &[u8], date: &str, owned: &Owned<'_>) -> Result<Vec<(String, Descriptor)>> {
        let index: Value = serde_json::from_slice(index).map_err(|e| malformed(format!("index.json: {e}")))?;
        let entries = index
            .get("manifests")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::invalid_argument("import: index.json has no manifests"))?;
        let mut out = Vec::new();
        for entry in entries {
            let d: oci_spec::image::Descriptor = serde_json::from_value(entry.clone())
                .map_err(|e| malformed(format!("index.json: a manifest entry: {e}")))?;
            let desc = super::manifest::descriptor(&d);
            self.label_tree(&desc, owned, 0).await?;
            let name = layout_name(&desc.annotations, &desc.digest, date);
            let mut target = desc;
            target.annotations.clear();
            out.push((name, target));
        }
        Ok(out)
    }

    /// Sets the GC labels of an index or manifest and what it references (present children only:
    /// an index may be exported with one platform's manifest).
    async fn label_tree(&self, desc: &Descriptor, owned: &Owned<'_>, depth: usize) -> Result<()> {
        if depth > 4 {
            return Err(Error::invalid_argument("import: indexes nest too deep"));
        }
        self.require_blob(&desc.digest, owned).await?;
        let bytes = self.content_read(&desc.digest, desc.size).await?;
        let what = format!("import {}", desc.digest);
        if is_index(&desc.media_type) {
            let index: oci_spec::image::ImageIndex =
                serde_json::from_slice(&bytes).map_err(|e| malformed(format!("{}: {e}", desc.digest)))?;
            let mut labels = HashMap::new();
            for (i, m) in index.manifests().iter().enumerate() {
                labels.insert(format!("containerd.io/gc.ref.content.m.{i}"), m.digest().to_string());
                let child = super::manifest::descriptor(m);
                if self.content_info(&child.digest).await?.is_some() {
                    Box::pin(self.label_tree(&child, owned, depth + 1)).await?;
                }
            }
            return self.content_set_labels(&desc.digest, labels).await;
        }
        let (config, layers, labels) = parse_manifest(&bytes, &what).map_err(archive_fault)?;
        self.require_blob(&config.digest, owned).await?;
        let config_bytes = self.content_read(&config.digest, config.size).await?;
        let ids = diff_ids(&config_bytes, layers.len(), &what).map_err(archive_fault)?;
        for (layer, id) in layers.iter().zip(&ids) {
            self.require_blob(&layer.digest, owned).await?;
            let uncompressed = HashMap::from([("containerd.io/uncompressed".to_string(), id.clone())]);
            self.content_set_labels(&layer.digest, uncompressed).await?;
        }
        self.content_set_labels(&desc.digest, labels).await
    }

    /// manifest.json's entries: each config checked (its file name) and written, each layer
    /// checked against the config's diff IDs (uncompressed ones by digest; gzip ones when
    /// unpacked), and a Docker schema 2 manifest written for them.
    async fn docker_images(
        &self,
        manifest: &[u8],
        files: &Files,
        date: &str,
        owned: &Owned<'_>,
    ) -> Result<Vec<(String, Descriptor)>> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Entry {
            config: String,
            #[serde(default)]
            repo_tags: Option<Vec<String>>,
            layers: Vec<String>,
        }
        let entries: Vec<Entry> =
            serde_json::from_slice(manifest).map_err(|e| malformed(format!("manifest.json: {e}")))?;
        let lacks =
            |p: &str| Error::invalid_argument(format!("import: manifest.json names {p}, which the archive lacks"));
        let mut out = Vec::new();
        for entry in entries {
            let config_file = files.get(&entry.config).ok_or_else(|| lacks(&entry.config))?;
            let config_bytes = self.stored_bytes(config_file, &entry.config).await?;
            let ids = diff_ids(&config_bytes, entry.layers.len(), &format!("import {}", entry.config))
                .map_err(archive_fault)?;
            let config_digest = match config_file {
                Stored::Content { digest, .. } => digest.clone(),
                Stored::Document(bytes) => self.write_document(bytes, HashMap::new(), owned).await?,
            };
            let config =
                json!({ "mediaType": MEDIA_DOCKER_CONFIG, "digest": config_digest, "size": config_bytes.len() });
            let mut layers = Vec::new();
            let mut labels = HashMap::from([("containerd.io/gc.ref.content.config".to_string(), config_digest)]);
            for (i, (path, id)) in entry.layers.iter().zip(&ids).enumerate() {
                let (digest, size, gzip) = match files.get(path).ok_or_else(|| lacks(path))? {
                    Stored::Content { digest, size, gzip } => (digest.clone(), *size, *gzip),
                    Stored::Document(bytes) => {
                        (self.write_document(bytes, HashMap::new(), owned).await?, bytes.len() as u64, false)
                    }
                };
                if !gzip && &digest != id {
                    return Err(Error {
                        code: Code::DataLoss,
                        message: format!("import: layer {path} has digest {digest}, the config's diff ID is {id}"),
                        details: Some(format!("expected {id}, got {digest}")),
                    });
                }
                let uncompressed = HashMap::from([("containerd.io/uncompressed".to_string(), id.clone())]);
                self.content_set_labels(&digest, uncompressed).await?;
                labels.insert(format!("containerd.io/gc.ref.content.l.{i}"), digest.clone());
                let media = if gzip { MEDIA_DOCKER_LAYER_GZIP } else { MEDIA_DOCKER_LAYER };
                layers.push(json!({ "mediaType": media, "digest": digest, "size": size }));
            }
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": MEDIA_DOCKER_MANIFEST,
                "config": config,
                "layers": layers,
            });
            let bytes =
                Bytes::from(serde_json::to_vec(&manifest).map_err(|e| Error::new(Code::Internal, e.to_string()))?);
            let digest = self.write_document(&bytes, labels, owned).await?;
            let target = Descriptor {
                media_type: MEDIA_DOCKER_MANIFEST.to_string(),
                digest: digest.clone(),
                size: bytes.len() as u64,
                annotations: HashMap::new(),
            };
            let tags = entry.repo_tags.unwrap_or_default();
            if tags.is_empty() {
                out.push((format!("import-{date}@{digest}"), target.clone()));
            }
            for tag in tags {
                let name =
                    Reference::parse(&tag).map_err(|e| malformed(format!("manifest.json: {}", e.message)))?.name();
                out.push((name, target.clone()));
            }
        }
        Ok(out)
    }

    /// Writes bytes in hand as content (with `labels`), held by the lease; returns their digest.
    async fn write_document(
        &self,
        bytes: &Bytes,
        labels: HashMap<String, String>,
        owned: &Owned<'_>,
    ) -> Result<String> {
        let digest = self.write_bytes(bytes, labels, &owned.ingests).await?;
        self.lease_resource(owned.lease, &digest, "content").await?;
        Ok(digest)
    }

    /// Unpacks an imported image for the platform (default: this host; an image without that
    /// platform is left packed unless the platform was asked for).
    async fn unpack_imported(
        &self,
        name: &str,
        target: &Descriptor,
        options: &ImportOptions,
        owned: &Owned<'_>,
    ) -> Result<()> {
        let record = ImageRecord {
            name: name.to_string(),
            target: target.clone(),
            labels: HashMap::new(),
            created_at: 0.0,
            updated_at: 0.0,
        };
        let resolved = match self.resolve_record(&record, options.platform.as_deref()).await {
            Ok(r) => r,
            Err(e)
                if options.platform.is_none()
                    && matches!(e.code, Code::NotFound | Code::FailedPrecondition)
                    && e.message.contains("platform") =>
            {
                return Ok(())
            }
            Err(e) => return Err(archive_fault(e)),
        };
        let progress = Progress::new(name, None);
        let target = UnpackTarget {
            snapshotter: &options.snapshotter,
            lease: owned.lease,
            active: &owned.snapshots,
            progress: &progress,
        };
        let ready = resolved
            .layers
            .iter()
            .map(|_| {
                let (tx, rx) = oneshot::channel();
                let _ = tx.send(());
                rx
            })
            .collect();
        let top = self.unpack_layers(&resolved.layers, &resolved.diff_ids, ready, &target).await?;
        if !top.is_empty() {
            let label = format!("containerd.io/gc.ref.snapshot.{}", options.snapshotter);
            self.content_set_labels(&resolved.config.digest, HashMap::from([(label, top)])).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(normalize(Path::new("./blobs/sha256/../sha256/ab")).as_deref(), Some("blobs/sha256/ab"));
        assert_eq!(normalize(Path::new("./")), None);
        let hex = "a".repeat(64);
        assert_eq!(named_digest(&format!("blobs/sha256/{hex}")), Some(format!("sha256:{hex}")));
        assert_eq!(named_digest(&format!("{hex}.tar")), Some(format!("sha256:{hex}")));
        assert_eq!(named_digest(&format!("{hex}/layer.tar")), None);
        assert_eq!(named_digest("blobs/md5/abc"), None);
        assert!(is_document("manifest.json", 100) && is_document(&format!("{hex}.json"), 100));
        assert!(!is_document(&format!("blobs/sha256/{hex}"), 100) && !is_document("x.json", DOCUMENT_LIMIT + 1));
        let date = "2024-05-01";
        let ann = |k: &str, v: &str| HashMap::from([(k.to_string(), v.to_string())]);
        assert_eq!(layout_name(&ann(ANNOTATION_IMAGE_NAME, "x/y:1"), "sha256:d", date), "x/y:1");
        assert_eq!(
            layout_name(&ann(ANNOTATION_REF_NAME, "busybox:1"), "sha256:d", date),
            "docker.io/library/busybox:1"
        );
        assert_eq!(layout_name(&ann(ANNOTATION_REF_NAME, "latest"), "sha256:d", date), "import-2024-05-01:latest");
        assert_eq!(layout_name(&HashMap::new(), "sha256:d", date), "import-2024-05-01@sha256:d");
    }
}

#[cfg(test)]
mod reader_tests {
    use super::*;

    fn events_of(bytes: Vec<u8>) -> Vec<String> {
        let (tx, mut rx) = mpsc::channel(64);
        let t = std::thread::spawn(move || {
            if let Err(e) = read_archive(Box::new(std::io::Cursor::new(bytes)), &tx) {
                let _ = tx.blocking_send(Event::Error(e));
            }
        });
        let mut out = Vec::new();
        while let Some(e) = rx.blocking_recv() {
            out.push(match e {
                Event::File { path, .. } => format!("file {path}"),
                Event::Link { path, target } => format!("link {path} {target}"),
                Event::Error(e) => format!("error {:?} {}", e.code, e.message),
                Event::End => "end".to_string(),
            });
        }
        t.join().unwrap();
        out
    }

    #[test]
    fn garbage_is_an_error() {
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let events = events_of(garbage);
        assert!(events.len() == 1 && events[0].starts_with("error InvalidArgument"), "{events:?}");
    }
}
