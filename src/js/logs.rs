//! Container logs on `NativeClient`: a reader handle that lib/container.js wraps as an async
//! iterable of records.

use super::cancel::{from_handle, CancelHandle};
use super::client::{spawn, NativeClient};
use crate::core::logs::{LogQuery, LogReader};
use napi::bindgen_prelude::PromiseRaw;
use napi::{Env, Result};
use napi_derive::napi;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[napi(object)]
pub struct LogLine {
    /// Milliseconds since the epoch.
    pub time: f64,
    pub stream: String,
    pub line: String,
    /// Set on the record the logger writes when it had to drop output: how many bytes.
    pub dropped: Option<f64>,
}

/// `Container.logs()` options; times in milliseconds since the epoch.
#[napi(object)]
pub struct NativeLogsOptions {
    pub follow: Option<bool>,
    pub tail: Option<f64>,
    pub since: Option<f64>,
    pub until: Option<f64>,
}

#[napi]
pub struct NativeLogStream {
    reader: Arc<tokio::sync::Mutex<LogReader>>,
    closer: CancellationToken,
}

#[napi]
impl NativeClient {
    /// Opens a container's log (NotFound when it has none); times in milliseconds.
    #[napi]
    pub fn open_logs<'env>(
        &self,
        env: &'env Env,
        container_id: String,
        options: NativeLogsOptions,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, NativeLogStream>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            let NativeLogsOptions { follow, tail, since, until } = options;
            let query = LogQuery { follow: follow.unwrap_or(false), tail, since, until };
            let reader = client.open_logs(&container_id, query, &cancel).await?;
            Ok(NativeLogStream { closer: reader.closer(), reader: Arc::new(tokio::sync::Mutex::new(reader)) })
        })
    }
}

#[napi]
impl NativeLogStream {
    /// The next records, or null at the end (or once closed).
    #[napi]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<Vec<LogLine>>>> {
        let reader = self.reader.clone();
        spawn(env, async move {
            let batch = reader.lock().await.next_batch().await?;
            Ok(batch.map(|records| {
                records
                    .into_iter()
                    .map(|r| LogLine {
                        time: r.time,
                        stream: r.stream,
                        line: r.line,
                        dropped: r.dropped.map(|n| n as f64),
                    })
                    .collect()
            }))
        })
    }

    #[napi]
    pub fn close(&self) {
        self.closer.cancel();
    }
}
