//! Compiles the protos containerd-client does not carry (the repository's top-level `proto/`
//! folder; see proto/README.md for their sources and licences).

use std::path::Path;

/// The cgroups stats messages a task's metrics arrive as; `raw` in Task.metrics() is their JSON.
const CGROUPS: &[&str] = &["cgroups/stats/v1/metrics.proto", "cgroups/v2/stats/metrics.proto"];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files: Vec<_> = CGROUPS.iter().map(|f| root.join(f)).collect();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    prost_build::Config::new()
        // `prost::Name` for every message, so callers match type URLs on the types' own names.
        .enable_type_names()
        // `raw` keeps the shape it had with the hand-written structs: camelCase keys, numbers as
        // numbers (metrics.rs leaves unset messages out).
        .type_attribute(".io.containerd.cgroups", "#[derive(serde::Serialize)]")
        .type_attribute(".io.containerd.cgroups", "#[serde(rename_all = \"camelCase\")]")
        .compile_protos(&files, &[&root])
        .expect("compile the protos in proto/ (needs protoc: Debian's protobuf-compiler, or set PROTOC)");
}
