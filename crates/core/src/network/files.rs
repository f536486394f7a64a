//! A container's /etc/hosts and /etc/resolv.conf. Both are bind-mounted into the container, so
//! they are rewritten in place (a rename would leave the mount on the old inode).

use crate::error::{Code, Error, Result};
use std::io::Write;
use std::net::Ipv4Addr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// localhost, the container itself, its peers on the network (by container id), then the
/// caller's extra hosts.
pub fn hosts(own: (Ipv4Addr, &[&str]), peers: &[(Ipv4Addr, String)], extra: &[(String, Ipv4Addr)]) -> String {
    let mut out = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    let mut names: Vec<&str> = own.1.to_vec();
    names.dedup();
    out.push_str(&format!("{}\t{}\n", own.0, names.join(" ")));
    for (ip, name) in peers {
        out.push_str(&format!("{ip}\t{name}\n"));
    }
    for (name, ip) in extra {
        out.push_str(&format!("{ip}\t{name}\n"));
    }
    out
}

/// `dns` as nameservers; without it the host's file minus loopback nameservers (which mean
/// nothing inside the container's own network namespace).
pub fn resolv_conf(dns: Option<&[Ipv4Addr]>, host: &str) -> String {
    match dns {
        Some(servers) => servers.iter().map(|s| format!("nameserver {s}\n")).collect(),
        None => host
            .lines()
            .filter(|line| {
                let mut words = line.split_whitespace();
                !(words.next() == Some("nameserver") && words.next().is_some_and(is_loopback))
            })
            .map(|line| format!("{line}\n"))
            .collect(),
    }
}

fn is_loopback(server: &str) -> bool {
    server.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Writes `content` into `path` in place (created 0644 if missing; never follows a symlink).
pub fn write_in_place(path: &Path, content: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| Error::new(Code::Internal, format!("writing {}: {e}", path.display())))?;
    file.write_all(content.as_bytes())
        .map_err(|e| Error::new(Code::Internal, format!("writing {}: {e}", path.display())))
}

/// A name for /etc/hosts: letters, digits, '.', '-' and '_' (no whitespace or '#').
pub fn check_host_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!(
            "invalid extraHosts name {name:?}: letters, digits, '.', '-' and '_' only"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lists_self_peers_and_extras() {
        let ip = Ipv4Addr::new(10, 90, 0, 2);
        let text = hosts(
            (ip, &["web", "web"]),
            &[(Ipv4Addr::new(10, 90, 0, 3), "db".into())],
            &[("api.local".into(), Ipv4Addr::new(10, 1, 1, 1))],
        );
        assert!(text.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(text.contains("10.90.0.2\tweb\n"));
        assert!(text.contains("10.90.0.3\tdb\n"));
        assert!(text.ends_with("10.1.1.1\tapi.local\n"));
    }

    #[test]
    fn resolv_conf_drops_loopback_nameservers() {
        let host = "search lan\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nnameserver ::1\noptions edns0\n";
        assert_eq!(resolv_conf(None, host), "search lan\nnameserver 192.0.2.1\noptions edns0\n");
        let dns = [Ipv4Addr::new(10, 90, 0, 250)];
        assert_eq!(resolv_conf(Some(&dns), host), "nameserver 10.90.0.250\n");
    }

    #[test]
    fn host_names() {
        assert!(check_host_name("db.internal").is_ok());
        for bad in ["", "a b", "a#b", "x\ny"] {
            assert!(check_host_name(bad).is_err(), "{bad:?}");
        }
    }
}
