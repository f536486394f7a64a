//! The gRPC transport a unary call takes.
//!
//! Normally that is the connection's tonic `Channel`, whose HTTP/2 connection is driven by the
//! runtime's worker threads: a call made from another thread (Node's JS thread) wakes a worker to
//! send it, the worker is woken again by the answer, and it wakes the caller's thread to deliver
//! it. On a small VM those wake-ups are most of a short call's cost. A thread that can wait for
//! socket readiness itself (the addon's JS thread, through libuv) can lend its own HTTP/2
//! connection to the calls it polls: [`with_thread_channel`] makes [`Client`] calls made while
//! polling use it, so the request is written, and the answer read, on that thread.
//!
//! [`Client`]: crate::Client

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tonic::body::Body;
use tonic::transport::Channel;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What the generated gRPC clients are given: a tower service from requests to responses.
#[derive(Clone)]
pub enum Transport {
    /// The connection's own channel (any thread).
    Shared(Channel),
    /// An HTTP/2 connection driven by the thread that polls the call.
    Thread(ThreadChannel),
}

/// The sending half of an HTTP/2 connection whose driver futures run on one thread; made by
/// [`ThreadChannel::handshake`]. Cheap to clone.
#[derive(Clone)]
pub struct ThreadChannel {
    sender: hyper::client::conn::http2::SendRequest<Body>,
}

impl ThreadChannel {
    /// Starts HTTP/2 over `io` (a connected unix socket). `exec` runs hyper's connection tasks;
    /// they, and the returned driver, must all be polled on the thread that owns `io`.
    pub async fn handshake<T, E>(io: T, exec: E) -> Result<(ThreadChannel, impl Future<Output = ()>), BoxError>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + 'static,
        E: hyper::rt::bounds::Http2ClientConnExec<Body, hyper_util::rt::TokioIo<T>> + Unpin + Clone,
    {
        let (sender, connection) =
            hyper::client::conn::http2::Builder::new(exec).handshake(hyper_util::rt::TokioIo::new(io)).await?;
        Ok((ThreadChannel { sender }, async move {
            // Ends when the peer closes or every sender is gone; a call in flight then fails.
            let _ = connection.await;
        }))
    }

    /// False once the connection is gone (closed by the daemon, or broken): dial again.
    pub fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }
}

thread_local! {
    /// The connection (by [`crate::Client::connection_id`]) and channel lent to calls polled now.
    static LENT: RefCell<Option<(usize, ThreadChannel)>> = const { RefCell::new(None) };
}

/// Runs `f` (one poll of a call's future) with `channel` lent for unary calls over connection
/// `connection_id`; streams and calls over other connections keep the shared channel.
pub fn with_thread_channel<R>(connection_id: usize, channel: &ThreadChannel, f: impl FnOnce() -> R) -> R {
    let previous = LENT.with_borrow_mut(|lent| lent.replace((connection_id, channel.clone())));
    struct Restore(Option<(usize, ThreadChannel)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            LENT.with_borrow_mut(|lent| *lent = previous);
        }
    }
    let _restore = Restore(previous);
    f()
}

/// The channel lent to this thread for `connection_id`, if any.
pub(crate) fn lent(connection_id: usize) -> Option<ThreadChannel> {
    LENT.with_borrow(|lent| lent.as_ref().filter(|(id, _)| *id == connection_id).map(|(_, ch)| ch.clone()))
}

impl tower::Service<http::Request<Body>> for Transport {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<Result<http::Response<Body>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match self {
            Transport::Shared(channel) => channel.poll_ready(cx).map_err(Into::into),
            // tonic reports a readiness error as UNKNOWN; a closed connection fails in `call`
            // instead, as UNAVAILABLE.
            Transport::Thread(_) => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        match self {
            Transport::Shared(channel) => {
                let call = channel.call(request);
                Box::pin(async move { call.await.map_err(Into::into) })
            }
            Transport::Thread(thread) => {
                // tonic's generated clients set only the path; HTTP/2 needs scheme and authority
                // (for a unix socket the authority is nominal, as on the shared channel).
                let mut parts = request.uri().clone().into_parts();
                parts.scheme = Some(http::uri::Scheme::HTTP);
                parts.authority = Some(http::uri::Authority::from_static("localhost"));
                if let Ok(uri) = http::Uri::from_parts(parts) {
                    *request.uri_mut() = uri;
                }
                let call = thread.sender.send_request(request);
                Box::pin(async move {
                    let response = call.await.map_err(unavailable)?;
                    Ok(response.map(Body::new))
                })
            }
        }
    }
}

/// A broken thread connection reads like a broken channel: UNAVAILABLE, which callers already
/// treat as "the daemon went away".
fn unavailable(error: hyper::Error) -> BoxError {
    Box::new(tonic::Status::unavailable(format!("connection to containerd lost: {error}")))
}
