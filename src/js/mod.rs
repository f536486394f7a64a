//! The thin napi-rs layer: argument conversion, one core call, result or error conversion.

// Under `cargo test` napi-derive registers nothing, so the exports look unused there.
#![cfg_attr(test, allow(dead_code))]

mod archives;
mod cancel;
mod client;
mod containers;
mod error;
mod events;
mod images;
mod logs;
mod networks;
mod run;
mod runtime;
mod settle;
mod tasks;
mod thread_io;
