//! Container logs that outlive the client: a container made with `log` gets its tasks' output
//! written by containerd-napi-logger (crates/logger), which the runc shim starts through a
//! `binary://` stdio URI, as JSON-lines records in one directory per container:
//! `$CONTAINERD_NAPI_LOG_ROOT` (default /var/lib/containerd-napi/logs) `/<namespace>/<id>/`.
//!
//! The logger is installed on first use to /var/lib/containerd-napi/bin/containerd-napi-logger-
//! <sha256 prefix> (root-owned, written to a temporary name and renamed), and the container's
//! labels record its path, the directory and the rotation settings, so tasks started later (from
//! another process, after node_modules moved) use the same. Local daemons only: the shim runs the
//! logger on the daemon's host, and the files are read here.

use super::address::Address;
use super::cancel::Cancel;
use super::client::Client;
use super::containers::ContainerRecord;
use super::error::{Code, Error, Result};
use super::stdio::StdioMode;
use containerd_napi_logger as logfmt;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub const LOG_DIR_LABEL: &str = "containerd-napi/log.dir";
pub const LOG_BINARY_LABEL: &str = "containerd-napi/log.binary";
pub const LOG_MAX_SIZE_LABEL: &str = "containerd-napi/log.max-size";
pub const LOG_MAX_FILES_LABEL: &str = "containerd-napi/log.max-files";

pub const DEFAULT_MAX_SIZE: u64 = 10 << 20;
pub const DEFAULT_MAX_FILES: u32 = 5;
const DEFAULT_LOG_ROOT: &str = "/var/lib/containerd-napi/logs";
const BASE_DIR: &str = "/var/lib/containerd-napi";
const LOGGER_NAME: &str = "containerd-napi-logger";

/// `ContainerOptions.log`: rotation settings (None: the defaults) and where the package's
/// logger binary is (the source of the installed copy).
#[derive(Debug, Clone, Default)]
pub struct LogRequest {
    pub max_size_bytes: Option<f64>,
    pub max_files: Option<f64>,
    pub logger: Option<PathBuf>,
}

impl LogRequest {
    /// The checked rotation settings.
    pub fn settings(&self) -> Result<(u64, u32)> {
        let int = |v: f64, name: &str| {
            if !v.is_finite() || v.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&v) {
                return Err(Error::invalid_argument(format!(
                    "options.log.{name} must be a non-negative integer, got {v}"
                )));
            }
            Ok(v as u64)
        };
        let size = self.max_size_bytes.map(|v| int(v, "maxSizeBytes")).transpose()?.unwrap_or(DEFAULT_MAX_SIZE);
        let files = self.max_files.map(|v| int(v, "maxFiles")).transpose()?.unwrap_or(u64::from(DEFAULT_MAX_FILES));
        let files = u32::try_from(files).unwrap_or(u32::MAX);
        logfmt::check(size, files).map_err(|e| Error::invalid_argument(format!("options.log: {e}")))?;
        Ok((size, files))
    }
}

fn log_root() -> PathBuf {
    std::env::var_os("CONTAINERD_NAPI_LOG_ROOT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_LOG_ROOT))
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new(Code::Internal, format!("{what} {}: {e}", path.display()))
}

/// Copies the logger to its stable, root-owned place (once per binary content) and returns it.
pub fn install_logger(source: &Path) -> Result<PathBuf> {
    let bytes = std::fs::read(source).map_err(|e| {
        Error::new(
            Code::FailedPrecondition,
            format!("the logger binary {} is missing ({e}): build it with `npm run build`", source.display()),
        )
    })?;
    let hash = hex::encode(&Sha256::digest(&bytes)[..8]);
    let base = Path::new(BASE_DIR);
    let bin = base.join("bin");
    for dir in [base, &bin] {
        logfmt::make_private_dir(dir).map_err(|e| io_err("preparing", dir, e))?;
    }
    let target = bin.join(format!("{LOGGER_NAME}-{hash}"));
    match std::fs::symlink_metadata(&target) {
        Ok(meta)
            if meta.is_file()
                && meta.uid() == euid()
                && meta.mode() & 0o022 == 0
                && meta.len() == bytes.len() as u64 =>
        {
            return Ok(target)
        }
        Ok(_) => {
            return Err(Error::new(
                Code::FailedPrecondition,
                format!("{} exists but is not a logger this user installed; remove it", target.display()),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("checking", &target, e)),
    }
    let temp = bin.join(format!(".{LOGGER_NAME}-{hash}.{:016x}", rand::random::<u64>()));
    let written = (|| {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, &target)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io_err("installing the logger to", &target, e));
    }
    Ok(target)
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

/// Query-string encoding for the URI the shim parses with Go's net/url.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The stdio of a new task: `log` (the default for containers made with `log`) becomes the
/// logger's `binary://` URI; the mistakes are typed errors.
pub fn resolve_task_stdio(container: &ContainerRecord, stdio: &StdioMode) -> Result<StdioMode> {
    let logged = container.labels.contains_key(LOG_DIR_LABEL);
    let id = &container.id;
    let log = match stdio {
        StdioMode::Auto { stdin: false } if logged => true,
        StdioMode::Auto { stdin: true } if logged => {
            return Err(Error::invalid_argument(format!(
                "container {id:?} logs its tasks' output: stdin needs stdio 'pipe'"
            )))
        }
        StdioMode::Auto { stdin } => return Ok(StdioMode::Pipe { stdin: *stdin }),
        StdioMode::Log if !logged => {
            return Err(Error::new(
                Code::FailedPrecondition,
                format!("stdio 'log': container {id:?} was not created with log"),
            ))
        }
        StdioMode::Log => true,
        StdioMode::LogFile(_) if logged => {
            return Err(Error::invalid_argument(format!(
                "container {id:?} was created with log: its output goes to its logger, not a logFile"
            )))
        }
        _ => false,
    };
    if !log {
        return Ok(stdio.clone());
    }
    let label =
        |key: &str| {
            container.labels.get(key).filter(|v| !v.is_empty()).ok_or_else(|| {
                Error::new(Code::FailedPrecondition, format!("container {id:?}: label {key} is missing"))
            })
        };
    let (binary, dir) = (label(LOG_BINARY_LABEL)?, label(LOG_DIR_LABEL)?);
    let (size, files) = (label(LOG_MAX_SIZE_LABEL)?, label(LOG_MAX_FILES_LABEL)?);
    match std::fs::symlink_metadata(binary) {
        Ok(meta) if meta.is_file() && meta.uid() == euid() && meta.mode() & 0o022 == 0 => {}
        _ => {
            return Err(Error::new(
                Code::FailedPrecondition,
                format!("container {id:?}: its logger {binary} is missing or not root-owned"),
            ))
        }
    }
    Ok(StdioMode::Binary(format!(
        "binary://{}?dir={}&max-size={}&max-files={}",
        percent(binary),
        percent(dir),
        percent(size),
        percent(files)
    )))
}

/// Removes a container's log directory, only if the label names `<…>/<namespace>/<id>`.
pub(crate) fn remove_log_dir(container: &ContainerRecord, namespace: &str) -> Result<()> {
    let Some(dir) = container.labels.get(LOG_DIR_LABEL) else { return Ok(()) };
    let path = Path::new(dir);
    let plain = path.is_absolute() && path.components().all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    let tail: Vec<_> = path.components().rev().take(2).collect();
    if !plain || tail != [Component::Normal(container.id.as_ref()), Component::Normal(namespace.as_ref())] {
        return Ok(());
    }
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_err("removing", path, e)),
        _ => {}
    }
    // The namespace's directory goes with its last container (fails harmlessly while not empty).
    if let Some(parent) = path.parent() {
        let _ = std::fs::remove_dir(parent);
    }
    Ok(())
}

impl Client {
    /// Local daemons only: the logger runs on the daemon's host and its files are read here.
    fn check_local_logs(&self) -> Result<()> {
        match Address::parse(self.address()) {
            Ok(Address::Unix(_)) => Ok(()),
            _ => Err(Error::new(
                Code::FailedPrecondition,
                format!(
                    "container logs need containerd on this host (a unix socket address), not {}: the shim runs \
                     this package's logger there and the files are read here",
                    self.address()
                ),
            )),
        }
    }

    /// Checks `log`, installs the logger and makes the log directory; returns the labels.
    pub(crate) async fn prepare_log(&self, id: &str, request: &LogRequest) -> Result<HashMap<String, String>> {
        let (size, files) = request.settings()?;
        self.check_local_logs()?;
        let source = request
            .logger
            .clone()
            .ok_or_else(|| Error::new(Code::FailedPrecondition, "log: no logger binary given"))?;
        let dir = log_root().join(self.namespace()).join(id);
        let dir_for_task = dir.clone();
        let binary = tokio::task::spawn_blocking(move || {
            let binary = install_logger(&source)?;
            logfmt::make_private_dir(&dir_for_task).map_err(|e| io_err("preparing", &dir_for_task, e))?;
            Ok::<_, Error>(binary)
        })
        .await
        .map_err(|e| Error::new(Code::Internal, format!("installing the logger: {e}")))??;
        Ok(HashMap::from([
            (LOG_BINARY_LABEL.to_string(), binary.display().to_string()),
            (LOG_DIR_LABEL.to_string(), dir.display().to_string()),
            (LOG_MAX_SIZE_LABEL.to_string(), size.to_string()),
            (LOG_MAX_FILES_LABEL.to_string(), files.to_string()),
        ]))
    }

    /// Opens the container's log for reading. NotFound for a container without a log.
    pub async fn open_logs(&self, id: &str, query: LogQuery, cancel: &Cancel) -> Result<LogReader> {
        query.check()?;
        let container = self.get_container(id, cancel).await?;
        let Some(dir) = container.labels.get(LOG_DIR_LABEL) else {
            return Err(Error::new(
                Code::NotFound,
                format!("logs of container {id:?}: it has no log (create it with log: true)"),
            ));
        };
        self.check_local_logs()?;
        Ok(LogReader::new(self.clone(), id.to_string(), PathBuf::from(dir), query))
    }
}

/// `Container.logs()` options; times in milliseconds since the epoch.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub follow: bool,
    pub tail: Option<f64>,
    pub since: Option<f64>,
    pub until: Option<f64>,
}

impl LogQuery {
    fn check(&self) -> Result<()> {
        if let Some(t) = self.tail {
            if !t.is_finite() || t < 0.0 || t.fract() != 0.0 {
                return Err(Error::invalid_argument(format!("options.tail must be a non-negative integer, got {t}")));
            }
        }
        for (name, v) in [("since", self.since), ("until", self.until)] {
            if v.is_some_and(|v| !v.is_finite()) {
                return Err(Error::invalid_argument(format!("options.{name} must be a valid date")));
            }
        }
        Ok(())
    }

    fn wants(&self, time: f64) -> bool {
        self.since.is_none_or(|s| time >= s) && self.until.is_none_or(|u| time < u)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// Milliseconds since the epoch (with the fraction).
    pub time: f64,
    pub stream: String,
    pub line: String,
    pub dropped: Option<u64>,
}

#[derive(serde::Deserialize)]
struct RawRecord {
    time: String,
    stream: String,
    line: String,
    dropped: Option<u64>,
}

fn parse(line: &[u8]) -> Option<LogRecord> {
    let raw: RawRecord = serde_json::from_slice(line).ok()?;
    Some(LogRecord { time: logfmt::parse_time(&raw.time)?, stream: raw.stream, line: raw.line, dropped: raw.dropped })
}

/// An open log file and its unfinished last line.
struct Source {
    file: File,
    inode: u64,
    pending: Vec<u8>,
}

const CHUNK: usize = 256 * 1024;
const POLL: Duration = Duration::from_millis(100);
const CHECK_CONTAINER: Duration = Duration::from_secs(1);

fn open_log(path: &Path) -> std::io::Result<Option<Source>> {
    match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC).open(path) {
        Ok(file) => {
            let meta = file.metadata()?;
            if !meta.is_file() {
                return Err(std::io::Error::other(format!("{} is not a plain file", path.display())));
            }
            Ok(Some(Source { file, inode: meta.ino(), pending: Vec::new() }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl Source {
    /// Reads up to CHUNK bytes; the complete records, and whether the file is at its end.
    fn read(&mut self, query: &LogQuery, out: &mut Vec<LogRecord>) -> std::io::Result<bool> {
        let start = self.pending.len();
        self.pending.resize(start + CHUNK, 0);
        let n = loop {
            match self.file.read(&mut self.pending[start..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.pending.truncate(start + *n.as_ref().unwrap_or(&0));
        let n = n?;
        let mut consumed = 0;
        while let Some(i) = self.pending[consumed..].iter().position(|&b| b == b'\n') {
            if let Some(record) = parse(&self.pending[consumed..consumed + i]) {
                if query.wants(record.time) {
                    out.push(record);
                }
            }
            consumed += i + 1;
        }
        self.pending.drain(..consumed);
        Ok(n == 0)
    }
}

enum Phase {
    Start,
    /// Older files still to read, then the current one.
    Reading(VecDeque<Source>),
    Following(Option<Source>),
    Done,
}

/// Yields batches of records: the existing ones (oldest first; with `tail`, only the last N),
/// then with `follow` new ones across rotation and task restarts until the container is
/// deleted (its directory removed, or the daemon no longer knows it) or the reader is closed.
pub struct LogReader {
    client: Client,
    id: String,
    dir: PathBuf,
    query: LogQuery,
    phase: Phase,
    closer: CancellationToken,
}

impl LogReader {
    fn new(client: Client, id: String, dir: PathBuf, query: LogQuery) -> LogReader {
        LogReader { client, id, dir, query, phase: Phase::Start, closer: CancellationToken::new() }
    }

    pub fn closer(&self) -> CancellationToken {
        self.closer.clone()
    }

    fn io(&self, e: std::io::Error) -> Error {
        io_err("reading the log in", &self.dir, e)
    }

    /// The next batch, or None at the end.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<LogRecord>>> {
        loop {
            if self.closer.is_cancelled() {
                self.phase = Phase::Done;
            }
            match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Done => return Ok(None),
                Phase::Start => {
                    let mut sources = VecDeque::new();
                    for n in (0..logfmt::MAX_FILES).rev() {
                        if let Some(s) = open_log(&self.dir.join(logfmt::file_name(n))).map_err(|e| self.io(e))? {
                            sources.push_back(s);
                        }
                    }
                    if let Some(tail) = self.query.tail {
                        let tail = tail as usize;
                        let mut ring: VecDeque<LogRecord> = VecDeque::new();
                        let mut batch = Vec::new();
                        let mut last = None;
                        while let Some(mut source) = sources.pop_front() {
                            while !source.read(&self.query, &mut batch).map_err(|e| self.io(e))? {
                                ring.extend(batch.drain(..));
                                while ring.len() > tail {
                                    ring.pop_front();
                                }
                            }
                            ring.extend(batch.drain(..));
                            while ring.len() > tail {
                                ring.pop_front();
                            }
                            last = Some(source);
                        }
                        self.phase = if self.query.follow { Phase::Following(last) } else { Phase::Done };
                        if !ring.is_empty() {
                            return Ok(Some(ring.into()));
                        }
                    } else {
                        self.phase = Phase::Reading(sources);
                    }
                }
                Phase::Reading(mut sources) => {
                    let Some(front) = sources.front_mut() else {
                        self.phase = if self.query.follow { Phase::Following(None) } else { Phase::Done };
                        continue;
                    };
                    let mut batch = Vec::new();
                    let eof = front.read(&self.query, &mut batch).map_err(|e| self.io(e))?;
                    if eof {
                        let done = sources.pop_front();
                        if sources.is_empty() {
                            self.phase = if self.query.follow { Phase::Following(done) } else { Phase::Done };
                        } else {
                            self.phase = Phase::Reading(sources);
                        }
                    } else {
                        self.phase = Phase::Reading(sources);
                    }
                    if !batch.is_empty() {
                        return Ok(Some(batch));
                    }
                }
                Phase::Following(source) => {
                    if let Some(batch) = self.follow(source).await? {
                        return Ok(Some(batch));
                    }
                }
            }
        }
    }

    /// Waits for new records in the current file (switching files when the logger rotates or a
    /// new task's logger starts one); None when following ends.
    async fn follow(&mut self, mut source: Option<Source>) -> Result<Option<Vec<LogRecord>>> {
        let current = self.dir.join(logfmt::CURRENT);
        let mut checked = Instant::now();
        loop {
            let mut batch = Vec::new();
            if let Some(s) = source.as_mut() {
                while !s.read(&self.query, &mut batch).map_err(|e| self.io(e))? {
                    if batch.len() >= 4096 {
                        break;
                    }
                }
                if !batch.is_empty() {
                    self.phase = Phase::Following(source);
                    return Ok(Some(batch));
                }
            }
            // At the end of what is written: has the file been replaced?
            match std::fs::symlink_metadata(&current) {
                Ok(meta) if source.as_ref().is_none_or(|s| s.inode != meta.ino()) => {
                    // The logger may have written to the old file after our last read and before
                    // renaming it: read it to its end once more, then switch.
                    if let Some(mut old) = source.take() {
                        while !old.read(&self.query, &mut batch).map_err(|e| self.io(e))? {}
                    }
                    source = open_log(&current).map_err(|e| self.io(e))?;
                    if !batch.is_empty() {
                        self.phase = Phase::Following(source);
                        return Ok(Some(batch));
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if !self.dir.exists() {
                        return Ok(None); // deleted with its container
                    }
                }
                Err(e) => return Err(self.io(e)),
            }
            if self.query.until.is_some_and(|u| logfmt_now_ms() >= u) {
                return Ok(None);
            }
            if checked.elapsed() >= CHECK_CONTAINER {
                checked = Instant::now();
                match self.client.get_container(&self.id, &Cancel::none()).await {
                    Err(e) if e.code == Code::NotFound => return Ok(None),
                    _ => {}
                }
            }
            tokio::select! {
                _ = self.closer.cancelled() => return Ok(None),
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

fn logfmt_now_ms() -> f64 {
    let (s, n) = logfmt::now();
    s as f64 * 1000.0 + f64::from(n) / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let req = |s: Option<f64>, f: Option<f64>| LogRequest { max_size_bytes: s, max_files: f, logger: None };
        assert_eq!(req(None, None).settings().unwrap(), (DEFAULT_MAX_SIZE, DEFAULT_MAX_FILES));
        assert_eq!(req(Some(1048576.0), Some(2.0)).settings().unwrap(), (1 << 20, 2));
        for (s, f) in [
            (Some(-1.0), None),
            (Some(1.5), None),
            (Some(100.0), None),
            (None, Some(0.0)),
            (None, Some(-2.0)),
            (Some(f64::NAN), None),
        ] {
            assert_eq!(req(s, f).settings().unwrap_err().code, Code::InvalidArgument, "{s:?} {f:?}");
        }
    }

    #[test]
    fn uris_encode_the_query() {
        assert_eq!(percent("/a b/c&d=e"), "/a%20b/c%26d%3De");
    }

    fn record(labels: &[(&str, &str)]) -> ContainerRecord {
        ContainerRecord {
            id: "c1".into(),
            image: String::new(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            snapshotter: String::new(),
            snapshot_key: String::new(),
            runtime: String::new(),
            created_at: 0.0,
            updated_at: 0.0,
            spec: Vec::new(),
        }
    }

    #[test]
    fn stdio_defaults_to_the_log_and_mistakes_are_typed() {
        let plain = record(&[]);
        assert_eq!(
            resolve_task_stdio(&plain, &StdioMode::Auto { stdin: true }).unwrap(),
            StdioMode::Pipe { stdin: true }
        );
        assert_eq!(resolve_task_stdio(&plain, &StdioMode::Log).unwrap_err().code, Code::FailedPrecondition);
        let logged = record(&[(LOG_DIR_LABEL, "/x/ns/c1")]);
        assert_eq!(
            resolve_task_stdio(&logged, &StdioMode::LogFile("/x".into())).unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(
            resolve_task_stdio(&logged, &StdioMode::Auto { stdin: true }).unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(resolve_task_stdio(&logged, &StdioMode::Ignore).unwrap(), StdioMode::Ignore);
        // Labels incomplete: typed, not a shim failure.
        assert_eq!(resolve_task_stdio(&logged, &StdioMode::Log).unwrap_err().code, Code::FailedPrecondition);
    }

    #[test]
    fn only_the_containers_own_directory_is_removed() {
        let root = std::env::temp_dir().join(format!("cnapi-logs-{}", std::process::id()));
        let dir = root.join("ns").join("c1");
        std::fs::create_dir_all(&dir).unwrap();
        for bad in [root.display().to_string(), format!("{}/ns/../ns/c1", root.display()), "ns/c1".into()] {
            remove_log_dir(&record(&[(LOG_DIR_LABEL, &bad)]), "ns").unwrap();
            assert!(dir.exists(), "{bad}");
        }
        remove_log_dir(&record(&[(LOG_DIR_LABEL, &dir.display().to_string())]), "other").unwrap();
        assert!(dir.exists());
        remove_log_dir(&record(&[(LOG_DIR_LABEL, &dir.display().to_string())]), "ns").unwrap();
        assert!(!dir.exists());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[tokio::test]
    async fn reads_tail_and_filters_across_rotated_files() {
        let dir = std::env::temp_dir().join(format!("cnapi-read-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut r = logfmt::Rotator::open(logfmt::Config { dir: dir.clone(), max_size: 4096, max_files: 3 }).unwrap();
        let mut rec = Vec::new();
        for i in 0..300u32 {
            rec.clear();
            logfmt::encode(
                &mut rec,
                &logfmt::format_time(1000 + i64::from(i), 0),
                "stdout",
                format!("{i}").as_bytes(),
                None,
            );
            r.push(&rec).unwrap();
        }
        r.flush().unwrap();
        let client = Client::for_size_test();
        let read = |query: LogQuery| {
            let mut reader = LogReader::new(client.clone(), "c1".into(), dir.clone(), query);
            async move {
                let mut all = Vec::new();
                while let Some(batch) = reader.next_batch().await.unwrap() {
                    all.extend(batch.into_iter().map(|r| r.line.parse::<u32>().unwrap()));
                }
                all
            }
        };
        let all = read(LogQuery::default()).await;
        assert!(all.len() < 300 && all.windows(2).all(|w| w[1] == w[0] + 1) && *all.last().unwrap() == 299);
        assert_eq!(read(LogQuery { tail: Some(3.0), ..Default::default() }).await, [297, 298, 299]);
        let since = LogQuery { since: Some(1_290_000.0), until: Some(1_292_000.0), ..Default::default() };
        assert_eq!(read(since).await, [290, 291]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
