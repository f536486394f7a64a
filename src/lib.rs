//! containerd-napi: a native containerd client for Node.js.
//!
//! `core` is plain async Rust over containerd's gRPC API; `js` is the napi-rs binding over it.

pub mod core;
mod js;
