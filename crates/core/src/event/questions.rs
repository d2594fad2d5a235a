//! The member questions an event form asks of a new person (moving in, newborn, new
//! spouse): the rulebook's member variables that the person's answers make relevant,
//! except the identity and presence fields the event itself carries.

use crate::codes::presence;
use crate::date::Date;
use crate::model::{Anggota, Keluarga};
use crate::rulebook::{Rulebook, Variable};

/// The rulebook section of the member variables (Blok IV, keterangan anggota keluarga).
pub const MEMBER_SECTION: &str = "IV";

/// Member fields an event form asks or sets itself, never among the rulebook's
/// questions: number (401), name (402), NIK (403), presence (404 with its date and
/// destination), sex (405), birth date (406) and relationship to the head (409).
pub const FORM_OWN_FIELDS: [&str; 9] = [
    "number",
    "name",
    "nik",
    "presence",
    "presence_date",
    "moved_to",
    "sex",
    "birth_date",
    "relationship",
];

/// The member questions asked of `person` joining `fam` as a new member (404 = 5),
/// in rulebook order: the member variables (section [`MEMBER_SECTION`]) whose skip
/// logic holds for the person as answered so far, without [`FORM_OWN_FIELDS`] and
/// the fields in `skip` (those the event sets, e.g. `marital_status` for a marriage).
pub fn new_member_questions(
    rb: &Rulebook,
    fam: &Keluarga,
    person: &Anggota,
    skip: &[&str],
    today: Date,
) -> Vec<Variable> {
    let mut next = fam.clone();
    let mut p = person.clone();
    p.presence = presence::NEW_MEMBER;
    next.anggota.push(p);
    let index = next.anggota.len() - 1;
    rb.variables()
        .iter()
        .filter(|v| {
            v.section == MEMBER_SECTION
                && !FORM_OWN_FIELDS.contains(&v.field.as_str())
                && !skip.contains(&v.field.as_str())
        })
        .filter(|v| rb.is_relevant(&v.id, &next, Some(index), today) == Some(true))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nik::Sex;

    fn ids(rb: &Rulebook, fam: &Keluarga, person: &Anggota, skip: &[&str]) -> Vec<String> {
        let today = Date::from_ymd(2026, 11, 20).unwrap_or_else(|| unreachable!());
        new_member_questions(rb, fam, person, skip, today)
            .into_iter()
            .map(|v| v.id)
            .collect()
    }

    #[test]
    fn the_rulebook_decides_which_questions_a_new_person_gets() {
        let rb = Rulebook::builtin();
        let fam: Keluarga = serde_json::from_str(include_str!(
            "../../../../tests/vectors/households/sample.json"
        ))
        .expect("the sample household parses");
        let born = Date::from_ymd(2026, 10, 1).unwrap_or_else(|| unreachable!());
        let newborn = Anggota::new("1", "Putri", Sex::Female, born, 3);
        let baby = ids(rb, &fam, &newborn, &[]);
        for id in ["411", "427", "431a"] {
            assert!(baby.contains(&id.to_owned()), "{id} in {baby:?}");
        }
        // The form's own fields are never asked, nor questions the age skips (a
        // newborn is not asked about chronic illness; the health insurance stays).
        for id in [
            "401", "402", "403", "404", "405", "406", "409", "408", "412", "430",
        ] {
            assert!(!baby.contains(&id.to_owned()), "{id} in {baby:?}");
        }
        let mut adult = newborn.clone();
        adult.birth_date = Date::from_ymd(1995, 3, 1).unwrap_or_else(|| unreachable!());
        let woman = ids(rb, &fam, &adult, &[]);
        for id in ["408", "412", "416a", "430", "hamil"] {
            assert!(woman.contains(&id.to_owned()), "{id} in {woman:?}");
        }
        let partner = ids(rb, &fam, &adult, &["marital_status"]);
        assert!(!partner.contains(&"408".to_owned()));
        assert_eq!(partner.len() + 1, woman.len());
    }
}
