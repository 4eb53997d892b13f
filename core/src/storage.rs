//! Crash-safe storage of one device's copy of the space, in one directory:
//!
//! - `accord.lock`: held with an OS file lock while a process has the directory open (a crashed
//!   process leaves no stale lock);
//! - `snapshot.bin`: the compacted document with the heads it holds, checksummed;
//! - `changes.log`: changes since the snapshot, appended as frames `[len u32][crc32 u32][payload]`
//!   and fsynced before an edit returns; each frame also records the heads after it, so the
//!   current heads are known without loading the document;
//! - `intents.log`: writes made while the document was not loaded (see `space/intents.rs`),
//!   appended as frames like the change log's and fsynced; emptied once replayed;
//! - `view.json`: a cache of the derived views, valid only for the heads it names.
//!
//! On open, a torn or corrupt tail of either log is cut off (the cut bytes are kept in a
//! `*.damaged-*` file) and reported; a damaged snapshot is an error naming the file; an intent
//! log of a newer format is an error that leaves it as it is.

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const LOG_MAGIC: &[u8; 8] = b"ACCLOG01";
const SNAPSHOT_MAGIC: &[u8; 8] = b"ACCSNAP1";
/// Largest frame accepted when reading the log (a larger length field means damage).
const MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;
const LOCK_FILE: &str = "accord.lock";
const LOG_FILE: &str = "changes.log";
const SNAPSHOT_FILE: &str = "snapshot.bin";
const VIEW_FILE: &str = "view.json";
const INTENT_LOG_FILE: &str = "intents.log";
/// The intent log's start; the last two digits are its format version.
const INTENT_MAGIC: &[u8; 8] = b"ACCINT01";
/// The part of [`INTENT_MAGIC`] every version shares.
const INTENT_MAGIC_FAMILY: &[u8; 6] = b"ACCINT";

/// A change set appended to the log: the raw changes and the document heads after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) heads: Vec<[u8; 32]>,
    pub(crate) changes: Vec<Vec<u8>>,
}

impl Frame {
    fn encode(&self) -> Vec<u8> {
        let size =
            6 + self.heads.len() * 32 + self.changes.iter().map(|c| c.len() + 4).sum::<usize>();
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&(self.heads.len() as u16).to_le_bytes());
        for h in &self.heads {
            out.extend_from_slice(h);
        }
        out.extend_from_slice(&(self.changes.len() as u32).to_le_bytes());
        for c in &self.changes {
            out.extend_from_slice(&(c.len() as u32).to_le_bytes());
            out.extend_from_slice(c);
        }
        out
    }

    fn decode(mut bytes: &[u8]) -> Option<Frame> {
        let heads_len = u16::from_le_bytes(take(&mut bytes, 2)?.try_into().ok()?) as usize;
        let mut heads = Vec::with_capacity(heads_len);
        for _ in 0..heads_len {
            heads.push(take(&mut bytes, 32)?.try_into().ok()?);
        }
        let count = u32::from_le_bytes(take(&mut bytes, 4)?.try_into().ok()?) as usize;
        let mut changes = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            let len = u32::from_le_bytes(take(&mut bytes, 4)?.try_into().ok()?) as usize;
            changes.push(take(&mut bytes, len)?.to_vec());
        }
        bytes.is_empty().then_some(Frame { heads, changes })
    }
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if bytes.len() < n {
        return None;
    }
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Some(head)
}

/// What was found damaged at the end of the log and cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// Offset in `changes.log` where the damage started.
    pub offset: u64,
    /// How many bytes were cut off.
    pub bytes_cut: u64,
    /// Where the cut bytes were kept.
    pub kept_in: PathBuf,
}

/// Everything read from the directory on open.
pub(crate) struct Loaded {
    /// The snapshot, when it was read (on open only its heads are read: see
    /// [`read_snapshot_file`], which the loader calls off the caller's thread).
    pub(crate) snapshot: Option<(Vec<[u8; 32]>, Vec<u8>)>,
    pub(crate) snapshot_heads: Option<Vec<[u8; 32]>>,
    pub(crate) frames: Vec<Frame>,
    pub(crate) torn: Option<TornTail>,
}

impl Loaded {
    /// The heads after everything stored, or `None` when nothing is stored.
    pub(crate) fn heads(&self) -> Option<&[[u8; 32]]> {
        self.frames
            .last()
            .map(|f| f.heads.as_slice())
            .or(self.snapshot_heads.as_deref())
    }
}

/// The open, locked directory of one device.
pub(crate) struct Storage {
    dir: PathBuf,
    _lock: File,
    log: File,
    log_len: u64,
    frames_since_snapshot: usize,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

/// Creates `path` readable and writable by the owner only.
pub(crate) fn create_private_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes `dir` (and parents) and restricts it to the owner.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    Ok(())
}

/// Fsyncs a directory so a rename or a new file in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically (owner-only): temp file, fsync, rename, fsync the
/// directory.
pub fn write_atomic(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut file = create_private_file(&tmp).map_err(io(&tmp))?;
    file.write_all(bytes).map_err(io(&tmp))?;
    if durable {
        file.sync_all().map_err(io(&tmp))?;
    }
    drop(file);
    fs::rename(&tmp, path).map_err(io(path))?;
    if durable {
        match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => sync_dir(dir)?,
            _ => sync_dir(Path::new("."))?,
        }
    }
    Ok(())
}

impl Storage {
    /// Whether `dir` holds a stored space.
    pub(crate) fn exists(dir: &Path) -> bool {
        dir.join(LOG_FILE).exists() || dir.join(SNAPSHOT_FILE).exists()
    }

    /// Takes the directory's lock; fails with [`Error::InUse`] if another process holds it.
    pub(crate) fn lock(dir: &Path) -> Result<File> {
        ensure_private_dir(dir)?;
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::InUse(dir.to_path_buf())),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(path, e)),
        }
    }

    /// Opens the locked directory: reads the snapshot and the log, cutting a damaged log tail.
    /// The snapshot itself is not read here (only its header): the caller reads it with
    /// [`read_snapshot_file`], e.g. on a background thread.
    pub(crate) fn open(dir: &Path, lock: File) -> Result<(Storage, Loaded)> {
        let snapshot_heads = read_snapshot_heads(&dir.join(SNAPSHOT_FILE))?;
        let log_path = dir.join(LOG_FILE);
        let (log, log_len, frames, torn) = open_log(&log_path)?;
        let storage = Storage {
            dir: dir.to_path_buf(),
            _lock: lock,
            log,
            log_len,
            frames_since_snapshot: frames.len(),
        };
        Ok((
            storage,
            Loaded {
                snapshot: None,
                snapshot_heads,
                frames,
                torn,
            },
        ))
    }

    /// Reads back what is durable (after a failed write), cutting a partial tail.
    pub(crate) fn reload(&mut self) -> Result<Loaded> {
        let snapshot = read_snapshot(&self.dir.join(SNAPSHOT_FILE))?;
        let log_path = self.dir.join(LOG_FILE);
        let (log, log_len, frames, torn) = open_log(&log_path)?;
        self.log = log;
        self.log_len = log_len;
        self.frames_since_snapshot = frames.len();
        let snapshot_heads = snapshot.as_ref().map(|(h, _)| h.clone());
        Ok(Loaded {
            snapshot,
            snapshot_heads,
            frames,
            torn,
        })
    }

    /// The directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends a frame and fsyncs it: when this returns, the changes survive a crash.
    pub(crate) fn append(&mut self, frame: &Frame) -> Result<()> {
        let path = self.dir.join(LOG_FILE);
        self.log_len = append_frame(&mut self.log, &path, self.log_len, &frame.encode())?;
        self.frames_since_snapshot += 1;
        Ok(())
    }

    /// How many frames the log holds since the last snapshot.
    pub(crate) fn frames_since_snapshot(&self) -> usize {
        self.frames_since_snapshot
    }

    /// Bytes in the log.
    pub(crate) fn log_len(&self) -> u64 {
        self.log_len
    }

    /// Replaces the snapshot with `document` (at `heads`) and empties the log, durably.
    /// A crash at any point leaves a readable directory with nothing lost.
    pub(crate) fn compact(&mut self, heads: &[[u8; 32]], document: &[u8]) -> Result<()> {
        let mut bytes = Vec::with_capacity(document.len() + 64 + heads.len() * 32);
        bytes.extend_from_slice(SNAPSHOT_MAGIC);
        bytes.extend_from_slice(&(heads.len() as u32).to_le_bytes());
        for h in heads {
            bytes.extend_from_slice(h);
        }
        bytes.extend_from_slice(&(document.len() as u64).to_le_bytes());
        bytes.extend_from_slice(document);
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        write_atomic(&self.dir.join(SNAPSHOT_FILE), &bytes, true)?;
        // The snapshot holds everything in the log now; start a fresh log.
        let log_path = self.dir.join(LOG_FILE);
        write_atomic(&log_path, LOG_MAGIC, true)?;
        self.log = OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(io(&log_path))?;
        self.log_len = LOG_MAGIC.len() as u64;
        self.frames_since_snapshot = 0;
        Ok(())
    }

    /// Writes the derived-view cache (not fsynced: it is checked against the heads on open).
    pub(crate) fn write_view_cache(&self, bytes: &[u8]) -> Result<()> {
        write_atomic(&self.dir.join(VIEW_FILE), bytes, false)
    }

    /// Reads the derived-view cache, if any.
    pub(crate) fn read_view_cache(dir: &Path) -> Option<Vec<u8>> {
        fs::read(dir.join(VIEW_FILE)).ok()
    }
}

/// `intents.log`: an append-only, fsynced log of payloads (see `space/intents.rs` for what
/// they hold), in frames like the change log's.
pub(crate) struct IntentLog {
    path: PathBuf,
    file: File,
    len: u64,
}

impl IntentLog {
    /// Opens (or starts) the intent log of `dir`, cutting a damaged tail: the payloads of the
    /// intact frames, and what was cut. A log of a newer format is an error (left untouched).
    pub(crate) fn open(dir: &Path) -> Result<(IntentLog, Vec<Vec<u8>>, Option<TornTail>)> {
        let path = dir.join(INTENT_LOG_FILE);
        if let Ok(mut file) = File::open(&path) {
            let mut magic = [0u8; 8];
            if file.read_exact(&mut magic).is_ok()
                && magic.starts_with(INTENT_MAGIC_FAMILY)
                && &magic != INTENT_MAGIC
            {
                return Err(Error::NewerVersion {
                    path,
                    what: format!(
                        "intent log format {}",
                        String::from_utf8_lossy(&magic[INTENT_MAGIC_FAMILY.len()..])
                    ),
                });
            }
        }
        let (file, len, payloads, torn) =
            open_framed(&path, INTENT_MAGIC, "intent log", |p| Some(p.to_vec()))?;
        Ok((IntentLog { path, file, len }, payloads, torn))
    }

    /// Appends one payload and fsyncs it: when this returns, it survives a crash.
    pub(crate) fn append(&mut self, payload: &[u8]) -> Result<()> {
        self.len = append_frame(&mut self.file, &self.path, self.len, payload)?;
        Ok(())
    }

    /// Whether the log holds no intent.
    pub(crate) fn is_empty(&self) -> bool {
        self.len <= INTENT_MAGIC.len() as u64
    }

    /// Empties the log durably (every intent in it was replayed).
    pub(crate) fn clear(&mut self) -> Result<()> {
        write_atomic(&self.path, INTENT_MAGIC, true)?;
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io(&self.path))?;
        self.len = INTENT_MAGIC.len() as u64;
        Ok(())
    }
}

/// Appends `payload` as a frame to `file` (of `len` bytes) and fsyncs it; the new length. On
/// failure no partial frame is left behind for the next append to follow.
fn append_frame(file: &mut File, path: &Path, len: u64, payload: &[u8]) -> Result<u64> {
    let mut bytes = Vec::with_capacity(payload.len() + 8);
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    bytes.extend_from_slice(payload);
    if let Err(e) = file.write_all(&bytes).and_then(|_| file.sync_data()) {
        let _ = file.set_len(len);
        return Err(Error::io(path, e));
    }
    Ok(len + bytes.len() as u64)
}

/// Reads and checks the snapshot of the device directory `dir` (checksum included).
/// A snapshot as stored: the heads it was taken at and the saved document.
pub(crate) type Snapshot = (Vec<[u8; 32]>, Vec<u8>);

pub(crate) fn read_snapshot_file(dir: &Path) -> Result<Option<Snapshot>> {
    read_snapshot(&dir.join(SNAPSHOT_FILE))
}

/// Reads only the heads in the snapshot's header (the checksum is checked by the full read).
fn read_snapshot_heads(path: &Path) -> Result<Option<Vec<[u8; 32]>>> {
    use std::io::Read as _;
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let corrupt = |reason: &str| Error::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let mut header = [0u8; 12];
    file.read_exact(&mut header)
        .map_err(|_| corrupt("truncated header"))?;
    if &header[..8] != SNAPSHOT_MAGIC {
        return Err(corrupt("not an Accord snapshot"));
    }
    let count = u32::from_le_bytes([header[8], header[9], header[10], header[11]]) as usize;
    if count > 4096 {
        return Err(corrupt("implausible header"));
    }
    let mut heads = vec![[0u8; 32]; count];
    for h in heads.iter_mut() {
        file.read_exact(h).map_err(|_| corrupt("truncated heads"))?;
    }
    Ok(Some(heads))
}

fn read_snapshot(path: &Path) -> Result<Option<Snapshot>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let corrupt = |reason: &str| Error::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    if bytes.len() < SNAPSHOT_MAGIC.len() + 16 || &bytes[..8] != SNAPSHOT_MAGIC {
        return Err(corrupt("not an Accord snapshot"));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let crc = u32::from_le_bytes(crc.try_into().map_err(|_| corrupt("truncated"))?);
    if crc32fast::hash(body) != crc {
        return Err(corrupt("checksum mismatch"));
    }
    let mut rest = &body[8..];
    let heads_len = take(&mut rest, 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| corrupt("truncated header"))? as usize;
    let mut heads = Vec::new();
    for _ in 0..heads_len {
        heads.push(
            take(&mut rest, 32)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| corrupt("truncated heads"))?,
        );
    }
    let doc_len = take(&mut rest, 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or_else(|| corrupt("truncated header"))? as usize;
    if rest.len() != doc_len {
        return Err(corrupt("length mismatch"));
    }
    Ok(Some((heads, rest.to_vec())))
}

type OpenedLog<T> = (File, u64, Vec<T>, Option<TornTail>);

fn open_log(path: &Path) -> Result<OpenedLog<Frame>> {
    open_framed(path, LOG_MAGIC, "change log", Frame::decode)
}

/// Opens a framed log starting with `magic` (`what` names it in errors), reading its frames
/// with `decode` up to the first damaged one; a damaged tail is cut off and kept beside it.
fn open_framed<T>(
    path: &Path,
    magic: &[u8; 8],
    what: &str,
    decode: impl Fn(&[u8]) -> Option<T>,
) -> Result<OpenedLog<T>> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes).map_err(io(path))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(path, e)),
    }
    if bytes.len() < magic.len() {
        if !bytes.is_empty() && !magic.starts_with(&bytes) {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                reason: format!("not an Accord {what}"),
            });
        }
        // Missing or torn while being created: start it (again).
        write_atomic(path, magic, true)?;
        let log = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io(path))?;
        return Ok((log, magic.len() as u64, Vec::new(), None));
    }
    if &bytes[..8] != magic {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            reason: format!("not an Accord {what}"),
        });
    }
    let mut frames = Vec::new();
    let mut offset = magic.len();
    while offset < bytes.len() {
        match parse_frame(&bytes[offset..], &decode) {
            Some((frame, used)) => {
                frames.push(frame);
                offset += used;
            }
            None => break,
        }
    }
    let mut torn = None;
    if offset < bytes.len() {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kept_in = path.with_extension(format!(
            "{extension}.damaged-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        ));
        write_atomic(&kept_in, &bytes[offset..], true)?;
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io(path))?;
        file.set_len(offset as u64).map_err(io(path))?;
        file.sync_all().map_err(io(path))?;
        torn = Some(TornTail {
            offset: offset as u64,
            bytes_cut: (bytes.len() - offset) as u64,
            kept_in,
        });
    }
    let log = OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(io(path))?;
    Ok((log, offset as u64, frames, torn))
}

/// Reads one frame (`[len u32][crc32 u32][payload]`) and decodes its payload; `None` when it
/// is torn, damaged or does not decode.
fn parse_frame<T>(bytes: &[u8], decode: impl Fn(&[u8]) -> Option<T>) -> Option<(T, usize)> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
    if len > MAX_FRAME_BYTES {
        return None;
    }
    let payload = bytes.get(8..8 + len)?;
    if crc32fast::hash(payload) != crc {
        return None;
    }
    Some((decode(payload)?, 8 + len))
}

/// Truncates the log to `offset` (used when a checksummed frame's changes turn out invalid).
pub(crate) fn cut_log_at(storage: &mut Storage, frame_index: usize) -> Result<Option<TornTail>> {
    let path = storage.dir.join(LOG_FILE);
    let bytes = fs::read(&path).map_err(io(&path))?;
    let mut offset = LOG_MAGIC.len();
    for _ in 0..frame_index {
        match parse_frame(&bytes[offset..], Frame::decode) {
            Some((_, used)) => offset += used,
            None => break,
        }
    }
    if offset >= bytes.len() {
        return Ok(None);
    }
    let kept_in = path.with_extension("log.damaged-invalid");
    write_atomic(&kept_in, &bytes[offset..], true)?;
    storage.log.set_len(offset as u64).map_err(io(&path))?;
    storage.log.sync_all().map_err(io(&path))?;
    storage.log_len = offset as u64;
    storage.frames_since_snapshot = frame_index;
    Ok(Some(TornTail {
        offset: offset as u64,
        bytes_cut: (bytes.len() - offset) as u64,
        kept_in,
    }))
}
