//! The audit log: who did what, when, with before/after values. Append-only (the database
//! refuses UPDATE and DELETE on it). It is queryable by household and by user.

use serde::Serialize;

use crate::auth::User;
use crate::db::{Db, now, rfc3339};

/// One audit entry to append: who (`None`: the system), the action, where and what
/// it concerns, and the before/after values and details as JSON texts. Fields not
/// given stay empty: `NewEntry { action: "login", user: Some(&u), ..NewEntry::default() }`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NewEntry<'a> {
    pub user: Option<&'a User>,
    pub action: &'a str,
    pub province: Option<&'a str>,
    pub household_id: Option<&'a str>,
    pub change_id: Option<&'a str>,
    /// The household version before (JSON), or the changed parts of it.
    pub before: Option<&'a str>,
    /// The household version after (JSON), or the changed parts of it.
    pub after: Option<&'a str>,
    /// Anything else about the action (JSON): a reason, a version, counts.
    pub details: Option<&'a str>,
    /// The account the action concerns (its username), for account changes.
    pub subject: Option<&'a str>,
}

impl NewEntry<'_> {
    /// The account name the entry shows: the user's, or `system`.
    pub fn username(&self) -> &str {
        self.user.map_or("system", |u| u.username.as_str())
    }
}

/// Appends one audit entry.
pub async fn record<'e, E>(exec: E, entry: NewEntry<'_>) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, username, action, province, household_id, change_id, before, after, details, subject) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(now())
    .bind(entry.user.map(|u| u.id))
    .bind(entry.username())
    .bind(entry.action)
    .bind(entry.province)
    .bind(entry.household_id)
    .bind(entry.change_id)
    .bind(entry.before)
    .bind(entry.after)
    .bind(entry.details)
    .bind(entry.subject)
    .execute(exec)
    .await?;
    Ok(())
}

/// One audit entry as the API shows it.
#[derive(Serialize, Debug)]
pub struct Entry {
    pub id: i64,
    pub at: String,
    pub username: String,
    pub action: String,
    pub province: Option<String>,
    pub household_id: Option<String>,
    pub change_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub details: Option<serde_json::Value>,
    /// The account the entry concerns (account changes).
    pub subject: Option<String>,
}

type Row = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn to_entry(r: Row) -> Entry {
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    Entry {
        id: r.0,
        at: rfc3339(r.1),
        username: r.2,
        action: r.3,
        province: r.4,
        household_id: r.5,
        change_id: r.6,
        before: parse(r.7),
        after: parse(r.8),
        details: parse(r.9),
        subject: r.10,
    }
}

const COLUMNS: &str =
    "id, at, username, action, province, household_id, change_id, before, after, details, subject";

pub async fn by_household(
    db: &Db,
    household_id: &str,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE household_id = $1 ORDER BY id LIMIT $2"
    ))
    .bind(household_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(to_entry).collect())
}

/// A user's history: what the account did, and what was done to it (its creation,
/// assignments, disabling, password resets).
pub async fn by_user(db: &Db, username: &str, limit: i64) -> Result<Vec<Entry>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE username = $1 OR subject = $1 ORDER BY id LIMIT $2"
    ))
    .bind(username)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(to_entry).collect())
}

/// [`diff`] of two versions of a family, without turning whole families into JSON
/// trees: only the top-level parts (and members) that differ are. Gives exactly what
/// `diff(&to_value(before), &to_value(after))` gives (a test checks it).
pub fn diff_keluarga(
    before: &tepat_core::Keluarga,
    after: &tepat_core::Keluarga,
) -> serde_json::Result<(serde_json::Value, serde_json::Value)> {
    use serde_json::{Map, Value, to_value};
    // Sorted by key, as `diff` walks them.
    let mut parts: std::collections::BTreeMap<&str, (Value, Value)> = Default::default();
    macro_rules! parts {
        ($($field:ident),*) => {{
            // Naming every field makes a new one a compile error here.
            let tepat_core::Keluarga { $($field: _,)* anggota: _, pkh: _ } = before;
            $(
                if before.$field != after.$field {
                    let (x, y) = (to_value(&before.$field)?, to_value(&after.$field)?);
                    if x != y {
                        parts.insert(stringify!($field), diff(&x, &y));
                    }
                }
            )*
        }};
    }
    parts!(
        no_kk,
        version,
        rulebook_version,
        status,
        origin_kk,
        merged_into,
        ground_checked,
        address,
        urban_rural,
        gps,
        member_count,
        housing,
        assets
    );
    if before.pkh != after.pkh {
        // An empty status is not written: as absent, `null`.
        let of = |p: &tepat_core::PkhStatus| {
            if p.is_empty() {
                Ok(Value::Null)
            } else {
                to_value(p)
            }
        };
        parts.insert("pkh", diff(&of(&before.pkh)?, &of(&after.pkh)?));
    }
    if before.anggota.len() == after.anggota.len() {
        // Member by member, as `diff` does for arrays of equal length.
        let (mut ma, mut mb) = (Map::new(), Map::new());
        for (i, (p, q)) in before.anggota.iter().zip(&after.anggota).enumerate() {
            if p != q {
                let (x, y) = (to_value(p)?, to_value(q)?);
                if x != y {
                    let (dp, dq) = diff(&x, &y);
                    ma.insert(i.to_string(), dp);
                    mb.insert(i.to_string(), dq);
                }
            }
        }
        if !ma.is_empty() {
            parts.insert("anggota", (Value::Object(ma), Value::Object(mb)));
        }
    } else {
        let (x, y) = (to_value(&before.anggota)?, to_value(&after.anggota)?);
        parts.insert("anggota", diff(&x, &y));
    }
    let (mut da, mut db) = (Map::new(), Map::new());
    for (key, (x, y)) in parts {
        da.insert(key.to_owned(), x);
        db.insert(key.to_owned(), y);
    }
    Ok((Value::Object(da), Value::Object(db)))
}

/// The changed part of two JSON documents: `(before, after)` holding only the leaves that
/// differ (objects recursively, arrays element by element when their lengths agree).
/// Audit entries store this rather than whole households.
pub fn diff(
    before: &serde_json::Value,
    after: &serde_json::Value,
) -> (serde_json::Value, serde_json::Value) {
    use serde_json::{Map, Value};
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let (mut da, mut db) = (Map::new(), Map::new());
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                if x != y {
                    let (dx, dy) = diff(x, y);
                    da.insert(k.clone(), dx);
                    db.insert(k.clone(), dy);
                }
            }
            (Value::Object(da), Value::Object(db))
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            let (mut da, mut db) = (Map::new(), Map::new());
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                if x != y {
                    let (dx, dy) = diff(x, y);
                    da.insert(i.to_string(), dx);
                    db.insert(i.to_string(), dy);
                }
            }
            (Value::Object(da), Value::Object(db))
        }
        _ => (before.clone(), after.clone()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// The typed diff equals the JSON one for the changes life events make.
    #[test]
    fn diff_keluarga_equals_the_json_diff() {
        let base: tepat_core::Keluarga = serde_json::from_str(include_str!(
            "../../../tests/vectors/households/sample.json"
        ))
        .unwrap();
        let mut variants = Vec::new();
        let mut k = base.clone();
        k.version += 1;
        k.housing.floor = Some(8);
        variants.push(k.clone());
        k.pkh.graduated = Some(tepat_core::Graduated {
            kind: tepat_core::GraduationKind::Mandiri,
            date: tepat_core::Date::parse("2026-11-20").unwrap(),
            reason: "usaha stabil".into(),
        });
        variants.push(k.clone());
        k.anggota[1].presence = 2;
        k.ground_checked = tepat_core::Date::parse("2026-11-20").ok();
        variants.push(k.clone());
        k.anggota.push(base.anggota[0].clone());
        k.status = tepat_core::model::FamilyStatus::Merged;
        k.merged_into = Some("3201010101010001".into());
        variants.push(k.clone());
        k.anggota.clear();
        k.gps = None;
        variants.push(k);
        variants.push(base.clone());
        for after in &variants {
            for (x, y) in [(&base, after), (after, &base)] {
                let json = super::diff(
                    &serde_json::to_value(x).unwrap(),
                    &serde_json::to_value(y).unwrap(),
                );
                assert_eq!(super::diff_keluarga(x, y).unwrap(), json);
            }
        }
    }

    #[test]
    fn diff_keeps_only_changed_leaves() {
        let a = json!({"v": 1, "housing": {"floor": 2, "wall": 1}, "anggota": [{"nik": "x", "presence": 1}, {"nik": "y"}]});
        let b = json!({"v": 2, "housing": {"floor": 8, "wall": 1}, "anggota": [{"nik": "x", "presence": 2}, {"nik": "y"}]});
        let (da, db) = super::diff(&a, &b);
        assert_eq!(
            da,
            json!({"v": 1, "housing": {"floor": 2}, "anggota": {"0": {"presence": 1}}})
        );
        assert_eq!(
            db,
            json!({"v": 2, "housing": {"floor": 8}, "anggota": {"0": {"presence": 2}}})
        );
        let (da, db) = super::diff(&json!({"a": [1]}), &json!({"a": [1, 2]}));
        assert_eq!((da, db), (json!({"a": [1]}), json!({"a": [1, 2]})));
    }
}
