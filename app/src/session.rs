//! Sign-in state: a server session sealed on the device under a key derived from a local PIN.
//!
//! The vault (`kv/vault` in the cache database) holds the PBKDF2 salt and iteration count
//! and the AES-GCM-sealed session. Unlocking derives the key from the PIN and opens the
//! session; the key stays in memory only, and a wrong PIN opens nothing.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use web_sys::CryptoKey;

use crate::api::{self, ApiError, LoginResponse};
use crate::crypto::{self, CryptoError, PBKDF2_ITERATIONS, Sealed};
use crate::store::{self, StoreError};

const VAULT_KEY: &str = "vault";
/// The shortest PIN accepted.
pub const PIN_MIN_LEN: usize = 6;

/// The session as kept on the device (always sealed at rest).
pub type Session = LoginResponse;

#[derive(Serialize, Deserialize)]
struct Vault {
    #[serde(with = "serde_bytes")]
    salt: Vec<u8>,
    iterations: u32,
    session: Sealed,
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

/// Step 2: seals the session under a new PIN and unlocks.
pub async fn set_pin(
    auth: Auth,
    session: Session,
    pin: &str,
    confirm: &str,
) -> Result<(), AuthError> {
    check_new_pin(pin, confirm)?;
    let salt = crypto::random_bytes(16).map_err(AuthError::Crypto)?;
    let key = crypto::derive_key(pin, &salt, PBKDF2_ITERATIONS)
        .await
        .map_err(AuthError::Crypto)?;
    let sealed = crypto::seal_json(&key, &session)
        .await
        .map_err(AuthError::Crypto)?;
    let vault = Vault {
        salt,
        iterations: PBKDF2_ITERATIONS,
        session: sealed,
    };
    store::cache_put(VAULT_KEY, &vault)
        .await
        .map_err(AuthError::Store)?;
    auth.set(AuthState::Unlocked(Unlocked { session, key }));
    Ok(())
}

/// Opens the vault with a PIN; works offline.
pub async fn unlock(auth: Auth, pin: &str) -> Result<(), AuthError> {
    let vault = store::cache_get::<Vault>(VAULT_KEY)
        .await
        .map_err(AuthError::Store)?
        .ok_or(AuthError::WrongPin)?;
    let key = crypto::derive_key(pin, &vault.salt, vault.iterations)
        .await
        .map_err(AuthError::Crypto)?;
    let session: Session = crypto::open_json(&key, &vault.session)
        .await
        .map_err(|e| match e {
            CryptoError::WrongKey => AuthError::WrongPin,
            other => AuthError::Crypto(other),
        })?;
    auth.set(AuthState::Unlocked(Unlocked { session, key }));
    Ok(())
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
        let drafts = crate::draft_store::all(&u.key).await.unwrap_or_default();
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
