//! Resolving an image's user ("uid", "name:group", ...) to ids with the image's own /etc/passwd
//! and /etc/group, read straight out of its layer tars so nothing has to be mounted. The lookups
//! follow containerd's `oci.WithUser` + `WithAdditionalGIDs`; the file parsing follows glibc.

use super::error::{Code, Error, Result};
use super::spec::ResolvedUser;
use flate2::read::MultiGzDecoder;
use std::io::{Cursor, Read};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

/// containerd (like runc) caps ids at MaxInt32.
const MAX_ID: u32 = i32::MAX as u32;

/// /etc/passwd or /etc/group bigger than this is not a real one; refuse to buffer it.
const MAX_FILE: u64 = 16 << 20;

/// A PAX extension header or GNU long name/link larger than this is refused, not read (Go's
/// archive/tar uses the same 1 MiB).
pub const MAX_EXTENSION_HEADER: u64 = 1 << 20;

/// A layer's tar stream (after decompression) is read up to `max(MIN_SCAN_BYTES, SCAN_RATIO ×
/// its compressed size)`: real layers compress a few times; a gzip bomb (deflate reaches ~1000:1)
/// is stopped early.
pub const MIN_SCAN_BYTES: u64 = 1 << 30;
pub const SCAN_RATIO: u64 = 200;

/// How much of a layer a scan may read, and a flag that stops it (checked on every read).
#[derive(Debug, Clone)]
pub struct ScanLimits {
    pub max_bytes: u64,
    pub cancelled: Arc<AtomicBool>,
}

impl ScanLimits {
    /// The bound for a layer blob of `compressed` bytes.
    pub fn for_layer(compressed: u64) -> ScanLimits {
        ScanLimits {
            max_bytes: compressed.saturating_mul(SCAN_RATIO).max(MIN_SCAN_BYTES),
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }
}

const STOP_NONE: u8 = 0;
const STOP_LIMIT: u8 = 1;
const STOP_CANCELLED: u8 = 2;

/// Counts what passes and fails a read past the limit or after cancellation, noting why.
struct Bounded<R> {
    inner: R,
    read: u64,
    limits: ScanLimits,
    stop: Arc<AtomicU8>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let why = if self.limits.cancelled.load(Ordering::Relaxed) {
            STOP_CANCELLED
        } else if self.read > self.limits.max_bytes {
            STOP_LIMIT
        } else {
            STOP_NONE
        };
        if why != STOP_NONE {
            self.stop.store(why, Ordering::Relaxed);
            return Err(std::io::Error::other("layer scan stopped"));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

fn is_numeric(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())
}

/// Whether resolve_user needs /etc/passwd or /etc/group for this spec (any non-numeric part).
/// Numeric specs resolve without them, but given the files a bare uid also gets its passwd gid
/// and supplementary groups, as containerd does.
pub fn needs_files(spec: &str) -> bool {
    !spec.is_empty() && spec.split(':').any(|part| !is_numeric(part))
}

/// The user spec the README describes: "uid", "uid:gid", "name", "name:group", "uid:group", "name:gid".
/// "" is root. Supplementary groups are those in /etc/group listing the user's name as a member.
pub fn resolve_user(spec: &str, passwd: Option<&[u8]>, group: Option<&[u8]>) -> Result<ResolvedUser> {
    let groups = group.map(parse_group);
    if spec.is_empty() {
        // containerd's WithAdditionalGIDs("root") for images without a User.
        let additional_gids = groups.as_deref().map(|g| supplementary(g, "root")).unwrap_or_default();
        return Ok(ResolvedUser { uid: 0, gid: 0, additional_gids });
    }
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() > 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(Error::invalid_argument(format!(
            "invalid user {spec:?}: expected uid, uid:gid, name or name:group"
        )));
    }
    let users = passwd.map(parse_passwd);

    let (uid, user_gid, name) = if is_numeric(parts[0]) {
        let uid = parse_id("uid", parts[0])?;
        match users.as_deref().and_then(|u| u.iter().find(|e| e.uid == uid)) {
            Some(e) => (uid, e.gid, Some(e.name.clone())),
            // containerd: a uid missing from /etc/passwd (or no file) runs with gid 0.
            None => (uid, 0, None),
        }
    } else {
        let name = parts[0];
        let users = users
            .as_deref()
            .ok_or_else(|| Error::invalid_argument(format!("user {name:?}: the image has no /etc/passwd")))?;
        let e = users
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| Error::invalid_argument(format!("user {name:?} not found in the image's /etc/passwd")))?;
        (e.uid, e.gid, Some(e.name.clone()))
    };

    let gid =
        match parts.get(1) {
            None => user_gid,
            Some(g) if is_numeric(g) => parse_id("gid", g)?,
            Some(g) => {
                let groups = groups
                    .as_deref()
                    .ok_or_else(|| Error::invalid_argument(format!("group {g:?}: the image has no /etc/group")))?;
                groups.iter().find(|e| e.name == *g).map(|e| e.gid).ok_or_else(|| {
                    Error::invalid_argument(format!("group {g:?} not found in the image's /etc/group"))
                })?
            }
        };

    let additional_gids = match (&name, &groups) {
        (Some(name), Some(groups)) => supplementary(groups, name),
        _ => Vec::new(),
    };
    Ok(ResolvedUser { uid, gid, additional_gids })
}

fn parse_id(what: &str, text: &str) -> Result<u32> {
    match text.parse::<u64>() {
        Ok(v) if v <= MAX_ID as u64 => Ok(v as u32),
        _ => Err(Error::invalid_argument(format!("invalid {what} {text}: must be at most {MAX_ID}"))),
    }
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
}

struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

/// The lines glibc's files backend would parse: leading blanks skipped, empty and '#' lines ignored.
fn lines(file: &[u8]) -> impl Iterator<Item = String> + '_ {
    file.split(|&b| b == b'\n')
        .map(|line| String::from_utf8_lossy(line).trim_start().to_string())
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// A numeric field as glibc's INT_FIELD accepts it, within u32.
fn id_field(field: Option<&str>) -> Option<u32> {
    field.filter(|f| is_numeric(f)).and_then(|f| f.parse().ok())
}

/// A usable name: not empty, and not a NIS "+"/"-" compat entry.
fn name_field(field: Option<&str>) -> Option<&str> {
    field.filter(|n| !n.is_empty() && !n.starts_with('+') && !n.starts_with('-'))
}

/// name:password:uid:gid[:gecos:home:shell]; lines without a name and numeric ids are skipped.
fn parse_passwd(file: &[u8]) -> Vec<PasswdEntry> {
    lines(file)
        .filter_map(|line| {
            let mut f = line.split(':');
            let name = name_field(f.next())?.to_string();
            f.next()?;
            let uid = id_field(f.next())?;
            let gid = id_field(f.next())?;
            Some(PasswdEntry { name, uid, gid })
        })
        .collect()
}

/// name:password:gid[:member,member...]
fn parse_group(file: &[u8]) -> Vec<GroupEntry> {
    lines(file)
        .filter_map(|line| {
            let mut f = line.split(':');
            let name = name_field(f.next())?.to_string();
            f.next()?;
            let gid = id_field(f.next())?;
            let members = f
                .next()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect();
            Some(GroupEntry { name, gid, members })
        })
        .collect()
}

/// containerd's supplementary groups: those listing `user` as a member, except a group named
/// like the user; in file order, without repeats.
fn supplementary(groups: &[GroupEntry], user: &str) -> Vec<u32> {
    let mut gids = Vec::new();
    for g in groups {
        if g.name != user && g.members.iter().any(|m| m == user) && !gids.contains(&g.gid) {
            gids.push(g.gid);
        }
    }
    gids
}

/// What one layer says about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerFile {
    /// The layer has the file, as a regular file.
    Found(Vec<u8>),
    /// The layer deletes it (a whiteout for it or a parent, or an opaque parent directory).
    Deleted,
    /// The layer does not touch it (or has something other than a regular file there).
    Absent,
}

/// Looks for `paths` (e.g. "etc/passwd", no leading slash) in ONE layer tar stream (gzip or plain),
/// honouring OCI whiteouts, in one pass. Read layers from the top down and stop at the first
/// answer that is not `Absent`. Entries may be named "./etc/passwd" or "etc/passwd"; links are
/// not followed (a symlink entry is `Absent`).
pub fn find_in_layer(layer: impl Read, paths: &[&str]) -> Result<Vec<LayerFile>> {
    let limits = ScanLimits { max_bytes: MIN_SCAN_BYTES, cancelled: Arc::new(AtomicBool::new(false)) };
    find_in_layer_bounded(layer, paths, &limits)
}

/// [`find_in_layer`] within `limits`: more tar bytes than `max_bytes` is a ResourceExhausted
/// error, a set `cancelled` flag a Cancelled one, each at the next read.
pub fn find_in_layer_bounded(layer: impl Read, paths: &[&str], limits: &ScanLimits) -> Result<Vec<LayerFile>> {
    let stop = Arc::new(AtomicU8::new(STOP_NONE));
    let result = detect_and_scan(layer, paths, limits, &stop);
    match stop.load(Ordering::Relaxed) {
        STOP_LIMIT => Err(Error::new(
            Code::ResourceExhausted,
            format!(
                "read image layer: more than {} bytes of tar (a decompression bomb?); not reading further",
                limits.max_bytes
            ),
        )),
        STOP_CANCELLED => Err(Error::new(Code::Cancelled, "read image layer: cancelled")),
        _ => result,
    }
}

fn detect_and_scan(
    layer: impl Read,
    paths: &[&str],
    limits: &ScanLimits,
    stop: &Arc<AtomicU8>,
) -> Result<Vec<LayerFile>> {
    let bounded = |inner| Bounded { inner, read: 0, limits: limits.clone(), stop: stop.clone() };
    let mut layer = layer;
    let mut magic = [0u8; 4];
    let mut n = 0;
    while n < magic.len() {
        match layer.read(&mut magic[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(e)),
        }
    }
    let head = &magic[..n];
    let stream = Cursor::new(head.to_vec()).chain(layer);
    if head.starts_with(&[0x1f, 0x8b]) {
        scan(Bounded { inner: MultiGzDecoder::new(stream), read: 0, limits: limits.clone(), stop: stop.clone() }, paths)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Err(Error::new(Code::Unimplemented, "read image layer: zstd-compressed layers are not supported"))
    } else {
        scan(bounded(stream), paths)
    }
}

fn read_error(err: impl std::fmt::Display) -> Error {
    Error::new(Code::FailedPrecondition, format!("read image layer: {err}"))
}

/// A tar name's components without "", "." and leading "/"; None if it climbs out with "..".
fn components(path: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn scan(stream: impl Read, paths: &[&str]) -> Result<Vec<LayerFile>> {
    let targets: Vec<Vec<&[u8]>> = paths.iter().map(|p| components(p.as_bytes()).unwrap_or_default()).collect();
    // The last entry at each path wins, as when the layer is applied.
    let mut at_path: Vec<Option<LayerFile>> = vec![None; targets.len()];
    let mut deleted = vec![false; targets.len()];

    let mut archive = tar::Archive::new(stream);
    // Raw entries: the extension headers come to us, so their size is checked before they are read
    // (the tar crate would read any size into memory).
    let mut long_name: Option<Vec<u8>> = None;
    for entry in archive.entries().map_err(read_error)?.raw(true) {
        let mut entry = entry.map_err(read_error)?;
        let kind = entry.header().entry_type();
        let (pax, gnu_name) = (kind.is_pax_local_extensions(), kind.is_gnu_longname());
        if pax || gnu_name || kind.is_pax_global_extensions() || kind.is_gnu_longlink() {
            let size = entry.size();
            if size > MAX_EXTENSION_HEADER {
                return Err(Error::new(
                    Code::ResourceExhausted,
                    format!(
                        "read image layer: a tar extension header of {size} bytes (at most {MAX_EXTENSION_HEADER})"
                    ),
                ));
            }
            let mut data = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut data).map_err(read_error)?;
            if gnu_name {
                let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                data.truncate(end);
                long_name = Some(data);
            } else if pax {
                for ext in tar::PaxExtensions::new(&data) {
                    let ext = ext.map_err(read_error)?;
                    if ext.key_bytes() == b"path" {
                        long_name = Some(ext.value_bytes().to_vec());
                    }
                }
            }
            continue;
        }
        let name = long_name.take().unwrap_or_else(|| entry.path_bytes().into_owned());
        let Some(comps) = components(&name) else { continue };
        let Some((last, parent)) = comps.split_last() else { continue };

        if *last == b".wh..wh..opq" {
            // Everything below `parent` comes from this layer only.
            for (i, t) in targets.iter().enumerate() {
                if t.len() > parent.len() && t.starts_with(parent) {
                    deleted[i] = true;
                }
            }
            continue;
        }
        if let Some(hidden) = last.strip_prefix(b".wh.") {
            // Deletes `parent/hidden`, and so everything below it.
            for (i, t) in targets.iter().enumerate() {
                if t.len() > parent.len() && t.starts_with(parent) && t[parent.len()] == hidden {
                    deleted[i] = true;
                }
            }
            continue;
        }

        for (i, t) in targets.iter().enumerate() {
            if !t.is_empty() && comps == *t {
                let kind = entry.header().entry_type();
                at_path[i] = Some(if kind.is_file() || kind.is_contiguous() {
                    LayerFile::Found(read_file(&mut entry, paths[i])?)
                } else {
                    LayerFile::Absent
                });
            }
        }
    }

    Ok(at_path
        .into_iter()
        .zip(deleted)
        .map(|(found, deleted)| match found {
            Some(LayerFile::Found(bytes)) => LayerFile::Found(bytes),
            _ if deleted => LayerFile::Deleted,
            _ => LayerFile::Absent,
        })
        .collect())
}

fn read_file(entry: &mut impl Read, path: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    entry.take(MAX_FILE + 1).read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(Error::new(
            Code::FailedPrecondition,
            format!("read image layer: {path} is larger than {} MiB", MAX_FILE >> 20),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\n\
        # a comment\n\
        \n\
        broken line\n\
        bad:x:notanumber:1\n\
        +nis:x:5:5::/:\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        app:x:1000:1000:App:/home/app:/bin/sh\n\
        short:x:1001:1001\n\
        app:x:2000:2000:duplicate, first wins\n";

    const GROUP: &[u8] = b"root:x:0:root\n\
        wheel:x:10:root,app\n\
        app:x:1000:app\n\
        staff:x:50: app , other\n\
        staff2:x:50:app\n\
        junk:x:\n\
        video:x:44\n";

    fn user(uid: u32, gid: u32, additional_gids: &[u32]) -> ResolvedUser {
        ResolvedUser { uid, gid, additional_gids: additional_gids.to_vec() }
    }

    fn resolve(spec: &str) -> Result<ResolvedUser> {
        resolve_user(spec, Some(PASSWD), Some(GROUP))
    }

    #[test]
    fn every_form_resolves() {
        assert_eq!(resolve("").unwrap(), user(0, 0, &[10]));
        assert_eq!(resolve_user("", None, None).unwrap(), user(0, 0, &[]));
        assert_eq!(resolve("app").unwrap(), user(1000, 1000, &[10, 50]));
        assert_eq!(resolve("short").unwrap(), user(1001, 1001, &[]));
        assert_eq!(resolve("1000").unwrap(), user(1000, 1000, &[10, 50]));
        assert_eq!(resolve("4242").unwrap(), user(4242, 0, &[]));
        assert_eq!(resolve("1000:44").unwrap(), user(1000, 44, &[10, 50]));
        assert_eq!(resolve("app:wheel").unwrap(), user(1000, 10, &[10, 50]));
        assert_eq!(resolve("1:staff").unwrap(), user(1, 50, &[]));
        assert_eq!(resolve("daemon:7").unwrap(), user(1, 7, &[]));
        assert_eq!(resolve("root").unwrap(), user(0, 0, &[10]));
    }

    #[test]
    fn numeric_specs_need_no_files() {
        assert_eq!(resolve_user("1000", None, None).unwrap(), user(1000, 0, &[]));
        assert_eq!(resolve_user("1000:1000", None, None).unwrap(), user(1000, 1000, &[]));
        assert_eq!(resolve_user("1000", Some(PASSWD), None).unwrap(), user(1000, 1000, &[]));
        for (spec, needs) in [("", false), ("0", false), ("1:2", false), ("app", true), ("1:g", true), ("u:1", true)] {
            assert_eq!(needs_files(spec), needs, "{spec}");
        }
    }

    #[test]
    fn failures_name_the_value() {
        let cases = [
            (resolve("nobody"), "user \"nobody\" not found in the image's /etc/passwd"),
            (resolve("app:nogroup"), "group \"nogroup\" not found in the image's /etc/group"),
            (resolve("bad"), "user \"bad\" not found"),
            (resolve("+nis"), "user \"+nis\" not found"),
            (resolve_user("app", None, Some(GROUP)), "user \"app\": the image has no /etc/passwd"),
            (resolve_user("1:wheel", Some(PASSWD), None), "group \"wheel\": the image has no /etc/group"),
            (resolve("a:b:c"), "invalid user \"a:b:c\""),
            (resolve("app:"), "invalid user \"app:\""),
            (resolve(":0"), "invalid user \":0\""),
            (resolve("2147483648"), "invalid uid 2147483648"),
            (resolve("0:99999999999999999999"), "invalid gid 99999999999999999999"),
        ];
        for (result, needle) in cases {
            let err = result.unwrap_err();
            assert_eq!(err.code, Code::InvalidArgument);
            assert!(err.message.contains(needle), "{:?} lacks {needle:?}", err.message);
        }
    }

    enum Item<'a> {
        File(&'a str, &'a [u8]),
        Symlink(&'a str, &'a str),
        Dir(&'a str),
    }

    /// A tar with the names written as given (the Builder's own path setters drop "./").
    fn tar(items: &[Item]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for item in items {
            let mut h = tar::Header::new_old();
            let (name, data): (&str, &[u8]) = match item {
                Item::File(name, data) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    (name, data)
                }
                Item::Symlink(name, target) => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_link_name(target).unwrap();
                    (name, b"")
                }
                Item::Dir(name) => {
                    h.set_entry_type(tar::EntryType::Directory);
                    (name, b"")
                }
            };
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append(&h, data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    const BOTH: [&str; 2] = ["etc/passwd", "etc/group"];

    #[test]
    fn finds_files_in_plain_and_gzip_layers() {
        let layer = tar(&[
            Item::Dir("./"),
            Item::Dir("./etc/"),
            Item::File("./etc/passwd", PASSWD),
            Item::File("etc/group", GROUP),
            Item::File("etc/passwd-", b"old"),
        ]);
        let expected = vec![LayerFile::Found(PASSWD.to_vec()), LayerFile::Found(GROUP.to_vec())];
        assert_eq!(find_in_layer(&layer[..], &BOTH).unwrap(), expected);
        assert_eq!(find_in_layer(&gzip(&layer)[..], &BOTH).unwrap(), expected);
        assert_eq!(find_in_layer(&layer[..], &["/etc/passwd"]).unwrap(), vec![LayerFile::Found(PASSWD.to_vec())]);
    }

    #[test]
    fn whiteouts_and_opaque_directories() {
        let layer = tar(&[Item::File("etc/.wh.passwd", b""), Item::File("usr/.wh..wh..opq", b"")]);
        assert_eq!(find_in_layer(&layer[..], &BOTH).unwrap(), vec![LayerFile::Deleted, LayerFile::Absent]);

        // An opaque /etc hides lower layers' files, but not the ones this layer adds.
        let layer = tar(&[Item::File("./etc/.wh..wh..opq", b""), Item::File("./etc/group", b"g:x:1:\n")]);
        let got = find_in_layer(&gzip(&layer)[..], &BOTH).unwrap();
        assert_eq!(got, vec![LayerFile::Deleted, LayerFile::Found(b"g:x:1:\n".to_vec())]);

        // Deleting /etc deletes everything in it.
        let layer = tar(&[Item::File(".wh.etc", b"")]);
        assert_eq!(find_in_layer(&layer[..], &BOTH).unwrap(), vec![LayerFile::Deleted, LayerFile::Deleted]);
        let layer = tar(&[Item::File(".wh..wh..opq", b"")]);
        assert_eq!(find_in_layer(&layer[..], &BOTH).unwrap(), vec![LayerFile::Deleted, LayerFile::Deleted]);

        // Look-alikes do not count.
        let layer = tar(&[Item::File("etc/.wh.passwd-", b""), Item::File("etc/passwd/.wh..wh..opq", b"")]);
        assert_eq!(find_in_layer(&layer[..], &["etc/passwd"]).unwrap(), vec![LayerFile::Absent]);
    }

    #[test]
    fn links_are_not_followed_and_the_last_entry_wins() {
        let layer = tar(&[Item::Symlink("etc/passwd", "../usr/share/passwd"), Item::File("usr/share/passwd", PASSWD)]);
        assert_eq!(find_in_layer(&layer[..], &["etc/passwd"]).unwrap(), vec![LayerFile::Absent]);
        let layer = tar(&[Item::File("etc/passwd", b"old"), Item::File("./etc/passwd", b"new")]);
        assert_eq!(find_in_layer(&layer[..], &["etc/passwd"]).unwrap(), vec![LayerFile::Found(b"new".to_vec())]);
    }

    #[test]
    fn empty_and_broken_layers() {
        assert_eq!(find_in_layer(&b""[..], &BOTH).unwrap(), vec![LayerFile::Absent, LayerFile::Absent]);
        let empty_tar = tar(&[]);
        assert_eq!(find_in_layer(&empty_tar[..], &["etc/passwd"]).unwrap(), vec![LayerFile::Absent]);
        let mut truncated = gzip(&tar(&[Item::File("etc/passwd", PASSWD)]));
        truncated.truncate(truncated.len() / 2);
        let err = find_in_layer(&truncated[..], &BOTH).unwrap_err();
        assert_eq!(err.code, Code::FailedPrecondition, "{err}");
        let err = find_in_layer(&[0x28, 0xb5, 0x2f, 0xfd, 0][..], &BOTH).unwrap_err();
        assert_eq!(err.code, Code::Unimplemented);
    }

    /// A raw header of `kind` with `size` in its size field (no data follows unless given).
    fn raw_header(name: &str, kind: tar::EntryType, size: u64) -> Vec<u8> {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.as_ustar_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(size);
        h.set_mode(0o644);
        h.set_cksum();
        h.as_bytes().to_vec()
    }

    fn padded(data: &[u8]) -> Vec<u8> {
        let mut v = data.to_vec();
        v.resize(data.len().div_ceil(512) * 512, 0);
        v
    }

    #[test]
    fn long_names_from_pax_and_gnu_headers() {
        // PAX "path" names the next entry; so does a GNU long name.
        let record = |k: &str, v: &str| {
            let body = format!(" {k}={v}\n");
            let mut len = body.len() + 1;
            while format!("{len}{body}").len() != len {
                len += 1;
            }
            format!("{len}{body}")
        };
        let pax = record("path", "etc/passwd");
        let mut layer = raw_header("PaxHeaders/x", tar::EntryType::XHeader, pax.len() as u64);
        layer.extend(padded(pax.as_bytes()));
        layer.extend(raw_header("short-name", tar::EntryType::Regular, PASSWD.len() as u64));
        layer.extend(padded(PASSWD));
        let long = b"etc/group\0";
        layer.extend(raw_header("././@LongLink", tar::EntryType::GNULongName, long.len() as u64));
        layer.extend(padded(long));
        layer.extend(raw_header("other", tar::EntryType::Regular, GROUP.len() as u64));
        layer.extend(padded(GROUP));
        layer.extend([0u8; 1024]);
        let got = find_in_layer(&gzip(&layer)[..], &BOTH).unwrap();
        assert_eq!(got, vec![LayerFile::Found(PASSWD.to_vec()), LayerFile::Found(GROUP.to_vec())]);
    }

    #[test]
    fn huge_extension_headers_are_refused_unread() {
        // A PAX header claiming 4 GiB (with no data at all): refused from its size field.
        for kind in [tar::EntryType::XHeader, tar::EntryType::GNULongName, tar::EntryType::XGlobalHeader] {
            let layer = raw_header("x", kind, 4 << 30);
            let started = std::time::Instant::now();
            let err = find_in_layer(&gzip(&layer)[..], &BOTH).unwrap_err();
            assert_eq!(err.code, Code::ResourceExhausted, "{err}");
            assert!(err.message.contains("extension header of 4294967296 bytes"), "{}", err.message);
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
        }
        // At the limit it is read.
        let mut layer = raw_header("x", tar::EntryType::XGlobalHeader, MAX_EXTENSION_HEADER);
        layer.extend(vec![b'\n'; MAX_EXTENSION_HEADER as usize]);
        layer.extend([0u8; 1024]);
        assert_eq!(find_in_layer(&layer[..], &BOTH).unwrap(), vec![LayerFile::Absent, LayerFile::Absent]);
    }

    /// A gzip bomb: one member with a tar header for a `mib` MiB file, then the same 1 MiB-of-zeros
    /// member repeated (MultiGzDecoder reads concatenated members), about 1 KiB each.
    fn bomb(mib: u64) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(&vec![0u8; 1 << 20]).unwrap();
        let zeros = e.finish().unwrap();
        let mut out = gzip(&raw_header("big", tar::EntryType::Regular, mib << 20));
        for _ in 0..mib {
            out.extend_from_slice(&zeros);
        }
        out
    }

    #[test]
    fn decompression_bombs_stop_at_the_bound() {
        let layer = bomb(512);
        assert!(layer.len() < 2 << 20, "{} compressed bytes for 512 MiB", layer.len());
        let limits = ScanLimits { max_bytes: 32 << 20, cancelled: Default::default() };
        let started = std::time::Instant::now();
        let err = find_in_layer_bounded(&layer[..], &BOTH, &limits).unwrap_err();
        assert_eq!(err.code, Code::ResourceExhausted, "{err}");
        assert!(err.message.contains("more than 33554432 bytes"), "{}", err.message);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        // The bound for a layer: 200 × its compressed size, at least 1 GiB.
        assert_eq!(ScanLimits::for_layer(layer.len() as u64).max_bytes, 1 << 30);
        assert_eq!(ScanLimits::for_layer(100 << 20).max_bytes, 20_000 << 20);
        assert_eq!(ScanLimits::for_layer(u64::MAX).max_bytes, u64::MAX);
    }

    #[test]
    fn a_scan_can_be_cancelled() {
        let layer = bomb(64);
        let limits = ScanLimits::for_layer(layer.len() as u64);
        limits.cancelled.store(true, Ordering::Relaxed);
        let err = find_in_layer_bounded(&layer[..], &BOTH, &limits).unwrap_err();
        assert_eq!(err.code, Code::Cancelled, "{err}");
    }
}
