//! One entry point per fuzz target (crates/core/fuzz): each takes arbitrary bytes and runs a parser
//! of untrusted input. None may panic, hang or allocate without bound; errors are fine. The fuzz
//! targets are one-line wrappers, and `tests/fuzz_corpus.rs` replays the committed corpus and every
//! crash artifact through the same functions, so `cargo test` keeps them fixed.

use super::address::Address;
use super::event_types::decode_event;
use super::manifest::{choose_manifest, diff_ids, parse_manifest};
use super::network::ports::PortSpec;
use super::platform::Platform;
use super::reference::Reference;
use super::seccomp::{linux_seccomp, SeccompOption};
use super::spec::{spec_json, validate_sysctl, ImageDefaults, ResolvedUser, SpecOptions};
use super::users::{find_in_layer_bounded, resolve_user, ScanLimits};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A fuzz target's entry point.
pub type Target = fn(&[u8]);

/// Every target, by name (the fuzz/fuzz_targets/<name>.rs files and the corpus directories).
pub const TARGETS: [(&str, Target); 11] = [
    ("reference", reference),
    ("platform", platform),
    ("manifest", manifest),
    ("users", users),
    ("layer", layer),
    ("event", event),
    ("signal", signal),
    ("address", address),
    ("port", port),
    ("seccomp", seccomp),
    ("spec_options", spec_options),
];

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

pub fn reference(data: &[u8]) {
    if let Ok(r) = Reference::parse(&text(data)) {
        let _ = (r.name(), r.object(), r.api_host(), r.is_loopback());
        // A parsed reference's name parses again to the same name.
        let again = Reference::parse(&r.name()).map(|r| r.name());
        assert_eq!(again.as_deref().ok(), Some(r.name().as_str()), "{r:?}");
    }
}

pub fn platform(data: &[u8]) {
    let t = text(data);
    if let Ok(p) = Platform::parse(&t) {
        let _ = p.matches(&p.os, &p.architecture, p.variant.as_deref());
    }
    let mut parts = t.splitn(3, '\n');
    let (os, arch, variant) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next());
    let _ = Platform::host().matches(os, arch, variant);
}

pub fn manifest(data: &[u8]) {
    let _ = parse_manifest(data, "fuzz");
    let _ = choose_manifest(data, &Platform::host(), "fuzz");
    let _ = diff_ids(data, data.first().copied().unwrap_or(0) as usize, "fuzz");
}

/// The user spec on the first line, then /etc/passwd and /etc/group split at a 0xff byte.
pub fn users(data: &[u8]) {
    let (spec, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let (passwd, group) = match rest.iter().position(|&b| b == 0xff) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let _ = resolve_user(&text(spec), Some(passwd), group);
    let _ = resolve_user(&text(spec), None, None);
}

/// A layer blob (gzip or plain tar), scanned within 64 MiB.
pub fn layer(data: &[u8]) {
    let limits = ScanLimits { max_bytes: 64 << 20, cancelled: Arc::new(AtomicBool::new(false)) };
    let _ = find_in_layer_bounded(data, &["etc/passwd", "etc/group"], &limits);
}

/// The first byte picks the event type; the rest is its protobuf payload.
pub fn event(data: &[u8]) {
    let Some((&pick, value)) = data.split_first() else { return };
    let names = super::event_types::known_names();
    let name = &names[pick as usize % names.len()];
    let _ = decode_event(&format!("types.containerd.io/{name}"), value);
}

pub fn signal(data: &[u8]) {
    let _ = super::signals::parse(&text(data));
    if data.len() >= 4 {
        let _ = super::signals::number(u32::from_le_bytes([data[0], data[1], data[2], data[3]]));
    }
}

pub fn address(data: &[u8]) {
    let _ = Address::parse(&text(data));
}

pub fn port(data: &[u8]) {
    let _ = PortSpec::Text(text(data)).parse();
}

/// A seccomp profile as JSON, converted for amd64 and arm64 with and without CAP_SYS_ADMIN.
pub fn seccomp(data: &[u8]) {
    let Ok(profile) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let option = SeccompOption::Profile(profile);
    for arch in ["amd64", "arm64"] {
        let target = super::seccomp::Target { arch: arch.into(), kernel: (5, 10) };
        let _ = linux_seccomp(&option, false, &["CAP_SYS_ADMIN".into()], &target);
        let _ = linux_seccomp(&option, false, &[], &target);
    }
}

/// A JSON object as specPatch, its keys as sysctls: the whole spec pipeline.
pub fn spec_options(data: &[u8]) {
    let Ok(patch) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Some(map) = patch.as_object() {
        for (key, value) in map {
            let _ = validate_sysctl(key, value.as_str().unwrap_or(""), key.len() % 2 == 0);
        }
    }
    let options = SpecOptions { spec_patch: Some(patch), seccomp: SeccompOption::Unconfined, ..Default::default() };
    let image = ImageDefaults { cmd: vec!["sh".into()], ..Default::default() };
    let _ = spec_json("fuzz", "c", &image, &options, &ResolvedUser::default());
}
