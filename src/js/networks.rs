//! Networks on `NativeClient`, and the network fields of container options.

use super::cancel::{from_handle, CancelHandle};
use super::client::{spawn, NativeClient};
use super::settle::to_json;
use crate::core;
use crate::core::network::{ContainerNetwork, NetworkOptions, NetworkRequest, PortMapping, PortSpec};
use napi::bindgen_prelude::{Either, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;
use std::collections::HashMap;

#[napi(object)]
pub struct NativePortMapping {
    pub host_port: f64,
    pub container_port: f64,
    pub protocol: Option<String>,
    pub host_ip: Option<String>,
}

#[napi(object)]
pub struct NativeNetworkOptions {
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_masq: Option<bool>,
    pub labels: Option<HashMap<String, String>>,
}

#[napi(object)]
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkInfo {
    pub name: String,
    pub subnet: String,
    pub gateway: String,
    pub bridge: String,
    pub ip_masq: bool,
    pub labels: HashMap<String, String>,
}

impl From<core::network::NetworkInfo> for NetworkInfo {
    fn from(n: core::network::NetworkInfo) -> NetworkInfo {
        NetworkInfo {
            name: n.name,
            subnet: n.subnet,
            gateway: n.gateway,
            bridge: n.bridge,
            ip_masq: n.ip_masq,
            labels: n.labels,
        }
    }
}

#[napi(object)]
pub struct PortMappingInfo {
    pub host_port: u32,
    pub container_port: u32,
    pub protocol: String,
    pub host_ip: String,
}

impl From<PortMapping> for PortMappingInfo {
    fn from(p: PortMapping) -> PortMappingInfo {
        PortMappingInfo {
            host_port: p.host_port.into(),
            container_port: p.container_port.into(),
            protocol: p.protocol.as_str().to_string(),
            host_ip: p.host_ip.to_string(),
        }
    }
}

#[napi(object)]
pub struct ContainerNetworkInfo {
    pub name: String,
    pub ip: String,
    pub gateway: String,
    pub ports: Vec<PortMappingInfo>,
}

impl From<ContainerNetwork> for ContainerNetworkInfo {
    fn from(n: ContainerNetwork) -> ContainerNetworkInfo {
        ContainerNetworkInfo {
            name: n.name,
            ip: n.ip.to_string(),
            gateway: n.gateway,
            ports: n.ports.into_iter().map(Into::into).collect(),
        }
    }
}

pub(super) fn network_request(
    network: Option<String>,
    ports: Option<Vec<Either<String, NativePortMapping>>>,
    dns: Option<Vec<String>>,
    extra_hosts: Option<HashMap<String, String>>,
) -> NetworkRequest {
    let ports = ports
        .unwrap_or_default()
        .into_iter()
        .map(|p| match p {
            Either::A(text) => PortSpec::Text(text),
            Either::B(m) => PortSpec::Fields {
                host_port: m.host_port,
                container_port: m.container_port,
                protocol: m.protocol,
                host_ip: m.host_ip,
            },
        })
        .collect();
    NetworkRequest { network, ports, dns, extra_hosts: extra_hosts.unwrap_or_default() }
}

#[napi]
impl NativeClient {
    #[napi]
    pub fn create_network<'env>(
        &self,
        env: &'env Env,
        name: String,
        options: Option<NativeNetworkOptions>,
    ) -> Result<PromiseRaw<'env, NetworkInfo>> {
        let client = self.inner.clone();
        let o = options.unwrap_or(NativeNetworkOptions { subnet: None, gateway: None, ip_masq: None, labels: None });
        let options = NetworkOptions {
            subnet: o.subnet,
            gateway: o.gateway,
            ip_masq: o.ip_masq,
            labels: o.labels.unwrap_or_default(),
        };
        spawn(env, async move { Ok(client.create_network(&name, options).await?.into()) })
    }

    /// A JSON array of `NetworkInfo` (see `list_images`).
    #[napi(ts_return_type = "Promise<string /* NetworkInfo[] as JSON */>")]
    pub fn list_networks<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, String>> {
        let client = self.inner.clone();
        spawn(env, async move {
            to_json(&client.list_networks().await?.into_iter().map(NetworkInfo::from).collect::<Vec<_>>())
        })
    }

    #[napi]
    pub fn get_network<'env>(&self, env: &'env Env, name: String) -> Result<PromiseRaw<'env, NetworkInfo>> {
        let client = self.inner.clone();
        spawn(env, async move { Ok(client.get_network(&name).await?.into()) })
    }

    #[napi]
    pub fn delete_network<'env>(
        &self,
        env: &'env Env,
        name: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { client.delete_network(&name, &cancel).await })
    }

    #[napi]
    pub fn cleanup_networks<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, u32>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move { client.cleanup_networks(&cancel).await })
    }

    /// The container's network, or null for none/host.
    #[napi]
    pub fn container_network<'env>(
        &self,
        env: &'env Env,
        id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, Option<ContainerNetworkInfo>>> {
        let (client, cancel) = (self.inner.clone(), from_handle(cancel));
        spawn(env, async move {
            let container = client.get_container(&id, &cancel).await?;
            Ok(client.container_network(&id, &container.labels).await?.map(Into::into))
        })
    }
}
