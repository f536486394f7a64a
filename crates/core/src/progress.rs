//! Pull progress as the README's `PullProgress`: a report per state change, byte updates at least
//! every 1 MiB or 100 ms, `downloaded_bytes` never going back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BYTES_STEP: u64 = 1 << 20;
const TIME_STEP: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Resolving,
    Downloading,
    Unpacking,
    Done,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Resolving => "resolving",
            Phase::Downloading => "downloading",
            Phase::Unpacking => "unpacking",
            Phase::Done => "done",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerStatus {
    Waiting,
    Downloading,
    Exists,
    Downloaded,
    Unpacking,
    Unpacked,
}

impl LayerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LayerStatus::Waiting => "waiting",
            LayerStatus::Downloading => "downloading",
            LayerStatus::Exists => "exists",
            LayerStatus::Downloaded => "downloaded",
            LayerStatus::Unpacking => "unpacking",
            LayerStatus::Unpacked => "unpacked",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LayerProgress {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    pub downloaded: u64,
    pub status: LayerStatus,
}

#[derive(Debug, Clone)]
pub struct PullProgress {
    pub reference: String,
    pub phase: Phase,
    pub total_bytes: u64,
    pub downloaded_bytes: u64,
    pub layers: Vec<LayerProgress>,
}

pub type ProgressSink = Arc<dyn Fn(PullProgress) + Send + Sync>;

struct State {
    report: PullProgress,
    emitted_at: Instant,
    emitted_bytes: u64,
}

/// Collects progress and hands reports to the sink; a no-op without one.
pub struct Progress {
    sink: Option<ProgressSink>,
    state: Mutex<State>,
}

impl Progress {
    pub fn new(reference: &str, sink: Option<ProgressSink>) -> Progress {
        let report = PullProgress {
            reference: reference.to_string(),
            phase: Phase::Resolving,
            total_bytes: 0,
            downloaded_bytes: 0,
            layers: Vec::new(),
        };
        let progress =
            Progress { sink, state: Mutex::new(State { report, emitted_at: Instant::now(), emitted_bytes: 0 }) };
        progress.update(true, |_| {});
        progress
    }

    /// Applies `change`; reports when `always` or when enough bytes or time passed since the last report.
    fn update(&self, always: bool, change: impl FnOnce(&mut PullProgress)) {
        let Some(sink) = &self.sink else { return };
        let report = {
            let Ok(mut state) = self.state.lock() else { return };
            change(&mut state.report);
            let due = always
                || state.report.downloaded_bytes >= state.emitted_bytes + BYTES_STEP
                || state.emitted_at.elapsed() >= TIME_STEP;
            if !due {
                return;
            }
            state.emitted_at = Instant::now();
            state.emitted_bytes = state.report.downloaded_bytes;
            state.report.clone()
        };
        sink(report);
    }

    /// A blob whose bytes count in the totals; layers are also listed. Already-present blobs
    /// count as downloaded.
    pub fn add_blob(&self, digest: &str, media_type: &str, size: u64, layer: bool, present: bool) {
        self.update(false, |r| {
            r.total_bytes += size;
            if present {
                r.downloaded_bytes += size;
            }
            if layer {
                r.layers.push(LayerProgress {
                    digest: digest.to_string(),
                    media_type: media_type.to_string(),
                    size,
                    downloaded: if present { size } else { 0 },
                    status: if present { LayerStatus::Exists } else { LayerStatus::Waiting },
                });
            }
        });
    }

    pub fn phase(&self, phase: Phase) {
        self.update(true, |r| r.phase = phase);
    }

    pub fn layer_status(&self, digest: &str, status: LayerStatus) {
        self.update(true, |r| {
            for layer in r.layers.iter_mut().filter(|l| l.digest == digest) {
                layer.status = status;
            }
        });
    }

    /// `n` more bytes of blob `digest` arrived (never more than its size is counted).
    pub fn bytes(&self, digest: &str, n: u64) {
        self.update(false, |r| {
            let mut added = n;
            if let Some(layer) = r.layers.iter_mut().find(|l| l.digest == digest) {
                added = n.min(layer.size - layer.downloaded);
                layer.downloaded += added;
            }
            r.downloaded_bytes = (r.downloaded_bytes + added).min(r.total_bytes);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_state_changes_and_throttles_bytes() {
        let seen = Arc::new(Mutex::new(Vec::<PullProgress>::new()));
        let sink_seen = seen.clone();
        let p = Progress::new("r", Some(Arc::new(move |r| sink_seen.lock().unwrap().push(r))));
        p.add_blob("sha256:a", "layer", 3 << 20, true, false);
        p.phase(Phase::Downloading);
        for _ in 0..(3 << 10) {
            p.bytes("sha256:a", 1024);
        }
        p.layer_status("sha256:a", LayerStatus::Downloaded);
        p.phase(Phase::Done);
        let seen = seen.lock().unwrap();
        // resolving, downloading, ~3 byte reports, downloaded, done.
        assert!(seen.len() >= 6 && seen.len() < 20, "{}", seen.len());
        let bytes: Vec<u64> = seen.iter().map(|r| r.downloaded_bytes).collect();
        assert!(bytes.windows(2).all(|w| w[0] <= w[1]));
        let last = seen.last().unwrap();
        assert_eq!((last.phase, last.downloaded_bytes, last.total_bytes), (Phase::Done, 3 << 20, 3 << 20));
        assert_eq!(last.layers[0].status, LayerStatus::Downloaded);
    }
}
