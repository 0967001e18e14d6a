//! Embeds every file under `sql/` in the binary: a route's SQL directory
//! is picked up without a list to keep in step (see `transform::scripts`).

use std::path::Path;

fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read sql/")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            // A file added to any directory reruns the embedding.
            println!("cargo:rerun-if-changed={}", p.display());
            walk(&p, root, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("sql") | Some("csv")
        ) {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push(rel);
        }
    }
}

fn main() {
    // Read at run time, not with env!(): a cached build script compiled in
    // another clone (CI) would otherwise read that clone's, maybe deleted, sql/.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("sql");
    println!("cargo:rerun-if-changed=sql");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    let mut code = String::from("/// Every file under `sql/`: (path relative to `sql/`, text).\npub const FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed=sql/{f}");
        code.push_str(&format!(
            "    ({f:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/sql/{f}\"))),\n"
        ));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_sql.rs");
    std::fs::write(out, code).expect("write embedded_sql.rs");
}
