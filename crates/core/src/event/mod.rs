//! Life events (pemutakhiran) as typed change requests, and applying them to a family.
//!
//! A [`ChangeRequest`] is what a facilitator submits: one [`Event`] about one family
//! (No. KK), made against a known version of it, with a client-made id (UUID), author,
//! time, reason and optional evidence. The event kinds mirror question 404's presence
//! codes (DTSEN.md §4): died (2), moved within Indonesia (3) or abroad (4), new member
//! (5: moved in, birth), not found (6); plus marriage, family split (pecah KK), family
//! merge, family not found, graduation from PKH (graduasi) and variable corrections
//! from the ground check (uji petik); and the registration of a family not in the
//! register yet, from a verified usul (`new_family`).
//! [`EventKind`] lists the kinds once, with their wire names, labels and review rule.
//!
//! [`apply`] is pure: a valid event gives the family's next version (`version + 1`) and,
//! for a split, the new family (version 1, `origin_kk` = the old No. KK), for a merge the
//! target family's next version. [`apply_new_family`] applies a new family to no family
//! (base version 0) and gives its version 1, refused when its No. KK or a member's NIK is
//! already in the register ([`RegisterFacts`], looked up by the caller). The result is checked with [`crate::validate`]; an
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
//!
//! The module's files: `types` (the request and its parts), `kind` (the list of event
//! kinds), `hash` (canonical form, seal and check), `apply` (one function per kind),
//! `correct` (ground-check corrections, one path through the family's JSON form),
//! `new_family` (a family registered from no family),
//! `questions` (the member questions an event form asks of a new person) and
//! `findings` (the event rules' messages).

mod apply;
mod correct;
mod findings;
mod hash;
mod kind;
mod new_family;
mod questions;
mod types;

pub use apply::{GRADUATION_REASON_MAX, apply, is_rfc3339};
pub use correct::{apply_corrections, correctable};
pub use hash::{HashError, canonical_json, content_hash, seal, verify_hash};
pub use kind::EventKind;
pub use new_family::apply_new_family;
pub use questions::{FORM_OWN_FIELDS, MEMBER_SECTION, new_member_questions};
pub use types::{
    Applied, ChangeRequest, ConfirmedWarning, Correction, Destination, Event, EventContext,
    Evidence, EvidenceKind, MemberRole, RegisterFacts,
};
