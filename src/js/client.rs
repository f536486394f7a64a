//! `NativeClient`: each method converts its arguments, spawns one core call, converts the result.

use super::cancel::{from_handle, CancelHandle};
use super::error::to_napi;
pub(super) use super::settle::{spawn, spawn_here};
use super::thread_io;
use crate::core;
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;
use std::collections::HashMap;

#[napi(object)]
pub struct TlsOptions {
    pub ca: Option<Buffer>,
    pub cert: Option<Buffer>,
    pub key: Option<Buffer>,
    pub server_name: Option<String>,
}

#[napi(object)]
pub struct ConnectOptions {
    pub address: Option<String>,
    pub namespace: Option<String>,
    pub timeout_ms: Option<f64>,
    pub tls: Option<TlsOptions>,
}

#[napi(object)]
pub struct VersionInfo {
    pub version: String,
    pub revision: String,
}

#[napi(object)]
pub struct PluginInfo {
    pub r#type: String,
    pub id: String,
    #[napi(ts_type = "'ok' | 'error' | 'skip'")]
    pub status: String,
    pub error: Option<String>,
    pub requires: Vec<String>,
}

#[napi(object)]
pub struct NamespaceInfo {
    pub name: String,
    pub labels: HashMap<String, String>,
}

#[napi]
pub struct NativeClient {
    pub(super) inner: core::Client,
}

/// Connects to containerd. Environment defaults are read here, on the JS thread.
#[napi]
pub fn connect<'env>(
    env: &'env Env,
    options: Option<ConnectOptions>,
    cancel: Option<&CancelHandle>,
) -> Result<PromiseRaw<'env, NativeClient>> {
    let options = options.map_or_else(core::ConnectOptions::default, |o| core::ConnectOptions {
        address: o.address,
        namespace: o.namespace,
        timeout_ms: o.timeout_ms,
        tls: o.tls.map(|t| core::TlsOptions {
            ca: t.ca.map(|b| b.to_vec()),
            cert: t.cert.map(|b| b.to_vec()),
            key: t.key.map(|b| b.to_vec()),
            server_name: t.server_name,
        }),
    });
    let options = options.resolve(|key| std::env::var(key).ok());
    let cancel = from_handle(cancel);
    spawn(env, async move {
        let inner = core::Client::connect(options, &cancel).await?;
        Ok(NativeClient { inner })
    })
}

/// Turns on or off running short calls on the JS thread that makes them (src/js/thread_io.rs):
/// lib/native.js turns it on under Node; benchmarks compare both ways.
#[napi]
pub fn set_thread_transport(enabled: bool) {
    thread_io::set_enabled(enabled);
}

#[napi]
impl NativeClient {
    #[napi(getter)]
    pub fn address(&self) -> String {
        self.inner.address().to_string()
    }

    #[napi(getter)]
    pub fn namespace(&self) -> String {
        self.inner.namespace().to_string()
    }

    /// gRPC calls started over this connection (a diagnostic for tests and benchmarks).
    #[napi(getter)]
    pub fn call_count(&self) -> f64 {
        self.inner.call_count() as f64
    }

    /// Of those, the ones made over the JS thread's own connection (src/js/thread_io.rs).
    #[napi(getter)]
    pub fn thread_call_count(&self) -> f64 {
        self.inner.thread_call_count() as f64
    }

    #[napi]
    pub fn with_namespace(&self, namespace: String) -> Result<NativeClient> {
        let inner = self.inner.with_namespace(&namespace).map_err(to_napi)?;
        Ok(NativeClient { inner })
    }

    #[napi]
    pub fn close(&self, env: &Env) {
        self.inner.close();
        thread_io::release(env.raw(), &self.inner);
    }

    #[napi]
    pub fn version<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, VersionInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn_here(env, &self.inner, async move {
            let v = client.version(&cancel).await?;
            Ok(VersionInfo { version: v.version, revision: v.revision })
        })
    }

    #[napi]
    pub fn plugins<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, Vec<PluginInfo>>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn_here(env, &self.inner, async move {
            let plugins = client.plugins(&cancel).await?;
            Ok(plugins
                .into_iter()
                .map(|p| PluginInfo {
                    r#type: p.r#type,
                    id: p.id,
                    status: p.status.as_str().to_string(),
                    error: p.error,
                    requires: p.requires,
                })
                .collect())
        })
    }

    #[napi]
    pub fn list_namespaces<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, Vec<NamespaceInfo>>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn_here(env, &self.inner, async move {
            let list = client.list_namespaces(&cancel).await?;
            Ok(list.into_iter().map(|n| NamespaceInfo { name: n.name, labels: n.labels }).collect())
        })
    }

    #[napi]
    pub fn create_namespace<'env>(
        &self,
        env: &'env Env,
        name: String,
        labels: Option<HashMap<String, String>>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { client.create_namespace(&name, labels.unwrap_or_default(), &cancel).await })
    }

    #[napi]
    pub fn delete_namespace<'env>(
        &self,
        env: &'env Env,
        name: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { client.delete_namespace(&name, &cancel).await })
    }
}
