//! Event subscriptions on `NativeClient`: a stream handle that index.js wraps as an async iterable.

use super::client::{spawn, NativeClient};
use crate::core::events::{ReadyHandle, Subscription};
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[napi(object)]
pub struct EventInfo {
    pub namespace: String,
    pub topic: String,
    /// Milliseconds since the epoch.
    pub timestamp: f64,
    pub r#type: String,
    /// The decoded payload as JSON text with `{"$date"}`/`{"$bytes"}` markers (index.js revives them).
    pub event: Option<String>,
    pub raw: Option<Buffer>,
}

#[napi]
pub struct NativeEventStream {
    subscription: Arc<tokio::sync::Mutex<Subscription>>,
    ready: std::sync::Mutex<Option<ReadyHandle>>,
    closer: CancellationToken,
}

#[napi]
impl NativeClient {
    /// Starts a subscription (resolves at once; `ready()` tells when the daemon registered it).
    #[napi]
    pub fn subscribe<'env>(
        &self,
        env: &'env Env,
        filters: Option<Vec<String>>,
        all_namespaces: Option<bool>,
        queue_limit: Option<f64>,
    ) -> Result<PromiseRaw<'env, NativeEventStream>> {
        let client = self.inner.clone();
        spawn(env, async move {
            let subscription =
                client.subscribe(filters.unwrap_or_default(), all_namespaces.unwrap_or(false), queue_limit)?;
            Ok(NativeEventStream {
                ready: std::sync::Mutex::new(Some(subscription.ready_handle())),
                closer: subscription.closer(),
                subscription: Arc::new(tokio::sync::Mutex::new(subscription)),
            })
        })
    }
}

#[napi]
impl NativeEventStream {
    #[napi]
    pub fn ready<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let handle = self.ready.lock().ok().and_then(|mut r| r.take());
        spawn(env, async move {
            match handle {
                Some(handle) => handle.wait().await,
                None => Err(crate::core::Error::invalid_argument("ready() may be awaited once")),
            }
        })
    }

    /// The next event, or null once the stream is closed.
    #[napi]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<EventInfo>>> {
        let subscription = self.subscription.clone();
        spawn(env, async move {
            let next = subscription.lock().await.next().await;
            match next {
                None => Ok(None),
                Some(Err(e)) => Err(e),
                Some(Ok(e)) => Ok(Some(EventInfo {
                    namespace: e.namespace,
                    topic: e.topic,
                    timestamp: e.timestamp,
                    r#type: e.type_name,
                    event: e.payload.map(|p| p.to_string()),
                    raw: e.raw.map(Buffer::from),
                })),
            }
        })
    }

    #[napi]
    pub fn close(&self) {
        self.closer.cancel();
    }
}
