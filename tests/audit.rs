//! What auditors use: `ferry verify` (funnel, read-back, field-level
//! sample, JSON + HTML report), `ferry archive`, `ferry sql`, `ferry status`
//! and `ferry demo`, against real simulator processes.

mod common;

use std::path::Path;

use common::*;

fn migrated(customers: &str) -> (Sim, Sim, tempfile::TempDir, std::path::PathBuf) {
    let k = Sim::start(&["--seed", "41", "--customers", customers]);
    let z = Sim::zendesk(&[]);
    let (t, dir) = workspace_to(&k.url, &z.url, &[]);
    for step in [&["extract", "--no-progress"][..], &["transform"], &["load"]] {
        let out = ferry(&dir, step);
        assert!(out.status.success(), "{step:?}: {}", text(&out));
    }
    (k, z, t, dir)
}

fn latest_report(dir: &Path) -> serde_json::Value {
    let mut reports: Vec<_> = std::fs::read_dir(dir.join("reports"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    reports.sort();
    serde_json::from_slice(&std::fs::read(reports.last().unwrap()).unwrap()).unwrap()
}

#[test]
fn verify_accounts_for_every_record_and_reads_everything_back() {
    let (_k, z, _t, dir) = migrated("10");
    let out = ferry(&dir, &["verify", "--sample", "100000"]);
    assert!(out.status.success(), "{}", text(&out));
    let r = latest_report(&dir);
    assert_eq!(r["ok"], true);
    let conn = db(&dir);
    // The funnel's numbers are the database's.
    for f in r["funnel"].as_array().unwrap() {
        let object = f["object"].as_str().unwrap();
        let raw = count(
            &conn,
            &format!("SELECT count(*) FROM raw_kustomer_{object}"),
        );
        assert_eq!(f["extracted"].as_i64().unwrap(), raw, "{object}");
        let buckets: i64 = [
            "loaded",
            "failed",
            "held",
            "merged",
            "archived",
            "excluded",
            "pending",
            "unaccounted",
        ]
        .iter()
        .map(|k| f[k].as_i64().unwrap())
        .sum();
        assert_eq!(buckets, raw, "{object}: every record in exactly one bucket");
    }
    // With a sample larger than the data, every ticket was read back.
    let tickets = count(&conn, "SELECT count(*) FROM out_zendesk_tickets");
    assert_eq!(r["sample"]["tickets_checked"].as_i64().unwrap(), tickets);
    // Comments are compared per source message or note (a split body is
    // one message), split conversations across all their tickets.
    assert_eq!(
        r["sample"]["comments_checked"].as_i64().unwrap(),
        count(&conn, "SELECT (SELECT count(*) FROM raw_kustomer_messages) + (SELECT count(*) FROM raw_kustomer_notes)")
    );
    assert!(r["sample"]["attachments_checked"].as_i64().unwrap() > 0);
    assert_eq!(r["sample"]["mismatches"].as_array().unwrap().len(), 0);
    // Inline images are re-hosted: every downloaded image of a loaded
    // message is a file of its comment, whose <img> links Zendesk's copy;
    // one the CDN no longer had is a placeholder; no link to Kustomer is left.
    let loaded_images = count(
        &conn,
        "SELECT count(*) FROM stg_inline_images i JOIN stg_messages m USING (message_id)
         JOIN int_conversation_disposition d USING (conversation_id)
         WHERE d.disposition = 'load' AND i.sha256 IS NOT NULL",
    );
    assert!(loaded_images > 0);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM ferry_hosted_files WHERE dest = 'zendesk' AND source_id LIKE '%:img%'"),
        loaded_images
    );
    assert!(
        count(&conn, "SELECT count(*) FROM ferry_quarantine WHERE object = 'inline_images' AND reason LIKE '%HTTP 404%'") > 0,
        "an image gone from the CDN is recorded with its reason"
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM out_zendesk_comments WHERE html_body LIKE '%/cdn/inline/%' AND NOT html_body LIKE '%gone from Kustomer%' AND len(inline_image_ids) = 0"),
        0,
        "no comment keeps a Kustomer CDN link it has no file for"
    );
    assert_eq!(
        r["fields"]["inline_images_left"].as_array().unwrap().len(),
        0
    );
    assert!(!text(&out).contains("still link their inline images to the source"));
    // The meta tables say what they hold to whoever opens the file.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('ferry_id_map', 'ferry_runs', 'ferry_matched', 'ferry_load_errors') AND length(comment) > 20"
        ),
        4
    );
    // Reasons group: the full bodies of many messages are one reason, not
    // one per message; the report's reason rows are the table's groups.
    let contents = count(
        &conn,
        "SELECT count(*) FROM verify_records WHERE object = 'message_contents' AND state <> 'loaded'",
    );
    assert!(contents > 5, "{contents}");
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM verify_reasons WHERE object = 'message_contents'"
        ),
        1,
        "one group for {contents} message bodies"
    );
    assert_eq!(
        r["reasons"].as_array().unwrap().len() as i64,
        count(&conn, "SELECT least(count(*), 200) FROM verify_reasons")
    );
    for d in r["destination"].as_array().unwrap() {
        assert_eq!(d["missing"].as_array().unwrap().len(), 0, "{d}");
    }
    // The rules to rebuild by hand: the extracted shortcuts and SLAs, not the deleted one.
    let rules = r["manual_rules"].as_array().unwrap();
    let live = |kind: &str, table: &str| {
        count(&conn, &format!("SELECT count(*) FROM {table} WHERE NOT coalesce(TRY_CAST(json_extract(json, '$.attributes.deleted') AS BOOLEAN), false)")) as usize
            == rules.iter().filter(|m| m["kind"] == kind).count()
    };
    assert!(
        live("shortcut", "raw_kustomer_shortcuts") && live("SLA", "raw_kustomer_slas"),
        "{rules:?}"
    );
    assert!(rules.iter().any(|m| m["kind"] == "shortcut"));
    // ...and a failure when a comment links the Kustomer CDN again (an
    // agent pasting the old body back).
    let (ticket, index, src_body) = {
        let r = strings(
            &conn,
            "SELECT m.dest_id || '|' || CAST(c.position - 1 AS BIGINT) || '|' || json_extract_string(mc.json, '$.attributes.HtmlBody')
             FROM out_zendesk_comments c
             JOIN ferry_id_map m ON m.dest_object = 'tickets' AND m.source_id = c.ticket_source_id
             JOIN raw_kustomer_message_contents mc ON mc.id = c.source_record_id
             WHERE len(c.inline_image_ids) > 0 AND c.chunk_count = 1 AND c.ticket_source_id = c.conversation_id
             ORDER BY c.source_id LIMIT 1",
        );
        let mut it = r[0].splitn(3, '|');
        (
            it.next().unwrap().to_string(),
            it.next().unwrap().parse::<u64>().unwrap(),
            it.next().unwrap().to_string(),
        )
    };
    drop(conn);
    z.post(
        "/__sim/tamper",
        serde_json::json!({"ticket_id": ticket.parse::<u64>().unwrap(), "comment_index": index, "body": src_body}),
    );
    let out = ferry(&dir, &["verify", "--sample", "100000"]);
    assert!(!out.status.success(), "{}", text(&out));
    let r2 = latest_report(&dir);
    assert_eq!(r2["ok"], false);
    let mm = r2["sample"]["mismatches"].as_array().unwrap();
    assert!(
        mm.iter().any(|m| m["dest_id"] == ticket.as_str()
            && m["field"].as_str().unwrap().starts_with("inline images")
            && m["actual"].as_str().unwrap().contains("/cdn/inline/")),
        "the link back to the Kustomer CDN is named: {mm:?}"
    );
}

#[test]
fn the_destination_holds_what_the_tables_say_field_by_field() {
    // Independent of verify's own code: the simulator's dump against the
    // output tables, through ferry_id_map.
    let (_k, z, _t, dir) = migrated("8");
    let conn = db(&dir);
    let dump = z.get("/__sim/dump");
    let id_of = |object: &str, source: &str| -> Option<String> {
        strings(
            &conn,
            &format!("SELECT dest_id FROM ferry_id_map WHERE dest_object = '{object}' AND source_id = '{source}'"),
        )
        .pop()
    };
    let tickets = dump["tickets"].as_array().unwrap();
    assert_eq!(
        tickets.len() as i64,
        count(&conn, "SELECT count(*) FROM out_zendesk_tickets")
    );
    let mut custom_seen = 0;
    for t in tickets {
        let ext = t["external_id"].as_str().unwrap();
        let row: (String, String, String, String) = conn
            .query_row(
                "SELECT source_id, status, coalesce(subject, ''), to_json(list_sort(tags))::VARCHAR FROM out_zendesk_tickets WHERE external_id = ?",
                [ext],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(t["id"].to_string(), id_of("tickets", &row.0).unwrap());
        assert_eq!(t["status"], row.1.as_str(), "{ext}");
        assert_eq!(t["subject"].as_str().unwrap_or(""), row.2, "{ext}");
        let mut tags: Vec<String> = serde_json::from_value(t["tags"].clone()).unwrap();
        tags.sort();
        let want: Vec<String> = serde_json::from_str(&row.3).unwrap();
        assert_eq!(tags, want, "{ext}: tags");
        // Custom attributes: each value under the ticket field made for its key.
        let custom: String = conn
            .query_row(
                "SELECT coalesce(custom_fields, '{}')::VARCHAR FROM out_zendesk_tickets WHERE external_id = ?",
                [ext],
                |r| r.get(0),
            )
            .unwrap();
        let custom: serde_json::Value = serde_json::from_str(&custom).unwrap();
        let sent = t["custom_fields"].as_array().cloned().unwrap_or_default();
        custom_seen += sent.len();
        assert_eq!(
            sent.len(),
            custom.as_object().map_or(0, |o| o.len()),
            "{ext}: custom fields"
        );
        for cf in sent {
            let key = strings(
                &conn,
                &format!("SELECT source_id FROM ferry_id_map WHERE dest_object = 'ticket_fields' AND dest_id = '{}'", cf["id"]),
            )
            .pop()
            .expect("the field id is one ferry created");
            // A lookup holds the Zendesk id of the record the KObject id
            // names (none when that order is gone from Kustomer).
            let v = custom[&key].as_str().unwrap_or("");
            let lookup = strings(
                &conn,
                &format!("SELECT dest_id FROM ferry_id_map WHERE dest_object = 'custom_object_records' AND source_id IN ('{v}', '{v}:1')"),
            );
            let is_lookup = count(
                &conn,
                &format!("SELECT count(*) FROM out_zendesk_ticket_fields WHERE key = '{key}' AND type = 'lookup'"),
            ) > 0;
            if is_lookup {
                assert_eq!(
                    cf["value"].as_str(),
                    lookup.first().map(String::as_str),
                    "{ext}: lookup {key}"
                );
            } else {
                assert_eq!(cf["value"], custom[&key], "{ext}: custom field {key}");
            }
        }
        // Comments: order, authors, public/private, timestamps, bodies.
        let mut stmt = conn
            .prepare(
                "SELECT author_kind, coalesce(author_source_id, ''), public, strftime(CAST(created_at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ'), coalesce(html_body, body)
                 FROM out_zendesk_comments WHERE ticket_source_id = ? ORDER BY position",
            )
            .unwrap();
        let want: Vec<(String, String, bool, String, String)> = stmt
            .query_map([&row.0], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let got = t["comments"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{ext}: comment count");
        // An inline image's link is Zendesk's copy of it, recorded at upload.
        let hosted: Vec<(String, String)> = strings(
            &conn,
            "SELECT i.src || chr(31) || h.url FROM stg_inline_images i
             JOIN ferry_hosted_files h ON h.dest = 'zendesk' AND h.source_id = i.image_id",
        )
        .into_iter()
        .map(|p| {
            let (a, b) = p.split_once('\u{1f}').unwrap();
            (a.to_string(), b.to_string())
        })
        .collect();
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g["public"], w.2, "{ext}: public");
            assert_eq!(g["created_at"], w.3.as_str(), "{ext}: created_at");
            let body = g["html_body"].as_str().or(g["body"].as_str()).unwrap();
            let want_body = hosted
                .iter()
                .fold(w.4.clone(), |b, (src, url)| b.replace(src.as_str(), url));
            assert_eq!(body, want_body, "{ext}: body");
            if !w.1.is_empty() {
                let object = if w.0 == "customer" { "users" } else { "agents" };
                assert_eq!(
                    Some(g["author_id"].to_string()),
                    id_of(object, &w.1),
                    "{ext}: author"
                );
            }
        }
    }
    assert!(custom_seen > 0, "some tickets carry custom fields");
}

#[test]
fn verify_names_corruption_on_the_destination_and_between_stages() {
    let (_k, z, _t, dir) = migrated("6");
    let conn = db(&dir);
    let ticket = strings(
        &conn,
        "SELECT dest_id FROM ferry_id_map WHERE dest_object = 'tickets' ORDER BY dest_id LIMIT 2",
    );
    let tickets_source = strings(
        &conn,
        &format!(
            "SELECT source_id FROM ferry_id_map WHERE dest_object = 'tickets' AND dest_id = '{}'",
            ticket[0]
        ),
    );
    let conversation = strings(
        &conn,
        "SELECT source_id FROM ferry_accounting WHERE object = 'conversations' AND bucket = 'output' ORDER BY source_id DESC LIMIT 1",
    )
    .pop()
    .unwrap();
    // A record dropped between stages.
    conn.execute(
        "DELETE FROM ferry_accounting WHERE object = 'conversations' AND source_id = ?",
        [&conversation],
    )
    .unwrap();
    drop(conn);
    // A comment changed and a ticket deleted behind ferry's back.
    z.post(
        "/__sim/tamper",
        serde_json::json!({"ticket_id": ticket[0].parse::<u64>().unwrap(), "comment_index": 0, "body": "changed"}),
    );
    assert_eq!(
        z.zendesk_delete(&format!("/api/v2/tickets/destroy_many?ids={}", ticket[1])),
        200
    );

    let out = ferry(&dir, &["verify", "--sample", "100000"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let msg = text(&out);
    assert!(
        msg.contains(&conversation),
        "names the dropped record: {msg}"
    );
    assert!(msg.contains(&ticket[1]), "names the deleted ticket: {msg}");
    let r = latest_report(&dir);
    assert_eq!(r["ok"], false);
    let mm = r["sample"]["mismatches"].as_array().unwrap();
    assert!(
        mm.iter().any(|m| m["dest_id"] == ticket[0].as_str()
            && m["source_id"] == tickets_source[0].as_str()
            && m["field"].as_str().unwrap().contains("body")
            && m["actual"] == "changed"),
        "the changed comment is named: {mm:?}"
    );
    let tickets = r["destination"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["phase"] == "tickets")
        .unwrap();
    assert_eq!(tickets["missing"], serde_json::json!([ticket[1]]));
    let funnel = r["funnel"].as_array().unwrap();
    let conv = funnel
        .iter()
        .find(|f| f["object"] == "conversations")
        .unwrap();
    assert_eq!(conv["unaccounted"], 1);
}

#[test]
fn verify_compares_every_carried_field_and_names_one_changed_in_the_destination() {
    let (_k, z, _t, dir) = migrated("8");
    let out = ferry(&dir, &["verify", "--sample", "100000"]);
    assert!(out.status.success(), "{}", text(&out));
    let conn = db(&dir);
    // Custom attributes, tags and ids of tickets, users, organizations and
    // custom object records were read back and compared...
    for (object, path) in [
        ("customers", "attributes.custom.loyaltyTierStr"),
        ("customers", "attributes.custom.accountUrl"),
        ("customers", "attributes.tags"),
        ("conversations", "attributes.custom.orderNumberStr"),
        ("companies", "attributes.custom.industryStr"),
        ("kobjects", "attributes.custom.orderNumberStr"),
        ("kobjects", "attributes.title"),
        ("kobjects", "relationships.customer.data.id"),
    ] {
        let n = count(
            &conn,
            &format!(
                "SELECT sampled FROM verify_fields WHERE object = '{object}' AND path = '{path}'"
            ),
        );
        assert!(n > 0, "{object} {path} compared");
    }
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM verify_field_values WHERE NOT matches"
        ),
        0
    );
    // Custom object records link their customer's user (a lookup read
    // back from Zendesk, not only sent).
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM verify_field_values
             WHERE field = 'custom_object_fields.kustomer_customer' AND matches AND expected <> 'null'"
        ) > 0
    );
    // ...and link the records they reference: a ticket's order and a
    // subscription's order are lookups holding the Zendesk record's id;
    // Kustomer's own externalId, a company's phones and tags, a record's
    // description travel too. Nothing is left "not carried yet".
    for field in [
        "custom_fields.order_id",
        "custom_object_fields.order_id",
        "custom_fields.kustomer_external_id",
        "user_fields.kustomer_external_id",
        "organization_fields.kustomer_phones",
        "custom_object_fields.kustomer_description",
    ] {
        assert!(
            count(
                &conn,
                &format!("SELECT count(*) FROM verify_field_values WHERE field = '{field}' AND matches AND expected::VARCHAR <> 'null'")
            ) > 0,
            "{field} read back"
        );
    }
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM verify_fields WHERE not_carried_yet"
        ),
        0
    );
    // An order gone from Kustomer before the migration: the ticket's
    // lookup stays empty, the subscription's link is held with the reason.
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM verify_field_values WHERE field = 'custom_fields.order_id' AND matches AND expected::VARCHAR = 'null'"
        ) > 0
    );
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_load_errors WHERE object = 'custom_object_links'
             AND error_body LIKE '%the KObject it references is not in the export%'"
        ) > 0
    );
    // An agent edits a migrated customer's user field in Zendesk.
    let (user, expected) = {
        let r = strings(
            &conn,
            "SELECT dest_id || '|' || json_extract_string(expected, '$') FROM verify_field_values
             WHERE dest_object = 'users' AND field = 'user_fields.loyalty_tier' ORDER BY dest_id LIMIT 1",
        );
        let (u, e) = r[0].split_once('|').unwrap();
        (u.to_string(), e.to_string())
    };
    drop(conn);
    assert_eq!(
        z.zendesk_put(
            &format!("/api/v2/users/{user}"),
            serde_json::json!({"user": {"user_fields": {"loyalty_tier": "edited by hand"}}})
        ),
        200
    );
    let out = ferry(&dir, &["verify", "--sample", "100000"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let r = latest_report(&dir);
    let mm = r["sample"]["mismatches"].as_array().unwrap();
    assert!(
        mm.iter().any(|m| m["dest_id"] == user.as_str()
            && m["field"] == "users user_fields.loyalty_tier"
            && m["expected"] == expected.as_str()
            && m["actual"] == "edited by hand"),
        "the edited field is named: {mm:?}"
    );
    let conn = db(&dir);
    assert_eq!(
        count(
            &conn,
            "SELECT sampled_mismatches FROM verify_fields WHERE object = 'customers' AND path = 'attributes.custom.loyaltyTierStr'"
        ),
        1
    );
}

#[test]
fn verify_catches_a_transform_bug_that_the_transforms_own_tables_would_hide() {
    // The expected values of the field-level sample come from the raw
    // source records, so a wrong transform script (here: every ticket
    // "low", every agent reply sent as an internal note) is caught even
    // though the destination holds exactly what the transform produced.
    let k = Sim::start(&["--seed", "41", "--customers", "6"]);
    let z = Sim::zendesk(&[]);
    let (_t, dir) = workspace_to(&k.url, &z.url, &[]);
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = ferry(
        &dir,
        &[
            "sql",
            "eject",
            "020_out_zendesk_tickets.sql",
            "013_int_comment_source.sql",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let edit = |file: &str, from: &str, to: &str| {
        let path = dir.join("sql/kustomer_zendesk").join(file);
        let sql = std::fs::read_to_string(&path).unwrap();
        assert!(sql.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, sql.replace(from, to)).unwrap();
    };
    edit(
        "020_out_zendesk_tickets.sql",
        "pm.zendesk_priority AS priority",
        "'low' AS priority",
    );
    edit(
        "013_int_comment_source.sql",
        "       true AS public,",
        "       direction = 'in' AS public,",
    );
    for step in [&["transform"][..], &["load"]] {
        let out = ferry(&dir, step);
        assert!(out.status.success(), "{step:?}: {}", text(&out));
    }
    let out = ferry(&dir, &["verify", "--sample", "100000"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let r = latest_report(&dir);
    let mm = r["sample"]["mismatches"].as_array().unwrap();
    assert!(
        mm.iter()
            .any(|m| m["field"] == "priority" && m["actual"] == "low" && m["expected"] != "low"),
        "the wrong priority is named: {mm:?}"
    );
    assert!(
        mm.iter()
            .any(|m| m["field"].as_str().unwrap().contains(".public") && m["expected"] == "true"),
        "agent replies sent as notes are named: {mm:?}"
    );
    // Every mismatch is one of the two bugs.
    assert!(
        mm.iter()
            .all(|m| m["field"] == "priority" || m["field"].as_str().unwrap().contains(".public")),
        "{mm:?}"
    );
    let rules = r["sample"]["rules"].as_array().unwrap();
    assert!(
        rules.iter().any(|x| x[0] == "priority"),
        "the report names its rules: {rules:?}"
    );
    drop(z);
}

#[test]
fn archive_round_trips_and_detects_a_modified_file() {
    let (_k, _z, _t, dir) = migrated("6");
    let out = ferry(&dir, &["archive", "--table", "out_zendesk_tickets"]);
    assert!(out.status.success(), "{}", text(&out));
    let exp = dir.join("exports/out_zendesk_tickets");
    let out = ferry(&dir, &["archive", "--verify", exp.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    // DuckDB reads back exactly the same rows.
    let conn = db(&dir);
    let file = exp.join("out_zendesk_tickets.parquet");
    let diff = |a: &str, b: &str| {
        count(
            &conn,
            &format!("SELECT count(*) FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b})"),
        )
    };
    let pq = format!("read_parquet('{}')", file.display());
    assert_eq!(diff("out_zendesk_tickets", &pq), 0);
    assert_eq!(diff(&pq, "out_zendesk_tickets"), 0);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(exp.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["datasets"][0]["rows"].as_i64().unwrap(),
        count(&conn, "SELECT count(*) FROM out_zendesk_tickets")
    );
    drop(conn);
    // One changed byte is caught and the file named.
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    let out = ferry(&dir, &["archive", "--verify", exp.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out).contains("out_zendesk_tickets.parquet: checksum differs"),
        "{}",
        text(&out)
    );

    // The built-in set as CSV with attachments; names cannot escape exports/.
    let out = ferry(
        &dir,
        &[
            "archive",
            "--set",
            "excluded",
            "--format",
            "csv",
            "--attachments",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = ferry(
        &dir,
        &[
            "archive",
            "--verify",
            dir.join("exports/excluded").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = ferry(
        &dir,
        &["archive", "--table", "stg_users", "--name", "../../etc"],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("not allowed"), "{}", text(&out));
}

#[test]
fn sql_reads_files_writes_formats_and_shows_error_positions() {
    let (_k, _z, t, dir) = migrated("4");
    let conn = db(&dir);
    let open = count(
        &conn,
        "SELECT count(*) FROM out_zendesk_tickets WHERE status = 'open'",
    );
    let id_map = count(&conn, "SELECT count(*) FROM ferry_id_map");
    drop(conn);
    let q = t.path().join("q.sql");
    std::fs::write(&q, "SET VARIABLE s = 'open';\nSELECT count(*) AS n FROM out_zendesk_tickets WHERE status = getvariable('s');").unwrap();
    let out = ferry(&dir, &["sql", "-f", q.to_str().unwrap(), "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("n\n{open}\n"));
    let pq = t.path().join("idmap.parquet");
    let out = ferry(
        &dir,
        &[
            "sql",
            "SELECT * FROM ferry_id_map",
            "--format",
            "parquet",
            "-o",
            pq.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let mem = duckdb::Connection::open_in_memory().unwrap();
    assert_eq!(
        count(
            &mem,
            &format!("SELECT count(*) FROM read_parquet('{}')", pq.display())
        ),
        id_map
    );
    let out = ferry(
        &dir,
        &[
            "sql",
            "SELECT tags FROM out_zendesk_tickets LIMIT 1",
            "--format",
            "jsonl",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("{\"tags\":["));
    let out = ferry(&dir, &["sql", "SELECT nope FROM out_zendesk_tickets"]);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains("nope") && msg.contains("LINE 1"), "{msg}");
    let out = ferry(&dir, &["sql", "DELETE FROM ferry_id_map"]);
    assert!(!out.status.success(), "read-only by default");
    let out = ferry(&dir, &["status"]);
    assert!(out.status.success(), "{}", text(&out));
    let s = text(&out);
    assert!(
        s.contains("tickets") && s.contains("next         ferry verify"),
        "{s}"
    );
    // Every transform table says where it was built.
    assert_eq!(
        count(
            &db(&dir),
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'out_zendesk_tickets' AND comment LIKE 'built by %tickets%'"
        ),
        1
    );
    // A rebuilt transform leaves freed blocks; compact gives them back
    // and keeps every row.
    assert!(ferry(&dir, &["transform", "--rebuild"]).status.success());
    let db_file = dir.join("ferry.duckdb");
    let before = std::fs::metadata(&db_file).unwrap().len();
    let out = ferry(&dir, &["compact"]);
    assert!(out.status.success(), "{}", text(&out));
    let after = std::fs::metadata(&db_file).unwrap().len();
    assert!(after < before, "{before} → {after}: {}", text(&out));
    let conn = db(&dir);
    assert_eq!(count(&conn, "SELECT count(*) FROM ferry_id_map"), id_map);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM out_zendesk_tickets WHERE status = 'open'"
        ),
        open
    );
}

fn png_is_not_blank(path: &Path) -> bool {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = &buf[..info.buffer_size()];
    let first = &px[..3];
    px.chunks(info.color_type.samples())
        .filter(|p| &p[..3] != first)
        .count()
        > px.len() / 200
}

#[test]
fn demo_runs_the_whole_pipeline_and_its_report_renders_in_chromium() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("demo");
    let out = std::process::Command::new(bin())
        .args([
            "demo",
            dir.to_str().unwrap(),
            "--scale",
            "30",
            "--no-progress",
        ])
        .env_remove("KUSTOMER_API_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let r = latest_report(&dir);
    assert_eq!(r["ok"], true, "{r}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ferry -C") && stdout.contains("sql"),
        "ends with queries to try"
    );
    let conn = db(&dir);
    let loaded: i64 = r["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["loaded"].as_i64().unwrap())
        .sum();
    assert!(loaded > 1000, "{loaded}");
    assert_eq!(
        r["funnel"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["object"] == "conversations")
            .unwrap()["loaded"]
            .as_i64()
            .unwrap(),
        count(
            &conn,
            "SELECT count(DISTINCT conversation_id) FROM out_zendesk_tickets"
        )
    );
    drop(conn);

    // The HTML renders in headless Chromium with the JSON report's numbers.
    let html = dir
        .join("reports")
        .join(format!("verify-{}.html", r["run_id"].as_str().unwrap()));
    let profile = t.path().join("chromium-profile");
    let url = format!("file://{}", html.display());
    let dom = chromium_dom(&url, &profile);
    let (extracted, loaded) = r["funnel"].as_array().unwrap().iter().fold((0, 0), |a, f| {
        (
            a.0 + f["extracted"].as_i64().unwrap(),
            a.1 + f["loaded"].as_i64().unwrap(),
        )
    });
    assert!(
        dom.contains(&format!("id=\"total-extracted\">{extracted}<")),
        "extracted total in the page"
    );
    assert!(
        dom.contains(&format!("id=\"total-loaded\">{loaded}<")),
        "loaded total in the page"
    );
    assert!(dom.contains("PASS"));
    let shot = t.path().join("shot.png");
    let s = std::process::Command::new(chromium())
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args([
            "--window-size=1200,1600",
            &format!("--screenshot={}", shot.display()),
            &url,
        ])
        .output()
        .unwrap();
    assert!(shot.exists(), "no screenshot: {}", text(&s));
    assert!(png_is_not_blank(&shot), "the screenshot is blank");
}

/// `ferry status | head`, `ferry sql … | head`: a reader that stops early
/// ends ferry quietly, as it does any Unix tool: no panic, no error line.
#[test]
fn a_closed_pipe_ends_ferry_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let (_t, dir) = workspace("http://127.0.0.1:9", &[]);
    for args in [
        &["status"][..],
        &[
            "sql",
            "SELECT range AS n, repeat('x', 200) AS pad FROM range(200000)",
            "--format",
            "csv",
        ],
    ] {
        let mut child = ferry_command(&dir, args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut first = [0u8; 16];
        let _ = out.read(&mut first);
        drop(out);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(
            status.success() || status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {status:?} {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
    }
}

/// How an auditor receives a workspace: a copy they cannot write, in
/// another place, without the APIs. `status`, `verify --offline` and `sql`
/// answer from it, read the copy's Parquet (not the paths the original
/// stored), and change nothing in it.
#[test]
fn a_read_only_copy_of_a_workspace_answers_status_verify_and_sql() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let (k, z, t, dir) = migrated("4");
    drop((k, z));
    let customers = count(&db(&dir), "SELECT count(*) FROM raw_kustomer_customers");
    let copy_root = tempfile::tempdir().unwrap();
    let copy = copy_root.path().join("received");
    let cp = std::process::Command::new("cp")
        .arg("-a")
        .arg(&dir)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(cp.success());
    // The original is gone: views that still named its paths would fail.
    std::fs::remove_dir_all(&dir).unwrap();
    drop(t);
    // Root writes through mode bits, so as root the copy is read as the
    // unprivileged `nobody`, with a ferry binary it may execute.
    let as_root = unsafe { libc::geteuid() } == 0;
    let bin_dir = tempfile::tempdir().unwrap();
    let ferry_bin = bin_dir.path().join("ferry");
    std::fs::copy(bin(), &ferry_bin).unwrap();
    for p in [bin_dir.path(), copy_root.path()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let chmod = std::process::Command::new("chmod")
        .args(["-R", "a-w,a+rX"])
        .arg(&copy)
        .status()
        .unwrap();
    assert!(chmod.success());
    let snapshot = |d: &Path| -> Vec<(String, u64, std::time::SystemTime)> {
        let mut v = Vec::new();
        let mut stack = vec![d.to_path_buf()];
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap().flatten() {
                let m = e.metadata().unwrap();
                if m.is_dir() {
                    stack.push(e.path());
                }
                v.push((
                    e.path().display().to_string(),
                    m.len(),
                    m.modified().unwrap(),
                ));
            }
        }
        v.sort();
        v
    };
    let before = snapshot(&copy);
    let run = |args: &[&str]| {
        let mut c2 = std::process::Command::new(&ferry_bin);
        c2.arg("-C")
            .arg(&copy)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin");
        if as_root {
            c2.uid(65534).gid(65534);
        }
        c2.output().unwrap()
    };
    let out = run(&["status"]);
    let s = text(&out);
    assert!(out.status.success(), "{s}");
    assert!(s.contains("read-only") && s.contains("tickets"), "{s}");
    let out = run(&["verify", "--offline"]);
    let s = text(&out);
    assert!(out.status.success(), "{s}");
    let report = s
        .lines()
        .find_map(|l| l.trim().strip_prefix("Report: "))
        .unwrap_or_else(|| panic!("no report path: {s}"))
        .to_string();
    assert!(
        Path::new(&report).exists() && !report.starts_with(copy.to_str().unwrap()),
        "{report}"
    );
    let out = run(&[
        "sql",
        "SELECT count(*) FROM raw_kustomer_customers",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("count_star()\n{customers}\n")
    );
    assert_eq!(snapshot(&copy), before, "the copy is unchanged");
    let _ = std::fs::remove_dir_all(Path::new(&report).parent().unwrap());
    let _ = std::process::Command::new("chmod")
        .args(["-R", "u+w"])
        .arg(&copy)
        .status();
}

/// The README's auditor queries are claims: each one runs on the demo of
/// every route it is written for (the shared ten on all four, each route's
/// own on its demo), and the first ones answer with rows.
#[test]
fn the_readmes_queries_run_on_every_routes_demo() {
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    let section = readme
        .split("## What an auditor asks")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a `What an auditor asks` section");
    let blocks: Vec<&str> = section
        .split("```sql\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 5, "shared queries and one block per route");
    let statements = |block: &str| -> Vec<String> {
        block
            .split(";\n")
            .map(|s| {
                s.lines()
                    .filter(|l| !l.trim_start().starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .filter(|s| !s.trim().is_empty())
            .collect()
    };
    let shared = statements(blocks[0]);
    assert!(shared.len() >= 10, "{shared:?}");
    let routes = [
        ("kustomer-zendesk", "Kustomer → Zendesk"),
        ("kustomer-salesforce", "Kustomer → Salesforce"),
        ("kustomer-enchant", "Kustomer → Enchant"),
        ("intercom-kustomer", "Intercom → Kustomer"),
    ];
    let t = tempfile::tempdir().unwrap();
    for (route, title) in routes {
        let own = blocks[1..]
            .iter()
            .find(|b| b.trim_start().starts_with(&format!("-- {title}")))
            .unwrap_or_else(|| panic!("no README queries for {title}"));
        let dir = t.path().join(route);
        let out = std::process::Command::new(bin())
            .args([
                "demo",
                dir.to_str().unwrap(),
                "--scale",
                "12",
                "--route",
                route,
            ])
            .env_remove("FERRY_WORKSPACE")
            .output()
            .unwrap();
        assert!(out.status.success(), "{route} demo: {}", text(&out));
        for q in shared.iter().chain(statements(own).iter()) {
            let out = ferry(&dir, &["sql", q, "--format", "csv"]);
            assert!(out.status.success(), "{route}: {q}\n{}", text(&out));
        }
        let funnel = ferry(&dir, &["sql", &shared[0], "--format", "csv"]);
        assert!(
            String::from_utf8_lossy(&funnel.stdout).lines().count() > 3,
            "{route}: verify_funnel has rows"
        );
    }
}
