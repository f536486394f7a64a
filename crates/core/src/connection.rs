//! Opening the gRPC channel to the daemon: unix sockets through a custom connector, tcp:// as
//! plain HTTP/2 or TLS (PEM contents, optional client certificate for containerd's mTLS).

use super::address::Address;
use super::error::{Error, Result};
use std::time::Duration;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// TLS material as PEM contents (never paths).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub ca: Option<Vec<u8>>,
    pub cert: Option<Vec<u8>>,
    pub key: Option<Vec<u8>>,
    pub server_name: Option<String>,
}

/// Connects eagerly so a missing socket or refused port is reported now, not at the first call.
/// tonic re-dials by itself after the connection breaks (e.g. a daemon restart).
pub async fn open(
    address: &Address,
    display: &str,
    tls: Option<&TlsOptions>,
    connect_timeout: Option<Duration>,
) -> Result<Channel> {
    let endpoint = endpoint(address, tls)?;
    let endpoint = match connect_timeout {
        Some(t) => endpoint.connect_timeout(t),
        None => endpoint,
    };
    let connected = match address {
        Address::Unix(path) => {
            let path = path.clone();
            endpoint
                .connect_with_connector(tower::service_fn(move |_| {
                    let path = path.clone();
                    async move {
                        let stream =
                            tokio::net::UnixStream::connect(&path).await.map_err(|e| explain_unix_failure(&path, e))?;
                        Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
                    }
                }))
                .await
        }
        Address::Tcp { .. } => endpoint.connect().await,
    };
    let channel = connected.map_err(|e| Error::from_transport(display, &e))?;
    probe(channel.clone(), display).await?;
    Ok(channel)
}

/// Plain HTTP/2 "connects" without hearing from the server, so a port that accepts and never
/// answers would pass: ask for the daemon's version. Any answer of the server, even an error
/// status (a CRI-only port says UNIMPLEMENTED), shows that it is there; only a transport failure
/// (or the caller's deadline, around this) means it is not.
async fn probe(channel: Channel, display: &str) -> Result<()> {
    use containerd_client::services::v1::version_client::VersionClient;
    match VersionClient::new(channel).version(tonic::Request::new(())).await {
        Ok(_) => Ok(()),
        Err(status) => {
            let e = Error::from_status("connect", display, &status);
            if e.is_connection_failure() {
                Err(e)
            } else {
                Ok(())
            }
        }
    }
}

fn endpoint(address: &Address, tls: Option<&TlsOptions>) -> Result<Endpoint> {
    // The URI of a unix endpoint is only used for the :authority header.
    let uri = match (address, tls) {
        (Address::Unix(_), Some(_)) => return Err(Error::invalid_argument("tls applies only to tcp:// addresses")),
        (Address::Unix(_), None) => "http://localhost".to_string(),
        (Address::Tcp { host, port }, None) => format!("http://{host}:{port}"),
        (Address::Tcp { host, port }, Some(_)) => format!("https://{host}:{port}"),
    };
    let endpoint = Endpoint::from_shared(uri)
        .map_err(|e| Error::invalid_argument(format!("invalid address: {e}")))?
        .tcp_nodelay(true);
    match tls {
        None => Ok(endpoint),
        Some(tls) => endpoint
            .tls_config(tls_config(tls)?)
            .map_err(|e| Error::invalid_argument(format!("invalid tls options: {e}"))),
    }
}

fn tls_config(tls: &TlsOptions) -> Result<ClientTlsConfig> {
    let mut config = ClientTlsConfig::new();
    config = match &tls.ca {
        Some(ca) => config.ca_certificate(Certificate::from_pem(pem("tls.ca", ca)?)),
        None => config.with_native_roots(),
    };
    if let Some(ca) = &tls.ca {
        require_v3("tls.ca", ca)?;
    }
    match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            require_v3("tls.cert", cert)?;
            config = config.identity(Identity::from_pem(pem("tls.cert", cert)?, pem("tls.key", key)?));
        }
        (None, None) => {}
        _ => return Err(Error::invalid_argument("tls.cert and tls.key must be given together")),
    }
    if let Some(name) = &tls.server_name {
        if name.is_empty() {
            return Err(Error::invalid_argument("tls.serverName must not be empty"));
        }
        config = config.domain_name(name.clone());
    }
    Ok(config)
}

/// A cheap check that catches the common mistake of passing a file path instead of its contents.
fn pem<'a>(field: &str, bytes: &'a [u8]) -> Result<&'a [u8]> {
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        Ok(bytes)
    } else {
        Err(Error::invalid_argument(format!("{field} must be PEM contents (-----BEGIN ...), not a path")))
    }
}

/// rustls (like every WebPKI verifier) accepts only X.509 v3 certificates, and a v1 one (what
/// `openssl x509 -req` makes without `-extfile`) otherwise fails as a bare "transport error".
fn require_v3(field: &str, pem: &[u8]) -> Result<()> {
    for der in pem_certificates(pem) {
        if certificate_version(&der) == Some(1) {
            return Err(Error::invalid_argument(format!(
                "{field} holds an X.509 v1 certificate; TLS needs v3 certificates (with extensions). \
                 `openssl x509 -req` makes v1 unless given extensions: add e.g. \
                 `-extfile ext.cnf` with `basicConstraints=CA:FALSE` and `extendedKeyUsage=clientAuth` \
                 (for a CA: `basicConstraints=critical,CA:TRUE`)"
            )));
        }
    }
    Ok(())
}

/// The DER bytes of each `CERTIFICATE` block of a PEM text (undecodable blocks are skipped:
/// the TLS library reports those itself).
fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine;
    let text = String::from_utf8_lossy(pem);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[start + 27..];
        let Some(end) = body.find("-----END CERTIFICATE-----") else { break };
        let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b64) {
            out.push(der);
        }
        rest = &body[end..];
    }
    out
}

/// The X.509 version (1, 2 or 3) of a DER certificate; `None` if it does not parse that far.
fn certificate_version(der: &[u8]) -> Option<u8> {
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] EXPLICIT version OPTIONAL, ... } }
    fn enter_sequence(der: &[u8]) -> Option<&[u8]> {
        if *der.first()? != 0x30 {
            return None;
        }
        let first = *der.get(1)?;
        let header = if first < 0x80 { 2 } else { 2 + usize::from(first & 0x7f) };
        der.get(header..)
    }
    let tbs = enter_sequence(enter_sequence(der)?)?;
    match tbs.first()? {
        // [0] { INTEGER version }: A0 03 02 01 vv
        0xa0 => Some(tbs.get(4..5)?[0] + 1),
        _ => Some(1),
    }
}

/// ECONNREFUSED alone does not tell a user that the path is a plain file or a dead socket.
fn explain_unix_failure(path: &std::path::Path, err: std::io::Error) -> std::io::Error {
    use std::os::unix::fs::FileTypeExt;
    let why = match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no such socket".to_string(),
        Ok(m) if !m.file_type().is_socket() => "the path is not a socket".to_string(),
        Ok(_) => format!("nothing is listening on the socket ({err})"),
        Err(_) => err.to_string(),
    };
    std::io::Error::new(err.kind(), why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    #[test]
    fn tls_needs_pem_contents_and_a_tcp_address() {
        let tcp = Address::parse("tcp://127.0.0.1:1").unwrap();
        let path = TlsOptions { ca: Some(b"/etc/ca.pem".to_vec()), ..Default::default() };
        assert_eq!(endpoint(&tcp, Some(&path)).unwrap_err().code, Code::InvalidArgument);
        let half = TlsOptions { cert: Some(b"-----BEGIN CERTIFICATE-----".to_vec()), ..Default::default() };
        assert_eq!(endpoint(&tcp, Some(&half)).unwrap_err().code, Code::InvalidArgument);
        let unix = Address::parse("/x.sock").unwrap();
        assert_eq!(endpoint(&unix, Some(&TlsOptions::default())).unwrap_err().code, Code::InvalidArgument);
    }

    #[test]
    fn v1_certificates_are_named() {
        // Minimal DER shapes: SEQUENCE { SEQUENCE { [0] { INTEGER 2 } ... } } is v3; without [0] it is v1.
        let v3 = [0x30, 0x09, 0x30, 0x07, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x00];
        let v1 = [0x30, 0x04, 0x30, 0x02, 0x02, 0x00];
        assert_eq!(certificate_version(&v3), Some(3));
        assert_eq!(certificate_version(&v1), Some(1));
        use base64::Engine;
        let pem = |der: &[u8]| {
            let b64 = base64::engine::general_purpose::STANDARD.encode(der);
            format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n").into_bytes()
        };
        assert!(require_v3("tls.cert", &pem(&v3)).is_ok());
        let e = require_v3("tls.cert", &pem(&v1)).unwrap_err();
        assert_eq!(e.code, Code::InvalidArgument);
        assert!(e.message.contains("v1") && e.message.contains("v3"), "{}", e.message);
    }

    #[tokio::test]
    async fn a_missing_socket_is_unavailable_and_named() {
        let addr = Address::parse("/nonexistent/containerd.sock").unwrap();
        let e = open(&addr, "/nonexistent/containerd.sock", None, None).await.unwrap_err();
        assert_eq!(e.code, Code::Unavailable);
        assert!(e.message.contains("/nonexistent/containerd.sock"), "{}", e.message);
        assert!(e.message.contains("no such socket"), "{}", e.message);
    }
}
