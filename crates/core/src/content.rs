//! The content store: existence checks, label updates, and streamed writes that verify the digest
//! before committing (the daemon would only say FAILED_PRECONDITION; we say DATA_LOSS).

use super::cancel::Cancel;
use super::client::{Client, MAX_MESSAGE_BYTES};
use super::digest::Verifier;
use super::error::{Code, Error, Result};
use super::tracked::Tracked;
use crate::transport::Transport;
use bytes::{Bytes, BytesMut};
use containerd_client::services::v1::{
    content_client::ContentClient, AbortRequest, Info, InfoRequest, ReadContentRequest, UpdateRequest, WriteAction,
    WriteContentRequest,
};
use futures_util::{Stream, StreamExt};
use std::collections::HashMap;
use std::time::Duration;

/// Bytes per Write message. A message is in memory until the daemon has read it (our buffer, then
/// tonic's encoded copy in h2's send queue), for every concurrent download: 128 KiB keeps a pull's
/// share to a few MiB (1 MiB messages cost a pull ~30 MiB), and per-message overhead stays small.
const CHUNK_BYTES: usize = 128 << 10;
/// Write messages sent but not yet answered, per blob. The daemon answers every message once it has
/// written it, so this bounds what a write holds in memory however slow the daemon is; without it,
/// tonic and h2 (1 MiB send buffer per stream) queue whatever the registry delivers faster.
/// 4 (512 KiB) is a trade: a download without unpack on a warm connection measured ~8 % slower
/// than with no limit (8 matched it, at ~3 MiB more peak RSS); a pull that unpacks was not slower.
const UNACKED_WRITES: usize = 4;
/// How often to look again while another writer holds the same ingest ref.
const LOCKED_RETRY: Duration = Duration::from_millis(100);

/// A blob's bytes as they arrive.
pub type BlobStream = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// How one write attempt ended, short of an error.
enum Attempt {
    Committed,
    /// The store had the blob (another namespace's): the commit only linked it here.
    Linked,
    /// A crashed writer's partial ingest was in the way and has been removed: go again.
    Retry,
}

/// Whether a blob's bytes were written, or the store already had it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    Stored,
    Linked,
}

/// What a blob is expected to be.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    pub digest: &'a str,
    pub size: u64,
}

fn content(ch: Transport) -> ContentClient<Transport> {
    ContentClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES)
}

fn is_locked(e: &Error) -> bool {
    e.code == Code::Unavailable && e.details.as_deref().is_some_and(|d| d.contains("locked"))
}

impl Client {
    /// The blob's info, or `None` when the store does not have it.
    pub(crate) async fn content_info(&self, digest: &str) -> Result<Option<Info>> {
        let what = format!("content info {digest}");
        let reply = self
            .unary(&what, &Cancel::none(), |ch| async move {
                content(ch).info(self.request(InfoRequest { digest: digest.to_string() })).await
            })
            .await;
        match reply {
            Ok(r) => Ok(r.info),
            Err(e) if e.code == Code::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A small blob (manifest, config) whole; NOT_FOUND when the store does not have it.
    pub(crate) async fn content_read(&self, digest: &str, size: u64) -> Result<Bytes> {
        let what = format!("read content {digest}");
        if size > MAX_MESSAGE_BYTES as u64 {
            return Err(Error::new(
                Code::ResourceExhausted,
                format!("{what}: {size} bytes is too large to read whole"),
            ));
        }
        let mut stream = content_stream(self, digest).await?;
        let mut bytes = BytesMut::with_capacity(size as usize);
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.map_err(|e| Error::new(Code::Unavailable, format!("{what}: {e}")))?);
        }
        Ok(bytes.freeze())
    }

    /// Sets (merges) labels on a blob.
    pub(crate) async fn content_set_labels(&self, digest: &str, labels: HashMap<String, String>) -> Result<()> {
        if labels.is_empty() {
            return Ok(());
        }
        let what = format!("label content {digest}");
        let paths = labels.keys().map(|k| format!("labels.{k}")).collect();
        let info = Info { digest: digest.to_string(), labels, ..Default::default() };
        self.unary(&what, &Cancel::none(), |ch| async move {
            content(ch)
                .update(
                    self.request(UpdateRequest {
                        info: Some(info),
                        update_mask: Some(prost_types::FieldMask { paths }),
                    }),
                )
                .await
        })
        .await?;
        Ok(())
    }

    /// Drops an unfinished ingest; a ref that is already gone is fine.
    pub(crate) async fn content_abort(&self, reference: &str) -> Result<()> {
        let what = format!("abort ingest {reference}");
        match self
            .unary(&what, &Cancel::none(), |ch| async move {
                content(ch).abort(self.request(AbortRequest { r#ref: reference.to_string() })).await
            })
            .await
        {
            Err(e) if e.code != Code::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Writes a blob from `body` under ingest ref `reference`, verifying size and digest before the
    /// commit, which sets `labels` (an empty expected digest commits the sha256 of what arrived). Succeeds without writing when the blob exists already or
    /// another writer commits it meanwhile. `on_bytes` sees every chunk's length as it arrives.
    /// On failure the partial ingest is aborted.
    /// Writes one blob (verified while streaming) unless the store has it; says which happened.
    pub(crate) async fn write_blob<S>(
        &self,
        reference: &str,
        expected: Expected<'_>,
        labels: &HashMap<String, String>,
        ingests: &Tracked,
        mut open_body: impl FnMut() -> S,
        on_bytes: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Written>
    where
        S: std::future::Future<Output = Result<BlobStream>>,
    {
        let _writing = self.lock_ingest(reference).await;
        let mut restarts = 0;
        loop {
            let attempt = self.try_write(reference, &expected, labels, ingests, &mut open_body, on_bytes).await;
            ingests.remove(reference);
            match attempt {
                Ok(Attempt::Committed) => return Ok(Written::Stored),
                Ok(Attempt::Linked) => return Ok(Written::Linked),
                Ok(Attempt::Retry) if restarts < 3 => restarts += 1,
                Ok(Attempt::Retry) => {
                    return Err(Error::new(
                        Code::Aborted,
                        format!("write {}: the stale ingest {reference} keeps coming back", expected.digest),
                    ))
                }
                Err(e) if e.code == Code::AlreadyExists => return Ok(Written::Linked),
                Err(e) if is_locked(&e) => {
                    // Another pull is writing the same blob: wait for it, then use its result.
                    tokio::time::sleep(LOCKED_RETRY).await;
                    if self.content_info(expected.digest).await?.is_some() {
                        return Ok(Written::Linked);
                    }
                }
                Err(e) => {
                    let _ = self.content_abort(reference).await;
                    return Err(e);
                }
            }
        }
    }

    /// Writes bytes in hand as content with `labels` (set on an existing blob too); returns the digest.
    pub(crate) async fn write_bytes(
        &self,
        bytes: &Bytes,
        labels: HashMap<String, String>,
        ingests: &Tracked,
    ) -> Result<String> {
        let digest = super::digest::sha256(bytes);
        let reference = format!("write-{:016x}-{}", rand::random::<u64>(), &digest[7..19]);
        let expected = Expected { digest: &digest, size: bytes.len() as u64 };
        let open = || async {
            let body: BlobStream = Box::pin(futures_util::stream::once(std::future::ready(Ok(bytes.clone()))));
            Ok(body)
        };
        self.write_blob(&reference, expected, &labels, ingests, open, &|_| {}).await?;
        self.content_set_labels(&digest, labels).await?;
        Ok(digest)
    }

    async fn try_write<S>(
        &self,
        reference: &str,
        expected: &Expected<'_>,
        labels: &HashMap<String, String>,
        ingests: &Tracked,
        open_body: &mut impl FnMut() -> S,
        on_bytes: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Attempt>
    where
        S: std::future::Future<Output = Result<BlobStream>>,
    {
        let what = format!("write {}", expected.digest);
        let total =
            i64::try_from(expected.size).map_err(|_| Error::invalid_argument(format!("{what}: size out of range")))?;
        // Depth 1: `UNACKED_WRITES` is the real bound on what is queued.
        let (tx, rx) = tokio::sync::mpsc::channel::<WriteContentRequest>(1);
        // The daemon reads the first message before it answers, so it must be queued first.
        let stat = WriteContentRequest {
            action: WriteAction::Stat as i32,
            r#ref: reference.to_string(),
            total,
            expected: expected.digest.to_string(),
            ..Default::default()
        };
        tx.send(stat).await.map_err(|_| Error::new(Code::Internal, "write stream closed"))?;
        let mut responses = content(Transport::Shared(self.channel(&what)?))
            .write(self.request(tokio_stream::wrappers::ReceiverStream::new(rx)))
            .await
            .map_err(|s| self.status_error(&what, &s))?
            .into_inner();
        let status = responses
            .message()
            .await
            .map_err(|s| self.status_error(&what, &s))?
            .ok_or_else(|| Error::new(Code::Internal, format!("{what}: the daemon closed the write stream")))?;
        // From here on the ref is ours (the daemon holds its lock for this stream).
        ingests.add(reference);
        let offset = u64::try_from(status.offset).unwrap_or(0);
        if offset == expected.size && offset > 0 {
            // The blob is in the shared store already (another namespace has it): the daemon
            // only needs the commit to link it here.
            let commit = WriteContentRequest {
                action: WriteAction::Commit as i32,
                r#ref: reference.to_string(),
                total,
                expected: expected.digest.to_string(),
                offset: status.offset,
                labels: labels.clone(),
                ..Default::default()
            };
            tx.send(commit)
                .await
                .map_err(|_| Error::new(Code::Unavailable, format!("{what}: the daemon ended the write early")))?;
            return match responses.message().await {
                Ok(Some(_)) => Ok(Attempt::Linked),
                Ok(None) => {
                    Err(Error::new(Code::Internal, format!("{what}: the write stream ended before the commit")))
                }
                Err(s) => Err(self.status_error(&what, &s)),
            };
        }
        if offset > 0 {
            // A crashed writer left a partial ingest under this ref; start it over.
            drop(tx);
            drop(responses);
            self.content_abort(reference).await?;
            return Ok(Attempt::Retry);
        }

        // A permit per Write message in flight; the receiver gives one back per answer.
        let unacked = tokio::sync::Semaphore::new(UNACKED_WRITES);
        let send = async {
            let mut body = open_body().await?;
            // No expected digest (an archive entry not named by one): sha256, committed as computed.
            let mut verifier = if expected.digest.is_empty() {
                Verifier::sha256()
            } else {
                Verifier::for_digest(expected.digest)
                    .ok_or_else(|| Error::invalid_argument(format!("{what}: unsupported digest algorithm")))?
            };
            // A Vec handed over whole: the request's `data` is a Vec<u8>, so no copy is made here.
            let mut buffer = Vec::with_capacity(CHUNK_BYTES);
            let mut offset: u64 = 0;
            let mut received: u64 = 0;
            let closed = || Error::new(Code::Unavailable, format!("{what}: the daemon ended the write early"));
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                received += chunk.len() as u64;
                if received > expected.size {
                    return Err(Error::new(
                        Code::DataLoss,
                        format!("{what}: more than the expected {} bytes arrived", expected.size),
                    ));
                }
                verifier.update(&chunk);
                on_bytes(chunk.len() as u64);
                // Messages of exactly CHUNK_BYTES: a chunk that crossed the boundary would make
                // the Vec reallocate to twice its size.
                let mut rest = &chunk[..];
                while !rest.is_empty() {
                    let (now, later) = rest.split_at(rest.len().min(CHUNK_BYTES - buffer.len()));
                    buffer.extend_from_slice(now);
                    rest = later;
                    if buffer.len() < CHUNK_BYTES {
                        continue;
                    }
                    let data = std::mem::replace(&mut buffer, Vec::with_capacity(CHUNK_BYTES));
                    let len = data.len() as u64;
                    unacked.acquire().await.map_err(|_| closed())?.forget();
                    tx.send(WriteContentRequest {
                        action: WriteAction::Write as i32,
                        r#ref: reference.to_string(),
                        offset: offset as i64,
                        data,
                        ..Default::default()
                    })
                    .await
                    .map_err(|_| closed())?;
                    offset += len;
                }
            }
            if received != expected.size {
                return Err(Error::new(
                    Code::DataLoss,
                    format!("{what}: got {received} bytes, expected {}", expected.size),
                ));
            }
            let actual = verifier.finish();
            if !expected.digest.is_empty() && actual != expected.digest {
                return Err(Error {
                    code: Code::DataLoss,
                    message: format!("{what}: the bytes received do not match their digest (got {actual})"),
                    details: Some(format!("expected {}, got {actual}", expected.digest)),
                });
            }
            tx.send(WriteContentRequest {
                action: WriteAction::Commit as i32,
                r#ref: reference.to_string(),
                total,
                expected: actual,
                offset: offset as i64,
                data: buffer,
                labels: labels.clone(),
            })
            .await
            .map_err(|_| closed())?;
            Ok(())
        };
        let receive = async {
            // One answer per message; the commit's answer ends the exchange.
            loop {
                match responses.message().await {
                    Ok(Some(r)) if r.action == WriteAction::Commit as i32 => return Ok(()),
                    Ok(Some(_)) => unacked.add_permits(1),
                    Ok(None) => {
                        return Err(Error::new(
                            Code::Internal,
                            format!("{what}: the write stream ended before the commit"),
                        ))
                    }
                    Err(s) => return Err(self.status_error(&what, &s)),
                }
            }
        };
        // Whichever side fails first ends both (the receiver sees the daemon's error).
        tokio::try_join!(send, receive)?;
        Ok(Attempt::Committed)
    }
}

/// A blob's bytes as a stream of chunks (I/O errors carry the classified error's message), for
/// reading layers without holding them whole.
pub(crate) async fn content_stream(
    client: &Client,
    digest: &str,
) -> Result<impl Stream<Item = std::io::Result<Bytes>> + Send + Unpin + 'static> {
    let what = format!("read content {digest}");
    let request = ReadContentRequest { digest: digest.to_string(), offset: 0, size: 0 };
    let stream = content(Transport::Shared(client.channel(&what)?))
        .read(client.request(request))
        .await
        .map_err(|s| client.status_error(&what, &s))?
        .into_inner();
    let address = client.address().to_string();
    Ok(stream.map(move |chunk| {
        chunk
            .map(|c| Bytes::from(c.data))
            .map_err(|s| std::io::Error::other(Error::from_status(&what, &address, &s).message))
    }))
}
