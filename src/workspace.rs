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

/// An opened, locked workspace.
pub struct Workspace {
    pub dir: PathBuf,
    pub config: Config,
    /// Held for the life of the process; the OS drops the lock on exit,
    /// also on kill -9, so a crash never leaves a stale lock.
    _lock: File,
}

impl Workspace {
    /// Opens `dir`, validates `ferry.toml` and takes the workspace lock.
    pub fn open(dir: &Path) -> Result<Workspace> {
        let dir = absolute(dir)?;
        let config = Config::load(&dir)?;
        let lock = take_lock(&dir)?;
        let ws = Workspace {
            dir,
            config,
            _lock: lock,
        };
        for sub in ["raw", "attachments", "exports", "reports"] {
            std::fs::create_dir_all(ws.dir.join(sub))
                .map_err(|e| FerryError::io(format!("creating {sub}/"), e))?;
        }
        Ok(ws)
    }

    /// Path of `ferry.duckdb`.
    pub fn db_path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    /// Opens the state database read-write and makes sure the meta tables exist.
    pub fn connect(&self) -> Result<Connection> {
        connect_db(&self.db_path())
    }
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

fn take_lock(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| FerryError::io(format!("opening {}", path.display()), e))?;
    // SAFETY: flock on a valid, owned file descriptor.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
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
