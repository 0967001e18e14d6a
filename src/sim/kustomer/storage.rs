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

pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route(&format!("/{BUCKET}/{{id}}"), get(object))
        .with_state(state)
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
