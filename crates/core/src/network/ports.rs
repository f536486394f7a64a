//! Published ports: the string and object forms the README describes, and the check that a host port is free.

use crate::error::{Code, Error, Result};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortMapping {
    pub host_port: u16,
    pub container_port: u16,
    pub protocol: Protocol,
    pub host_ip: Ipv4Addr,
}

/// A port as the caller gave it: `'[hostIp:]hostPort:containerPort[/proto]'` or its fields.
#[derive(Debug, Clone)]
pub enum PortSpec {
    Text(String),
    Fields { host_port: f64, container_port: f64, protocol: Option<String>, host_ip: Option<String> },
}

impl PortSpec {
    pub fn parse(&self) -> Result<PortMapping> {
        match self {
            PortSpec::Text(text) => parse_text(text),
            PortSpec::Fields { host_port, container_port, protocol, host_ip } => Ok(PortMapping {
                host_port: port_number(*host_port, "hostPort")?,
                container_port: port_number(*container_port, "containerPort")?,
                protocol: protocol.as_deref().map_or(Ok(Protocol::Tcp), parse_protocol)?,
                host_ip: host_ip.as_deref().map_or(Ok(Ipv4Addr::UNSPECIFIED), parse_host_ip)?,
            }),
        }
    }
}

fn port_number(n: f64, what: &str) -> Result<u16> {
    crate::numbers::integer_in(what, n, 1, 65535).map(|n| n as u16)
}

fn parse_protocol(p: &str) -> Result<Protocol> {
    match p {
        "tcp" => Ok(Protocol::Tcp),
        "udp" => Ok(Protocol::Udp),
        _ => Err(Error::invalid_argument(format!("invalid port protocol {p:?}: expected 'tcp' or 'udp'"))),
    }
}

fn parse_host_ip(ip: &str) -> Result<Ipv4Addr> {
    ip.parse().map_err(|_| {
        Error::invalid_argument(format!("invalid hostIp {ip:?}: an IPv4 address is needed (IPv6 is not supported)"))
    })
}

fn parse_text(text: &str) -> Result<PortMapping> {
    let bad = |why: &str| {
        Error::invalid_argument(format!(
            "invalid port {text:?}: {why} (expected '[hostIp:]hostPort:containerPort[/tcp|udp]')"
        ))
    };
    let (ports, protocol) = match text.split_once('/') {
        Some((ports, proto)) => (ports, parse_protocol(proto)?),
        None => (text, Protocol::Tcp),
    };
    let parts: Vec<&str> = ports.split(':').collect();
    let (host_ip, host_port, container_port) = match parts.as_slice() {
        [host, container] => (Ipv4Addr::UNSPECIFIED, *host, *container),
        [ip, host, container] => (parse_host_ip(ip)?, *host, *container),
        [_] => return Err(bad("a host port is needed")),
        _ => return Err(bad("too many ':'")),
    };
    let number = |s: &str, what: &str| -> Result<u16> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 5 {
            return Err(bad(&format!("the {what} must be a number")));
        }
        port_number(s.parse::<f64>().unwrap_or(0.0), what)
    };
    Ok(PortMapping {
        host_port: number(host_port, "hostPort")?,
        container_port: number(container_port, "containerPort")?,
        protocol,
        host_ip,
    })
}

/// Two mappings compete for the same host socket.
pub fn collide(a: &PortMapping, b: &PortMapping) -> bool {
    a.host_port == b.host_port
        && a.protocol == b.protocol
        && (a.host_ip == b.host_ip || a.host_ip.is_unspecified() || b.host_ip.is_unspecified())
}

/// Fails with AlreadyExists when a process on this host has the port bound (portmap's DNAT
/// would silently shadow it), with InvalidArgument when hostIp is not an address of this host.
pub fn check_host_free(m: &PortMapping) -> Result<()> {
    let addr = SocketAddrV4::new(m.host_ip, m.host_port);
    let bound = match m.protocol {
        Protocol::Tcp => TcpListener::bind(addr).map(drop),
        Protocol::Udp => UdpSocket::bind(addr).map(drop),
    };
    match bound {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(Error::new(
            Code::AlreadyExists,
            format!(
                "host port {}/{} on {} is already bound by a process on this host",
                m.host_port,
                m.protocol.as_str(),
                m.host_ip
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => {
            Err(Error::invalid_argument(format!("hostIp {} is not an address of this host", m.host_ip)))
        }
        Err(e) => Err(Error::new(Code::Internal, format!("checking host port {}: {e}", m.host_port))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Result<PortMapping> {
        PortSpec::Text(s.into()).parse()
    }

    #[test]
    fn string_forms() {
        let m = text("8080:80").unwrap();
        assert_eq!(
            (m.host_port, m.container_port, m.protocol, m.host_ip),
            (8080, 80, Protocol::Tcp, Ipv4Addr::UNSPECIFIED)
        );
        let m = text("127.0.0.1:8080:80/tcp").unwrap();
        assert_eq!(m.host_ip, Ipv4Addr::LOCALHOST);
        assert_eq!(text("5353:53/udp").unwrap().protocol, Protocol::Udp);
        for bad in
            ["80", "0:80", "8080:0", "70000:80", "a:80", "8080:80/sctp", "::1:80:80", "1:2:3:4", "", ":80", "8080:80/"]
        {
            assert_eq!(text(bad).unwrap_err().code, Code::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn field_form() {
        let f = |h: f64, c: f64, p: Option<&str>, ip: Option<&str>| {
            PortSpec::Fields {
                host_port: h,
                container_port: c,
                protocol: p.map(Into::into),
                host_ip: ip.map(Into::into),
            }
            .parse()
        };
        assert_eq!(f(8080.0, 80.0, None, Some("127.0.0.1")).unwrap().host_ip, Ipv4Addr::LOCALHOST);
        assert!(f(0.0, 80.0, None, None).is_err());
        assert!(f(65536.0, 80.0, None, None).is_err());
        assert!(f(80.5, 80.0, None, None).is_err());
        assert!(f(80.0, 80.0, Some("icmp"), None).is_err());
        assert!(f(80.0, 80.0, None, Some("::1")).is_err());
    }

    #[test]
    fn collisions() {
        let a = text("8080:80").unwrap();
        assert!(collide(&a, &text("127.0.0.1:8080:81").unwrap()));
        assert!(!collide(&a, &text("8080:80/udp").unwrap()));
        assert!(!collide(&text("127.0.0.1:8080:80").unwrap(), &text("127.0.0.2:8080:80").unwrap()));
    }

    #[test]
    fn bound_port_is_already_exists() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let m = text(&format!("127.0.0.1:{port}:80")).unwrap();
        assert_eq!(check_host_free(&m).unwrap_err().code, Code::AlreadyExists);
        drop(l);
        check_host_free(&m).unwrap();
    }
}
