//! Life events (pemutakhiran) as typed change requests, and applying them to a family.
//!
//! A [`ChangeRequest`] is what a facilitator submits: one [`Event`] about one family
//! (No. KK), made against a known version of it, with a client-made id (UUID), author,
//! time, reason and optional evidence. The event kinds mirror question 404's presence
//! codes (DTSEN.md §4): died (2), moved within Indonesia (3) or abroad (4), new member
//! (5: moved in, birth), not found (6); plus marriage, family split (pecah KK), family
//! merge, family not found and variable corrections from the ground check (uji petik).
//!
//! [`apply`] is pure: a valid event gives the family's next version (`version + 1`) and,
//! for a split, the new family (version 1, `origin_kk` = the old No. KK), for a merge the
//! target family's next version. The result is checked with [`crate::validate`]; an
//! event that is malformed, does not fit the family, or makes the family invalid gives
//! findings and no change. Errors the family already had before the event do not block
//! it (a death can be recorded in a family with an old NIK problem); they are returned
//! with the result.
//!
//! When the last active member leaves, the family record closes: a move gives status
//! `moved`, not-found gives `not_found`, a split of everyone `split`, a merge `merged`,
//! and the death of the last member `ended`. A closed family is not re-validated. Any
//! other event that would leave an active family without active members is refused
//! (`event.last_member`).
//!
//! **Frozen submission.** A submitted request carries `hash`, the SHA-256 of its
//! canonical serialization ([`canonical_json`]); [`verify_hash`] detects any change
//! after submission, so an approval applies exactly what was submitted.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::codes::{marital, presence, relationship as rel};
use crate::date::Date;
use crate::finding::{Finding, Severity, Text, values};
use crate::model::{Address, Anggota, Assets, Code, FamilyStatus, GeoPoint, Housing, Keluarga};
use crate::region::Level;
use crate::validate::{ValidationContext, validate_into};

/// What a piece of evidence is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum EvidenceKind {
    /// A photo (house, KK card, death certificate), stored apart; `reference` names it.
    Photo,
    /// A GPS fix; `gps` holds it.
    Gps,
    /// A document (akta kematian, surat pindah), stored apart.
    Document,
}

/// A reference to evidence stored outside the request (photos are not embedded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Evidence {
    pub kind: EvidenceKind,
    /// Where the evidence is: a blob id, file name or content hash of the photo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps: Option<GeoPoint>,
}

/// Where a member moved to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Destination {
    /// Within Indonesia (404 = 3): a Kemendagri region code (province to village)
    /// that exists in the loaded region table.
    Domestic { region: String },
    /// Abroad (404 = 4).
    Abroad {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        country: Option<String>,
    },
}

/// A member's relationship to the head in a family (409), by NIK.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberRole {
    pub nik: String,
    /// 409 Hubungan dengan kepala keluarga in the family the member joins.
    pub relationship: Code,
}

/// One corrected answer from the ground check (uji petik).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Correction {
    /// For a member variable: the member's NIK. Absent for a family variable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nik: Option<String>,
    /// The field in the JSON format: `housing.floor`, `assets.movable.car`,
    /// `address.rt`, `gps`; for a member `education_level`, `disability.seeing`.
    pub field: String,
    /// The new answer (`null` clears it).
    pub value: Value,
}

/// The life event itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Event {
    /// Meninggal (404 = 2). When the head died, `new_head` names the member who
    /// becomes head; the surviving spouse becomes cerai mati (408 = 4).
    MemberDied {
        nik: String,
        date: Date,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        new_head: Option<String>,
    },
    /// Pindah (404 = 3 within Indonesia, 4 abroad). When the head moved, `new_head`
    /// names the member who becomes head.
    MemberMovedOut {
        nik: String,
        date: Date,
        destination: Destination,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        new_head: Option<String>,
    },
    /// A person joins the family (404 = 5), e.g. moving in from another family.
    MemberMovedIn {
        anggota: Anggota,
        date: Date,
        /// The No. KK the person came from, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_kk: Option<String>,
    },
    /// A baby joins the family (404 = 5); `anggota.birth_date` is the birth date.
    Birth { anggota: Anggota },
    /// A member marries. `partner` joins the family as a new member (404 = 5): as
    /// spouse (409 = 2) of the head, else as child-in-law (409 = 4). Without
    /// `partner`, only the member's status changes. `partner_nik` instead names a
    /// partner who is already a member.
    Marriage {
        nik: String,
        date: Date,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partner: Option<Anggota>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partner_nik: Option<String>,
    },
    /// Pecah KK: `members` leave for a new family card `new_no_kk`, with their
    /// relationship in the new family (exactly one head). In the old family they
    /// become 404 = 3 (moved) to the new family's village. When the old head leaves
    /// and members stay, `remaining_head` names the old family's new head.
    FamilySplit {
        new_no_kk: String,
        date: Date,
        members: Vec<MemberRole>,
        /// The new family's address; the old one when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<Address>,
        /// The new family's housing; the old family's when absent (same dwelling).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        housing: Option<Housing>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assets: Option<Assets>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remaining_head: Option<String>,
    },
    /// This family joins the family `into_no_kk` (given as the context's target).
    /// Every active member must be listed with their relationship in the target
    /// family. This family's status becomes `merged`.
    FamilyMerge {
        into_no_kk: String,
        date: Date,
        members: Vec<MemberRole>,
    },
    /// Ground-check (uji petik) corrections of questionnaire answers. `visited`, the
    /// date of the home visit, becomes the family's `ground_checked` date.
    VariableCorrection {
        corrections: Vec<Correction>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        visited: Option<Date>,
    },
    /// Uji petik, data sesuai: the facilitator visited the family on `date` and found
    /// every answer correct. Only a record without errors can be confirmed; the
    /// family's `ground_checked` date becomes `date`, and nothing else changes.
    GroundCheckConfirmed { date: Date },
    /// A member is not found at the visit (404 = 6). When the head is not found,
    /// `new_head` names the member who becomes head.
    MemberNotFound {
        nik: String,
        date: Date,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        new_head: Option<String>,
    },
    /// The family is not found at the address (status `not_found`).
    FamilyNotFound { date: Date },
}

impl Event {
    /// The stable name of the event type, as in the JSON `type` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::MemberDied { .. } => "member_died",
            Event::MemberMovedOut { .. } => "member_moved_out",
            Event::MemberMovedIn { .. } => "member_moved_in",
            Event::Birth { .. } => "birth",
            Event::Marriage { .. } => "marriage",
            Event::FamilySplit { .. } => "family_split",
            Event::FamilyMerge { .. } => "family_merge",
            Event::VariableCorrection { .. } => "variable_correction",
            Event::MemberNotFound { .. } => "member_not_found",
            Event::FamilyNotFound { .. } => "family_not_found",
            Event::GroundCheckConfirmed { .. } => "ground_check_confirmed",
        }
    }
}

/// A change request: one event about one family, as submitted by a device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangeRequest {
    /// Client-made UUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex); the idempotency key.
    pub id: String,
    /// The No. KK of the family the event is about.
    pub no_kk: String,
    /// The family version the facilitator saw; the event applies only to it.
    pub base_version: u32,
    /// The account that made the request (an account id, not a person's name).
    pub author: String,
    /// When it was made, RFC 3339 (`2026-11-23T08:15:00Z` or with an offset).
    pub time: String,
    /// Why (alasan), free text.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    pub event: Event,
    /// Warnings the facilitator saw on the device and confirmed before submitting, so
    /// the reviewer sees what was acknowledged. Informational: the server validates again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confirmed_warnings: Vec<ConfirmedWarning>,
    /// Lowercase hex SHA-256 of [`canonical_json`]; set by [`seal`] on submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// A warning confirmed by the facilitator: its rule id and the path it pointed at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConfirmedWarning {
    pub rule: String,
    pub path: String,
}

/// What applying needs: the validation context (rulebook, region table, today) and,
/// for a merge, the target family.
#[derive(Clone, Copy, Debug)]
pub struct EventContext<'a> {
    pub validation: ValidationContext<'a>,
    /// For [`Event::FamilyMerge`]: the current version of the family merged into.
    pub target: Option<&'a Keluarga>,
}

impl<'a> EventContext<'a> {
    pub fn new(validation: ValidationContext<'a>) -> EventContext<'a> {
        EventContext {
            validation,
            target: None,
        }
    }
}

/// The outcome of a valid event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    /// The family's next version.
    pub keluarga: Keluarga,
    /// A split: the new family (version 1). A merge: the target family's next version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<Keluarga>,
    /// Findings that remain: warnings to confirm, and errors the families already
    /// had before the event. Paths in the other family start with `other.`.
    pub findings: Vec<Finding>,
}

// ---------------------------------------------------------------------------
// Canonical form and hash

/// The canonical serialization hashed by [`content_hash`]: the request as this crate
/// serializes it (absent optional fields omitted, empty `evidence` omitted), **without
/// the `hash` field**, as compact JSON with every object's keys sorted by their UTF-8
/// bytes, no whitespace, strings escaped as serde_json does, numbers as serde_json
/// prints them. Parsing and re-serializing a request does not change its canonical form.
pub fn canonical_json(req: &ChangeRequest) -> String {
    let mut unsealed = req.clone();
    unsealed.hash = None;
    // Serializing these types cannot fail: all map keys are strings.
    let value = crate::to_tree(&unsealed).unwrap_or(Value::Null);
    let mut out = String::new();
    write_canonical(&value, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Lowercase hex SHA-256 of [`canonical_json`].
pub fn content_hash(req: &ChangeRequest) -> String {
    let digest = Sha256::digest(canonical_json(req).as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// The request frozen for submission: `hash` set to its [`content_hash`].
pub fn seal(req: &ChangeRequest) -> ChangeRequest {
    let mut sealed = req.clone();
    sealed.hash = Some(content_hash(req));
    sealed
}

/// Why a hash check failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HashError {
    /// The request carries no hash (not sealed).
    Missing,
    /// The content does not match the hash: it changed after submission.
    Mismatch { expected: String, found: String },
}

/// Checks that a submitted request is unchanged since it was sealed.
pub fn verify_hash(req: &ChangeRequest) -> Result<(), HashError> {
    let Some(found) = &req.hash else {
        return Err(HashError::Missing);
    };
    let expected = content_hash(req);
    if &expected == found {
        Ok(())
    } else {
        Err(HashError::Mismatch {
            expected,
            found: found.clone(),
        })
    }
}

// ---------------------------------------------------------------------------
// Applying

fn message(rule: &str) -> Text {
    match rule {
        "event.id" => Text::new(
            "Id perubahan harus UUID (8-4-4-4-12 digit heksadesimal); yang diisi: {id}.",
            "The change id must be a UUID (8-4-4-4-12 hex digits); found: {id}.",
        ),
        "event.no_kk" => Text::new(
            "Perubahan ini untuk No. KK lain, bukan keluarga ini.",
            "This change is for another No. KK, not this family.",
        ),
        "event.base_version" => Text::new(
            "Data keluarga sudah berubah (versi {current}) sejak perubahan ini dibuat (versi {base}). Muat ulang data lalu ulangi.",
            "The family changed (version {current}) since this change was made (version {base}). Reload the family and try again.",
        ),
        "event.author" => Text::new(
            "Pembuat perubahan harus diisi.",
            "The author of the change is required.",
        ),
        "event.time" => Text::new(
            "Waktu perubahan harus berformat RFC 3339 (mis. 2026-11-23T08:15:00Z).",
            "The change time must be RFC 3339 (e.g. 2026-11-23T08:15:00Z).",
        ),
        "event.reason" => Text::new(
            "Alasan perubahan harus diisi.",
            "A reason for the change is required.",
        ),
        "event.family_inactive" => Text::new(
            "Keluarga berstatus {status}; perubahan anggota tidak dapat dicatat.",
            "The family's status is {status}; member changes cannot be recorded.",
        ),
        "event.member_unknown" => Text::new(
            "Tidak ada anggota aktif dengan NIK ini di keluarga.",
            "No active member of the family has this NIK.",
        ),
        "event.confirm_with_errors" => Text::new(
            "Data keluarga masih memiliki {count} kesalahan, jadi tidak dapat dinyatakan sesuai. Perbaiki jawabannya lewat uji petik.",
            "The family record still has {count} errors, so it cannot be confirmed as correct. Correct the answers in the ground check.",
        ),
        "event.date_future" => Text::new(
            "Tanggal peristiwa ({date}) ada di masa depan.",
            "The event date ({date}) lies in the future.",
        ),
        "event.date_before_birth" => Text::new(
            "Tanggal peristiwa ({date}) sebelum tanggal lahir anggota ({birth}).",
            "The event date ({date}) is before the member's birth date ({birth}).",
        ),
        "event.new_head_required" => Text::new(
            "Kepala keluarga keluar dari keluarga; pilih anggota yang menjadi kepala keluarga baru.",
            "The head leaves the family; choose the member who becomes the new head.",
        ),
        "event.new_head_unknown" => Text::new(
            "Kepala keluarga baru harus anggota aktif lain dari keluarga ini.",
            "The new head must be another active member of this family.",
        ),
        "event.destination" => Text::new(
            "Kode wilayah tujuan {region} tidak ada dalam daftar wilayah Kemendagri.",
            "Destination region code {region} is not in the Kemendagri region list.",
        ),
        "event.nik_exists" => Text::new(
            "NIK anggota baru sudah terdaftar di keluarga ini.",
            "The new member's NIK is already in this family.",
        ),
        "event.birth_relationship" => Text::new(
            "Bayi yang lahir harus dicatat sebagai anak (3), cucu (5) atau lainnya (8); yang diisi {relationship}.",
            "A newborn must be recorded as child (3), grandchild (5) or other (8); found {relationship}.",
        ),
        "event.birth_late" => Text::new(
            "Kelahiran dicatat lebih dari setahun setelah tanggal lahir ({birth}); periksa apakah ini anggota baru pindah masuk.",
            "The birth is recorded more than a year after the birth date ({birth}); check whether this is a member moving in.",
        ),
        "event.head_joins" => Text::new(
            "Anggota yang pindah masuk tidak boleh langsung menjadi kepala keluarga.",
            "A member moving in cannot join as head of the family.",
        ),
        "event.already_married" => Text::new(
            "Anggota ini sudah berstatus kawin.",
            "This member is already married.",
        ),
        "event.partner_conflict" => Text::new(
            "Isi pasangan baru atau NIK pasangan yang sudah menjadi anggota, tidak keduanya.",
            "Give either a new partner or the NIK of a partner who is already a member, not both.",
        ),
        "event.partner_self" => Text::new(
            "Pasangan tidak boleh anggota yang sama.",
            "The partner cannot be the same member.",
        ),
        "event.split_same_kk" => Text::new(
            "No. KK baru harus berbeda dari No. KK lama.",
            "The new No. KK must differ from the old one.",
        ),
        "event.split_empty" => Text::new(
            "Pecah KK harus memindahkan paling sedikit satu anggota.",
            "A family split must move at least one member.",
        ),
        "event.member_repeated" => Text::new(
            "Anggota ini disebut lebih dari sekali.",
            "This member is listed more than once.",
        ),
        "event.merge_target" => Text::new(
            "Keluarga tujuan penggabungan (No. KK {into}) tidak tersedia.",
            "The family to merge into (No. KK {into}) is not available.",
        ),
        "event.merge_self" => Text::new(
            "Keluarga tidak dapat digabung ke dirinya sendiri.",
            "A family cannot merge into itself.",
        ),
        "event.merge_member_missing" => Text::new(
            "Setiap anggota aktif harus disebut dalam penggabungan; anggota nomor {number} tidak disebut.",
            "Every active member must be listed in the merge; member number {number} is missing.",
        ),
        "event.correction_empty" => Text::new(
            "Koreksi tidak berisi perubahan.",
            "The correction contains no change.",
        ),
        "event.correction_field" => Text::new(
            "Isian {field} tidak dapat dikoreksi di sini; gunakan peristiwa yang sesuai.",
            "Field {field} cannot be corrected here; use the matching life event.",
        ),
        "event.correction_value" => Text::new(
            "Nilai koreksi untuk {field} tidak sah: {problem}",
            "The corrected value of {field} is not valid: {problem}",
        ),
        "event.last_member" => Text::new(
            "Ini anggota aktif terakhir keluarga; penutupan data keluarga dilakukan oleh operator Dinsos.",
            "This is the family's last active member; closing the family record is done by the Dinsos operator.",
        ),
        "event.not_active_family" => Text::new(
            "Keluarga tidak aktif (status {status}).",
            "The family is not active (status {status}).",
        ),
        _ => Text::new(rule, rule),
    }
}

struct Out {
    findings: Vec<Finding>,
}

impl Out {
    fn error<const N: usize>(&mut self, rule: &str, path: &str, vals: [(&str, String); N]) {
        self.push(rule, Severity::Error, path, vals);
    }
    fn warning<const N: usize>(&mut self, rule: &str, path: &str, vals: [(&str, String); N]) {
        self.push(rule, Severity::Warning, path, vals);
    }
    fn push<const N: usize>(
        &mut self,
        rule: &str,
        severity: Severity,
        path: &str,
        vals: [(&str, String); N],
    ) {
        self.findings.push(Finding::new(
            rule,
            severity,
            path,
            &message(rule),
            values(vals),
        ));
    }
    fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with a real date and time.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return false;
    }
    if Date::parse(&s[..10]).is_err() || !matches!(b[10], b'T' | b't' | b' ') {
        return false;
    }
    let two = |i: usize| -> Option<u8> {
        let (x, y) = (b.get(i)?, b.get(i + 1)?);
        (x.is_ascii_digit() && y.is_ascii_digit()).then(|| (x - b'0') * 10 + (y - b'0'))
    };
    let (Some(h), Some(m), Some(sec)) = (two(11), two(14), two(17)) else {
        return false;
    };
    if b[13] != b':' || b[16] != b':' || h > 23 || m > 59 || sec > 60 {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && b[i + 3] == b':'
                && two(i + 1).is_some_and(|x| x <= 23)
                && two(i + 4).is_some_and(|x| x <= 59)
        }
        _ => false,
    }
}

/// Index of the active member with this NIK.
fn active_index(fam: &Keluarga, nik: &str) -> Option<usize> {
    fam.anggota
        .iter()
        .position(|a| a.is_active() && a.nik == nik)
}

fn member_path(i: usize, field: &str) -> String {
    format!("anggota[{i}].{field}")
}

fn check_date(out: &mut Out, date: Date, birth: Option<Date>, today: Date, path: &str) {
    if date > today {
        out.error("event.date_future", path, [("date", date.to_string())]);
    }
    if let Some(b) = birth
        && date < b
    {
        out.error(
            "event.date_before_birth",
            path,
            [("date", date.to_string()), ("birth", b.to_string())],
        );
    }
}

fn status_name(s: FamilyStatus) -> String {
    crate::to_tree(&s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The next free 401 number.
fn next_number(fam: &Keluarga) -> u16 {
    let max = fam.anggota.iter().filter_map(|a| a.number).max();
    max.unwrap_or(fam.anggota.len() as u16).saturating_add(1)
}

fn refresh_count(fam: &mut Keluarga) {
    if fam.member_count.is_some() {
        fam.member_count = Some(fam.active_members().count() as u16);
    }
}

/// The head leaves while others stay: `new_head` must name another active member,
/// who becomes head (409 = 1). Other relationships are left as recorded.
fn replace_head(out: &mut Out, fam: &mut Keluarga, leaving: usize, new_head: Option<&str>) {
    let others_remain = fam
        .anggota
        .iter()
        .enumerate()
        .any(|(i, a)| i != leaving && a.is_active());
    if fam.anggota[leaving].relationship != rel::HEAD || !others_remain {
        return;
    }
    let Some(nik) = new_head else {
        out.error("event.new_head_required", "event.new_head", []);
        return;
    };
    match active_index(fam, nik) {
        Some(j) if j != leaving => fam.anggota[j].relationship = rel::HEAD,
        _ => out.error("event.new_head_unknown", "event.new_head", []),
    }
}

/// Applies a change request to a family. See the module documentation.
pub fn apply(
    fam: &Keluarga,
    req: &ChangeRequest,
    ctx: &EventContext,
) -> Result<Applied, Vec<Finding>> {
    let today = ctx.validation.today;
    let mut out = Out {
        findings: Vec::new(),
    };

    // The envelope.
    if !is_uuid(&req.id) {
        out.error(
            "event.id",
            "id",
            [("id", req.id.chars().take(40).collect())],
        );
    }
    if req.no_kk != fam.no_kk {
        out.error("event.no_kk", "no_kk", []);
    }
    if req.base_version != fam.version {
        out.error(
            "event.base_version",
            "base_version",
            [
                ("base", req.base_version.to_string()),
                ("current", fam.version.to_string()),
            ],
        );
    }
    if req.author.trim().is_empty() {
        out.error("event.author", "author", []);
    }
    if !is_rfc3339(&req.time) {
        out.error("event.time", "time", []);
    }
    if req.reason.trim().is_empty() {
        out.error("event.reason", "reason", []);
    }
    if fam.status != FamilyStatus::Active {
        out.error(
            "event.not_active_family",
            "status",
            [("status", status_name(fam.status))],
        );
    }
    if out.has_errors() {
        return Err(out.findings);
    }

    let mut next = fam.clone();
    let mut other: Option<Keluarga> = None;
    match &req.event {
        Event::MemberDied {
            nik,
            date,
            new_head,
        } => {
            if let Some(i) = member(&mut out, fam, nik) {
                check_date(
                    &mut out,
                    *date,
                    Some(fam.anggota[i].birth_date),
                    today,
                    "event.date",
                );
                replace_head(&mut out, &mut next, i, new_head.as_deref());
                let dead = &mut next.anggota[i];
                dead.presence = presence::DIED;
                dead.presence_date = Some(*date);
                // The surviving partner of a head–spouse couple is widowed.
                let role = fam.anggota[i].relationship;
                for (j, a) in next.anggota.iter_mut().enumerate() {
                    let was = fam.anggota[j].relationship;
                    let partner = match role {
                        rel::HEAD => was == rel::SPOUSE,
                        rel::SPOUSE => {
                            was == rel::HEAD
                                && fam
                                    .anggota
                                    .iter()
                                    .filter(|m| m.is_active() && m.relationship == rel::SPOUSE)
                                    .count()
                                    == 1
                        }
                        _ => false,
                    };
                    if j != i
                        && a.is_active()
                        && partner
                        && a.marital_status == Some(marital::MARRIED)
                    {
                        a.marital_status = Some(marital::WIDOWED);
                    }
                }
            }
        }
        Event::MemberMovedOut {
            nik,
            date,
            destination,
            new_head,
        } => {
            if let Some(i) = member(&mut out, fam, nik) {
                check_date(
                    &mut out,
                    *date,
                    Some(fam.anggota[i].birth_date),
                    today,
                    "event.date",
                );
                let (code, to) = match destination {
                    Destination::Domestic { region } => {
                        if Level::of(region).is_none() || !ctx.validation.regions.contains(region) {
                            out.error(
                                "event.destination",
                                "event.destination.region",
                                [("region", region.chars().take(20).collect())],
                            );
                        }
                        (presence::MOVED_DOMESTIC, Some(region.clone()))
                    }
                    Destination::Abroad { .. } => (presence::MOVED_ABROAD, None),
                };
                replace_head(&mut out, &mut next, i, new_head.as_deref());
                let m = &mut next.anggota[i];
                m.presence = code;
                m.presence_date = Some(*date);
                m.moved_to = to;
            }
        }
        Event::MemberMovedIn { anggota, date, .. } => {
            check_date(
                &mut out,
                *date,
                Some(anggota.birth_date),
                today,
                "event.date",
            );
            if anggota.relationship == rel::HEAD {
                out.error("event.head_joins", "event.anggota.relationship", []);
            }
            add_member(&mut out, &mut next, anggota, "event.anggota.nik");
        }
        Event::Birth { anggota } => {
            let birth = anggota.birth_date;
            check_date(&mut out, birth, None, today, "event.anggota.birth_date");
            if !matches!(
                anggota.relationship,
                rel::CHILD | rel::GRANDCHILD | rel::OTHER
            ) {
                out.error(
                    "event.birth_relationship",
                    "event.anggota.relationship",
                    [("relationship", anggota.relationship.to_string())],
                );
            }
            if birth.age_on(today) >= 1 {
                out.warning(
                    "event.birth_late",
                    "event.anggota.birth_date",
                    [("birth", birth.to_string())],
                );
            }
            add_member(&mut out, &mut next, anggota, "event.anggota.nik");
        }
        Event::Marriage {
            nik,
            date,
            partner,
            partner_nik,
        } => {
            if let Some(i) = member(&mut out, fam, nik) {
                check_date(
                    &mut out,
                    *date,
                    Some(fam.anggota[i].birth_date),
                    today,
                    "event.date",
                );
                if fam.anggota[i].marital_status == Some(marital::MARRIED) {
                    out.error(
                        "event.already_married",
                        &member_path(i, "marital_status"),
                        [],
                    );
                }
                next.anggota[i].marital_status = Some(marital::MARRIED);
                let is_head = fam.anggota[i].relationship == rel::HEAD;
                match (partner, partner_nik) {
                    (Some(_), Some(_)) => {
                        out.error("event.partner_conflict", "event.partner", []);
                    }
                    (Some(p), None) => {
                        let mut p = p.clone();
                        p.relationship = if is_head {
                            rel::SPOUSE
                        } else {
                            rel::CHILD_IN_LAW
                        };
                        p.marital_status = Some(marital::MARRIED);
                        check_date(&mut out, *date, Some(p.birth_date), today, "event.date");
                        add_member(&mut out, &mut next, &p, "event.partner.nik");
                    }
                    (None, Some(pn)) => match active_index(fam, pn) {
                        Some(j) if j == i => {
                            out.error("event.partner_self", "event.partner_nik", [])
                        }
                        Some(j) => {
                            next.anggota[j].marital_status = Some(marital::MARRIED);
                            if is_head {
                                next.anggota[j].relationship = rel::SPOUSE;
                            } else if fam.anggota[j].relationship == rel::HEAD {
                                next.anggota[i].relationship = rel::SPOUSE;
                            }
                        }
                        None => out.error("event.member_unknown", "event.partner_nik", []),
                    },
                    (None, None) => {}
                }
            }
        }
        Event::FamilySplit {
            new_no_kk,
            date,
            members,
            address,
            housing,
            assets,
            remaining_head,
        } => {
            check_date(&mut out, *date, None, today, "event.date");
            if new_no_kk == &fam.no_kk {
                out.error("event.split_same_kk", "event.new_no_kk", []);
            }
            if members.is_empty() {
                out.error("event.split_empty", "event.members", []);
            }
            let leaving = roles(&mut out, fam, members, "event.members");
            let new_address = address.clone().unwrap_or_else(|| fam.address.clone());
            let mut new_family = Keluarga {
                no_kk: new_no_kk.clone(),
                version: 1,
                rulebook_version: None,
                status: FamilyStatus::Active,
                origin_kk: Some(fam.no_kk.clone()),
                merged_into: None,
                ground_checked: None,
                urban_rural: if address.is_some() {
                    None
                } else {
                    fam.urban_rural
                },
                gps: if address.is_some() { None } else { fam.gps },
                address: new_address,
                member_count: Some(leaving.len() as u16),
                housing: housing.clone().unwrap_or_else(|| fam.housing.clone()),
                assets: assets.clone().unwrap_or_else(|| fam.assets.clone()),
                anggota: Vec::with_capacity(leaving.len()),
            };
            for (n, &(i, relationship)) in leaving.iter().enumerate() {
                let mut a = fam.anggota[i].clone();
                a.relationship = relationship;
                a.number = Some(n as u16 + 1);
                a.presence = presence::LIVES_WITH_FAMILY;
                a.presence_date = None;
                a.moved_to = None;
                new_family.anggota.push(a);
            }
            // The old family: who leaves becomes "moved" to the new family's village.
            let head_leaves = leaving
                .iter()
                .any(|&(i, _)| fam.anggota[i].relationship == rel::HEAD);
            for &(i, _) in &leaving {
                let m = &mut next.anggota[i];
                m.presence = presence::MOVED_DOMESTIC;
                m.presence_date = Some(*date);
                m.moved_to = Some(new_family.address.village.clone());
            }
            let remaining = next.active_members().count();
            if remaining == 0 {
                next.status = FamilyStatus::Split;
            } else if head_leaves {
                match remaining_head.as_deref() {
                    None => out.error("event.new_head_required", "event.remaining_head", []),
                    Some(nik) => match active_index(&next, nik) {
                        Some(j) => next.anggota[j].relationship = rel::HEAD,
                        None => out.error("event.new_head_unknown", "event.remaining_head", []),
                    },
                }
            }
            other = Some(new_family);
        }
        Event::FamilyMerge {
            into_no_kk,
            date,
            members,
        } => {
            check_date(&mut out, *date, None, today, "event.date");
            if into_no_kk == &fam.no_kk {
                out.error("event.merge_self", "event.into_no_kk", []);
            }
            let target = ctx.target.filter(|t| &t.no_kk == into_no_kk);
            let joining = roles(&mut out, fam, members, "event.members");
            for (i, a) in fam.anggota.iter().enumerate() {
                if a.is_active() && !joining.iter().any(|&(j, _)| j == i) {
                    out.error(
                        "event.merge_member_missing",
                        "event.members",
                        [("number", a.number.unwrap_or(i as u16 + 1).to_string())],
                    );
                }
            }
            match target {
                None => out.error(
                    "event.merge_target",
                    "event.into_no_kk",
                    [("into", into_no_kk.chars().take(16).collect())],
                ),
                Some(t) if t.status != FamilyStatus::Active => out.error(
                    "event.not_active_family",
                    "event.into_no_kk",
                    [("status", status_name(t.status))],
                ),
                Some(t) => {
                    let mut merged = t.clone();
                    merged.version = t.version.saturating_add(1);
                    for &(i, relationship) in &joining {
                        let mut a = fam.anggota[i].clone();
                        a.relationship = relationship;
                        a.presence = presence::NEW_MEMBER;
                        a.presence_date = None;
                        a.moved_to = None;
                        a.number = Some(next_number(&merged));
                        merged.anggota.push(a);
                    }
                    refresh_count(&mut merged);
                    other = Some(merged);
                }
            }
            let village = target.map(|t| t.address.village.clone());
            for &(i, _) in &joining {
                let m = &mut next.anggota[i];
                m.presence = presence::MOVED_DOMESTIC;
                m.presence_date = Some(*date);
                m.moved_to = village.clone();
            }
            next.status = FamilyStatus::Merged;
            next.merged_into = Some(into_no_kk.clone());
        }
        Event::VariableCorrection {
            corrections,
            visited,
        } => {
            if corrections.is_empty() {
                out.error("event.correction_empty", "event.corrections", []);
            }
            if let Some(date) = visited {
                check_date(&mut out, *date, None, today, "event.visited");
            }
            if let Some(corrected) = correct(&mut out, fam, corrections) {
                next = corrected;
            }
            if visited.is_some() {
                next.ground_checked = *visited;
            }
        }
        Event::GroundCheckConfirmed { date } => {
            check_date(&mut out, *date, None, today, "event.date");
            let mut found = Vec::new();
            validate_into(fam, &ctx.validation, &mut found);
            let errors = found.iter().filter(|f| f.is_error()).count();
            if errors > 0 {
                out.error(
                    "event.confirm_with_errors",
                    "event",
                    [("count", errors.to_string())],
                );
            }
            next.ground_checked = Some(*date);
        }
        Event::MemberNotFound {
            nik,
            date,
            new_head,
        } => {
            if let Some(i) = member(&mut out, fam, nik) {
                check_date(&mut out, *date, None, today, "event.date");
                replace_head(&mut out, &mut next, i, new_head.as_deref());
                // The rulebook asks a presence date only for 404 = 2–4; the visit
                // date stays in the event.
                next.anggota[i].presence = presence::NOT_FOUND;
            }
        }
        Event::FamilyNotFound { date } => {
            check_date(&mut out, *date, None, today, "event.date");
            next.status = FamilyStatus::NotFound;
        }
    }
    // The last active member leaves: the family record closes.
    if next.status == FamilyStatus::Active && next.active_members().next().is_none() {
        match req.event {
            Event::MemberMovedOut { .. } => next.status = FamilyStatus::Moved,
            Event::MemberNotFound { .. } => next.status = FamilyStatus::NotFound,
            Event::MemberDied { .. } => next.status = FamilyStatus::Ended,
            _ => out.error("event.last_member", "event.nik", []),
        }
    }
    if out.has_errors() {
        return Err(out.findings);
    }

    refresh_count(&mut next);
    next.version = fam.version.saturating_add(1);
    let version = ctx.validation.rulebook.version().to_owned();
    next.rulebook_version = Some(version.clone());
    if let Some(o) = other.as_mut() {
        o.rulebook_version = Some(version);
    }

    // Validate the result with the core's validation; block only on errors the event
    // introduced. A family the event closes (split to nothing, merged, not found) is
    // not re-validated: no rule about its members applies any more.
    let validate = |k: &Keluarga| {
        let mut v = Vec::new();
        validate_into(k, &ctx.validation, &mut v);
        v
    };
    let mut findings = out.findings;
    let (before, after) = if next.status == FamilyStatus::Active {
        (validate(fam), validate(&next))
    } else {
        (Vec::new(), Vec::new())
    };
    let mut new_errors = Vec::new();
    for f in after {
        if f.is_error() && !before.iter().any(|b| same_finding(b, &f)) {
            new_errors.push(f);
        } else {
            findings.push(f);
        }
    }
    if let Some(o) = &other {
        let before_other = match (&req.event, ctx.target) {
            (Event::FamilyMerge { .. }, Some(t)) => validate(t),
            _ => Vec::new(),
        };
        for mut f in validate(o) {
            let introduced = f.is_error() && !before_other.iter().any(|b| same_finding(b, &f));
            f.path = if f.path.is_empty() {
                "other".to_owned()
            } else {
                format!("other.{}", f.path)
            };
            if introduced {
                new_errors.push(f);
            } else {
                findings.push(f);
            }
        }
    }
    if !new_errors.is_empty() {
        new_errors.extend(
            findings
                .into_iter()
                .filter(|f| f.rule.starts_with("event.")),
        );
        return Err(new_errors);
    }
    Ok(Applied {
        keluarga: next,
        other,
        findings,
    })
}

fn same_finding(a: &Finding, b: &Finding) -> bool {
    a.rule == b.rule && a.path == b.path && a.values == b.values
}

/// The active member with this NIK, or a finding.
fn member(out: &mut Out, fam: &Keluarga, nik: &str) -> Option<usize> {
    let found = active_index(fam, nik);
    if found.is_none() {
        out.error("event.member_unknown", "event.nik", []);
    }
    found
}

/// Resolves a list of members with roles; each must be an active member, once.
fn roles(out: &mut Out, fam: &Keluarga, members: &[MemberRole], path: &str) -> Vec<(usize, Code)> {
    let mut res: Vec<(usize, Code)> = Vec::with_capacity(members.len());
    for (k, m) in members.iter().enumerate() {
        let p = format!("{path}[{k}].nik");
        match active_index(fam, &m.nik) {
            None => out.error("event.member_unknown", &p, []),
            Some(i) if res.iter().any(|&(j, _)| j == i) => {
                out.error("event.member_repeated", &p, [])
            }
            Some(i) => res.push((i, m.relationship)),
        }
    }
    res
}

/// Adds a new member (404 = 5) with the next 401 number.
fn add_member(out: &mut Out, fam: &mut Keluarga, a: &Anggota, path: &str) {
    if fam.anggota.iter().any(|m| m.is_active() && m.nik == a.nik) {
        out.error("event.nik_exists", path, []);
    }
    let mut a = a.clone();
    a.presence = presence::NEW_MEMBER;
    a.presence_date = None;
    a.moved_to = None;
    a.number = Some(next_number(fam));
    fam.anggota.push(a);
}

/// Fields a correction may not touch: identity, lifecycle and bookkeeping have their
/// own events.
const FAMILY_LOCKED: &[&str] = &[
    "no_kk",
    "version",
    "rulebook_version",
    "status",
    "origin_kk",
    "merged_into",
    "ground_checked",
    "anggota",
    "address.province",
    "address.regency",
    "address.district",
    "address.village",
];
const MEMBER_LOCKED: &[&str] = &["nik", "number", "presence", "presence_date", "moved_to"];

/// True when a ground-check correction may change `field` of the family, or of a
/// member when `member` (identity, lifecycle and bookkeeping fields have their own events).
pub fn correctable(field: &str, member: bool) -> bool {
    !locked(field, if member { MEMBER_LOCKED } else { FAMILY_LOCKED })
}

fn locked(field: &str, list: &[&str]) -> bool {
    list.iter().any(|l| {
        field == *l || (field.starts_with(l) && field.as_bytes().get(l.len()) == Some(&b'.'))
    })
}

/// Applies corrections through the JSON form, so the value is checked by the same
/// deserialization as any input. `None` with findings when one is refused.
fn correct(out: &mut Out, fam: &Keluarga, corrections: &[Correction]) -> Option<Keluarga> {
    correct_parts(fam, corrections).or_else(|| correct_document(out, fam, corrections))
}

/// [`correct`] through the JSON form of the whole family: the reference behaviour,
/// and the one that reports refused corrections.
fn correct_document(out: &mut Out, fam: &Keluarga, corrections: &[Correction]) -> Option<Keluarga> {
    let mut doc = crate::to_tree(fam).ok()?;
    let before_errors = out.findings.len();
    for (k, c) in corrections.iter().enumerate() {
        let path = format!("event.corrections[{k}]");
        let field_ok = field_name_ok(&c.field);
        let (target, list) = match &c.nik {
            None => (Some(&mut doc), FAMILY_LOCKED),
            Some(nik) => match active_index(fam, nik) {
                Some(i) => (
                    doc.get_mut("anggota").and_then(|a| a.get_mut(i)),
                    MEMBER_LOCKED,
                ),
                None => {
                    out.error("event.member_unknown", &format!("{path}.nik"), []);
                    continue;
                }
            },
        };
        if !field_ok || locked(&c.field, list) {
            out.error(
                "event.correction_field",
                &format!("{path}.field"),
                [("field", c.field.chars().take(60).collect())],
            );
            continue;
        }
        let Some(node) = target else { continue };
        if !set_field(node, &c.field, &c.value) {
            out.error(
                "event.correction_field",
                &format!("{path}.field"),
                [("field", c.field.chars().take(60).collect())],
            );
        }
    }
    if out.findings.len() > before_errors {
        return None;
    }
    match crate::json::from_value::<Keluarga>(doc) {
        Ok(k) => Some(k),
        Err(e) => {
            let field = if e.path.is_empty() {
                refused_field(fam, corrections)
            } else {
                e.path
            };
            // The message names the expected type, never the value (it may be personal data).
            let problem = without_quoted(&e.message);
            out.error(
                "event.correction_value",
                "event.corrections",
                [("field", field), ("problem", problem)],
            );
            None
        }
    }
}

/// A field path of lowercase words: `housing.floor`, `disability.seeing`.
fn field_name_ok(field: &str) -> bool {
    !field.is_empty()
        && field.split('.').all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// The part of a family that one correction writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Address,
    Housing,
    Assets,
    Member(usize),
}

/// [`correct`]'s fast path: each part the corrections touch (`housing`, `assets`,
/// `address`, one member) goes through its JSON form alone, not the whole family, with
/// the same deserialization. `None` when a correction is refused or concerns another
/// part: the whole-document path then gives the result or the findings. Both give the
/// same family, since the untouched parts of a family survive a JSON round trip as
/// they are.
fn correct_parts(fam: &Keluarga, corrections: &[Correction]) -> Option<Keluarga> {
    let mut parts: Vec<(Part, Value)> = Vec::new();
    for c in corrections {
        if !field_name_ok(&c.field) {
            return None;
        }
        let (part, field) = match &c.nik {
            None => {
                if locked(&c.field, FAMILY_LOCKED) {
                    return None;
                }
                let (top, rest) = c.field.split_once('.')?;
                let part = match top {
                    "address" => Part::Address,
                    "housing" => Part::Housing,
                    "assets" => Part::Assets,
                    _ => return None,
                };
                (part, rest)
            }
            Some(nik) => {
                if locked(&c.field, MEMBER_LOCKED) {
                    return None;
                }
                (Part::Member(active_index(fam, nik)?), c.field.as_str())
            }
        };
        let at = match parts.iter().position(|(p, _)| *p == part) {
            Some(at) => at,
            None => {
                let value = match part {
                    Part::Address => crate::to_tree(&fam.address),
                    Part::Housing => crate::to_tree(&fam.housing),
                    Part::Assets => crate::to_tree(&fam.assets),
                    Part::Member(i) => crate::to_tree(&fam.anggota[i]),
                }
                .ok()?;
                parts.push((part, value));
                parts.len() - 1
            }
        };
        if !set_field(&mut parts[at].1, field, &c.value) {
            return None;
        }
    }
    let mut next = fam.clone();
    for (part, value) in parts {
        match part {
            Part::Address => next.address = crate::json::from_value(value).ok()?,
            Part::Housing => next.housing = crate::json::from_value(value).ok()?,
            Part::Assets => next.assets = crate::json::from_value(value).ok()?,
            Part::Member(i) => next.anggota[i] = crate::json::from_value(value).ok()?,
        }
    }
    Some(next)
}

/// Without error paths (the `error-paths` feature off), the field of the first
/// correction whose value alone does not fit the family (`housing.floor`,
/// `anggota[1].education_level`): what the path would name for a scalar value.
/// Empty when no single correction is at fault.
fn refused_field(fam: &Keluarga, corrections: &[Correction]) -> String {
    let Ok(base) = crate::to_tree(fam) else {
        return String::new();
    };
    for c in corrections {
        let mut doc = base.clone();
        let (node, prefix) = match &c.nik {
            None => (Some(&mut doc), String::new()),
            Some(nik) => match active_index(fam, nik) {
                Some(i) => (
                    doc.get_mut("anggota").and_then(|a| a.get_mut(i)),
                    format!("anggota[{i}]."),
                ),
                None => continue,
            },
        };
        let Some(node) = node else { continue };
        if set_field(node, &c.field, &c.value) && crate::json::from_value::<Keluarga>(doc).is_err()
        {
            return format!("{prefix}{}", c.field);
        }
    }
    String::new()
}

/// The family with ground-check corrections applied, without validating it and
/// without a new version: what a form shows while the facilitator edits. Refused
/// corrections (locked or unknown fields, values of the wrong type, members not
/// active) give the same findings as [`apply`] would.
pub fn apply_corrections(
    fam: &Keluarga,
    corrections: &[Correction],
) -> Result<Keluarga, Vec<Finding>> {
    let mut out = Out {
        findings: Vec::new(),
    };
    match correct(&mut out, fam, corrections) {
        Some(k) if !out.has_errors() => Ok(k),
        _ => Err(out.findings),
    }
}

/// Sets `a.b.c` in a JSON object (creating objects on the way; `null` removes the
/// field). False when the path goes through something that is not an object.
fn set_field(node: &mut Value, field: &str, value: &Value) -> bool {
    let (parents, last) = match field.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, field),
    };
    let mut node = node;
    for part in parents.into_iter().flat_map(|p| p.split('.')) {
        let Some(obj) = node.as_object_mut() else {
            return false;
        };
        node = obj
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    let Some(obj) = node.as_object_mut() else {
        return false;
    };
    if value.is_null() {
        obj.remove(last);
    } else {
        obj.insert(last.to_owned(), value.clone());
    }
    true
}

/// Replaces every `"…"` quoted part of a serde message with `"…"`, so no input value
/// reaches a finding.
fn without_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut inside = false;
    for c in msg.chars() {
        if c == '"' {
            if inside {
                out.push_str("…\"");
            } else {
                out.push('"');
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_accepts_utc_offsets_and_fractions_only() {
        for ok in [
            "2026-11-23T08:15:00Z",
            "2026-11-23T08:15:00.123Z",
            "2026-11-23T08:15:00+07:00",
            "2026-11-23t08:15:00-09:30",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2026-11-23",
            "2026-11-23T08:15:00",
            "2026-02-30T08:15:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T08:15:00+0700",
            "2026-11-23T08:15:00.Z",
            "2026-11-23T08:15:00Zjunk",
            "२०२६-11-23T08:15:00Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]
        /// The fast path (part by part) gives exactly what the whole-document path
        /// gives, and declines whenever the whole-document path refuses.
        #[test]
        fn correcting_by_parts_gives_what_the_whole_document_gives(
            picks in proptest::collection::vec((0usize..16, 0usize..11, 0usize..7), 1..5)
        ) {
            const FIELDS: [&str; 16] = [
                "housing.floor", "housing.floor_area_m2", "housing.power", "assets.movable.car",
                "assets.livestock.goat_sheep", "assets.internet", "address.rt", "address.village",
                "gps", "member_count", "education_level", "disability.seeing", "nik",
                "housing.colour", "assets.movable", "housing.floor.x",
            ];
            let values = [
                serde_json::json!(8), serde_json::json!("8"), Value::Null, serde_json::json!(-1),
                serde_json::json!(300), serde_json::json!("007"), serde_json::json!({"a": 1}),
                serde_json::json!(2.5), serde_json::json!(true), serde_json::json!(45),
                serde_json::json!({"lat": -6.2, "lon": 106.8}),
            ];
            let fam: Keluarga = serde_json::from_str(include_str!(
                "../../../tests/vectors/households/sample.json"
            ))
            .expect("the sample household parses");
            let corrections: Vec<Correction> = picks
                .iter()
                .map(|&(f, v, m)| Correction {
                    // Family fields, then each member, then a NIK of nobody.
                    nik: match m {
                        0 | 1 => None,
                        6 => Some("3201010101010099".to_owned()),
                        i => fam.anggota.get(i - 2).map(|a| a.nik.clone()),
                    },
                    field: FIELDS[f].to_owned(),
                    value: values[v].clone(),
                })
                .collect();
            let mut out = Out { findings: Vec::new() };
            let whole = correct_document(&mut out, &fam, &corrections);
            if let Some(fast) = correct_parts(&fam, &corrections) {
                proptest::prop_assert_eq!(Some(fast), whole);
            }
        }
    }

    #[test]
    fn apply_corrections_changes_only_the_corrected_fields_and_refuses_locked_ones() {
        let fam: Keluarga = serde_json::from_str(include_str!(
            "../../../tests/vectors/households/sample.json"
        ))
        .expect("the sample household parses");
        let nik = fam.anggota[1].nik.clone();
        let fix = |nik: Option<&str>, field: &str, value: Value| Correction {
            nik: nik.map(str::to_owned),
            field: field.to_owned(),
            value,
        };
        let k = apply_corrections(
            &fam,
            &[
                fix(None, "housing.floor", serde_json::json!(8)),
                fix(Some(&nik), "education_level", serde_json::json!(5)),
                fix(None, "housing.pln_customer_id", Value::Null),
            ],
        )
        .expect("valid corrections");
        assert_eq!(k.housing.floor, Some(8));
        assert_eq!(k.anggota[1].education_level, Some(5));
        assert_eq!(k.housing.pln_customer_id, None);
        assert_eq!(k.version, fam.version, "no new version");
        let mut same = k.clone();
        same.housing = fam.housing.clone();
        same.anggota[1].education_level = fam.anggota[1].education_level;
        assert_eq!(same, fam, "nothing else changed");

        let e = apply_corrections(&fam, &[fix(Some(&nik), "nik", serde_json::json!("1"))])
            .expect_err("NIK is locked");
        assert_eq!(e[0].rule, "event.correction_field");
        let e = apply_corrections(&fam, &[fix(None, "housing.floor", serde_json::json!("x"))])
            .expect_err("a string is not a code");
        assert_eq!(e[0].rule, "event.correction_value");
        assert_eq!(e[0].values["field"], "housing.floor");
        let e = apply_corrections(
            &fam,
            &[
                fix(None, "housing.floor", serde_json::json!(8)),
                fix(Some(&nik), "education_level", serde_json::json!([1])),
            ],
        )
        .expect_err("a list is not a code");
        assert_eq!(e[0].rule, "event.correction_value");
        assert_eq!(e[0].values["field"], "anggota[1].education_level");
        assert!(!e[0].values["problem"].is_empty());
        assert_eq!(apply_corrections(&fam, &[]).as_ref(), Ok(&fam));
    }

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("0b9c1f4e-7a2d-4e5f-8c3b-9d1e2f3a4b5c"));
        assert!(is_uuid("0B9C1F4E-7A2D-4E5F-8C3B-9D1E2F3A4B5C"));
        assert!(!is_uuid("0b9c1f4e7a2d4e5f8c3b9d1e2f3a4b5c"));
        assert!(!is_uuid("0b9c1f4e-7a2d-4e5f-8c3b-9d1e2f3a4b5g"));
    }

    #[test]
    fn serde_messages_lose_their_quoted_values() {
        let m = without_quoted(r#"invalid type: string "1101011205800001", expected u8"#);
        assert_eq!(m, r#"invalid type: string "…", expected u8"#);
        assert!(!m.contains("1101"));
    }

    #[test]
    fn set_field_creates_and_removes_and_refuses_non_objects() {
        let mut v = serde_json::json!({ "housing": { "floor": 2 }, "anggota": [] });
        assert!(set_field(&mut v, "housing.floor", &serde_json::json!(8)));
        assert!(set_field(
            &mut v,
            "assets.movable.car",
            &serde_json::json!(1)
        ));
        assert!(set_field(&mut v, "housing.floor", &Value::Null));
        assert_eq!(
            v,
            serde_json::json!({ "housing": {}, "assets": { "movable": { "car": 1 } }, "anggota": [] })
        );
        assert!(!set_field(&mut v, "anggota.x", &serde_json::json!(1)));
    }

    #[test]
    fn locked_fields_match_whole_segments() {
        assert!(locked("no_kk", FAMILY_LOCKED));
        assert!(locked("address.village", FAMILY_LOCKED));
        assert!(!locked("address.rt", FAMILY_LOCKED));
        assert!(locked("anggota", FAMILY_LOCKED));
        assert!(!locked("nikah", MEMBER_LOCKED));
        assert!(locked("presence_date", MEMBER_LOCKED));
        assert!(correctable("housing.floor", false));
        assert!(!correctable("no_kk", false));
        assert!(correctable("education_level", true));
        assert!(!correctable("nik", true));
    }

    #[cfg(feature = "schema")]
    #[test]
    fn change_request_has_a_json_schema_with_every_event_type() {
        let schema = serde_json::to_value(schemars::schema_for!(ChangeRequest)).unwrap();
        let text = schema.to_string();
        for kind in [
            "member_died",
            "member_moved_out",
            "member_moved_in",
            "birth",
            "marriage",
            "family_split",
            "family_merge",
            "variable_correction",
            "member_not_found",
            "family_not_found",
            "ground_check_confirmed",
        ] {
            assert!(text.contains(&format!("\"{kind}\"")), "{kind}");
        }
    }

    #[test]
    fn event_kind_matches_the_json_tag() {
        let e = Event::FamilyNotFound {
            date: Date::from_ymd(2026, 1, 2).unwrap_or_else(|| unreachable!()),
        };
        assert_eq!(serde_json::to_value(&e).unwrap()["type"], e.kind());
    }
}
