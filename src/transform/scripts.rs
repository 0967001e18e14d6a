//! SQL scripts, seeds and checks of a route: embedded in the binary, or the
//! workspace's ejected copy (which then wins).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{FerryError, Result};

/// One versioned transform script `NNN_name.sql`.
#[derive(Debug, Clone)]
pub struct Script {
    pub version: i32,
    pub name: String,
    pub file: String,
    pub sql: String,
    pub checksum: String,
}

/// A CSV lookup table loaded before the scripts.
#[derive(Debug, Clone)]
pub struct Seed {
    pub table: String,
    pub file: String,
    pub csv: String,
}

/// A query that must return zero rows.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub file: String,
    pub sql: String,
}

/// Everything a route's transform consists of, and where it came from.
#[derive(Debug, Clone)]
pub struct ScriptSet {
    /// `None` for the built-in scripts, else the ejected directory.
    pub dir: Option<PathBuf>,
    pub scripts: Vec<Script>,
    pub seeds: Vec<Seed>,
    pub checks: Vec<Check>,
}

macro_rules! embed {
    ($($f:literal),* $(,)?) => { &[$(($f, include_str!(concat!("../../sql/kustomer_zendesk/", $f)))),*] };
}

/// The built-in Kustomer → Zendesk files (relative path, content).
const KUSTOMER_ZENDESK: &[(&str, &str)] = embed!(
    "001_staging.sql",
    "002_organizations.sql",
    "003_users.sql",
    "004_agents_groups.sql",
    "005_comments.sql",
    "006_tickets.sql",
    "007_custom_objects.sql",
    "008_accounting.sql",
    "seeds/status_map.csv",
    "seeds/priority_map.csv",
    "seeds/channel_via_map.csv",
    "seeds/agent_map.csv",
    "seeds/team_group_map.csv",
    "seeds/transform_settings.csv",
    "checks/orphan_comments.sql",
    "checks/tickets_without_requester.sql",
    "checks/unmapped_status.sql",
    "checks/unmapped_priority.sql",
    "checks/unmapped_channel.sql",
    "checks/comment_over_limit.sql",
    "checks/ticket_over_comment_limit.sql",
    "checks/users_without_identity.sql",
    "checks/duplicate_external_ids.sql",
    "checks/unaccounted_records.sql",
    "checks/characters_preserved.sql",
    "checks/timestamps_zendesk_would_alter.sql",
);

/// Directory name of a route's scripts: `kustomer-zendesk` → `kustomer_zendesk`.
pub fn route_dir(route: &str) -> String {
    route.replace('-', "_")
}

/// SHA-256 of a text, hex.
pub fn checksum(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn builtin_files(route: &str) -> Result<&'static [(&'static str, &'static str)]> {
    match route {
        "kustomer-zendesk" => Ok(KUSTOMER_ZENDESK),
        other => Err(FerryError::Other(format!(
            "no transform scripts for route {other}"
        ))),
    }
}

impl ScriptSet {
    /// The workspace copy under `sql/<route>/` if it exists, else the built-ins.
    pub fn load(workspace: &Path, route: &str) -> Result<ScriptSet> {
        let dir = workspace.join("sql").join(route_dir(route));
        if dir.is_dir() {
            let mut files = Vec::new();
            for sub in ["", "seeds", "checks"] {
                let d = if sub.is_empty() {
                    dir.clone()
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
                    let rel = if sub.is_empty() {
                        e.file_name().to_string_lossy().into_owned()
                    } else {
                        format!("{sub}/{}", e.file_name().to_string_lossy())
                    };
                    let text = std::fs::read_to_string(&p)
                        .map_err(|e| FerryError::io(format!("reading {}", p.display()), e))?;
                    files.push((rel, text));
                }
            }
            return Self::from_files(Some(dir), files);
        }
        let files = builtin_files(route)?
            .iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect();
        Self::from_files(None, files)
    }

    fn from_files(dir: Option<PathBuf>, files: Vec<(String, String)>) -> Result<ScriptSet> {
        let mut set = ScriptSet {
            dir,
            scripts: Vec::new(),
            seeds: Vec::new(),
            checks: Vec::new(),
        };
        for (rel, text) in files {
            if let Some(f) = rel.strip_prefix("seeds/") {
                if let Some(table) = f.strip_suffix(".csv") {
                    set.seeds.push(Seed {
                        table: table.to_string(),
                        file: rel.clone(),
                        csv: text,
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
                let (num, name) = stem.split_once('_').ok_or_else(|| {
                    FerryError::Other(format!("script {rel}: name must look like NNN_name.sql"))
                })?;
                let version: i32 = num.parse().map_err(|_| {
                    FerryError::Other(format!(
                        "script {rel}: name must start with a number (NNN_name.sql)"
                    ))
                })?;
                set.scripts.push(Script {
                    version,
                    name: name.to_string(),
                    file: rel.clone(),
                    checksum: checksum(&text),
                    sql: text,
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
        match &self.dir {
            Some(d) => format!("workspace copy {}", d.display()),
            None => "built-in scripts".into(),
        }
    }
}

/// `ferry sql eject`: writes the built-in files into `sql/<route>/`.
/// Refuses to overwrite an existing copy (it may hold the user's edits).
pub fn eject(workspace: &Path, route: &str) -> Result<(PathBuf, usize)> {
    let dir = workspace.join("sql").join(route_dir(route));
    if dir.exists() {
        return Err(FerryError::Other(format!(
            "{} already exists (it may hold your edits); move it away to eject again",
            dir.display()
        )));
    }
    let files = builtin_files(route)?;
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap())
            .map_err(|e| FerryError::io(format!("creating {}", dir.display()), e))?;
        crate::fsutil::write_atomic(&path, text.as_bytes())?;
    }
    Ok((dir, files.len()))
}
