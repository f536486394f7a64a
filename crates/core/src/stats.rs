//! `Task.stats()`: samples of a task's metrics every interval, with the CPU share between two
//! samples and, for a container on a network of ours, its interface counters.

use super::cancel::Cancel;
use super::client::Client;
use super::error::{Code, Error, Result};
use super::network::NETWORK_LABEL;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

/// The default and the bounds of `intervalMs`.
pub const DEFAULT_INTERVAL_MS: u64 = 1000;
const MIN_INTERVAL_MS: u64 = 50;
const MAX_INTERVAL_MS: u64 = 3_600_000;

#[derive(Debug, Clone, PartialEq)]
pub struct TaskStats {
    /// Milliseconds since the epoch.
    pub time: f64,
    /// CPU time over wall time since the previous sample, in percent of one CPU (a task busy on
    /// two CPUs reads 200).
    pub cpu_percent: f64,
    pub memory_bytes: u64,
    /// None when unlimited.
    pub memory_limit_bytes: Option<u64>,
    pub pids: u64,
    /// The container's interfaces (all but lo), when it has a network of ours.
    pub net_rx_bytes: Option<u64>,
    pub net_tx_bytes: Option<u64>,
}

pub struct StatsStream {
    client: Client,
    id: String,
    interval: Duration,
    networked: bool,
    /// The previous reading: when, and the CPU time then.
    previous: Option<(Instant, u64)>,
    closer: CancellationToken,
    done: bool,
}

impl Client {
    /// Opens the stream: checks the interval, that the task runs, and takes the first reading.
    pub async fn open_stats(&self, id: &str, interval_ms: Option<f64>, cancel: &Cancel) -> Result<StatsStream> {
        let ms = match interval_ms {
            Some(ms) => super::numbers::integer_in("intervalMs", ms, MIN_INTERVAL_MS, MAX_INTERVAL_MS)?,
            None => DEFAULT_INTERVAL_MS,
        };
        let container = self.get_container(id, cancel).await?;
        let mut stream = StatsStream {
            client: self.clone(),
            id: id.to_string(),
            interval: Duration::from_millis(ms),
            networked: container.labels.contains_key(NETWORK_LABEL),
            previous: None,
            closer: CancellationToken::new(),
            done: false,
        };
        // The baseline for the first sample's CPU share.
        let first = stream.read(cancel).await?;
        if first.is_none() {
            return Err(Error::new(Code::FailedPrecondition, format!("stats of task {id:?}: the task is not running")));
        }
        Ok(stream)
    }
}

impl StatsStream {
    pub fn closer(&self) -> CancellationToken {
        self.closer.clone()
    }

    /// The next sample, one interval after the previous one; None once the task has exited (or
    /// the stream was closed).
    pub async fn next(&mut self) -> Result<Option<TaskStats>> {
        if self.done {
            return Ok(None);
        }
        let closer = self.closer.clone();
        tokio::select! {
            _ = closer.cancelled() => { self.done = true; return Ok(None) }
            _ = tokio::time::sleep(self.interval) => {}
        }
        let cancel = Cancel::none();
        let sample = tokio::select! {
            _ = closer.cancelled() => None,
            sample = self.read(&cancel) => sample?,
        };
        if sample.is_none() {
            self.done = true;
        }
        Ok(sample)
    }

    /// One reading; None when the task is gone or not running.
    async fn read(&mut self, cancel: &Cancel) -> Result<Option<TaskStats>> {
        let state = match self.client.task_state(&self.id, "", cancel).await {
            Ok(state) => state,
            Err(e) if e.code == Code::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if state.status == "stopped" || state.status == "unknown" {
            return Ok(None);
        }
        let metrics = match self.client.task_metrics(&self.id, cancel).await {
            Ok(m) => m,
            Err(e) if e.code == Code::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let now = Instant::now();
        let cpu = metrics.cpu_usage_nanos.unwrap_or(0);
        let cpu_percent = match self.previous {
            Some((then, before)) => cpu_percent(cpu.saturating_sub(before), now.duration_since(then)),
            None => 0.0,
        };
        self.previous = Some((now, cpu));
        let net = if self.networked { interface_bytes(state.pid) } else { None };
        Ok(Some(TaskStats {
            time: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
            cpu_percent,
            memory_bytes: metrics.memory_bytes.unwrap_or(0),
            memory_limit_bytes: metrics.memory_limit_bytes,
            pids: metrics.pids.unwrap_or(0),
            net_rx_bytes: net.map(|(rx, _)| rx),
            net_tx_bytes: net.map(|(_, tx)| tx),
        }))
    }
}

fn cpu_percent(cpu_nanos: u64, wall: Duration) -> f64 {
    let wall = wall.as_nanos() as f64;
    if wall <= 0.0 {
        0.0
    } else {
        cpu_nanos as f64 / wall * 100.0
    }
}

/// Received and sent bytes of every interface but lo in the network namespace of `pid`.
fn interface_bytes(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).ok()?;
    parse_net_dev(&text)
}

fn parse_net_dev(text: &str) -> Option<(u64, u64)> {
    let mut total: Option<(u64, u64)> = None;
    for line in text.lines().skip(2) {
        let Some((name, fields)) = line.split_once(':') else { continue };
        if name.trim() == "lo" {
            continue;
        }
        let fields: Vec<u64> = fields.split_whitespace().filter_map(|f| f.parse().ok()).collect();
        // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes ...
        if let (Some(rx), Some(tx)) = (fields.first(), fields.get(8)) {
            let (r, t) = total.unwrap_or((0, 0));
            total = Some((r.saturating_add(*rx), t.saturating_add(*tx)));
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_dev_sums_all_but_lo() {
        let text = "Inter-|   Receive                                                |  Transmit\n \
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  \
eth0:    1234      10    0    0    0     0          0         0      567       5    0    0    0     0       0          0\n";
        assert_eq!(parse_net_dev(text), Some((1234, 567)));
        assert_eq!(parse_net_dev("h\nh\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"), None);
    }

    #[test]
    fn cpu_share() {
        assert_eq!(cpu_percent(500_000_000, Duration::from_secs(1)), 50.0);
        assert_eq!(cpu_percent(1, Duration::ZERO), 0.0);
    }
}
