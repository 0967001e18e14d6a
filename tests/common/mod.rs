//! Test harness: the real `ferry` binary against a real simulator process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const KEY: &str = "test-Secret-Key-7f3a9c";

/// The checkout the tests run from. Read at run time: cargo reuses a test
/// binary built from another clone sharing the target directory, and a
/// compile-time `env!` would point into that clone.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The Intercom simulator's access token in tests.
pub const INTERCOM_TOKEN: &str = "test-intercom-token";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ferry")
}

/// A simulator child process, killed on drop.
pub struct Sim {
    child: Child,
    pub url: String,
}

impl Sim {
    /// Starts `ferry sim kustomer`; the search budget is off unless `args` set it.
    pub fn start(args: &[&str]) -> Sim {
        let mut args: Vec<&str> = args.to_vec();
        if !args.contains(&"--search-rate-limit") {
            args.extend(["--search-rate-limit", "0"]);
        }
        Sim::spawn(
            &[
                &["sim", "kustomer", "--addr", "127.0.0.1:0", "--api-key", KEY],
                &args[..],
            ]
            .concat(),
        )
    }

    /// Runs `ferry ARGS` and reads the base URL from its first stdout line.
    pub fn spawn(args: &[&str]) -> Sim {
        let mut child = Command::new(bin())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start simulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with("http://127.0.0.1:"),
            "first line is the URL: {line:?}"
        );
        Sim {
            child,
            url: line.trim().to_string(),
        }
    }

    pub fn get(&self, path: &str) -> serde_json::Value {
        let url = format!("{}{}", self.url, path);
        rt().block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
    }

    pub fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let url = format!("{}{}", self.url, path);
        rt().block_on(async {
            let r = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap();
            if r.status() == 204 {
                serde_json::Value::Null
            } else {
                r.json().await.unwrap()
            }
        })
    }

    pub fn delete(&self, path: &str) {
        let url = format!("{}{}", self.url, path);
        rt().block_on(async { reqwest::Client::new().delete(url).send().await.unwrap() });
    }

    /// A request as the Zendesk admin: (status, JSON body or Null).
    pub fn zendesk_call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{}", self.url, path);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        rt().block_on(async {
            let mut req = reqwest::Client::new()
                .request(method, url)
                .basic_auth(format!("{ZD_EMAIL}/token"), Some(ZD_TOKEN));
            if let Some(b) = body {
                req = req.json(&b);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(serde_json::Value::Null))
        })
    }

    /// DELETE as the Zendesk admin (the simulator's credentials).
    pub fn zendesk_delete(&self, path: &str) -> u16 {
        let url = format!("{}{}", self.url, path);
        rt().block_on(async {
            reqwest::Client::new()
                .delete(url)
                .basic_auth(format!("{ZD_EMAIL}/token"), Some(ZD_TOKEN))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    }

    /// PUT as the Zendesk admin (an agent editing a record by hand).
    pub fn zendesk_put(&self, path: &str, body: serde_json::Value) -> u16 {
        let url = format!("{}{}", self.url, path);
        rt().block_on(async {
            reqwest::Client::new()
                .put(url)
                .basic_auth(format!("{ZD_EMAIL}/token"), Some(ZD_TOKEN))
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    }

    /// Asks the Kustomer simulator to change `n` records of `kind` (as
    /// agents working on would); returns the ids it changed.
    pub fn mutate(&self, kind: &str, n: usize) -> Vec<String> {
        let r = self.post(
            "/__sim/mutate",
            serde_json::json!({"count": n, "kind": kind}),
        );
        r["mutated"]
            .as_array()
            .unwrap_or_else(|| panic!("mutate {kind}: {r}"))
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn stats(&self) -> serde_json::Value {
        self.get("/__sim/stats")
    }

    /// The true, sorted ids of an object.
    pub fn ids(&self, object: &str) -> Vec<String> {
        let mut v: Vec<String> =
            serde_json::from_value(self.get(&format!("/__sim/ids/{object}"))).unwrap();
        v.sort();
        v
    }
}

impl Sim {
    /// Starts `ferry sim intercom` with the test token.
    pub fn intercom(args: &[&str]) -> Sim {
        Sim::spawn(
            &[
                &[
                    "sim",
                    "intercom",
                    "--addr",
                    "127.0.0.1:0",
                    "--token",
                    INTERCOM_TOKEN,
                ],
                args,
            ]
            .concat(),
        )
    }

    /// Starts `ferry sim zendesk` with the test credentials.
    pub fn zendesk(args: &[&str]) -> Sim {
        Sim::spawn(
            &[
                &[
                    "sim",
                    "zendesk",
                    "--addr",
                    "127.0.0.1:0",
                    "--email",
                    ZD_EMAIL,
                    "--token",
                    ZD_TOKEN,
                ],
                args,
            ]
            .concat(),
        )
    }
}

impl Sim {
    /// Starts `ferry sim salesforce` with the test connected app.
    pub fn salesforce(args: &[&str]) -> Sim {
        Sim::spawn(
            &[
                &[
                    "sim",
                    "salesforce",
                    "--addr",
                    "127.0.0.1:0",
                    "--client-id",
                    SF_CLIENT_ID,
                    "--client-secret",
                    SF_CLIENT_SECRET,
                ],
                args,
            ]
            .concat(),
        )
    }
}

impl Sim {
    /// Starts `ferry sim enchant` with the test token and no rate limits,
    /// seeded like the Kustomer org of `seed`/`customers`.
    pub fn enchant(seed: u64, customers: u32, args: &[&str]) -> Sim {
        let seed = seed.to_string();
        let customers = customers.to_string();
        Sim::spawn(
            &[
                &[
                    "sim",
                    "enchant",
                    "--addr",
                    "127.0.0.1:0",
                    "--token",
                    EN_TOKEN,
                    "--mirror-kustomer-seed",
                    &seed,
                    "--mirror-kustomer-customers",
                    &customers,
                ],
                args,
            ]
            .concat(),
        )
    }

    /// The simulator's root (its base URL without Enchant's `/api/v1`).
    pub fn root(&self) -> String {
        self.url.trim_end_matches("/api/v1").to_string()
    }

    /// PATCH as the Enchant account (an agent editing a record by hand).
    pub fn enchant_patch(&self, path: &str, body: serde_json::Value) -> u16 {
        let url = format!("{}{}", self.url, path);
        rt().block_on(async {
            reqwest::Client::new()
                .patch(url)
                .bearer_auth(EN_TOKEN)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    }
}

pub const EN_TOKEN: &str = "en-Secret-Token-9c2d";

pub const ZD_EMAIL: &str = "admin@zd.test";
pub const SF_CLIENT_ID: &str = "sf-client-3e1b";
pub const SF_CLIENT_SECRET: &str = "sf-Secret-77d0a4";
pub const ZD_TOKEN: &str = "zd-Secret-Token-55e1";

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A fresh workspace pointed at `url`, with `edits` applied to ferry.toml
/// as (old, new) text replacements.
pub fn workspace(url: &str, edits: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    workspace_to(url, "http://127.0.0.1:9", edits)
}

/// Like [`workspace`], with a destination URL.
pub fn workspace_to(url: &str, dest: &str, edits: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    workspace_route("kustomer-zendesk", url, dest, edits)
}

/// Like [`workspace_to`], for a route.
pub fn workspace_route(
    route: &str,
    url: &str,
    dest: &str,
    edits: &[(&str, &str)],
) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    let out = Command::new(bin())
        .args(["init"])
        .arg(&dir)
        .args(["--route", route, "--source-url", url, "--dest-url", dest])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cfg = dir.join("ferry.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    // Tests run at full speed unless they test a rate tier.
    let mut edits: Vec<(&str, &str)> = edits.to_vec();
    if !edits
        .iter()
        .any(|(o, _)| o.starts_with("rate_limit_per_minute = 1000"))
    {
        edits.push((
            "rate_limit_per_minute = 1000",
            "rate_limit_per_minute = 100000",
        ));
    }
    edits.push((
        "search_rate_limit_per_minute = 100",
        "search_rate_limit_per_minute = 100000",
    ));
    for (old, new) in &edits {
        assert!(text.contains(old), "ferry.toml has no {old:?}");
        text = text.replace(old, new);
    }
    std::fs::write(&cfg, text).unwrap();
    (tmp, dir)
}

/// `ferry -C dir ARGS` with the test credentials in the environment.
pub fn ferry_command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.arg("-C")
        .arg(dir)
        .args(args)
        .env("KUSTOMER_API_KEY", KEY)
        .env("INTERCOM_ACCESS_TOKEN", INTERCOM_TOKEN)
        .env("ZENDESK_EMAIL", ZD_EMAIL)
        .env("ZENDESK_API_TOKEN", ZD_TOKEN)
        .env("ENCHANT_API_TOKEN", EN_TOKEN)
        .env("SALESFORCE_CLIENT_ID", SF_CLIENT_ID)
        .env("SALESFORCE_CLIENT_SECRET", SF_CLIENT_SECRET)
        .env_remove("FERRY_WORKSPACE");
    c
}

/// Runs ferry in `dir` with the test key in the environment.
pub fn ferry(dir: &Path, args: &[&str]) -> Output {
    ferry_command(dir, args).output().unwrap()
}

/// Like [`ferry`], but spawned (for kill tests).
pub fn spawn_ferry(dir: &Path, args: &[&str]) -> Child {
    ferry_command(dir, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn db(dir: &Path) -> duckdb::Connection {
    duckdb::Connection::open(dir.join("ferry.duckdb")).unwrap()
}

pub fn strings(conn: &duckdb::Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(|r| r.unwrap()).collect()
}

pub fn count(conn: &duckdb::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The Kustomer objects, from the crate itself (one list, not a copy).
pub const OBJECTS: &[&str] = ferry::connectors::kustomer::OBJECTS;

/// Asserts every raw view holds exactly the simulator's ids, once each.
pub fn assert_complete(sim: &Sim, dir: &Path) {
    let conn = db(dir);
    for object in OBJECTS {
        let got = strings(
            &conn,
            &format!("SELECT id FROM raw_kustomer_{object} ORDER BY id"),
        );
        let want = sim.ids(object);
        assert_eq!(
            got.len(),
            want.len(),
            "{object}: landed {} of {}",
            got.len(),
            want.len()
        );
        assert!(got == want, "{object}: ids differ from the simulator's");
        assert_eq!(
            sim.stats()["objects"][object].as_u64().unwrap() as usize,
            got.len(),
            "{object} vs stats"
        );
    }
}

/// A vendor spec from `../shared/reference/` (or `FERRY_REFERENCE`); the
/// outside-reference tests fail loudly without it.
pub fn reference(file: &str) -> PathBuf {
    let p = std::env::var_os("FERRY_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../shared/reference"))
        .join(file);
    assert!(
        p.exists(),
        "{} is missing: the outside-reference tests read the vendors' specs from ../shared/reference/ \
         (or FERRY_REFERENCE); they are never copied into the project",
        p.display()
    );
    p
}

/// A path under `~/.cache`, where `.ci/run` installs the outside tools.
pub fn home_cache(rel: &str) -> PathBuf {
    PathBuf::from(std::env::var("HOME").unwrap())
        .join(".cache")
        .join(rel)
}

/// Prism (npm `@stoplight/prism-cli`), installed pinned by `.ci/run`.
pub fn prism_bin() -> PathBuf {
    let p = std::env::var_os("FERRY_PRISM")
        .map(PathBuf::from)
        .unwrap_or_else(|| home_cache("ferry-prism/node_modules/.bin/prism"));
    assert!(
        p.exists(),
        "{} is missing: run `bash .ci/run` once, or `npm install --prefix ~/.cache/ferry-prism @stoplight/prism-cli@5.16.0`, or set FERRY_PRISM",
        p.display()
    );
    p
}

/// A Prism validating proxy with `spec` in front of `upstream`, on a free
/// loopback port; it logs every request and every violation to a file
/// (`log()`). Killed on drop.
pub struct Prism {
    child: Child,
    pub url: String,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Prism {
    pub fn start(spec: &Path, upstream: &str) -> Prism {
        let dir = tempfile::tempdir().unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let log_path = dir.path().join("prism.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new(prism_bin())
            .args([
                "proxy",
                spec.to_str().unwrap(),
                upstream,
                "-p",
                &port.to_string(),
                "-h",
                "127.0.0.1",
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start prism");
        let started = std::time::Instant::now();
        while !std::fs::read_to_string(&log_path)
            .unwrap_or_default()
            .contains("Prism is listening")
        {
            assert!(
                started.elapsed().as_secs() < 120,
                "prism did not start: {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Prism {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log_path,
            _dir: dir,
        }
    }

    /// Everything Prism logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Stops the proxy (what it logged stays readable).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Kustomer's spec with `/v1` on every path and a root server: Prism
/// ignores a server's base path, and the API's paths start with `/v1`.
pub fn kustomer_spec_v1(dir: &Path) -> PathBuf {
    let spec = reference("kustomer-openapi.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    let paths: serde_json::Map<String, serde_json::Value> = v["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(p, o)| (format!("/v1{p}"), o.clone()))
        .collect();
    v["paths"] = serde_json::Value::Object(paths);
    v["servers"] = serde_json::json!([{"url": "/"}]);
    let out = dir.join("kustomer-v1.json");
    std::fs::write(&out, v.to_string()).unwrap();
    out
}

/// A pair of pass-through proxies around Prism, for a simulator that
/// builds absolute links from `Host` and takes raw uploads. Prism's proxy
/// mode drops the client's `Host` and re-encodes a non-JSON body as UTF-8
/// text (../shared/reference/README.md). So ferry talks to the *front*
/// (`url`), which keeps each non-JSON body aside under a header; Prism
/// forwards to the *back*, which puts the original bytes back and sets
/// `Host` to the front's address, so every link the simulator returns
/// names the host ferry asked. Killed on drop (its runtime ends).
pub struct RawProxy {
    pub url: String,
    back: String,
    rt: tokio::runtime::Runtime,
    stash: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, bytes::Bytes>>>,
}

const RAW_HEADER: &str = "x-ferry-test-raw";

impl RawProxy {
    /// Binds both ports; `connect` then points the front at Prism and the
    /// back at the simulator.
    pub fn bind() -> RawProxy {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let port = || {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        RawProxy {
            url: format!("http://127.0.0.1:{}", port()),
            back: format!("http://127.0.0.1:{}", port()),
            rt,
            stash: Default::default(),
        }
    }

    /// The address Prism should forward to.
    pub fn back_url(&self) -> &str {
        &self.back
    }

    /// Serves: front → `prism`, back → `sim`.
    pub fn connect(&self, prism: &str, sim: &str) {
        let front_host = self.url.trim_start_matches("http://").to_string();
        for (listen, upstream, front) in [
            (self.url.clone(), prism.to_string(), true),
            (self.back.clone(), sim.to_string(), false),
        ] {
            let stash = self.stash.clone();
            let front_host = front_host.clone();
            let addr: std::net::SocketAddr = listen.trim_start_matches("http://").parse().unwrap();
            self.rt.spawn(async move {
                let client = reqwest::Client::new();
                let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
                    let (client, upstream, stash, front_host) = (
                        client.clone(),
                        upstream.clone(),
                        stash.clone(),
                        front_host.clone(),
                    );
                    async move { relay(req, &client, &upstream, &stash, front, &front_host).await }
                });
                let l = tokio::net::TcpListener::bind(addr).await.unwrap();
                axum::serve(l, app).await.unwrap();
            });
        }
    }
}

async fn relay(
    req: axum::extract::Request,
    client: &reqwest::Client,
    upstream: &str,
    stash: &std::sync::Mutex<std::collections::HashMap<String, bytes::Bytes>>,
    front: bool,
    front_host: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = req.into_parts();
    let mut bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in &parts.headers {
        if !matches!(
            k.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            headers.insert(k.clone(), v.clone());
        }
    }
    let json = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|c| c.contains("json"));
    if front && !bytes.is_empty() && !json {
        let key = format!("{}", stash.lock().unwrap().len() + 1);
        stash.lock().unwrap().insert(key.clone(), bytes.clone());
        headers.insert(RAW_HEADER, key.parse().unwrap());
    }
    if !front {
        if let Some(key) = parts.headers.get(RAW_HEADER).and_then(|v| v.to_str().ok()) {
            if let Some(raw) = stash.lock().unwrap().get(key) {
                bytes = raw.clone();
            }
        }
        headers.remove(RAW_HEADER);
        headers.insert("host", front_host.parse().unwrap());
    }
    let resp = client
        .request(parts.method.clone(), format!("{upstream}{path}"))
        .headers(headers)
        .body(bytes)
        .send()
        .await;
    let Ok(resp) = resp else {
        return (axum::http::StatusCode::BAD_GATEWAY, "relay failed").into_response();
    };
    let status = resp.status();
    let mut out = axum::http::Response::builder().status(status.as_u16());
    for (k, v) in resp.headers() {
        if !matches!(
            k.as_str(),
            "content-length" | "connection" | "transfer-encoding"
        ) {
            out = out.header(k, v);
        }
    }
    let body = resp.bytes().await.unwrap_or_default();
    out.body(axum::body::Body::from(body)).unwrap()
}

/// Zendesk's official Support API spec as Prism can hold it: a root
/// server (Prism ignores a server's host) and every path also with the
/// `.json` suffix real `next_page` links carry. Text-level, path block by
/// path block, so nothing of the spec itself changes.
pub fn zendesk_spec_for_prism(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(reference("zendesk-openapi.yaml")).unwrap();
    let mut out = String::new();
    let mut in_paths = false;
    let mut in_servers = false;
    let mut block: Vec<&str> = Vec::new();
    let flush = |block: &mut Vec<&str>, out: &mut String| {
        if block.is_empty() {
            return;
        }
        for l in block.iter() {
            out.push_str(l);
            out.push('\n');
        }
        let key = block[0].trim_end().trim_end_matches(':');
        out.push_str(&format!("{key}.json:\n"));
        for l in &block[1..] {
            out.push_str(l);
            out.push('\n');
        }
        block.clear();
    };
    for line in text.lines() {
        let top = !line.starts_with(' ') && !line.is_empty();
        if top {
            flush(&mut block, &mut out);
            in_paths = line.starts_with("paths:");
            in_servers = line.starts_with("servers:");
            out.push_str(line);
            out.push('\n');
            if in_servers {
                out.push_str("  - url: /\n");
            }
            continue;
        }
        if in_servers {
            continue;
        }
        if in_paths {
            if line.starts_with("  /") {
                flush(&mut block, &mut out);
            }
            if line.starts_with("  /") || !block.is_empty() {
                block.push(line);
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    flush(&mut block, &mut out);
    let path = dir.join("zendesk-prism.yaml");
    std::fs::write(&path, out).unwrap();
    path
}

/// Headless Chromium (Debian's package, or `FERRY_CHROMIUM`).
pub fn chromium() -> String {
    let c = std::env::var("FERRY_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&c).exists(),
        "headless Chromium is needed for this test: apt-get install chromium (or set FERRY_CHROMIUM)"
    );
    c
}

/// Headless, offline, no first-run noise.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The DOM Chromium builds from `url` (after its scripts, if any).
pub fn chromium_dom(url: &str, profile: &Path) -> String {
    let out = Command::new(chromium())
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The text of the element with id `id` in `html`, up to its first child
/// (`<td id="x" class="n">12</td>` → "12").
pub fn text_by_id(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let open = at + html[at..].find('>')? + 1;
    let end = html[open..].find('<')?;
    Some(html[open..open + end].to_string())
}

/// `ferry serve` on a free port of 127.0.0.1 for `dir`, killed on drop.
pub struct Serve {
    child: Child,
    pub url: String,
}

impl Serve {
    pub fn start(dir: &Path) -> Serve {
        let mut child = ferry_command(dir, &["serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("ferry serve said: {line}"))
            .to_string();
        Serve { child, url }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
