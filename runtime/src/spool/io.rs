//! Every file system call the spool makes, in one place, with a fault-injection seam.
//!
//! Production code passes `None` for the faults and gets plain `std::fs` calls. Tests arm
//! a [`SpoolFaults`] for a spool directory (the way Vector's disk buffer model tests put a
//! simulated file system under the buffer) and the spool then sees real OS error codes
//! (`ENOSPC`, `EIO`, `EROFS`) from exactly the calls a full, failing or read-only disk
//! would fail.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};

use super::SpoolError;

/// What a faulty disk does to the spool's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFault {
    /// Writes succeed.
    None,
    /// Creating files and writing fail with `ENOSPC` (the disk is full).
    NoSpace,
    /// Writing fails with `EIO` (a failing device).
    Io,
    /// Creating and writing fail with `EROFS` (read-only directory or file system).
    ReadOnly,
}

/// Faults injected under one spool directory (tests only; see the module docs).
#[derive(Debug)]
pub struct SpoolFaults {
    write: AtomicU8,
    fsync: AtomicBool,
    /// While true, writes and fsyncs block (a disk that hangs).
    stall: Mutex<bool>,
    stall_changed: Condvar,
    stalled_calls: AtomicU64,
}

static REGISTRY: OnceLock<Mutex<HashMap<PathBuf, Weak<SpoolFaults>>>> = OnceLock::new();

impl SpoolFaults {
    /// Arm fault injection for the spool opened next in `dir` (no faults until set).
    /// The faults live as long as the returned handle.
    pub fn install(dir: &Path) -> Arc<SpoolFaults> {
        let faults = Arc::new(SpoolFaults {
            write: AtomicU8::new(0),
            fsync: AtomicBool::new(false),
            stall: Mutex::new(false),
            stall_changed: Condvar::new(),
            stalled_calls: AtomicU64::new(0),
        });
        let mut map = REGISTRY
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.retain(|_, w| w.strong_count() > 0);
        map.insert(dir.to_owned(), Arc::downgrade(&faults));
        faults
    }

    /// The faults armed for `dir`, if any.
    pub(crate) fn lookup(dir: &Path) -> Option<Arc<SpoolFaults>> {
        let map = REGISTRY.get()?.lock().unwrap_or_else(|p| p.into_inner());
        map.get(dir).and_then(Weak::upgrade)
    }

    /// Make writes fail (or succeed again with [`WriteFault::None`]).
    pub fn set_write(&self, fault: WriteFault) {
        let v = match fault {
            WriteFault::None => 0,
            WriteFault::NoSpace => 1,
            WriteFault::Io => 2,
            WriteFault::ReadOnly => 3,
        };
        self.write.store(v, SeqCst);
    }

    /// Make `fsync`/`fdatasync` fail with `EIO` (the kernel may have dropped the pages).
    pub fn set_fsync_fails(&self, fails: bool) {
        self.fsync.store(fails, SeqCst);
    }

    /// Make writes and fsyncs hang until `set_stall(false)`.
    pub fn set_stall(&self, stall: bool) {
        *self.stall.lock().unwrap_or_else(|p| p.into_inner()) = stall;
        self.stall_changed.notify_all();
    }

    /// How many write or fsync calls have hung so far.
    pub fn stalled_calls(&self) -> u64 {
        self.stalled_calls.load(SeqCst)
    }

    fn wait_while_stalled(&self) {
        let mut stall = self.stall.lock().unwrap_or_else(|p| p.into_inner());
        if *stall {
            self.stalled_calls.fetch_add(1, SeqCst);
        }
        while *stall {
            stall = self
                .stall_changed
                .wait(stall)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    fn write_error(&self, creating: bool) -> Option<io::Error> {
        let code = match self.write.load(SeqCst) {
            1 => libc_code::ENOSPC,
            2 if !creating => libc_code::EIO,
            3 => libc_code::EROFS,
            _ => return None,
        };
        Some(io::Error::from_raw_os_error(code))
    }
}

/// The errno values injected.
mod libc_code {
    #[cfg(unix)]
    pub use libc::{EIO, ENOSPC, EROFS};
    #[cfg(not(unix))]
    pub const EIO: i32 = 5;
    #[cfg(not(unix))]
    pub const ENOSPC: i32 = 28;
    #[cfg(not(unix))]
    pub const EROFS: i32 = 30;
}

/// The spool's file operations (see the module docs).
#[derive(Debug, Clone, Default)]
pub(crate) struct Io {
    faults: Option<Arc<SpoolFaults>>,
}

impl Io {
    pub(crate) fn for_dir(dir: &Path) -> Io {
        Io {
            faults: SpoolFaults::lookup(dir),
        }
    }

    fn check_write(&self, creating: bool) -> io::Result<()> {
        if let Some(f) = &self.faults {
            f.wait_while_stalled();
        }
        match self.faults.as_ref().and_then(|f| f.write_error(creating)) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn check_sync(&self) -> io::Result<()> {
        if let Some(f) = &self.faults {
            f.wait_while_stalled();
        }
        if self.faults.as_ref().is_some_and(|f| f.fsync.load(SeqCst)) {
            return Err(io::Error::from_raw_os_error(libc_code::EIO));
        }
        Ok(())
    }

    /// Create (truncating) a segment file for reading and writing.
    pub(crate) fn create(&self, path: &Path) -> Result<File, SpoolError> {
        self.check_write(true)
            .and_then(|()| {
                OpenOptions::new()
                    .create(true)
                    .truncate(true)
                    .read(true)
                    .write(true)
                    .open(path)
            })
            .map_err(io_err(path, "create segment"))
    }

    /// Write all of `buf` at `offset`.
    pub(crate) fn write_at(
        &self,
        file: &File,
        path: &Path,
        buf: &[u8],
        offset: u64,
    ) -> Result<(), SpoolError> {
        self.check_write(false)
            .and_then(|()| write_all_at(file, buf, offset))
            .map_err(io_err(path, "write"))
    }

    /// `fdatasync` one file.
    pub(crate) fn sync_data(&self, file: &File, path: &Path) -> Result<(), SpoolError> {
        self.check_sync()
            .and_then(|()| file.sync_data())
            .map_err(io_err(path, "fsync"))
    }

    /// `fsync` the directory, so created files survive a crash.
    pub(crate) fn sync_dir(&self, dir: &Path) -> Result<(), SpoolError> {
        self.check_sync().map_err(io_err(dir, "fsync directory"))?;
        #[cfg(unix)]
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir, "fsync directory"))?;
        Ok(())
    }

    /// Open an ack file for appending.
    pub(crate) fn open_append(&self, path: &Path) -> Result<File, SpoolError> {
        self.check_write(true)
            .and_then(|()| OpenOptions::new().create(true).append(true).open(path))
            .map_err(io_err(path, "open ack file"))
    }

    /// Append to a file opened with [`Io::open_append`].
    pub(crate) fn append(
        &self,
        mut file: &File,
        path: &Path,
        buf: &[u8],
    ) -> Result<(), SpoolError> {
        self.check_write(false)
            .and_then(|()| file.write_all(buf))
            .map_err(io_err(path, "write ack file"))
    }
}

pub(crate) fn io_err<'a>(
    path: &'a Path,
    op: &'static str,
) -> impl FnOnce(io::Error) -> SpoolError + 'a {
    move |source| SpoolError::Io {
        path: path.to_owned(),
        op,
        source: Arc::new(source),
    }
}

pub(crate) fn seg_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.seg"))
}

pub(crate) fn ack_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.ack"))
}

pub(crate) fn parse_id(name: &str, ext: &str) -> Option<u64> {
    let stem = name.strip_suffix(ext)?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

pub(crate) fn remove_file_quiet(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        if e.kind() != io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "could not delete spool file");
        }
    }
}

#[cfg(unix)]
pub(crate) fn lock_dir(dir: &Path) -> Result<File, SpoolError> {
    use std::os::unix::io::AsRawFd;
    let path = dir.join("spool.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path, "open lock file"))?;
    // SAFETY: flock on a valid, open file descriptor owned by `file`.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::WouldBlock {
            return Err(SpoolError::Locked {
                path: dir.to_owned(),
            });
        }
        return Err(io_err(&path, "lock")(err));
    }
    Ok(file)
}

#[cfg(not(unix))]
pub(crate) fn lock_dir(dir: &Path) -> Result<File, SpoolError> {
    let path = dir.join("spool.lock");
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path, "open lock file"))
}

#[cfg(unix)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

#[cfg(windows)]
pub(crate) fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_read(buf, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(unix)]
fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(buf, offset)
}

#[cfg(windows)]
fn write_all_at(file: &File, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_write(buf, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
        offset += n as u64;
    }
    Ok(())
}
