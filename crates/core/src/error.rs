//! The one place where failures are classified. Every gRPC status, transport failure and argument
//! check becomes an [`Error`] with a [`Code`] from the README's Errors section; the binding layer turns it into the
//! matching JS error class without looking at it again.

use std::fmt;

/// The error codes of the README's Errors section; the discriminants are the gRPC status code numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

impl Code {
    /// Every code, in gRPC number order: the one list the binding hands to JS (lib/errors.js
    /// builds its classes from it; a unit test holds index.d.ts to it).
    pub const ALL: [Code; 16] = [
        Code::Cancelled,
        Code::Unknown,
        Code::InvalidArgument,
        Code::DeadlineExceeded,
        Code::NotFound,
        Code::AlreadyExists,
        Code::PermissionDenied,
        Code::ResourceExhausted,
        Code::FailedPrecondition,
        Code::Aborted,
        Code::OutOfRange,
        Code::Unimplemented,
        Code::Internal,
        Code::Unavailable,
        Code::DataLoss,
        Code::Unauthenticated,
    ];

    /// The name JS sees in `err.code`.
    pub fn name(self) -> &'static str {
        match self {
            Code::Cancelled => "CANCELLED",
            Code::Unknown => "UNKNOWN",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::PermissionDenied => "PERMISSION_DENIED",
            Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Code::FailedPrecondition => "FAILED_PRECONDITION",
            Code::Aborted => "ABORTED",
            Code::OutOfRange => "OUT_OF_RANGE",
            Code::Unimplemented => "UNIMPLEMENTED",
            Code::Internal => "INTERNAL",
            Code::Unavailable => "UNAVAILABLE",
            Code::DataLoss => "DATA_LOSS",
            Code::Unauthenticated => "UNAUTHENTICATED",
        }
    }

    pub fn grpc(self) -> i32 {
        self as i32
    }

    fn from_tonic(code: tonic::Code) -> Code {
        use tonic::Code as T;
        match code {
            T::Cancelled => Code::Cancelled,
            T::InvalidArgument => Code::InvalidArgument,
            T::DeadlineExceeded => Code::DeadlineExceeded,
            T::NotFound => Code::NotFound,
            T::AlreadyExists => Code::AlreadyExists,
            T::PermissionDenied => Code::PermissionDenied,
            T::ResourceExhausted => Code::ResourceExhausted,
            T::FailedPrecondition => Code::FailedPrecondition,
            T::Aborted => Code::Aborted,
            T::OutOfRange => Code::OutOfRange,
            T::Unimplemented => Code::Unimplemented,
            T::Internal => Code::Internal,
            T::Unavailable => Code::Unavailable,
            T::DataLoss => Code::DataLoss,
            T::Unauthenticated => Code::Unauthenticated,
            // `Ok` never reaches here as an error; treat it like any unclassified failure.
            T::Ok | T::Unknown => Code::Unknown,
        }
    }
}

/// A classified failure: `message` is for people, `details` is the daemon's (or registry's) own text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: Code,
    pub message: String,
    pub details: Option<String>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error { code, message: message.into(), details: None }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(Code::InvalidArgument, message)
    }

    pub fn cancelled(what: &str) -> Error {
        Error::new(Code::Cancelled, format!("{what}: the operation was aborted"))
    }

    pub fn deadline(what: &str, address: &str, timeout_ms: u128) -> Error {
        Error::new(
            Code::DeadlineExceeded,
            format!("{what}: containerd at {address} did not answer within {timeout_ms} ms"),
        )
    }

    /// A failed RPC. `what` names the operation ("create namespace \"x\""); `address` is used when
    /// the failure is the connection itself rather than the daemon's answer.
    pub fn from_status(what: &str, address: &str, status: &tonic::Status) -> Error {
        let code = Code::from_tonic(status.code());
        let chain = source_chain(status);
        // tonic reports transport failures (refused, reset, TLS alerts: as UNAVAILABLE, UNKNOWN
        // or CANCELLED) as a status whose source is the transport error; the daemon's own answers
        // (including its UNAVAILABLE "ref locked") have none. Only the former is about the connection.
        if !chain.is_empty() {
            let mut text = status.message().to_string();
            for cause in chain {
                if !text.contains(&cause) {
                    text = format!("{text}: {cause}");
                }
            }
            return connection_error(what, address, &text);
        }
        Error { code, message: format!("{what}: {}", status.message()), details: Some(status.message().to_string()) }
    }

    /// A failure to establish the connection (eager connect).
    pub fn from_transport(address: &str, err: &(dyn std::error::Error + 'static)) -> Error {
        let mut text = err.to_string();
        for cause in source_chain(err) {
            if !text.contains(&cause) {
                text = format!("{text}: {cause}");
            }
        }
        connection_error("connect", address, &text)
    }
}

impl Error {
    /// Whether the connection to the daemon failed (as opposed to the daemon answering UNAVAILABLE):
    /// such a call may succeed again once the daemon is back.
    pub fn is_connection_failure(&self) -> bool {
        self.code == Code::Unavailable && self.message.contains(" containerd at ")
    }

    /// A registry's HTTP error answer. `body` is the registry's JSON error document if any; its
    /// first message becomes `details` (registries never echo credentials there).
    pub fn from_registry_status(what: &str, host: &str, status: u16, body: &str) -> Error {
        let (registry_code, registry_message) = registry_error_text(body);
        let code = match (status, registry_code.as_deref()) {
            (_, Some("NAME_UNKNOWN" | "MANIFEST_UNKNOWN" | "BLOB_UNKNOWN")) | (404, _) => Code::NotFound,
            (_, Some("UNAUTHORIZED")) | (401, _) => Code::Unauthenticated,
            (_, Some("DENIED")) | (403, _) => Code::PermissionDenied,
            (_, Some("TOOMANYREQUESTS")) | (429, _) => Code::ResourceExhausted,
            (400, _) => Code::InvalidArgument,
            (408 | 500..=599, _) => Code::Unavailable,
            _ => Code::Unknown,
        };
        let details = registry_message.unwrap_or_else(|| format!("HTTP {status}"));
        Error { code, message: format!("{what}: registry {host} answered {status}: {details}"), details: Some(details) }
    }

    /// A failure to talk HTTP to a registry (refused, TLS, reset mid-body).
    pub fn from_http(what: &str, host: &str, err: &(dyn std::error::Error + 'static)) -> Error {
        let mut text = err.to_string();
        for cause in source_chain(err) {
            if !text.contains(&cause) {
                text = format!("{text}: {cause}");
            }
        }
        unavailable(what, &format!("registry {host}"), &text)
    }
}

/// The first `{code, message}` of a registry error document.
fn registry_error_text(body: &str) -> (Option<String>, Option<String>) {
    let doc: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let first = &doc["errors"][0];
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    (text(&first["code"]), text(&first["message"]))
}

/// An UNAVAILABLE error naming the address, and saying so when the cause is a TLS certificate.
fn connection_error(what: &str, address: &str, cause: &str) -> Error {
    unavailable(what, &format!("containerd at {address}"), cause)
}

fn unavailable(what: &str, target: &str, cause: &str) -> Error {
    let lower = cause.to_ascii_lowercase();
    let kind = if lower.contains("certificate") || lower.contains("unknownissuer") {
        "TLS certificate problem with"
    } else if lower.contains("tls") || lower.contains("handshake") {
        "TLS handshake with"
    } else {
        "cannot reach"
    };
    Error {
        code: Code::Unavailable,
        message: format!("{what}: {kind} {target}: {cause}"),
        details: Some(cause.to_string()),
    }
}

/// The messages of an error's sources, outermost first, without the error's own message.
fn source_chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = err.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push(text);
        }
        next = e.source();
    }
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.name(), self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    #[test]
    fn all_lists_every_code_once_in_grpc_order() {
        let numbers: Vec<i32> = Code::ALL.iter().map(|c| c.grpc()).collect();
        assert_eq!(numbers, (1..=16).collect::<Vec<_>>());
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        names.dedup();
        assert_eq!(names.len(), 16);
        assert!(Code::ALL.iter().all(|c| Code::from_tonic(tonic::Code::from_i32(c.grpc())) == *c));
    }

    use super::*;

    #[test]
    fn daemon_answers_keep_their_code_and_text() {
        let st = tonic::Status::already_exists("namespace foo: already exists");
        let e = Error::from_status("create namespace \"foo\"", "/x.sock", &st);
        assert_eq!(e.code, Code::AlreadyExists);
        assert_eq!(e.code.grpc(), 6);
        assert_eq!(e.details.as_deref(), Some("namespace foo: already exists"));
        assert!(e.message.starts_with("create namespace \"foo\": namespace foo"));
    }

    #[test]
    fn transport_failures_are_unavailable_and_name_the_address() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let st = tonic::Status::from_error(Box::new(io));
        let e = Error::from_status("version", "tcp://127.0.0.1:1", &st);
        assert_eq!(e.code, Code::Unavailable);
        assert!(e.message.contains("tcp://127.0.0.1:1"), "{}", e.message);
    }

    #[test]
    fn the_daemons_own_unavailable_keeps_its_text() {
        let st = tonic::Status::unavailable("ref layer-sha256:ab locked for 1s");
        let e = Error::from_status("write", "/x.sock", &st);
        assert_eq!(e.code, Code::Unavailable);
        assert_eq!(e.details.as_deref(), Some("ref layer-sha256:ab locked for 1s"));
    }

    #[test]
    fn certificate_failures_say_so() {
        let io = std::io::Error::other("invalid peer certificate: UnknownIssuer");
        let e = Error::from_transport("tcp://127.0.0.1:9", &io);
        assert_eq!(e.code, Code::Unavailable);
        assert!(e.message.contains("TLS certificate problem"), "{}", e.message);
    }

    #[test]
    fn registry_answers_map_to_codes() {
        let unknown = r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":"x"}]}"#;
        let e = Error::from_registry_status("resolve", "r:5000", 404, unknown);
        assert_eq!((e.code, e.details.as_deref()), (Code::NotFound, Some("manifest unknown")));
        assert_eq!(Error::from_registry_status("x", "r", 401, "").code, Code::Unauthenticated);
        assert_eq!(Error::from_registry_status("x", "r", 403, "").code, Code::PermissionDenied);
        assert_eq!(Error::from_registry_status("x", "r", 503, "<html>").code, Code::Unavailable);
        assert_eq!(Error::from_registry_status("x", "r", 429, "").code, Code::ResourceExhausted);
    }

    #[test]
    fn every_code_has_its_grpc_number() {
        for n in 1..=16 {
            let code = Code::from_tonic(tonic::Code::from(n));
            assert_eq!(code.grpc(), if n == 2 { 2 } else { n });
        }
    }
}
