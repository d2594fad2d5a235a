//! Account management, one set of functions for the `tepat` CLI and the console's API:
//! create an account, disable or re-enable it, reset its password, and set the regions
//! it is assigned. Each change is checked (username and password rules, region codes
//! against the region table at the role's level, the caller's right to manage the
//! account) and written with its audit entry in one transaction.
//!
//! Who manages whom ([`manages`]): the admin every account; Dinsos the facilitators and
//! koordinators whose assignments all lie in its regency. The CLI acts as the system.

use serde_json::{Value, json};
use tepat_core::RegionTable;
use tepat_core::region::Level;

use crate::auth::{Role, User, hash_password};
use crate::db::{Db, now};
use crate::error::ApiError;

/// Why an account change was refused. `Display` is the Bahasa Indonesia / English
/// message the API and the CLI show; it never echoes a password.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The username or password breaks a rule (`validation::NewAccount`).
    #[error("{}", crate::validation::summary(.0))]
    Invalid(validator::ValidationErrors),
    #[error("Nama pengguna {0} sudah ada. / The username {0} already exists.")]
    Duplicate(String),
    #[error("Akun {0} tidak ada. / There is no account {0}.")]
    UnknownUser(String),
    #[error(
        "Kode wilayah ke-{0} tidak ada di tabel wilayah (contoh kode desa: 32.01.01.1001). / Region code no. {0} is not in the region table (a village code looks like 32.01.01.1001)."
    )]
    /// The 1-based position of the code in the request (never the code itself).
    UnknownRegion(usize),
    #[error(
        "Peran {role} ditugaskan ke {level_id}; kode ke-{code} bukan {level_id}. / Role {role} is assigned {level_en} codes; code no. {code} is not one."
    )]
    WrongLevel {
        role: &'static str,
        /// The 1-based position of the code in the request.
        code: usize,
        level_id: &'static str,
        level_en: &'static str,
    },
    #[error(
        "Peran {0} bersifat nasional dan tidak ditugaskan ke wilayah. / Role {0} is national and takes no region assignments."
    )]
    National(&'static str),
    #[error("Di luar wilayah tugas atau peran Anda. / Outside your assigned area or role: {0}")]
    OutOfScope(String),
    #[error(
        "Akun {0} bukan pendamping; desa hanya dipindahkan ke pendamping. / The account {0} is not a facilitator; villages move to facilitators only."
    )]
    NotFacilitator(String),
    #[error(
        "Anda tidak dapat menonaktifkan akun Anda sendiri. / You cannot disable your own account."
    )]
    OwnAccount,
    #[error("storage: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> ApiError {
        match e {
            AccountError::Invalid(v) => crate::validation::rejection(&v),
            AccountError::Duplicate(_) => ApiError::Conflict {
                message: e.to_string(),
                details: json!({ "path": "username" }),
            },
            AccountError::UnknownUser(_) => ApiError::NotFound("account".into()),
            AccountError::UnknownRegion(_)
            | AccountError::WrongLevel { .. }
            | AccountError::National(_) => {
                ApiError::unprocessable(e.to_string(), json!({ "path": "regions" }))
            }
            AccountError::OwnAccount => {
                ApiError::unprocessable(e.to_string(), json!({ "path": "username" }))
            }
            AccountError::NotFacilitator(_) => {
                ApiError::unprocessable(e.to_string(), json!({ "path": "facilitator" }))
            }
            AccountError::OutOfScope(what) => ApiError::Forbidden(what),
            AccountError::Db(e) => ApiError::from(e),
            AccountError::Other(e) => ApiError::from(e),
        }
    }
}

pub type AccountResult<T> = Result<T, AccountError>;

/// An account as stored, with its assignments.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    pub regions: Vec<String>,
}

/// Whether `actor` may manage an account of `role` assigned `regions` (`None`: the
/// system, the CLI). Dinsos manages facilitators and koordinators whose assignments
/// all lie in its regency (and who have at least one, so it sees them).
pub fn manages(actor: Option<&User>, role: Role, regions: &[String]) -> bool {
    let Some(actor) = actor else { return true };
    match actor.role {
        Role::Admin => true,
        Role::DinsosAdmin => {
            matches!(role, Role::Facilitator | Role::Supervisor)
                && !regions.is_empty()
                && regions.iter().all(|r| actor.covers(r))
        }
        _ => false,
    }
}

fn out_of_scope(username: &str) -> AccountError {
    AccountError::OutOfScope(format!("account {username}"))
}

/// Checks region codes for a role: each exists and has the role's level.
pub fn check_regions(table: &RegionTable, role: Role, codes: &[String]) -> AccountResult<()> {
    let Some(level) = role.assignment_level() else {
        return if codes.is_empty() {
            Ok(())
        } else {
            Err(AccountError::National(role.as_str()))
        };
    };
    for (i, code) in codes.iter().enumerate() {
        if !table.contains(code) {
            return Err(AccountError::UnknownRegion(i + 1));
        }
        if Level::of(code) != Some(level) {
            let (level_id, level_en) = match level {
                Level::Village => ("desa/kelurahan", "village"),
                Level::District => ("kecamatan", "district"),
                Level::Regency => ("kabupaten/kota", "regency"),
                Level::Province => ("provinsi", "province"),
            };
            return Err(AccountError::WrongLevel {
                role: role.as_str(),
                code: i + 1,
                level_id,
                level_en,
            });
        }
    }
    Ok(())
}

/// Loads an account by username (disabled ones too).
pub async fn find(db: &Db, username: &str) -> AccountResult<Option<Account>> {
    let row: Option<(i64, String, Option<String>, String, i64, i64)> = sqlx::query_as(
        "SELECT id, username, display_name, role, disabled, created_at FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(&db.pool)
    .await?;
    let Some((id, username, display_name, role, disabled, created_at)) = row else {
        return Ok(None);
    };
    let role =
        Role::parse(&role).ok_or_else(|| anyhow::anyhow!("account {id} has an unknown role"))?;
    let regions: Vec<(String,)> =
        sqlx::query_as("SELECT region FROM assignments WHERE user_id = $1 ORDER BY region")
            .bind(id)
            .fetch_all(&db.pool)
            .await?;
    Ok(Some(Account {
        id,
        username,
        display_name,
        role,
        disabled: disabled != 0,
        created_at,
        regions: regions.into_iter().map(|r| r.0).collect(),
    }))
}

/// An account the actor manages, or why not.
async fn managed(db: &Db, actor: Option<&User>, username: &str) -> AccountResult<Account> {
    match find(db, username).await? {
        Some(a) if manages(actor, a.role, &a.regions) => Ok(a),
        // Only the admin learns whether an account exists outside its reach.
        None if actor.is_none_or(|u| u.role == Role::Admin) => {
            Err(AccountError::UnknownUser(username.to_owned()))
        }
        _ => Err(out_of_scope(username)),
    }
}

/// A new account: the fields `POST /accounts` and `tepat user add` take.
#[derive(Clone, Debug)]
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: Option<&'a str>,
    pub role: Role,
    pub password: &'a str,
    /// Regions to assign at once (Dinsos must give some in its regency).
    pub regions: &'a [String],
}

/// Creates an account (argon2id password hash) with its first assignments.
pub async fn create(
    db: &Db,
    table: &RegionTable,
    actor: Option<&User>,
    new: NewAccount<'_>,
) -> AccountResult<i64> {
    let check = crate::validation::NewAccount {
        username: new.username,
        password: new.password,
    };
    validator::Validate::validate(&check).map_err(AccountError::Invalid)?;
    if !manages(actor, new.role, new.regions) {
        return Err(AccountError::OutOfScope(format!(
            "account of role {} in {}",
            new.role.as_str(),
            if new.regions.is_empty() {
                "no region".to_owned()
            } else {
                new.regions.join(", ")
            }
        )));
    }
    check_regions(table, new.role, new.regions)?;
    if crate::auth::find_user_id(db, new.username).await?.is_some() {
        return Err(AccountError::Duplicate(new.username.to_owned()));
    }
    let hash = {
        let password = new.password.to_owned();
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| anyhow::anyhow!("hashing: {e}"))??
    };
    let display_name = new.display_name.map(str::trim).filter(|d| !d.is_empty());
    let mut tx = db.pool.begin().await?;
    let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
        "INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(new.username)
    .bind(display_name)
    .bind(new.role.as_str())
    .bind(hash)
    .bind(now())
    .fetch_one(&mut *tx)
    .await;
    let (id,) = match inserted {
        Ok(row) => row,
        // Two creations at once: the unique index decides.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(AccountError::Duplicate(new.username.to_owned()));
        }
        Err(e) => return Err(e.into()),
    };
    for code in new.regions {
        sqlx::query(
            "INSERT INTO assignments (user_id, region) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(code)
        .execute(&mut *tx)
        .await?;
    }
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user: actor,
            action: "user_add",
            subject: Some(new.username),
            details: Some(
                &json!({
                    "user_id": id, "username": new.username, "role": new.role.as_str(),
                    "regions": new.regions,
                })
                .to_string(),
            ),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Disables (`true`) or re-enables an account. Disabling also revokes its sessions:
/// its tokens stop working at once, for sign-in, pull and push, and stay dead when the
/// account is enabled again.
pub async fn set_disabled(
    db: &Db,
    actor: Option<&User>,
    username: &str,
    disabled: bool,
) -> AccountResult<Account> {
    let mut account = managed(db, actor, username).await?;
    if disabled && actor.is_some_and(|u| u.id == account.id) {
        return Err(AccountError::OwnAccount);
    }
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(i64::from(disabled))
        .bind(account.id)
        .execute(&mut *tx)
        .await?;
    if disabled {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(account.id)
        .execute(&mut *tx)
        .await?;
    }
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user: actor,
            action: if disabled {
                "user_disable"
            } else {
                "user_enable"
            },
            subject: Some(username),
            details: Some(&json!({ "user_id": account.id, "username": username }).to_string()),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    account.disabled = disabled;
    Ok(account)
}

/// Sets a new password (the same rules as a new account's). The account's sessions
/// stay: a facilitator's device keeps its unsent work; disable the account to end them.
pub async fn reset_password(
    db: &Db,
    actor: Option<&User>,
    username: &str,
    password: &str,
) -> AccountResult<()> {
    let check = crate::validation::NewAccount { username, password };
    // Only the password is checked here: the username exists already.
    if let Err(e) = validator::Validate::validate(&check)
        && e.field_errors().contains_key("password")
    {
        let mut only = validator::ValidationErrors::new();
        for err in e.field_errors()["password"] {
            only.add("password", err.clone());
        }
        return Err(AccountError::Invalid(only));
    }
    let account = managed(db, actor, username).await?;
    let hash = {
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| anyhow::anyhow!("hashing: {e}"))??
    };
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(account.id)
        .execute(&mut *tx)
        .await?;
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user: actor,
            action: "password_reset",
            subject: Some(username),
            details: Some(&json!({ "user_id": account.id, "username": username }).to_string()),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How assignments change: `Add` keeps the current ones (`tepat assign`), `Set`
/// replaces them (the console's editor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assign {
    Add,
    Set,
}

/// Changes an account's assignments; returns the account as it is afterwards. Dinsos
/// may only move regions inside its regency. The next pull of the account (and of any
/// other account the region moves to) follows the new scope.
pub async fn assign(
    db: &Db,
    table: &RegionTable,
    actor: Option<&User>,
    username: &str,
    codes: &[String],
    how: Assign,
) -> AccountResult<Account> {
    let mut account = managed(db, actor, username).await?;
    let mut wanted: Vec<String> = match how {
        Assign::Add => account.regions.iter().chain(codes).cloned().collect(),
        Assign::Set => codes.to_vec(),
    };
    wanted.sort();
    wanted.dedup();
    // Dinsos may hand out and take back only its own regency's regions; an account left
    // without any stays visible to the admin.
    if let Some(a) = actor
        && a.role != Role::Admin
        && let Some(outside) = wanted.iter().find(|r| !a.covers(r))
    {
        return Err(AccountError::OutOfScope(format!("region {outside}")));
    }
    check_regions(table, account.role, codes)?;
    let added: Vec<&String> = wanted
        .iter()
        .filter(|r| !account.regions.contains(r))
        .collect();
    let removed: Vec<&String> = account
        .regions
        .iter()
        .filter(|r| !wanted.contains(r))
        .collect();
    let mut tx = db.pool.begin().await?;
    for code in &removed {
        sqlx::query("DELETE FROM assignments WHERE user_id = $1 AND region = $2")
            .bind(account.id)
            .bind(code.as_str())
            .execute(&mut *tx)
            .await?;
    }
    for code in &added {
        sqlx::query(
            "INSERT INTO assignments (user_id, region) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(account.id)
        .bind(code.as_str())
        .execute(&mut *tx)
        .await?;
    }
    let details: Value = json!({
        "user_id": account.id, "username": username, "regions": wanted,
        "added": added, "removed": removed,
    });
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user: actor,
            action: "assign",
            subject: Some(username),
            details: Some(&details.to_string()),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    account.regions = wanted;
    Ok(account)
}

/// What [`move_village`] did: the village, the facilitators it was taken from, and the
/// facilitator that has it now (as stored afterwards).
#[derive(Clone, Debug)]
pub struct VillageMove {
    pub village: String,
    pub from: Vec<Account>,
    pub to: Account,
}

/// Moves a village to one facilitator in one transaction: it is taken from every other
/// facilitator assigned it and given to `to` (with the quarterly visit target it had), so
/// there is never a moment with the village assigned to none or to both. Under the write
/// lock, so a push is checked against the assignments before or after the move, never
/// half-way. Every account touched gets an audit entry (`village_move`). Dinsos moves only
/// between facilitators it manages, inside its regency.
pub async fn move_village(
    db: &Db,
    table: &RegionTable,
    actor: Option<&User>,
    village: &str,
    to: &str,
) -> AccountResult<VillageMove> {
    check_regions(table, Role::Facilitator, &[village.to_owned()])?;
    if let Some(a) = actor
        && a.role != Role::Admin
        && !a.covers(village)
    {
        return Err(AccountError::OutOfScope(format!("region {village}")));
    }
    let mut target = managed(db, actor, to).await?;
    if target.role != Role::Facilitator {
        return Err(AccountError::NotFacilitator(to.to_owned()));
    }
    let mut tx = db.pool.begin().await?;
    crate::store::lock(&mut tx).await?;
    let holders: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT u.id, u.username, a.visit_target FROM assignments a JOIN users u ON u.id = a.user_id \
         WHERE a.region = $1 AND u.role = 'facilitator' ORDER BY u.username",
    )
    .bind(village)
    .fetch_all(&mut *tx)
    .await?;
    let mut from = Vec::new();
    for (id, username, _) in holders.iter().filter(|h| h.0 != target.id) {
        // The accounts as they are now (read again: the transaction holds the lock).
        let account = find(db, username)
            .await?
            .ok_or_else(|| AccountError::UnknownUser(username.clone()))?;
        if !manages(actor, account.role, &account.regions) {
            return Err(out_of_scope(username));
        }
        sqlx::query("DELETE FROM assignments WHERE user_id = $1 AND region = $2")
            .bind(id)
            .bind(village)
            .execute(&mut *tx)
            .await?;
        from.push(account);
    }
    let visit_target = holders.first().map(|h| h.2);
    if !holders.iter().any(|h| h.0 == target.id) {
        sqlx::query(
            "INSERT INTO assignments (user_id, region, visit_target) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(target.id)
        .bind(village)
        .bind(visit_target.unwrap_or(DEFAULT_VISIT_TARGET))
        .execute(&mut *tx)
        .await?;
        target.regions.push(village.to_owned());
        target.regions.sort();
    }
    for a in &mut from {
        a.regions.retain(|r| r != village);
    }
    let details = json!({
        "village": village,
        "from": from.iter().map(|a| a.username.as_str()).collect::<Vec<_>>(),
        "to": target.username,
    })
    .to_string();
    for subject in from.iter().map(|a| &a.username).chain([&target.username]) {
        crate::audit::record(
            &mut *tx,
            crate::audit::NewEntry {
                user: actor,
                action: "village_move",
                subject: Some(subject),
                details: Some(&details),
                ..Default::default()
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(VillageMove {
        village: village.to_owned(),
        from,
        to: target,
    })
}

/// The quarterly visit target of a new assignment (the column's default, migration 0008).
const DEFAULT_VISIT_TARGET: i64 = 20;
