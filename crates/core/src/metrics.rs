//! Task metrics. containerd hands them over as an `Any` holding the cgroups stats message of the
//! host's cgroup version; containerd-client does not ship those messages, so they are defined here.
//!
//! Layouts and field numbers follow github.com/containerd/cgroups v1.1.0 (commit fe7323f6),
//! `stats/v1/metrics.proto` and `v2/stats/metrics.proto`; they are identical in v1.0.0..v1.1.0,
//! the range containerd 1.6 vendors. Later releases only add fields, which prost skips.

use super::error::{Code, Error, Result};
use prost::Message;
use serde::Serialize;

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
    /// The whole decoded message as JSON with camelCase keys (numbers as JSON numbers), for `raw`.
    pub raw: serde_json::Value,
}

/// Decodes the `data` Any of a containerd Metric by its type URL. Only the part after the last `/`
/// is compared, so both `io.containerd.cgroups.v1.Metrics` and `types.googleapis.com/...` match.
pub fn decode(type_url: &str, value: &[u8]) -> Result<TaskMetrics> {
    let name = type_url.rsplit('/').next().unwrap_or(type_url);
    match name {
        CGROUPS_V1_METRICS => {
            let m: v1::Metrics = parse(name, value)?;
            Ok(TaskMetrics {
                memory_bytes: m.memory.as_ref().and_then(|mem| mem.usage.as_ref()).map(|u| u.usage),
                cpu_usage_nanos: m.cpu.as_ref().and_then(|cpu| cpu.usage.as_ref()).map(|u| u.total),
                pids: m.pids.as_ref().map(|p| p.current),
                raw: to_json(name, &m)?,
            })
        }
        CGROUPS_V2_METRICS => {
            let m: v2::Metrics = parse(name, value)?;
            Ok(TaskMetrics {
                memory_bytes: m.memory.as_ref().map(|mem| mem.usage),
                cpu_usage_nanos: m.cpu.as_ref().map(|cpu| cpu.usage_usec.saturating_mul(1000)),
                pids: m.pids.as_ref().map(|p| p.current),
                raw: to_json(name, &m)?,
            })
        }
        _ => Err(Error::new(
            Code::Unimplemented,
            format!("task metrics of type \"{type_url}\" are not supported (known: {CGROUPS_V1_METRICS}, {CGROUPS_V2_METRICS})"),
        )),
    }
}

/// The daemon sent bytes that do not parse as the type it named: the data is damaged.
fn parse<M: Message + Default>(name: &str, value: &[u8]) -> Result<M> {
    M::decode(value).map_err(|e| Error {
        code: Code::DataLoss,
        message: format!("decode task metrics ({name}): {e}"),
        details: Some(e.to_string()),
    })
}

fn to_json(name: &str, m: &impl Serialize) -> Result<serde_json::Value> {
    // Plain structs of integers and strings always serialize; this only guards against surprises.
    serde_json::to_value(m).map_err(|e| Error::new(Code::Internal, format!("task metrics ({name}) as JSON: {e}")))
}

/// `io.containerd.cgroups.v1` (stats/v1/metrics.proto).
pub mod v1 {
    use serde::Serialize;

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Metrics {
        #[prost(message, repeated, tag = "1")]
        pub hugetlb: Vec<HugetlbStat>,
        #[prost(message, optional, tag = "2")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub pids: Option<PidsStat>,
        #[prost(message, optional, tag = "3")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub cpu: Option<CpuStat>,
        #[prost(message, optional, tag = "4")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub memory: Option<MemoryStat>,
        #[prost(message, optional, tag = "5")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub blkio: Option<BlkIoStat>,
        #[prost(message, optional, tag = "6")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub rdma: Option<RdmaStat>,
        #[prost(message, repeated, tag = "7")]
        pub network: Vec<NetworkStat>,
        #[prost(message, optional, tag = "8")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub cgroup_stats: Option<CgroupStats>,
        #[prost(message, optional, tag = "9")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub memory_oom_control: Option<MemoryOomControl>,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct HugetlbStat {
        #[prost(uint64, tag = "1")]
        pub usage: u64,
        #[prost(uint64, tag = "2")]
        pub max: u64,
        #[prost(uint64, tag = "3")]
        pub failcnt: u64,
        #[prost(string, tag = "4")]
        pub pagesize: String,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PidsStat {
        #[prost(uint64, tag = "1")]
        pub current: u64,
        #[prost(uint64, tag = "2")]
        pub limit: u64,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CpuStat {
        #[prost(message, optional, tag = "1")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub usage: Option<CpuUsage>,
        #[prost(message, optional, tag = "2")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub throttling: Option<Throttle>,
    }

    /// All values in nanoseconds.
    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CpuUsage {
        #[prost(uint64, tag = "1")]
        pub total: u64,
        #[prost(uint64, tag = "2")]
        pub kernel: u64,
        #[prost(uint64, tag = "3")]
        pub user: u64,
        #[prost(uint64, repeated, tag = "4")]
        pub per_cpu: Vec<u64>,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Throttle {
        #[prost(uint64, tag = "1")]
        pub periods: u64,
        #[prost(uint64, tag = "2")]
        pub throttled_periods: u64,
        #[prost(uint64, tag = "3")]
        pub throttled_time: u64,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct MemoryStat {
        #[prost(uint64, tag = "1")]
        pub cache: u64,
        #[prost(uint64, tag = "2")]
        pub rss: u64,
        #[prost(uint64, tag = "3")]
        pub rss_huge: u64,
        #[prost(uint64, tag = "4")]
        pub mapped_file: u64,
        #[prost(uint64, tag = "5")]
        pub dirty: u64,
        #[prost(uint64, tag = "6")]
        pub writeback: u64,
        #[prost(uint64, tag = "7")]
        pub pg_pg_in: u64,
        #[prost(uint64, tag = "8")]
        pub pg_pg_out: u64,
        #[prost(uint64, tag = "9")]
        pub pg_fault: u64,
        #[prost(uint64, tag = "10")]
        pub pg_maj_fault: u64,
        #[prost(uint64, tag = "11")]
        pub inactive_anon: u64,
        #[prost(uint64, tag = "12")]
        pub active_anon: u64,
        #[prost(uint64, tag = "13")]
        pub inactive_file: u64,
        #[prost(uint64, tag = "14")]
        pub active_file: u64,
        #[prost(uint64, tag = "15")]
        pub unevictable: u64,
        #[prost(uint64, tag = "16")]
        pub hierarchical_memory_limit: u64,
        #[prost(uint64, tag = "17")]
        pub hierarchical_swap_limit: u64,
        #[prost(uint64, tag = "18")]
        pub total_cache: u64,
        #[prost(uint64, tag = "19")]
        pub total_rss: u64,
        #[prost(uint64, tag = "20")]
        pub total_rss_huge: u64,
        #[prost(uint64, tag = "21")]
        pub total_mapped_file: u64,
        #[prost(uint64, tag = "22")]
        pub total_dirty: u64,
        #[prost(uint64, tag = "23")]
        pub total_writeback: u64,
        #[prost(uint64, tag = "24")]
        pub total_pg_pg_in: u64,
        #[prost(uint64, tag = "25")]
        pub total_pg_pg_out: u64,
        #[prost(uint64, tag = "26")]
        pub total_pg_fault: u64,
        #[prost(uint64, tag = "27")]
        pub total_pg_maj_fault: u64,
        #[prost(uint64, tag = "28")]
        pub total_inactive_anon: u64,
        #[prost(uint64, tag = "29")]
        pub total_active_anon: u64,
        #[prost(uint64, tag = "30")]
        pub total_inactive_file: u64,
        #[prost(uint64, tag = "31")]
        pub total_active_file: u64,
        #[prost(uint64, tag = "32")]
        pub total_unevictable: u64,
        #[prost(message, optional, tag = "33")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub usage: Option<MemoryEntry>,
        #[prost(message, optional, tag = "34")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub swap: Option<MemoryEntry>,
        #[prost(message, optional, tag = "35")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub kernel: Option<MemoryEntry>,
        #[prost(message, optional, tag = "36")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub kernel_tcp: Option<MemoryEntry>,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct MemoryEntry {
        #[prost(uint64, tag = "1")]
        pub limit: u64,
        #[prost(uint64, tag = "2")]
        pub usage: u64,
        #[prost(uint64, tag = "3")]
        pub max: u64,
        #[prost(uint64, tag = "4")]
        pub failcnt: u64,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct MemoryOomControl {
        #[prost(uint64, tag = "1")]
        pub oom_kill_disable: u64,
        #[prost(uint64, tag = "2")]
        pub under_oom: u64,
        #[prost(uint64, tag = "3")]
        pub oom_kill: u64,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct BlkIoStat {
        #[prost(message, repeated, tag = "1")]
        pub io_service_bytes_recursive: Vec<BlkIoEntry>,
        #[prost(message, repeated, tag = "2")]
        pub io_serviced_recursive: Vec<BlkIoEntry>,
        #[prost(message, repeated, tag = "3")]
        pub io_queued_recursive: Vec<BlkIoEntry>,
        #[prost(message, repeated, tag = "4")]
        pub io_service_time_recursive: Vec<BlkIoEntry>,
        #[prost(message, repeated, tag = "5")]
        pub io_wait_time_recursive: Vec<BlkIoEntry>,
        #[prost(message, repeated, tag = "6")]
        pub io_merged_recursive: Vec<BlkIoEntry>,
        #[prost(message, repeated, tag = "7")]
        pub io_time_recursive: Vec<BlkIoEntry>,
        #[prost(message, repeated, tag = "8")]
        pub sectors_recursive: Vec<BlkIoEntry>,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct BlkIoEntry {
        #[prost(string, tag = "1")]
        pub op: String,
        #[prost(string, tag = "2")]
        pub device: String,
        #[prost(uint64, tag = "3")]
        pub major: u64,
        #[prost(uint64, tag = "4")]
        pub minor: u64,
        #[prost(uint64, tag = "5")]
        pub value: u64,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RdmaStat {
        #[prost(message, repeated, tag = "1")]
        pub current: Vec<RdmaEntry>,
        #[prost(message, repeated, tag = "2")]
        pub limit: Vec<RdmaEntry>,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RdmaEntry {
        #[prost(string, tag = "1")]
        pub device: String,
        #[prost(uint32, tag = "2")]
        pub hca_handles: u32,
        #[prost(uint32, tag = "3")]
        pub hca_objects: u32,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct NetworkStat {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(uint64, tag = "2")]
        pub rx_bytes: u64,
        #[prost(uint64, tag = "3")]
        pub rx_packets: u64,
        #[prost(uint64, tag = "4")]
        pub rx_errors: u64,
        #[prost(uint64, tag = "5")]
        pub rx_dropped: u64,
        #[prost(uint64, tag = "6")]
        pub tx_bytes: u64,
        #[prost(uint64, tag = "7")]
        pub tx_packets: u64,
        #[prost(uint64, tag = "8")]
        pub tx_errors: u64,
        #[prost(uint64, tag = "9")]
        pub tx_dropped: u64,
    }

    /// Number of tasks per scheduler state.
    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CgroupStats {
        #[prost(uint64, tag = "1")]
        pub nr_sleeping: u64,
        #[prost(uint64, tag = "2")]
        pub nr_running: u64,
        #[prost(uint64, tag = "3")]
        pub nr_stopped: u64,
        #[prost(uint64, tag = "4")]
        pub nr_uninterruptible: u64,
        #[prost(uint64, tag = "5")]
        pub nr_io_wait: u64,
    }
}

/// `io.containerd.cgroups.v2` (v2/stats/metrics.proto). Tag 3 of `Metrics` is unused upstream.
pub mod v2 {
    use serde::Serialize;

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Metrics {
        #[prost(message, optional, tag = "1")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub pids: Option<PidsStat>,
        #[prost(message, optional, tag = "2")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub cpu: Option<CpuStat>,
        #[prost(message, optional, tag = "4")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub memory: Option<MemoryStat>,
        #[prost(message, optional, tag = "5")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub rdma: Option<RdmaStat>,
        #[prost(message, optional, tag = "6")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub io: Option<IoStat>,
        #[prost(message, repeated, tag = "7")]
        pub hugetlb: Vec<HugeTlbStat>,
        #[prost(message, optional, tag = "8")]
        #[serde(skip_serializing_if = "Option::is_none")]
        pub memory_events: Option<MemoryEvents>,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PidsStat {
        #[prost(uint64, tag = "1")]
        pub current: u64,
        #[prost(uint64, tag = "2")]
        pub limit: u64,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CpuStat {
        #[prost(uint64, tag = "1")]
        pub usage_usec: u64,
        #[prost(uint64, tag = "2")]
        pub user_usec: u64,
        #[prost(uint64, tag = "3")]
        pub system_usec: u64,
        #[prost(uint64, tag = "4")]
        pub nr_periods: u64,
        #[prost(uint64, tag = "5")]
        pub nr_throttled: u64,
        #[prost(uint64, tag = "6")]
        pub throttled_usec: u64,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct MemoryStat {
        #[prost(uint64, tag = "1")]
        pub anon: u64,
        #[prost(uint64, tag = "2")]
        pub file: u64,
        #[prost(uint64, tag = "3")]
        pub kernel_stack: u64,
        #[prost(uint64, tag = "4")]
        pub slab: u64,
        #[prost(uint64, tag = "5")]
        pub sock: u64,
        #[prost(uint64, tag = "6")]
        pub shmem: u64,
        #[prost(uint64, tag = "7")]
        pub file_mapped: u64,
        #[prost(uint64, tag = "8")]
        pub file_dirty: u64,
        #[prost(uint64, tag = "9")]
        pub file_writeback: u64,
        #[prost(uint64, tag = "10")]
        pub anon_thp: u64,
        #[prost(uint64, tag = "11")]
        pub inactive_anon: u64,
        #[prost(uint64, tag = "12")]
        pub active_anon: u64,
        #[prost(uint64, tag = "13")]
        pub inactive_file: u64,
        #[prost(uint64, tag = "14")]
        pub active_file: u64,
        #[prost(uint64, tag = "15")]
        pub unevictable: u64,
        #[prost(uint64, tag = "16")]
        pub slab_reclaimable: u64,
        #[prost(uint64, tag = "17")]
        pub slab_unreclaimable: u64,
        #[prost(uint64, tag = "18")]
        pub pgfault: u64,
        #[prost(uint64, tag = "19")]
        pub pgmajfault: u64,
        #[prost(uint64, tag = "20")]
        pub workingset_refault: u64,
        #[prost(uint64, tag = "21")]
        pub workingset_activate: u64,
        #[prost(uint64, tag = "22")]
        pub workingset_nodereclaim: u64,
        #[prost(uint64, tag = "23")]
        pub pgrefill: u64,
        #[prost(uint64, tag = "24")]
        pub pgscan: u64,
        #[prost(uint64, tag = "25")]
        pub pgsteal: u64,
        #[prost(uint64, tag = "26")]
        pub pgactivate: u64,
        #[prost(uint64, tag = "27")]
        pub pgdeactivate: u64,
        #[prost(uint64, tag = "28")]
        pub pglazyfree: u64,
        #[prost(uint64, tag = "29")]
        pub pglazyfreed: u64,
        #[prost(uint64, tag = "30")]
        pub thp_fault_alloc: u64,
        #[prost(uint64, tag = "31")]
        pub thp_collapse_alloc: u64,
        #[prost(uint64, tag = "32")]
        pub usage: u64,
        #[prost(uint64, tag = "33")]
        pub usage_limit: u64,
        #[prost(uint64, tag = "34")]
        pub swap_usage: u64,
        #[prost(uint64, tag = "35")]
        pub swap_limit: u64,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct MemoryEvents {
        #[prost(uint64, tag = "1")]
        pub low: u64,
        #[prost(uint64, tag = "2")]
        pub high: u64,
        #[prost(uint64, tag = "3")]
        pub max: u64,
        #[prost(uint64, tag = "4")]
        pub oom: u64,
        #[prost(uint64, tag = "5")]
        pub oom_kill: u64,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RdmaStat {
        #[prost(message, repeated, tag = "1")]
        pub current: Vec<RdmaEntry>,
        #[prost(message, repeated, tag = "2")]
        pub limit: Vec<RdmaEntry>,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RdmaEntry {
        #[prost(string, tag = "1")]
        pub device: String,
        #[prost(uint32, tag = "2")]
        pub hca_handles: u32,
        #[prost(uint32, tag = "3")]
        pub hca_objects: u32,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct IoStat {
        #[prost(message, repeated, tag = "1")]
        pub usage: Vec<IoEntry>,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct IoEntry {
        #[prost(uint64, tag = "1")]
        pub major: u64,
        #[prost(uint64, tag = "2")]
        pub minor: u64,
        #[prost(uint64, tag = "3")]
        pub rbytes: u64,
        #[prost(uint64, tag = "4")]
        pub wbytes: u64,
        #[prost(uint64, tag = "5")]
        pub rios: u64,
        #[prost(uint64, tag = "6")]
        pub wios: u64,
    }

    #[derive(Clone, PartialEq, prost::Message, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct HugeTlbStat {
        #[prost(uint64, tag = "1")]
        pub current: u64,
        #[prost(uint64, tag = "2")]
        pub max: u64,
        #[prost(string, tag = "3")]
        pub pagesize: String,
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
    fn missing_sections_are_none() {
        let got = decode(CGROUPS_V1_METRICS, &[]).unwrap();
        assert_eq!((got.memory_bytes, got.cpu_usage_nanos, got.pids), (None, None, None));
        let mem_without_usage = v1::Metrics { memory: Some(v1::MemoryStat::default()), ..Default::default() };
        assert_eq!(decode(CGROUPS_V1_METRICS, &mem_without_usage.encode_to_vec()).unwrap().memory_bytes, None);
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
