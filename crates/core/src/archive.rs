//! Image archives. Export writes one tar that is both an OCI image layout (`oci-layout`,
//! `index.json`, `blobs/sha256/…`) and a `docker save` archive (`manifest.json` naming the config
//! and layer files in the same blobs directory), streamed from the content store entry by entry,
//! never held whole.

use super::cancel::Cancel;
use super::client::Client;
use super::content::content_stream;
use super::error::{Code, Error, Result};
use super::images::Descriptor;
use super::reference::Reference;
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::json;
use std::collections::HashSet;
use tokio::sync::mpsc;

/// containerd's annotation for the full image name, read by `ctr images import`.
pub const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";
/// The OCI annotation for the tag.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
const BLOCK: usize = 512;
/// Chunks in flight between the writer task and the reader.
const QUEUE: usize = 4;

/// One tar entry: bytes in hand, or a blob streamed from the content store.
enum Entry {
    File { path: String, bytes: Bytes },
    Blob { digest: String, size: u64 },
}

/// The archive's bytes as they are produced; dropping it (or `close`) stops the writer.
pub struct ExportStream {
    rx: mpsc::Receiver<Result<Bytes>>,
    task: tokio::task::JoinHandle<()>,
}

impl ExportStream {
    /// The next chunk, or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Bytes>> {
        self.rx.recv().await.transpose()
    }

    pub fn close(&mut self) {
        self.task.abort();
        self.rx.close();
    }
}

impl Drop for ExportStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn blob_path(digest: &str) -> Result<String> {
    let (algorithm, hex) = digest
        .split_once(':')
        .ok_or_else(|| Error::new(Code::FailedPrecondition, format!("export: invalid digest {digest:?}")))?;
    Ok(format!("blobs/{algorithm}/{hex}"))
}

/// A tar header block for a regular file.
fn header(path: &str, size: u64) -> Result<[u8; BLOCK]> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path).map_err(|e| Error::new(Code::Internal, format!("export: tar path {path}: {e}")))?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut block = [0u8; BLOCK];
    block.copy_from_slice(h.as_bytes());
    Ok(block)
}

fn padding(size: u64) -> usize {
    (BLOCK - (size % BLOCK as u64) as usize) % BLOCK
}

impl Client {
    /// Resolves every image first (NOT_FOUND before any byte), then streams the archive.
    pub async fn export_images(
        &self,
        names: &[String],
        platform: Option<&str>,
        cancel: &Cancel,
    ) -> Result<ExportStream> {
        if names.is_empty() {
            return Err(Error::invalid_argument("exportImages needs at least one image name"));
        }
        let mut entries = Vec::new();
        let mut seen = HashSet::new();
        let mut index_manifests = Vec::new();
        let mut docker_manifests = Vec::new();
        let mut add_blob = |entries: &mut Vec<Entry>, d: &Descriptor| {
            if seen.insert(d.digest.clone()) {
                entries.push(Entry::Blob { digest: d.digest.clone(), size: d.size });
            }
        };
        for name in names {
            let image = self.get_image(name, cancel).await?;
            let resolved = self.resolve_record(&image, platform).await?;
            for d in resolved.documents.iter().chain(std::iter::once(&resolved.config)).chain(&resolved.layers) {
                add_blob(&mut entries, d);
            }
            let mut target = image.target.clone();
            target.annotations.insert(ANNOTATION_IMAGE_NAME.to_string(), image.name.clone());
            let parsed = Reference::parse(&image.name).ok();
            if let Some(tag) = parsed.as_ref().and_then(|r| r.tag.clone()) {
                target.annotations.insert(ANNOTATION_REF_NAME.to_string(), tag);
            }
            index_manifests.push(json!({
                "mediaType": target.media_type,
                "digest": target.digest,
                "size": target.size,
                "annotations": target.annotations,
            }));
            // docker load wants `repo:tag`; a name with a digest only gets no RepoTags.
            let repo_tags: Vec<String> = parsed
                .filter(|r| r.tag.is_some() && r.digest.is_none())
                .map(|r| vec![docker_name(&r)])
                .unwrap_or_default();
            docker_manifests.push(json!({
                "Config": blob_path(&resolved.config.digest)?,
                "RepoTags": repo_tags,
                "Layers": resolved.layers.iter().map(|l| blob_path(&l.digest)).collect::<Result<Vec<_>>>()?,
            }));
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": super::registry::MEDIA_OCI_INDEX,
            "manifests": index_manifests,
        });
        let to_bytes = |v: &serde_json::Value| Bytes::from(serde_json::to_vec(v).unwrap_or_default());
        entries.insert(
            0,
            Entry::File { path: "oci-layout".into(), bytes: Bytes::from_static(br#"{"imageLayoutVersion":"1.0.0"}"#) },
        );
        entries.push(Entry::File { path: "index.json".into(), bytes: to_bytes(&index) });
        entries.push(Entry::File { path: "manifest.json".into(), bytes: to_bytes(&json!(docker_manifests)) });

        let (tx, rx) = mpsc::channel(QUEUE);
        let client = self.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = client.write_archive(entries, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        Ok(ExportStream { rx, task })
    }

    async fn write_archive(&self, entries: Vec<Entry>, tx: &mpsc::Sender<Result<Bytes>>) -> Result<()> {
        let closed = || Error::cancelled("export");
        for entry in entries {
            match entry {
                Entry::File { path, bytes } => {
                    let size = bytes.len() as u64;
                    tx.send(Ok(Bytes::copy_from_slice(&header(&path, size)?))).await.map_err(|_| closed())?;
                    tx.send(Ok(bytes)).await.map_err(|_| closed())?;
                    if padding(size) > 0 {
                        tx.send(Ok(Bytes::from(vec![0u8; padding(size)]))).await.map_err(|_| closed())?;
                    }
                }
                Entry::Blob { digest, size } => {
                    let what = format!("export {digest}");
                    tx.send(Ok(Bytes::copy_from_slice(&header(&blob_path(&digest)?, size)?)))
                        .await
                        .map_err(|_| closed())?;
                    let mut body = content_stream(self, &digest).await?;
                    let mut sent = 0u64;
                    while let Some(chunk) = body.next().await {
                        let chunk = chunk.map_err(|e| Error::new(Code::Unavailable, format!("{what}: {e}")))?;
                        sent += chunk.len() as u64;
                        if sent > size {
                            break;
                        }
                        tx.send(Ok(chunk)).await.map_err(|_| closed())?;
                    }
                    if sent != size {
                        return Err(Error::new(
                            Code::DataLoss,
                            format!("{what}: the content store holds {sent} bytes, the descriptor says {size}"),
                        ));
                    }
                    if padding(size) > 0 {
                        tx.send(Ok(Bytes::from(vec![0u8; padding(size)]))).await.map_err(|_| closed())?;
                    }
                }
            }
        }
        tx.send(Ok(Bytes::from(vec![0u8; 2 * BLOCK]))).await.map_err(|_| closed())?;
        Ok(())
    }
}

/// `repo:tag` as docker names it (`docker.io/library/x` → `x`, `docker.io/y/x` → `y/x`).
fn docker_name(r: &Reference) -> String {
    let repository = match r.domain.as_str() {
        "docker.io" => r.repository.strip_prefix("library/").unwrap_or(&r.repository).to_string(),
        domain => format!("{domain}/{}", r.repository),
    };
    format!("{repository}:{}", r.tag.as_deref().unwrap_or("latest"))
}
