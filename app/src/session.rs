//! Sign-in state: a server session sealed on the device under a data key that the
//! local PIN opens.
//!
//! The vault (`kv/vault` in the cache database) holds the session and everything else
//! on the device sealed under one random **data key** (AES-GCM-256). The data key is
//! kept twice, sealed: under a key derived from the PIN (PBKDF2-SHA-256, salt and
//! iteration count in the vault), and under a key derived from the account's username
//! and password (the recovery). The keys stay in memory only; a wrong PIN opens
//! nothing.
//!
//! **Wrong PINs.** Each wrong PIN is counted in the vault. From the second on, the next
//! try waits ([`pin_wait_ms`]: 1 s, 2 s, 4 s…); after [`PIN_TRIES`] (5) wrong PINs the
//! PIN is no longer accepted: the account's password must be checked again at the server,
//! then it opens the data key and a new PIN is set. **Lupa PIN?** signs out without the
//! PIN: the cache is deleted, but the outbox and the drafts stay sealed on the device,
//! and the recovery is kept (`kv/kept_key`), so the same account signing in again opens
//! them. No unsent work is wiped by a forgotten PIN.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use web_sys::CryptoKey;

use crate::api::{self, ApiError, LoginResponse};
use crate::crypto::{self, CryptoError, PBKDF2_ITERATIONS, Sealed};
use crate::store::{self, StoreError};

const VAULT_KEY: &str = "vault";
/// The recovery of the data key kept through "Lupa PIN?".
const KEPT_KEY: &str = "kept_key";
/// The shortest PIN accepted.
pub const PIN_MIN_LEN: usize = 6;
/// Wrong PINs after which only the account's password (checked at the server) opens
/// the device.
pub const PIN_TRIES: u32 = 5;

/// How long the next PIN try waits after `failures` wrong PINs (ms): none after the
/// first, then 1 s, 2 s, 4 s, doubling.
pub fn pin_wait_ms(failures: u32) -> f64 {
    if failures < 2 {
        0.0
    } else {
        1000.0 * f64::from(1u32 << (failures - 2).min(10))
    }
}

/// The session as kept on the device (always sealed at rest).
pub type Session = LoginResponse;

#[derive(Serialize, Deserialize)]
struct Vault {
    #[serde(with = "serde_bytes")]
    salt: Vec<u8>,
    iterations: u32,
    /// The session, sealed under the data key.
    session: Sealed,
    /// The data key's raw bytes sealed under the PIN's key. Absent in a vault made
    /// before the data key: the PIN's key is then the data key itself.
    #[serde(default)]
    data_key: Option<Sealed>,
    #[serde(default)]
    recovery: Option<Recovery>,
    /// Wrong PINs since the last unlock, and when the last one was (ms, device clock).
    #[serde(default)]
    failures: u32,
    #[serde(default)]
    failed_at: f64,
}

/// The data key sealed under a key derived from the account's username and password.
#[derive(Clone, Serialize, Deserialize)]
struct Recovery {
    #[serde(with = "serde_bytes")]
    salt: Vec<u8>,
    iterations: u32,
    data_key: Sealed,
}

/// The unlocked app: the session and the data key.
#[derive(Clone)]
pub struct Unlocked {
    pub session: Session,
    pub key: CryptoKey,
}

/// Where the user stands.
#[derive(Clone, Default)]
pub enum AuthState {
    /// Reading the vault.
    #[default]
    Checking,
    /// No account on this device.
    SignedOut,
    /// An account is stored; the PIN is needed.
    Locked,
    Unlocked(Unlocked),
}

/// The auth state in context.
pub type Auth = RwSignal<AuthState, LocalStorage>;

/// Why signing in, setting a PIN or unlocking failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    Api(ApiError),
    Store(StoreError),
    Crypto(CryptoError),
    /// The PIN does not decrypt the vault.
    WrongPin,
    /// The PIN is shorter than [`PIN_MIN_LEN`] or holds other characters than digits.
    PinFormat,
    /// The two PIN entries differ.
    PinMismatch,
    /// A wrong PIN; this many tries are left before the password is needed.
    WrongPinLeft(u32),
    /// Too many wrong PINs in a row: wait this many seconds.
    Wait(u32),
    /// [`PIN_TRIES`] wrong PINs: the account's password must open the device.
    PasswordNeeded,
    /// The account and password were accepted by the server but do not open the data
    /// on this device (another account's, or the password changed since the PIN was set).
    NotThisDevice,
}

impl AuthError {
    pub fn message(&self, lang: tepat_core::Lang) -> String {
        use crate::i18n::tr;
        match self {
            AuthError::Api(ApiError::Server { status: 401, .. }) => tr(
                lang,
                "Nama pengguna atau kata sandi salah.",
                "Wrong username or password.",
            )
            .to_owned(),
            AuthError::Api(e) => e.message(lang),
            AuthError::Store(e) => e.message(lang),
            AuthError::Crypto(_) => tr(
                lang,
                "Enkripsi perangkat tidak tersedia. Pakai Chrome terbaru melalui HTTPS.",
                "Device encryption is not available. Use a recent Chrome over HTTPS.",
            )
            .to_owned(),
            AuthError::WrongPin => tr(lang, "PIN salah.", "Wrong PIN.").to_owned(),
            AuthError::PinFormat => tr(
                lang,
                "PIN harus berisi paling sedikit 6 angka.",
                "The PIN must have at least 6 digits.",
            )
            .to_owned(),
            AuthError::PinMismatch => {
                tr(lang, "Kedua PIN tidak sama.", "The two PINs differ.").to_owned()
            }
            AuthError::WrongPinLeft(left) => match lang {
                tepat_core::Lang::Id => format!(
                    "PIN salah. Sisa {left} kali percobaan; setelah itu kata sandi akun diminta."
                ),
                tepat_core::Lang::En => format!(
                    "Wrong PIN. {left} tries left; after that the account password is needed."
                ),
            },
            AuthError::Wait(secs) => match lang {
                tepat_core::Lang::Id => {
                    format!("Terlalu banyak PIN salah. Coba lagi dalam {secs} detik.")
                }
                tepat_core::Lang::En => {
                    format!("Too many wrong PINs. Try again in {secs} seconds.")
                }
            },
            AuthError::PasswordNeeded => tr(
                lang,
                "PIN salah 5 kali. Masukkan nama pengguna dan kata sandi akun; keduanya diperiksa di server.",
                "Wrong PIN 5 times. Enter the account's username and password; the server checks them.",
            )
            .to_owned(),
            AuthError::NotThisDevice => tr(
                lang,
                "Akun ini tidak dapat membuka data di perangkat ini (akun lain, atau kata sandi sudah diganti sejak PIN dibuat).",
                "This account cannot open the data on this device (another account, or the password changed since the PIN was set).",
            )
            .to_owned(),
        }
    }
}

/// Checks a new PIN and its confirmation.
pub fn check_new_pin(pin: &str, confirm: &str) -> Result<(), AuthError> {
    if pin.len() < PIN_MIN_LEN || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthError::PinFormat);
    }
    if pin != confirm {
        return Err(AuthError::PinMismatch);
    }
    Ok(())
}

/// Puts the auth state in context and looks for a vault.
pub fn provide_auth() -> Auth {
    let auth: Auth = RwSignal::new_local(AuthState::Checking);
    provide_context(auth);
    spawn_local(async move {
        let has_vault = matches!(store::cache_get::<Vault>(VAULT_KEY).await, Ok(Some(_)));
        auth.set(if has_vault {
            AuthState::Locked
        } else {
            AuthState::SignedOut
        });
    });
    auth
}

/// The auth state from context.
pub fn use_auth() -> Auth {
    use_context::<Auth>().unwrap_or_else(|| RwSignal::new_local(AuthState::SignedOut))
}

/// Step 1: the server checks the account. Nothing is stored until a PIN is set.
pub async fn sign_in(username: &str, password: &str) -> Result<Session, AuthError> {
    api::login(username, password).await.map_err(AuthError::Api)
}

/// The secret of the recovery key: the account's username and password.
fn account_secret(username: &str, password: &str) -> String {
    format!("{username}\n{password}")
}

/// The data key's raw bytes from a recovery, with the account's secret.
async fn open_recovery(r: &Recovery, secret: &str) -> Option<Vec<u8>> {
    let key = crypto::derive_key(secret, &r.salt, r.iterations)
        .await
        .ok()?;
    crypto::open(&key, &r.data_key).await.ok()
}

/// The data key already on the device for this account: in the vault (the PIN was
/// forgotten or tried too often) or kept through "Lupa PIN?".
async fn recover(secret: &str) -> Option<Vec<u8>> {
    if let Ok(Some(v)) = store::cache_get::<Vault>(VAULT_KEY).await
        && let Some(r) = &v.recovery
        && let Some(raw) = open_recovery(r, secret).await
    {
        return Some(raw);
    }
    let kept = store::cache_get::<Recovery>(KEPT_KEY)
        .await
        .ok()
        .flatten()?;
    open_recovery(&kept, secret).await
}

/// Step 2: seals the session under a new PIN and unlocks. The account's password
/// (just checked by the server) opens the data key this account left on the device,
/// so its outbox and drafts open again; else a new data key is made.
pub async fn set_pin(
    auth: Auth,
    session: Session,
    password: &str,
    pin: &str,
    confirm: &str,
) -> Result<(), AuthError> {
    check_new_pin(pin, confirm)?;
    let secret = account_secret(&session.user.username, password);
    let raw = match recover(&secret).await {
        Some(raw) => raw,
        None => crypto::random_bytes(32).map_err(AuthError::Crypto)?,
    };
    let key = crypto::import_data_key(&raw)
        .await
        .map_err(AuthError::Crypto)?;
    let salt = crypto::random_bytes(16).map_err(AuthError::Crypto)?;
    let pin_key = crypto::derive_key(pin, &salt, PBKDF2_ITERATIONS)
        .await
        .map_err(AuthError::Crypto)?;
    let recovery_salt = crypto::random_bytes(16).map_err(AuthError::Crypto)?;
    let account_key = crypto::derive_key(&secret, &recovery_salt, PBKDF2_ITERATIONS)
        .await
        .map_err(AuthError::Crypto)?;
    let vault = Vault {
        salt,
        iterations: PBKDF2_ITERATIONS,
        session: crypto::seal_json(&key, &session)
            .await
            .map_err(AuthError::Crypto)?,
        data_key: Some(
            crypto::seal(&pin_key, &raw)
                .await
                .map_err(AuthError::Crypto)?,
        ),
        recovery: Some(Recovery {
            salt: recovery_salt,
            iterations: PBKDF2_ITERATIONS,
            data_key: crypto::seal(&account_key, &raw)
                .await
                .map_err(AuthError::Crypto)?,
        }),
        failures: 0,
        failed_at: 0.0,
    };
    store::cache_put(VAULT_KEY, &vault)
        .await
        .map_err(AuthError::Store)?;
    // The kept recovery is in the vault now (or was another account's: it stays).
    if recover_kept_is(&secret).await {
        let _ = store::cache_delete(KEPT_KEY).await;
    }
    auth.set(AuthState::Unlocked(Unlocked { session, key }));
    Ok(())
}

async fn recover_kept_is(secret: &str) -> bool {
    match store::cache_get::<Recovery>(KEPT_KEY).await {
        Ok(Some(kept)) => open_recovery(&kept, secret).await.is_some(),
        _ => false,
    }
}

/// Wrong PINs so far, and the milliseconds until the next try.
pub async fn pin_state() -> (u32, f64) {
    match store::cache_get::<Vault>(VAULT_KEY).await {
        Ok(Some(v)) => {
            let left = v.failed_at + pin_wait_ms(v.failures) - js_sys::Date::now();
            (v.failures, left.max(0.0))
        }
        _ => (0, 0.0),
    }
}

/// Opens the vault with a PIN; works offline. Wrong PINs are counted and slowed, and
/// after [`PIN_TRIES`] only [`check_password`] helps.
pub async fn unlock(auth: Auth, pin: &str) -> Result<(), AuthError> {
    let mut vault = store::cache_get::<Vault>(VAULT_KEY)
        .await
        .map_err(AuthError::Store)?
        .ok_or(AuthError::WrongPin)?;
    if vault.failures >= PIN_TRIES {
        return Err(AuthError::PasswordNeeded);
    }
    let left = vault.failed_at + pin_wait_ms(vault.failures) - js_sys::Date::now();
    if left > 0.0 {
        return Err(AuthError::Wait((left / 1000.0).ceil() as u32));
    }
    let pin_key = crypto::derive_key(pin, &vault.salt, vault.iterations)
        .await
        .map_err(AuthError::Crypto)?;
    let key = match &vault.data_key {
        None => Ok(pin_key),
        Some(sealed) => match crypto::open(&pin_key, sealed).await {
            Ok(raw) => crypto::import_data_key(&raw).await,
            Err(e) => Err(e),
        },
    };
    let opened = match key {
        Ok(key) => crypto::open_json::<Session>(&key, &vault.session)
            .await
            .map(|s| (s, key)),
        Err(e) => Err(e),
    };
    match opened {
        Ok((session, key)) => {
            if vault.failures > 0 {
                vault.failures = 0;
                vault.failed_at = 0.0;
                let _ = store::cache_put(VAULT_KEY, &vault).await;
            }
            auth.set(AuthState::Unlocked(Unlocked { session, key }));
            Ok(())
        }
        Err(CryptoError::WrongKey) => {
            vault.failures += 1;
            vault.failed_at = js_sys::Date::now();
            store::cache_put(VAULT_KEY, &vault)
                .await
                .map_err(AuthError::Store)?;
            Err(if vault.failures >= PIN_TRIES {
                AuthError::PasswordNeeded
            } else {
                AuthError::WrongPinLeft(PIN_TRIES - vault.failures)
            })
        }
        Err(other) => Err(AuthError::Crypto(other)),
    }
}

/// After too many wrong PINs: the server checks the account, and its password must
/// open this device's data key. The session then waits for a new PIN ([`set_pin`]).
pub async fn check_password(username: &str, password: &str) -> Result<Session, AuthError> {
    let session = sign_in(username, password).await?;
    let secret = account_secret(&session.user.username, password);
    let vault = store::cache_get::<Vault>(VAULT_KEY)
        .await
        .map_err(AuthError::Store)?;
    let opens = match vault.as_ref().and_then(|v| v.recovery.as_ref()) {
        Some(r) => open_recovery(r, &secret).await.is_some(),
        None => false,
    };
    if !opens {
        let _ = api::logout(&session.token).await;
        return Err(AuthError::NotThisDevice);
    }
    Ok(session)
}

/// "Lupa PIN?": signs out without the PIN. The cache goes (the server can give it
/// again); the outbox and the drafts stay sealed, and the recovery of their key is
/// kept for the same account's next sign-in.
pub async fn forget_pin(auth: Auth) -> Result<(), AuthError> {
    let recovery = store::cache_get::<Vault>(VAULT_KEY)
        .await
        .map_err(AuthError::Store)?
        .and_then(|v| v.recovery);
    let kept = match recovery {
        Some(r) => Some(r),
        None => store::cache_get::<Recovery>(KEPT_KEY)
            .await
            .map_err(AuthError::Store)?,
    };
    store::wipe_cache().await.map_err(AuthError::Store)?;
    if let Some(r) = kept {
        store::cache_put(KEPT_KEY, &r)
            .await
            .map_err(AuthError::Store)?;
    }
    auth.set(AuthState::SignedOut);
    Ok(())
}

/// Items waiting in the outbox (readable or not without the PIN).
pub async fn outbox_waiting() -> u32 {
    store::outbox_count().await.unwrap_or(0)
}

/// Forgets the key; the data stays sealed on the device.
pub fn lock(auth: Auth) {
    auth.set(AuthState::Locked);
}

/// Unsent work on the device: outbox items (pending, rejected or in conflict) and
/// Uji Petik drafts.
pub async fn unsynced(auth: Auth) -> Result<u32, AuthError> {
    let mut n = store::outbox_count().await.map_err(AuthError::Store)?;
    if let AuthState::Unlocked(u) = auth.get_untracked() {
        // Drafts that cannot be opened with this key are not this user's work.
        let drafts = crate::draft_store::all_as::<serde::de::IgnoredAny>(&u.key)
            .await
            .unwrap_or_default();
        n = n.saturating_add(u32::try_from(drafts.len()).unwrap_or(u32::MAX));
    }
    Ok(n)
}

/// Signs out: revokes the token when online and wipes the device. Refuses while the
/// outbox or the drafts hold unsent work unless `force` (the user confirmed losing it).
pub async fn sign_out(auth: Auth, force: bool) -> Result<bool, AuthError> {
    let pending = unsynced(auth).await?;
    if pending > 0 && !force {
        return Ok(false);
    }
    if let AuthState::Unlocked(u) = auth.get_untracked() {
        // Offline sign-out still wipes the device; the token then expires on the server.
        let _ = api::logout(&u.session.token).await;
    }
    store::wipe_all().await.map_err(AuthError::Store)?;
    auth.set(AuthState::SignedOut);
    Ok(true)
}
