#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| containerd_napi_core::fuzzing::seccomp(data));
