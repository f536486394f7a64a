//! The cancellation handle index.js creates per call that has an AbortSignal.

use crate::core::Cancel;
use napi_derive::napi;
use tokio_util::sync::CancellationToken;

#[napi]
pub struct CancelHandle {
    token: CancellationToken,
}

#[napi]
impl CancelHandle {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> CancelHandle {
        CancelHandle { token: CancellationToken::new() }
    }

    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
    }
}

pub fn from_handle(handle: Option<&CancelHandle>) -> Cancel {
    handle.map_or_else(Cancel::none, |h| Cancel::token(h.token.clone()))
}
