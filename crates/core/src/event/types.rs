//! The change request and its parts.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::date::Date;
use crate::finding::Finding;
use crate::model::{Address, Anggota, Assets, Code, GeoPoint, GraduationKind, Housing, Keluarga};
use crate::validate::ValidationContext;

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
    /// Graduasi: the family leaves PKH on `date`. `kind` `mandiri` is the
    /// facilitator's record that the family is self-sufficient; `alamiah` confirms a
    /// natural graduation. `reason` is the facilitator's account (required, at most
    /// [`super::GRADUATION_REASON_MAX`] characters). Only a family that receives PKH
    /// and has no graduation recorded; the family's `pkh.graduated` becomes
    /// `{kind, date, reason}`.
    Graduation {
        kind: GraduationKind,
        date: Date,
        reason: String,
    },
    /// A family that is not in the register yet, registered by a facilitator's visit
    /// for a verified usul: `case_id` names the participation case. The request's
    /// `no_kk` is the new family's No. KK and its `base_version` is 0 ("no family");
    /// applying it (`event::apply_new_family`) gives version 1, whose
    /// `ground_checked` date is `date`, the visit. Members are numbered (401) in the
    /// order given and live with the family (404 = 1).
    NewFamily {
        case_id: u64,
        date: Date,
        address: Address,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        urban_rural: Option<Code>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gps: Option<GeoPoint>,
        #[serde(default)]
        housing: Housing,
        #[serde(default)]
        assets: Assets,
        anggota: Vec<Anggota>,
    },
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

/// What the caller looked up in the register for a [`Event::NewFamily`]: whether its
/// No. KK is already registered, and which of its members' NIKs are active members of a
/// registered family.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegisterFacts<'a> {
    pub kk_registered: bool,
    pub niks_registered: &'a [String],
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
