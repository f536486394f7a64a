//! A CNI plugin executor (the CNI spec, version 1.0.0): each plugin is run directly with its
//! arguments in CNI_* variables of its own environment (never this process's, never a shell),
//! the network config on stdin, and a result or `{code, msg}` on stdout.

use crate::error::{Code, Error, Result};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

pub const CNI_VERSION: &str = "1.0.0";
const TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_DIRS: [&str; 2] = ["/opt/cni/bin", "/usr/lib/cni"];

/// Where plugins are looked up: $CNI_PATH, then /opt/cni/bin and Debian's /usr/lib/cni.
pub fn plugin_dirs() -> Vec<PathBuf> {
    let from_env = std::env::var("CNI_PATH").unwrap_or_default();
    from_env.split(':').filter(|d| !d.is_empty()).map(PathBuf::from).chain(DEFAULT_DIRS.map(PathBuf::from)).collect()
}

pub fn find_plugin(dirs: &[PathBuf], name: &str) -> Result<PathBuf> {
    dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()).ok_or_else(|| {
        Error::new(
            Code::FailedPrecondition,
            format!(
                "the CNI plugin {name:?} was not found in {} (on Debian: apt-get install containernetworking-plugins)",
                dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

/// What one plugin call is about.
pub struct Invocation<'a> {
    pub command: &'a str, // ADD | DEL
    pub container_id: &'a str,
    pub netns: &'a Path,
    pub ifname: &'a str,
}

/// Runs one plugin with `config` (which carries `type`) and returns its parsed result (Null for
/// an empty answer, as DEL gives).
pub fn exec(dirs: &[PathBuf], call: &Invocation, config: &Value) -> Result<Value> {
    let kind = config["type"].as_str().unwrap_or_default();
    let plugin = find_plugin(dirs, kind)?;
    let path_list = std::env::join_paths(dirs).map_err(|e| Error::new(Code::Internal, format!("CNI_PATH: {e}")))?;
    let what = format!("CNI {} {kind} for {}", call.command, call.container_id);
    let internal = |e: std::io::Error| Error::new(Code::Internal, format!("{what}: {e}"));
    let mut child = Command::new(&plugin)
        .env_clear()
        .env("CNI_COMMAND", call.command)
        .env("CNI_CONTAINERID", call.container_id)
        .env("CNI_NETNS", call.netns)
        .env("CNI_IFNAME", call.ifname)
        .env("CNI_PATH", path_list)
        // The plugins run iptables and friends from PATH.
        .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(internal)?;
    // The config is a few KiB: it fits the pipe, so writing before reading cannot deadlock.
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(config.to_string().as_bytes()).map_err(internal)?;
    }
    let pid = child.id() as libc::pid_t;
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let timed_out = finished.recv_timeout(TIMEOUT).is_err();
        if timed_out {
            // SAFETY: plain kill(2) of the child we spawned, not yet reaped (wait below is pending).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        timed_out
    });
    let output = child.wait_with_output();
    let _ = done.send(());
    let timed_out = watchdog.join().unwrap_or(false);
    let output = output.map_err(internal)?;
    if timed_out {
        return Err(Error::new(Code::DeadlineExceeded, format!("{what}: no answer within {} s", TIMEOUT.as_secs())));
    }
    let answer: Value = if output.stdout.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&output.stdout).map_err(|e| {
            Error::new(Code::Internal, format!("{what}: the plugin printed no JSON ({e}): {}", excerpt(&output.stdout)))
        })?
    };
    if output.status.success() {
        return Ok(answer);
    }
    let msg = answer["msg"].as_str().map(str::to_string).unwrap_or_else(|| excerpt(&output.stderr));
    let details = answer["details"].as_str().unwrap_or_default();
    let mut err = Error::new(Code::Internal, format!("{what} failed: {msg}"));
    if !details.is_empty() {
        err.details = Some(details.to_string());
    }
    Err(err)
}

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.trim().chars().take(500).collect()
}

/// A plugin's config as a member of a chain: the list's name and version, the previous
/// plugin's result, and the runtime config its capabilities ask for.
pub fn chained(plugin: &Value, list_name: &str, prev: Option<&Value>, runtime: &Value) -> Value {
    let mut config = plugin.clone();
    config["name"] = json!(list_name);
    config["cniVersion"] = json!(CNI_VERSION);
    if let Some(prev) = prev {
        config["prevResult"] = prev.clone();
    }
    let wanted: Vec<String> = plugin["capabilities"]
        .as_object()
        .map(|caps| caps.iter().filter(|(_, on)| on.as_bool() == Some(true)).map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    let runtime_config: serde_json::Map<String, Value> = runtime
        .as_object()
        .map(|rc| rc.iter().filter(|(k, _)| wanted.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    if !runtime_config.is_empty() {
        config["runtimeConfig"] = Value::Object(runtime_config);
    }
    config
}

/// ADD of a chain: each plugin gets the previous one's result; the last result is the chain's.
/// On a failure the plugins already added are deleted again (in reverse) before returning it.
pub fn add_chain(dirs: &[PathBuf], call: &Invocation, name: &str, plugins: &[Value], runtime: &Value) -> Result<Value> {
    let mut result: Option<Value> = None;
    for (i, plugin) in plugins.iter().enumerate() {
        let config = chained(plugin, name, result.as_ref(), runtime);
        match exec(dirs, call, &config) {
            Ok(r) => result = Some(r),
            Err(e) => {
                let _ = del_chain(dirs, call, name, &plugins[..=i], result.as_ref(), runtime);
                return Err(e);
            }
        }
    }
    Ok(result.unwrap_or(Value::Null))
}

/// DEL of a chain, in reverse, each plugin with the cached ADD result as prevResult (portmap and
/// firewall need it, and portmap the port mappings again, to find what to remove). Every plugin
/// is tried; the first failure is returned.
pub fn del_chain(
    dirs: &[PathBuf],
    call: &Invocation,
    name: &str,
    plugins: &[Value],
    prev: Option<&Value>,
    runtime: &Value,
) -> Result<()> {
    let del = Invocation { command: "DEL", ..*call };
    let mut first_error = None;
    for plugin in plugins.iter().rev() {
        if let Err(e) = exec(dirs, &del, &chained(plugin, name, prev, runtime)) {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chained_passes_only_declared_capabilities() {
        let plugin = json!({"type": "portmap", "capabilities": {"portMappings": true}});
        let runtime = json!({"portMappings": [{"hostPort": 1}], "bandwidth": {}});
        let c = chained(&plugin, "net", Some(&json!({"ips": []})), &runtime);
        assert_eq!(c["name"], "net");
        assert_eq!(c["cniVersion"], CNI_VERSION);
        assert_eq!(c["runtimeConfig"], json!({"portMappings": [{"hostPort": 1}]}));
        assert_eq!(c["prevResult"], json!({"ips": []}));
        let bridge = chained(&json!({"type": "bridge"}), "net", None, &runtime);
        assert!(bridge.get("runtimeConfig").is_none() && bridge.get("prevResult").is_none());
    }

    #[test]
    fn missing_plugin_names_the_package() {
        let e = find_plugin(&[PathBuf::from("/nonexistent")], "bridge").unwrap_err();
        assert_eq!(e.code, Code::FailedPrecondition);
        assert!(e.message.contains("containernetworking-plugins"), "{}", e.message);
    }
}
