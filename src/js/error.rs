//! Core errors to JS: a JSON payload in the message that index.js turns into the typed
//! ContainerdError subclass (napi-rs cannot construct our JS classes itself).

use crate::core;
use napi_derive::napi;

#[napi(object)]
pub struct ErrorCodeInfo {
    pub name: String,
    pub grpc: i32,
}

/// The error codes, from the core's one list (lib/errors.js makes a class of each).
#[napi]
pub fn error_codes() -> Vec<ErrorCodeInfo> {
    core::Code::ALL.iter().map(|c| ErrorCodeInfo { name: c.name().to_string(), grpc: c.grpc() }).collect()
}

/// The message prefix index.js recognises.
const MARKER: &str = "{\"containerd\":";

pub fn to_napi(e: core::Error) -> napi::Error {
    let payload = serde_json::json!({
        "containerd": e.code.name(),
        "grpcCode": e.code.grpc(),
        "message": e.message,
        "details": e.details,
    });
    debug_assert!(payload.to_string().starts_with(MARKER));
    napi::Error::new(napi::Status::GenericFailure, payload.to_string())
}

/// Turns the core's debug lines on (lib/addon.js, when util.debuglog says NODE_DEBUG names us).
#[napi]
pub fn set_debug(on: bool) {
    core::debug::set_enabled(on);
}
