//! Durable file writes: temp name, fsync, rename, fsync the directory.
//! A reader (or a rerun after kill -9) sees either the old file or the
//! complete new one, never half of it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{FerryError, Result};

/// Temp-file suffix; files ending in it are leftovers of a crash.
pub const TMP_SUFFIX: &str = ".tmp";

/// The temp path used while writing `path`.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{}{}", std::process::id(), TMP_SUFFIX));
    PathBuf::from(s)
}

/// Writes `bytes` to `path` atomically and durably.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = tmp_path(path);
    let res = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(())
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(FerryError::io(format!("writing {}", path.display()), e));
    }
    commit_tmp(&tmp, path)
}

/// Renames a fully written and fsynced temp file into place and fsyncs
/// the directory so the rename itself survives a power cut.
pub fn commit_tmp(tmp: &Path, path: &Path) -> Result<()> {
    std::fs::rename(tmp, path)
        .map_err(|e| FerryError::io(format!("renaming into {}", path.display()), e))?;
    if let Some(parent) = path.parent() {
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Removes temp files left by a crashed writer under `dir` (recursively).
pub fn sweep_tmp(dir: &Path) -> usize {
    let mut removed = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            removed += sweep_tmp(&p);
        } else if p.to_string_lossy().ends_with(TMP_SUFFIX) && std::fs::remove_file(&p).is_ok() {
            removed += 1;
        }
    }
    removed
}
