//! The checks of a filing, decided from facts the caller looked up in the register.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Kind, Refusal, Rules};
use crate::date::Date;
use crate::finding::has_errors;
use crate::model::GeoPoint;
use crate::nik::{IdContext, check_kk, check_nik};
use crate::region::{Level, RegionTable};

/// The most members an usul may list.
pub const MAX_MEMBERS: usize = 30;
/// The longest name accepted.
pub const MAX_NAME_CHARS: usize = 100;

/// Who files: as on the KTP, with a phone number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filer {
    pub nik: String,
    pub no_kk: String,
    pub name: String,
    pub phone: String,
}

/// A member of a proposed family, as far as the filer knows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposedMember {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nik: Option<String>,
}

/// A filing as submitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filing {
    pub kind: Kind,
    pub filer: Filer,
    /// Sanggah: the family objected to (required). Usul: the proposed family's No. KK
    /// when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_kk: Option<String>,
    /// Usul: the proposed family's village (dotted code, from the region table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub village: Option<String>,
    /// Usul: the address within the village (street, RT/RW).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Usul: the proposed family's members as far as known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<ProposedMember>,
    /// Reason codes from the kind's list.
    pub reasons: Vec<String>,
    /// The written reason.
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps: Option<GeoPoint>,
    /// A house photo came with the filing (checked by the caller: type and size).
    #[serde(default)]
    pub has_photo: bool,
}

/// The registered family the filer's NIK is an active member of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilerFamily {
    pub no_kk: String,
    pub village: String,
}

/// The registered family the filing's No. KK names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetFamily {
    pub village: String,
    /// Not deleted from the register.
    pub active: bool,
}

/// What the caller looked up for a filing.
#[derive(Clone, Copy, Debug)]
pub struct FilingFacts<'a> {
    pub regions: &'a RegionTable,
    /// The filer's "today" (the structure of the NIK and No. KK depends on it).
    pub today: Date,
    pub filer_family: Option<&'a FilerFamily>,
    /// The family of the filing's No. KK, when it is in the register.
    pub target: Option<&'a TargetFamily>,
}

/// What a filing is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Target {
    /// An usul of a family not in the register: a new family to register.
    NewFamily,
    /// An usul of a family already in the register: a ground check of it.
    GroundCheck { no_kk: String },
    /// A sanggah of a registered family.
    Objection { no_kk: String },
}

impl Target {
    pub fn no_kk(&self) -> Option<&str> {
        match self {
            Target::NewFamily => None,
            Target::GroundCheck { no_kk } | Target::Objection { no_kk } => Some(no_kk),
        }
    }

    /// `new_family`, `ground_check` or `objection`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Target::NewFamily => "new_family",
            Target::GroundCheck { .. } => "ground_check",
            Target::Objection { .. } => "objection",
        }
    }
}

/// An accepted filing: its target, the village whose officials handle it, and the key
/// that makes the same filer, target and kind one case ([`Rules::duplicate_secs`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilingOutcome {
    pub target: Target,
    pub village: String,
    /// SHA-256 (hex) of kind, filer NIK and target: no personal value in clear.
    pub duplicate_key: String,
}

fn digits(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit())
}

/// An Indonesian mobile number: `08…`, `628…` or `+628…`, 10–15 digits in all; spaces
/// and dashes are ignored.
pub fn valid_phone(phone: &str) -> bool {
    let compact: String = phone.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let rest = compact
        .strip_prefix("+62")
        .or_else(|| compact.strip_prefix("62"))
        .or_else(|| compact.strip_prefix('0'));
    match rest {
        Some(r) => r.starts_with('8') && digits(r) && (8..=13).contains(&r.len()),
        None => false,
    }
}

/// A name for comparison: lower case, single spaces.
fn normal_name(name: &str) -> String {
    name.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The public answer to a sanggah whose target is not a registered active family of the
/// filer's village: one refusal, whatever the reason, so that it tells nothing of a
/// family outside the filer's village.
fn sanggah_target() -> Refusal {
    Refusal::new(
        "sanggah.target",
        "no_kk",
        "Sanggah hanya dapat diajukan terhadap keluarga terdaftar yang aktif di desa/kelurahan tempat pelapor terdaftar.",
        "A sanggah can only name a registered, active family of the village where the filer is registered.",
    )
}

impl Rules {
    /// Checks a filing against the facts; every refusal at once, or what it is about.
    ///
    /// Refusals: `filer.nik`, `filer.no_kk`, `filer.name`, `filer.phone` (structure),
    /// `reasons` (none, or a code not in the kind's list), `text` (empty or too long),
    /// `gps` (impossible point), `gps.required` and `photo.required` (sanggah),
    /// `no_kk` (structure; required for a sanggah), `sanggah.filer` (the filer's NIK is
    /// not an active member of a registered family with the filer's No. KK),
    /// `sanggah.target` (the target is unknown, inactive or of another village: one
    /// answer), `village` (usul: not a village of the region table), `members` (usul:
    /// none, too many, a name missing or too long), `members[i].nik` (structure).
    pub fn check_filing(
        &self,
        filing: &Filing,
        facts: &FilingFacts<'_>,
    ) -> Result<FilingOutcome, Vec<Refusal>> {
        let mut out = Vec::new();
        let ctx = IdContext {
            regions: facts.regions,
            today: facts.today,
        };
        let mut findings = Vec::new();
        let f = &filing.filer;
        check_nik(&f.nik, &ctx, None, None, "filer.nik", &mut findings);
        if has_errors(&findings) {
            out.push(Refusal::new(
                "filer.nik",
                "filer.nik",
                "NIK pelapor tidak sah: harus 16 angka dengan kode wilayah, tanggal lahir dan nomor urut yang benar.",
                "The filer's NIK is not valid: it must be 16 digits with a real region code, birth date and serial.",
            ));
        }
        findings.clear();
        check_kk(&f.no_kk, &ctx, "filer.no_kk", &mut findings);
        if has_errors(&findings) {
            out.push(Refusal::new(
                "filer.no_kk",
                "filer.no_kk",
                "No. KK pelapor tidak sah: harus 16 angka dengan kode wilayah, tanggal terbit dan nomor urut yang benar.",
                "The filer's No. KK is not valid: it must be 16 digits with a real region code, issue date and serial.",
            ));
        }
        let name_len = f.name.trim().chars().count();
        if name_len == 0 || name_len > MAX_NAME_CHARS {
            out.push(Refusal::new(
                "filer.name",
                "filer.name",
                format!("Isi nama pelapor sesuai KTP (1–{MAX_NAME_CHARS} karakter)."),
                format!("Give the filer's name as on the KTP (1–{MAX_NAME_CHARS} characters)."),
            ));
        }
        if !valid_phone(&f.phone) {
            out.push(Refusal::new(
                "filer.phone",
                "filer.phone",
                "Nomor HP tidak sah: gunakan nomor seluler Indonesia, mis. 0812… atau +62812….",
                "The phone number is not valid: use an Indonesian mobile number, e.g. 0812… or +62812….",
            ));
        }
        let list = filing.kind.as_str();
        if filing.reasons.is_empty()
            || filing.reasons.len() > 10
            || filing
                .reasons
                .iter()
                .any(|r| self.reason(list, r).is_none())
        {
            out.push(Refusal::new(
                "reasons",
                "reasons",
                "Pilih setidaknya satu alasan dari daftar.",
                "Choose at least one reason from the list.",
            ));
        }
        let text_len = filing.text.trim().chars().count();
        let max = self.source.max_reason_chars;
        if text_len == 0 || text_len > max {
            out.push(Refusal::new(
                "text",
                "text",
                format!("Tuliskan keterangan alasan (1–{max} karakter)."),
                format!("Write the reason (1–{max} characters)."),
            ));
        }
        if let Some(g) = &filing.gps {
            findings.clear();
            crate::validate::check_point(g, &mut findings);
            if has_errors(&findings) {
                out.push(Refusal::new(
                    "gps",
                    "gps",
                    "Koordinat GPS tidak mungkin.",
                    "Impossible GPS point.",
                ));
            }
        }
        let no_kk_valid = filing.no_kk.as_deref().map(|kk| {
            findings.clear();
            check_kk(kk, &ctx, "no_kk", &mut findings);
            !has_errors(&findings)
        });
        if no_kk_valid == Some(false) {
            out.push(Refusal::new(
                "no_kk",
                "no_kk",
                "No. KK tidak sah: harus 16 angka dengan kode wilayah, tanggal terbit dan nomor urut yang benar.",
                "The No. KK is not valid: it must be 16 digits with a real region code, issue date and serial.",
            ));
        }
        let outcome = match filing.kind {
            Kind::Sanggah => self.check_sanggah(filing, facts, no_kk_valid, &mut out),
            Kind::Usul => self.check_usul(filing, facts, &ctx, &mut out),
        };
        match outcome {
            Some((target, village)) if out.is_empty() => Ok(FilingOutcome {
                duplicate_key: duplicate_key(filing, &target),
                target,
                village,
            }),
            _ => Err(out),
        }
    }

    fn check_sanggah(
        &self,
        filing: &Filing,
        facts: &FilingFacts<'_>,
        no_kk_valid: Option<bool>,
        out: &mut Vec<Refusal>,
    ) -> Option<(Target, String)> {
        if filing.gps.is_none() {
            out.push(Refusal::new(
                "gps.required",
                "gps",
                "Sanggah wajib menyertakan koordinat GPS rumah keluarga yang disanggah.",
                "A sanggah needs the GPS point of the family's house.",
            ));
        }
        if !filing.has_photo {
            out.push(Refusal::new(
                "photo.required",
                "photo",
                "Sanggah wajib menyertakan foto rumah keluarga yang disanggah.",
                "A sanggah needs a photo of the family's house.",
            ));
        }
        let Some(no_kk) = filing.no_kk.as_deref() else {
            out.push(Refusal::new(
                "no_kk",
                "no_kk",
                "Isi No. KK keluarga yang disanggah.",
                "Give the No. KK of the family objected to.",
            ));
            return None;
        };
        if no_kk_valid != Some(true) {
            return None;
        }
        let Some(home) = facts.filer_family.filter(|h| h.no_kk == filing.filer.no_kk) else {
            out.push(Refusal::new(
                "sanggah.filer",
                "filer.nik",
                "Pelapor sanggah harus anggota aktif keluarga terdaftar dengan No. KK yang diisi.",
                "The filer of a sanggah must be an active member of the registered family with the No. KK given.",
            ));
            return None;
        };
        match facts.target {
            Some(t) if t.active && t.village == home.village && no_kk != filing.filer.no_kk => {
                Some((
                    Target::Objection {
                        no_kk: no_kk.to_owned(),
                    },
                    t.village.clone(),
                ))
            }
            _ => {
                out.push(sanggah_target());
                None
            }
        }
    }

    fn check_usul(
        &self,
        filing: &Filing,
        facts: &FilingFacts<'_>,
        ctx: &IdContext<'_>,
        out: &mut Vec<Refusal>,
    ) -> Option<(Target, String)> {
        let village = filing
            .village
            .as_deref()
            .filter(|v| Level::of(v) == Some(Level::Village) && facts.regions.contains(v));
        if village.is_none() {
            out.push(Refusal::new(
                "village",
                "village",
                "Pilih desa/kelurahan keluarga yang diusulkan dari daftar wilayah.",
                "Choose the proposed family's village from the region list.",
            ));
        }
        if filing.members.is_empty() || filing.members.len() > MAX_MEMBERS {
            out.push(Refusal::new(
                "members",
                "members",
                format!("Sebutkan anggota keluarga yang diusulkan (1–{MAX_MEMBERS} orang)."),
                format!("List the proposed family's members (1–{MAX_MEMBERS} people)."),
            ));
        }
        for (i, m) in filing.members.iter().enumerate().take(MAX_MEMBERS) {
            let len = m.name.trim().chars().count();
            if len == 0 || len > MAX_NAME_CHARS {
                out.push(Refusal::new(
                    "members",
                    &format!("members[{i}].name"),
                    format!("Isi nama anggota (1–{MAX_NAME_CHARS} karakter)."),
                    format!("Give the member's name (1–{MAX_NAME_CHARS} characters)."),
                ));
            }
            if let Some(nik) = &m.nik {
                let mut findings = Vec::new();
                check_nik(nik, ctx, None, None, "nik", &mut findings);
                if has_errors(&findings) {
                    out.push(Refusal::new(
                        "members.nik",
                        &format!("members[{i}].nik"),
                        "NIK anggota tidak sah (boleh dikosongkan bila tidak diketahui).",
                        "The member's NIK is not valid (leave it empty when unknown).",
                    ));
                }
            }
        }
        let village = village?;
        match (filing.no_kk.as_deref(), facts.target) {
            (Some(kk), Some(t)) if t.active => Some((
                Target::GroundCheck {
                    no_kk: kk.to_owned(),
                },
                t.village.clone(),
            )),
            _ => Some((Target::NewFamily, village.to_owned())),
        }
    }
}

/// The duplicate key of a filing: kind, filer NIK and target (the No. KK, or for a new
/// family its village and first member's name), hashed.
fn duplicate_key(filing: &Filing, target: &Target) -> String {
    let what = match target.no_kk() {
        Some(kk) => format!("kk:{kk}"),
        None => format!(
            "new:{}:{}",
            filing.village.as_deref().unwrap_or(""),
            filing
                .members
                .first()
                .map(|m| normal_name(&m.name))
                .unwrap_or_default()
        ),
    };
    let text = format!("{}|{}|{what}", filing.kind.as_str(), filing.filer.nik);
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
