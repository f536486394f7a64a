//! Event payloads. An Envelope's `event` is an `Any` holding one of containerd's event messages;
//! this turns the known ones into JSON for JS (camelCase keys, numbers as numbers, labels as
//! objects). prost messages do not derive serde, so each message is converted explicitly.
//!
//! JS cannot carry Dates or Buffers through JSON, so two single-key marker objects stand in for
//! them and lib/events.js revives them: `{"$date": ms}` for timestamps and `{"$bytes": base64}` for
//! the bytes of nested Anys whose type is unknown.
//!
//! The type names are the proto full names the daemon puts in the Any, taken from the generated
//! types (`prost::Name`). Image events are declared in api/events/image.proto but in package
//! `containerd.services.images.v1`, so that is their name. Sandbox events (api/events/sandbox.proto,
//! containerd 2.x) are not compiled by containerd-client 0.9, so they are defined here, with their
//! `Name` written out as prost-build would generate it.

use super::error::{Code, Error, Result};
use super::images::millis;
use base64::Engine;
use containerd_client::events as ev;
use containerd_client::services::v1 as images;
use containerd_client::types::Mount;
use prost::{Message, Name};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::LazyLock;

/// Decodes a containerd event payload (the Envelope's `event` Any) into JSON for JS.
///
/// Returns the type name (the part of `type_url` after the last `/`, e.g.
/// `containerd.events.TaskExit`) and the payload: `Some` JSON object for every known type, `None`
/// for unknown ones (the caller keeps the raw bytes). Unset message fields are left out, as proto3
/// JSON does. Bytes that do not parse as the named known type are DATA_LOSS.
pub fn decode_event(type_url: &str, value: &[u8]) -> Result<(String, Option<Value>)> {
    let name = type_url.rsplit('/').next().unwrap_or(type_url);
    let payload = match KNOWN.get(name) {
        Some(decode) => Some(decode(value)?),
        None => None,
    };
    Ok((name.to_string(), payload))
}

/// Turns the bytes of one known event type into its JSON.
type Decode = Box<dyn Fn(&[u8]) -> Result<Value> + Send + Sync>;

/// Every known event type, keyed by its generated type's proto full name (`prost::Name`; the
/// containerd-client types are generated with type names), so no name is spelled out here.
/// The full names of every event type decoded here, sorted (the fuzz target picks from them).
pub fn known_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = KNOWN.keys().map(String::as_str).collect();
    names.sort_unstable();
    names
}

static KNOWN: LazyLock<HashMap<String, Decode>> = LazyLock::new(|| {
    HashMap::from([
        on(|m: ev::ContainerCreate| {
            let runtime = match m.runtime {
                Some(r) => {
                    let options = r.options.as_ref().map(any).transpose()?;
                    Some(with(json!({ "name": r.name }), [("options", options)]))
                }
                None => None,
            };
            Ok(with(json!({ "id": m.id, "image": m.image }), [("runtime", runtime)]))
        }),
        on(|m: ev::ContainerUpdate| {
            Ok(json!({ "id": m.id, "image": m.image, "labels": m.labels, "snapshotKey": m.snapshot_key }))
        }),
        on(|m: ev::ContainerDelete| Ok(json!({ "id": m.id }))),
        on(|m: ev::ContentCreate| Ok(json!({ "digest": m.digest, "size": m.size }))),
        on(|m: ev::ContentDelete| Ok(json!({ "digest": m.digest }))),
        on(|m: images::ImageCreate| Ok(json!({ "name": m.name, "labels": m.labels }))),
        on(|m: images::ImageUpdate| Ok(json!({ "name": m.name, "labels": m.labels }))),
        on(|m: images::ImageDelete| Ok(json!({ "name": m.name }))),
        on(|m: ev::NamespaceCreate| Ok(json!({ "name": m.name, "labels": m.labels }))),
        on(|m: ev::NamespaceUpdate| Ok(json!({ "name": m.name, "labels": m.labels }))),
        on(|m: ev::NamespaceDelete| Ok(json!({ "name": m.name }))),
        on(|m: ev::SnapshotPrepare| Ok(json!({ "key": m.key, "parent": m.parent, "snapshotter": m.snapshotter }))),
        on(|m: ev::SnapshotCommit| Ok(json!({ "key": m.key, "name": m.name, "snapshotter": m.snapshotter }))),
        on(|m: ev::SnapshotRemove| Ok(json!({ "key": m.key, "snapshotter": m.snapshotter }))),
        on(|m: ev::TaskCreate| {
            let base = json!({
                "containerId": m.container_id,
                "bundle": m.bundle,
                "rootfs": m.rootfs.iter().map(mount).collect::<Vec<_>>(),
                "checkpoint": m.checkpoint,
                "pid": m.pid,
            });
            Ok(with(base, [("io", m.io.as_ref().map(task_io))]))
        }),
        on(|m: ev::TaskStart| Ok(json!({ "containerId": m.container_id, "pid": m.pid }))),
        on(|m: ev::TaskDelete| {
            let base = json!({ "containerId": m.container_id, "pid": m.pid, "exitStatus": m.exit_status, "id": m.id });
            Ok(with(base, [("exitedAt", m.exited_at.map(date))]))
        }),
        on(|m: ev::TaskIo| Ok(task_io(&m))),
        on(|m: ev::TaskExit| {
            let base = json!({ "containerId": m.container_id, "id": m.id, "pid": m.pid, "exitStatus": m.exit_status });
            Ok(with(base, [("exitedAt", m.exited_at.map(date))]))
        }),
        on(|m: ev::TaskOom| Ok(json!({ "containerId": m.container_id }))),
        on(|m: ev::TaskExecAdded| Ok(json!({ "containerId": m.container_id, "execId": m.exec_id }))),
        on(|m: ev::TaskExecStarted| Ok(json!({ "containerId": m.container_id, "execId": m.exec_id, "pid": m.pid }))),
        on(|m: ev::TaskPaused| Ok(json!({ "containerId": m.container_id }))),
        on(|m: ev::TaskResumed| Ok(json!({ "containerId": m.container_id }))),
        on(|m: ev::TaskCheckpointed| Ok(json!({ "containerId": m.container_id, "checkpoint": m.checkpoint }))),
        on(|m: sandbox::SandboxCreate| Ok(json!({ "sandboxId": m.sandbox_id }))),
        on(|m: sandbox::SandboxStart| Ok(json!({ "sandboxId": m.sandbox_id }))),
        on(|m: sandbox::SandboxExit| {
            let base = json!({ "sandboxId": m.sandbox_id, "exitStatus": m.exit_status });
            Ok(with(base, [("exitedAt", m.exited_at.map(date))]))
        }),
    ])
});

/// One entry of `KNOWN`: `M`'s full name, and its bytes parsed as `M` and mapped by `to_json`.
fn on<M: Message + Name + Default + 'static>(to_json: fn(M) -> Result<Value>) -> (String, Decode) {
    let name = M::full_name();
    (name.clone(), Box::new(move |value| to_json(parse(&name, value)?)))
}

/// The daemon sent bytes that do not parse as the type it named: the data is damaged.
fn parse<M: Message + Default>(name: &str, value: &[u8]) -> Result<M> {
    M::decode(value).map_err(|e| Error {
        code: Code::DataLoss,
        message: format!("decode event ({name}): {e}"),
        details: Some(e.to_string()),
    })
}

/// Adds the message fields that are set to `base` (an object built by `json!`); unset ones
/// (`None`) are left out rather than sent as null, like proto3 JSON.
fn with<const N: usize>(mut base: Value, optional: [(&str, Option<Value>); N]) -> Value {
    if let Value::Object(fields) = &mut base {
        for (key, value) in optional {
            if let Some(value) = value {
                fields.insert(key.to_string(), value);
            }
        }
    }
    base
}

fn date(ts: prost_types::Timestamp) -> Value {
    json!({ "$date": millis(Some(ts)) })
}

/// A nested Any: decoded like an event when its type is known (a damaged one fails the whole
/// event, as for the top level), else kept as its type URL and bytes.
fn any(a: &prost_types::Any) -> Result<Value> {
    match decode_event(&a.type_url, &a.value)? {
        (_, Some(decoded)) => Ok(decoded),
        (_, None) => Ok(json!({
            "typeUrl": a.type_url,
            "value": { "$bytes": base64::engine::general_purpose::STANDARD.encode(&a.value) },
        })),
    }
}

fn mount(m: &Mount) -> Value {
    json!({ "type": m.r#type, "source": m.source, "target": m.target, "options": m.options })
}

fn task_io(io: &ev::TaskIo) -> Value {
    json!({ "stdin": io.stdin, "stdout": io.stdout, "stderr": io.stderr, "terminal": io.terminal })
}

/// api/events/sandbox.proto as vendored by containerd-client 0.9.0 (containerd 2.x), package
/// `containerd.events`.
mod sandbox {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SandboxCreate {
        #[prost(string, tag = "1")]
        pub sandbox_id: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SandboxStart {
        #[prost(string, tag = "1")]
        pub sandbox_id: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SandboxExit {
        #[prost(string, tag = "1")]
        pub sandbox_id: String,
        #[prost(uint32, tag = "2")]
        pub exit_status: u32,
        #[prost(message, optional, tag = "3")]
        pub exited_at: Option<prost_types::Timestamp>,
    }

    /// What prost-build's type names would generate: the proto's package and message names.
    macro_rules! named {
        ($($t:ident),*) => {$(
            impl prost::Name for $t {
                const NAME: &'static str = stringify!($t);
                const PACKAGE: &'static str = "containerd.events";
            }
        )*};
    }
    named!(SandboxCreate, SandboxStart, SandboxExit);
}

#[cfg(test)]
mod tests {
    use super::*;
    use containerd_client::events::container_create::Runtime;
    use std::collections::HashMap;

    fn decode(type_url: &str, m: &impl Message) -> Value {
        let (_, payload) = decode_event(type_url, &m.encode_to_vec()).unwrap();
        payload.expect("a known type")
    }

    #[test]
    fn task_exit_with_a_timestamp() {
        let m = ev::TaskExit {
            container_id: "c1".into(),
            id: "c1".into(),
            pid: 4242,
            exit_status: 137,
            exited_at: Some(prost_types::Timestamp { seconds: 1_700_000_000, nanos: 250_000_000 }),
        };
        let (name, payload) =
            decode_event("types.containerd.io/containerd.events.TaskExit", &m.encode_to_vec()).unwrap();
        assert_eq!(name, "containerd.events.TaskExit");
        assert_eq!(
            payload.unwrap(),
            json!({
                "containerId": "c1", "id": "c1", "pid": 4242, "exitStatus": 137,
                "exitedAt": { "$date": 1_700_000_000_250.0 },
            })
        );
    }

    #[test]
    fn unset_timestamps_are_left_out() {
        let got = decode("containerd.events.TaskDelete", &ev::TaskDelete { pid: 1, ..Default::default() });
        assert_eq!(got, json!({ "containerId": "", "pid": 1, "exitStatus": 0, "id": "" }));
    }

    #[test]
    fn container_create_keeps_unknown_runtime_options_as_bytes() {
        let m = ev::ContainerCreate {
            id: "web".into(),
            image: "docker.io/library/nginx:latest".into(),
            runtime: Some(Runtime {
                name: "io.containerd.runc.v2".into(),
                options: Some(prost_types::Any {
                    type_url: "containerd.runc.v1.Options".into(),
                    value: vec![0x0a, 0x03, b'a', b'b', b'c'],
                }),
            }),
        };
        assert_eq!(
            decode("containerd.events.ContainerCreate", &m),
            json!({
                "id": "web",
                "image": "docker.io/library/nginx:latest",
                "runtime": {
                    "name": "io.containerd.runc.v2",
                    "options": { "typeUrl": "containerd.runc.v1.Options", "value": { "$bytes": "CgNhYmM=" } },
                },
            })
        );
        let bare = ev::ContainerCreate { id: "x".into(), ..Default::default() };
        assert_eq!(decode("containerd.events.ContainerCreate", &bare), json!({ "id": "x", "image": "" }));
    }

    #[test]
    fn nested_anys_of_known_types_are_decoded() {
        let inner = ev::TaskOom { container_id: "c2".into() };
        let m = ev::ContainerCreate {
            id: "c2".into(),
            image: "i".into(),
            runtime: Some(Runtime {
                name: "r".into(),
                options: Some(prost_types::Any {
                    type_url: "/containerd.events.TaskOOM".into(),
                    value: inner.encode_to_vec(),
                }),
            }),
        };
        let got = decode("containerd.events.ContainerCreate", &m);
        assert_eq!(got["runtime"]["options"], json!({ "containerId": "c2" }));
        // A damaged nested Any of a known type is as damaged as the event itself.
        let mut damaged = m.clone();
        damaged.runtime.as_mut().unwrap().options.as_mut().unwrap().value = vec![0xff; 11];
        let err = decode_event("containerd.events.ContainerCreate", &damaged.encode_to_vec()).unwrap_err();
        assert_eq!(err.code, Code::DataLoss);
    }

    #[test]
    fn namespace_labels_are_an_object() {
        let labels = HashMap::from([("team".to_string(), "infra".to_string()), ("tier".to_string(), "1".to_string())]);
        let m = ev::NamespaceCreate { name: "build".into(), labels };
        assert_eq!(
            decode("containerd.events.NamespaceCreate", &m),
            json!({ "name": "build", "labels": { "team": "infra", "tier": "1" } })
        );
    }

    #[test]
    fn task_create_with_rootfs_and_io() {
        let m = ev::TaskCreate {
            container_id: "c3".into(),
            bundle: "/run/containerd/io.containerd.runtime.v2.task/default/c3".into(),
            rootfs: vec![Mount {
                r#type: "overlay".into(),
                source: "overlay".into(),
                target: String::new(),
                options: vec!["index=off".into(), "lowerdir=/a:/b".into()],
            }],
            io: Some(ev::TaskIo {
                stdin: String::new(),
                stdout: "/tmp/out".into(),
                stderr: "/tmp/err".into(),
                terminal: false,
            }),
            checkpoint: String::new(),
            pid: 99,
        };
        assert_eq!(
            decode("containerd.events.TaskCreate", &m),
            json!({
                "containerId": "c3",
                "bundle": "/run/containerd/io.containerd.runtime.v2.task/default/c3",
                "rootfs": [{ "type": "overlay", "source": "overlay", "target": "", "options": ["index=off", "lowerdir=/a:/b"] }],
                "io": { "stdin": "", "stdout": "/tmp/out", "stderr": "/tmp/err", "terminal": false },
                "checkpoint": "",
                "pid": 99,
            })
        );
    }

    #[test]
    fn image_events_use_their_proto_package() {
        let m = images::ImageDelete { name: "docker.io/library/busybox:latest".into() };
        let (name, payload) = decode_event("containerd.services.images.v1.ImageDelete", &m.encode_to_vec()).unwrap();
        assert_eq!(name, "containerd.services.images.v1.ImageDelete");
        assert_eq!(payload, Some(json!({ "name": "docker.io/library/busybox:latest" })));
    }

    #[test]
    fn sandbox_exit_matches_the_wire() {
        // Hand-encoded to pin the tags: sandbox_id (1) = "s", exit_status (2) = 3, exited_at (3) { seconds (1) = 2 }.
        let bytes = [0x0a, 0x01, b's', 0x10, 0x03, 0x1a, 0x02, 0x08, 0x02];
        let (_, payload) = decode_event("containerd.events.SandboxExit", &bytes).unwrap();
        assert_eq!(payload, Some(json!({ "sandboxId": "s", "exitStatus": 3, "exitedAt": { "$date": 2000.0 } })));
    }

    #[test]
    fn every_known_type_decodes_from_empty_bytes() {
        let known = [
            "containerd.events.ContainerCreate",
            "containerd.events.ContainerUpdate",
            "containerd.events.ContainerDelete",
            "containerd.events.ContentCreate",
            "containerd.events.ContentDelete",
            "containerd.services.images.v1.ImageCreate",
            "containerd.services.images.v1.ImageUpdate",
            "containerd.services.images.v1.ImageDelete",
            "containerd.events.NamespaceCreate",
            "containerd.events.NamespaceUpdate",
            "containerd.events.NamespaceDelete",
            "containerd.events.SnapshotPrepare",
            "containerd.events.SnapshotCommit",
            "containerd.events.SnapshotRemove",
            "containerd.events.TaskCreate",
            "containerd.events.TaskStart",
            "containerd.events.TaskDelete",
            "containerd.events.TaskIO",
            "containerd.events.TaskExit",
            "containerd.events.TaskOOM",
            "containerd.events.TaskExecAdded",
            "containerd.events.TaskExecStarted",
            "containerd.events.TaskPaused",
            "containerd.events.TaskResumed",
            "containerd.events.TaskCheckpointed",
            "containerd.events.SandboxCreate",
            "containerd.events.SandboxStart",
            "containerd.events.SandboxExit",
        ];
        for name in known {
            let (_, payload) = decode_event(name, &[]).unwrap();
            assert!(payload.is_some_and(|p| p.is_object()), "{name}");
        }
    }

    #[test]
    fn the_table_has_one_entry_per_type() {
        // HashMap::from keeps the last of two equal names; 28 types must give 28 entries.
        assert_eq!(KNOWN.len(), 28);
        assert_eq!(sandbox::SandboxExit::full_name(), "containerd.events.SandboxExit");
    }

    #[test]
    fn unknown_types_have_no_payload() {
        let (name, payload) = decode_event("types.example.com/example.v1.Thing", &[1, 2, 3]).unwrap();
        assert_eq!((name.as_str(), payload), ("example.v1.Thing", None));
        // The whole name after the last '/' must match, not merely end with it.
        assert_eq!(decode_event("x/xcontainerd.events.TaskExit", &[]).unwrap().1, None);
        assert_eq!(decode_event("", &[]).unwrap(), (String::new(), None));
    }

    #[test]
    fn garbage_is_data_loss() {
        let err = decode_event("containerd.events.TaskExit", &[0xff; 11]).unwrap_err();
        assert_eq!(err.code, Code::DataLoss);
        assert!(err.message.contains("containerd.events.TaskExit"), "{}", err.message);
        let mut truncated = ev::TaskExit { container_id: "c1".into(), ..Default::default() }.encode_to_vec();
        truncated.pop();
        assert_eq!(decode_event("containerd.events.TaskExit", &truncated).unwrap_err().code, Code::DataLoss);
    }
}
