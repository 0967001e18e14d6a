//! The knowledge base of a Kustomer destination org (`ferry sim kustomer
//! --destination`), from Kustomer's Knowledge base API reference and its
//! guide "Publish help content with the knowledge base API"
//! (developer.kustomer.com/docs/guides/knowledge-base-api; summarised in
//! `../shared/reference/kustomer-docs-2026.md` §2):
//!
//! - An org has knowledge bases (`GET /v1/kb/knowledge-bases`), one of them
//!   `default: true`, each created with a root category. A knowledge base
//!   serves only the languages an admin turned on (help.kustomer.com,
//!   "Multilingual knowledge base"); the simulator's default org has the
//!   default language only, `--kb-languages` turns more on.
//! - Categories (`GET|POST /v1/kb/categories`): the guide creates each one
//!   once and keeps its own id → Kustomer id map. The create body is not
//!   published; its fields are those of the SDK's category object
//!   (`KUSKBCategory`: title, description, slug, lang) plus the parent and
//!   the knowledge base [unverified: `ferry probe` reads the list].
//! - Articles (`GET|POST /v1/kb/articles`, `GET|PUT /v1/kb/articles/{id}`):
//!   an article is a container of what every language shares
//!   (`categories`, `knowledgeBases`, `tags`, `scope`, `hash`, `source`);
//!   the create makes an empty draft in the source language. No DELETE:
//!   `PUT … {deleted: true}` soft-deletes.
//! - Versions (`POST|PUT|DELETE /v1/kb/articles/{id}/versions/{lang}`):
//!   title, htmlBody, slug and SEO fields live on versions, a series per
//!   language. `POST` opens a draft in a language, `PUT` fills the draft,
//!   and a `PUT` with `publishedAt` publishes it (the guide's "POST version
//!   → PUT draft + publishedAt"). Readers see only published versions.
//!
//! The reads of an article's versions are not published either: `GET
//! /v1/kb/articles/{id}` answers them under `versions` [unverified].

// Helpers return a ready HTTP error response as their Err (see routes.rs).
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::{error_response, SimState};

type St = State<Arc<SimState>>;

/// Keys of a category create (see the module comment).
const CATEGORY_KEYS: &[&str] = &[
    "title",
    "description",
    "slug",
    "lang",
    "parent",
    "knowledgeBaseId",
];
/// Keys of an article create or update: what all languages share.
const ARTICLE_KEYS: &[&str] = &[
    "categories",
    "knowledgeBases",
    "tags",
    "scope",
    "source",
    "deleted",
];
/// Keys of a version: its content and SEO fields, and `publishedAt`.
const VERSION_KEYS: &[&str] = &[
    "title",
    "htmlBody",
    "slug",
    "metaTitle",
    "metaDescription",
    "publishedAt",
];

/// The knowledge bases, categories and articles of the org.
#[derive(Debug, Default)]
pub struct Kb {
    pub bases: Vec<Value>,
    pub categories: Vec<Value>,
    pub articles: Vec<Value>,
    seq: u64,
}

impl Kb {
    /// An org's knowledge base as Kustomer sets one up: the default one, on
    /// the default brand, with its root category, serving `languages` (the
    /// first is the default language).
    pub fn new(languages: &[String]) -> Kb {
        let mut kb = Kb::default();
        let langs: Vec<String> = if languages.is_empty() {
            vec!["en_us".into()]
        } else {
            languages.to_vec()
        };
        let id = kb.next_id();
        let root = kb.next_id();
        kb.categories
            .push(json!({"type": "kb_category", "id": root, "attributes": {
            "title": "Root", "isRoot": true, "parent": null, "knowledgeBaseId": id,
            "lang": langs[0], "slug": "root", "description": ""}}));
        kb.bases.push(
            json!({"type": "kb_knowledge_base", "id": id, "attributes": {
            "name": "Help Center", "default": true, "subdomain": "sim", "defaultLanguage": langs[0],
            "languages": langs, "rootCategory": root}}),
        );
        kb
    }

    fn next_id(&mut self) -> String {
        self.seq += 1;
        format!("{:08x}{:016x}", 0x6b62_0000u64, self.seq)
    }

    fn base(&self, id: &str) -> Option<&Value> {
        self.bases.iter().find(|b| b["id"] == id)
    }

    fn category(&self, id: &str) -> Option<&Value> {
        self.categories.iter().find(|c| c["id"] == id)
    }

    fn article_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.articles
            .iter_mut()
            .find(|a| a["id"] == id && a["attributes"]["deleted"] != true)
    }

    fn languages_of(&self, bases: &[String]) -> Vec<String> {
        bases
            .iter()
            .filter_map(|b| self.base(b))
            .flat_map(|b| {
                b["attributes"]["languages"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|l| l.as_str().map(str::to_string))
            .collect()
    }
}

fn bad(detail: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, "bad_request", detail)
}

fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "Resource not found")
}

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// A JSON object whose keys are all in `allowed`, else the 400.
fn body_of(body: &[u8], allowed: &[&str]) -> Result<Map<String, Value>, Response> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| bad(&format!("Invalid request body: {e}")))?;
    let Value::Object(o) = v else {
        return Err(bad("The request body must be an object"));
    };
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(&format!("`{k}` is not allowed")));
    }
    Ok(o)
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    page: Option<usize>,
    #[serde(rename = "pageSize")]
    page_size: Option<usize>,
    #[serde(rename = "knowledgeBaseId")]
    knowledge_base_id: Option<String>,
}

fn page(path: &str, q: &ListQuery, all: Vec<Value>) -> Response {
    let page = q.page.unwrap_or(1).max(1);
    let size = q.page_size.unwrap_or(100).clamp(1, 100);
    let has_next = all.len() > page * size;
    let data: Vec<Value> = all.into_iter().skip((page - 1) * size).take(size).collect();
    let next = has_next.then(|| format!("{path}?page={}&pageSize={size}", page + 1));
    Json(json!({"data": data, "meta": {"page": page, "pageSize": size}, "links": {"next": next}}))
        .into_response()
}

fn count(st: &SimState, what: &str) {
    let mut s = st.store.lock().unwrap();
    *s.counts.entry(what.to_string()).or_default() += 1;
}

pub async fn bases(State(st): St, Query(q): Query<ListQuery>) -> Response {
    let all = st.store.lock().unwrap().kb.bases.clone();
    page("/v1/kb/knowledge-bases", &q, all)
}

pub async fn categories(State(st): St, Query(q): Query<ListQuery>) -> Response {
    let s = st.store.lock().unwrap();
    let all: Vec<Value> =
        s.kb.categories
            .iter()
            .filter(|c| {
                q.knowledge_base_id
                    .as_deref()
                    .is_none_or(|k| c["attributes"]["knowledgeBaseId"] == k)
            })
            .cloned()
            .collect();
    drop(s);
    page("/v1/kb/categories", &q, all)
}

pub async fn category(State(st): St, Path(id): Path<String>) -> Response {
    match st.store.lock().unwrap().kb.category(&id) {
        Some(c) => Json(json!({"data": c})).into_response(),
        None => not_found(),
    }
}

/// A category under `parent` (default: the knowledge base's root), in a
/// language the knowledge base serves.
pub async fn create_category(State(st): St, body: Bytes) -> Response {
    count(&st, "kb:category");
    let o = match body_of(&body, CATEGORY_KEYS) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut s = st.store.lock().unwrap();
    let kb = &mut s.kb;
    let title = o.get("title").and_then(Value::as_str).unwrap_or("").trim();
    if title.is_empty() || title.chars().count() > 255 {
        return bad("`title` is required (1 to 255 characters)");
    }
    let Some(base) = o
        .get("knowledgeBaseId")
        .and_then(Value::as_str)
        .and_then(|b| kb.base(b))
        .cloned()
    else {
        return bad("`knowledgeBaseId` must name a knowledge base of the org");
    };
    let base_id = base["id"].as_str().unwrap_or_default().to_string();
    let parent = match o.get("parent").and_then(Value::as_str) {
        Some(p) => match kb.category(p) {
            Some(c) if c["attributes"]["knowledgeBaseId"] == base_id.as_str() => p.to_string(),
            _ => {
                return bad(&format!(
                    "`parent` {p} is not a category of this knowledge base"
                ))
            }
        },
        None => base["attributes"]["rootCategory"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    let lang = o
        .get("lang")
        .and_then(Value::as_str)
        .unwrap_or_else(|| {
            base["attributes"]["defaultLanguage"]
                .as_str()
                .unwrap_or("en_us")
        })
        .to_string();
    if !kb
        .languages_of(std::slice::from_ref(&base_id))
        .contains(&lang)
    {
        return bad(&format!(
            "language {lang} is not turned on for this knowledge base"
        ));
    }
    let id = kb.next_id();
    let rec = json!({"type": "kb_category", "id": id, "attributes": {
        "title": title, "description": o.get("description").cloned().unwrap_or(json!("")),
        "slug": o.get("slug").cloned().unwrap_or(Value::Null), "lang": lang,
        "parent": parent, "knowledgeBaseId": base_id, "isRoot": false,
        "createdAt": now(), "updatedAt": now()}});
    kb.categories.push(rec.clone());
    (StatusCode::CREATED, Json(json!({"data": rec}))).into_response()
}

pub async fn articles(State(st): St, Query(q): Query<ListQuery>) -> Response {
    let s = st.store.lock().unwrap();
    let all: Vec<Value> =
        s.kb.articles
            .iter()
            .filter(|a| a["attributes"]["deleted"] != true)
            .cloned()
            .collect();
    drop(s);
    page("/v1/kb/articles", &q, all)
}

pub async fn article(State(st): St, Path(id): Path<String>) -> Response {
    match st.store.lock().unwrap().kb.article_mut(&id) {
        Some(a) => Json(json!({"data": a})).into_response(),
        None => not_found(),
    }
}

/// Checks the shared fields of an article; the knowledge bases it names.
fn check_article(kb: &Kb, o: &Map<String, Value>) -> Result<Vec<String>, Response> {
    let bases: Vec<String> = match o.get("knowledgeBases") {
        Some(Value::Array(list)) => list
            .iter()
            .map(|b| b["id"].as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("`knowledgeBases` items are {id, featured}"))?,
        Some(_) => return Err(bad("`knowledgeBases` must be an array")),
        None => kb
            .bases
            .iter()
            .filter(|b| b["attributes"]["default"] == true)
            .filter_map(|b| b["id"].as_str().map(str::to_string))
            .collect(),
    };
    if let Some(b) = bases.iter().find(|b| kb.base(b).is_none()) {
        return Err(bad(&format!("knowledge base {b} does not exist")));
    }
    if let Some(cats) = o.get("categories") {
        let Some(list) = cats.as_array() else {
            return Err(bad("`categories` must be an array of category ids"));
        };
        for c in list {
            let ok = c.as_str().and_then(|c| kb.category(c)).is_some_and(|c| {
                bases
                    .iter()
                    .any(|b| c["attributes"]["knowledgeBaseId"] == b.as_str())
            });
            if !ok {
                return Err(bad(&format!(
                    "category {c} is not a category of the article's knowledge bases"
                )));
            }
        }
    }
    Ok(bases)
}

/// The article and an empty draft in its source language.
pub async fn create_article(State(st): St, body: Bytes) -> Response {
    count(&st, "kb:article");
    let o = match body_of(&body, ARTICLE_KEYS) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut s = st.store.lock().unwrap();
    let kb = &mut s.kb;
    let bases = match check_article(kb, &o) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let default_lang = bases
        .first()
        .and_then(|b| kb.base(b))
        .and_then(|b| b["attributes"]["defaultLanguage"].as_str())
        .unwrap_or("en_us")
        .to_string();
    let source = o
        .get("source")
        .and_then(Value::as_str)
        .unwrap_or(&default_lang)
        .to_string();
    if !kb.languages_of(&bases).contains(&source) {
        return bad(&format!(
            "language {source} is not turned on for this knowledge base"
        ));
    }
    let id = kb.next_id();
    let hash = format!("{:06x}", kb.seq * 7919 % 0xff_ffff);
    let rec = json!({"type": "kb_article", "id": id, "attributes": {
        "categories": o.get("categories").cloned().unwrap_or(json!([])),
        "knowledgeBases": bases.iter().map(|b| json!({"id": b, "featured": false})).collect::<Vec<_>>(),
        "tags": o.get("tags").cloned().unwrap_or(json!([])),
        "scope": o.get("scope").cloned().unwrap_or(json!("public")),
        "source": source, "hash": hash, "deleted": false,
        "createdAt": now(), "updatedAt": now(),
        "versions": [{"lang": source, "status": "draft", "title": "", "htmlBody": "", "slug": null, "publishedAt": null}]}});
    kb.articles.push(rec.clone());
    (StatusCode::CREATED, Json(json!({"data": rec}))).into_response()
}

/// Shared fields changed, or `deleted: true` (the soft delete).
pub async fn update_article(State(st): St, Path(id): Path<String>, body: Bytes) -> Response {
    count(&st, "kb:article_update");
    let o = match body_of(&body, ARTICLE_KEYS) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut s = st.store.lock().unwrap();
    let kb = &mut s.kb;
    if o.contains_key("categories") || o.contains_key("knowledgeBases") {
        if let Err(r) = check_article(kb, &o) {
            return r;
        }
    }
    let Some(a) = kb.article_mut(&id) else {
        return not_found();
    };
    for (k, v) in o {
        a["attributes"][&k] = v;
    }
    a["attributes"]["updatedAt"] = json!(now());
    Json(json!({"data": a})).into_response()
}

/// A new draft in `lang`: refused while one is open (fill it instead).
pub async fn create_version(
    State(st): St,
    Path((id, lang)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    count(&st, "kb:version");
    let o = match body_of(if body.is_empty() { b"{}" } else { &body }, VERSION_KEYS) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut s = st.store.lock().unwrap();
    let kb = &mut s.kb;
    let Some(a) = kb.articles.iter().find(|a| a["id"] == id.as_str()) else {
        return not_found();
    };
    let bases: Vec<String> = a["attributes"]["knowledgeBases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["id"].as_str().map(str::to_string))
        .collect();
    if !kb.languages_of(&bases).contains(&lang) {
        return bad(&format!(
            "language {lang} is not turned on for this knowledge base"
        ));
    }
    let a = kb.article_mut(&id).unwrap();
    let versions = a["attributes"]["versions"].as_array_mut().unwrap();
    if versions
        .iter()
        .any(|v| v["lang"] == lang.as_str() && v["status"] == "draft")
    {
        return error_response(
            StatusCode::CONFLICT,
            "conflict",
            &format!("a draft in {lang} is open: update it"),
        );
    }
    let mut v = json!({"lang": lang, "status": "draft", "title": "", "htmlBody": "", "slug": null, "publishedAt": null});
    for (k, x) in o {
        if k != "publishedAt" {
            v[&k] = x;
        }
    }
    versions.push(v.clone());
    (StatusCode::CREATED, Json(json!({"data": v}))).into_response()
}

/// Fills the open draft in `lang`; with `publishedAt` it becomes the
/// published version (the one before it is kept as `superseded`).
pub async fn update_version(
    State(st): St,
    Path((id, lang)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    count(&st, "kb:version_update");
    let o = match body_of(&body, VERSION_KEYS) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut s = st.store.lock().unwrap();
    let Some(a) = s.kb.article_mut(&id) else {
        return not_found();
    };
    let versions = a["attributes"]["versions"].as_array_mut().unwrap();
    let Some(i) = versions
        .iter()
        .position(|v| v["lang"] == lang.as_str() && v["status"] == "draft")
    else {
        return error_response(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("no draft in {lang}: create a version first"),
        );
    };
    let mut draft = versions[i].clone();
    for (k, x) in &o {
        draft[k] = x.clone();
    }
    let publish = o.get("publishedAt").is_some_and(|p| !p.is_null());
    if publish {
        let title = draft["title"].as_str().unwrap_or("").trim().to_string();
        if title.is_empty() {
            return bad("a version needs a title to be published");
        }
        if chrono::DateTime::parse_from_rfc3339(draft["publishedAt"].as_str().unwrap_or(""))
            .is_err()
        {
            return bad("`publishedAt` must be an ISO 8601 time");
        }
        for v in versions.iter_mut() {
            if v["lang"] == lang.as_str() && v["status"] == "published" {
                v["status"] = json!("superseded");
            }
        }
        draft["status"] = json!("published");
    }
    versions[i] = draft.clone();
    Json(json!({"data": draft})).into_response()
}

/// Removes every version of `lang` (not the source language's).
pub async fn delete_versions(State(st): St, Path((id, lang)): Path<(String, String)>) -> Response {
    let mut s = st.store.lock().unwrap();
    let Some(a) = s.kb.article_mut(&id) else {
        return not_found();
    };
    if a["attributes"]["source"] == lang.as_str() {
        return bad("the source language's versions cannot be deleted");
    }
    a["attributes"]["versions"]
        .as_array_mut()
        .unwrap()
        .retain(|v| v["lang"] != lang.as_str());
    StatusCode::NO_CONTENT.into_response()
}
