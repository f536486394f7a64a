//! The thin napi-rs layer: argument conversion, one core call, result or error conversion.

// Under `cargo test` napi-derive registers nothing, so the exports look unused there.
#![cfg_attr(test, allow(dead_code))]

mod cancel;
mod client;
mod containers;
mod error;
mod events;
mod images;
mod run;
mod tasks;

/// napi's default tokio runtime uses 2 MiB worker stacks; the nested pull/unpack/run futures of
/// an unoptimised build overflow them. Same runtime otherwise, with room to spare.
#[napi_derive::module_init]
fn init_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("containerd-napi")
        .thread_stack_size(8 << 20)
        .build();
    if let Ok(runtime) = runtime {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
}
