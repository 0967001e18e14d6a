//! The storage host behind Kustomer attachment links. Kustomer's spec
//! gives an attachment's bytes as `links.related`, a presigned S3 URL that
//! expires (its example: `X-Amz-Algorithm=AWS4-HMAC-SHA256`,
//! `X-Amz-Expires=600`). This fake serves those links on a port of its
//! own — another origin, as S3 is — and behaves as S3 does with them: a
//! request that also carries an `Authorization` header is refused with 400
//! ("Only one auth mechanism allowed"), an expired or altered link with
//! 403. Nothing here counts against the API's rate limit.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::data::Kind;
use super::records::{attachment_file, parse_id};
use super::SimState;

/// Seconds a link stays valid, as in the spec's example.
pub const LINK_SECS: i64 = 600;
const BUCKET: &str = "kustomer-sim-attachments";

/// Bucket of the presigned POSTs a destination org hands out.
pub const UPLOAD_BUCKET: &str = "kustomer-sim-uploads";

pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route(&format!("/{BUCKET}/{{id}}"), get(object))
        .route(&format!("/{UPLOAD_BUCKET}"), axum::routing::post(upload))
        .route(&format!("/{UPLOAD_BUCKET}/{{id}}"), get(uploaded))
        .route("/cdn/inline/{name}", get(inline_image))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(state)
}

/// The base64 policy of attachment `id`'s presigned POST: its key and the
/// largest body it admits (`content-length-range`).
pub fn upload_policy(id: &str, len: u64) -> String {
    use base64::Engine;
    let p = json!({"expiration": (chrono::Utc::now() + chrono::Duration::seconds(LINK_SECS)).to_rfc3339(),
        "conditions": [{"bucket": UPLOAD_BUCKET}, ["starts-with", "$key", format!("attachments/sim/{id}-")],
                       ["content-length-range", 0, len], {"x-amz-meta-attachment-id": id}]});
    base64::engine::general_purpose::STANDARD.encode(p.to_string())
}

/// A presigned link to an uploaded attachment's bytes.
pub fn uploaded_link(storage: &str, id: &str) -> String {
    format!(
        "{storage}/{UPLOAD_BUCKET}/{id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={}",
        upload_signature(id)
    )
}

async fn uploaded(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if q.get("X-Amz-Signature") != Some(&upload_signature(&id)) {
        return s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        );
    }
    match st.store.lock().unwrap().uploads.get(&id) {
        Some(b) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            b.clone(),
        )
            .into_response(),
        None => s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
    }
}

/// The CDN path inline images of message bodies are served from: the
/// simulator writes `https://cdn.kustomer.test/inline/<m>.png` into its
/// bodies and serves them under this host's `/cdn/inline/` (another
/// origin than the API, as a CDN is).
pub const CDN_PREFIX: &str = "https://cdn.kustomer.test/inline/";

/// Bodies with their inline images' links on this host.
pub fn cdn_links(storage: &str, v: &mut Value) {
    match v {
        Value::String(s) if s.contains(CDN_PREFIX) => {
            *s = s.replace(CDN_PREFIX, &format!("{storage}/cdn/inline/"));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| cdn_links(storage, x)),
        Value::Object(o) => o.values_mut().for_each(|x| cdn_links(storage, x)),
        _ => {}
    }
}

/// Message `m`'s inline image, for [`inline_image_bytes`].
fn inline_message(name: &str) -> Option<u32> {
    name.strip_suffix(".png")?.parse().ok()
}

/// The bytes of message `m`'s inline image: a PNG of its own (the
/// message number follows the image data), so each has its own SHA-256.
pub fn inline_image_bytes(m: u32) -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    v.extend((0..512u32).map(|i| (i * 17 % 253) as u8));
    v.extend(format!("inline image of message {m}").bytes());
    v
}

/// Whether message `m`'s inline image is gone from the CDN (deleted since
/// the message was written): one in ten, so a migration meets a 404.
pub fn inline_image_gone(m: u32) -> bool {
    m.is_multiple_of(40)
}

/// `GET /cdn/inline/<m>.png`: a public CDN object, like S3 refusing a
/// request that also carries an API credential.
async fn inline_image(headers: HeaderMap, Path(name): Path<String>) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Only one auth mechanism allowed",
        );
    }
    match inline_message(&name) {
        Some(m) if !inline_image_gone(m) => {
            ([(header::CONTENT_TYPE, "image/png")], inline_image_bytes(m)).into_response()
        }
        _ => s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
    }
}

/// The signature of attachment `id`'s presigned POST.
pub fn upload_signature(id: &str) -> String {
    hex::encode(Sha256::digest(format!("sim-upload-key/{id}")))[..32].to_string()
}

/// S3's presigned POST: the policy's fields, then `file` (S3 reads the
/// file as the last part). 204 on success, as S3 answers without
/// `success_action_status`; the bytes become the attachment's.
async fn upload(
    State(st): State<Arc<SimState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Only one auth mechanism allowed",
        );
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(params) = ct.strip_prefix("multipart/form-data") else {
        return s3_error(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "Bucket POST must be of the enclosure-type multipart/form-data",
        );
    };
    let parts = match crate::sim::multipart_parts(params, &body) {
        Ok(p) => p,
        Err(e) => return s3_error(StatusCode::BAD_REQUEST, "MalformedPOSTRequest", &e),
    };
    let field = |n: &str| {
        parts
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| String::from_utf8_lossy(v).to_string())
    };
    if parts.last().map(|(k, _)| k.as_str()) != Some("file") {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "POST requires exactly one file upload per request, as the last field",
        );
    }
    let Some(id) = field("x-amz-meta-attachment-id") else {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$x-amz-meta-attachment-id\"]");
    };
    if field("x-amz-signature").as_deref() != Some(upload_signature(&id).as_str()) {
        return s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        );
    }
    let bytes = parts.last().map(|(_, b)| b.clone()).unwrap_or_default();
    let mut s = st.store.lock().unwrap();
    let declared = s
        .get(&id)
        .and_then(|r| r["attributes"]["contentLength"].as_u64());
    let Some(declared) = declared else {
        return s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Invalid according to Policy: no such attachment",
        );
    };
    if bytes.len() as u64 > declared {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
        );
    }
    s.mark_uploaded(&id, bytes);
    StatusCode::NO_CONTENT.into_response()
}

fn signature(aid: &str, date: &str) -> String {
    hex::encode(Sha256::digest(format!("sim-signing-key/{aid}/{date}")))[..32].to_string()
}

/// A presigned link to an attachment's bytes, valid for [`LINK_SECS`] from now.
pub fn presigned(storage: &str, aid: &str) -> String {
    let date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    format!(
        "{storage}/{BUCKET}/{aid}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=SIMKEY%2F{}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date={date}&X-Amz-Expires={LINK_SECS}&X-Amz-SignedHeaders=host&X-Amz-Signature={}",
        &date[..8],
        signature(aid, &date)
    )
}

/// Sets a fresh presigned `links.related` on an attachment record.
pub fn sign_record(st: &SimState, mut v: Value) -> Value {
    if let (Some(storage), Some(aid)) = (st.storage_url.get(), v["id"].as_str().map(str::to_string))
    {
        v["links"]["related"] = json!(presigned(storage, &aid));
    }
    v
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/xml")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"),
    )
        .into_response()
}

async fn object(
    State(st): State<Arc<SimState>>,
    Path(aid): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        );
    }
    let date = q.get("X-Amz-Date").cloned().unwrap_or_default();
    if q.get("X-Amz-Signature") != Some(&signature(&aid, &date)) {
        return s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        );
    }
    let issued = chrono::NaiveDateTime::parse_from_str(&date, "%Y%m%dT%H%M%SZ")
        .map(|d| d.and_utc().timestamp())
        .unwrap_or(0);
    let expires = q
        .get("X-Amz-Expires")
        .and_then(|e| e.parse::<i64>().ok())
        .unwrap_or(0);
    if chrono::Utc::now().timestamp() > issued + expires {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired");
    }
    let org = st.org.read().unwrap();
    let Some(idx) = parse_id(&org, Kind::Attachments, &aid) else {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        );
    };
    let (_, ctype, bytes) = attachment_file(&org, idx);
    ([(header::CONTENT_TYPE, ctype)], bytes).into_response()
}
