//! Cancellation shared by every long or unary operation: the binding hands in a token that the
//! JS layer cancels from an AbortSignal (napi-rs's own AbortSignal only works with AsyncTask).

use super::error::{Error, Result};
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default, Debug)]
pub struct Cancel(Option<CancellationToken>);

impl Cancel {
    pub fn none() -> Cancel {
        Cancel(None)
    }

    pub fn token(token: CancellationToken) -> Cancel {
        Cancel(Some(token))
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.as_ref().is_some_and(|t| t.is_cancelled())
    }

    /// Runs `fut` unless and until the token is cancelled; the future is dropped on cancel, which
    /// for a tonic call resets the HTTP/2 stream so the daemon sees the cancellation too.
    pub async fn run<T>(&self, what: &str, fut: impl Future<Output = Result<T>>) -> Result<T> {
        match &self.0 {
            None => fut.await,
            Some(token) => tokio::select! {
                biased;
                _ = token.cancelled() => Err(Error::cancelled(what)),
                out = fut => out,
            },
        }
    }
}

impl Cancel {
    /// A token cancelled with this one (if any) or by itself: for a part of an operation that has
    /// a deadline of its own, so that it ends through its usual cancellation path (and cleanup).
    pub fn child(&self) -> (Cancel, CancellationToken) {
        let token = self.0.as_ref().map_or_else(CancellationToken::new, CancellationToken::child_token);
        (Cancel(Some(token.clone())), token)
    }
}

/// Runs `fut` with an optional deadline; `on_elapsed` builds the error when it passes.
pub async fn with_deadline<T>(
    timeout: Option<Duration>,
    fut: impl Future<Output = Result<T>>,
    on_elapsed: impl FnOnce() -> Error,
) -> Result<T> {
    match timeout {
        None => fut.await,
        Some(limit) => tokio::time::timeout(limit, fut).await.unwrap_or_else(|_| Err(on_elapsed())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    #[tokio::test]
    async fn a_cancelled_token_ends_a_pending_future() {
        let token = CancellationToken::new();
        let cancel = Cancel::token(token.clone());
        let pending = cancel.run("wait", std::future::pending::<Result<()>>());
        token.cancel();
        assert_eq!(pending.await.unwrap_err().code, Code::Cancelled);
    }

    #[tokio::test]
    async fn a_deadline_ends_a_pending_future() {
        let out = with_deadline(Some(Duration::from_millis(10)), std::future::pending::<Result<()>>(), || {
            Error::deadline("version", "/x", 10)
        })
        .await;
        assert_eq!(out.unwrap_err().code, Code::DeadlineExceeded);
    }
}
