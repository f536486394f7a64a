//! What the logger binary and the reading side (containerd-napi-core) share: the record format,
//! the file names and their rotation, and the arguments the shim passes. std + libc only, so the
//! logger stays small (it does not link the core, tonic or napi).
//!
//! A log directory holds `container.log` (being written) and `container.log.1` … `.N-1` (older),
//! one JSON object per line:
//! `{"time":"2024-05-01T12:00:00.123456789Z","stream":"stdout","line":"hello"}`; a record for
//! output the logger had to drop also has `"dropped":<bytes>`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The file being written; older ones are `container.log.1` (newest) … `container.log.<N-1>`.
pub const CURRENT: &str = "container.log";
/// Longest line kept as one record; longer output is split into records of this size.
pub const MAX_LINE: usize = 16 * 1024;

/// The name of the `n`th file (0: the current one).
pub fn file_name(n: u32) -> String {
    if n == 0 {
        CURRENT.to_string()
    } else {
        format!("{CURRENT}.{n}")
    }
}

/// Rotation settings, as the shim passes them (`max-size`, `max-files`) and the core checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub dir: PathBuf,
    pub max_size: u64,
    pub max_files: u32,
}

pub const MIN_SIZE: u64 = 4096;
pub const MAX_FILES: u32 = 100;

/// The shim passes the URI's query as `key value` pairs, in random order.
pub fn parse_args(args: &[String]) -> Result<Config, String> {
    if !args.len().is_multiple_of(2) {
        return Err(format!("expected key/value pairs, got {} arguments", args.len()));
    }
    let (mut dir, mut max_size, mut max_files) = (None, None, None);
    for pair in args.chunks(2) {
        let (key, value) = (pair[0].as_str(), pair[1].as_str());
        match key {
            "dir" => dir = Some(PathBuf::from(value)),
            "max-size" => max_size = Some(value.parse::<u64>().map_err(|_| format!("bad max-size {value:?}"))?),
            "max-files" => max_files = Some(value.parse::<u32>().map_err(|_| format!("bad max-files {value:?}"))?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let dir = dir.ok_or("missing dir")?;
    if !dir.is_absolute() {
        return Err(format!("dir must be absolute, got {dir:?}"));
    }
    let config =
        Config { dir, max_size: max_size.ok_or("missing max-size")?, max_files: max_files.ok_or("missing max-files")? };
    check(config.max_size, config.max_files)?;
    Ok(config)
}

/// The value rules for rotation settings.
pub fn check(max_size: u64, max_files: u32) -> Result<(), String> {
    if max_size < MIN_SIZE {
        return Err(format!("maxSizeBytes must be at least {MIN_SIZE}, got {max_size}"));
    }
    if !(1..=MAX_FILES).contains(&max_files) {
        return Err(format!("maxFiles must be from 1 to {MAX_FILES}, got {max_files}"));
    }
    Ok(())
}

/// Seconds and nanoseconds since the epoch, now.
pub fn now() -> (i64, u32) {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (d.as_secs() as i64, d.subsec_nanos())
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// RFC 3339 in UTC with nanoseconds, as Docker's json-file writes it.
pub fn format_time(secs: i64, nanos: u32) -> String {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z", s / 3600, s / 60 % 60, s % 60)
}

/// Milliseconds since the epoch (fractional) of a time [`format_time`] wrote (any fraction
/// length, `Z` only).
pub fn parse_time(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<u32>().ok();
    let (y, mo, d, h, mi, s) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let rest = text.get(19..)?.strip_suffix('Z')?;
    let frac = match rest.strip_prefix('.') {
        None if rest.is_empty() => 0.0,
        Some(digits) if !digits.is_empty() && digits.len() <= 9 && digits.bytes().all(|c| c.is_ascii_digit()) => {
            digits.parse::<f64>().ok()? / 10f64.powi(digits.len() as i32)
        }
        _ => return None,
    };
    let secs = days_from_civil(i64::from(y), mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s);
    Some(secs as f64 * 1000.0 + frac * 1000.0)
}

/// Appends `bytes` as a JSON string body (no quotes), invalid UTF-8 replaced.
fn json_escape(out: &mut Vec<u8>, bytes: &[u8]) {
    // The common case, valid UTF-8: only ASCII bytes ever need escaping (bytes of multi-byte
    // characters are all >= 0x80), so copy runs of plain bytes.
    if std::str::from_utf8(bytes).is_ok() {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f {
                out.extend_from_slice(&bytes[start..i]);
                escape_char(out, b as char);
                start = i + 1;
            }
        }
        out.extend_from_slice(&bytes[start..]);
        return;
    }
    for c in String::from_utf8_lossy(bytes).chars() {
        escape_char(out, c);
    }
}

fn escape_char(out: &mut Vec<u8>, c: char) {
    match c {
        '"' => out.extend_from_slice(b"\\\""),
        '\\' => out.extend_from_slice(b"\\\\"),
        '\n' => out.extend_from_slice(b"\\n"),
        '\r' => out.extend_from_slice(b"\\r"),
        '\t' => out.extend_from_slice(b"\\t"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
        c => {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
}

/// One record, newline-terminated.
pub fn encode(out: &mut Vec<u8>, time: &str, stream: &str, line: &[u8], dropped: Option<u64>) {
    out.extend_from_slice(b"{\"time\":\"");
    out.extend_from_slice(time.as_bytes());
    out.extend_from_slice(b"\",\"stream\":\"");
    out.extend_from_slice(stream.as_bytes());
    out.extend_from_slice(b"\",\"line\":\"");
    json_escape(out, line);
    out.push(b'"');
    if let Some(n) = dropped {
        out.extend_from_slice(format!(",\"dropped\":{n}").as_bytes());
    }
    out.extend_from_slice(b"}\n");
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

/// Makes `dir` (0700, parents too) and checks that it is a real directory of this user that
/// nobody else can write: no symlink is followed into it.
pub fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() || meta.uid() != euid() || meta.mode() & 0o022 != 0 {
        return Err(std::io::Error::other(format!(
            "{} is not a directory of uid {} that only its owner can write",
            dir.display(),
            euid()
        )));
    }
    Ok(())
}

/// Opens a log file for appending without following a symlink, refusing anything but a plain
/// file of this user with one link.
pub fn open_append(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.uid() != euid() || meta.nlink() != 1 {
        return Err(std::io::Error::other(format!("{} is not a plain file of its own", path.display())));
    }
    Ok(file)
}

/// Writes whole records to `container.log`, rotating before a record would take it past
/// `max_size` (so every file holds at most `max_size` bytes unless one record alone is larger).
pub struct Rotator {
    config: Config,
    file: File,
    size: u64,
    buf: Vec<u8>,
}

const FLUSH_AT: usize = 64 * 1024;

impl Rotator {
    pub fn open(config: Config) -> std::io::Result<Rotator> {
        make_private_dir(&config.dir)?;
        let file = open_append(&config.dir.join(CURRENT))?;
        let size = file.metadata()?.len();
        Ok(Rotator { config, file, size, buf: Vec::with_capacity(FLUSH_AT) })
    }

    /// Queues one encoded record (written by [`Self::flush`] or once enough is queued).
    pub fn push(&mut self, record: &[u8]) -> std::io::Result<()> {
        let pending = self.size + self.buf.len() as u64;
        if pending > 0 && pending + record.len() as u64 > self.config.max_size {
            self.flush()?;
            self.rotate()?;
        }
        self.buf.extend_from_slice(record);
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            self.file.write_all(&self.buf)?;
            self.size += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let dir = &self.config.dir;
        if self.config.max_files == 1 {
            std::fs::remove_file(dir.join(CURRENT))?;
        }
        for n in (1..self.config.max_files).rev() {
            match std::fs::rename(dir.join(file_name(n - 1)), dir.join(file_name(n))) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        self.file = open_append(&dir.join(CURRENT))?;
        self.size = self.file.metadata()?.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        assert_eq!(format_time(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(format_time(1_714_564_800, 123_456_789), "2024-05-01T12:00:00.123456789Z");
        assert_eq!(format_time(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
        for secs in [0i64, 951_782_400, 1_714_564_800, 4_102_444_799] {
            assert_eq!(parse_time(&format_time(secs, 250_000_000)), Some(secs as f64 * 1000.0 + 250.0));
        }
        assert_eq!(parse_time("2024-05-01T12:00:00Z"), Some(1_714_564_800_000.0));
        for bad in
            ["", "2024-05-01 12:00:00Z", "2024-13-01T12:00:00Z", "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00+01:00"]
        {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn records_are_json_lines() {
        let mut out = Vec::new();
        encode(&mut out, "T", "stderr", b"a \"q\" \\ \t\x01 \xff", None);
        encode(&mut out, "T", "stdout", b"", Some(42));
        encode(&mut out, "T", "stdout", "é\"€\x7f".as_bytes(), None);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\"time\":\"T\",\"stream\":\"stderr\",\"line\":\"a \\\"q\\\" \\\\ \\t\\u0001 \u{fffd}\"}\n\
             {\"time\":\"T\",\"stream\":\"stdout\",\"line\":\"\",\"dropped\":42}\n\
             {\"time\":\"T\",\"stream\":\"stdout\",\"line\":\"é\\\"€\\u007f\"}\n"
        );
    }

    #[test]
    fn args_come_in_any_order_and_are_checked() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let c = parse_args(&args(&["max-files", "3", "dir", "/x/y", "max-size", "4096"])).unwrap();
        assert_eq!(c, Config { dir: "/x/y".into(), max_size: 4096, max_files: 3 });
        for bad in [
            &["dir", "/x", "max-size", "4096"][..],
            &["dir", "rel", "max-size", "4096", "max-files", "1"],
            &["dir", "/x", "max-size", "-1", "max-files", "1"],
            &["dir", "/x", "max-size", "100", "max-files", "1"],
            &["dir", "/x", "max-size", "4096", "max-files", "0"],
            &["dir", "/x", "max-size", "4096", "max-files", "1", "other", "1"],
            &["dir"],
        ] {
            assert!(parse_args(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rotation_keeps_max_files_of_at_most_max_size() {
        let dir = std::env::temp_dir().join(format!("cnapi-rot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut r = Rotator::open(Config { dir: dir.clone(), max_size: 4096, max_files: 3 }).unwrap();
        let mut rec = Vec::new();
        for i in 0..1000 {
            rec.clear();
            encode(&mut rec, "T", "stdout", format!("line {i:05}").as_bytes(), None);
            r.push(&rec).unwrap();
        }
        r.flush().unwrap();
        let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["container.log", "container.log.1", "container.log.2"]);
        for n in &names {
            assert!(std::fs::metadata(dir.join(n)).unwrap().len() <= 4096);
        }
        let last = std::fs::read_to_string(dir.join(CURRENT)).unwrap();
        assert!(last.ends_with("\"line\":\"line 00999\"}\n"));
        let planted = dir.join("planted");
        std::os::unix::fs::symlink("/etc/passwd", &planted).unwrap();
        assert!(open_append(&planted).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
