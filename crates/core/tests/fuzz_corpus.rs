//! Replays the committed fuzz corpus (crates/core/fuzz/corpus/<target>/) and every crash the
//! fuzzer found (crates/core/fuzz/artifacts/<target>/) through the targets' functions, so a fixed
//! crash stays fixed and `cargo test` needs neither nightly nor libFuzzer.

use containerd_napi_core::fuzzing::TARGETS;
use std::path::Path;

#[test]
fn corpus_and_crashes_replay_cleanly() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        assert!(fuzz.join("fuzz_targets").join(format!("{name}.rs")).is_file(), "no fuzz target file for {name}");
        for dir in ["corpus", "artifacts"] {
            let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(name)) else { continue };
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| target(&data));
                assert!(outcome.is_ok(), "{name}: {} panics", path.display());
                replayed += 1;
            }
        }
    }
    assert!(replayed > 0, "no corpus found in {}", fuzz.display());
}
