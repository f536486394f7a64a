//! The client handle: one shared channel, many light namespace views over it.

use super::address::{Address, DEFAULT_ADDRESS};
use super::cancel::{with_deadline, Cancel};
use super::connection::{self, TlsOptions};
use super::error::{Code, Error, Result};
use super::identifiers;
use super::stdio::PreparedIo;
use super::transport::{self, Transport};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tonic::transport::Channel;

/// containerd's Go client allows 16 MiB; tonic's 4 MiB default breaks large container lists.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;
const NAMESPACE_HEADER: &str = "containerd-namespace";
const LEASE_HEADER: &str = "containerd-lease";
pub const DEFAULT_NAMESPACE: &str = "default";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connection options after the caller resolved its defaults' sources (see [`ConnectOptions::resolve`]).
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub address: Option<String>,
    pub namespace: Option<String>,
    /// Milliseconds; `Some(0)` disables deadlines, `None` means [`DEFAULT_TIMEOUT`].
    pub timeout_ms: Option<f64>,
    pub tls: Option<TlsOptions>,
}

struct Connection {
    /// `None` once closed; calls made after that fail instead of re-dialling.
    channel: RwLock<Option<Channel>>,
    address: String,
    timeout: Option<Duration>,
    /// Content ingest refs this process is writing (see [`Client::lock_ingest`]).
    ingests: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Stdio of exec processes not started yet: their FIFOs must exist until Start.
    pending_io: std::sync::Mutex<HashMap<String, PreparedIo>>,
    /// gRPC calls started over this connection (every one takes the channel once): a diagnostic
    /// that tests and benchmarks read to count round trips.
    calls: std::sync::atomic::AtomicU64,
    /// Of those, the unary calls that went over a thread's own connection (see [`transport`]).
    thread_calls: std::sync::atomic::AtomicU64,
}

/// Held while this process writes one ingest ref; dropping it lets the next writer in.
pub(crate) struct IngestGuard {
    conn: Arc<Connection>,
    key: String,
    lock: Arc<tokio::sync::Mutex<()>>,
    _held: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for IngestGuard {
    fn drop(&mut self) {
        if let Ok(mut map) = self.conn.ingests.lock() {
            // The map's, ours and the guard's own reference: nobody else waits for it.
            if Arc::strong_count(&self.lock) <= 3 {
                map.remove(&self.key);
            }
        }
    }
}

#[derive(Clone)]
pub struct Client {
    conn: Arc<Connection>,
    namespace: String,
    /// Set on the internal views that pulls use: every request then holds the lease's resources.
    lease: Option<String>,
}

impl ConnectOptions {
    /// Fills unset fields from `$CONTAINERD_ADDRESS` / `$CONTAINERD_NAMESPACE` (looked up through
    /// `env`, so the binding can read them on the JS thread) and the built-in defaults.
    pub fn resolve(mut self, env: impl Fn(&str) -> Option<String>) -> ConnectOptions {
        let non_empty = |v: Option<String>| v.filter(|s| !s.is_empty());
        if self.address.is_none() {
            self.address = Some(non_empty(env("CONTAINERD_ADDRESS")).unwrap_or_else(|| DEFAULT_ADDRESS.into()));
        }
        if self.namespace.is_none() {
            self.namespace = Some(non_empty(env("CONTAINERD_NAMESPACE")).unwrap_or_else(|| DEFAULT_NAMESPACE.into()));
        }
        self
    }
}

fn timeout_from_ms(ms: Option<f64>) -> Result<Option<Duration>> {
    match ms {
        None => Ok(Some(DEFAULT_TIMEOUT)),
        Some(ms) => millis("timeoutMs", ms),
    }
}

/// A time limit in milliseconds as JS gives it: finite and >= 0; 0 means no limit.
pub fn millis(what: &str, ms: f64) -> Result<Option<Duration>> {
    match ms {
        ms if !ms.is_finite() || ms < 0.0 => {
            Err(Error::invalid_argument(format!("{what} must be a finite number >= 0, got {ms}")))
        }
        0.0 => Ok(None),
        ms => Ok(Some(Duration::from_micros((ms * 1000.0) as u64))),
    }
}

impl Client {
    /// Validates everything before dialling, then connects within the timeout.
    pub async fn connect(options: ConnectOptions, cancel: &Cancel) -> Result<Client> {
        let options = options.resolve(|_| None);
        let display = options.address.unwrap_or_default();
        let address = Address::parse(&display)?;
        let namespace = options.namespace.unwrap_or_default();
        identifiers::validate("namespace", &namespace)?;
        let timeout = timeout_from_ms(options.timeout_ms)?;
        let channel = cancel
            .run(
                "connect",
                with_deadline(timeout, connection::open(&address, &display, options.tls.as_ref(), timeout), || {
                    Error::new(
                        Code::Unavailable,
                        format!(
                            "connect: cannot reach containerd at {display}: no connection within {} ms",
                            timeout.map_or(0, |t| t.as_millis())
                        ),
                    )
                }),
            )
            .await?;
        Ok(Client {
            conn: Arc::new(Connection {
                channel: RwLock::new(Some(channel)),
                address: display,
                timeout,
                ingests: Default::default(),
                pending_io: Default::default(),
                calls: Default::default(),
                thread_calls: Default::default(),
            }),
            namespace,
            lease: None,
        })
    }

    /// A client over a lazy channel to nowhere, for tests that only build futures.
    #[cfg(test)]
    pub(crate) fn for_size_test() -> Client {
        let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
        Client {
            conn: Arc::new(Connection {
                channel: RwLock::new(Some(channel)),
                address: String::new(),
                timeout: None,
                ingests: Default::default(),
                pending_io: Default::default(),
                calls: Default::default(),
                thread_calls: Default::default(),
            }),
            namespace: "test".into(),
            lease: None,
        }
    }

    pub fn address(&self) -> &str {
        &self.conn.address
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Another view on the same connection.
    pub fn with_namespace(&self, namespace: &str) -> Result<Client> {
        identifiers::validate("namespace", namespace)?;
        Ok(Client { conn: self.conn.clone(), namespace: namespace.to_string(), lease: None })
    }

    /// A view whose requests carry `containerd-lease`, so what they create is held by the lease.
    pub(crate) fn with_lease(&self, lease: &str) -> Client {
        Client { lease: Some(lease.to_string()), ..self.clone() }
    }

    /// Drops the shared channel: the connection closes once in-flight calls finish, and every
    /// view's later calls fail with FAILED_PRECONDITION.
    pub fn close(&self) {
        if let Ok(mut channel) = self.conn.channel.write() {
            channel.take();
        }
        // Execs never started: their FIFOs' placeholder writers would keep the caller's read
        // ends (and so its event loop) open for good.
        let pending: Vec<PreparedIo> =
            self.conn.pending_io.lock().map(|mut map| map.drain().map(|(_, io)| io).collect()).unwrap_or_default();
        pending.into_iter().for_each(PreparedIo::abandon);
    }

    /// How many gRPC calls this connection has started (all namespace views together).
    pub fn call_count(&self) -> u64 {
        self.conn.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Identifies the connection (shared by every namespace view) for [`transport::with_thread_channel`].
    pub fn connection_id(&self) -> usize {
        Arc::as_ptr(&self.conn) as usize
    }

    /// The daemon's socket path, for a unix-socket connection that is still open.
    pub fn unix_socket(&self) -> Option<std::path::PathBuf> {
        let open = self.conn.channel.read().map(|c| c.is_some()).unwrap_or(false);
        match Address::parse(&self.conn.address) {
            Ok(Address::Unix(path)) if open => Some(path),
            _ => None,
        }
    }

    /// Whether this connection is still referenced by some client (for holders of a weak handle).
    pub fn liveness(&self) -> std::sync::Weak<impl Sized + Send + Sync> {
        Arc::downgrade(&self.conn)
    }

    /// The transport for one unary call: the channel this thread lends, else the shared one.
    fn transport(&self, what: &str) -> Result<Transport> {
        let shared = self.channel(what)?;
        Ok(match transport::lent(self.connection_id()) {
            Some(thread) if thread.is_open() => {
                self.conn.thread_calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Transport::Thread(thread)
            }
            _ => Transport::Shared(shared),
        })
    }

    /// How many of [`Self::call_count`] went over a thread's own connection.
    pub fn thread_call_count(&self) -> u64 {
        self.conn.thread_calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn channel(&self, what: &str) -> Result<Channel> {
        self.conn.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.conn
            .channel
            .read()
            .ok()
            .and_then(|c| c.clone())
            .ok_or_else(|| Error::new(Code::FailedPrecondition, format!("{what}: the client is closed")))
    }

    /// A request in this view's namespace. No grpc-timeout header: tonic would enforce it as a
    /// CANCELLED status racing our own deadline; dropping the call on our deadline resets the
    /// stream, which cancels it on the daemon's side as well.
    pub(crate) fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        // The namespace passed identifiers::validate, so it is a valid header value.
        if let Ok(value) = self.namespace.parse() {
            request.metadata_mut().insert(NAMESPACE_HEADER, value);
        }
        if let Some(Ok(value)) = self.lease.as_deref().map(str::parse) {
            request.metadata_mut().insert(LEASE_HEADER, value);
        }
        request
    }

    /// Serialises this process's writers of one ingest ref. containerd's metadata store retries a
    /// locked ref for about a second inside a write transaction, which also stalls the writer
    /// holding the lock; waiting here instead keeps concurrent pulls of one image fast.
    pub(crate) async fn lock_ingest(&self, reference: &str) -> IngestGuard {
        let key = format!("{}/{}", self.namespace, reference);
        let lock = {
            let mut map = self.conn.ingests.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key.clone()).or_default().clone()
        };
        let held = lock.clone().lock_owned().await;
        IngestGuard { conn: self.conn.clone(), key, lock, _held: held }
    }

    pub(crate) fn put_pending_io(&self, container_id: &str, exec_id: &str, io: PreparedIo) {
        let key = format!("{}/{container_id}/{exec_id}", self.namespace);
        if let Ok(mut map) = self.conn.pending_io.lock() {
            map.insert(key, io);
        }
    }

    pub(crate) fn take_pending_io(&self, container_id: &str, exec_id: &str) -> Option<PreparedIo> {
        let key = format!("{}/{container_id}/{exec_id}", self.namespace);
        self.conn.pending_io.lock().ok().and_then(|mut map| map.remove(&key))
    }

    /// The stdio of every exec of `container_id` not started yet (its task is going away).
    pub(crate) fn take_pending_io_of(&self, container_id: &str) -> Vec<PreparedIo> {
        let prefix = format!("{}/{container_id}/", self.namespace);
        let Ok(mut map) = self.conn.pending_io.lock() else { return Vec::new() };
        let keys: Vec<String> = map.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
        keys.iter().filter_map(|k| map.remove(k)).collect()
    }

    /// Classifies a failed streaming call (no deadline applies to those).
    pub(crate) fn status_error(&self, what: &str, status: &tonic::Status) -> Error {
        Error::from_status(what, self.address(), status)
    }

    /// One short unary call: deadline (timeoutMs), cancellation, and error classification.
    pub(crate) async fn unary<T, F, Fut>(&self, what: &str, cancel: &Cancel, call: F) -> Result<T>
    where
        F: FnOnce(Transport) -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<T>, tonic::Status>>,
    {
        self.call(what, cancel, self.conn.timeout, call).await
    }

    /// A unary call that may legitimately take long (applying a layer, waiting for an exit):
    /// no deadline, only cancellation.
    pub(crate) async fn long_unary<T, F, Fut>(&self, what: &str, cancel: &Cancel, call: F) -> Result<T>
    where
        F: FnOnce(Transport) -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<T>, tonic::Status>>,
    {
        self.call(what, cancel, None, call).await
    }

    async fn call<T, F, Fut>(&self, what: &str, cancel: &Cancel, timeout: Option<Duration>, call: F) -> Result<T>
    where
        F: FnOnce(Transport) -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<T>, tonic::Status>>,
    {
        let channel = self.transport(what)?;
        let address = self.address();
        let call = async {
            call(channel)
                .await
                .map(tonic::Response::into_inner)
                .map_err(|status| Error::from_status(what, address, &status))
        };
        let started = crate::debug::enabled().then(std::time::Instant::now);
        let result = cancel
            .run(
                what,
                with_deadline(timeout, call, || Error::deadline(what, address, timeout.map_or(0, |t| t.as_millis()))),
            )
            .await;
        if let Some(started) = started {
            let status = result.as_ref().map_or_else(|e| e.code.name(), |_| "OK");
            crate::debug::line(format_args!(
                "rpc {what} namespace={} {:.1}ms {status}",
                self.namespace,
                started.elapsed().as_secs_f64() * 1000.0
            ));
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_environment_then_built_ins() {
        let env = |k: &str| (k == "CONTAINERD_NAMESPACE").then(|| "ci".to_string());
        let o = ConnectOptions::default().resolve(env);
        assert_eq!(o.address.as_deref(), Some(DEFAULT_ADDRESS));
        assert_eq!(o.namespace.as_deref(), Some("ci"));
        let explicit = ConnectOptions { namespace: Some("x".into()), ..Default::default() }.resolve(env);
        assert_eq!(explicit.namespace.as_deref(), Some("x"));
    }

    #[test]
    fn timeouts_are_validated() {
        assert_eq!(timeout_from_ms(None).unwrap(), Some(DEFAULT_TIMEOUT));
        assert_eq!(timeout_from_ms(Some(0.0)).unwrap(), None);
        assert_eq!(timeout_from_ms(Some(1.5)).unwrap(), Some(Duration::from_micros(1500)));
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(timeout_from_ms(Some(bad)).unwrap_err().code, Code::InvalidArgument);
        }
    }

    #[tokio::test]
    async fn bad_options_fail_before_dialling() {
        let bad_ns = ConnectOptions {
            address: Some("/nonexistent.sock".into()),
            namespace: Some("a b".into()),
            ..Default::default()
        };
        assert_eq!(Client::connect(bad_ns, &Cancel::none()).await.err().unwrap().code, Code::InvalidArgument);
        let bad_addr = ConnectOptions { address: Some("http://x:1".into()), ..Default::default() };
        assert_eq!(Client::connect(bad_addr, &Cancel::none()).await.err().unwrap().code, Code::InvalidArgument);
    }
}
