//! The one tokio runtime every native call runs on.

use std::sync::OnceLock;
use tokio::runtime::{Builder, Handle};

static HANDLE: OnceLock<Handle> = OnceLock::new();

/// Built at module load and handed to napi-rs too, so that synchronous bindings run inside its
/// context. 8 MiB worker stacks: the nested pull/unpack/run futures of an unoptimised build
/// overflow tokio's default 2 MiB.
#[napi_derive::module_init]
fn init() {
    let runtime =
        Builder::new_multi_thread().enable_all().thread_name("containerd-napi").thread_stack_size(8 << 20).build();
    if let Ok(runtime) = runtime {
        let _ = HANDLE.set(runtime.handle().clone());
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
}

pub fn handle() -> napi::Result<&'static Handle> {
    HANDLE.get().ok_or_else(|| napi::Error::from_reason("containerd-napi: the tokio runtime failed to start"))
}
