//! Where network state lives on the host: one root directory (default
//! /var/lib/containerd-napi/network, or $CONTAINERD_NAPI_NETWORK_ROOT), holding
//!   lock                      serialises CNI work across processes (flock)
//!   networks/<name>.json      network definitions (so every client and process sees them)
//!   ipam/                     host-local's IP leases
//!   containers/<key>/         per container: state.json, netns (the pinned namespace), hosts,
//!                             resolv.conf
//! The state record is written before each step, so what a killed process leaves is found again.

use super::ports::PortMapping;
use crate::error::{Code, Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

pub const DEFAULT_ROOT: &str = "/var/lib/containerd-napi/network";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkDef {
    pub name: String,
    pub subnet: String,
    pub gateway: String,
    pub bridge: String,
    pub ip_masq: bool,
    pub labels: HashMap<String, String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Being set up by `owner`; may have a namespace and CNI state.
    Creating,
    /// Set up; the container record exists (or is about to).
    Attached,
    /// Being torn down.
    Removing,
}

/// The process that wrote a record: pid plus its start time (so a reused pid is not mistaken).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub start: u64,
}

impl Owner {
    pub fn me() -> Owner {
        let pid = std::process::id();
        Owner { pid, start: start_time(pid).unwrap_or(0) }
    }

    pub fn alive(&self) -> bool {
        start_time(self.pid).is_some_and(|s| s == self.start)
    }
}

/// Field 22 of /proc/PID/stat (after the parenthesised command, which may hold spaces).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(19)?.parse().ok()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub key: String,
    pub address: String,
    pub namespace: String,
    pub container: String,
    pub network: String,
    pub phase: Phase,
    pub owner: Owner,
    pub ports: Vec<PortMapping>,
    #[serde(default)]
    pub extra_hosts: Vec<(String, std::net::Ipv4Addr)>,
    #[serde(default)]
    pub hostname: Option<String>,
    /// The container's IPv4 address, once CNI ADD succeeded.
    #[serde(default)]
    pub ip: Option<std::net::Ipv4Addr>,
    /// The chain's ADD result, for DEL's prevResult.
    #[serde(default)]
    pub result: Option<serde_json::Value>,
    /// The network definition as it was when attached (DEL needs the same plugin configs).
    pub def: NetworkDef,
}

pub struct Store {
    pub root: PathBuf,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new(Code::Internal, format!("{what} {}: {e}", path.display()))
}

fn short_hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..5])
}

impl Store {
    /// The root from the environment (read once per process), made 0700 and checked to be a
    /// root-owned directory that nobody else can write (it holds what the shims bind-mount).
    pub fn open() -> Result<Store> {
        static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
        let root = ROOT.get_or_init(|| {
            std::env::var_os("CONTAINERD_NAPI_NETWORK_ROOT")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT))
        });
        let store = Store { root: root.clone() };
        for dir in
            [store.root.clone(), store.root.join("networks"), store.root.join("containers"), store.root.join("ipam")]
        {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(|e| io("creating", &dir, e))?;
        }
        let meta = std::fs::symlink_metadata(&store.root).map_err(|e| io("checking", &store.root, e))?;
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        if !meta.is_dir() || meta.uid() != euid || meta.mode() & 0o022 != 0 {
            return Err(Error::new(
                Code::FailedPrecondition,
                format!(
                    "network state directory {} must be a directory owned by uid {euid} and writable only by it",
                    store.root.display()
                ),
            ));
        }
        Ok(store)
    }

    /// Takes the cross-process lock; it is released when the guard drops.
    pub fn lock(&self) -> Result<Lock> {
        let path = self.root.join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| io("opening", &path, e))?;
        // SAFETY: flock on a file descriptor we own.
        while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(io("locking", &path, err));
            }
        }
        Ok(Lock { _file: file })
    }

    /// Bridge names are derived from the root and the network name (at most 15 characters).
    pub fn bridge_name(&self, network: &str) -> String {
        format!("{}{}", super::firewall::BRIDGE_PREFIX, short_hash(&format!("{}\0{network}", self.root.display())))
    }

    /// The isolation chain of this root's networks.
    pub fn isolation_chain(&self) -> String {
        format!("CNAPI-ISO-{}", short_hash(&self.root.display().to_string()))
    }

    pub fn ipam_dir(&self) -> PathBuf {
        self.root.join("ipam")
    }

    fn network_path(&self, name: &str) -> PathBuf {
        self.root.join("networks").join(format!("{name}.json"))
    }

    pub fn load_network(&self, name: &str) -> Result<Option<NetworkDef>> {
        read_json(&self.network_path(name))
    }

    pub fn save_network(&self, def: &NetworkDef) -> Result<()> {
        write_json(&self.network_path(&def.name), def)
    }

    pub fn remove_network(&self, name: &str) -> Result<()> {
        let path = self.network_path(name);
        std::fs::remove_file(&path).or_else(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Ok(())
            } else {
                Err(io("removing", &path, e))
            }
        })
    }

    pub fn networks(&self) -> Result<Vec<NetworkDef>> {
        let mut out: Vec<NetworkDef> = Vec::new();
        for path in list(&self.root.join("networks"))? {
            if path.extension().is_some_and(|e| e == "json") {
                if let Some(def) = read_json(&path)? {
                    out.push(def);
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// One directory per (daemon, namespace, container).
    pub fn key(address: &str, namespace: &str, container: &str) -> String {
        format!("{}-{namespace}-{container}", short_hash(address))
    }

    pub fn container_dir(&self, key: &str) -> PathBuf {
        self.root.join("containers").join(key)
    }

    pub fn load_attachment(&self, key: &str) -> Result<Option<Attachment>> {
        read_json(&self.container_dir(key).join("state.json"))
    }

    pub fn save_attachment(&self, a: &Attachment) -> Result<()> {
        write_json(&self.container_dir(&a.key).join("state.json"), a)
    }

    /// Every record, and the keys of directories without a readable one.
    pub fn attachments(&self) -> Result<(Vec<Attachment>, Vec<String>)> {
        let (mut found, mut broken) = (Vec::new(), Vec::new());
        for dir in list(&self.root.join("containers"))? {
            let key = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            match read_json::<Attachment>(&dir.join("state.json")) {
                Ok(Some(a)) => found.push(a),
                _ => broken.push(key),
            }
        }
        Ok((found, broken))
    }
}

pub struct Lock {
    _file: std::fs::File,
}

fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries.filter_map(|e| e.ok().map(|e| e.path())).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io("listing", dir, e)),
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::new(Code::Internal, format!("reading {}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("reading", path, e)),
    }
}

/// Writes through a temporary file and a rename, so a crash leaves the old or the new record.
fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| io("creating", dir, e))?;
    }
    let tmp = path.with_extension("tmp");
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::new(Code::Internal, e.to_string()))?;
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(|e| io("writing", &tmp, e))?;
        f.write_all(&bytes).map_err(|e| io("writing", &tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io("renaming", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_of_this_process_is_alive() {
        let me = Owner::me();
        assert!(me.start > 0 && me.alive());
        assert!(!Owner { pid: me.pid, start: me.start + 1 }.alive());
    }

    #[test]
    fn bridge_names_fit_the_kernel_limit() {
        let store = Store { root: PathBuf::from("/tmp/x") };
        let name = store.bridge_name("a-very-long-network-name-indeed");
        assert!(name.len() <= 15 && name.starts_with("cnapi"), "{name}");
        assert_ne!(name, Store { root: PathBuf::from("/tmp/y") }.bridge_name("a-very-long-network-name-indeed"));
        assert!(store.isolation_chain().len() <= 28);
    }
}
