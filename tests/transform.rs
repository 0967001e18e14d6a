//! `ferry transform` on hand-written fixtures (`fixtures/kustomer/*.json`,
//! raw API pages covering every mapping rule) → exact `out_zendesk_*` rows.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Lands the fixture pages as raw Parquet parts, as `ferry extract` would.
/// Placeholders: {{RECENT}} (yesterday), {{LONG}} (a 72,900-character
/// body), {{BIG}} (a 40,000-character text field); the giant conversation's
/// 5,001 messages are generated.
fn land_fixtures(dir: &Path) {
    let recent = (chrono::Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let long = "Ünïcode stack trace line ✓ ".repeat(2_700); // 72,900 chars
    let big = "gift ".repeat(8_000);
    let src = manifest_dir().join("fixtures/kustomer");
    let tmp = dir.join("fixture-json");
    std::fs::create_dir_all(&tmp).unwrap();
    let conn = db(dir);
    for object in OBJECTS {
        let mut text = std::fs::read_to_string(src.join(format!("{object}.json"))).unwrap();
        text = text
            .replace("{{RECENT}}", &recent)
            .replace("{{LONG}}", &long)
            .replace("{{BIG}}", &big);
        if *object == "messages" {
            let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let data = v["data"].as_array_mut().unwrap();
            for i in 0..5_001 {
                data.push(serde_json::json!({"type": "message", "id": format!("mg-{i:05}"),
                    "attributes": {"direction": if i % 2 == 0 { "in" } else { "out" }, "channel": "chat",
                        "preview": format!("line {i}"), "sentAt": "2024-06-01T00:00:00.000Z",
                        "createdAt": "2024-06-01T00:00:00.000Z", "updatedAt": "2024-06-01T00:00:00.000Z"},
                    "relationships": {"conversation": {"data": {"type": "conversation", "id": "cv-giant"}},
                        "createdBy": {"data": {"type": "user", "id": "u-ann"}}}}));
            }
            text = v.to_string();
        }
        let json_path = tmp.join(format!("{object}.json"));
        std::fs::write(&json_path, text).unwrap();
        let part_dir = dir.join("raw/kustomer").join(object);
        std::fs::create_dir_all(&part_dir).unwrap();
        conn.execute_batch(&format!(
            "COPY (SELECT json_extract_string(r, '$.id') AS id,
                     TRY_CAST(json_extract_string(r, '$.attributes.createdAt') AS TIMESTAMPTZ) AS created_at,
                     TRY_CAST(json_extract_string(r, '$.attributes.updatedAt') AS TIMESTAMPTZ) AS updated_at,
                     now() AS extracted_at, 'fixture' AS run_id, 'fixture' AS origin,
                     NULL::VARCHAR AS sha256, NULL::BIGINT AS size_bytes, r::VARCHAR AS json
                   FROM (SELECT unnest(json_extract(content::JSON, '$.data[*]')) AS r FROM read_text('{}')))
             TO '{}' (FORMAT parquet)",
            json_path.display(),
            part_dir.join("part-fixture-000000.parquet").display()
        ))
        .unwrap();
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}

fn fixture_workspace() -> (tempfile::TempDir, PathBuf) {
    fixture_workspace_route("kustomer-zendesk")
}

/// The fixture org in a workspace of any Kustomer route.
fn fixture_workspace_route(route: &str) -> (tempfile::TempDir, PathBuf) {
    let (t, dir) = workspace_route(route, "http://127.0.0.1:9", "http://127.0.0.1:9", &[]);
    land_fixtures(&dir);
    (t, dir)
}

fn rows(conn: &duckdb::Connection, sql: &str) -> Vec<String> {
    strings(
        conn,
        &format!("SELECT concat_ws(' | ', *COLUMNS(*)) FROM ({sql})"),
    )
}

#[test]
fn golden_fixtures_give_exact_zendesk_rows() {
    let (_t, dir) = fixture_workspace();
    let out = ferry(&dir, &["transform"]);
    assert!(out.status.success(), "{}", text(&out));
    let conn = db(&dir);

    // Companies sharing a domain are one organization; repeated names get the id.
    assert_eq!(
        rows(&conn, "SELECT source_id, name, domain_names::VARCHAR, organization_fields::VARCHAR FROM out_zendesk_organizations ORDER BY source_id"),
        vec![
            r#"co-acme | Acme | [acme-inc.test, acme.test] | {"industry":"retail","employees":12,"partner":true}"#,
            "co-glob | Acme (co-glob) | [globex.test] | {}",
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT company_id, into_company_id FROM int_company_merge"
        ),
        vec!["co-acme2 | co-acme"]
    );

    // Customers sharing a primary email (any case) are merged into the oldest.
    assert_eq!(
        rows(&conn, "SELECT source_id, name, coalesce(email, '-'), coalesce(phone, '-'), coalesce(organization_source_id, '-'), tags::VARCHAR, coalesce(merged_source_ids::VARCHAR, '-') FROM out_zendesk_users ORDER BY source_id"),
        vec![
            "cu-jose | José Müller | jose@example.com | +44 7700 900001 | co-acme | [vip_customer] | [cu-jose2]",
            "cu-nobody | Kustomer customer cu-nobody | - | - | - | [] | -",
            "cu-zoe | Zoë 李 🙂 | - | +1 555 0100 | - | [] | -",
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT user_source_id, type, value FROM out_zendesk_user_identities ORDER BY ALL"
        ),
        vec![
            "cu-jose | email | jm@alt.test",
            "cu-jose | email | jose@work.test",
            "cu-jose | phone_number | +44 7700 900001",
            "cu-zoe | phone_number | +1 555 0100",
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT user_fields::VARCHAR FROM out_zendesk_users WHERE source_id = 'cu-jose'"
        ),
        // `signupAt` is a date field: Zendesk date fields take YYYY-MM-DD.
        vec![r#"{"loyalty_tier":"gold","vip":true,"signup":"2019-05-01"}"#]
    );

    // Agents by email, machine users excluded, teams → groups + memberships.
    assert_eq!(
        rows(
            &conn,
            "SELECT source_id, email FROM out_zendesk_agents ORDER BY 1"
        ),
        vec!["u-ann | ann@support.test", "u-bob | bob@support.test"]
    );
    assert_eq!(
        rows(&conn, "SELECT source_id, name FROM out_zendesk_groups"),
        vec!["t-tier1 | Tier 1"]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT group_source_id, agent_source_id FROM out_zendesk_group_memberships ORDER BY 2"
        ),
        vec!["t-tier1 | u-ann", "t-tier1 | u-bob"]
    );

    // Tickets: status/priority/channel maps, last assignee, other assignees as
    // tags, subject fallback, split parts, exclusions.
    assert_eq!(
        rows(&conn, "SELECT source_id, requester_source_id, coalesce(assignee_source_id, '-'), coalesce(group_source_id, '-'), subject, status, priority, coalesce(channel, '-'), tags::VARCHAR FROM out_zendesk_tickets ORDER BY source_id"),
        vec![
            "cv-giant-part1 | cu-zoe | - | - | Endless thread (part 1/2) | open | normal | chat | [channel_chat, kustomer_import, kustomer_split, kustomer_split_cv-giant]",
            "cv-giant-part2 | cu-zoe | - | - | Endless thread (part 2/2) | open | normal | chat | [channel_chat, kustomer_import, kustomer_split, kustomer_split_cv-giant]",
            "cv-long | cu-zoe | - | - | Stack trace | open | normal | email | [channel_email, kustomer_import]",
            "cv-new-done | cu-zoe | - | - | Thanks | solved | urgent | web_form | [channel_web_form, kustomer_import]",
            "cv-old-done | cu-jose | - | - | Refund | closed | normal | sms | [channel_sms, kustomer_import]",
            "cv-open | cu-jose | u-bob | t-tier1 | Where is my order? | open | high | email | [assignee_ann_agent, channel_email, kustomer_import, vip_customer, ünïcode_tag]",
            "cv-snooze | cu-zoe | - | - | Hi there, my parcel is late | pending | low | chat | [channel_chat, kustomer_import]",
        ]
    );
    assert_eq!(
        rows(&conn, "SELECT source_id, reason FROM int_excluded_conversations UNION ALL SELECT source_id, reason FROM int_excluded_empty_conversations ORDER BY 1"),
        vec!["cv-deleted | deleted in Kustomer", "cv-empty | no messages or notes"]
    );

    // Comments in source-time order, author by direction, notes private, HTML kept.
    assert_eq!(
        rows(&conn, "SELECT position, source_id, author_kind, coalesce(author_source_id, '-'), public, coalesce(body, '-'), coalesce(html_body, '-'), attachment_ids::VARCHAR, inline_image_urls::VARCHAR FROM out_zendesk_comments WHERE ticket_source_id = 'cv-open' ORDER BY position"),
        vec![
            "1 | m3 | customer | cu-jose | true | Hello? | - | [] | []",
            r#"2 | m1 | customer | cu-jose | true | - | <html><body><p>Where is my order?</p><img src="https://cdn.test/a.png"></body></html> | [at-1] | ['https://cdn.test/a.png']"#,
            "3 | n1 | agent | u-bob | false | Internal: refund approved ✅ | - | [] | []",
            "4 | m2 | agent | u-ann | true | We are on it. | - | [] | []",
        ]
    );
    // An 83,700-byte body (72,900 characters) becomes two consecutive comments of at most
    // 65,535 - 2,048 bytes (the comment limit less the margin), nothing lost.
    assert_eq!(
        rows(&conn, "SELECT source_id, strlen(body) FROM out_zendesk_comments WHERE ticket_source_id = 'cv-long' ORDER BY position"),
        vec!["m8#1 | 61581", "m8#2 | 22119"]
    );
    assert_eq!(
        rows(&conn, "SELECT count(*) FROM stg_messages m WHERE m.message_id = 'm8' AND m.body = (SELECT string_agg(body, '' ORDER BY position) FROM out_zendesk_comments WHERE source_record_id = 'm8')"),
        vec!["1"]
    );
    // 5,001 comments: two tickets of 4,999 and 2 source comments, each with a link comment.
    assert_eq!(
        rows(&conn, "SELECT ticket_source_id, count(*), sum(synthetic::INT) FROM out_zendesk_comments WHERE conversation_id = 'cv-giant' GROUP BY 1 ORDER BY 1"),
        vec!["cv-giant-part1 | 5000 | 1", "cv-giant-part2 | 3 | 1"]
    );
    assert!(rows(
        &conn,
        "SELECT body FROM out_zendesk_comments WHERE source_id = 'cv-giant-part1#link'"
    )[0]
    .contains("Other parts: cv-giant-part2"));

    // Custom objects and records; the 40 KB record is trimmed and archived whole.
    assert_eq!(
        rows(
            &conn,
            "SELECT key, title, field_count FROM out_zendesk_custom_objects"
        ),
        vec!["ecomm_order | E-commerce Order | 3"]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT key, type FROM out_zendesk_custom_object_fields ORDER BY position"
        ),
        vec![
            "order_number | text",
            "total | decimal",
            "notes | textarea",
            "kustomer_customer | lookup",
            "kustomer_company | lookup",
            "kustomer_description | textarea",
            "kustomer_external_id | text",
            "kustomer_tags | text"
        ]
    );
    assert_eq!(
        rows(&conn, "SELECT source_id, user_source_id, trimmed, length(fields::VARCHAR) < 32768 FROM out_zendesk_custom_object_records ORDER BY 1"),
        vec!["ko-1 | cu-jose | true | true", "ko-2 | cu-zoe | false | true"]
    );
    assert_eq!(
        strings(&conn, "SELECT source_id FROM int_archive_kobjects"),
        vec!["ko-1"]
    );

    // Every source record in exactly one bucket.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_accounting WHERE object = 'messages'"
        ),
        5_009
    );
    // The ledger has every script with rows and a checksum.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_sql_ledger WHERE status = 'applied' AND version > 0"
        ),
        // shared 001–003; staging 001–019; intermediate 001–011; route 001–029
        62
    );
    // Every layer ran in its order: shared, staging, intermediate, route.
    assert_eq!(
        strings(
            &conn,
            "SELECT string_agg(version::VARCHAR, ',' ORDER BY applied_at, version) FROM ferry_sql_ledger WHERE status = 'applied' AND version > 0"
        ),
        vec![(1..=3)
            .chain(1001..=1019)
            .chain(2001..=2011)
            .chain(3001..=3029)
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",")]
    );
}

#[test]
fn plan_shows_edited_scripts_and_successors_and_broken_scripts_keep_old_tables() {
    let (_t, dir) = fixture_workspace();
    assert!(ferry(&dir, &["transform"]).status.success());
    let out = ferry(&dir, &["transform", "--plan"]);
    assert!(text(&out).contains("Nothing changed"), "{}", text(&out));

    // Eject; the plan now says the workspace copy is used, nothing changed.
    let out = ferry(&dir, &["sql", "eject"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = ferry(&dir, &["transform", "--plan"]);
    assert!(
        text(&out).contains("workspace copy") && text(&out).contains("Nothing changed"),
        "{}",
        text(&out)
    );

    // Edit int_comment_source: it and every later script rerun, earlier ones do not.
    let s5 = dir.join("sql/kustomer_zendesk/013_int_comment_source.sql");
    let original = std::fs::read_to_string(&s5).unwrap();
    std::fs::write(&s5, format!("{original}\n-- edited\n")).unwrap();
    let plan = text(&ferry(&dir, &["transform", "--plan"]));
    for f in [
        "013_int_comment_source.sql",
        "018_out_zendesk_comments.sql",
        "020_out_zendesk_tickets.sql",
        "029_ferry_accounting.sql",
    ] {
        assert!(
            plan.lines()
                .any(|l| l.contains(f) && l.contains("will run")),
            "{f} should rerun:\n{plan}"
        );
    }
    for f in ["002_stg_users.sql", "009_out_zendesk_agents.sql"] {
        assert!(
            plan.lines().any(|l| l.contains(f) && l.contains("skip")),
            "{f} should be skipped:\n{plan}"
        );
    }
    assert!(plan.contains("CHANGED"));

    // A syntax error: clean failure naming the file, old tables intact.
    std::fs::write(
        &s5,
        "CREATE OR REPLACE TABLE int_comment_source AS SELECT FROM WHERE;\n",
    )
    .unwrap();
    let before = count(&db(&dir), "SELECT count(*) FROM out_zendesk_comments");
    let out = ferry(&dir, &["transform"]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("013_int_comment_source.sql") && t.contains("previous tables are intact"),
        "{t}"
    );
    assert_eq!(
        count(&db(&dir), "SELECT count(*) FROM out_zendesk_comments"),
        before
    );
    assert!(count(&db(&dir), "SELECT count(*) FROM int_comment_source") > 0);
    let plan = text(&ferry(&dir, &["transform", "--plan"]));
    assert!(
        plan.lines()
            .any(|l| l.contains("013_int_comment_source.sql") && l.contains("will run")),
        "{plan}"
    );

    // Fixed by a seed edit instead: a changed seed reruns everything.
    std::fs::write(&s5, original).unwrap();
    assert!(ferry(&dir, &["transform"]).status.success());
    let seed = dir.join("sql/kustomer_zendesk/seeds/priority_map.csv");
    std::fs::write(
        &seed,
        std::fs::read_to_string(&seed)
            .unwrap()
            .replace("4,high", "4,urgent"),
    )
    .unwrap();
    let out = ferry(&dir, &["transform"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("002_stg_users.sql"));
    assert_eq!(
        strings(
            &db(&dir),
            "SELECT priority FROM out_zendesk_tickets WHERE source_id = 'cv-open'"
        ),
        vec!["urgent"]
    );
}

/// The field ledger reads every attribute path from the landed JSON and
/// holds it against the route's declarations: a path with values that no
/// rule covers fails the transform, named with its object and count, and
/// the gaps a route knows it does not carry yet are declared, visibly.
#[test]
fn every_attribute_path_is_declared_and_an_undeclared_one_fails_the_transform() {
    let (_t, dir) = fixture_workspace();
    let out = ferry(&dir, &["transform"]);
    assert!(out.status.success(), "{}", text(&out));
    let conn = db(&dir);
    // Read from the JSON as landed, with how many records carry a value.
    assert_eq!(
        rows(
            &conn,
            "SELECT non_empty, fate, target, declared_in FROM int_field_ledger WHERE object = 'customers' AND path = 'attributes.custom.loyaltyTierStr'"
        ),
        vec!["1 | carried | user fields (users.user_fields) | route"]
    );
    // Generic paths are declared once for the source.
    assert_eq!(
        rows(
            &conn,
            "SELECT fate, declared_by, declared_in FROM int_field_ledger WHERE object = 'kobjects' AND path = 'relationships.klass.data.type'"
        ),
        vec!["dropped | relationships.*.data.type | source"]
    );
    // A record's link to its customer is carried (a lookup).
    assert_eq!(
        rows(
            &conn,
            "SELECT fate, left(reason, 15) FROM int_field_ledger WHERE object = 'kobjects' AND path = 'relationships.customer.data.id'"
        ),
        vec!["carried"]
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM int_field_ledger WHERE unaccounted"
        ),
        0
    );
    drop(conn);

    // Take away the declaration of customers' phones: the check names it.
    drop_seed_rows(
        &dir,
        "kustomer_zendesk",
        "field_map.csv",
        "customers,attributes.phones,",
    );
    let out = ferry(&dir, &["transform"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("CHECK FAILED: unaccounted_fields")
            && t.contains("customers")
            && t.contains("attributes.phones"),
        "{t}"
    );
}

/// Verify against a destination that is not there fails in seconds (no
/// retries against a refused port), still writes its report with the
/// offline accounting, and names `ferry verify --offline`.
#[test]
fn verify_without_a_destination_fails_fast_and_keeps_the_offline_report() {
    let (_t, dir) = fixture_workspace_route("kustomer-zendesk");
    assert!(ferry(&dir, &["transform"]).status.success());
    let started = std::time::Instant::now();
    let out = ferry(&dir, &["verify"]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "verify waited {:?} for a refused port",
        started.elapsed()
    );
    assert!(
        t.contains("did not answer") && t.contains("ferry verify --offline"),
        "{t}"
    );
    let reports: Vec<_> = std::fs::read_dir(dir.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("verify-") && n.ends_with(".json"))
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("reports").join(&reports[0])).unwrap())
            .unwrap();
    assert!(
        report["funnel"].as_array().is_some_and(|f| !f.is_empty()),
        "the offline accounting is in the report: {report}"
    );
}

/// Ejects the route's seed `file` into the workspace and drops its rows
/// starting with `prefix`, as a user editing the mapping would.
fn drop_seed_rows(dir: &std::path::Path, route_dir: &str, file: &str, prefix: &str) {
    assert!(ferry(dir, &["sql", "eject", &format!("seeds/{file}")])
        .status
        .success());
    let seed = dir.join(format!("sql/{route_dir}/seeds/{file}"));
    let kept: String = std::fs::read_to_string(&seed)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with(prefix))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&seed, kept).unwrap();
}

/// A Kustomer channel with no Case Origin in seeds/origin_map.csv fails
/// the Salesforce transform, naming the channel, instead of loading Cases
/// with no Origin.
#[test]
fn a_channel_without_a_salesforce_origin_fails_the_transform_naming_it() {
    let (_t, dir) = fixture_workspace_route("kustomer-salesforce");
    assert!(ferry(&dir, &["transform"]).status.success());
    let conn = db(&dir);
    let channel = strings(
        &conn,
        "SELECT channel FROM out_salesforce_cases WHERE channel IS NOT NULL GROUP BY ALL ORDER BY count(*) DESC LIMIT 1",
    )
    .remove(0);
    drop(conn);
    drop_seed_rows(
        &dir,
        "kustomer_salesforce",
        "origin_map.csv",
        &format!("{channel},"),
    );
    let out = ferry(&dir, &["transform"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("CHECK FAILED: unmapped_origin") && t.contains(&channel),
        "{t}"
    );
}

/// A workspace transformed before the SQL moved into layers keeps tables
/// under their old names; a query of one would read stale rows. The next
/// transform drops each old table whose new one it built, and says so.
#[test]
fn tables_renamed_by_the_layers_are_dropped_and_named() {
    let (_t, dir) = fixture_workspace_route("kustomer-salesforce");
    assert!(ferry(&dir, &["transform"]).status.success());
    {
        let conn = db(&dir);
        conn.execute_batch(
            "CREATE TABLE customer_merge AS SELECT 'stale' AS x;
             CREATE TABLE out_sf_cases AS SELECT 'stale' AS x;
             CREATE TABLE my_own_table AS SELECT 1 AS x;",
        )
        .unwrap();
    }
    let out = ferry(&dir, &["transform", "--rebuild"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("customer_merge → int_customer_merge")
            && t.contains("out_sf_cases → out_salesforce_cases"),
        "{t}"
    );
    assert_eq!(
        strings(
            &db(&dir),
            "SELECT table_name FROM duckdb_tables() WHERE table_name IN ('customer_merge', 'out_sf_cases', 'my_own_table', 'int_customer_merge', 'out_salesforce_cases') ORDER BY 1"
        ),
        vec!["int_customer_merge", "my_own_table", "out_salesforce_cases"]
    );
}

#[test]
fn a_failing_check_exits_3_and_names_the_rows() {
    let (_t, dir) = fixture_workspace();
    assert!(ferry(&dir, &["sql", "eject"]).status.success());
    // Remove `snoozed` from the status map: the unmapped-status check fails.
    let seed = dir.join("sql/kustomer_zendesk/seeds/status_map.csv");
    std::fs::write(
        &seed,
        std::fs::read_to_string(&seed)
            .unwrap()
            .replace("snoozed,pending,pending\n", ""),
    )
    .unwrap();
    let out = ferry(&dir, &["transform"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("CHECK FAILED: unmapped_status") && t.contains("snoozed"),
        "{t}"
    );
    // A broken ejected script is named by the copy the user edits, with
    // DuckDB's LINE quote and its caret on their own lines.
    let script = dir.join("sql/kustomer_zendesk/013_int_comment_source.sql");
    let text0 = std::fs::read_to_string(&script).unwrap();
    std::fs::write(
        &script,
        format!("SELECT no_such_column FROM stg_messages;\n{text0}"),
    )
    .unwrap();
    let out = ferry(&dir, &["transform"]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains(script.to_str().unwrap()), "{t}");
    let caret = t
        .lines()
        .position(|l| l.starts_with("LINE 1: SELECT no_such_column"))
        .unwrap_or_else(|| panic!("no LINE quote on its own line: {t}"));
    assert!(
        t.lines()
            .nth(caret + 1)
            .is_some_and(|l| l.trim().starts_with('^') && l.starts_with("        ")),
        "the caret under the token: {t}"
    );
}

#[test]
fn the_simulators_ugly_org_transforms_with_every_check_passing() {
    let sim = Sim::start(&["--seed", "21", "--customers", "60"]);
    let (_t, dir) = workspace(&sim.url, &[]);
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = ferry(&dir, &["transform"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("checks passed"), "{}", text(&out));
    let conn = db(&dir);
    // The 120-field klass is split into two custom objects (95 fields and
    // ferry's five fill the first: the lookups to the user and
    // organization, the description, external id and tags).
    assert_eq!(
        strings(&conn, "SELECT key || ':' || field_count FROM out_zendesk_custom_objects WHERE key LIKE 'wide_device%' ORDER BY key"),
        vec!["wide_device:95", "wide_device_2:25"]
    );
    // The 5,050-message conversation is split; long bodies are split.
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM out_zendesk_tickets WHERE part_count > 1"
        ) >= 2
    );
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM out_zendesk_comments WHERE chunk_count > 1"
        ) > 0
    );
    // Split HTML bodies stay HTML in every piece (never raw markup in
    // `body`), every piece fits Zendesk's byte limit, and the pieces of a
    // body concatenate to it.
    assert!(
        count(&conn, "SELECT count(*) FROM out_zendesk_comments WHERE chunk_count > 1 AND html_body IS NOT NULL") > 0,
        "the org has long HTML bodies"
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM out_zendesk_comments WHERE body ILIKE '%<html%' OR body ILIKE '%<p>%'"),
        0
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM out_zendesk_comments WHERE strlen(coalesce(html_body, body)) > 65535 - 2048"),
        0
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM (SELECT source_record_id, string_agg(coalesce(html_body, body), '' ORDER BY chunk_no) AS b
                      FROM out_zendesk_comments WHERE chunk_count > 1 GROUP BY 1) j
                      JOIN int_comment_source s ON s.source_id = j.source_record_id WHERE s.body <> j.b"),
        0
    );
    // Customers sharing an email were merged; nothing is unaccounted for.
    assert!(count(&conn, "SELECT count(*) FROM int_customer_merge") > 0);
    let raw_total = count(&conn, "SELECT (SELECT count(*) FROM raw_kustomer_messages) + (SELECT count(*) FROM raw_kustomer_notes)");
    let accounted = count(
        &conn,
        "SELECT count(*) FROM ferry_accounting WHERE object IN ('messages', 'notes')",
    );
    assert_eq!(raw_total, accounted);
    drop(conn);
    // A new extraction makes the plan stale: everything reruns.
    sim.post("/__sim/mutate", serde_json::json!({"count": 3}));
    assert!(ferry(&dir, &["extract", "--no-progress"]).status.success());
    let plan = text(&ferry(&dir, &["transform", "--plan"]));
    assert!(
        plan.contains("raw data was extracted after the last transform"),
        "{plan}"
    );
}

/// Staging parses each record once (json_transform). Parsing once per
/// column kept a parse arena per column and thread (~40 MB each at full
/// chunks), so a 2,000-customer org ran out of memory at 128 MB in
/// staging; now the whole transform fits in that limit and
/// DuckDB spills what does not.
#[test]
fn a_2000_customer_org_transforms_within_a_128mb_memory_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(bin())
        .args([
            "bench",
            "transform",
            "--customers",
            "2000",
            "--memory-limit",
            "128MB",
            "--keep",
        ])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let dir = t
        .lines()
        .find_map(|l| l.trim().strip_prefix("workspace kept: "))
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("no kept workspace in: {t}"));
    assert!(std::fs::read_to_string(dir.join("ferry.toml"))
        .unwrap()
        .contains("memory_limit = \"128MB\""));
    let conn = db(&dir);
    assert_eq!(
        strings(
            &conn,
            "SELECT DISTINCT status FROM ferry_sql_ledger WHERE version > 0"
        ),
        vec!["applied"]
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_sql_ledger WHERE version > 0"
        ),
        62,
        "every script of every layer"
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM stg_customers"), 2000);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM stg_conversations"),
        count(&conn, "SELECT count(*) FROM raw_kustomer_conversations")
    );
    assert!(count(&conn, "SELECT count(*) FROM stg_conversations") > 3000);
    assert!(count(&conn, "SELECT count(*) FROM out_zendesk_comments") > 40_000);
}

/// An edited seed with a slip is named by its file and line, before any
/// script reads it: a row with an unquoted comma, a renamed column.
#[test]
fn a_malformed_seed_row_is_named_by_file_and_line() {
    let (_t, dir) = fixture_workspace();
    assert!(ferry(&dir, &["sql", "eject", "seeds/status_map.csv"])
        .status
        .success());
    let seed = dir.join("sql/kustomer_zendesk/seeds/status_map.csv");
    let good = std::fs::read_to_string(&seed).unwrap();
    let lines = good.lines().count();
    std::fs::write(&seed, format!("{good}waiting,pending,on hold, really\n")).unwrap();
    let out = ferry(&dir, &["transform"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("seeds/status_map.csv line ") && t.contains(&format!("line {}", lines + 1)),
        "{t}"
    );
    assert!(t.contains("4 fields, the header has 3"), "{t}");
    assert!(!t.contains("Binder Error"), "{t}");
    let renamed = good.replacen("kustomer_status", "status", 1);
    std::fs::write(&seed, renamed).unwrap();
    let t = text(&ferry(&dir, &["transform"]));
    assert!(
        t.contains("line 1") && t.contains("keep those names"),
        "{t}"
    );
}

/// The same fixture org through the Salesforce route: what the shared
/// source layer decides (merges, disposition) and what the route maps.
#[test]
fn golden_fixtures_give_exact_salesforce_rows() {
    let (_t, dir) = fixture_workspace_route("kustomer-salesforce");
    let out = ferry(&dir, &["transform"]);
    assert!(out.status.success(), "{}", text(&out));
    let conn = db(&dir);
    // Companies sharing a domain are one Account (the route's mapping).
    assert_eq!(
        rows(&conn, "SELECT source_id, name, coalesce(website, '-'), replace(description, chr(10), ' / ') FROM out_salesforce_accounts ORDER BY 1"),
        vec![
            r#"co-acme | Acme | acme.test | Kustomer company co-acme / Domains: acme-inc.test, acme.test / Also Kustomer companies: co-acme2"#,
            r#"co-glob | Acme | globex.test | Kustomer company co-glob / Domains: globex.test"#,
        ]
    );
    assert_eq!(
        rows(&conn, "SELECT source_id, coalesce(first_name, '-'), last_name, coalesce(email, '-'), coalesce(account_source_id, '-') FROM out_salesforce_contacts ORDER BY 1"),
        vec![
            r#"cu-jose | José | Müller | jose@example.com | co-acme"#,
        ]
    );
    assert_eq!(
        rows(&conn, "SELECT source_id, last_name, coalesce(email, '-'), company FROM out_salesforce_leads ORDER BY 1"),
        vec![
            r#"cu-nobody | Kustomer customer cu-nobody | - | Individual"#,
            r#"cu-zoe | 🙂 | - | Individual"#,
        ]
    );
    assert_eq!(
        rows(&conn, "SELECT source_id, coalesce(contact_source_id, '-'), coalesce(account_source_id, '-'), coalesce(owner_source_id, '-'), subject, status, priority, coalesce(origin, '-'), coalesce(tag_names, '-') FROM out_salesforce_cases ORDER BY 1"),
        vec![
            r#"cv-empty | - | - | - | nothing | New | Medium | Web | -"#,
            r#"cv-giant | - | - | - | Endless thread | New | Medium | Web | -"#,
            r#"cv-long | - | - | - | Stack trace | New | Medium | Email | -"#,
            r#"cv-new-done | - | - | - | Thanks | Closed | High | Web | -"#,
            r#"cv-old-done | cu-jose | co-acme | u-key | Refund | Closed | Medium | Phone | -"#,
            r#"cv-open | cu-jose | co-acme | u-bob | Where is my order? | New | High | Email | -"#,
            r#"cv-snooze | - | - | - | (no subject) | Working | Low | Web | -"#,
        ]
    );
    assert_eq!(
        rows(&conn, "SELECT conversation_id, kind, count(*), max(n_parts) FROM out_salesforce_messages GROUP BY ALL ORDER BY ALL"),
        vec![
            r#"cv-giant | message | 5001 | 1"#,
            r#"cv-long | message | 3 | 3"#,
            r#"cv-new-done | message | 1 | 1"#,
            r#"cv-old-done | message | 1 | 1"#,
            r#"cv-open | message | 3 | 1"#,
            r#"cv-open | note | 1 | 1"#,
            r#"cv-snooze | message | 1 | 1"#,
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT object, bucket, count(*) FROM ferry_accounting GROUP BY ALL ORDER BY ALL"
        ),
        vec![
            r#"attachments | output | 1"#,
            r#"audit_logs | archived | 1"#,
            r#"companies | merged | 1"#,
            r#"companies | output | 2"#,
            r#"conversations | excluded | 1"#,
            r#"conversations | output | 7"#,
            r#"customer_events | archived | 1"#,
            r#"customers | merged | 1"#,
            r#"customers | output | 3"#,
            r#"klasses | merged | 1"#,
            r#"kobjects | output | 2"#,
            r#"message_contents | merged | 5"#,
            r#"messages | excluded | 1"#,
            r#"messages | output | 5008"#,
            r#"notes | output | 1"#,
            r#"shortcuts | excluded | 2"#,
            r#"slas | excluded | 1"#,
            r#"tags | excluded | 1"#,
            r#"tags | output | 2"#,
            r#"teams | excluded | 1"#,
            r#"teams | output | 1"#,
            r#"users | excluded | 1"#,
            r#"users | output | 2"#,
        ]
    );
}

/// The same fixture org through the Enchant route.
#[test]
fn golden_fixtures_give_exact_enchant_rows() {
    let (_t, dir) = fixture_workspace_route("kustomer-enchant");
    let out = ferry(&dir, &["transform"]);
    // No label map yet: the tags without an Enchant label are named.
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("unmapped_labels"), "{}", text(&out));
    let conn = db(&dir);
    assert_eq!(
        rows(&conn, "SELECT source_id, coalesce(email, '-'), first_name, last_name, replace(summary, chr(10), ' / '), contacts::VARCHAR FROM out_enchant_customers ORDER BY 1"),
        vec![
            r#"cu-jose | jose@example.com | José | Müller | Kustomer customer cu-jose / Tags: VIP Customer / loyaltyTierStr: gold / signupAt: 2019-05-01T00:00:00.000Z / vipBool: true / Company: ACME Inc (acme.test, acme-inc.test) | [{'type': email, 'value': jm@alt.test}, {'type': email, 'value': jose@example.com}, {'type': email, 'value': jose@work.test}, {'type': phone, 'value': +44 7700 900001}]"#,
            r#"cu-nobody | - |  | Kustomer customer cu-nobody | []"#,
            r#"cu-zoe | - | Zoë | 李 🙂 | Kustomer customer cu-zoe | [{'type': phone, 'value': +1 555 0100}]"#,
        ]
    );
    assert_eq!(
        rows(&conn, "SELECT source_id, customer_source_id, coalesce(assignee_source_id, '-'), subject, state, tag_names::VARCHAR, unmapped_tags::VARCHAR, coalesce(channel, '-') FROM out_enchant_tickets ORDER BY 1"),
        vec![
            r#"cv-empty | cu-zoe | - | nothing | open | [] | [] | chat"#,
            r#"cv-giant | cu-zoe | - | Endless thread | open | [] | [] | chat"#,
            r#"cv-long | cu-zoe | - | Stack trace | open | [] | [] | email"#,
            r#"cv-new-done | cu-zoe | - | Thanks | closed | [] | [] | form"#,
            r#"cv-old-done | cu-jose | u-key | Refund | closed | [] | [] | sms"#,
            r#"cv-open | cu-jose | u-bob | Where is my order? | open | [VIP Customer, Ünïcode Tag!] | [VIP Customer, Ünïcode Tag!] | email"#,
            r#"cv-snooze | cu-zoe | - | Hi there, my parcel is late | hold | [] | [] | chat"#,
        ]
    );
    assert_eq!(
        rows(&conn, "SELECT position, source_id, kind, author_kind, coalesce(author_user_id, '-') FROM out_enchant_messages WHERE conversation_id = 'cv-open' ORDER BY position"),
        vec![
            r#"1 | m3 | message | customer | -"#,
            r#"2 | m1 | message | customer | -"#,
            r#"3 | n1 | note | agent | u-bob"#,
            r#"4 | m2 | message | agent | u-ann"#,
        ]
    );
    assert_eq!(
        rows(&conn, "SELECT source_id, ticket_source_id, kobject_ids::VARCHAR FROM out_enchant_kobject_notes ORDER BY 1"),
        vec![
            r#"kobjects:cu-jose | cv-open | [ko-1]"#,
            r#"kobjects:cu-zoe | cv-new-done | [ko-2]"#,
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT object, bucket, count(*) FROM ferry_accounting GROUP BY ALL ORDER BY ALL"
        ),
        vec![
            r#"attachments | output | 1"#,
            r#"audit_logs | archived | 1"#,
            r#"companies | excluded | 2"#,
            r#"companies | merged | 1"#,
            r#"conversations | excluded | 1"#,
            r#"conversations | output | 7"#,
            r#"customer_events | archived | 1"#,
            r#"customers | merged | 1"#,
            r#"customers | output | 3"#,
            r#"klasses | merged | 1"#,
            r#"kobjects | output | 2"#,
            r#"message_contents | merged | 5"#,
            r#"messages | excluded | 1"#,
            r#"messages | output | 5008"#,
            r#"notes | output | 1"#,
            r#"shortcuts | excluded | 2"#,
            r#"slas | excluded | 1"#,
            r#"tags | excluded | 3"#,
            r#"teams | excluded | 2"#,
            r#"users | excluded | 1"#,
            r#"users | output | 2"#,
        ]
    );
}

/// The Intercom route's transform on a small seeded workspace, extracted
/// from the Intercom simulator: exact rows (times left out: the simulator
/// dates its records from today), so a change to the Intercom source layer
/// shows its effect here.
#[test]
fn golden_intercom_workspace_gives_exact_kustomer_rows() {
    let ic = Sim::intercom(&["--seed", "5", "--contacts", "6"]);
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("ws");
    let out = std::process::Command::new(bin())
        .arg("init")
        .arg(&dir)
        .args(["--route", "intercom-kustomer", "--source-url", &ic.url])
        .args(["--dest-url", "http://127.0.0.1:9", "--rate-limit", "100000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = ferry(&dir, &["transform"]);
    assert!(out.status.success(), "{}", text(&out));
    let conn = db(&dir);
    assert_eq!(
        rows(&conn, "SELECT source_id, coalesce(name, '-'), coalesce(email, '-'), role, coalesce(company_source_id, '-'), tag_names::VARCHAR FROM out_kustomer_customers ORDER BY 1"),
        vec![
            r#"6500000200000000004c4b4f | Person 0 | person0@example.org | user | - | [VIP]"#,
            r#"6500000200000000004c4b50 | Person 1 | person1@example.org | user | 6500000100000000004c4b50"#,
            r#"6500000200000000004c4b51 | Person 2 | person2@example.org | user | 6500000100000000004c4b51"#,
            r#"6500000200000000004c4b53 | Person 4 | person4@example.org | user | 6500000100000000004c4b50"#,
            r#"6500000200000000004c4b54 | - | person5@example.org | user | 6500000100000000004c4b51 | [VIP]"#,
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT contact_id, into_contact_id, reason FROM int_contact_merge ORDER BY 1"
        ),
        vec![
            r#"6500000200000000004c4b52 | 6500000200000000004c4b51 | lead sharing the email person2@example.org with user 6500000200000000004c4b51"#,
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT source_id, name, domains::VARCHAR FROM out_kustomer_companies ORDER BY 1"
        ),
        vec![
            r#"6500000100000000004c4b4f | Company 0 | [{'domain': company0.example.com}]"#,
            r#"6500000100000000004c4b50 | Company 1 | [{'domain': company1.example.com}]"#,
            r#"6500000100000000004c4b51 | Company 2 | [{'domain': company2.example.com}]"#,
        ]
    );
    assert_eq!(
        rows(&conn, "SELECT source_id, customer_source_id, status, coalesce(priority::VARCHAR, '-'), channel, tag_names::VARCHAR, parts_total, parts_read FROM out_kustomer_conversations ORDER BY 1"),
        vec![
            r#"2000000 | 6500000200000000004c4b4f | open | 4 | conversation | [VIP] | 6 | 6"#,
            r#"2000001 | 6500000200000000004c4b50 | done | 3 | email | [] | 600 | 500"#,
            r#"2000002 | 6500000200000000004c4b51 | open | 3 | conversation | [Bug] | 6 | 6"#,
            r#"2000003 | 6500000200000000004c4b51 | open | 3 | whatsapp | [] | 3 | 3"#,
            r#"2000004 | 6500000200000000004c4b53 | done | 3 | conversation | [Feature request] | 6 | 6"#,
            r#"2000005 | 6500000200000000004c4b54 | open | 4 | email | [] | 6 | 6"#,
            r#"2000006 | 6500000200000000004c4b4f | open | 3 | conversation | [Enterprise] | 8 | 8"#,
            r#"2000007 | 6500000200000000004c4b50 | done | 3 | whatsapp | [] | 5 | 5"#,
            r#"2000008 | 6500000200000000004c4b51 | open | 3 | conversation | [VIP] | 5 | 5"#,
        ]
    );
    assert_eq!(
        rows(&conn, "SELECT conversation_source_id, direction, count(*), count(*) FILTER (WHERE len(attachment_ids) > 0) FROM out_kustomer_messages GROUP BY ALL ORDER BY ALL"),
        vec![
            r#"2000000 | in | 3 | 2"#,
            r#"2000000 | out | 2 | 0"#,
            r#"2000001 | in | 144 | 29"#,
            r#"2000001 | out | 143 | 28"#,
            r#"2000002 | in | 3 | 1"#,
            r#"2000002 | out | 2 | 0"#,
            r#"2000003 | in | 2 | 2"#,
            r#"2000003 | out | 2 | 0"#,
            r#"2000004 | in | 3 | 1"#,
            r#"2000004 | out | 2 | 0"#,
            r#"2000005 | in | 3 | 1"#,
            r#"2000005 | out | 2 | 0"#,
            r#"2000006 | in | 3 | 2"#,
            r#"2000006 | out | 3 | 0"#,
            r#"2000007 | in | 3 | 1"#,
            r#"2000007 | out | 2 | 0"#,
            r#"2000008 | in | 3 | 1"#,
            r#"2000008 | out | 2 | 0"#,
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT object, bucket, count(*) FROM ferry_accounting GROUP BY ALL ORDER BY ALL"
        ),
        vec![
            r#"admins | output | 8"#,
            r#"article_images | merged | 1"#,
            r#"articles | output | 6"#,
            r#"attachments | output | 71"#,
            r#"collections | output | 3"#,
            r#"companies | output | 3"#,
            r#"contact_notes | archived | 7"#,
            r#"contacts | merged | 1"#,
            r#"contacts | output | 5"#,
            r#"conversations | output | 9"#,
            r#"data_attributes | excluded | 4"#,
            r#"data_attributes | output | 10"#,
            r#"event_summaries | archived | 6"#,
            r#"segment_members | archived | 6"#,
            r#"segments | archived | 3"#,
            r#"tags | merged | 8"#,
            r#"teams | output | 3"#,
            r#"ticket_types | output | 1"#,
            r#"tickets | output | 1"#,
        ]
    );
    // The Help Center: categories parents first, one version per article
    // and language, the image named by its bytes, the link by its article.
    assert_eq!(
        rows(
            &conn,
            "SELECT source_id, coalesce(parent_source_id, '-'), depth, title, lang FROM out_kustomer_kb_categories ORDER BY depth, source_id"
        ),
        vec![
            r#"4000 | - | 1 | Getting started | en_us"#,
            r#"4001 | - | 1 | Billing | en_us"#,
            r#"4002 | 4001 | 2 | Invoices | en_us"#,
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT source_id, lang, published, slug, regexp_extract(html_body, 'ferry-(image|article):[0-9a-z_:-]{0,20}', 0) FROM out_kustomer_kb_versions ORDER BY 1"
        ),
        GOLDEN_KB_VERSIONS.to_vec()
    );
}

/// out_kustomer_kb_versions of the golden workspace: (article/locale,
/// lang, published, slug, the first placeholder in the body).
const GOLDEN_KB_VERSIONS: &[&str] = &[
    "7000/en | en_us | true | how-to-0 | ",
    "7000/fr | fr | true | comment-0 | ",
    "7001/en | en_us | true | how-to-1 | ferry-image:0f4636c78f65d3639ece",
    "7001/fr | fr | true | comment-1 | ",
    "7002/en | en_us | true | how-to-2 | ",
    "7002/fr | fr | true | comment-2 | ",
    "7003/en | en_us | true | how-to-3 | ",
    "7003/fr | fr | true | comment-3 | ",
    // A draft: no public URL, so its slug comes from its title.
    "7004/en | en_us | false | how-to-4 | ",
    "7004/fr | fr | true | comment-4 | ",
    "7005/en | en_us | true | download-an-invoice | ferry-article:7000:en_us:how-to-0",
];
