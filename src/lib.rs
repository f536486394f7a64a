//! containerd-napi: a native containerd client for Node.js.
//!
//! The core (crates/core) is plain async Rust over containerd's gRPC API; `js` is the napi-rs
//! binding over it.

/// The core crate under the path the binding has always used.
pub use containerd_napi_core as core;
mod js;
