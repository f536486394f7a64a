//! Restart policies through containerd's restart monitor (`io.containerd.internal.v1.restart`).
//!
//! containerd 1.6 reads only `containerd.io/restart.status` (`running`: the monitor keeps a task
//! running, starting a new one when there is none or it stopped) and `restart.loguri` /
//! `restart.logpath` (the new task's stdio). It starts a task for any container labelled
//! `running`, even one that never had one, so the status label is set when our start succeeds, not
//! at create, and cleared first whenever this client stops or removes a task on purpose.
//! The policy itself is our label (`containerd-napi/restart`); `on-failure` needs the
//! `restart.policy` label, which containerd 1.7 brings.

use super::cancel::Cancel;
use super::client::Client;
use super::containers::ContainerRecord;
use super::error::{Code, Error, Result};
use super::stdio::StdioMode;
use std::collections::HashMap;

/// Our label holding the policy as given (`always`, `unless-stopped`, `on-failure[:N]`).
pub const RESTART_LABEL: &str = "containerd-napi/restart";
/// The monitor's desired state (`running` or `stopped`).
pub const STATUS_LABEL: &str = "containerd.io/restart.status";
/// The stdio URI of the tasks the monitor starts (a `log` container's logger).
pub const LOG_URI_LABEL: &str = "containerd.io/restart.loguri";
/// containerd >= 1.7: `always`, `unless-stopped`, `on-failure[:N]`.
pub const POLICY_LABEL: &str = "containerd.io/restart.policy";

const MONITOR_TYPE: &str = "io.containerd.internal.v1";
const MONITOR_ID: &str = "restart";
/// The first containerd release whose monitor reads `restart.policy`.
const POLICY_VERSION: (u32, u32) = (1, 7);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    No,
    Always,
    UnlessStopped,
    /// With the maximum number of restarts, if given.
    OnFailure(Option<u32>),
}

impl Policy {
    pub fn parse(text: &str) -> Result<Policy> {
        let bad = || {
            Error::invalid_argument(format!(
                "invalid restart policy {text:?}: expected 'no', 'always', 'unless-stopped', 'on-failure' or 'on-failure:N' (N from 1)"
            ))
        };
        Ok(match text {
            "no" => Policy::No,
            "always" => Policy::Always,
            "unless-stopped" => Policy::UnlessStopped,
            "on-failure" => Policy::OnFailure(None),
            _ => {
                let n = text.strip_prefix("on-failure:").ok_or_else(bad)?;
                if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                match n.parse::<u32>() {
                    Ok(n) if n >= 1 => Policy::OnFailure(Some(n)),
                    _ => return Err(bad()),
                }
            }
        })
    }

    pub fn as_label(&self) -> String {
        match self {
            Policy::No => "no".into(),
            Policy::Always => "always".into(),
            Policy::UnlessStopped => "unless-stopped".into(),
            Policy::OnFailure(None) => "on-failure".into(),
            Policy::OnFailure(Some(n)) => format!("on-failure:{n}"),
        }
    }

    /// The policy a container record carries (none: `No`).
    pub fn of(container: &ContainerRecord) -> Policy {
        container.labels.get(RESTART_LABEL).and_then(|p| Policy::parse(p).ok()).unwrap_or(Policy::No)
    }
}

/// The labels a container gets for `policy` (every restart label; `None` removes one); the
/// status label is left alone unless the policy is `no`. `labels`: the container's (for its log).
pub(crate) fn restart_labels(
    policy: &Policy,
    policy_label: bool,
    labels: &HashMap<String, String>,
    id: &str,
) -> Result<HashMap<String, Option<String>>> {
    let mut out = HashMap::new();
    if *policy == Policy::No {
        for key in [RESTART_LABEL, STATUS_LABEL, LOG_URI_LABEL, POLICY_LABEL] {
            out.insert(key.to_string(), None);
        }
        return Ok(out);
    }
    out.insert(RESTART_LABEL.to_string(), Some(policy.as_label()));
    out.insert(POLICY_LABEL.to_string(), policy_label.then(|| policy.as_label()));
    // A logged container's restarted tasks keep logging: the monitor starts them with this URI.
    let uri = if labels.contains_key(super::logs::LOG_DIR_LABEL) {
        let record = ContainerRecord { id: id.to_string(), labels: labels.clone(), ..Default::default() };
        match super::logs::resolve_task_stdio(&record, &StdioMode::Log)? {
            StdioMode::Binary(uri) => Some(uri),
            _ => None,
        }
    } else {
        None
    };
    out.insert(LOG_URI_LABEL.to_string(), uri);
    Ok(out)
}

/// `major.minor` of a version string such as `1.6.20~ds1` or `v1.7.2`.
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim_start_matches('v').split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Whether the daemon reads the policy label; a missing monitor or a policy it cannot follow is a
/// FailedPrecondition.
fn support(policy: &Policy, version: &str, monitor: bool) -> Result<bool> {
    if !monitor {
        return Err(Error::new(
            Code::FailedPrecondition,
            format!(
                "restart {:?}: the daemon has no restart monitor (plugin {MONITOR_TYPE}.{MONITOR_ID} not loaded)",
                policy.as_label()
            ),
        ));
    }
    let policy_label = major_minor(version).is_some_and(|v| v >= POLICY_VERSION);
    if matches!(policy, Policy::OnFailure(_)) && !policy_label {
        return Err(Error::new(
            Code::FailedPrecondition,
            format!(
                "restart {:?}: containerd {version} restarts tasks only unconditionally; on-failure needs containerd {}.{} or later",
                policy.as_label(),
                POLICY_VERSION.0,
                POLICY_VERSION.1
            ),
        ));
    }
    Ok(policy_label)
}

impl Client {
    /// Whether the daemon can follow `policy` (`No`: always) and reads the policy label; a
    /// missing monitor or a policy it cannot follow is a FailedPrecondition.
    pub(crate) async fn restart_support(&self, policy: &Policy, cancel: &Cancel) -> Result<bool> {
        if *policy == Policy::No {
            return Ok(false);
        }
        let version = self.version(cancel).await?.version;
        let monitor = self.plugins(cancel).await?.iter().any(|p| {
            p.r#type == MONITOR_TYPE && p.id == MONITOR_ID && p.status == super::introspection::PluginStatus::Ok
        });
        support(policy, &version, monitor)
    }

    /// `Container.update()`: merges `labels` (None removes) and, if given, sets the restart policy.
    /// A running task of a container given a policy is marked for the monitor at once.
    pub async fn update_container(
        &self,
        id: &str,
        restart: Option<&str>,
        labels: HashMap<String, Option<String>>,
        cancel: &Cancel,
    ) -> Result<ContainerRecord> {
        let policy = restart.map(Policy::parse).transpose()?;
        for key in labels.keys() {
            if key.is_empty() {
                return Err(Error::invalid_argument("labels: a key must not be empty"));
            }
        }
        let container = self.get_container(id, cancel).await?;
        let mut changes = labels;
        if let Some(policy) = &policy {
            let merged: HashMap<String, String> = container
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .chain(changes.iter().filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v))))
                .collect();
            let policy_label = self.restart_support(policy, cancel).await?;
            changes.extend(restart_labels(policy, policy_label, &merged, id)?);
            if *policy != Policy::No {
                match self.task_state(id, "", cancel).await {
                    Ok(task) if task.status == "running" => {
                        changes.insert(STATUS_LABEL.to_string(), Some("running".into()));
                    }
                    Ok(_) => {}
                    Err(e) if e.code == Code::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        // Only what changes: an update naming no field would be a full update, which containerd
        // refuses ("Snapshotter field is immutable").
        changes.retain(|k, v| container.labels.get(k) != v.as_ref());
        if changes.is_empty() {
            return Ok(container);
        }
        self.set_container_labels(id, changes, cancel).await
    }

    /// Removes the monitor's status label if the container has it, so that the monitor leaves the
    /// task alone; a missing container is fine.
    pub async fn hold_restarts(&self, id: &str, cancel: &Cancel) -> Result<()> {
        match self.get_container(id, cancel).await {
            Ok(c) => self.hold_restarts_of(&c, cancel).await,
            Err(e) if e.code == Code::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn hold_restarts_of(&self, container: &ContainerRecord, cancel: &Cancel) -> Result<()> {
        if container.labels.contains_key(STATUS_LABEL) {
            self.set_container_labels(&container.id, HashMap::from([(STATUS_LABEL.to_string(), None)]), cancel).await?;
        }
        Ok(())
    }

    /// Starts a process; a task (`exec_id` "") of a container with a restart policy is then marked
    /// `running` for the monitor.
    pub async fn start_process_managed(&self, container_id: &str, exec_id: &str, cancel: &Cancel) -> Result<u32> {
        let pid = self.start_process(container_id, exec_id, cancel).await?;
        if exec_id.is_empty() {
            let container = self.get_container(container_id, cancel).await?;
            if Policy::of(&container) != Policy::No
                && container.labels.get(STATUS_LABEL).map(String::as_str) != Some("running")
            {
                let running = HashMap::from([(STATUS_LABEL.to_string(), Some("running".to_string()))]);
                self.set_container_labels(container_id, running, cancel).await?;
            }
        }
        Ok(pid)
    }

    /// Kills a process; killing the task of an `unless-stopped` container stops its restarts first.
    pub async fn kill_process_managed(
        &self,
        container_id: &str,
        exec_id: &str,
        signal: u32,
        all: bool,
        cancel: &Cancel,
    ) -> Result<()> {
        if exec_id.is_empty() {
            match self.get_container(container_id, cancel).await {
                Ok(c) if Policy::of(&c) == Policy::UnlessStopped => self.hold_restarts_of(&c, cancel).await?,
                Ok(_) => {}
                Err(e) if e.code == Code::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        self.kill_process(container_id, exec_id, signal, all, cancel).await
    }

    /// Deletes a task after stopping its restarts (else the monitor starts a new one).
    pub async fn delete_task_managed(&self, container_id: &str, cancel: &Cancel) -> Result<super::tasks::ExitStatus> {
        self.hold_restarts(container_id, cancel).await?;
        self.delete_task(container_id, cancel).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse() {
        assert_eq!(Policy::parse("no").unwrap(), Policy::No);
        assert_eq!(Policy::parse("always").unwrap(), Policy::Always);
        assert_eq!(Policy::parse("unless-stopped").unwrap(), Policy::UnlessStopped);
        assert_eq!(Policy::parse("on-failure").unwrap(), Policy::OnFailure(None));
        assert_eq!(Policy::parse("on-failure:3").unwrap(), Policy::OnFailure(Some(3)));
        assert_eq!(Policy::parse("on-failure:3").unwrap().as_label(), "on-failure:3");
        for bad in
            ["", "Always", "on-failure:", "on-failure:0", "on-failure:-1", "on-failure:+1", "on-failure:x", "sometimes"]
        {
            assert_eq!(Policy::parse(bad).unwrap_err().code, Code::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn daemon_support() {
        assert!(!support(&Policy::Always, "1.6.20~ds1", true).unwrap());
        assert!(support(&Policy::Always, "v1.7.2", true).unwrap());
        assert!(support(&Policy::OnFailure(None), "1.7.0", true).unwrap());
        let e = support(&Policy::OnFailure(None), "1.6.20~ds1", true).unwrap_err();
        assert_eq!(e.code, Code::FailedPrecondition);
        assert!(e.message.contains("1.7"), "{}", e.message);
        assert_eq!(support(&Policy::Always, "1.6.20", false).unwrap_err().code, Code::FailedPrecondition);
        assert_eq!(major_minor("2.0.0-rc.1"), Some((2, 0)));
        assert_eq!(major_minor("garbage"), None);
    }
}
