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
