//! Secrets never land anywhere: a full migration with debug logging, a
//! verify report and exports, then every log line, plain file, Parquet
//! file and every table of ferry.duckdb is searched for the credentials.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use common::*;

fn run_logged(dir: &Path, args: &[&str], log: &mut String) {
    let out = Command::new(bin())
        .arg("-C")
        .arg(dir)
        .arg("-vv")
        .args(args)
        .env("KUSTOMER_API_KEY", KEY)
        .env("ZENDESK_EMAIL", ZD_EMAIL)
        .env("ZENDESK_API_TOKEN", ZD_TOKEN)
        // Every crate at debug, reqwest and hyper included.
        .env("FERRY_LOG", "debug")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    log.push_str(&text(&out));
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn no_secret_reaches_logs_files_parquet_or_the_database() {
    let k = Sim::start(&["--seed", "61", "--customers", "4"]);
    let z = Sim::zendesk(&[]);
    let (_t, dir) = workspace_to(&k.url, &z.url, &[]);
    let mut log = String::new();
    for step in [
        &["extract", "--no-progress"][..],
        &["transform"],
        &["load"],
        &["verify"],
        &["archive", "--set", "excluded", "--attachments"],
        &["archive", "--table", "ferry_runs", "--format", "csv"],
        &["status"],
    ] {
        run_logged(&dir, step, &mut log);
    }
    // The common slip: the key itself pasted where the variable's name
    // belongs. Refused, and echoed nowhere.
    let pasted = "eyJhbGciOiJIUzI1NiJ9.pasted-into-api-key-env";
    let cfg = dir.join("ferry.toml");
    let good = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        good.replace(
            "api_key_env = \"KUSTOMER_API_KEY\"",
            &format!("api_key_env = \"{pasted}\""),
        ),
    )
    .unwrap();
    let out = Command::new(bin())
        .arg("-C")
        .arg(&dir)
        .args(["-vv", "extract", "--no-progress"])
        .env("KUSTOMER_API_KEY", KEY)
        .env("FERRY_LOG", "debug")
        .output()
        .unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("must name an environment variable"), "{said}");
    log.push_str(&said);
    std::fs::write(&cfg, good).unwrap();
    assert!(log.contains("DEBUG"), "debug logging was on");
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{ZD_EMAIL}/token:{ZD_TOKEN}"));
    let secrets = [KEY, ZD_TOKEN, basic.as_str(), pasted];
    for s in secrets {
        assert!(!log.contains(s), "a secret is in the logs");
    }
    // Plain files: byte search. Parquet and DuckDB compress, so they are
    // searched through DuckDB below.
    let mut parquet = Vec::new();
    for f in files(&dir) {
        let name = f.to_string_lossy().to_string();
        if name.ends_with(".parquet") {
            parquet.push(f);
            continue;
        }
        if name.ends_with(".duckdb") || name.ends_with(".wal") {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap();
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "a secret is in {name}"
            );
        }
    }
    assert!(parquet.len() > 5);
    let conn = db(&dir);
    for f in &parquet {
        for s in secrets {
            let n = count(
                &conn,
                &format!(
                    "SELECT count(*) FROM read_parquet('{}') t WHERE contains(t::VARCHAR, '{s}')",
                    f.display()
                ),
            );
            assert_eq!(n, 0, "a secret is in {}", f.display());
        }
    }
    let tables = strings(
        &conn,
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'ferry' UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal AND database_name = 'ferry'",
    );
    assert!(tables.len() > 40, "{tables:?}");
    for t in &tables {
        for s in secrets {
            let n = count(
                &conn,
                &format!("SELECT count(*) FROM \"{t}\" t WHERE contains(t::VARCHAR, '{s}')"),
            );
            assert_eq!(n, 0, "a secret is in table {t}");
        }
    }
}

#[test]
fn certificate_checks_can_only_be_switched_off_for_loopback() {
    let (_t, dir) = workspace_to(
        "https://acme.api.kustomerapp.com",
        "https://acme.zendesk.com",
        &[("insecure = false", "insecure = true")],
    );
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains("source.insecure = true is only allowed for loopback")
            && msg.contains("destination.insecure = true is only allowed for loopback"),
        "{msg}"
    );
}

#[test]
fn attachment_bytes_come_from_the_storage_host_without_the_api_key() {
    // Kustomer's attachment links are presigned storage URLs on another
    // host; the simulator's storage refuses any request that carries an
    // Authorization header (as S3 does), so every landed file proves the
    // key stayed home. Storage downloads are not API calls either.
    let k = Sim::start(&["--seed", "61", "--customers", "6"]);
    let (_t, dir) = workspace(&k.url, &[]);
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "{}", text(&out));
    let conn = db(&dir);
    let landed = count(
        &conn,
        "SELECT count(*) FROM raw_kustomer_attachments WHERE sha256 IS NOT NULL",
    );
    assert!(landed > 0, "no attachment bytes landed");
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_quarantine WHERE location = 'download'"
        ),
        0,
        "a download failed"
    );
    let link = strings(
        &conn,
        "SELECT json_extract_string(json, '$.links.related') FROM raw_kustomer_attachments LIMIT 1",
    )
    .pop()
    .unwrap();
    let api = url::Url::parse(&k.url).unwrap();
    let storage = url::Url::parse(&link).unwrap();
    assert_ne!(
        storage.port(),
        api.port(),
        "the link points at another origin: {link}"
    );
    assert!(link.contains("X-Amz-Expires=600"), "{link}");
    // The storage host really refuses a credential.
    let refused = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "Authorization: Bearer x",
            &link,
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&refused.stdout), "400");
}
