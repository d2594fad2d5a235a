//! Import of a DTSEN extract (JSONL of core `Keluarga`, one per line) into a region, and
//! export of current households and the change log (JSONL, CSV).
//!
//! Import validates every line with tepat-core and reports rejects with line numbers;
//! a line is rejected when it does not parse, has validation errors, lies outside the
//! region, already exists, or has an active NIK that is active in another family.

use std::collections::HashSet;

use anyhow::Context;
use serde::Serialize;
use serde_json::{Value, json};
use tepat_core::{Text, ValidationContext, parse_and_validate, parse_keluarga};

use crate::auth::User;
use crate::db::{Db, rfc3339};
use crate::state::{AppState, today_at};
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
    /// Why, for people, in both languages (never a NIK or a name).
    pub message: Text,
    #[serde(skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

impl Reject {
    fn new(line: usize, reason: &str, details: Value) -> Reject {
        Reject {
            line,
            reason: reason.to_owned(),
            message: reject_message(reason, &details),
            details,
        }
    }
}

/// The sentence for a reject: its reason, then the core's own messages (parse problems,
/// error findings) when there are any.
fn reject_message(reason: &str, details: &Value) -> Text {
    let (id, en) = match reason {
        "parse" => ("Baris tidak dapat dibaca", "The line cannot be read"),
        "invalid" => (
            "Data keluarga tidak valid",
            "The family's data is not valid",
        ),
        "outside_region" => (
            "Desa keluarga di luar wilayah impor",
            "The family's village is outside the import's region",
        ),
        "duplicate_no_kk" => (
            "No. KK muncul lebih dari sekali di berkas",
            "The No. KK appears more than once in the file",
        ),
        "duplicate_nik" => (
            "NIK aktif juga tercatat di keluarga lain",
            "An active NIK is also recorded in another family",
        ),
        "exists" => (
            "No. KK sudah ada di register",
            "The No. KK is already in the register",
        ),
        _ => ("Ditolak", "Rejected"),
    };
    let messages: Vec<&Value> = details["problems"]
        .as_array()
        .or_else(|| details["findings"].as_array())
        .into_iter()
        .flatten()
        .map(|p| &p["message"])
        .collect();
    let join = |lang: &str| {
        messages
            .iter()
            .filter_map(|m| m[lang].as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let (more_id, more_en) = match details["message"].as_object() {
        Some(m) => (
            m.get("id").and_then(Value::as_str).unwrap_or("").to_owned(),
            m.get("en").and_then(Value::as_str).unwrap_or("").to_owned(),
        ),
        None => (join("id"), join("en")),
    };
    if more_id.is_empty() {
        Text::new(format!("{id}."), format!("{en}."))
    } else {
        Text::new(format!("{id}: {more_id}"), format!("{en}: {more_en}"))
    }
}

/// Imports JSONL text into `region` (a code at any level). `user` is None from the CLI.
pub async fn import_jsonl(
    state: &AppState,
    user: Option<&User>,
    region: &str,
    text: &str,
) -> anyhow::Result<ImportReport> {
    let records: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.trim().to_owned()))
        .collect();
    import_records(state, user, region, records, Vec::new()).await
}

/// Imports CSV (see [`csv_to_records`] for the column mapping).
pub async fn import_csv(
    state: &AppState,
    user: Option<&User>,
    region: &str,
    text: &str,
) -> anyhow::Result<ImportReport> {
    let (records, rejects) = csv_to_records(text);
    import_records(state, user, region, records, rejects).await
}

/// Imports records (line, JSON text of one `Keluarga`).
async fn import_records(
    state: &AppState,
    user: Option<&User>,
    region: &str,
    records: Vec<(usize, String)>,
    early_rejects: Vec<Reject>,
) -> anyhow::Result<ImportReport> {
    let registry = state.rulebooks().await?;
    let rulebook = &registry.current.rulebook;
    let now = state.now();
    let mut ctx = ValidationContext {
        rulebook,
        regions: &state.regions,
        today: today_at(now, region),
    };
    let mut report = ImportReport {
        lines: records.len() + early_rejects.len(),
        imported: 0,
        rejected: early_rejects,
    };
    let mut good = Vec::new();
    let mut seen_kk = HashSet::new();
    let mut seen_nik = HashSet::new();
    for (line, raw) in &records {
        let (line, raw) = (*line, raw.as_str());
        let mut reject =
            |reason: &str, details: Value| report.rejected.push(Reject::new(line, reason, details));
        let k = match parse_keluarga(raw.as_bytes()) {
            Ok(k) => k,
            Err(e) => {
                reject("parse", serde_json::to_value(&e).unwrap_or(Value::Null));
                continue;
            }
        };
        // Each family is judged on its own province's date.
        ctx.today = today_at(now, store::village_of(&k));
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
            report
                .rejected
                .push(Reject::new(line, "exists", json!({ "path": "no_kk" })));
            continue;
        }
        let dups = store::niks_elsewhere(&mut tx, &k, None).await?;
        if !dups.is_empty() {
            report.rejected.push(Reject::new(
                line,
                "duplicate_nik",
                json!({ "count": dups.len() }),
            ));
            continue;
        }
        if k.version == 0 {
            k.version = 1;
        }
        store::save(&mut tx, &k, user.map(|u| u.id), None).await?;
        report.imported += 1;
    }
    report.rejected.sort_by_key(|r| r.line);
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user,
            action: "import",
            province: Some(&store::province_of(region)),
            details: Some(&json!({ "region": region, "lines": report.lines, "imported": report.imported, "rejected": report.rejected.len() }).to_string()),
            ..Default::default()
        },
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

impl What {
    pub fn name(self) -> &'static str {
        match self {
            What::Households => "households",
            What::Changes => "changes",
        }
    }
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }
}

pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// How an export names families, people and changes.
pub enum Identity {
    /// No. KK, NIK, names and addresses as stored.
    Full,
    /// Identifiers replaced by keyed hashes, names, streets and GPS points dropped.
    Pseudonymised(Pseudonymiser),
}

impl Identity {
    pub fn name(&self) -> &'static str {
        match self {
            Identity::Full => "full",
            Identity::Pseudonymised(_) => "pseudonymised",
        }
    }
}

/// Replaces identifiers by their HMAC-SHA256 (hex) under a key made for one export:
/// the same No. KK or NIK gets the same value throughout that export (its rows link to
/// each other: a split's `origin_kk` to the family it came from), and the key is thrown
/// away with it, so nothing links them to the register or to another export.
pub struct Pseudonymiser {
    key: [u8; 32],
}

impl Pseudonymiser {
    /// A fresh random key (the operating system's generator).
    pub fn random() -> anyhow::Result<Pseudonymiser> {
        let mut key = [0u8; 32];
        getrandom::getrandom(&mut key)
            .map_err(|e| anyhow::anyhow!("no random key for the pseudonyms: {e}"))?;
        Ok(Pseudonymiser { key })
    }

    /// The pseudonym of one identifier (64 hex digits).
    pub fn id(&self, value: &str) -> String {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        mac.update(value.as_bytes());
        crate::auth::hex(&mac.finalize().into_bytes())
    }

    fn replace(&self, v: &mut Value) {
        if let Value::String(s) = v {
            *s = self.id(s);
        }
    }

    /// A family's JSON with its identifiers replaced and names, street and GPS dropped.
    pub fn family(&self, k: &mut Value) {
        for key in ["no_kk", "origin_kk", "merged_into"] {
            if let Some(v) = k.get_mut(key) {
                self.replace(v);
            }
        }
        if let Some(a) = k.get_mut("address").and_then(Value::as_object_mut) {
            a.remove("street");
        }
        if let Some(o) = k.as_object_mut() {
            o.remove("gps");
        }
        if let Some(v) = k.pointer_mut("/housing/pln_customer_id") {
            self.replace(v);
        }
        for a in k
            .get_mut("anggota")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(v) = a.get_mut("nik") {
                self.replace(v);
            }
            if let Some(o) = a.as_object_mut() {
                o.remove("name");
            }
        }
    }
}

/// An export spooled to an anonymous temporary file (removed when it is closed): rows are
/// read from the database as a stream and written out as they come, so memory stays
/// bounded whatever the register's size, and the row count is known for the audit entry
/// before anything is handed out.
pub struct Export {
    /// Rewound to its start.
    pub file: std::fs::File,
    /// Its length in bytes.
    pub bytes: u64,
    /// CSV lines after the header, or JSONL lines.
    pub rows: usize,
}

/// Who asks for an export and why, for its audit entry.
pub struct ExportRequest<'a> {
    /// `None`: the command line (`tepat export`), which reads the whole register.
    pub user: Option<&'a User>,
    pub what: What,
    pub format: Format,
    pub identity: Identity,
    /// Why the names and NIKs are needed (required of an analyst's full export).
    pub reason: Option<&'a str>,
    /// `api` or `cli`.
    pub via: &'a str,
}

/// [`export`] with its audit entry: who, what, the format, the scope (the caller's
/// regions, or `national`), whether names and NIKs are in it (and why) and how many
/// rows it holds. The entry is written before the export is handed out.
pub async fn export_audited(db: &Db, req: ExportRequest<'_>) -> anyhow::Result<Export> {
    use std::io::{Seek, Write};
    let mut out = std::io::BufWriter::with_capacity(
        1 << 16,
        tempfile::tempfile().context("a temporary file for the export")?,
    );
    let rows = export_with(db, req.user, req.what, req.format, &req.identity, &mut out).await?;
    out.flush()?;
    let mut file = out.into_inner().map_err(|e| e.into_error())?;
    let bytes = file.stream_position()?;
    file.rewind()?;
    let scope = match req.user {
        Some(u) if !u.role.is_national() => json!(u.regions),
        _ => json!("national"),
    };
    let mut details = json!({
        "what": req.what.name(),
        "format": req.format.name(),
        "lines": rows,
        "scope": scope,
        "identity": req.identity.name(),
        "via": req.via,
    });
    if let Some(r) = req.reason {
        details["reason"] = json!(r);
    }
    crate::audit::record(
        &db.pool,
        crate::audit::NewEntry {
            user: req.user,
            action: "export",
            details: Some(&details.to_string()),
            ..Default::default()
        },
    )
    .await?;
    Ok(Export { file, bytes, rows })
}

/// Exports in scope (`None` = everything) with names and NIKs; see [`export_with`].
pub async fn export(
    db: &Db,
    user: Option<&User>,
    what: What,
    format: Format,
) -> anyhow::Result<String> {
    let mut out = Vec::new();
    export_with(db, user, what, format, &Identity::Full, &mut out).await?;
    Ok(String::from_utf8(out)?)
}

/// Exports in scope (`None` = everything). Households: JSONL of current `Keluarga`, or CSV
/// with one row per member. Changes: the change log (one row per pushed request).
/// Pseudonymised, every No. KK, NIK, change id and content hash is its pseudonym, and
/// names (the CSV's `name` column too), streets and GPS points are left out.
///
/// Rows are read as a stream and written to `out` one by one; returns how many rows
/// (CSV lines after the header, JSONL lines) were written.
pub async fn export_with(
    db: &Db,
    user: Option<&User>,
    what: What,
    format: Format,
    identity: &Identity,
    out: &mut impl std::io::Write,
) -> anyhow::Result<usize> {
    use futures_util::TryStreamExt;
    // The scope is decided in the query: rows outside it are never read.
    let scoped = |column: &str| {
        crate::scope::sql_condition(user, column, 1)
            .map(|(c, b)| (format!(" WHERE {c}"), b))
            .unwrap_or_default()
    };
    let pseudo = match identity {
        Identity::Full => None,
        Identity::Pseudonymised(p) => Some(p),
    };
    let ps = |v: String| pseudo.map_or_else(|| v.clone(), |p| p.id(&v));
    let mut rows = 0usize;
    match what {
        What::Households => {
            let (scope_sql, binds) = scoped("h.village");
            let sql = format!(
                "SELECT h.id, h.village, h.version, v.payload FROM {}{scope_sql} ORDER BY h.id",
                crate::store::HEAD_FROM,
            );
            let mut q = sqlx::query_as::<_, (String, String, i64, String)>(&sql);
            for b in &binds {
                q = q.bind(b);
            }
            let mut stream = q.fetch(&db.pool);
            if format == Format::Csv {
                out.write_all(if pseudo.is_some() {
                    b"no_kk,version,village,status,nik,sex,birth_date,relationship,presence\n"
                } else {
                    b"no_kk,version,village,status,nik,name,sex,birth_date,relationship,presence\n"
                })?;
            }
            while let Some((no_kk, village, version, payload)) = stream.try_next().await? {
                match format {
                    Format::Jsonl => {
                        if let Some(p) = pseudo {
                            let mut k: Value = serde_json::from_str(&payload)?;
                            p.family(&mut k);
                            serde_json::to_writer(&mut *out, &k)?;
                        } else {
                            out.write_all(payload.as_bytes())?;
                        }
                        out.write_all(b"\n")?;
                        rows += 1;
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
                            let mut fields = vec![
                                ps(no_kk.clone()),
                                version.to_string(),
                                village.clone(),
                                status.clone(),
                                ps(f("nik")),
                                f("name"),
                                f("sex"),
                                f("birth_date"),
                                f("relationship"),
                                f("presence"),
                            ];
                            if pseudo.is_some() {
                                fields.remove(5);
                            }
                            let line: Vec<String> = fields.iter().map(|s| csv_field(s)).collect();
                            writeln!(out, "{}", line.join(","))?;
                            rows += 1;
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
            let (scope_sql, binds) = scoped("c.village");
            let sql = format!(
                "SELECT c.id, c.household_id, c.village, c.kind, c.base_version, c.outcome, c.status, c.content_hash, \
                 c.result_version, c.created_at, u.username FROM change_requests c JOIN users u ON u.id = c.user_id{scope_sql} \
                 ORDER BY c.created_at, c.id"
            );
            let mut q = sqlx::query_as::<_, Row>(&sql);
            for b in &binds {
                q = q.bind(b);
            }
            let mut stream = q.fetch(&db.pool);
            if format == Format::Csv {
                out.write_all(b"id,no_kk,village,kind,base_version,outcome,status,content_hash,result_version,created_at,submitted_by\n")?;
            }
            while let Some(mut r) = stream.try_next().await? {
                if pseudo.is_some() {
                    r.0 = ps(r.0);
                    r.1 = ps(r.1);
                    r.7 = ps(r.7);
                }
                match format {
                    Format::Jsonl => {
                        writeln!(
                            out,
                            "{}",
                            json!({
                                "id": r.0, "no_kk": r.1, "village": r.2, "kind": r.3, "base_version": r.4,
                                "outcome": r.5, "status": r.6, "content_hash": r.7, "result_version": r.8,
                                "created_at": rfc3339(r.9), "submitted_by": r.10,
                            })
                        )?;
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
                        writeln!(out, "{}", line.join(","))?;
                    }
                }
                rows += 1;
            }
        }
    }
    Ok(rows)
}

/// Parses RFC 4180 CSV into rows of fields, with the 1-based line each row starts on.
/// `Err(line)` for an unterminated quoted field.
fn csv_rows(text: &str) -> Result<Vec<(usize, Vec<String>)>, usize> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                any = true;
            }
            ',' => {
                row.push(std::mem::take(&mut field));
                any = true;
            }
            '\r' => {}
            '\n' => {
                if any || !field.is_empty() {
                    row.push(std::mem::take(&mut field));
                    rows.push((start, std::mem::take(&mut row)));
                }
                any = false;
                line += 1;
                start = line;
            }
            _ => {
                field.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err(start);
    }
    if any || !field.is_empty() {
        row.push(field);
        rows.push((start, row));
    }
    Ok(rows)
}

fn parse_reject(line: usize, message: Text) -> Reject {
    Reject::new(line, "parse", json!({ "message": message }))
}

/// The CSV column mapping (docs/api.md): one row per member; the header names JSON paths
/// of the core's `Keluarga` format. Family columns (`no_kk`, `address.village`,
/// `housing.floor`, …) are read from a family's first row; member columns are prefixed
/// `anggota.` (`anggota.nik`, `anggota.relationship`, `anggota.disability.seeing`, …).
/// Rows with the same `no_kk` form one family. Empty cells are unanswered. Values of
/// integer fields (by tepat-core's field table) become numbers, `gps.*` decimals,
/// everything else text; the core's parser then reports any misfit by path.
pub fn csv_to_records(text: &str) -> (Vec<(usize, String)>, Vec<Reject>) {
    let rows = match csv_rows(text) {
        Ok(r) => r,
        Err(line) => {
            return (
                Vec::new(),
                vec![parse_reject(
                    line,
                    Text::new(
                        "tanda kutip dibuka di sini tidak pernah ditutup (berkas terpotong?); tidak ada yang diimpor",
                        "a quote opened here is never closed (a truncated file?); nothing was imported",
                    ),
                )],
            );
        }
    };
    let mut it = rows.into_iter();
    let Some((_, header)) = it.next() else {
        return (Vec::new(), Vec::new());
    };
    let Some(kk_col) = header.iter().position(|h| h == "no_kk") else {
        return (
            Vec::new(),
            vec![parse_reject(
                1,
                Text::new(
                    "baris judul harus memuat kolom no_kk",
                    "the header needs a no_kk column",
                ),
            )],
        );
    };
    let mut order: Vec<String> = Vec::new();
    let mut families: std::collections::HashMap<String, (usize, Value)> = Default::default();
    let mut rejects = Vec::new();
    for (line, row) in it {
        if row.len() != header.len() {
            rejects.push(parse_reject(
                line,
                Text::new(
                    format!("diharapkan {} kolom, ada {}", header.len(), row.len()),
                    format!("expected {} columns, found {}", header.len(), row.len()),
                ),
            ));
            continue;
        }
        let kk = row[kk_col].clone();
        let entry = families.entry(kk.clone()).or_insert_with(|| {
            order.push(kk.clone());
            let mut fam = json!({ "anggota": [] });
            for (h, v) in header.iter().zip(&row) {
                if !h.starts_with("anggota.") && !v.is_empty() {
                    set_path(&mut fam, h, typed(h, v));
                }
            }
            (line, fam)
        });
        let mut member = json!({});
        for (h, v) in header.iter().zip(&row) {
            if let Some(field) = h.strip_prefix("anggota.")
                && !v.is_empty()
            {
                set_path(&mut member, field, typed(field, v));
            }
        }
        if let Some(list) = entry.1["anggota"].as_array_mut() {
            list.push(member);
        }
    }
    let records = order
        .into_iter()
        .filter_map(|kk| families.remove(&kk))
        .map(|(line, fam)| (line, fam.to_string()))
        .collect();
    (records, rejects)
}

fn typed(path: &str, v: &str) -> Value {
    use tepat_core::fields::{Type, field};
    let ty = field(path).map(|f| f.ty);
    if (ty == Some(Type::Int) || path == "version" || path == "member_count" || path == "number")
        && let Ok(n) = v.parse::<i64>()
    {
        return json!(n);
    }
    if ty == Some(Type::Bool)
        && let Ok(b) = v.parse::<bool>()
    {
        return json!(b);
    }
    if path.starts_with("gps.")
        && let Ok(f) = v.parse::<f64>()
    {
        return json!(f);
    }
    json!(v)
}

fn set_path(target: &mut Value, path: &str, v: Value) {
    let mut cur = target;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        let Some(obj) = cur.as_object_mut() else {
            return;
        };
        if i + 1 == parts.len() {
            obj.insert((*p).to_owned(), v);
            return;
        }
        let next = obj.entry((*p).to_owned()).or_insert_with(|| json!({}));
        if !next.is_object() {
            *next = json!({});
        }
        cur = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_multiline() {
        let rows = csv_rows("a,b\n\"x,1\",\"he said \"\"hi\"\"\"\n\"multi\nline\",2\n").unwrap();
        assert_eq!(
            rows[1],
            (2, vec!["x,1".to_owned(), "he said \"hi\"".to_owned()])
        );
        assert_eq!(rows[2], (3, vec!["multi\nline".to_owned(), "2".to_owned()]));
        assert_eq!(csv_rows("a\n\"open"), Err(2));
    }

    #[test]
    fn csv_rows_group_into_families() {
        let text = "no_kk,address.village,housing.floor,anggota.nik,anggota.sex\n1,11.01.01.2001,2,A,1\n1,11.01.01.2001,2,B,2\n2,11.01.01.2001,,C,x\n2,11.01.01.2001\n";
        let (records, rejects) = csv_to_records(text);
        assert_eq!(records.len(), 2);
        assert_eq!(rejects[0].line, 5);
        let fam: Value = serde_json::from_str(&records[0].1).unwrap();
        assert_eq!(fam["housing"]["floor"], 2);
        assert_eq!(fam["anggota"][1]["nik"], "B");
        assert_eq!(fam["anggota"][1]["sex"], 2);
        let fam2: Value = serde_json::from_str(&records[1].1).unwrap();
        assert_eq!(records[1].0, 4);
        assert_eq!(
            fam2["anggota"][0]["sex"], "x",
            "left for the core to report"
        );
        assert!(fam2.get("housing").is_none());
    }
}
