//! The OCI runtime spec a new container gets: containerd 1.6's `oci.GenerateSpec` Linux defaults
//! (oci/spec.go `populateDefaultUnixSpec`, oci/mounts.go `defaultMounts`), then the image config
//! (`oci.WithImageConfig`), then the caller's options in the order `ctr run` applies them.

use super::error::{Code, Error, Result};
use super::identifiers;
use super::network::NetworkFiles;
use super::seccomp::{linux_seccomp, SeccompOption, Target};
use oci_spec::runtime::{
    Capabilities, Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxCpuBuilder, LinuxDeviceCgroupBuilder,
    LinuxMemoryBuilder, LinuxNamespace, LinuxNamespaceBuilder, LinuxNamespaceType, LinuxPidsBuilder,
    LinuxResourcesBuilder, Mount, MountBuilder, PosixRlimit, PosixRlimitBuilder, PosixRlimitType, ProcessBuilder,
    RootBuilder, Spec, UserBuilder,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Component, Path};
use std::str::FromStr;

pub const SPEC_TYPE_URL: &str = "types.containerd.io/opencontainers/runtime-spec/1/Spec";

/// The runtime-spec version containerd 1.6 vendors (`specs.Version`).
const OCI_VERSION: &str = "1.0.2-dev";

/// containerd's `defaultUnixEnv`, used when the image sets no PATH.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `ctr run --cpus` uses this CFS period and scales the quota to it.
pub(crate) const CPU_PERIOD: u64 = 100_000;

/// The kernel rejects CFS quotas below 1 ms.
const MIN_CPU_QUOTA: i64 = 1_000;

/// The kernel's HOST_NAME_MAX: longer names make the runtime's sethostname fail late.
const MAX_HOSTNAME: usize = 64;

/// containerd's `defaultUnixCaps`, in its order.
const DEFAULT_CAPS: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// Every capability oci-spec knows (it has no iterator over them); privileged containers get all.
const ALL_CAPS: [&str; 41] = [
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETGID",
    "SETFCAP",
    "SETPCAP",
    "SETUID",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "SYSLOG",
    "WAKE_ALARM",
];

/// containerd 1.6's masked paths (v1.6.39 includes /sys/devices/virtual/powercap).
const MASKED_PATHS: [&str; 11] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    "/proc/scsi",
];

const READONLY_PATHS: [&str; 5] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/// containerd's `defaultMounts`: (destination, type, source, options).
const DEFAULT_MOUNTS: [(&str, &str, &str, &[&str]); 7] = [
    ("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
    ("/dev", "tmpfs", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
    ("/dev/pts", "devpts", "devpts", &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
    ("/dev/shm", "tmpfs", "shm", &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
    ("/dev/mqueue", "mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
    ("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", "ro"]),
    ("/run", "tmpfs", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
];

/// What the image config contributes (from its OCI config `config` object).
#[derive(Debug, Clone, Default)]
pub struct ImageDefaults {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
}

/// The part of an image config we read; Docker writes `null` for unset lists, hence the Options.
#[derive(Deserialize)]
struct ConfigDocument {
    config: Option<ConfigObject>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigObject {
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    env: Option<Vec<String>>,
    working_dir: Option<String>,
    user: Option<String>,
}

impl ImageDefaults {
    /// Parses an image config JSON document; missing or null fields are empty.
    pub fn from_config_json(config: &[u8]) -> Result<ImageDefaults> {
        let doc: ConfigDocument = serde_json::from_slice(config)
            .map_err(|e| Error::new(Code::FailedPrecondition, format!("image config: invalid image document: {e}")))?;
        let Some(c) = doc.config else { return Ok(ImageDefaults::default()) };
        let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
        Ok(ImageDefaults {
            entrypoint: c.entrypoint.unwrap_or_default(),
            cmd: c.cmd.unwrap_or_default(),
            env: c.env.unwrap_or_default(),
            working_dir: non_empty(c.working_dir),
            user: non_empty(c.user),
        })
    }
}

#[derive(Debug, Clone)]
pub struct MountOptions {
    /// "bind" when empty, "tmpfs", or any filesystem type the runtime can mount.
    pub kind: String,
    pub source: String,
    pub destination: String,
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SpecOptions {
    /// Replaces Entrypoint+Cmd; `Some(vec![])` counts as not given, as in `ctr run`.
    pub args: Option<Vec<String>>,
    /// "K=V", merged over the image Env (same key replaced in place, new keys appended).
    pub env: Vec<String>,
    pub cwd: Option<String>,
    pub hostname: Option<String>,
    pub tty: bool,
    /// No network namespace; the host's /etc/hosts and /etc/resolv.conf bind-mounted read-only.
    pub host_network: bool,
    /// A network of ours: the pinned namespace and the hosts/resolv.conf files to bind-mount.
    pub network: Option<NetworkFiles>,
    pub mounts: Vec<MountOptions>,
    pub readonly_rootfs: bool,
    pub memory_limit_bytes: Option<i64>,
    /// CFS quota over a 100 ms period.
    pub cpus: Option<f64>,
    /// All capabilities, no masked/readonly paths, all devices allowed, /sys read-write.
    pub privileged: bool,
    /// "CAP_NET_ADMIN" or "net_admin"; "ALL" for every capability. Drops apply before adds.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub annotations: HashMap<String, String>,
    /// 'default' (moby's profile for this arch and the effective capabilities), 'unconfined', or a
    /// profile object; privileged containers are always unconfined.
    pub seccomp: SeccompOption,
    /// `None` = true (containerd's default).
    pub no_new_privileges: Option<bool>,
    /// The cgroup's pids.max.
    pub pids_limit: Option<i64>,
    /// Replace the default RLIMIT_NOFILE 1024/1024 when they name it; others are added.
    pub ulimits: Vec<Ulimit>,
    /// Namespaced sysctls only (see [`validate_sysctl`]).
    pub sysctls: HashMap<String, String>,
    /// An RFC 7386 JSON merge patch applied to the finished spec, last (see [`spec_json`]).
    pub spec_patch: Option<serde_json::Value>,
}

/// A resource limit: `name` is "nofile", "NOFILE" or "RLIMIT_NOFILE"; -1 is unlimited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// uid/gid resolved by users.rs
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
}

/// The spec as containerd's `oci.GenerateSpec` defaults + image config + options would produce it.
pub fn build_spec(
    namespace: &str,
    id: &str,
    image: &ImageDefaults,
    options: &SpecOptions,
    user: &ResolvedUser,
) -> Result<Spec> {
    identifiers::validate("namespace", namespace)?;
    identifiers::validate("container id", id)?;
    validate_options(options)?;

    let args = process_args(image, options)?;
    let env = process_env(image, options)?;
    let cwd = match (&options.cwd, &image.working_dir) {
        (Some(cwd), _) => cwd.clone(),
        (None, Some(dir)) => dir.clone(),
        (None, None) => "/".to_string(),
    };
    no_nul("the image's WorkingDir", &cwd)?;

    let caps = capabilities(options)?;
    let mut cap_names: Vec<String> =
        caps.iter().filter_map(|c| serde_json::to_value(c).ok()?.as_str().map(str::to_string)).collect();
    cap_names.sort();
    let seccomp = linux_seccomp(&options.seccomp, options.privileged, &cap_names, &Target::host())?;
    let linux_caps = LinuxCapabilitiesBuilder::default()
        .bounding(caps.clone())
        .effective(caps.clone())
        .permitted(caps)
        .build()
        .map_err(internal)?;
    // LinuxCapabilities' Default fills inheritable and ambient; containerd sets neither.
    let mut linux_caps = linux_caps;
    linux_caps.set_inheritable(None);
    linux_caps.set_ambient(None);

    // containerd's ensureAdditionalGids: the primary group is always listed too.
    let mut gids = user.additional_gids.clone();
    if !gids.contains(&user.gid) {
        gids.insert(0, user.gid);
    }
    let process_user =
        UserBuilder::default().uid(user.uid).gid(user.gid).additional_gids(gids).build().map_err(internal)?;

    let mut process = ProcessBuilder::default()
        .user(process_user)
        .args(args)
        .env(env)
        .cwd(cwd)
        .no_new_privileges(options.no_new_privileges.unwrap_or(true))
        .capabilities(linux_caps)
        .rlimits(rlimits(&options.ulimits)?)
        .build()
        .map_err(internal)?;
    process.set_terminal(options.tty.then_some(true));

    let mut root = RootBuilder::default().path("rootfs").build().map_err(internal)?;
    root.set_readonly(options.readonly_rootfs.then_some(true));

    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces(options)?)
        .cgroups_path(format!("/{namespace}/{id}"))
        .resources(resources(options)?)
        .build()
        .map_err(internal)?;
    // Linux's Default brings oci-spec's own masked/readonly lists; set containerd's (or none).
    if options.privileged {
        linux.set_masked_paths(None);
        linux.set_readonly_paths(None);
    } else {
        linux.set_masked_paths(Some(MASKED_PATHS.iter().map(|p| p.to_string()).collect()));
        linux.set_readonly_paths(Some(READONLY_PATHS.iter().map(|p| p.to_string()).collect()));
    }
    linux.set_seccomp(seccomp);
    linux.set_sysctl((!options.sysctls.is_empty()).then(|| options.sysctls.clone()));

    let hostname = match &options.hostname {
        Some(name) => Some(name.clone()),
        None if options.host_network => host_hostname(),
        // On a network the container's name in its own and its peers' /etc/hosts.
        None if options.network.is_some() && id.len() <= MAX_HOSTNAME => Some(id.to_string()),
        None => None,
    };

    // Spec's Default is a youki example (hostname "youki", its own mounts); every field is set here.
    let mut spec = Spec::default();
    spec.set_version(OCI_VERSION.to_string());
    spec.set_root(Some(root));
    spec.set_process(Some(process));
    spec.set_mounts(Some(mounts(options)?));
    spec.set_hostname(hostname);
    spec.set_annotations((!options.annotations.is_empty()).then(|| options.annotations.clone()));
    spec.set_linux(Some(linux));
    Ok(spec)
}

/// The JSON containerd stores (type URL [`SPEC_TYPE_URL`]). Capability lists are sorted so the
/// bytes do not depend on oci-spec's hash-set order.
pub fn to_json(spec: &Spec) -> Result<Vec<u8>> {
    let mut value = serde_json::to_value(spec).map_err(internal)?;
    if let Some(caps) = value.pointer_mut("/process/capabilities").and_then(|c| c.as_object_mut()) {
        for list in caps.values_mut().filter_map(|l| l.as_array_mut()) {
            list.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
    serde_json::to_vec(&value).map_err(internal)
}

fn internal(err: impl std::fmt::Display) -> Error {
    Error::new(Code::Internal, format!("build runtime spec: {err}"))
}

fn no_nul(what: &str, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::invalid_argument(format!("{what} {value:?} contains a NUL byte")));
    }
    Ok(())
}

/// `KEY=VALUE` entries with a non-empty key and no NUL bytes.
pub fn validate_env(entries: &[String]) -> Result<()> {
    for entry in entries {
        no_nul("environment variable", entry)?;
        match entry.split_once('=') {
            Some((key, _)) if !key.is_empty() => {}
            _ => {
                return Err(Error::invalid_argument(format!(
                    "invalid environment variable {entry:?}: expected KEY=VALUE with a non-empty KEY"
                )))
            }
        }
    }
    Ok(())
}

/// A working directory: absolute, no NUL bytes.
pub fn validate_cwd(cwd: &str) -> Result<()> {
    no_nul("cwd", cwd)?;
    if !cwd.starts_with('/') {
        return Err(Error::invalid_argument(format!("invalid cwd {cwd:?}: must be an absolute path")));
    }
    Ok(())
}

fn validate_options(o: &SpecOptions) -> Result<()> {
    for arg in o.args.iter().flatten() {
        no_nul("argument", arg)?;
    }
    validate_env(&o.env)?;
    if let Some(cwd) = &o.cwd {
        validate_cwd(cwd)?;
    }
    if let Some(name) = &o.hostname {
        no_nul("hostname", name)?;
        if name.len() > MAX_HOSTNAME {
            return Err(Error::invalid_argument(format!(
                "invalid hostname {name:?}: longer than {MAX_HOSTNAME} bytes"
            )));
        }
    }
    if let Some(limit) = o.memory_limit_bytes {
        if limit <= 0 {
            return Err(Error::invalid_argument(format!("invalid memoryLimitBytes {limit}: must be greater than 0")));
        }
    }
    if let Some(cpus) = o.cpus {
        checked_cpu_quota(cpus)?;
    }
    for (key, value) in &o.annotations {
        no_nul("annotation key", key)?;
        no_nul("annotation value", value)?;
        if key.is_empty() {
            return Err(Error::invalid_argument("invalid annotation: the key must not be empty"));
        }
    }
    if let Some(limit) = o.pids_limit {
        if limit <= 0 {
            return Err(Error::invalid_argument(format!("invalid pidsLimit {limit}: must be greater than 0")));
        }
    }
    for u in &o.ulimits {
        rlimit(u)?;
    }
    for (key, value) in &o.sysctls {
        validate_sysctl(key, value, o.host_network)?;
    }
    if let Some(patch) = &o.spec_patch {
        if !patch.is_object() {
            return Err(Error::invalid_argument("invalid specPatch: must be a JSON object (RFC 7386 merge patch)"));
        }
    }
    Ok(())
}

/// Docker's namespaced sysctls (`opts.ValidateSysctl`): IPC ones (`kernel.msg*`, `kernel.sem`,
/// `kernel.shm*`, `fs.mqueue.*`) and `net.*`, the latter only with a network namespace of its own.
const IPC_SYSCTLS: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// A sysctl a container may set: namespaced, a well-formed dotted name, no NUL in the value.
pub fn validate_sysctl(key: &str, value: &str, host_network: bool) -> Result<()> {
    let well_formed = !key.is_empty()
        && key
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    if !well_formed {
        return Err(Error::invalid_argument(format!(
            "invalid sysctl {key:?}: expected a dotted name like net.ipv4.ip_forward"
        )));
    }
    no_nul("sysctl value", value)?;
    if key.starts_with("net.") {
        if host_network {
            return Err(Error::invalid_argument(format!(
                "sysctl {key:?} is not allowed with hostNetwork: it would change the host's network settings"
            )));
        }
        return Ok(());
    }
    if key.starts_with("fs.mqueue.") || IPC_SYSCTLS.contains(&key) {
        return Ok(());
    }
    Err(Error::invalid_argument(format!(
        "sysctl {key:?} is not namespaced: only net.*, fs.mqueue.* and the kernel IPC ones (kernel.msg*, kernel.sem, kernel.shm*) may be set"
    )))
}

fn rlimit_value(name: &str, what: &str, n: i64) -> Result<u64> {
    match n {
        -1 => Ok(u64::MAX),
        n if n >= 0 => Ok(n as u64),
        _ => Err(Error::invalid_argument(format!(
            "invalid ulimit {name:?}: {what} {n} must be -1 (unlimited) or at least 0"
        ))),
    }
}

fn rlimit(u: &Ulimit) -> Result<PosixRlimit> {
    no_nul("ulimit name", &u.name)?;
    let upper = u.name.trim().to_ascii_uppercase();
    let full = if upper.starts_with("RLIMIT_") { upper } else { format!("RLIMIT_{upper}") };
    let typ = PosixRlimitType::from_str(&full).map_err(|_| {
        Error::invalid_argument(format!("unknown ulimit {:?}: expected a name like nofile or nproc", u.name))
    })?;
    let soft = rlimit_value(&u.name, "soft", u.soft)?;
    let hard = rlimit_value(&u.name, "hard", u.hard)?;
    if soft > hard {
        return Err(Error::invalid_argument(format!(
            "invalid ulimit {:?}: soft {} is above hard {}",
            u.name, u.soft, u.hard
        )));
    }
    PosixRlimitBuilder::default().typ(typ).soft(soft).hard(hard).build().map_err(internal)
}

/// containerd's RLIMIT_NOFILE 1024/1024 unless the caller names it, then the caller's (a name given
/// twice: the last wins).
fn rlimits(ulimits: &[Ulimit]) -> Result<Vec<PosixRlimit>> {
    let mut out = vec![PosixRlimitBuilder::default()
        .typ(PosixRlimitType::RlimitNofile)
        .soft(1024u64)
        .hard(1024u64)
        .build()
        .map_err(internal)?];
    for u in ulimits {
        let limit = rlimit(u)?;
        match out.iter_mut().find(|r| r.typ() == limit.typ()) {
            Some(existing) => *existing = limit,
            None => out.push(limit),
        }
    }
    Ok(out)
}

/// RFC 7386: objects merge key by key, a null removes the key, anything else replaces.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(entries) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(serde_json::Map::new());
    }
    if let serde_json::Value::Object(map) = target {
        for (key, value) in entries {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(serde_json::Value::Null), value);
            }
        }
    }
}

/// The spec as containerd stores it: [`build_spec`], then [`to_json`], then the caller's
/// `specPatch` merged in last (the result must still read as a runtime spec).
pub fn spec_json(
    namespace: &str,
    id: &str,
    image: &ImageDefaults,
    options: &SpecOptions,
    user: &ResolvedUser,
) -> Result<Vec<u8>> {
    let spec = build_spec(namespace, id, image, options, user)?;
    let Some(patch) = &options.spec_patch else { return to_json(&spec) };
    let mut value: serde_json::Value = serde_json::from_slice(&to_json(&spec)?).map_err(internal)?;
    merge_patch(&mut value, patch);
    if let Err(e) = serde_json::from_value::<Spec>(value.clone()) {
        return Err(Error::invalid_argument(format!("invalid specPatch: the patched spec is not a runtime spec: {e}")));
    }
    serde_json::to_vec(&value).map_err(internal)
}

/// The CFS quota for `cpus`, checked: a finite number, at least 0.01.
pub(crate) fn checked_cpu_quota(cpus: f64) -> Result<i64> {
    if !cpus.is_finite() || cpus <= 0.0 {
        return Err(Error::invalid_argument(format!("invalid cpus {cpus}: must be a finite number above 0")));
    }
    if cpu_quota(cpus) < MIN_CPU_QUOTA {
        return Err(Error::invalid_argument(format!("invalid cpus {cpus}: must be at least 0.01")));
    }
    Ok(cpu_quota(cpus))
}

/// `ctr run --cpus`: quota = cpus × period, truncated.
fn cpu_quota(cpus: f64) -> i64 {
    (cpus * CPU_PERIOD as f64) as i64
}

fn process_args(image: &ImageDefaults, options: &SpecOptions) -> Result<Vec<String>> {
    let args = match &options.args {
        Some(args) if !args.is_empty() => args.clone(),
        _ => image.entrypoint.iter().chain(&image.cmd).cloned().collect(),
    };
    if args.is_empty() {
        return Err(Error::invalid_argument("no command: the image has no Entrypoint or Cmd and no args were given"));
    }
    if args[0].is_empty() {
        return Err(Error::invalid_argument("invalid command: the program name (args[0]) is empty"));
    }
    for arg in &args {
        no_nul("argument", arg)?;
    }
    Ok(args)
}

/// The key of a "K=V" entry (the whole entry when it has no '=').
fn env_key(entry: &str) -> &str {
    entry.split_once('=').map_or(entry, |(k, _)| k)
}

/// containerd's `replaceOrAppendEnvValues` over the image Env (PATH defaulted), then WithTTY's TERM.
fn process_env(image: &ImageDefaults, options: &SpecOptions) -> Result<Vec<String>> {
    let mut env: Vec<String> = Vec::with_capacity(image.env.len() + options.env.len() + 2);
    if !image.env.iter().any(|e| env_key(e) == "PATH") {
        env.push(DEFAULT_PATH.to_string());
    }
    for entry in &image.env {
        no_nul("the image's environment variable", entry)?;
        env.push(entry.clone());
    }
    merge_env(&mut env, &options.env);
    if options.tty && !env.iter().any(|e| env_key(e) == "TERM") {
        env.push("TERM=xterm".to_string());
    }
    Ok(env)
}

/// `overrides` replace same-key entries of `env` in place; new keys are appended.
pub fn merge_env(env: &mut Vec<String>, overrides: &[String]) {
    for entry in overrides {
        match env.iter_mut().find(|e| env_key(e) == env_key(entry)) {
            Some(existing) => existing.clone_from(entry),
            None => env.push(entry.clone()),
        }
    }
}

/// "CAP_NET_ADMIN", "NET_ADMIN" and "net_admin" all name CAP_NET_ADMIN.
fn parse_capability(name: &str) -> Result<Capability> {
    let upper = name.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    Capability::from_str(bare).map_err(|_| Error::invalid_argument(format!("unknown capability {name:?}")))
}

fn is_all(name: &str) -> bool {
    name.trim().eq_ignore_ascii_case("ALL")
}

fn all_capabilities() -> Capabilities {
    ALL_CAPS.iter().filter_map(|c| Capability::from_str(c).ok()).collect()
}

/// The default (or privileged) set, then drops, then adds, so `drop: ["ALL"], add: [...]` works.
fn capabilities(options: &SpecOptions) -> Result<Capabilities> {
    let mut caps: Capabilities = if options.privileged {
        all_capabilities()
    } else {
        DEFAULT_CAPS.iter().filter_map(|c| Capability::from_str(c).ok()).collect()
    };
    for name in &options.cap_drop {
        if is_all(name) {
            caps.clear();
        } else {
            caps.remove(&parse_capability(name)?);
        }
    }
    for name in &options.cap_add {
        if is_all(name) {
            caps.extend(all_capabilities());
        } else {
            caps.insert(parse_capability(name)?);
        }
    }
    Ok(caps)
}

fn namespaces(options: &SpecOptions) -> Result<Vec<LinuxNamespace>> {
    let mut kinds = vec![LinuxNamespaceType::Pid, LinuxNamespaceType::Ipc, LinuxNamespaceType::Uts];
    kinds.push(LinuxNamespaceType::Mount);
    if !options.host_network {
        kinds.push(LinuxNamespaceType::Network);
    }
    kinds
        .into_iter()
        .map(|typ| {
            let mut builder = LinuxNamespaceBuilder::default().typ(typ);
            if let (LinuxNamespaceType::Network, Some(network)) = (typ, &options.network) {
                builder = builder.path(network.netns.clone());
            }
            builder.build().map_err(internal)
        })
        .collect()
}

fn resources(options: &SpecOptions) -> Result<oci_spec::runtime::LinuxResources> {
    // Deny every device (runc still allows its standard /dev nodes); privileged allows all.
    let devices =
        LinuxDeviceCgroupBuilder::default().allow(options.privileged).access("rwm").build().map_err(internal)?;
    let mut builder = LinuxResourcesBuilder::default().devices(vec![devices]);
    if let Some(limit) = options.memory_limit_bytes {
        builder = builder.memory(LinuxMemoryBuilder::default().limit(limit).build().map_err(internal)?);
    }
    if let Some(cpus) = options.cpus {
        let cpu = LinuxCpuBuilder::default().quota(cpu_quota(cpus)).period(CPU_PERIOD).build().map_err(internal)?;
        builder = builder.cpu(cpu);
    }
    if let Some(limit) = options.pids_limit {
        builder = builder.pids(LinuxPidsBuilder::default().limit(limit).build().map_err(internal)?);
    }
    builder.build().map_err(internal)
}

fn mount(destination: &str, kind: &str, source: &str, options: Vec<String>) -> Result<Mount> {
    MountBuilder::default().destination(destination).typ(kind).source(source).options(options).build().map_err(internal)
}

/// containerd's default mounts, the host network files, then the caller's mounts (later ones win).
fn mounts(options: &SpecOptions) -> Result<Vec<Mount>> {
    let mut out = Vec::with_capacity(DEFAULT_MOUNTS.len() + 2 + options.mounts.len());
    for (destination, kind, source, opts) in DEFAULT_MOUNTS {
        let opts = opts
            .iter()
            .map(|o| if options.privileged && kind == "sysfs" && *o == "ro" { "rw" } else { o })
            .map(str::to_string)
            .collect();
        out.push(mount(destination, kind, source, opts)?);
    }
    if options.host_network {
        for file in ["/etc/hosts", "/etc/resolv.conf"] {
            out.push(mount(file, "bind", file, vec!["rbind".into(), "ro".into()])?);
        }
    }
    if let Some(network) = &options.network {
        for (file, source) in [("/etc/hosts", &network.hosts), ("/etc/resolv.conf", &network.resolv_conf)] {
            let source = source.to_string_lossy();
            out.push(mount(file, "bind", &source, vec!["rbind".into(), "ro".into(), "nosuid".into(), "nodev".into()])?);
        }
    }
    for m in &options.mounts {
        out.push(user_mount(m)?);
    }
    Ok(out)
}

fn user_mount(m: &MountOptions) -> Result<Mount> {
    let kind = if m.kind.is_empty() { "bind" } else { m.kind.as_str() };
    no_nul("mount type", kind)?;
    no_nul("mount source", &m.source)?;
    no_nul("mount destination", &m.destination)?;
    for o in &m.options {
        no_nul("mount option", o)?;
    }
    let destination = Path::new(&m.destination);
    if !destination.is_absolute() {
        return Err(Error::invalid_argument(format!(
            "invalid mount destination {:?}: must be an absolute path",
            m.destination
        )));
    }
    if destination.components().all(|c| c == Component::RootDir) {
        return Err(Error::invalid_argument(format!(
            "invalid mount destination {:?}: cannot mount over the container's root",
            m.destination
        )));
    }
    let mut options = m.options.clone();
    let source = match kind {
        "bind" => {
            if !m.source.starts_with('/') {
                return Err(Error::invalid_argument(format!(
                    "invalid bind mount source {:?} for {:?}: must be an absolute path",
                    m.source, m.destination
                )));
            }
            if !options.iter().any(|o| o == "bind" || o == "rbind") {
                options.insert(0, "rbind".to_string());
            }
            m.source.clone()
        }
        _ if m.source.is_empty() => kind.to_string(),
        _ => m.source.clone(),
    };
    mount(&m.destination, kind, &source, options)
}

/// The hostname a host-network container shows, as `ctr run --net-host` takes it from this host.
fn host_hostname() -> Option<String> {
    if let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let name = name.trim();
        if !name.is_empty() {
            return Some(name.to_string());
        }
    }
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return None;
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..len]).into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn image() -> ImageDefaults {
        ImageDefaults {
            entrypoint: vec!["/entry".into()],
            cmd: vec!["serve".into(), "--port=80".into()],
            env: vec!["PATH=/opt/bin:/bin".into(), "LANG=C.UTF-8".into()],
            working_dir: Some("/app".into()),
            user: None,
        }
    }

    fn build(options: &SpecOptions) -> Result<Spec> {
        build_spec("default", "c1", &image(), options, &ResolvedUser::default())
    }

    fn json_of(options: &SpecOptions) -> Value {
        serde_json::from_slice(&to_json(&build(options).unwrap()).unwrap()).unwrap()
    }

    fn strings(v: &Value) -> Vec<&str> {
        v.as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect()
    }

    fn invalid(options: SpecOptions, needle: &str) {
        let err = build(&options).unwrap_err();
        assert_eq!(err.code, Code::InvalidArgument, "{err}");
        assert!(err.message.contains(needle), "{:?} does not mention {needle:?}", err.message);
    }

    #[test]
    fn defaults_match_containerd() {
        let v = json_of(&SpecOptions::default());
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = vec!["ociVersion", "root", "mounts", "process", "linux"];
        expected.sort();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, expected, "no hostname, annotations or other extras");
        assert_eq!(v["ociVersion"], "1.0.2-dev");
        assert_eq!(v["root"], json!({"path": "rootfs"}));

        let mounts = v["mounts"].as_array().unwrap();
        let dests: Vec<&str> = mounts.iter().map(|m| m["destination"].as_str().unwrap()).collect();
        assert_eq!(dests, ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/run"]);
        assert_eq!(
            mounts[2],
            json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
                   "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]})
        );
        assert_eq!(strings(&mounts[5]["options"]), ["nosuid", "noexec", "nodev", "ro"]);

        let p = &v["process"];
        assert_eq!(p["user"], json!({"uid": 0, "gid": 0, "additionalGids": [0]}));
        assert_eq!(p["cwd"], "/app");
        assert_eq!(p["noNewPrivileges"], true);
        assert!(p.get("terminal").is_none());
        assert_eq!(p["rlimits"], json!([{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]));
        let caps = p["capabilities"].as_object().unwrap();
        assert_eq!(caps.len(), 3, "bounding, effective, permitted only: {caps:?}");
        for set in ["bounding", "effective", "permitted"] {
            let list = strings(&caps[set]);
            assert_eq!(list.len(), 14);
            assert!(list.contains(&"CAP_AUDIT_WRITE") && list.contains(&"CAP_NET_RAW"));
            assert!(list.windows(2).all(|w| w[0] < w[1]), "sorted");
        }

        let l = &v["linux"];
        let ns: Vec<&str> = l["namespaces"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap()).collect();
        assert_eq!(ns, ["pid", "ipc", "uts", "mount", "network"]);
        assert_eq!(l["cgroupsPath"], "/default/c1");
        assert_eq!(strings(&l["maskedPaths"]), MASKED_PATHS);
        assert_eq!(strings(&l["readonlyPaths"]), READONLY_PATHS);
        assert_eq!(l["resources"], json!({"devices": [{"allow": false, "access": "rwm"}]}));
        let mut linux_keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        linux_keys.sort();
        assert_eq!(linux_keys, ["cgroupsPath", "maskedPaths", "namespaces", "readonlyPaths", "resources", "seccomp"]);
        assert_eq!(l["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO", "moby's default profile");
    }

    #[test]
    fn seccomp_follows_capabilities_and_privilege() {
        let names = |v: &Value| -> Vec<String> {
            v["linux"]["seccomp"]["syscalls"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|c| strings(&c["names"]).into_iter().map(str::to_string).collect::<Vec<_>>())
                .collect()
        };
        let plain = json_of(&SpecOptions::default());
        assert!(!names(&plain).contains(&"unshare".to_string()));
        let admin = json_of(&SpecOptions { cap_add: vec!["SYS_ADMIN".into()], ..Default::default() });
        assert!(names(&admin).contains(&"unshare".to_string()), "CAP_SYS_ADMIN unlocks unshare");
        let v = json_of(&SpecOptions { privileged: true, ..Default::default() });
        assert!(v["linux"].get("seccomp").is_none(), "privileged is unconfined");
        let v = json_of(&SpecOptions { seccomp: SeccompOption::Unconfined, ..Default::default() });
        assert!(v["linux"].get("seccomp").is_none());
        let profile = json!({"defaultAction": "SCMP_ACT_ALLOW",
                             "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]});
        let v = json_of(&SpecOptions { seccomp: SeccompOption::Profile(profile.clone()), ..Default::default() });
        assert_eq!(v["linux"]["seccomp"], profile);
    }

    #[test]
    fn hardening_options() {
        let options = SpecOptions {
            no_new_privileges: Some(false),
            pids_limit: Some(64),
            ulimits: vec![
                Ulimit { name: "nofile".into(), soft: 100, hard: 200 },
                Ulimit { name: "RLIMIT_CORE".into(), soft: 0, hard: -1 },
                Ulimit { name: "NPROC".into(), soft: 10, hard: 10 },
            ],
            sysctls: HashMap::from([
                ("net.ipv4.ip_unprivileged_port_start".to_string(), "0".to_string()),
                ("kernel.shmmax".to_string(), "1000000".to_string()),
            ]),
            ..Default::default()
        };
        let v = json_of(&options);
        assert_eq!(v["process"]["noNewPrivileges"], false);
        assert_eq!(v["linux"]["resources"]["pids"], json!({"limit": 64}));
        assert_eq!(
            v["process"]["rlimits"],
            json!([{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
                   {"type": "RLIMIT_CORE", "soft": 0, "hard": u64::MAX},
                   {"type": "RLIMIT_NPROC", "soft": 10, "hard": 10}])
        );
        assert_eq!(
            v["linux"]["sysctl"],
            json!({"net.ipv4.ip_unprivileged_port_start": "0", "kernel.shmmax": "1000000"})
        );
        assert!(json_of(&SpecOptions::default())["linux"].get("sysctl").is_none());

        let sysctl = |k: &str, host_network: bool| SpecOptions {
            sysctls: HashMap::from([(k.to_string(), "1".to_string())]),
            host_network,
            ..Default::default()
        };
        let cases = [
            (SpecOptions { pids_limit: Some(0), ..Default::default() }, "pidsLimit 0"),
            (
                SpecOptions {
                    ulimits: vec![Ulimit { name: "nofiles".into(), soft: 1, hard: 1 }],
                    ..Default::default()
                },
                "nofiles",
            ),
            (
                SpecOptions { ulimits: vec![Ulimit { name: "nofile".into(), soft: 2, hard: 1 }], ..Default::default() },
                "above hard",
            ),
            (
                SpecOptions {
                    ulimits: vec![Ulimit { name: "nofile".into(), soft: -2, hard: 1 }],
                    ..Default::default()
                },
                "-2",
            ),
            (sysctl("net.ipv4.ip_forward", true), "hostNetwork"),
            (sysctl("kernel.hostname", false), "not namespaced"),
            (sysctl("vm.swappiness", false), "not namespaced"),
            (sysctl("net..x", false), "dotted"),
            (sysctl("net/ipv4/x", false), "dotted"),
            (sysctl("", false), "dotted"),
            (SpecOptions { spec_patch: Some(json!([1])), ..Default::default() }, "specPatch"),
        ];
        for (options, needle) in cases {
            invalid(options, needle);
        }
        validate_sysctl("fs.mqueue.msg_max", "10", true).unwrap();
        validate_sysctl("kernel.sem", "1 2 3 4", false).unwrap();
    }

    #[test]
    fn spec_patch_is_merged_last() {
        let options = SpecOptions {
            spec_patch: Some(json!({"hostname": "patched", "annotations": {"k": "v"},
                                    "process": {"noNewPrivileges": null, "oomScoreAdj": 5},
                                    "linux": {"seccomp": null, "x-unknown": {"kept": true}}})),
            ..Default::default()
        };
        let bytes = spec_json("default", "c1", &image(), &options, &ResolvedUser::default()).unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["hostname"], "patched");
        assert_eq!(v["annotations"], json!({"k": "v"}));
        assert!(v["process"].get("noNewPrivileges").is_none());
        assert_eq!(v["process"]["oomScoreAdj"], 5);
        assert_eq!(v["process"]["cwd"], "/app", "untouched keys stay");
        assert!(v["linux"].get("seccomp").is_none());
        assert_eq!(v["linux"]["x-unknown"], json!({"kept": true}), "unknown fields are kept");
        let bad = SpecOptions { spec_patch: Some(json!({"process": {"user": {"uid": "root"}}})), ..Default::default() };
        let err = spec_json("default", "c1", &image(), &bad, &ResolvedUser::default()).unwrap_err();
        assert_eq!(err.code, Code::InvalidArgument);
        assert!(err.message.contains("specPatch"), "{}", err.message);
        // Without a patch, spec_json is to_json.
        let plain = spec_json("default", "c1", &image(), &SpecOptions::default(), &ResolvedUser::default()).unwrap();
        assert_eq!(plain, to_json(&build(&SpecOptions::default()).unwrap()).unwrap());

        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
        let mut doc = json!({"a": [1]});
        merge_patch(&mut doc, &json!({"a": {"b": "c"}, "n": {"x": null}}));
        assert_eq!(doc, json!({"a": {"b": "c"}, "n": {}}));
    }

    #[test]
    fn image_config_then_options() {
        let spec = build(&SpecOptions::default()).unwrap();
        let p = spec.process().as_ref().unwrap();
        assert_eq!(p.args().as_ref().unwrap(), &["/entry", "serve", "--port=80"]);
        assert_eq!(p.env().as_ref().unwrap(), &["PATH=/opt/bin:/bin", "LANG=C.UTF-8"]);

        let options = SpecOptions {
            args: Some(vec!["sh".into(), "-c".into(), "".into()]),
            env: vec!["LANG=fr_FR".into(), "NEW=1".into(), "EMPTY=".into()],
            cwd: Some("/work".into()),
            ..Default::default()
        };
        let spec = build(&options).unwrap();
        let p = spec.process().as_ref().unwrap();
        assert_eq!(p.args().as_ref().unwrap(), &["sh", "-c", ""], "args replace entrypoint and cmd");
        assert_eq!(p.env().as_ref().unwrap(), &["PATH=/opt/bin:/bin", "LANG=fr_FR", "NEW=1", "EMPTY="]);
        assert_eq!(p.cwd(), Path::new("/work"));

        // Empty args fall back to the image, as `ctr run` does.
        let spec = build(&SpecOptions { args: Some(vec![]), ..Default::default() }).unwrap();
        assert_eq!(spec.process().as_ref().unwrap().args().as_ref().unwrap()[0], "/entry");
    }

    #[test]
    fn path_defaults_and_tty() {
        let bare = ImageDefaults { cmd: vec!["sh".into()], ..Default::default() };
        let options = SpecOptions { tty: true, env: vec!["A=1".into()], ..Default::default() };
        let spec = build_spec("ns", "x", &bare, &options, &ResolvedUser::default()).unwrap();
        let p = spec.process().as_ref().unwrap();
        assert_eq!(p.env().as_ref().unwrap(), &[DEFAULT_PATH, "A=1", "TERM=xterm"]);
        assert_eq!(p.cwd(), Path::new("/"));
        assert_eq!(p.terminal(), Some(true));

        let options = SpecOptions { tty: true, env: vec!["TERM=dumb".into()], ..Default::default() };
        let spec = build_spec("ns", "x", &bare, &options, &ResolvedUser::default()).unwrap();
        assert_eq!(spec.process().as_ref().unwrap().env().as_ref().unwrap(), &[DEFAULT_PATH, "TERM=dumb"]);
    }

    #[test]
    fn user_ids_include_the_primary_group() {
        let user = ResolvedUser { uid: 1000, gid: 100, additional_gids: vec![10, 20] };
        let spec = build_spec("ns", "x", &image(), &SpecOptions::default(), &user).unwrap();
        let u = spec.process().as_ref().unwrap().user();
        assert_eq!((u.uid(), u.gid()), (1000, 100));
        assert_eq!(u.additional_gids().as_ref().unwrap(), &[100, 10, 20]);
        let user = ResolvedUser { uid: 1, gid: 10, additional_gids: vec![5, 10] };
        let spec = build_spec("ns", "x", &image(), &SpecOptions::default(), &user).unwrap();
        assert_eq!(spec.process().as_ref().unwrap().user().additional_gids().as_ref().unwrap(), &[5, 10]);
    }

    #[test]
    fn host_network() {
        let options = SpecOptions { host_network: true, ..Default::default() };
        let v = json_of(&options);
        let ns: Vec<&str> =
            v["linux"]["namespaces"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap()).collect();
        assert_eq!(ns, ["pid", "ipc", "uts", "mount"]);
        let mounts = v["mounts"].as_array().unwrap();
        assert_eq!(mounts.len(), 9);
        assert_eq!(
            mounts[7],
            json!({"destination": "/etc/hosts", "type": "bind", "source": "/etc/hosts", "options": ["rbind", "ro"]})
        );
        assert_eq!(mounts[8]["destination"], "/etc/resolv.conf");
        assert_eq!(v["hostname"].as_str(), host_hostname().as_deref());

        let options = SpecOptions { host_network: true, hostname: Some("box".into()), ..Default::default() };
        assert_eq!(json_of(&options)["hostname"], "box");
    }

    #[test]
    fn privileged() {
        let v = json_of(&SpecOptions { privileged: true, cap_drop: vec!["sys_time".into()], ..Default::default() });
        let caps = strings(&v["process"]["capabilities"]["bounding"]);
        assert_eq!(caps.len(), ALL_CAPS.len() - 1);
        assert!(caps.contains(&"CAP_SYS_ADMIN") && !caps.contains(&"CAP_SYS_TIME"));
        assert!(v["linux"].get("maskedPaths").is_none());
        assert!(v["linux"].get("readonlyPaths").is_none());
        assert_eq!(v["linux"]["resources"]["devices"], json!([{"allow": true, "access": "rwm"}]));
        let sys = v["mounts"].as_array().unwrap().iter().find(|m| m["destination"] == "/sys").unwrap();
        assert_eq!(strings(&sys["options"]), ["nosuid", "noexec", "nodev", "rw"]);
    }

    #[test]
    fn all_known_capabilities_parse() {
        assert_eq!(all_capabilities().len(), ALL_CAPS.len());
        for name in DEFAULT_CAPS {
            parse_capability(name).unwrap();
        }
        // The crate's JSON names are the CAP_-prefixed ones.
        let v = serde_json::to_value(parse_capability("net_bind_service").unwrap()).unwrap();
        assert_eq!(v, "CAP_NET_BIND_SERVICE");
    }

    #[test]
    fn readonly_root_memory_cpus_annotations() {
        let options = SpecOptions {
            readonly_rootfs: true,
            memory_limit_bytes: Some(64 << 20),
            cpus: Some(0.5),
            annotations: HashMap::from([("a".to_string(), "b".to_string())]),
            ..Default::default()
        };
        let v = json_of(&options);
        assert_eq!(v["root"], json!({"path": "rootfs", "readonly": true}));
        assert_eq!(v["linux"]["resources"]["memory"], json!({"limit": 64 << 20}));
        assert_eq!(v["linux"]["resources"]["cpu"], json!({"quota": 50000, "period": 100000}));
        assert_eq!(v["annotations"], json!({"a": "b"}));
    }

    #[test]
    fn capability_add_and_drop() {
        let options = SpecOptions {
            cap_add: vec!["NET_ADMIN".into(), "cap_sys_ptrace".into(), "CAP_CHOWN".into()],
            cap_drop: vec!["CAP_MKNOD".into(), "net_raw".into()],
            ..Default::default()
        };
        let caps = capabilities(&options).unwrap();
        assert_eq!(caps.len(), 14);
        assert!(caps.contains(&Capability::NetAdmin) && caps.contains(&Capability::SysPtrace));
        assert!(!caps.contains(&Capability::Mknod) && !caps.contains(&Capability::NetRaw));

        let options = SpecOptions { cap_drop: vec!["all".into()], cap_add: vec!["KILL".into()], ..Default::default() };
        assert_eq!(capabilities(&options).unwrap(), Capabilities::from([Capability::Kill]));
        let options = SpecOptions { cap_add: vec!["ALL".into()], ..Default::default() };
        assert_eq!(capabilities(&options).unwrap().len(), ALL_CAPS.len());
    }

    #[test]
    fn user_mounts() {
        let m = |kind: &str, source: &str, destination: &str, options: &[&str]| MountOptions {
            kind: kind.into(),
            source: source.into(),
            destination: destination.into(),
            options: options.iter().map(|o| o.to_string()).collect(),
        };
        let options = SpecOptions {
            mounts: vec![
                m("", "/data", "/data", &["ro"]),
                m("bind", "/src", "/src", &["bind"]),
                m("tmpfs", "", "/tmp", &["size=1m"]),
                m("overlay", "", "/o", &[]),
            ],
            ..Default::default()
        };
        let v = json_of(&options);
        let mounts = &v["mounts"].as_array().unwrap()[7..];
        assert_eq!(
            mounts[0],
            json!({"destination": "/data", "type": "bind", "source": "/data", "options": ["rbind", "ro"]})
        );
        assert_eq!(strings(&mounts[1]["options"]), ["bind"]);
        assert_eq!(
            mounts[2],
            json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]})
        );
        assert_eq!(mounts[3]["source"], "overlay");
    }

    #[test]
    fn image_config_parsing() {
        let doc = br#"{"architecture":"amd64","os":"linux","config":{"Env":["A=1"],"Entrypoint":null,
            "Cmd":["sh"],"WorkingDir":"","User":"app:app"},"rootfs":{"type":"layers","diff_ids":[]}}"#;
        let d = ImageDefaults::from_config_json(doc).unwrap();
        assert!(d.entrypoint.is_empty());
        assert_eq!((d.cmd, d.env), (vec!["sh".to_string()], vec!["A=1".to_string()]));
        assert_eq!((d.working_dir, d.user.as_deref()), (None, Some("app:app")));

        let d = ImageDefaults::from_config_json(br#"{"architecture":"amd64"}"#).unwrap();
        assert!(d.cmd.is_empty() && d.user.is_none());
        let err = ImageDefaults::from_config_json(b"not json").unwrap_err();
        assert_eq!(err.code, Code::FailedPrecondition);
    }

    #[test]
    fn rejects_invalid_input() {
        let bare = ImageDefaults::default();
        let err = build_spec("ns", "x", &bare, &SpecOptions::default(), &ResolvedUser::default()).unwrap_err();
        assert_eq!(err.code, Code::InvalidArgument);
        assert!(err.message.contains("no command"), "{}", err.message);
        let err = build_spec("bad/ns", "x", &image(), &SpecOptions::default(), &ResolvedUser::default()).unwrap_err();
        assert_eq!(err.code, Code::InvalidArgument);
        let err = build_spec("ns", "x/y", &image(), &SpecOptions::default(), &ResolvedUser::default()).unwrap_err();
        assert!(err.message.contains("container id"), "{}", err.message);

        let mount = |source: &str, destination: &str| MountOptions {
            kind: "bind".into(),
            source: source.into(),
            destination: destination.into(),
            options: vec![],
        };
        let cases = [
            (SpecOptions { args: Some(vec!["".into()]), ..Default::default() }, "args[0]"),
            (SpecOptions { args: Some(vec!["a\0b".into()]), ..Default::default() }, "\"a\\0b\""),
            (SpecOptions { env: vec!["NOVALUE".into()], ..Default::default() }, "\"NOVALUE\""),
            (SpecOptions { env: vec!["=x".into()], ..Default::default() }, "\"=x\""),
            (SpecOptions { env: vec!["A=\0".into()], ..Default::default() }, "NUL"),
            (SpecOptions { cwd: Some("rel".into()), ..Default::default() }, "\"rel\""),
            (SpecOptions { hostname: Some("h\0".into()), ..Default::default() }, "hostname"),
            (SpecOptions { hostname: Some("h".repeat(65)), ..Default::default() }, "hostname"),
            (SpecOptions { memory_limit_bytes: Some(0), ..Default::default() }, "memoryLimitBytes 0"),
            (SpecOptions { memory_limit_bytes: Some(-1), ..Default::default() }, "memoryLimitBytes -1"),
            (SpecOptions { cpus: Some(0.0), ..Default::default() }, "cpus 0"),
            (SpecOptions { cpus: Some(-1.0), ..Default::default() }, "cpus -1"),
            (SpecOptions { cpus: Some(f64::NAN), ..Default::default() }, "cpus NaN"),
            (SpecOptions { cpus: Some(f64::INFINITY), ..Default::default() }, "cpus inf"),
            (SpecOptions { cpus: Some(0.001), ..Default::default() }, "at least 0.01"),
            (SpecOptions { cap_add: vec!["NET_WIZARD".into()], ..Default::default() }, "\"NET_WIZARD\""),
            (SpecOptions { cap_drop: vec!["".into()], ..Default::default() }, "capability"),
            (SpecOptions { mounts: vec![mount("/a", "rel")], ..Default::default() }, "\"rel\""),
            (SpecOptions { mounts: vec![mount("/a", "/")], ..Default::default() }, "root"),
            (SpecOptions { mounts: vec![mount("/a", "//")], ..Default::default() }, "root"),
            (SpecOptions { mounts: vec![mount("rel", "/b")], ..Default::default() }, "source \"rel\""),
            (SpecOptions { mounts: vec![mount("", "/b")], ..Default::default() }, "source \"\""),
            (SpecOptions { mounts: vec![mount("/a\0", "/b")], ..Default::default() }, "NUL"),
            (
                SpecOptions { annotations: HashMap::from([(String::new(), "v".into())]), ..Default::default() },
                "annotation",
            ),
            (
                SpecOptions { annotations: HashMap::from([("k".into(), "\0".into())]), ..Default::default() },
                "annotation value",
            ),
        ];
        for (options, needle) in cases {
            invalid(options, needle);
        }

        let nul_image = ImageDefaults { cmd: vec!["a\0".into()], ..Default::default() };
        let err = build_spec("ns", "x", &nul_image, &SpecOptions::default(), &ResolvedUser::default()).unwrap_err();
        assert_eq!(err.code, Code::InvalidArgument);
    }
}
