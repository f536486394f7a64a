//! What the CNI plugins leave to us: isolation between our networks (the firewall plugin only
//! adds ACCEPT rules) and the removal of a network's bridge (CNI DEL keeps it). Tools are run
//! with argument arrays; nothing goes through a shell.

use crate::error::{Code, Error, Result};
use std::process::Command;

/// Every bridge of ours starts with this, so one wildcard (`cnapi+`) matches them all.
pub const BRIDGE_PREFIX: &str = "cnapi";
/// The chain the firewall plugin's own CNI-FORWARD jumps to first (its `iptablesAdminChainName`).
const FORWARD_CHAIN: &str = "CNI-FORWARD";

fn run(program: &str, args: &[&str]) -> std::io::Result<std::process::Output> {
    Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
}

fn iptables(args: &[&str]) -> Result<std::process::Output> {
    let mut full = vec!["-w", "-t", "filter"];
    full.extend_from_slice(args);
    run("iptables", &full).map_err(|e| {
        Error::new(Code::FailedPrecondition, format!("running iptables: {e} (on Debian: apt-get install iptables)"))
    })
}

fn ok(args: &[&str]) -> Result<bool> {
    Ok(iptables(args)?.status.success())
}

fn must(args: &[&str]) -> Result<()> {
    let out = iptables(args)?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::new(
        Code::Internal,
        format!("iptables {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()),
    ))
}

fn rules_for(bridge: &str) -> [[&str; 6]; 2] {
    let ours = "cnapi+";
    [["-i", bridge, "-o", bridge, "-j", "RETURN"], ["-i", bridge, "-o", ours, "-j", "DROP"]]
}

/// Traffic from `bridge` to any other bridge of ours is dropped; within it, it goes on.
pub fn isolate(chain: &str, bridge: &str) -> Result<()> {
    if !ok(&["-n", "-L", chain])? {
        let _ = ok(&["-N", chain])?; // a concurrent creator may win; the check below decides
    }
    for rule in rules_for(bridge) {
        let mut check = vec!["-C", chain];
        check.extend_from_slice(&rule);
        if !ok(&check)? {
            let mut add = vec!["-A", chain];
            add.extend_from_slice(&rule);
            must(&add)?;
        }
    }
    Ok(())
}

/// Removes `bridge`'s rules; with the last bridge gone, the chain and the jump to it too.
pub fn unisolate(chain: &str, bridge: &str) -> Result<()> {
    if !ok(&["-n", "-L", chain])? {
        return Ok(());
    }
    for rule in rules_for(bridge) {
        let mut del = vec!["-D", chain];
        del.extend_from_slice(&rule);
        while ok(&del)? {}
    }
    let listing = iptables(&["-S", chain])?;
    let rules = String::from_utf8_lossy(&listing.stdout).lines().filter(|l| l.starts_with("-A ")).count();
    if rules > 0 {
        return Ok(());
    }
    // The firewall plugin's jump into our chain (it carries a comment; delete it by its own spec).
    let forward = iptables(&["-S", FORWARD_CHAIN])?;
    for line in String::from_utf8_lossy(&forward.stdout).lines() {
        let words = split_rule(line);
        if words.first().map(String::as_str) == Some("-A") && words.windows(2).any(|w| w[0] == "-j" && w[1] == chain) {
            let mut del: Vec<&str> = vec!["-D"];
            del.extend(words[1..].iter().map(String::as_str));
            let _ = ok(&del)?;
        }
    }
    let _ = ok(&["-F", chain])?;
    let _ = ok(&["-X", chain])?;
    Ok(())
}

/// Splits an `iptables -S` line into arguments (double-quoted comments stay one argument).
fn split_rule(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

/// Deletes a bridge device; one that does not exist is fine.
pub fn delete_bridge(bridge: &str) -> Result<()> {
    if !std::path::Path::new("/sys/class/net").join(bridge).exists() {
        return Ok(());
    }
    let out = run("ip", &["link", "delete", bridge, "type", "bridge"]).map_err(|e| {
        Error::new(Code::FailedPrecondition, format!("running ip: {e} (on Debian: apt-get install iproute2)"))
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::new(
            Code::Internal,
            format!("deleting bridge {bridge}: {}", String::from_utf8_lossy(&out.stderr).trim()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_comments() {
        let line = r#"-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNAPI-ISO-1"#;
        let words = split_rule(line);
        assert_eq!(words[5], "CNI firewall plugin admin overrides");
        assert_eq!(words.last().unwrap(), "CNAPI-ISO-1");
        assert_eq!(split_rule(r#"-A X --comment "" -j Y"#), vec!["-A", "X", "--comment", "", "-j", "Y"]);
    }
}
