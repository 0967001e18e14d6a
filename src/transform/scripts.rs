//! SQL of a route, in layers, embedded in the binary:
//!
//! | layer | built-in directory | relative path | runs |
//! |---|---|---|---|
//! | shared | `sql/shared/` | `shared/NNN_*.sql`, `checks/*.sql` | first: macros every source uses, and the engine's generic checks |
//! | staging | `sql/sources/<source>/staging/` | `staging/NNN_*.sql` | one typed row per source record |
//! | intermediate | `sql/sources/<source>/intermediate/` | `intermediate/NNN_*.sql` | what every route from that source needs (merges, disposition) |
//! | route | `sql/routes/<route>/` | `NNN_*.sql`, `seeds/`, `checks/`, `load/`, `verify/`, `archive/<set>/` | the destination's tables and payloads |
//!
//! Each layer numbers its scripts on its own (`NNN`); they run layer by
//! layer, then by number. A file of a later layer with the same relative
//! path as an earlier layer's replaces it, and `ferry transform --plan`
//! says so. `ferry sql eject` copies files, one by one, into the
//! workspace's `sql/<route>/` under the same relative paths; a workspace
//! copy wins over the built-in file, and every file the user did not eject
//! stays built-in, so a later fix to it is not silently ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{FerryError, Result};
use crate::routes::Route;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_sql.rs"));
}

/// The layers, in the order their scripts run: the relative path's first
/// directory names a script's layer (none: the route's own).
pub const LAYERS: &[&str] = &["shared", "staging", "intermediate", "route"];

/// One versioned transform script `NNN_name.sql`.
#[derive(Debug, Clone)]
pub struct Script {
    /// Its place in the run and the ledger: the layer's rank × 1000 + NNN.
    pub version: i32,
    pub name: String,
    pub file: String,
    pub sql: String,
    pub checksum: String,
    /// The workspace copy's path when the script is ejected, which is the
    /// file the user edits and errors must name.
    pub shown_path: Option<String>,
}

/// A CSV lookup table loaded before the scripts.
#[derive(Debug, Clone)]
pub struct Seed {
    pub table: String,
    pub file: String,
    pub csv: String,
    /// The built-in file's column names, when this seed has one: an
    /// edited copy must keep them (`seeds::validate`).
    pub builtin_header: Option<Vec<String>>,
    /// Where the user's copy is, when the seed comes from the workspace.
    pub shown_path: Option<String>,
}

/// A query that must return zero rows.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub file: String,
    pub sql: String,
}

/// Everything a route's SQL consists of, and where each file came from.
#[derive(Debug, Clone)]
pub struct ScriptSet {
    /// The workspace directory ejected files are read from.
    pub dir: PathBuf,
    pub scripts: Vec<Script>,
    pub seeds: Vec<Seed>,
    pub checks: Vec<Check>,
    /// `load/*.sql`, `verify/*.sql` and `archive/<set>/*.sql` of the
    /// route, by relative path.
    pub files: BTreeMap<String, String>,
    /// Files read from the workspace copy.
    pub from_workspace: Vec<String>,
    /// Workspace copies whose text differs from today's built-in file.
    pub differs: Vec<String>,
    /// Built-in files a later layer replaces: (relative path, the layer
    /// whose file is used).
    pub overrides: Vec<(String, &'static str)>,
}

/// The built-in files of a route: its source's staging then its own,
/// by their path relative to their directory.
pub fn builtin_files(route: &Route) -> Vec<(String, &'static str)> {
    layered_files(route).0
}

/// Files by relative path, with their text (built in: `'static`).
type Files = Vec<(String, &'static str)>;

/// The built-in files by relative path, each once (a later layer's file
/// replacing an earlier one's), and the replacements.
fn layered_files(route: &Route) -> (Files, Vec<(String, &'static str)>) {
    // (built-in prefix, what it becomes in the relative path, layer)
    let layers = [
        ("shared/checks/".to_string(), "checks/", "shared"),
        ("shared/".to_string(), "shared/", "shared"),
        (format!("sources/{}/", route.source.kind), "", "source"),
        (format!("routes/{}/", route.sql_dir), "", "route"),
    ];
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let mut overrides = Vec::new();
    for (prefix, becomes, layer) in &layers {
        for (path, text) in embedded::FILES {
            let Some(rest) = path.strip_prefix(prefix.as_str()) else {
                continue;
            };
            if *prefix == "shared/" && rest.starts_with("checks/") {
                continue;
            }
            let rel = format!("{becomes}{rest}");
            if let Some(slot) = out.iter_mut().find(|(r, _)| *r == rel) {
                slot.1 = text;
                overrides.push((rel, *layer));
            } else {
                out.push((rel, *text));
            }
        }
    }
    (out, overrides)
}

/// A script's layer rank from its relative path.
fn layer_rank(rel: &str) -> i32 {
    let first = rel.split('/').next().unwrap_or("");
    LAYERS
        .iter()
        .position(|l| *l == first)
        .unwrap_or(LAYERS.len() - 1) as i32
}

/// An engine file under `sql/` (e.g. `verify/funnel.sql`).
pub fn engine_file(path: &str) -> Result<&'static str> {
    embedded::FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, t)| *t)
        .ok_or_else(|| FerryError::Other(format!("built-in SQL file {path} is missing")))
}

/// The workspace directory a route's files are ejected to.
pub fn eject_dir(workspace: &Path, route: &Route) -> PathBuf {
    workspace.join("sql").join(route.sql_dir)
}

/// Every file under `dir`, by path relative to it.
fn workspace_files(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for sub in [
        "",
        "shared",
        "staging",
        "intermediate",
        "seeds",
        "checks",
        "load",
        "verify",
        "archive/archive",
        "archive/excluded",
    ] {
        let d = if sub.is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(sub)
        };
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if !p.is_file() {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            if !(name.ends_with(".sql") || name.ends_with(".csv")) {
                continue;
            }
            let rel = if sub.is_empty() {
                name
            } else {
                format!("{sub}/{name}")
            };
            let text = std::fs::read_to_string(&p)
                .map_err(|e| FerryError::io(format!("reading {}", p.display()), e))?;
            out.push((rel, text));
        }
    }
    Ok(out)
}

/// SHA-256 of a text, hex.
pub fn checksum(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl ScriptSet {
    /// The route's files: each built-in one, or its workspace copy when
    /// there is one, plus files the user added to the workspace copy.
    pub fn load(workspace: &Path, route: &Route) -> Result<ScriptSet> {
        let dir = eject_dir(workspace, route);
        let mut files: BTreeMap<String, String> = builtin_files(route)
            .into_iter()
            .map(|(rel, text)| (rel, text.to_string()))
            .collect();
        let builtin = files.clone();
        let mut from_workspace = Vec::new();
        let mut differs = Vec::new();
        for (rel, text) in workspace_files(&dir)? {
            if builtin.get(&rel).is_some_and(|b| *b != text) {
                differs.push(rel.clone());
            }
            from_workspace.push(rel.clone());
            files.insert(rel, text);
        }
        let mut set = Self::from_files(dir, files.into_iter().collect())?;
        set.overrides = layered_files(route).1;
        for seed in &mut set.seeds {
            seed.builtin_header = builtin.get(&seed.file).and_then(|b| {
                b.lines()
                    .next()
                    .map(|h| h.split(',').map(|c| c.trim().to_string()).collect())
            });
            if from_workspace.contains(&seed.file) {
                seed.shown_path = Some(set.dir.join(&seed.file).display().to_string());
            }
        }
        for script in &mut set.scripts {
            if from_workspace.contains(&script.file) {
                script.shown_path = Some(set.dir.join(&script.file).display().to_string());
            }
        }
        set.from_workspace = from_workspace;
        set.differs = differs;
        Ok(set)
    }

    fn from_files(dir: PathBuf, files: Vec<(String, String)>) -> Result<ScriptSet> {
        let mut set = ScriptSet {
            dir,
            scripts: Vec::new(),
            seeds: Vec::new(),
            checks: Vec::new(),
            files: BTreeMap::new(),
            from_workspace: Vec::new(),
            differs: Vec::new(),
            overrides: Vec::new(),
        };
        for (rel, text) in files {
            if rel.starts_with("load/") || rel.starts_with("verify/") || rel.starts_with("archive/")
            {
                set.files.insert(rel, text);
            } else if let Some(f) = rel.strip_prefix("seeds/") {
                if let Some(table) = f.strip_suffix(".csv") {
                    set.seeds.push(Seed {
                        table: table.to_string(),
                        file: rel.clone(),
                        csv: text,
                        builtin_header: None,
                        shown_path: None,
                    });
                }
            } else if let Some(f) = rel.strip_prefix("checks/") {
                if let Some(name) = f.strip_suffix(".sql") {
                    set.checks.push(Check {
                        name: name.to_string(),
                        file: rel.clone(),
                        sql: text,
                    });
                }
            } else if let Some(stem) = rel.strip_suffix(".sql") {
                let stem = stem.rsplit('/').next().unwrap_or(stem);
                let (num, name) = stem.split_once('_').ok_or_else(|| {
                    FerryError::Other(format!("script {rel}: name must look like NNN_name.sql"))
                })?;
                let version: i32 = num.parse().map_err(|_| {
                    FerryError::Other(format!(
                        "script {rel}: name must start with a number (NNN_name.sql)"
                    ))
                })?;
                set.scripts.push(Script {
                    version: layer_rank(&rel) * 1000 + version,
                    name: name.to_string(),
                    file: rel.clone(),
                    checksum: checksum(&text),
                    sql: text,
                    shown_path: None,
                });
            }
        }
        set.scripts.sort_by_key(|s| s.version);
        for w in set.scripts.windows(2) {
            if w[0].version == w[1].version {
                return Err(FerryError::Other(format!(
                    "scripts {} and {} share version {}",
                    w[0].file, w[1].file, w[0].version
                )));
            }
        }
        set.seeds.sort_by(|a, b| a.table.cmp(&b.table));
        set.checks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(set)
    }

    /// One checksum over all seeds: a changed mapping reruns every script.
    pub fn seeds_checksum(&self) -> String {
        let mut all = String::new();
        for s in &self.seeds {
            all.push_str(&s.file);
            all.push('\n');
            all.push_str(&s.csv);
        }
        checksum(&all)
    }

    /// Where the scripts come from, for messages.
    pub fn origin(&self) -> String {
        if self.from_workspace.is_empty() {
            "built-in scripts".into()
        } else {
            format!(
                "built-in scripts, {} files from the workspace copy {}",
                self.from_workspace.len(),
                self.dir.display()
            )
        }
    }

    /// The route's load and verify files, for the load engine.
    pub fn load_sql(&self) -> crate::load::LoadSql {
        crate::load::LoadSql {
            files: self.files.clone(),
        }
    }
}

/// `ferry sql eject [FILE…]`: writes built-in files (all, or those named)
/// into the workspace's `sql/<route>/`. A file already there is never
/// overwritten (it may hold the user's edits). Returns (dir, written, kept).
pub fn eject(
    workspace: &Path,
    route: &Route,
    only: &[String],
) -> Result<(PathBuf, Vec<String>, Vec<String>)> {
    let dir = eject_dir(workspace, route);
    let all = builtin_files(route);
    for name in only {
        if !all.iter().any(|(rel, _)| rel == name) {
            return Err(FerryError::Other(format!(
                "`{name}` is not a built-in file of route {} (files: {})",
                route.name,
                all.iter()
                    .map(|(r, _)| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let (mut written, mut kept) = (Vec::new(), Vec::new());
    for (rel, text) in all {
        if !only.is_empty() && !only.contains(&rel) {
            continue;
        }
        let path = dir.join(&rel);
        if path.exists() {
            kept.push(rel);
            continue;
        }
        std::fs::create_dir_all(path.parent().unwrap())
            .map_err(|e| FerryError::io(format!("creating {}", dir.display()), e))?;
        crate::fsutil::write_atomic(&path, text.as_bytes())?;
        written.push(rel);
    }
    Ok((dir, written, kept))
}
