//! Parsing of the daemon address forms the README accepts (Connecting).

use super::error::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A unix socket path (plain path or `unix://` URI).
    Unix(PathBuf),
    /// `tcp://host:port`; `host` keeps IPv6 brackets so it can go into a URI as is.
    Tcp { host: String, port: u16 },
}

pub const DEFAULT_ADDRESS: &str = "/run/containerd/containerd.sock";

impl Address {
    pub fn parse(text: &str) -> Result<Address> {
        let bad = |why: &str| Err(Error::invalid_argument(format!("invalid address {text:?}: {why}")));
        if text.trim().is_empty() {
            return bad("must not be empty");
        }
        if text.contains('\0') {
            return bad("contains a NUL byte");
        }
        if let Some(path) = text.strip_prefix("unix://") {
            if path.is_empty() {
                return bad("unix:// needs a socket path");
            }
            return Ok(Address::Unix(PathBuf::from(path)));
        }
        if let Some(rest) = text.strip_prefix("tcp://") {
            let rest = rest.strip_suffix('/').unwrap_or(rest);
            let Some((host, port)) = rest.rsplit_once(':') else {
                return bad("expected tcp://host:port");
            };
            let port: u16 = match port.parse() {
                Ok(p) if p > 0 => p,
                _ => return bad("the port must be a number from 1 to 65535"),
            };
            let valid_host = if let Some(inner) = host.strip_prefix('[') {
                inner.strip_suffix(']').is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
            } else {
                !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            };
            if !valid_host {
                return bad("the host must be a name, an IPv4 address or a [bracketed] IPv6 address");
            }
            return Ok(Address::Tcp { host: host.to_string(), port });
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return bad(&format!("unsupported scheme {scheme:?} (use a path, unix:// or tcp://)"));
        }
        Ok(Address::Unix(PathBuf::from(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(Address::parse("/run/c.sock").unwrap(), Address::Unix("/run/c.sock".into()));
        assert_eq!(Address::parse("unix:///run/c.sock").unwrap(), Address::Unix("/run/c.sock".into()));
        assert_eq!(
            Address::parse("tcp://127.0.0.1:1234").unwrap(),
            Address::Tcp { host: "127.0.0.1".into(), port: 1234 }
        );
        assert_eq!(Address::parse("tcp://[::1]:5").unwrap(), Address::Tcp { host: "[::1]".into(), port: 5 });
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "  ",
            "unix://",
            "tcp://host",
            "tcp://:80",
            "tcp://h:0",
            "tcp://h:99999",
            "tcp://a b:1",
            "tcp://[zz]:1",
            "http://x:1",
            "a\0b",
        ] {
            let e = Address::parse(bad).unwrap_err();
            assert_eq!(e.code, crate::error::Code::InvalidArgument, "{bad:?}");
        }
    }
}
