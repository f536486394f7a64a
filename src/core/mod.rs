//! The napi-free core: plain async Rust over containerd's gRPC API, testable with `cargo test`.

pub mod address;
pub mod cancel;
pub mod client;
pub mod connection;
pub mod containers;
pub mod content;
pub mod credentials;
pub mod digest;
pub mod error;
pub mod exec;
pub mod identifiers;
pub mod image_content;
pub mod images;
pub mod introspection;
pub mod leases;
pub mod manifest;
pub mod metrics;
pub mod namespaces;
pub mod platform;
pub mod progress;
pub mod pull;
pub mod reference;
pub mod registry;
pub mod run;
pub mod signals;
pub mod snapshots;
pub mod spec;
pub mod stdio;
pub mod tasks;
pub mod tracked;
pub mod unpack;
pub mod users;

pub use cancel::Cancel;
pub use client::{Client, ConnectOptions};
pub use connection::TlsOptions;
pub use error::{Code, Error, Result};
