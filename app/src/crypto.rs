//! Encryption at rest: AES-GCM-256 with a key derived from the user's PIN by
//! PBKDF2-SHA-256, all through the browser's WebCrypto (no crypto code of our own).
//!
//! The key is non-extractable and lives only in memory while the app is unlocked.
//! A wrong PIN derives a different key, so AES-GCM's tag check fails and nothing decrypts.

use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesDerivedKeyParams, AesGcmParams, CryptoKey, Pbkdf2Params, SubtleCrypto};

/// PBKDF2 iterations for new PINs (OWASP 2023 recommends 600,000 for SHA-256).
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// Why an encryption step failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// WebCrypto is missing (insecure context or a very old browser).
    Unavailable,
    /// Decryption failed: wrong key (wrong PIN) or tampered data.
    WrongKey,
    /// Any other WebCrypto failure.
    Failed,
}

/// An encrypted value: a fresh 96-bit IV and the ciphertext with its tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    #[serde(with = "serde_bytes")]
    pub iv: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub ct: Vec<u8>,
}

fn crypto() -> Result<web_sys::Crypto, CryptoError> {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or(CryptoError::Unavailable)
}

fn subtle() -> Result<SubtleCrypto, CryptoError> {
    Ok(crypto()?.subtle())
}

/// `n` bytes from the browser's CSPRNG.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, CryptoError> {
    let mut buf = vec![0u8; n];
    crypto()?
        .get_random_values_with_u8_array(&mut buf)
        .map_err(|_| CryptoError::Failed)?;
    Ok(buf)
}

fn usages(list: &[&str]) -> JsValue {
    list.iter()
        .map(|u| JsValue::from_str(u))
        .collect::<Array>()
        .into()
}

async fn wait(p: Result<js_sys::Promise, JsValue>) -> Result<JsValue, CryptoError> {
    JsFuture::from(p.map_err(|_| CryptoError::Failed)?)
        .await
        .map_err(|_| CryptoError::Failed)
}

/// Derives the AES-GCM-256 key of a PIN.
pub async fn derive_key(pin: &str, salt: &[u8], iterations: u32) -> Result<CryptoKey, CryptoError> {
    let subtle = subtle()?;
    let algo = Object::new();
    Reflect::set(&algo, &"name".into(), &"PBKDF2".into()).map_err(|_| CryptoError::Failed)?;
    let raw = Uint8Array::from(pin.as_bytes());
    let base: CryptoKey =
        wait(subtle.import_key_with_object("raw", &raw, &algo, false, &usages(&["deriveKey"])))
            .await?
            .dyn_into()
            .map_err(|_| CryptoError::Failed)?;
    let params =
        Pbkdf2Params::new_with_str("PBKDF2", "SHA-256", iterations, &Uint8Array::from(salt));
    let aes = AesDerivedKeyParams::new("AES-GCM", 256);
    wait(subtle.derive_key_with_object_and_object(
        &params,
        &base,
        &aes,
        false,
        &usages(&["encrypt", "decrypt"]),
    ))
    .await?
    .dyn_into()
    .map_err(|_| CryptoError::Failed)
}

/// The device's data key from its 32 raw bytes: AES-GCM-256, non-extractable. The raw
/// bytes exist only sealed at rest (under the PIN's key and under the account's) and
/// for a moment in memory while unlocking.
pub async fn import_data_key(raw: &[u8]) -> Result<CryptoKey, CryptoError> {
    let algo = Object::new();
    Reflect::set(&algo, &"name".into(), &"AES-GCM".into()).map_err(|_| CryptoError::Failed)?;
    wait(subtle()?.import_key_with_object(
        "raw",
        &Uint8Array::from(raw),
        &algo,
        false,
        &usages(&["encrypt", "decrypt"]),
    ))
    .await?
    .dyn_into()
    .map_err(|_| CryptoError::Failed)
}

/// Encrypts `plain` under `key` with a fresh random IV.
pub async fn seal(key: &CryptoKey, plain: &[u8]) -> Result<Sealed, CryptoError> {
    let iv = random_bytes(12)?;
    let params = AesGcmParams::new_with_u8_array("AES-GCM", &Uint8Array::from(iv.as_slice()));
    let out = wait(subtle()?.encrypt_with_object_and_u8_array(&params, key, plain)).await?;
    Ok(Sealed {
        iv,
        ct: Uint8Array::new(&out).to_vec(),
    })
}

/// Decrypts a [`Sealed`] value; [`CryptoError::WrongKey`] when the tag does not verify.
pub async fn open(key: &CryptoKey, sealed: &Sealed) -> Result<Vec<u8>, CryptoError> {
    let params =
        AesGcmParams::new_with_u8_array("AES-GCM", &Uint8Array::from(sealed.iv.as_slice()));
    let promise = subtle()?
        .decrypt_with_object_and_u8_array(&params, key, &sealed.ct)
        .map_err(|_| CryptoError::Failed)?;
    let out = JsFuture::from(promise)
        .await
        .map_err(|_| CryptoError::WrongKey)?;
    Ok(Uint8Array::new(&out).to_vec())
}

/// Serializes `value` as JSON and encrypts it.
pub async fn seal_json<T: Serialize>(key: &CryptoKey, value: &T) -> Result<Sealed, CryptoError> {
    let plain = serde_json::to_vec(value).map_err(|_| CryptoError::Failed)?;
    seal(key, &plain).await
}

/// Decrypts and parses a JSON value sealed by [`seal_json`]. Straight from the bytes,
/// like the API answers (`api::answer`) and the core's own JSON: every type the app
/// reads has one deserializer instance (serde_json's byte-slice reader) in the wasm.
pub async fn open_json<T: serde::de::DeserializeOwned>(
    key: &CryptoKey,
    sealed: &Sealed,
) -> Result<T, CryptoError> {
    let plain = open(key, sealed).await?;
    serde_json::from_slice(&plain).map_err(|_| CryptoError::Failed)
}
