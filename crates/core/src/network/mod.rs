//! Container networks through the standard CNI plugins, the way containerd's CRI does it: a
//! pinned network namespace per container, CNI ADD when the container is created and DEL when it
//! is deleted, so its IP and published ports live as long as the container. Networks are a
//! bridge + host-local IPAM + portmap + firewall chain (plus loopback for `lo`), isolated from each
//! other by a chain of our own. Needs root and a daemon on this host.

mod cni;
mod files;
mod firewall;
mod ipv4;
mod netns;
pub mod ports;
mod store;

use crate::address::Address;
use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::{Code, Error, Result};
use crate::identifiers;
pub use ports::{PortMapping, PortSpec};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
pub use store::NetworkDef as NetworkInfo;
use store::{Attachment, NetworkDef, Owner, Phase, Store};

/// The network every container asking for 'bridge' joins; made on first use.
pub const DEFAULT_NETWORK: &str = "bridge";
/// The container label that says which network a container was attached to.
pub const NETWORK_LABEL: &str = "containerd-napi/network";

#[derive(Debug, Clone, Default)]
pub struct NetworkOptions {
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_masq: Option<bool>,
    pub labels: HashMap<String, String>,
}

/// ContainerOptions.network / ports / dns / extraHosts as the caller gave them.
#[derive(Debug, Clone, Default)]
pub struct NetworkRequest {
    pub network: Option<String>,
    pub ports: Vec<PortSpec>,
    pub dns: Option<Vec<String>>,
    pub extra_hosts: HashMap<String, String>,
}

/// A checked request.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Loopback only (the default).
    None,
    /// The host's network namespace.
    Host,
    Bridge(Attach),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attach {
    pub network: String,
    pub ports: Vec<PortMapping>,
    pub dns: Option<Vec<Ipv4Addr>>,
    pub extra_hosts: Vec<(String, Ipv4Addr)>,
}

impl NetworkRequest {
    /// Every value check, before anything is made; `host_network` is the older boolean option.
    pub fn check(&self, host_network: bool) -> Result<Mode> {
        let name = self.network.as_deref();
        if host_network && name.is_some_and(|n| n != "host") {
            return Err(Error::invalid_argument("network cannot be combined with hostNetwork: true"));
        }
        let bridge = !matches!(name, None | Some("none") | Some("host")) && !host_network;
        if !bridge {
            let what = if host_network || name == Some("host") { "network 'host'" } else { "network 'none'" };
            if !self.ports.is_empty() {
                return Err(Error::invalid_argument(format!(
                    "ports need a network name ({what} has no ports to publish)"
                )));
            }
            if self.dns.is_some() || !self.extra_hosts.is_empty() {
                return Err(Error::invalid_argument(format!("dns and extraHosts need a network name, not {what}")));
            }
            return Ok(if host_network || name == Some("host") { Mode::Host } else { Mode::None });
        }
        let network = name.unwrap_or_default().to_string();
        check_network_name(&network)?;
        let ports = self.ports.iter().map(PortSpec::parse).collect::<Result<Vec<_>>>()?;
        for (i, a) in ports.iter().enumerate() {
            if ports[..i].iter().any(|b| ports::collide(a, b)) {
                return Err(Error::invalid_argument(format!(
                    "host port {}/{} is published twice",
                    a.host_port,
                    a.protocol.as_str()
                )));
            }
        }
        let dns = self
            .dns
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|s| {
                        s.parse().map_err(|_| {
                            Error::invalid_argument(format!("invalid dns server {s:?}: an IPv4 address is needed"))
                        })
                    })
                    .collect::<Result<Vec<Ipv4Addr>>>()
            })
            .transpose()?;
        let mut extra_hosts = Vec::new();
        for (host, ip) in &self.extra_hosts {
            files::check_host_name(host)?;
            let ip = ip.parse().map_err(|_| {
                Error::invalid_argument(format!(
                    "invalid extraHosts address {ip:?} for {host:?}: an IPv4 address is needed"
                ))
            })?;
            extra_hosts.push((host.clone(), ip));
        }
        extra_hosts.sort();
        Ok(Mode::Bridge(Attach { network, ports, dns, extra_hosts }))
    }
}

fn check_network_name(name: &str) -> Result<()> {
    identifiers::validate("network name", name)?;
    if name == "none" || name == "host" {
        return Err(Error::invalid_argument(format!("{name:?} is a reserved network name")));
    }
    Ok(())
}

/// The files a networked container's spec refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkFiles {
    pub netns: PathBuf,
    pub hosts: PathBuf,
    pub resolv_conf: PathBuf,
}

impl NetworkFiles {
    fn in_dir(dir: &Path) -> NetworkFiles {
        NetworkFiles { netns: dir.join("netns"), hosts: dir.join("hosts"), resolv_conf: dir.join("resolv.conf") }
    }
}

/// What `Container.network()` reports.
#[derive(Debug, Clone)]
pub struct ContainerNetwork {
    pub name: String,
    pub ip: Ipv4Addr,
    pub gateway: String,
    pub ports: Vec<PortMapping>,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::new(Code::Internal, format!("network task: {e}")))?
}

/// Runs `f` off the async threads with the store open and its cross-process lock held.
async fn locked<T: Send + 'static>(f: impl FnOnce(&Store) -> Result<T> + Send + 'static) -> Result<T> {
    blocking(move || {
        let store = Store::open()?;
        let _lock = store.lock()?;
        f(&store)
    })
    .await
}

impl Client {
    /// The daemon's socket path: bridge networking runs the plugins on this host, next to it.
    fn local_socket(&self) -> Result<String> {
        match Address::parse(self.address())? {
            Address::Unix(path) => Ok(std::fs::canonicalize(&path).unwrap_or(path).display().to_string()),
            Address::Tcp { .. } => Err(Error::new(
                Code::FailedPrecondition,
                format!(
                    "bridge networking needs containerd on this host (a unix socket address), not {}: the network \
                     namespace and the CNI plugins run here; use network 'none' or 'host' with a remote daemon",
                    self.address()
                ),
            )),
        }
    }

    pub async fn create_network(&self, name: &str, options: NetworkOptions) -> Result<NetworkInfo> {
        check_network_name(name)?;
        self.local_socket()?;
        let name = name.to_string();
        locked(move |store| {
            if store.load_network(&name)?.is_some() {
                return Err(Error::new(Code::AlreadyExists, format!("network {name:?} already exists")));
            }
            new_network(store, &name, &options)
        })
        .await
    }

    pub async fn list_networks(&self) -> Result<Vec<NetworkInfo>> {
        self.local_socket()?;
        locked(move |store| {
            default_network(store)?;
            store.networks()
        })
        .await
    }

    pub async fn get_network(&self, name: &str) -> Result<NetworkInfo> {
        check_network_name(name)?;
        self.local_socket()?;
        let name = name.to_string();
        locked(move |store| find_network(store, &name)).await
    }

    /// Removes the network, its bridge and its isolation rules; FailedPrecondition while a
    /// container is attached (after what crashed processes left is cleaned up).
    pub async fn delete_network(&self, name: &str, cancel: &Cancel) -> Result<()> {
        check_network_name(name)?;
        self.local_socket()?;
        self.cleanup_networks(cancel).await?;
        let name = name.to_string();
        locked(move |store| {
            let Some(def) = store.load_network(&name)? else {
                return Err(Error::new(Code::NotFound, format!("network {name:?} not found")));
            };
            let (attached, _) = store.attachments()?;
            let users: Vec<String> = attached
                .iter()
                .filter(|a| a.network == name)
                .map(|a| format!("{}/{}", a.namespace, a.container))
                .collect();
            if !users.is_empty() {
                return Err(Error::new(
                    Code::FailedPrecondition,
                    format!("network {name:?} is in use by container(s) {}", users.join(", ")),
                ));
            }
            firewall::unisolate(&store.isolation_chain(), &def.bridge)?;
            firewall::delete_bridge(&def.bridge)?;
            let leases = store.ipam_dir().join(&def.bridge);
            if leases.exists() {
                std::fs::remove_dir_all(&leases)
                    .map_err(|e| Error::new(Code::Internal, format!("removing {}: {e}", leases.display())))?;
            }
            store.remove_network(&name)
        })
        .await
    }

    /// The store's key of container `id` in this namespace of this daemon.
    fn attachment_key(&self, id: &str) -> Result<String> {
        Ok(Store::key(&self.local_socket()?, self.namespace(), id))
    }

    /// Where the files of container `id`'s network live (computed, nothing is made).
    pub fn network_files(&self, id: &str) -> Result<NetworkFiles> {
        Ok(NetworkFiles::in_dir(&Store::open()?.container_dir(&self.attachment_key(id)?)))
    }

    /// Sets up container `id`'s network: namespace, CNI ADD, hosts files. On any failure what
    /// was made is removed again. `confirm_network` marks it as owned by the container record.
    pub(crate) async fn attach_network(&self, id: &str, hostname: Option<String>, request: &Attach) -> Result<()> {
        let address = self.local_socket()?;
        let key = Store::key(&address, self.namespace(), id);
        let (namespace, id, request) = (self.namespace().to_string(), id.to_string(), request.clone());
        locked(move |store| {
            let files = NetworkFiles::in_dir(&store.container_dir(&key));
            sweep_abandoned(store);
            let def = find_network(store, &request.network)?;
            let (attached, _) = store.attachments()?;
            if let Some(stale) = attached.iter().find(|a| a.key == key) {
                // The caller checked that the container does not exist: this record is left over.
                let _ = detach(store, stale);
            }
            for m in &request.ports {
                if let Some(other) =
                    attached.iter().find(|a| a.key != key && a.ports.iter().any(|p| ports::collide(p, m)))
                {
                    return Err(Error::new(
                        Code::AlreadyExists,
                        format!(
                            "host port {}/{} is already published by container {}/{}",
                            m.host_port,
                            m.protocol.as_str(),
                            other.namespace,
                            other.container
                        ),
                    ));
                }
                ports::check_host_free(m)?;
            }
            let mut record = Attachment {
                key: key.clone(),
                address,
                namespace,
                container: id.clone(),
                network: def.name.clone(),
                phase: Phase::Creating,
                owner: Owner::me(),
                ports: request.ports.clone(),
                extra_hosts: request.extra_hosts.clone(),
                hostname,
                ip: None,
                result: None,
                def,
            };
            store.save_attachment(&record)?;
            let made = setup(store, &mut record, &files, request.dns.as_deref());
            if let Err(e) = made {
                let _ = detach(store, &record);
                return Err(e);
            }
            Ok(())
        })
        .await
    }

    /// The container record now exists: the network is the container's, no longer its creator's.
    pub(crate) async fn confirm_network(&self, id: &str) -> Result<()> {
        let key = self.attachment_key(id)?;
        locked(move |store| {
            if let Some(mut record) = store.load_attachment(&key)? {
                record.phase = Phase::Attached;
                store.save_attachment(&record)?;
            }
            Ok(())
        })
        .await
    }

    /// Tears down container `id`'s network (CNI DEL, namespace, files); nothing to do is fine.
    pub(crate) async fn detach_network(&self, id: &str) -> Result<()> {
        let key = self.attachment_key(id)?;
        locked(move |store| match store.load_attachment(&key)? {
            Some(record) => detach(store, &record),
            None => Ok(()),
        })
        .await
    }

    /// Container `id`'s network, or None (no network name, or not on this host).
    pub async fn container_network(
        &self,
        id: &str,
        labels: &HashMap<String, String>,
    ) -> Result<Option<ContainerNetwork>> {
        if !labels.contains_key(NETWORK_LABEL) {
            return Ok(None);
        }
        let key = self.attachment_key(id)?;
        blocking(move || {
            let record = Store::open()?.load_attachment(&key)?;
            Ok(record.and_then(|r| {
                Some(ContainerNetwork { name: r.network, ip: r.ip?, gateway: r.def.gateway, ports: r.ports })
            }))
        })
        .await
    }

    /// Removes what belongs to no container: records (with their namespaces, CNI state, iptables
    /// rules and hosts files) whose container is gone and whose creator is not at work on them,
    /// and IP leases of no record. Returns how many things were removed.
    pub async fn cleanup_networks(&self, cancel: &Cancel) -> Result<u32> {
        let me = self.local_socket()?;
        let (records, broken) = blocking(|| Store::open()?.attachments()).await?;
        let mut orphans = Vec::new();
        for r in records {
            let busy = r.phase != Phase::Attached && r.owner.alive();
            if busy {
                continue;
            }
            let gone = if r.address == me {
                match self.with_namespace(&r.namespace)?.get_container(&r.container, cancel).await {
                    Ok(_) => false,
                    Err(e) if e.code == Code::NotFound => true,
                    Err(e) => return Err(e),
                }
            } else {
                // Another daemon's: gone with its socket.
                !Path::new(&r.address).exists()
            };
            if gone {
                orphans.push(r.key);
            }
        }
        locked(move |store| {
            let mut removed = 0;
            for key in orphans {
                // Re-read under the lock: it may have changed since.
                if let Some(r) = store.load_attachment(&key)? {
                    if r.phase == Phase::Attached || !r.owner.alive() {
                        let _ = detach(store, &r);
                        removed += 1;
                    }
                }
            }
            for key in broken {
                let dir = store.container_dir(&key);
                if !dir.join("state.json").exists() {
                    let _ = netns::remove(&NetworkFiles::in_dir(&dir).netns);
                    let _ = std::fs::remove_dir_all(&dir);
                    removed += 1;
                }
            }
            removed += remove_stray_leases(store)?;
            Ok(removed)
        })
        .await
    }
}

fn find_network(store: &Store, name: &str) -> Result<NetworkDef> {
    if name == DEFAULT_NETWORK {
        return default_network(store);
    }
    store.load_network(name)?.ok_or_else(|| Error::new(Code::NotFound, format!("network {name:?} not found")))
}

fn default_network(store: &Store) -> Result<NetworkDef> {
    match store.load_network(DEFAULT_NETWORK)? {
        Some(def) => Ok(def),
        None => new_network(store, DEFAULT_NETWORK, &NetworkOptions::default()),
    }
}

/// Checks the subnet against our other networks and the host's routes, then saves the definition.
fn new_network(store: &Store, name: &str, options: &NetworkOptions) -> Result<NetworkDef> {
    let ours = store.networks()?;
    let bridges: Vec<&str> = ours.iter().map(|n| n.bridge.as_str()).collect();
    let mut taken: Vec<(String, ipv4::Subnet)> = Vec::new();
    for n in &ours {
        taken.push((format!("network {:?}", n.name), ipv4::Subnet::parse(&n.subnet)?));
    }
    for (iface, subnet) in ipv4::host_routes() {
        if !bridges.contains(&iface.as_str()) {
            taken.push((format!("the host's route on {iface}"), subnet));
        }
    }
    let subnet = match &options.subnet {
        Some(text) => {
            let subnet = ipv4::Subnet::parse(text)?;
            if let Some((who, other)) = taken.iter().find(|(_, t)| t.overlaps(subnet)) {
                return Err(Error::invalid_argument(format!("subnet {subnet} overlaps {other} of {who}")));
            }
            subnet
        }
        None => ipv4::free_subnet(&taken.iter().map(|(_, s)| *s).collect::<Vec<_>>())?,
    };
    let gateway = match &options.gateway {
        Some(text) => subnet.check_gateway(text)?,
        None => subnet.first_host(),
    };
    let def = NetworkDef {
        name: name.to_string(),
        subnet: subnet.to_string(),
        gateway: gateway.to_string(),
        bridge: store.bridge_name(name),
        ip_masq: options.ip_masq.unwrap_or(true),
        labels: options.labels.clone(),
    };
    store.save_network(&def)?;
    Ok(def)
}

/// The chain a network's containers are added with (after loopback for `lo`).
fn plugins(store: &Store, def: &NetworkDef) -> Vec<Value> {
    vec![
        json!({
            "type": "bridge", "bridge": def.bridge, "isGateway": true, "ipMasq": def.ip_masq, "hairpinMode": true,
            "ipam": {
                "type": "host-local",
                "ranges": [[{ "subnet": def.subnet, "gateway": def.gateway }]],
                "routes": [{ "dst": "0.0.0.0/0" }],
                "dataDir": store.ipam_dir(),
            },
        }),
        json!({ "type": "portmap", "capabilities": { "portMappings": true } }),
        json!({ "type": "firewall", "backend": "iptables", "iptablesAdminChainName": store.isolation_chain() }),
    ]
}

fn runtime_config(ports: &[PortMapping]) -> Value {
    let mappings: Vec<Value> = ports
        .iter()
        .map(|p| {
            json!({ "hostPort": p.host_port, "containerPort": p.container_port, "protocol": p.protocol.as_str(),
                    "hostIP": p.host_ip.to_string() })
        })
        .collect();
    json!({ "portMappings": mappings })
}

/// Test-only fault injection: `CONTAINERD_NAPI_NETWORK_FAULT=after-loopback` kills the process
/// between CNI steps, so crash cleanup can be tested for real.
fn fault_point(step: &str) {
    static FAULT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let fault = FAULT.get_or_init(|| std::env::var("CONTAINERD_NAPI_NETWORK_FAULT").ok());
    if fault.as_deref() == Some(step) {
        // SAFETY: raising SIGKILL on ourselves; nothing to uphold.
        unsafe { libc::raise(libc::SIGKILL) };
    }
}

fn setup(store: &Store, record: &mut Attachment, files: &NetworkFiles, dns: Option<&[Ipv4Addr]>) -> Result<()> {
    let dirs = cni::plugin_dirs();
    for name in ["loopback", "bridge", "host-local", "portmap", "firewall"] {
        cni::find_plugin(&dirs, name)?;
    }
    std::fs::create_dir_all(store.container_dir(&record.key)).map_err(|e| Error::new(Code::Internal, e.to_string()))?;
    netns::create(&files.netns)?;
    let lo = cni::Invocation { command: "ADD", container_id: &record.key, netns: &files.netns, ifname: "lo" };
    cni::exec(&dirs, &lo, &json!({ "cniVersion": cni::CNI_VERSION, "name": "cnapi-loopback", "type": "loopback" }))?;
    fault_point("after-loopback");
    firewall::isolate(&store.isolation_chain(), &record.def.bridge)?;
    let eth = cni::Invocation { command: "ADD", container_id: &record.key, netns: &files.netns, ifname: "eth0" };
    let result =
        cni::add_chain(&dirs, &eth, &record.def.bridge, &plugins(store, &record.def), &runtime_config(&record.ports))?;
    record.ip = result["ips"][0]["address"].as_str().and_then(|a| a.split('/').next()).and_then(|ip| ip.parse().ok());
    record.result = Some(result);
    store.save_attachment(record)?;
    fault_point("after-add");
    if record.ip.is_none() {
        return Err(Error::new(Code::Internal, "CNI ADD returned no IPv4 address"));
    }
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    files::write_in_place(&files.resolv_conf, &files::resolv_conf(dns, &host_resolv))?;
    files::write_in_place(&files.hosts, "")?;
    refresh_hosts(store, &record.network)
}

/// CNI DEL, the namespace and the files of one record; every step is tried, the first error returned.
fn detach(store: &Store, record: &Attachment) -> Result<()> {
    let mut record = record.clone();
    record.phase = Phase::Removing;
    record.owner = Owner::me();
    let _ = store.save_attachment(&record);
    let dir = store.container_dir(&record.key);
    let netns_path = NetworkFiles::in_dir(&dir).netns;
    let dirs = cni::plugin_dirs();
    let call = cni::Invocation { command: "DEL", container_id: &record.key, netns: &netns_path, ifname: "eth0" };
    let prev = record.result.clone().or_else(|| lease_result(store, &record));
    let mut outcome = cni::del_chain(
        &dirs,
        &call,
        &record.def.bridge,
        &plugins(store, &record.def),
        prev.as_ref(),
        &runtime_config(&record.ports),
    );
    let removed = netns::remove(&netns_path).and_then(|()| {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| Error::new(Code::Internal, format!("removing {}: {e}", dir.display())))
    });
    outcome = outcome.and(removed);
    let _ = refresh_hosts(store, &record.network);
    outcome
}

/// A minimal prevResult from host-local's lease, for a record killed before its ADD result was
/// saved (the firewall plugin needs the IP to find its rules).
fn lease_result(store: &Store, record: &Attachment) -> Option<Value> {
    let dir = store.ipam_dir().join(&record.def.bridge);
    let prefix = record.def.subnet.split('/').nth(1)?;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.parse::<Ipv4Addr>().is_ok()
            && std::fs::read_to_string(entry.path()).is_ok_and(|c| c.lines().next().map(str::trim) == Some(&record.key))
        {
            return Some(json!({ "cniVersion": cni::CNI_VERSION, "ips": [{ "address": format!("{name}/{prefix}") }] }));
        }
    }
    None
}

/// Rewrites the hosts file of every container on `network`, listing its current peers.
fn refresh_hosts(store: &Store, network: &str) -> Result<()> {
    let (records, _) = store.attachments()?;
    let members: Vec<&Attachment> =
        records.iter().filter(|r| r.network == network && r.phase != Phase::Removing && r.ip.is_some()).collect();
    for r in &members {
        let Some(ip) = r.ip else { continue };
        let peers: Vec<(Ipv4Addr, String)> =
            members.iter().filter(|p| p.key != r.key).filter_map(|p| Some((p.ip?, p.container.clone()))).collect();
        // A hostname that is not a plain name (the spec allows any text) stays out of the file.
        let mut names: Vec<&str> =
            r.hostname.iter().map(String::as_str).filter(|h| files::check_host_name(h).is_ok()).collect();
        names.push(&r.container);
        let path = NetworkFiles::in_dir(&store.container_dir(&r.key)).hosts;
        if path.exists() {
            files::write_in_place(&path, &files::hosts((ip, &names), &peers, &r.extra_hosts))?;
        }
    }
    Ok(())
}

/// Records of creators that died mid-create are torn down before new work (no RPC needed).
fn sweep_abandoned(store: &Store) {
    if let Ok((records, _)) = store.attachments() {
        for r in records.iter().filter(|r| r.phase != Phase::Attached && !r.owner.alive()) {
            let _ = detach(store, r);
        }
    }
}

/// host-local lease files (ipam/<bridge>/<ip>, first line the container key) of no record.
fn remove_stray_leases(store: &Store) -> Result<u32> {
    let (records, _) = store.attachments()?;
    let mut removed = 0;
    let Ok(networks) = std::fs::read_dir(store.ipam_dir()) else { return Ok(0) };
    for dir in networks.flatten() {
        let Ok(leases) = std::fs::read_dir(dir.path()) else { continue };
        for lease in leases.flatten() {
            if lease.file_name().to_string_lossy().parse::<Ipv4Addr>().is_err() {
                continue;
            }
            let owner = std::fs::read_to_string(lease.path()).unwrap_or_default();
            let owner = owner.lines().next().unwrap_or_default().trim().to_string();
            if !records.iter().any(|r| r.key == owner) && std::fs::remove_file(lease.path()).is_ok() {
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(network: Option<&str>) -> NetworkRequest {
        NetworkRequest { network: network.map(Into::into), ..Default::default() }
    }

    #[test]
    fn modes() {
        assert_eq!(req(None).check(false).unwrap(), Mode::None);
        assert_eq!(req(Some("none")).check(false).unwrap(), Mode::None);
        assert_eq!(req(Some("host")).check(false).unwrap(), Mode::Host);
        assert_eq!(req(None).check(true).unwrap(), Mode::Host);
        assert!(matches!(req(Some("bridge")).check(false).unwrap(), Mode::Bridge(_)));
        assert!(req(Some("bridge")).check(true).is_err());
        assert!(req(Some("bad name!")).check(false).is_err());
    }

    #[test]
    fn options_that_need_a_network_name() {
        let mut r = req(Some("none"));
        r.ports = vec![PortSpec::Text("8080:80".into())];
        assert_eq!(r.check(false).unwrap_err().code, Code::InvalidArgument);
        let mut r = req(None);
        r.dns = Some(vec!["10.0.0.1".into()]);
        assert!(r.check(false).is_err());
        let mut r = req(Some("host"));
        r.extra_hosts.insert("db".into(), "10.0.0.2".into());
        assert!(r.check(false).is_err());
    }

    #[test]
    fn bridge_values_are_checked() {
        let mut r = req(Some("bridge"));
        r.ports = vec![PortSpec::Text("8080:80".into()), PortSpec::Text("127.0.0.1:8080:81".into())];
        assert!(r.check(false).unwrap_err().message.contains("twice"));
        let mut r = req(Some("bridge"));
        r.dns = Some(vec!["::1".into()]);
        assert!(r.check(false).is_err());
        let mut r = req(Some("bridge"));
        r.extra_hosts.insert("db".into(), "nope".into());
        assert!(r.check(false).is_err());
    }

    #[test]
    fn runtime_config_uses_cni_field_names() {
        let m = PortSpec::Text("127.0.0.1:8080:80/udp".into()).parse().unwrap();
        assert_eq!(
            runtime_config(&[m]),
            json!({"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "udp", "hostIP": "127.0.0.1"}]})
        );
    }
}
