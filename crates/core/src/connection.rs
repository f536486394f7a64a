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
    connected.map_err(|e| Error::from_transport(display, &e))
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
    match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
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

    #[tokio::test]
    async fn a_missing_socket_is_unavailable_and_named() {
        let addr = Address::parse("/nonexistent/containerd.sock").unwrap();
        let e = open(&addr, "/nonexistent/containerd.sock", None, None).await.unwrap_err();
        assert_eq!(e.code, Code::Unavailable);
        assert!(e.message.contains("/nonexistent/containerd.sock"), "{}", e.message);
        assert!(e.message.contains("no such socket"), "{}", e.message);
    }
}
