//! Task metrics. containerd hands them over as an `Any` holding the cgroups stats message of the
//! host's cgroup version; containerd-client does not ship those messages, so their protos are
//! vendored in proto/cgroups (containerd/cgroups v1.1.0, the version containerd 1.6 vendors) and
//! compiled by build.rs. Later releases only add fields, which prost skips. This module maps them.

use super::error::{Code, Error, Result};
use prost::{Message, Name};
use serde::Serialize;
use serde_json::Value;

/// `io.containerd.cgroups.v1` (proto/cgroups/stats/v1/metrics.proto).
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/io.containerd.cgroups.v1.rs"));
}

/// `io.containerd.cgroups.v2` (proto/cgroups/v2/stats/metrics.proto). Tag 3 of `Metrics` is unused
/// upstream.
pub mod v2 {
    include!(concat!(env!("OUT_DIR"), "/io.containerd.cgroups.v2.rs"));
}

/// The generated types' full names, `<v1::Metrics as Name>::full_name()` (a test pins them).
pub const CGROUPS_V1_METRICS: &str = "io.containerd.cgroups.v1.Metrics";
pub const CGROUPS_V2_METRICS: &str = "io.containerd.cgroups.v2.Metrics";

/// The numbers most callers want, plus everything else as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskMetrics {
    /// v1: `memory.usage.usage`; v2: `memory.usage`.
    pub memory_bytes: Option<u64>,
    /// v1: `cpu.usage.total` (already nanoseconds); v2: `cpu.usage_usec` * 1000.
    pub cpu_usage_nanos: Option<u64>,
    /// v1 and v2: `pids.current`.
    pub pids: Option<u64>,
    /// v1: `memory.usage.limit`; v2: `memory.usage_limit`; None when unlimited.
    pub memory_limit_bytes: Option<u64>,
    /// The whole decoded message as JSON with camelCase keys (numbers as JSON numbers), for `raw`.
    pub raw: Value,
}

/// Decodes the `data` Any of a containerd Metric by its type URL. Only the part after the last `/`
/// is compared, so both `io.containerd.cgroups.v1.Metrics` and `types.googleapis.com/...` match.
pub fn decode(type_url: &str, value: &[u8]) -> Result<TaskMetrics> {
    let name = type_url.rsplit('/').next().unwrap_or(type_url);
    if name == v1::Metrics::full_name() {
        let m: v1::Metrics = parse(name, value)?;
        Ok(TaskMetrics {
            memory_bytes: m.memory.as_ref().and_then(|mem| mem.usage.as_ref()).map(|u| u.usage),
            cpu_usage_nanos: m.cpu.as_ref().and_then(|cpu| cpu.usage.as_ref()).map(|u| u.total),
            pids: m.pids.as_ref().map(|p| p.current),
            memory_limit_bytes: m.memory.as_ref().and_then(|mem| mem.usage.as_ref()).and_then(|u| limited(u.limit)),
            raw: to_json(name, &m)?,
        })
    } else if name == v2::Metrics::full_name() {
        let m: v2::Metrics = parse(name, value)?;
        Ok(TaskMetrics {
            memory_bytes: m.memory.as_ref().map(|mem| mem.usage),
            cpu_usage_nanos: m.cpu.as_ref().map(|cpu| cpu.usage_usec.saturating_mul(1000)),
            pids: m.pids.as_ref().map(|p| p.current),
            memory_limit_bytes: m.memory.as_ref().and_then(|mem| limited(mem.usage_limit)),
            raw: to_json(name, &m)?,
        })
    } else {
        Err(Error::new(
            Code::Unimplemented,
            format!("task metrics of type \"{type_url}\" are not supported (known: {CGROUPS_V1_METRICS}, {CGROUPS_V2_METRICS})"),
        ))
    }
}

/// "No limit" reads as a huge number: v1 9223372036854771712 (the page counter's maximum),
/// v2 u64::MAX ("max"); 0 is no reading.
fn limited(limit: u64) -> Option<u64> {
    (limit != 0 && limit < 1 << 62).then_some(limit)
}

/// The daemon sent bytes that do not parse as the type it named: the data is damaged.
fn parse<M: Message + Default>(name: &str, value: &[u8]) -> Result<M> {
    M::decode(value).map_err(|e| Error {
        code: Code::DataLoss,
        message: format!("decode task metrics ({name}): {e}"),
        details: Some(e.to_string()),
    })
}

fn to_json(name: &str, m: &impl Serialize) -> Result<Value> {
    // Plain structs of integers and strings always serialize; this only guards against surprises.
    let mut json = serde_json::to_value(m)
        .map_err(|e| Error::new(Code::Internal, format!("task metrics ({name}) as JSON: {e}")))?;
    drop_unset(&mut json);
    Ok(json)
}

/// Unset message fields are left out, as proto3 JSON does (serde writes them as null; no other
/// field of these messages can be null).
fn drop_unset(v: &mut Value) {
    match v {
        Value::Object(fields) => {
            fields.retain(|_, f| !f.is_null());
            fields.values_mut().for_each(drop_unset);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_unset),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_cgroup_v1() {
        let m = v1::Metrics {
            pids: Some(v1::PidsStat { current: 7, limit: 100 }),
            cpu: Some(v1::CpuStat {
                usage: Some(v1::CpuUsage { total: 123_456_789, kernel: 1, user: 2, per_cpu: vec![3, 4] }),
                throttling: None,
            }),
            memory: Some(v1::MemoryStat {
                cache: 11,
                total_rss: 12,
                usage: Some(v1::MemoryEntry { limit: 1 << 30, usage: 4_194_304, max: 5, failcnt: 0 }),
                kernel_tcp: Some(v1::MemoryEntry::default()),
                ..Default::default()
            }),
            blkio: Some(v1::BlkIoStat {
                io_service_bytes_recursive: vec![v1::BlkIoEntry {
                    op: "Read".into(),
                    major: 8,
                    value: 4096,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let got = decode(CGROUPS_V1_METRICS, &m.encode_to_vec()).unwrap();
        assert_eq!((got.memory_bytes, got.cpu_usage_nanos, got.pids), (Some(4_194_304), Some(123_456_789), Some(7)));
        assert_eq!(got.raw["memory"]["usage"]["limit"], 1u64 << 30);
        assert_eq!(got.memory_limit_bytes, Some(1 << 30));
        assert_eq!(got.raw["memory"]["totalRss"], 12);
        assert!(got.raw["memory"]["kernelTcp"].is_object());
        assert_eq!(got.raw["cpu"]["usage"]["perCpu"], serde_json::json!([3, 4]));
        assert_eq!(got.raw["blkio"]["ioServiceBytesRecursive"][0]["value"], 4096);
        assert!(got.raw.get("memoryOomControl").is_none(), "absent messages are left out");
    }

    #[test]
    fn decodes_cgroup_v2_with_a_type_url_prefix() {
        let m = v2::Metrics {
            pids: Some(v2::PidsStat { current: 3, limit: 0 }),
            cpu: Some(v2::CpuStat { usage_usec: 2_500, throttled_usec: 9, ..Default::default() }),
            memory: Some(v2::MemoryStat {
                usage: 8_388_608,
                usage_limit: 1 << 40,
                swap_usage: 1,
                ..Default::default()
            }),
            io: Some(v2::IoStat { usage: vec![v2::IoEntry { major: 259, rbytes: 512, ..Default::default() }] }),
            memory_events: Some(v2::MemoryEvents { oom_kill: 2, ..Default::default() }),
            ..Default::default()
        };
        let url = format!("types.googleapis.com/{CGROUPS_V2_METRICS}");
        let got = decode(&url, &m.encode_to_vec()).unwrap();
        assert_eq!((got.memory_bytes, got.cpu_usage_nanos, got.pids), (Some(8_388_608), Some(2_500_000), Some(3)));
        assert_eq!(got.raw["cpu"]["usageUsec"], 2_500);
        assert_eq!(got.raw["cpu"]["throttledUsec"], 9);
        assert_eq!(got.raw["memory"]["usageLimit"], 1u64 << 40);
        assert_eq!(got.raw["memory"]["swapUsage"], 1);
        assert_eq!(got.raw["io"]["usage"][0]["rbytes"], 512);
        assert_eq!(got.raw["memoryEvents"]["oomKill"], 2);
    }

    #[test]
    fn field_numbers_match_the_wire() {
        // Hand-encoded bytes pin the tags independently of the struct definitions:
        // v1 Metrics.pids (2) { current (1) = 5 }; v2 Metrics.memory (4) { usage (32) = 6 }.
        let v1 = decode(CGROUPS_V1_METRICS, &[0x12, 0x02, 0x08, 0x05]).unwrap();
        assert_eq!(v1.pids, Some(5));
        let v2 = decode(CGROUPS_V2_METRICS, &[0x22, 0x03, 0x80, 0x02, 0x06]).unwrap();
        assert_eq!(v2.memory_bytes, Some(6));
    }

    #[test]
    fn unlimited_memory_is_none() {
        let v1 = |limit| v1::Metrics {
            memory: Some(v1::MemoryStat {
                usage: Some(v1::MemoryEntry { limit, ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let got = |m: v1::Metrics| decode(CGROUPS_V1_METRICS, &m.encode_to_vec()).unwrap().memory_limit_bytes;
        assert_eq!(got(v1(9_223_372_036_854_771_712)), None);
        assert_eq!(got(v1(64 << 20)), Some(64 << 20));
        let v2 = v2::Metrics {
            memory: Some(v2::MemoryStat { usage_limit: u64::MAX, ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(decode(CGROUPS_V2_METRICS, &v2.encode_to_vec()).unwrap().memory_limit_bytes, None);
    }

    #[test]
    fn missing_sections_are_none() {
        let got = decode(CGROUPS_V1_METRICS, &[]).unwrap();
        assert_eq!((got.memory_bytes, got.cpu_usage_nanos, got.pids), (None, None, None));
        let mem_without_usage = v1::Metrics { memory: Some(v1::MemoryStat::default()), ..Default::default() };
        assert_eq!(decode(CGROUPS_V1_METRICS, &mem_without_usage.encode_to_vec()).unwrap().memory_bytes, None);
    }

    #[test]
    fn names_are_the_generated_types_names() {
        assert_eq!(v1::Metrics::full_name(), CGROUPS_V1_METRICS);
        assert_eq!(v2::Metrics::full_name(), CGROUPS_V2_METRICS);
    }

    #[test]
    fn unknown_types_are_unimplemented() {
        let err = decode("io.containerd.cgroups.v3.Metrics", &[]).unwrap_err();
        assert_eq!(err.code, Code::Unimplemented);
        assert!(err.message.contains("io.containerd.cgroups.v3.Metrics"), "{}", err.message);
        // The whole name after the last '/' must match, not merely end with it.
        assert_eq!(decode("x/xio.containerd.cgroups.v1.Metrics", &[]).unwrap_err().code, Code::Unimplemented);
    }

    #[test]
    fn garbage_is_data_loss() {
        let overlong_varint = [0xff; 11];
        let err = decode(CGROUPS_V1_METRICS, &overlong_varint).unwrap_err();
        assert_eq!(err.code, Code::DataLoss);
        let mut truncated =
            v2::Metrics { cpu: Some(v2::CpuStat { usage_usec: 1 << 40, ..Default::default() }), ..Default::default() }
                .encode_to_vec();
        truncated.pop();
        assert_eq!(decode(CGROUPS_V2_METRICS, &truncated).unwrap_err().code, Code::DataLoss);
    }
}
