//! Routes as plug-ins: the engine names no concrete API, and every route
//! of the registry initialises a workspace whose ferry.toml parses.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const APIS: &[&str] = &["kustomer", "zendesk", "salesforce", "enchant", "intercom"];

/// Where a concrete API may be named: connectors, simulators, the
/// registry, and the commands that start simulators by name.
fn exempt(rel: &str) -> bool {
    rel.starts_with("src/connectors/")
        || rel.starts_with("src/sim/")
        || rel.starts_with("src/commands/bench/")
        || rel == "src/routes.rs"
        || matches!(rel, "src/commands/demo.rs" | "src/commands/sim.rs")
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

/// Code lines (comments aside) that name an API.
fn offending_lines(path: &Path, comment: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with(comment))
        .filter(|(_, l)| {
            let low = l.to_lowercase();
            APIS.iter().any(|a| low.contains(a))
        })
        .map(|(i, l)| format!("{}:{}: {}", path.display(), i + 1, l.trim()))
        .collect()
}

#[test]
fn outside_connectors_and_the_registry_no_code_names_an_api() {
    let root = manifest_dir();
    let mut rust = Vec::new();
    files(&root.join("src"), "rs", &mut rust);
    assert!(rust.len() > 30, "found only {} Rust files", rust.len());
    let mut bad = Vec::new();
    let mut checked = 0;
    for f in &rust {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if exempt(&rel) {
            continue;
        }
        checked += 1;
        bad.extend(offending_lines(f, "//"));
    }
    assert!(checked > 20, "only {checked} engine files checked");
    let mut sql = Vec::new();
    files(&root.join("sql/verify"), "sql", &mut sql);
    assert!(!sql.is_empty(), "sql/verify has no files");
    for f in &sql {
        bad.extend(offending_lines(f, "--"));
    }
    assert!(
        bad.is_empty(),
        "the engine names a concrete API:\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_registered_route_initialises_a_workspace_that_parses() {
    assert!(!ferry::routes::ROUTES.is_empty());
    // `ferry init --help` lists the routes from the registry.
    let help = String::from_utf8_lossy(
        &std::process::Command::new(bin())
            .args(["init", "--help"])
            .output()
            .unwrap()
            .stdout,
    )
    .to_string();
    for route in ferry::routes::ROUTES {
        assert!(help.contains(route.name), "{} not in:\n{help}", route.name);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ws");
        let out = std::process::Command::new(bin())
            .args(["init"])
            .arg(&dir)
            .args(["--route", route.name])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "init --route {}: {}",
            route.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let toml = std::fs::read_to_string(dir.join("ferry.toml")).unwrap();
        assert!(toml.contains(&format!("route = \"{}\"", route.name)));
        let cfg = ferry::config::Config::load(&dir).unwrap();
        assert_eq!(cfg.source.kind(), route.source.kind);
        assert_eq!(cfg.destination.kind(), route.destination.kind);
        // The template names the route's connectors in their sections.
        assert!(toml.contains(&format!("[source]\nkind = \"{}\"", route.source.kind)));
        assert!(toml.contains(&format!(
            "[destination]\nkind = \"{}\"",
            route.destination.kind
        )));
        // Every phase of the destination has its payload query.
        let set = ferry::transform::scripts::ScriptSet::load(&dir, route).unwrap();
        for phase in cfg.destination.phases() {
            assert!(
                set.files.contains_key(&phase.sql_file()),
                "route {} has no {}",
                route.name,
                phase.sql_file()
            );
        }
        assert!(set.files.contains_key("verify/lineage.sql"));
        assert!(!set.scripts.is_empty());
    }
}

#[test]
fn a_workspace_whose_destination_kind_differs_from_its_route_is_refused() {
    let (_t, dir) = workspace("http://127.0.0.1:9", &[]);
    let cfg = dir.join("ferry.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let route = ferry::routes::ROUTES[0].destination.kind;
    std::fs::write(
        &cfg,
        text.replace(
            &format!("[destination]\nkind = \"{route}\""),
            "[destination]\nkind = \"elsewhere\"",
        ),
    )
    .unwrap();
    let out = ferry(&dir, &["load", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1));
    let t = text_of(&out);
    assert!(
        t.contains("destination.kind = \"elsewhere\" does not match route"),
        "{t}"
    );
}

fn text_of(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
