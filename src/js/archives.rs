//! Image archives on `NativeClient`: export as a pull-based chunk reader that lib/archive.js wraps
//! in a Readable.

use super::cancel::{from_handle, CancelHandle};
use super::client::{spawn, NativeClient};
use crate::core::archive::ExportStream;
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;
use std::sync::Arc;
use tokio::sync::Mutex;

#[napi]
pub struct NativeExportStream {
    inner: Arc<Mutex<ExportStream>>,
    closer: tokio_util::sync::CancellationToken,
}

#[napi]
impl NativeClient {
    /// Resolves every image (errors before any byte), then hands back the archive's reader.
    #[napi]
    pub fn export_images<'env>(
        &self,
        env: &'env Env,
        names: Vec<String>,
        platform: Option<String>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, NativeExportStream>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            let stream = client.export_images(&names, platform.as_deref(), &cancel).await?;
            Ok(NativeExportStream {
                inner: Arc::new(Mutex::new(stream)),
                closer: tokio_util::sync::CancellationToken::new(),
            })
        })
    }
}

#[napi]
impl NativeExportStream {
    /// The next chunk of the archive, or null at its end (or once closed).
    #[napi]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<Buffer>>> {
        let (inner, closer) = (self.inner.clone(), self.closer.clone());
        spawn(env, async move {
            let mut stream = inner.lock().await;
            let chunk = tokio::select! {
                chunk = stream.next() => chunk?,
                _ = closer.cancelled() => None,
            };
            if closer.is_cancelled() {
                stream.close();
                return Ok(None);
            }
            Ok(chunk.map(|b| Buffer::from(b.to_vec())))
        })
    }

    /// Stops the writer; a pending `next()` resolves with null.
    #[napi]
    pub fn close(&self) {
        self.closer.cancel();
        if let Ok(mut stream) = self.inner.try_lock() {
            stream.close();
        }
    }
}

#[napi(object)]
pub struct NativeImportOptions {
    pub unpack: Option<bool>,
    pub snapshotter: Option<String>,
    pub platform: Option<String>,
    pub labels: Option<std::collections::HashMap<String, String>>,
}

/// Where JS writes an archive's bytes for `importImages`: a bounded channel into the core's reader.
#[napi]
pub struct NativeImportSink {
    tx: std::sync::Mutex<Option<tokio::sync::mpsc::Sender<bytes::Bytes>>>,
    rx: std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<bytes::Bytes>>>,
}

#[napi]
impl NativeImportSink {
    #[napi(constructor)]
    pub fn new() -> Self {
        let (tx, rx) = tokio::sync::mpsc::channel(crate::core::import::SOURCE_QUEUE);
        NativeImportSink { tx: std::sync::Mutex::new(Some(tx)), rx: std::sync::Mutex::new(Some(rx)) }
    }

    /// Queues one chunk; resolves once there is room (true) or when the import no longer reads (false).
    #[napi]
    pub fn write<'env>(&self, env: &'env Env, chunk: Buffer) -> Result<PromiseRaw<'env, bool>> {
        let tx = self.tx.lock().ok().and_then(|t| t.clone());
        let bytes = bytes::Bytes::copy_from_slice(&chunk);
        spawn(env, async move {
            Ok(match tx {
                Some(tx) => tx.send(bytes).await.is_ok(),
                None => false,
            })
        })
    }

    /// The end of the archive.
    #[napi]
    pub fn end(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
    }
}

impl Default for NativeImportSink {
    fn default() -> Self {
        Self::new()
    }
}

#[napi]
impl NativeClient {
    /// Imports an archive from `path` (read on this host) or from what JS writes into `sink`;
    /// resolves with the image records as JSON.
    #[napi]
    pub fn import_images<'env>(
        &self,
        env: &'env Env,
        path: Option<String>,
        sink: Option<&NativeImportSink>,
        options: Option<NativeImportOptions>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, String>> {
        let source = match (path, sink.and_then(|s| s.rx.lock().ok().and_then(|mut r| r.take()))) {
            (Some(path), _) => Some(crate::core::import::ImportSource::Path(path.into())),
            (None, Some(rx)) => Some(crate::core::import::ImportSource::Chunks(rx)),
            (None, None) => None,
        };
        let defaults = crate::core::import::ImportOptions::default();
        let options = match options {
            Some(o) => crate::core::import::ImportOptions {
                unpack: o.unpack.unwrap_or(defaults.unpack),
                snapshotter: o.snapshotter.unwrap_or(defaults.snapshotter),
                platform: o.platform,
                labels: o.labels.unwrap_or_default(),
            },
            None => defaults,
        };
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            let source = source.ok_or_else(|| {
                crate::core::Error::invalid_argument("importImages needs a path or a sink that was not used yet")
            })?;
            let images = client.import_images(source, options, &cancel).await?;
            super::settle::to_json(&images.into_iter().map(super::images::ImageInfo::from).collect::<Vec<_>>())
        })
    }
}
