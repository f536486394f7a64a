//! Image records and pulls on `NativeClient`.

use super::cancel::{from_handle, CancelHandle};
use super::client::{spawn, NativeClient};
use crate::core;
use crate::core::registry::{Credentials, RegistryOptions};
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;
use std::collections::HashMap;

#[napi(object)]
pub struct RegistryTls {
    pub ca: Option<Buffer>,
    pub insecure_skip_verify: Option<bool>,
}

/// `{ username, password }` or `{ token }` (index.js checks which).
#[napi(object)]
pub struct RegistryAuth {
    pub username: Option<String>,
    pub password: Option<String>,
    pub token: Option<String>,
}

#[napi(object)]
pub struct NativePullOptions {
    pub platform: Option<String>,
    pub plain_http: Option<bool>,
    pub max_concurrent_downloads: Option<u32>,
    pub labels: Option<HashMap<String, String>>,
    pub tls: Option<RegistryTls>,
    pub auth: Option<RegistryAuth>,
}

#[napi(object)]
pub struct DescriptorInfo {
    pub media_type: String,
    pub digest: String,
    pub size: f64,
    pub annotations: Option<HashMap<String, String>>,
}

#[napi(object)]
pub struct ImageInfo {
    pub name: String,
    pub target: DescriptorInfo,
    pub labels: HashMap<String, String>,
    /// Milliseconds since the epoch (index.js makes Dates).
    pub created_at: f64,
    pub updated_at: f64,
}

impl From<core::images::ImageRecord> for ImageInfo {
    fn from(r: core::images::ImageRecord) -> ImageInfo {
        ImageInfo {
            name: r.name,
            target: DescriptorInfo {
                media_type: r.target.media_type,
                digest: r.target.digest,
                size: r.target.size as f64,
                annotations: (!r.target.annotations.is_empty()).then_some(r.target.annotations),
            },
            labels: r.labels,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn pull_options(options: Option<NativePullOptions>, host: Option<&str>) -> core::pull::PullOptions {
    let o = options.unwrap_or(NativePullOptions {
        platform: None,
        plain_http: None,
        max_concurrent_downloads: None,
        labels: None,
        tls: None,
        auth: None,
    });
    let credentials = match o.auth {
        Some(RegistryAuth {
            token: Some(token), ..
        }) => Some(Credentials::Token(token)),
        Some(RegistryAuth {
            username: Some(username),
            password,
            ..
        }) => Some(Credentials::Basic {
            username,
            password: password.unwrap_or_default(),
        }),
        // Read on the JS thread, at pull time.
        _ => host.and_then(core::credentials::from_docker_config),
    };
    let defaults = core::pull::PullOptions::default();
    core::pull::PullOptions {
        platform: o.platform,
        registry: RegistryOptions {
            // Passing tls options means HTTPS, also for a loopback registry.
            plain_http: o.plain_http.or(o.tls.as_ref().map(|_| false)),
            ca: o
                .tls
                .as_ref()
                .and_then(|t| t.ca.as_ref().map(|b| b.to_vec())),
            insecure_skip_verify: o
                .tls
                .as_ref()
                .and_then(|t| t.insecure_skip_verify)
                .unwrap_or(false),
            credentials,
        },
        max_concurrent_downloads: o
            .max_concurrent_downloads
            .map_or(defaults.max_concurrent_downloads, |n| n as usize),
        labels: o.labels.unwrap_or_default(),
    }
}

#[napi]
impl NativeClient {
    #[napi]
    pub fn pull<'env>(
        &self,
        env: &'env Env,
        reference: String,
        options: Option<NativePullOptions>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ImageInfo>> {
        let host = core::reference::Reference::parse(&reference)
            .ok()
            .map(|r| r.domain);
        let options = pull_options(options, host.as_deref());
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            Ok(client.pull(&reference, options, &cancel).await?.into())
        })
    }

    #[napi]
    pub fn get_image<'env>(
        &self,
        env: &'env Env,
        name: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ImageInfo>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            Ok(client.get_image(&name, &cancel).await?.into())
        })
    }

    #[napi]
    pub fn list_images<'env>(
        &self,
        env: &'env Env,
        filters: Option<Vec<String>>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, Vec<ImageInfo>>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            let list = client
                .list_images(filters.unwrap_or_default(), &cancel)
                .await?;
            Ok(list.into_iter().map(ImageInfo::from).collect())
        })
    }

    #[napi]
    pub fn delete_image<'env>(
        &self,
        env: &'env Env,
        name: String,
        sync: Option<bool>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            client
                .delete_image(&name, sync.unwrap_or(false), &cancel)
                .await
        })
    }
}
