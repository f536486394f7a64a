//! Seccomp: moby's profile format (`archMap`, `includes`/`excludes` by capabilities, arches and
//! kernel version) converted into an OCI `LinuxSeccomp` for one container, as moby's
//! `seccomp_linux.go` `setupSeccomp` does. The default profile is moby/profiles
//! `seccomp/default.json`, vendored unchanged in `crates/core/data/seccomp/` (licence and version
//! there). runc resolves the syscall names (names unknown to its libseccomp are skipped).

use super::error::{Error, Result};
use oci_spec::runtime::LinuxSeccomp;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// moby/profiles seccomp/default.json (see data/seccomp/VERSION).
pub const DEFAULT_PROFILE_JSON: &str = include_str!("../data/seccomp/default.json");

/// A profile object larger than this (as JSON) is refused; moby's default is 13 KiB.
pub const MAX_PROFILE_BYTES: usize = 1 << 20;

/// What a container's `seccomp` option asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum SeccompOption {
    /// moby's default profile (what Docker, nerdctl and CRI apply).
    #[default]
    Default,
    /// No filter.
    Unconfined,
    /// A profile in moby's format (an OCI `LinuxSeccomp` object is one too).
    Profile(Value),
}

impl SeccompOption {
    /// 'default', 'unconfined', or a JSON profile object.
    pub fn parse_name(name: &str) -> Result<SeccompOption> {
        match name {
            "default" => Ok(SeccompOption::Default),
            "unconfined" => Ok(SeccompOption::Unconfined),
            _ => Err(Error::invalid_argument(format!(
                "invalid seccomp {name:?}: expected 'default', 'unconfined' or a profile object"
            ))),
        }
    }
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Profile {
    #[serde(default)]
    default_action: Option<Value>,
    #[serde(default)]
    default_errno_ret: Option<Value>,
    #[serde(default)]
    architectures: Option<Vec<Value>>,
    #[serde(default)]
    arch_map: Option<Vec<ArchEntry>>,
    #[serde(default)]
    flags: Option<Value>,
    #[serde(default)]
    listener_path: Option<Value>,
    #[serde(default)]
    listener_metadata: Option<Value>,
    #[serde(default)]
    syscalls: Option<Vec<Syscall>>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct ArchEntry {
    architecture: String,
    #[serde(default)]
    sub_architectures: Option<Vec<String>>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Syscall {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    names: Option<Vec<String>>,
    action: Value,
    #[serde(default)]
    errno_ret: Option<Value>,
    #[serde(default)]
    args: Option<Value>,
    #[serde(default)]
    includes: Option<Filter>,
    #[serde(default)]
    excludes: Option<Filter>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct Filter {
    #[serde(default)]
    caps: Vec<String>,
    #[serde(default)]
    arches: Vec<String>,
    #[serde(default)]
    min_kernel: Option<String>,
}

/// The host a profile is converted for.
#[derive(Debug, Clone)]
pub struct Target {
    /// libseccomp's native name: "amd64", "arm64", "x86", "s390x", ...
    pub arch: String,
    /// (major, minor) of the running kernel.
    pub kernel: (u64, u64),
}

impl Target {
    /// This machine: the compiled architecture and `uname -r`.
    pub fn host() -> Target {
        static HOST: OnceLock<Target> = OnceLock::new();
        HOST.get_or_init(|| Target { arch: native_arch().to_string(), kernel: host_kernel().unwrap_or((0, 0)) }).clone()
    }
}

/// Rust's target arch → libseccomp's name (moby's `goToNative`).
fn native_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "x86",
        "aarch64" => "arm64",
        "arm" => "arm",
        "loongarch64" => "loong64",
        "mips64" => "mips64",
        "powerpc" => "ppc",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "riscv64" => "riscv64",
        "s390x" => "s390x",
        other => other,
    }
}

/// libseccomp's native name → the OCI arch (moby's `nativeToSeccomp`).
fn oci_arch(native: &str) -> Option<&'static str> {
    Some(match native {
        "x86" => "SCMP_ARCH_X86",
        "amd64" => "SCMP_ARCH_X86_64",
        "arm" => "SCMP_ARCH_ARM",
        "arm64" => "SCMP_ARCH_AARCH64",
        "loong64" => "SCMP_ARCH_LOONGARCH64",
        "mips64" => "SCMP_ARCH_MIPS64",
        "mips64n32" => "SCMP_ARCH_MIPS64N32",
        "mipsel64" => "SCMP_ARCH_MIPSEL64",
        "mips3l64n32" => "SCMP_ARCH_MIPSEL64N32",
        "mipsle" => "SCMP_ARCH_MIPSEL",
        "ppc" => "SCMP_ARCH_PPC",
        "ppc64" => "SCMP_ARCH_PPC64",
        "ppc64le" => "SCMP_ARCH_PPC64LE",
        "riscv64" => "SCMP_ARCH_RISCV64",
        "s390" => "SCMP_ARCH_S390",
        "s390x" => "SCMP_ARCH_S390X",
        _ => return None,
    })
}

fn host_kernel() -> Option<(u64, u64)> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    parse_release(release.trim())
}

/// "5.15.0-91-generic" → (5, 15), as moby's `parseRelease` (`%d.%d`).
pub fn parse_release(release: &str) -> Option<(u64, u64)> {
    let mut parts = release.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts.next()?.chars().take_while(|c| c.is_ascii_digit()).collect();
    Some((major, minor.parse().ok()?))
}

/// A profile's "4.8": two numbers below 256, not 0.0 (moby's `KernelVersion.UnmarshalJSON`).
fn parse_min_kernel(version: &str) -> Result<(u64, u64)> {
    let bad =
        || Error::invalid_argument(format!("invalid seccomp minKernel {version:?}: expected \"<major>.<minor>\""));
    let (a, b) = version.split_once('.').ok_or_else(bad)?;
    let a: u8 = a.parse().map_err(|_| bad())?;
    let b: u8 = b.parse().map_err(|_| bad())?;
    if a == 0 && b == 0 {
        return Err(bad());
    }
    Ok((a.into(), b.into()))
}

fn default_profile() -> &'static Value {
    static PROFILE: OnceLock<Value> = OnceLock::new();
    PROFILE.get_or_init(|| serde_json::from_str(DEFAULT_PROFILE_JSON).unwrap_or(Value::Null))
}

/// The filter for a container: `None` for unconfined (or privileged), else the converted
/// profile for `target` and the container's bounding capabilities ("CAP_SYS_ADMIN", ...).
pub fn linux_seccomp(
    option: &SeccompOption,
    privileged: bool,
    bounding_caps: &[String],
    target: &Target,
) -> Result<Option<LinuxSeccomp>> {
    if privileged {
        return Ok(None);
    }
    let profile = match option {
        SeccompOption::Unconfined => return Ok(None),
        SeccompOption::Default => default_profile(),
        SeccompOption::Profile(value) => value,
    };
    convert(profile, bounding_caps, target)
}

/// moby's `setupSeccomp`: archMap → architectures, includes/excludes filtered, names joined.
pub fn convert(profile: &Value, bounding_caps: &[String], target: &Target) -> Result<Option<LinuxSeccomp>> {
    let invalid = |e: &dyn std::fmt::Display| Error::invalid_argument(format!("invalid seccomp profile: {e}"));
    if !profile.is_object() {
        return Err(invalid(&"expected an object"));
    }
    let size = serde_json::to_vec(profile).map_err(|e| invalid(&e))?.len();
    if size > MAX_PROFILE_BYTES {
        return Err(invalid(&format!("{size} bytes of JSON, more than {MAX_PROFILE_BYTES}")));
    }
    let p = Profile::deserialize(profile).map_err(|e| invalid(&e))?;
    let no_action = p.default_action.as_ref().is_none_or(|a| a.as_str() == Some(""));
    let syscalls = p.syscalls.unwrap_or_default();
    // moby: no default action and no syscalls means seccomp disabled.
    if no_action && syscalls.is_empty() {
        return Ok(None);
    }
    if p.architectures.as_ref().is_some_and(|a| !a.is_empty()) && p.arch_map.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err(invalid(&"both 'architectures' and 'archMap' are given; use one"));
    }

    let mut out = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            out.insert(key.to_string(), value);
        }
    };
    put("defaultAction", p.default_action);
    put("defaultErrnoRet", p.default_errno_ret);
    put("flags", p.flags);
    put("listenerPath", p.listener_path);
    put("listenerMetadata", p.listener_metadata);

    let mut arches: Vec<Value> = p.architectures.unwrap_or_default();
    if let Some(native) = oci_arch(&target.arch) {
        if let Some(entry) = p.arch_map.iter().flatten().find(|e| e.architecture == native) {
            arches.push(Value::String(entry.architecture.clone()));
            arches.extend(entry.sub_architectures.iter().flatten().cloned().map(Value::String));
        }
    }
    if !arches.is_empty() {
        out.insert("architectures".into(), Value::Array(arches));
    }

    let has_cap = |c: &String| bounding_caps.iter().any(|b| b == c);
    let mut rules = Vec::with_capacity(syscalls.len());
    for call in syscalls {
        let names = match (call.name, call.names) {
            (Some(_), Some(names)) if !names.is_empty() => {
                return Err(invalid(&"a syscall rule has both 'name' and 'names'; use one"))
            }
            (Some(name), _) => vec![name],
            (None, names) => names.unwrap_or_default(),
        };
        if let Some(ex) = &call.excludes {
            if ex.arches.contains(&target.arch) || ex.caps.iter().any(has_cap) {
                continue;
            }
            if let Some(min) = ex.min_kernel.as_deref().filter(|m| !m.is_empty()) {
                if target.kernel >= parse_min_kernel(min)? {
                    continue;
                }
            }
        }
        if let Some(inc) = &call.includes {
            if !inc.arches.is_empty() && !inc.arches.contains(&target.arch) {
                continue;
            }
            if !inc.caps.iter().all(has_cap) {
                continue;
            }
            if let Some(min) = inc.min_kernel.as_deref().filter(|m| !m.is_empty()) {
                if target.kernel < parse_min_kernel(min)? {
                    continue;
                }
            }
        }
        let mut rule = Map::new();
        rule.insert("names".into(), Value::Array(names.into_iter().map(Value::String).collect()));
        rule.insert("action".into(), call.action);
        if let Some(errno) = call.errno_ret {
            rule.insert("errnoRet".into(), errno);
        }
        if let Some(args) = call.args.filter(|a| !a.is_null()) {
            rule.insert("args".into(), args);
        }
        rules.push(Value::Object(rule));
    }
    if !rules.is_empty() {
        out.insert("syscalls".into(), Value::Array(rules));
    }
    // oci-spec checks the action, arch, flag and operator names and the number types.
    let seccomp: LinuxSeccomp = serde_json::from_value(Value::Object(out)).map_err(|e| invalid(&e))?;
    Ok(Some(seccomp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn amd64(kernel: (u64, u64)) -> Target {
        Target { arch: "amd64".into(), kernel }
    }

    fn names(s: &LinuxSeccomp) -> Vec<String> {
        s.syscalls().iter().flatten().flat_map(|c| c.names().clone()).collect()
    }

    fn default_caps() -> Vec<String> {
        ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_profile_for_amd64() {
        let s = linux_seccomp(&SeccompOption::Default, false, &default_caps(), &amd64((6, 1))).unwrap().unwrap();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(v["defaultErrnoRet"], 1);
        assert_eq!(v["architectures"], json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]));
        let all = names(&s);
        assert!(all.iter().any(|n| n == "read") && all.iter().any(|n| n == "arch_prctl"), "amd64 rule");
        assert!(!all.iter().any(|n| n == "mount" || n == "unshare"), "CAP_SYS_ADMIN rules left out");
        assert!(!all.iter().any(|n| n == "s390_pci_mmio_read"), "s390 rule left out");
        assert!(!all.iter().any(|n| n == "ptrace") || (6, 1) >= (4, 8), "ptrace on kernels >= 4.8");
        // clone3 gets ENOSYS without CAP_SYS_ADMIN, so libcs fall back to clone.
        let clone3 = s.syscalls().iter().flatten().find(|c| c.names().iter().any(|n| n == "clone3")).unwrap();
        assert_eq!(clone3.errno_ret(), Some(38));
    }

    #[test]
    fn capabilities_and_kernel_unlock_rules() {
        let mut caps = default_caps();
        caps.push("CAP_SYS_ADMIN".into());
        let s = linux_seccomp(&SeccompOption::Default, false, &caps, &amd64((6, 1))).unwrap().unwrap();
        let all = names(&s);
        assert!(all.iter().any(|n| n == "mount") && all.iter().any(|n| n == "unshare"));
        assert!(!s.syscalls().iter().flatten().any(|c| c.errno_ret() == Some(38)), "clone3 allowed");

        let old = linux_seccomp(&SeccompOption::Default, false, &default_caps(), &amd64((4, 4))).unwrap().unwrap();
        let new = linux_seccomp(&SeccompOption::Default, false, &default_caps(), &amd64((4, 8))).unwrap().unwrap();
        assert!(!names(&old).iter().any(|n| n == "ptrace") && names(&new).iter().any(|n| n == "ptrace"));

        let arm = Target { arch: "arm64".into(), kernel: (6, 1) };
        let s = linux_seccomp(&SeccompOption::Default, false, &default_caps(), &arm).unwrap().unwrap();
        assert_eq!(serde_json::to_value(&s).unwrap()["architectures"], json!(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]));
        assert!(!names(&s).iter().any(|n| n == "arch_prctl"));
    }

    #[test]
    fn unconfined_privileged_and_objects() {
        let t = amd64((6, 1));
        assert!(linux_seccomp(&SeccompOption::Unconfined, false, &[], &t).unwrap().is_none());
        assert!(linux_seccomp(&SeccompOption::Default, true, &[], &t).unwrap().is_none());
        let p = SeccompOption::Profile(json!({}));
        assert!(linux_seccomp(&p, false, &[], &t).unwrap().is_none(), "empty profile: disabled, as moby");

        let p = SeccompOption::Profile(json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "comment": "x"},
                         {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO",
                          "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]
        }));
        let v = serde_json::to_value(linux_seccomp(&p, false, &[], &t).unwrap().unwrap()).unwrap();
        assert_eq!(
            v,
            json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                   "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                                {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO",
                                 "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]})
        );
    }

    #[test]
    fn rejects_bad_profiles() {
        let t = amd64((6, 1));
        let bad = [
            (json!("x"), "an object"),
            (json!({"defaultAction": "SCMP_ACT_SOMETIMES"}), "SCMP_ACT_SOMETIMES"),
            (
                json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                    "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}),
                "archMap",
            ),
            (
                json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]}),
                "'names'",
            ),
            (
                json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW",
                    "includes": {"minKernel": "4"}}]}),
                "minKernel",
            ),
            (json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": 7}]}), "invalid"),
            (
                json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_MAYBE"}]}]}),
                "SCMP_CMP_MAYBE",
            ),
            (json!({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["x".repeat(MAX_PROFILE_BYTES)]}), "bytes"),
        ];
        for (profile, needle) in bad {
            let err = linux_seccomp(&SeccompOption::Profile(profile), false, &[], &t).unwrap_err();
            assert_eq!(err.code, super::super::error::Code::InvalidArgument);
            assert!(err.message.contains(needle), "{:?} lacks {needle:?}", err.message);
        }
        assert!(SeccompOption::parse_name("Default").is_err());
        assert_eq!(SeccompOption::parse_name("unconfined").unwrap(), SeccompOption::Unconfined);
    }

    #[test]
    fn releases() {
        assert_eq!(parse_release("5.15.0-91-generic"), Some((5, 15)));
        assert_eq!(parse_release("6.1"), Some((6, 1)));
        assert_eq!(parse_release("6.10rc1"), Some((6, 10)));
        assert_eq!(parse_release("x.1"), None);
        assert!(parse_min_kernel("0.0").is_err() && parse_min_kernel("300.1").is_err());
        assert_eq!(parse_min_kernel("4.8").unwrap(), (4, 8));
        assert!(Target::host().kernel > (3, 0));
    }
}
