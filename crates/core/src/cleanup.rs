//! Crash cleanup: run() labels its container, and every lease this crate makes is labelled, with
//! its owner (machine id / boot id / pid / process start time). `cleanup()` removes, in the
//! client's namespace, what owners on this machine that are gone left behind: run() containers
//! (with their tasks and snapshots) and leases (with `sync`, so a killed pull's content goes now);
//! then the networks' own cleanup when the daemon is on this host. Containers without the label
//! (createContainer, ctr) and those of live owners or other machines are never touched.

use super::address::Address;
use super::cancel::Cancel;
use super::client::{Client, MAX_MESSAGE_BYTES};
use super::error::{Code, Result};
use containerd_client::services::v1::{leases_client::LeasesClient, ListRequest};
use std::sync::OnceLock;
use std::time::Duration;

/// The label naming a container's or lease's owner process.
pub const OWNER_LABEL: &str = "containerd-napi/owner";

const SIGKILL: u32 = 9;
/// How long a dead owner's task may take to exit after SIGKILL.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// A process on a machine in one boot: `machine/boot/pid/start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub machine: String,
    pub boot: String,
    pub pid: u32,
    /// Field 22 of /proc/PID/stat: the start time in clock ticks since boot.
    pub start: u64,
}

/// What became of an owner, seen from this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    /// On this machine, and gone (this boot or an earlier one).
    Dead,
    /// Another machine's: not ours to judge.
    Elsewhere,
}

fn read_id(paths: &[&str]) -> String {
    paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().replace('/', "_"))
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Field 22 of /proc/PID/stat (after the parenthesised command, which may hold spaces).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(19)?.parse().ok()
}

impl Owner {
    /// This process.
    pub fn me() -> &'static Owner {
        static ME: OnceLock<Owner> = OnceLock::new();
        ME.get_or_init(|| {
            let pid = std::process::id();
            Owner {
                machine: read_id(&["/etc/machine-id", "/var/lib/dbus/machine-id"]),
                boot: read_id(&["/proc/sys/kernel/random/boot_id"]),
                pid,
                start: start_time(pid).unwrap_or(0),
            }
        })
    }

    pub fn label(&self) -> String {
        format!("{}/{}/{}/{}", self.machine, self.boot, self.pid, self.start)
    }

    /// A label value as [`Owner::label`] writes it; anything else is `None` (never touched).
    pub fn parse(label: &str) -> Option<Owner> {
        let mut parts = label.split('/');
        let (machine, boot, pid, start) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || machine.is_empty() || boot.is_empty() {
            return None;
        }
        Some(Owner { machine: machine.into(), boot: boot.into(), pid: pid.parse().ok()?, start: start.parse().ok()? })
    }

    /// Judged against `me`: another machine's is `Elsewhere`; an earlier boot's is dead; else the
    /// pid must still run with the same start time.
    pub fn liveness(&self, me: &Owner) -> Liveness {
        if self.machine != me.machine {
            Liveness::Elsewhere
        } else if self.boot != me.boot {
            Liveness::Dead
        } else if (self.pid == me.pid && self.start == me.start) || start_time(self.pid) == Some(self.start) {
            Liveness::Alive
        } else {
            Liveness::Dead
        }
    }
}

/// Whether a label map names an owner that is gone.
fn dead_owner(labels: &std::collections::HashMap<String, String>) -> bool {
    labels.get(OWNER_LABEL).and_then(|l| Owner::parse(l)).is_some_and(|o| o.liveness(Owner::me()) == Liveness::Dead)
}

/// What `cleanup()` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupReport {
    pub containers: Vec<String>,
    pub leases: Vec<String>,
    /// What the networks' cleanup removed (0 for a daemon elsewhere).
    pub networks: u32,
}

impl Client {
    /// Removes, in this namespace, what dead owners on this machine left (see the module docs).
    pub async fn cleanup(&self, cancel: &Cancel) -> Result<CleanupReport> {
        let mut report = CleanupReport::default();
        for container in self.list_containers(Vec::new(), cancel).await? {
            if !dead_owner(&container.labels) {
                continue;
            }
            let id = container.id.as_str();
            match self.task_state(id, "", cancel).await {
                Ok(state) => {
                    if state.status != "stopped" {
                        let _ = self.kill_process(id, "", SIGKILL, true, cancel).await;
                        let _ = tokio::time::timeout(KILL_WAIT, self.wait_process(id, "", cancel)).await;
                    }
                    match self.delete_task(id, cancel).await {
                        Err(e) if e.code != Code::NotFound => return Err(e),
                        _ => {}
                    }
                }
                Err(e) if e.code == Code::NotFound => {}
                Err(e) => return Err(e),
            }
            match self.remove_container(&container, true, cancel).await {
                Err(e) if e.code != Code::NotFound => return Err(e),
                _ => report.containers.push(container.id.clone()),
            }
        }
        if matches!(Address::parse(self.address()), Ok(Address::Unix(_))) {
            report.networks = self.cleanup_networks(cancel).await?;
        }
        let leases = self
            .unary("list leases", cancel, |ch| async move {
                LeasesClient::new(ch)
                    .max_decoding_message_size(MAX_MESSAGE_BYTES)
                    .list(self.request(ListRequest { filters: Vec::new() }))
                    .await
            })
            .await?;
        for lease in leases.leases {
            if dead_owner(&lease.labels) {
                self.delete_lease(&lease.id, true).await?;
                report.leases.push(lease.id);
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip() {
        let me = Owner::me();
        assert_eq!(Owner::parse(&me.label()).as_ref(), Some(me));
        assert!(me.start > 0 && me.boot != "unknown");
        for bad in ["", "a/b/c", "a/b/1/2/3", "a/b/x/2", "a/b/1/-2", "/b/1/2", "a//1/2"] {
            assert_eq!(Owner::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn liveness() {
        let me = Owner::me();
        assert_eq!(me.liveness(me), Liveness::Alive);
        let elsewhere = Owner { machine: "another".into(), ..me.clone() };
        assert_eq!(elsewhere.liveness(me), Liveness::Elsewhere);
        let earlier_boot = Owner { boot: "earlier".into(), ..me.clone() };
        assert_eq!(earlier_boot.liveness(me), Liveness::Dead);
        let restarted = Owner { start: me.start + 1, ..me.clone() };
        assert_eq!(restarted.liveness(me), Liveness::Dead, "same pid, another process");
        let parent = std::os::unix::process::parent_id();
        let alive = Owner { pid: parent, start: start_time(parent).unwrap(), ..me.clone() };
        assert_eq!(alive.liveness(me), Liveness::Alive);
        let gone = Owner { pid: u32::MAX - 1, ..me.clone() };
        assert_eq!(gone.liveness(me), Liveness::Dead);
    }
}
