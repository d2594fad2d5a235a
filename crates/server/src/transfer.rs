//! Import of a DTSEN extract (JSONL of core `Keluarga`, one per line) into a region, and
//! export of current households and the change log (JSONL, CSV).
//!
//! Import validates every line with tepat-core and reports rejects with line numbers;
//! a line is rejected when it does not parse, has validation errors, lies outside the
//! region, already exists, or has an active NIK that is active in another family.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{Value, json};
use tepat_core::{ValidationContext, parse_and_validate, parse_keluarga};

use crate::auth::User;
use crate::db::{Db, rfc3339};
use crate::state::AppState;
use crate::store;

#[derive(Serialize, Debug, Default)]
pub struct ImportReport {
    pub lines: usize,
    pub imported: usize,
    pub rejected: Vec<Reject>,
}

#[derive(Serialize, Debug)]
pub struct Reject {
    /// 1-based line number in the file.
    pub line: usize,
    pub reason: String,
    #[serde(skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

/// Imports JSONL text into `region` (a code at any level). `user` is None from the CLI.
pub async fn import_jsonl(
    state: &AppState,
    user: Option<&User>,
    region: &str,
    text: &str,
) -> anyhow::Result<ImportReport> {
    let rulebook = crate::api::sync::current_rulebook();
    let ctx = ValidationContext {
        rulebook,
        regions: &state.regions,
        today: state.today(),
    };
    let mut report = ImportReport::default();
    let mut good = Vec::new();
    let mut seen_kk = HashSet::new();
    let mut seen_nik = HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        report.lines += 1;
        let mut reject = |reason: &str, details: Value| {
            report.rejected.push(Reject {
                line,
                reason: reason.to_owned(),
                details,
            })
        };
        let k = match parse_keluarga(raw.as_bytes()) {
            Ok(k) => k,
            Err(e) => {
                reject("parse", serde_json::to_value(&e).unwrap_or(Value::Null));
                continue;
            }
        };
        let rep = match parse_and_validate(raw.as_bytes(), &ctx) {
            Ok(r) => r,
            Err(e) => {
                reject("parse", serde_json::to_value(&e).unwrap_or(Value::Null));
                continue;
            }
        };
        if !rep.valid {
            let errors: Vec<_> = rep.findings.iter().filter(|f| f.is_error()).collect();
            reject("invalid", json!({ "findings": errors }));
            continue;
        }
        let village = store::village_of(&k);
        let inside = village == region
            || (village.len() > region.len()
                && village.starts_with(region)
                && village.as_bytes()[region.len()] == b'.');
        if !inside {
            reject(
                "outside_region",
                json!({ "village": village, "region": region }),
            );
            continue;
        }
        if !seen_kk.insert(k.no_kk.clone()) {
            reject("duplicate_no_kk", json!({ "path": "no_kk" }));
            continue;
        }
        let dup = k.active_members().position(|a| seen_nik.contains(&a.nik));
        if let Some(i) = dup {
            reject(
                "duplicate_nik",
                json!({ "path": format!("anggota[{i}].nik") }),
            );
            continue;
        }
        for a in k.active_members() {
            seen_nik.insert(a.nik.clone());
        }
        good.push((line, k));
    }
    let mut tx = state.db.pool.begin().await?;
    store::lock(&mut tx).await?;
    for (line, mut k) in good {
        if store::head(&mut *tx, &k.no_kk).await?.is_some() {
            report.rejected.push(Reject {
                line,
                reason: "exists".into(),
                details: json!({ "path": "no_kk" }),
            });
            continue;
        }
        let dups = store::niks_elsewhere(&mut tx, &k).await?;
        if !dups.is_empty() {
            report.rejected.push(Reject {
                line,
                reason: "duplicate_nik".into(),
                details: json!({ "count": dups.len() }),
            });
            continue;
        }
        if k.version == 0 {
            k.version = 1;
        }
        store::save(&mut tx, &k, user.map(|u| u.id), None).await?;
        report.imported += 1;
    }
    report.rejected.sort_by_key(|r| r.line);
    crate::audit::record_with_details(
        &mut *tx,
        user,
        "import",
        Some(&store::province_of(region)),
        None,
        None,
        None,
        None,
        Some(&json!({ "region": region, "lines": report.lines, "imported": report.imported, "rejected": report.rejected.len() }).to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum What {
    Households,
    Changes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jsonl,
    Csv,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Exports in scope (`None` = everything). Households: JSONL of current `Keluarga`, or CSV
/// with one row per member. Changes: the change log (one row per pushed request).
pub async fn export(
    db: &Db,
    user: Option<&User>,
    what: What,
    format: Format,
) -> anyhow::Result<String> {
    let covers = |village: &str| user.is_none_or(|u| u.can_read(village));
    let mut out = String::new();
    match what {
        What::Households => {
            let rows: Vec<(String, String, i64, String)> =
                sqlx::query_as("SELECT id, village, version, payload FROM households ORDER BY id")
                    .fetch_all(&db.pool)
                    .await?;
            if format == Format::Csv {
                out.push_str(
                    "no_kk,version,village,status,nik,name,sex,birth_date,relationship,presence\n",
                );
            }
            for (no_kk, village, version, payload) in rows.into_iter().filter(|r| covers(&r.1)) {
                match format {
                    Format::Jsonl => {
                        out.push_str(&payload);
                        out.push('\n');
                    }
                    Format::Csv => {
                        let k: Value = serde_json::from_str(&payload)?;
                        let status = k["status"].as_str().unwrap_or("").to_owned();
                        for a in k["anggota"].as_array().into_iter().flatten() {
                            let f = |key: &str| match &a[key] {
                                Value::String(s) => s.clone(),
                                Value::Null => String::new(),
                                v => v.to_string(),
                            };
                            let fields = [
                                no_kk.clone(),
                                version.to_string(),
                                village.clone(),
                                status.clone(),
                                f("nik"),
                                f("name"),
                                f("sex"),
                                f("birth_date"),
                                f("relationship"),
                                f("presence"),
                            ];
                            let line: Vec<String> = fields.iter().map(|s| csv_field(s)).collect();
                            out.push_str(&line.join(","));
                            out.push('\n');
                        }
                    }
                }
            }
        }
        What::Changes => {
            type Row = (
                String,
                String,
                String,
                String,
                i64,
                String,
                String,
                String,
                Option<i64>,
                i64,
                String,
            );
            let rows: Vec<Row> = sqlx::query_as(
                "SELECT c.id, c.household_id, c.village, c.kind, c.base_version, c.outcome, c.status, c.content_hash, \
                 c.result_version, c.created_at, u.username FROM change_requests c JOIN users u ON u.id = c.user_id ORDER BY c.created_at, c.id",
            )
            .fetch_all(&db.pool)
            .await?;
            if format == Format::Csv {
                out.push_str("id,no_kk,village,kind,base_version,outcome,status,content_hash,result_version,created_at,submitted_by\n");
            }
            for r in rows.into_iter().filter(|r| covers(&r.2)) {
                match format {
                    Format::Jsonl => {
                        out.push_str(
                            &json!({
                                "id": r.0, "no_kk": r.1, "village": r.2, "kind": r.3, "base_version": r.4,
                                "outcome": r.5, "status": r.6, "content_hash": r.7, "result_version": r.8,
                                "created_at": rfc3339(r.9), "submitted_by": r.10,
                            })
                            .to_string(),
                        );
                        out.push('\n');
                    }
                    Format::Csv => {
                        let fields = [
                            r.0,
                            r.1,
                            r.2,
                            r.3,
                            r.4.to_string(),
                            r.5,
                            r.6,
                            r.7,
                            r.8.map(|v| v.to_string()).unwrap_or_default(),
                            rfc3339(r.9),
                            r.10,
                        ];
                        let line: Vec<String> = fields.iter().map(|s| csv_field(s)).collect();
                        out.push_str(&line.join(","));
                        out.push('\n');
                    }
                }
            }
        }
    }
    Ok(out)
}
