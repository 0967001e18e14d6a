//! The Help Center into Kustomer's knowledge base, as the guide "Publish
//! help content with the knowledge base API"
//! (developer.kustomer.com/docs/guides/knowledge-base-api) does it:
//! categories created once (parents first) and remembered by the source
//! id; `POST /v1/kb/articles` (the article and an empty draft in its source
//! language), `PUT /v1/kb/articles/{id}/versions/{lang}` to fill a draft
//! and, with `publishedAt`, publish it; `POST …/versions/{lang}` to open
//! a draft in another language. Request bodies beyond the guide's flow
//! are not published (kustomer-docs-2026.md §2d): the fields sent are
//! those the reference names on each object, and `ferry probe` reads the
//! knowledge base with the key before a load.
//!
//! A category or article has no external id, so a record a crashed run
//! created but never recorded is found by what it holds before anything
//! is created: a category by its title under its parent, an article by
//! its source-language title in its category, among those no other
//! source record became.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::send::all_pages;
use super::settings::Settings;
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane, Payload};
use crate::load::{LoadCtx, Row, RowResult};

/// The knowledge base a load fills, and what it held before this run.
#[derive(Debug, Default)]
pub struct Target {
    pub id: String,
    pub root: String,
    /// Where the knowledge base's pages are served (`https://<host>`).
    pub public_url: String,
    /// Article id → its `hash` (the short id its URLs end with).
    hashes: HashMap<String, String>,
    /// (parent id, title lower case) → ids of categories no source
    /// collection is recorded as, oldest first.
    categories: HashMap<(String, String), Vec<String>>,
    /// Source collection → Kustomer category, created in this run.
    created: HashMap<String, String>,
    /// (category id or "", source title lower case) → unrecorded articles.
    articles: HashMap<(String, String), Vec<String>>,
}

/// The per-load knowledge-base state of a destination.
pub type Kb = tokio::sync::OnceCell<Mutex<Target>>;

/// Ids ferry_id_map already records for a phase (not to be adopted).
fn recorded(cx: &LoadCtx, phase: &str) -> Result<HashSet<String>> {
    let conn = cx.db.lock().unwrap();
    let mut stmt = conn
        .prepare("SELECT dest_id FROM ferry_id_map WHERE dest = 'kustomer' AND dest_object = ?")?;
    let rows = stmt.query_map([phase], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The knowledge base named by `destination.knowledge_base`, else the
/// org's default one.
pub async fn knowledge_base(client: &ApiClient, wanted: &str) -> Result<Value> {
    let all = all_pages(client, "/v1/kb/knowledge-bases").await?;
    let found = all.iter().find(|b| {
        if wanted.is_empty() {
            b["attributes"]["default"] == true
        } else {
            b["id"] == wanted
        }
    });
    let Some(b) = found else {
        let names: Vec<String> = all
            .iter()
            .map(|b| {
                format!(
                    "{} ({})",
                    b["id"].as_str().unwrap_or("?"),
                    b["attributes"]["name"].as_str().unwrap_or("")
                )
            })
            .collect();
        return Err(FerryError::Other(if wanted.is_empty() {
            format!("Kustomer lists no default knowledge base; set destination.knowledge_base to one of: {}", names.join(", "))
        } else {
            format!("destination.knowledge_base = {wanted:?} is not a knowledge base of this org; it has: {}", names.join(", "))
        }));
    };
    Ok(b.clone())
}

/// Where a knowledge base's pages are served: `destination.kb_public_url`,
/// else `https://<subdomain>.kustomer.help` (US pod) or `.kustomer.support`
/// (EU pod, `api.prod2…`), as the reference's "Create Knowledge Base"
/// says (kustomer-docs-2026.md §2b); a custom domain needs the setting.
pub fn public_url(s: &Settings, kb: &Value) -> String {
    if !s.kb_public_url.is_empty() {
        return s.kb_public_url.trim_end_matches('/').to_string();
    }
    let tld = if s.base_url.contains("prod2") {
        "kustomer.support"
    } else {
        "kustomer.help"
    };
    format!(
        "https://{}.{tld}",
        kb["attributes"]["subdomain"].as_str().unwrap_or("help")
    )
}

/// An article's public URL in a language: `<site>/<lang>/<slug>-<hash>`
/// (Kustomer's own help centre shows the shape:
/// help.kustomer.com/en_us/multilingual-knowledge-base-BJJPSoKcM).
pub fn article_url(site: &str, lang: &str, slug: &str, hash: &str) -> String {
    format!("{site}/{lang}/{slug}-{hash}")
}

async fn target<'a>(cx: &LoadCtx, kb: &'a Kb, s: &Settings) -> Result<&'a Mutex<Target>> {
    kb.get_or_try_init(|| async {
        let base = knowledge_base(&cx.client, &s.knowledge_base).await?;
        let id = base["id"].as_str().unwrap_or_default().to_string();
        let mut t = Target {
            id: id.clone(),
            root: base["attributes"]["rootCategory"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            public_url: public_url(s, &base),
            ..Target::default()
        };
        let known = recorded(cx, "kb_categories")?;
        for c in all_pages(
            &cx.client,
            &format!("/v1/kb/categories?knowledgeBaseId={id}"),
        )
        .await?
        {
            let cid = c["id"].as_str().unwrap_or_default().to_string();
            if known.contains(&cid) || c["attributes"]["isRoot"] == true {
                continue;
            }
            let key = (
                c["attributes"]["parent"].as_str().unwrap_or("").to_string(),
                c["attributes"]["title"]
                    .as_str()
                    .unwrap_or("")
                    .to_lowercase(),
            );
            t.categories.entry(key).or_default().push(cid);
        }
        let known = recorded(cx, "kb_articles")?;
        for a in all_pages(&cx.client, "/v1/kb/articles").await? {
            let aid = a["id"].as_str().unwrap_or_default().to_string();
            if known.contains(&aid) {
                continue;
            }
            let source = a["attributes"]["source"].as_str().unwrap_or("");
            let title = a["attributes"]["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["lang"] == source)
                .and_then(|v| v["title"].as_str())
                .unwrap_or("")
                .to_lowercase();
            let cat = a["attributes"]["categories"][0]
                .as_str()
                .unwrap_or("")
                .to_string();
            t.articles.entry((cat, title)).or_default().push(aid);
        }
        Ok::<_, FerryError>(Mutex::new(t))
    })
    .await
}

/// `html` with each `ferry-image:<sha256>` (an inline image the transform
/// named by its bytes, downloaded at extraction) replaced by the image
/// itself, a `data:` URI: Kustomer documents no knowledge-base image
/// upload, and Intercom's signed CDN link expires. An article is at most
/// 15 MB (help.kustomer.com, "Create knowledge base articles"), which the
/// destination enforces.
pub fn with_images(ws: &Path, html: &str) -> Result<String> {
    use base64::Engine;
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(IMAGE) {
        out.push_str(&rest[..at]);
        let tail = &rest[at + IMAGE.len()..];
        let end = tail
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(tail.len());
        let sha = &tail[..end];
        let file = crate::land::attachment_path(ws, sha);
        let bytes = std::fs::read(&file)
            .map_err(|e| FerryError::io(format!("reading inline image {}", file.display()), e))?;
        out.push_str(&format!(
            "data:{};base64,{}",
            image_type(&bytes),
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        ));
        rest = &tail[end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// How the transform names a link to another article of the Help Center:
/// `ferry-article:<source article>:<lang>:<slug>`.
const ARTICLE: &str = "ferry-article:";

/// Each link to another Help Center article in `body`'s htmlBody replaced
/// by that article's Kustomer URL (every article exists once kb_articles
/// is done); an article not loaded is the row's error, retried at the
/// next load.
async fn with_links(
    cx: &LoadCtx,
    kb: &Kb,
    s: &Settings,
    body: &mut Value,
) -> Result<std::result::Result<(), String>> {
    let Some(html) = body["htmlBody"].as_str().map(str::to_string) else {
        return Ok(Ok(()));
    };
    if !html.contains(ARTICLE) {
        return Ok(Ok(()));
    }
    let t = target(cx, kb, s).await?;
    let mut out = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(at) = rest.find(ARTICLE) {
        out.push_str(&rest[..at]);
        let tail = &rest[at + ARTICLE.len()..];
        let end = tail.find(['"', '#']).unwrap_or(tail.len());
        let mut parts = tail[..end].splitn(3, ':');
        let (src, lang, slug) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let dest: Option<String> = {
            let conn = cx.db.lock().unwrap();
            conn.query_row(
                "SELECT dest_id FROM ferry_id_map WHERE dest = 'kustomer' AND dest_object = 'kb_articles' AND source_id = ?",
                [src],
                |r| r.get(0),
            )
            .ok()
        };
        let Some(dest) = dest else {
            return Ok(Err(format!(
                "it links to Intercom article {src}, which is not loaded: load it (ferry load) and this version follows"
            )));
        };
        let mut t = t.lock().await;
        let hash = match t.hashes.get(&dest) {
            Some(h) => h.clone(),
            None => {
                let a = cx
                    .client
                    .get_json(&format!("/v1/kb/articles/{dest}"))
                    .await?;
                let h = a["data"]["attributes"]["hash"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                t.hashes.insert(dest.clone(), h.clone());
                h
            }
        };
        out.push_str(&article_url(&t.public_url, lang, slug, &hash));
        rest = &tail[end..];
    }
    out.push_str(rest);
    body["htmlBody"] = json!(out);
    Ok(Ok(()))
}

/// How the transform names an inline image in a body.
const IMAGE: &str = "ferry-image:";

/// An image's media type, from its first bytes.
fn image_type(b: &[u8]) -> &'static str {
    match b {
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        [0xff, 0xd8, ..] => "image/jpeg",
        [b'G', b'I', b'F', ..] => "image/gif",
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => "image/webp",
        _ if b.starts_with(b"<svg") || b.starts_with(b"<?xml") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// A version body as sent: ferry's own keys out, nulls out, images in.
fn version_body(ws: &Path, payload: &Value) -> Result<Value> {
    let mut body = payload.clone();
    let publish = body["ferryPublish"] == true;
    if let Some(o) = body.as_object_mut() {
        o.remove("ferrySource");
        o.remove("ferryPublish");
        o.retain(|_, x| !x.is_null());
    }
    if let Some(html) = body["htmlBody"].as_str() {
        body["htmlBody"] = json!(with_images(ws, html)?);
    }
    if publish {
        body["publishedAt"] = json!(chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string());
    }
    Ok(body)
}

/// A request's answer: the body, or the refusal as a row result.
async fn call(
    client: &ApiClient,
    method: Method,
    path: &str,
    body: &Value,
) -> Result<std::result::Result<Value, (Option<u16>, String)>> {
    match client
        .send(method, path, Some(Payload::Json(body)), Lane::Standard)
        .await
    {
        Ok(r) => Ok(Ok(serde_json::from_slice(&r.body).unwrap_or(Value::Null))),
        Err(FerryError::Http { status, body, .. }) => Ok(Err((Some(status), body))),
        Err(e) => Err(e),
    }
}

/// A collection's category: the one found under its parent by title, or
/// created there. `path_arg` is the parent collection, resolved from this
/// run's creations where the query could not (same phase, earlier row).
pub async fn category(cx: &LoadCtx, kb: &Kb, s: &Settings, row: &Row) -> Result<RowResult> {
    let t = target(cx, kb, s).await?;
    let mut body: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let mut t = t.lock().await;
    let parent = match (body["parent"].as_str(), row.path_arg.as_deref()) {
        (Some(p), _) => p.to_string(),
        (None, Some(src)) => match t.created.get(src) {
            Some(p) => p.clone(),
            None => {
                return Ok(Err((
                    None,
                    format!("its parent collection {src} has no category (it failed or is held): fix it and run `ferry load` again"),
                )))
            }
        },
        (None, None) => t.root.clone(),
    };
    let title = body["title"].as_str().unwrap_or("").to_lowercase();
    let found = t
        .categories
        .get_mut(&(parent.clone(), title))
        .and_then(|ids| (!ids.is_empty()).then(|| ids.remove(0)));
    let id = match found {
        Some(id) => id,
        None => {
            body["parent"] = json!(parent);
            body["knowledgeBaseId"] = json!(t.id);
            match call(&cx.client, Method::POST, "/v1/kb/categories", &body).await? {
                Ok(v) => v["data"]["id"].as_str().unwrap_or_default().to_string(),
                Err(e) => return Ok(Err(e)),
            }
        }
    };
    if id.is_empty() {
        return Ok(Err((None, "the response carried no id".into())));
    }
    t.created.insert(row.source_id.clone(), id.clone());
    Ok(Ok(id))
}

/// An article in its category with its source-language draft filled
/// (title, body; not published: kb_versions publishes), or the unrecorded
/// one a crashed run made, found by that title.
pub async fn article(cx: &LoadCtx, kb: &Kb, s: &Settings, row: &Row) -> Result<RowResult> {
    let t = target(cx, kb, s).await?;
    let v: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let draft = v["ferryDraft"].clone();
    let lang = v["source"].as_str().unwrap_or("").to_string();
    let cat = v["categories"][0].as_str().unwrap_or("").to_string();
    let title = draft["title"].as_str().unwrap_or("").to_lowercase();
    let (kb_id, found) = {
        let mut t = t.lock().await;
        // By its title, else an untitled one: a lost answer's article,
        // created with its empty draft and never filled.
        let mut found = None;
        for key in [(cat.clone(), title), (cat, String::new())] {
            found = t
                .articles
                .get_mut(&key)
                .and_then(|ids| (!ids.is_empty()).then(|| ids.remove(0)));
            if found.is_some() {
                break;
            }
        }
        (t.id.clone(), found)
    };
    let id = match found {
        Some(id) => id,
        None => {
            let body = json!({"categories": v["categories"], "source": lang, "scope": v["scope"],
                              "knowledgeBases": [{"id": kb_id, "featured": false}]});
            match call(&cx.client, Method::POST, "/v1/kb/articles", &body).await? {
                Ok(a) => a["data"]["id"].as_str().unwrap_or_default().to_string(),
                Err(e) => return Ok(Err(e)),
            }
        }
    };
    if id.is_empty() {
        return Ok(Err((None, "the response carried no id".into())));
    }
    let draft = version_body(&cx.ws, &draft)?;
    let path = format!("/v1/kb/articles/{id}/versions/{lang}");
    if let Err(e) = call(&cx.client, Method::PUT, &path, &draft).await? {
        return Ok(Err(e));
    }
    Ok(Ok(id))
}

/// One language of an article: the source language's draft filled again
/// and published; another language's draft opened (an open one is
/// filled), filled and, if Intercom's is published, published. The id
/// recorded is `article/lang`.
pub async fn version(cx: &LoadCtx, kb: &Kb, s: &Settings, row: &Row) -> Result<RowResult> {
    let article = row.path_arg.clone().unwrap_or_default();
    let lang = row.external_id.clone().unwrap_or_default();
    let payload: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let is_source = payload["ferrySource"] == true;
    let mut body = version_body(&cx.ws, &payload)?;
    if let Err(e) = with_links(cx, kb, s, &mut body).await? {
        return Ok(Err((None, e)));
    }
    let path = format!("/v1/kb/articles/{article}/versions/{lang}");
    if !is_source {
        match call(&cx.client, Method::POST, &path, &json!({})).await? {
            // 409: a draft in this language is open (a resend): fill it.
            Ok(_) | Err((Some(409), _)) => {}
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(match call(&cx.client, Method::PUT, &path, &body).await? {
        Ok(_) => Ok(format!("{article}/{lang}")),
        Err(e) => Err(e),
    })
}

/// A changed version (a cutover): a new draft in its language, filled
/// and published as Intercom's is. A published version stays what
/// readers see until the new one is published.
pub async fn update_version(
    cx: &LoadCtx,
    kb: &Kb,
    s: &Settings,
    dest_id: &str,
    payload: &str,
) -> Result<RowResult> {
    let client = &cx.client;
    let Some((article, lang)) = dest_id.rsplit_once('/') else {
        return Ok(Err((None, format!("{dest_id} is not an article/lang id"))));
    };
    let mut body = version_body(&cx.ws, &serde_json::from_str(payload).unwrap_or_default())?;
    if let Err(e) = with_links(cx, kb, s, &mut body).await? {
        return Ok(Err((None, e)));
    }
    let path = format!("/v1/kb/articles/{article}/versions/{lang}");
    match call(client, Method::POST, &path, &json!({})).await? {
        Ok(_) | Err((Some(409), _)) => {}
        Err(e) => return Ok(Err(e)),
    }
    Ok(call(client, Method::PUT, &path, &body)
        .await?
        .map(|_| dest_id.to_string()))
}
