//! Core errors to JS: a JSON payload in the message that index.js turns into the typed
//! ContainerdError subclass (napi-rs cannot construct our JS classes itself).

use crate::core;

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
