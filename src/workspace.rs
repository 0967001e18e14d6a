//! A workspace: one directory per migration holding `ferry.toml`,
//! `ferry.duckdb`, landed Parquet, attachments, exports and reports.

use std::fs::File;
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use duckdb::Connection;

use crate::config::Config;
use crate::error::{FerryError, Result};
use crate::meta;

/// File name of the state database.
pub const DB_FILE: &str = "ferry.duckdb";
/// Lock file guarding against two ferry processes on one workspace.
pub const LOCK_FILE: &str = ".ferry.lock";

/// An opened workspace: locked for writing, or read through a scratch copy.
pub struct Workspace {
    pub dir: PathBuf,
    pub config: Config,
    access: Access,
}

/// How this process holds the workspace.
enum Access {
    /// The lock file, held for the life of the process; the OS drops the
    /// lock on exit, also on kill -9, so a crash never leaves a stale lock.
    Locked(#[allow(dead_code)] File),
    /// The workspace cannot be written (a copy handed to an auditor, a
    /// read-only mount): its database is copied here and ferry's own
    /// bookkeeping (views, verify tables, `ferry_runs`) goes to the copy,
    /// which is removed on exit. The workspace itself is never touched.
    ReadOnly(tempfile::TempDir),
}

impl Workspace {
    /// Opens `dir`, validates `ferry.toml` and takes the workspace lock
    /// (waiting up to 3 seconds for a reader that holds it a moment).
    pub fn open(dir: &Path) -> Result<Workspace> {
        Workspace::open_with_patience(dir, 30)
    }

    /// Like [`Workspace::open`], trying the lock `attempts` times, 100 ms
    /// apart.
    fn open_with_patience(dir: &Path, attempts: u32) -> Result<Workspace> {
        let dir = absolute(dir)?;
        let config = Config::load(&dir)?;
        let lock = take_lock(&dir, attempts)?;
        let ws = Workspace {
            dir,
            config,
            access: Access::Locked(lock),
        };
        for sub in ["raw", "attachments", "exports", "reports"] {
            std::fs::create_dir_all(ws.dir.join(sub))
                .map_err(|e| FerryError::io(format!("creating {sub}/"), e))?;
        }
        Ok(ws)
    }

    /// Opens `dir` for a command that only reads (status, verify, sql).
    /// A workspace this user can write is opened and locked as usual; one
    /// it cannot is read through a scratch copy of its database, without
    /// the lock (there is no writer to exclude: nobody can write it).
    pub fn open_for_reading(dir: &Path) -> Result<Workspace> {
        let dir = absolute(dir)?;
        if writable(&dir) {
            // A reader does not wait: `ferry status` shows a running
            // load's live state at once instead.
            return Workspace::open_with_patience(&dir, 1);
        }
        let config = Config::load(&dir)?;
        let scratch = tempfile::Builder::new()
            .prefix("ferry-read-only-")
            .tempdir()
            .map_err(|e| FerryError::io("creating a scratch directory".to_string(), e))?;
        // The write-ahead log holds the last commits until a checkpoint;
        // a copy without it would miss them.
        for name in [DB_FILE.to_string(), format!("{DB_FILE}.wal")] {
            let from = dir.join(&name);
            if from.exists() {
                let to = scratch.path().join(&name);
                std::fs::copy(&from, &to)
                    .map_err(|e| FerryError::io(format!("copying {}", from.display()), e))?;
                // The copy keeps the original's read-only mode bits.
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| FerryError::io(format!("writing {}", to.display()), e))?;
            }
        }
        tracing::info!(
            "{} is read-only: reading a scratch copy of its database in {}",
            dir.display(),
            scratch.path().display()
        );
        Ok(Workspace {
            dir,
            config,
            access: Access::ReadOnly(scratch),
        })
    }

    /// Whether this workspace is read through a scratch copy.
    pub fn read_only(&self) -> bool {
        matches!(self.access, Access::ReadOnly(_))
    }

    /// Path of the `ferry.duckdb` this process works on (the scratch copy
    /// for a read-only workspace).
    pub fn db_path(&self) -> PathBuf {
        match &self.access {
            Access::Locked(_) => self.dir.join(DB_FILE),
            Access::ReadOnly(scratch) => scratch.path().join(DB_FILE),
        }
    }

    /// Where reports go: `reports/`, or for a read-only workspace a
    /// directory beside the system's temporary files, named in the output.
    pub fn reports_dir(&self) -> PathBuf {
        match &self.access {
            Access::Locked(_) => self.dir.join("reports"),
            Access::ReadOnly(_) => std::env::temp_dir().join(format!(
                "ferry-reports-{}",
                self.dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "workspace".into())
            )),
        }
    }

    /// Opens the state database read-write and makes sure the meta tables exist.
    pub fn connect(&self) -> Result<Connection> {
        connect_db(&self.db_path())
    }
}

/// Whether this process may write `dir` and its database: the lock file
/// and `ferry.duckdb` can be opened for writing (tried, not guessed from
/// mode bits, which root and ACLs override).
fn writable(dir: &Path) -> bool {
    let can_write = |p: &Path| {
        std::fs::OpenOptions::new()
            .create(false)
            .append(true)
            .open(p)
            .is_ok()
    };
    let lock = dir.join(LOCK_FILE);
    let lock_ok = if lock.exists() {
        can_write(&lock)
    } else {
        // SAFETY: access(2) on a NUL-terminated path; reads nothing else.
        let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap_or_default();
        unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
    };
    let db = dir.join(DB_FILE);
    lock_ok && (!db.exists() || can_write(&db))
}

/// Opens (creating if needed) a DuckDB file and ensures the meta tables.
pub fn connect_db(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(|e| {
        FerryError::Other(format!(
            "cannot open {}: {e} (is another program, e.g. the duckdb CLI, holding it open for writing?)",
            path.display()
        ))
    })?;
    meta::ensure(&conn)?;
    Ok(conn)
}

/// Makes `dir` absolute without requiring it to exist.
pub fn absolute(dir: &Path) -> Result<PathBuf> {
    std::path::absolute(dir).map_err(|e| FerryError::io(format!("resolving {}", dir.display()), e))
}

fn take_lock(dir: &Path, attempts: u32) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| FerryError::io(format!("opening {}", path.display()), e))?;
    // A reader (`ferry status`, `ferry sql`) holds it for a moment only:
    // a writer tries `attempts` times, 100 ms apart, before saying the
    // workspace is taken.

    let mut rc = -1;
    for attempt in 0..attempts.max(1) {
        // SAFETY: flock on a valid, owned file descriptor.
        rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            break;
        }
        if attempt + 1 < attempts {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    if rc != 0 {
        let pid = std::fs::read_to_string(&path).unwrap_or_default();
        return Err(FerryError::Locked {
            path,
            pid: pid.trim().to_string(),
        });
    }
    file.set_len(0).ok();
    write!(file, "{}", std::process::id()).ok();
    Ok(file)
}

/// `ferry init`: writes `ferry.toml`, creates `ferry.duckdb` with the meta
/// tables and the directory skeleton.
pub fn init(
    dir: &Path,
    route: &'static crate::routes::Route,
    opts: &crate::config::InitOptions,
) -> Result<PathBuf> {
    let dir = absolute(dir)?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| FerryError::io(format!("creating {}", dir.display()), e))?;
    let cfg_path = crate::config::config_path(&dir);
    if cfg_path.exists() {
        return Err(FerryError::AlreadyInitialised { dir });
    }
    let text = crate::config::template(route, opts);
    // Validate what we are about to write so a bad --source-url fails now.
    let config = Config::parse(&text, &cfg_path)?;
    crate::fsutil::write_atomic(&cfg_path, text.as_bytes())?;
    for sub in ["raw", "attachments", "exports", "reports"] {
        std::fs::create_dir_all(dir.join(sub))
            .map_err(|e| FerryError::io(format!("creating {sub}/"), e))?;
    }
    let conn = connect_db(&dir.join(DB_FILE))?;
    crate::views::ensure_raw_views(&conn, &dir, config.source.as_ref())?;
    drop(conn);
    Ok(dir)
}
