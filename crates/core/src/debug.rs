//! Debug lines for `NODE_DEBUG=containerd-napi`: each daemon RPC (operation, namespace, duration,
//! status) and each registry request (method, host, path, status; never headers, credentials or
//! query strings). The JS layer decides (util.debuglog) and turns them on once with
//! [`set_enabled`]; off, a call site costs one relaxed atomic load. Lines are written to stderr in
//! util.debuglog's own format, `CONTAINERD-NAPI <pid>: <message>`, so they read as one log.

use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);

pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// One debug line (only call it when [`enabled`]).
pub fn line(message: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "CONTAINERD-NAPI {}: {message}", std::process::id());
}

/// A URL as it may be logged: scheme, host, port and path; no user info, no query.
pub fn url(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_lose_credentials_and_queries() {
        let u = reqwest::Url::parse("https://user:secret@registry.example:5000/v2/token?account=ci&scope=x").unwrap();
        assert_eq!(super::url(&u), "https://registry.example:5000/v2/token");
    }
}
