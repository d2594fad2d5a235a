//! The event kinds, listed once: wire name, label for people, and the review rule.

use super::Event;
use crate::finding::Text;

/// The kind of an [`Event`]: the one list of event kinds that the app, the server and
/// the batch tools use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    MemberDied,
    MemberMovedOut,
    MemberMovedIn,
    Birth,
    Marriage,
    FamilySplit,
    FamilyMerge,
    MemberNotFound,
    FamilyNotFound,
    Graduation,
    VariableCorrection,
    GroundCheckConfirmed,
    NewFamily,
}

impl EventKind {
    /// Every kind: the life events in the order a facilitator is offered them, then the
    /// two ground-check (uji petik) kinds, then the registration of a new family.
    pub const ALL: [EventKind; 13] = [
        EventKind::MemberDied,
        EventKind::MemberMovedOut,
        EventKind::MemberMovedIn,
        EventKind::Birth,
        EventKind::Marriage,
        EventKind::FamilySplit,
        EventKind::FamilyMerge,
        EventKind::MemberNotFound,
        EventKind::FamilyNotFound,
        EventKind::Graduation,
        EventKind::VariableCorrection,
        EventKind::GroundCheckConfirmed,
        EventKind::NewFamily,
    ];

    /// The wire name, as in the JSON `type` tag of an [`Event`].
    pub fn name(self) -> &'static str {
        match self {
            EventKind::MemberDied => "member_died",
            EventKind::MemberMovedOut => "member_moved_out",
            EventKind::MemberMovedIn => "member_moved_in",
            EventKind::Birth => "birth",
            EventKind::Marriage => "marriage",
            EventKind::FamilySplit => "family_split",
            EventKind::FamilyMerge => "family_merge",
            EventKind::MemberNotFound => "member_not_found",
            EventKind::FamilyNotFound => "family_not_found",
            EventKind::Graduation => "graduation",
            EventKind::VariableCorrection => "variable_correction",
            EventKind::GroundCheckConfirmed => "ground_check_confirmed",
            EventKind::NewFamily => "new_family",
        }
    }

    /// The kind with this wire name.
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind's name for people.
    pub fn label(self) -> Text {
        match self {
            EventKind::MemberDied => Text::new("Kematian", "Death"),
            EventKind::MemberMovedOut => Text::new("Pindah keluar", "Moved out"),
            EventKind::MemberMovedIn => Text::new("Pindah masuk", "Moved in"),
            EventKind::Birth => Text::new("Kelahiran", "Birth"),
            EventKind::Marriage => Text::new("Perkawinan", "Marriage"),
            EventKind::FamilySplit => Text::new("Pecah KK", "Household split"),
            EventKind::FamilyMerge => Text::new("Gabung KK", "Household merge"),
            EventKind::MemberNotFound => Text::new("Anggota tidak ditemukan", "Member not found"),
            EventKind::FamilyNotFound => Text::new("Keluarga tidak ditemukan", "Family not found"),
            EventKind::Graduation => Text::new("Graduasi PKH", "PKH graduation"),
            EventKind::VariableCorrection => {
                Text::new("Uji petik: koreksi", "Ground check: corrections")
            }
            EventKind::GroundCheckConfirmed => {
                Text::new("Uji petik: data sesuai", "Ground check: all correct")
            }
            EventKind::NewFamily => Text::new("Keluarga baru (usul)", "New family (usul)"),
        }
    }

    /// The registration of a family not in the register: made from a verified usul,
    /// never on an existing family, so not offered among a family's life events.
    pub fn is_registration(self) -> bool {
        self == EventKind::NewFamily
    }

    /// A ground-check (uji petik) kind, recorded from the ground-check form rather
    /// than offered among the life events.
    pub fn is_ground_check(self) -> bool {
        matches!(
            self,
            EventKind::VariableCorrection | EventKind::GroundCheckConfirmed
        )
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Event {
    /// The event's kind; its [`EventKind::name`] is the JSON `type` tag.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::MemberDied { .. } => EventKind::MemberDied,
            Event::MemberMovedOut { .. } => EventKind::MemberMovedOut,
            Event::MemberMovedIn { .. } => EventKind::MemberMovedIn,
            Event::Birth { .. } => EventKind::Birth,
            Event::Marriage { .. } => EventKind::Marriage,
            Event::FamilySplit { .. } => EventKind::FamilySplit,
            Event::FamilyMerge { .. } => EventKind::FamilyMerge,
            Event::VariableCorrection { .. } => EventKind::VariableCorrection,
            Event::MemberNotFound { .. } => EventKind::MemberNotFound,
            Event::FamilyNotFound { .. } => EventKind::FamilyNotFound,
            Event::Graduation { .. } => EventKind::Graduation,
            Event::GroundCheckConfirmed { .. } => EventKind::GroundCheckConfirmed,
            Event::NewFamily { .. } => EventKind::NewFamily,
        }
    }

    /// True when a supervisor reviews the event before it changes the register: every
    /// change of who belongs to a family (death, moves, birth, split, merge, a marriage
    /// that brings in a new partner), a graduation (graduasi) and a new family. A marriage between members, a member or family
    /// not found and the ground-check kinds apply without review unless they carry
    /// warnings.
    pub fn needs_review(&self) -> bool {
        match self {
            Event::Marriage { partner, .. } => partner.is_some(),
            _ => matches!(
                self.kind(),
                EventKind::MemberDied
                    | EventKind::MemberMovedOut
                    | EventKind::MemberMovedIn
                    | EventKind::Birth
                    | EventKind::FamilySplit
                    | EventKind::FamilyMerge
                    | EventKind::Graduation
                    | EventKind::NewFamily
            ),
        }
    }

    /// This event with `nik` named as the family's new head, when the event makes a
    /// member leave (death, moving out, not found) and names no new head yet: a
    /// reviewer completes a proposal that could not know who heads the family next
    /// (a Dukcapil death of the head). `None` for any other event, and for one that
    /// already names a new head. Whether `nik` may head the family is decided when the
    /// event is applied.
    pub fn naming_new_head(&self, nik: &str) -> Option<Event> {
        let mut next = self.clone();
        match &mut next {
            Event::MemberDied { new_head, .. }
            | Event::MemberMovedOut { new_head, .. }
            | Event::MemberNotFound { new_head, .. }
                if new_head.is_none() =>
            {
                *new_head = Some(nik.to_owned());
                Some(next)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_distinct_name_that_reads_back() {
        for (i, k) in EventKind::ALL.iter().enumerate() {
            assert_eq!(EventKind::from_name(k.name()), Some(*k));
            assert!(EventKind::ALL[..i].iter().all(|o| o.name() != k.name()));
            assert_ne!(k.label().id, k.label().en, "{k}");
        }
        assert_eq!(EventKind::from_name("death"), None);
    }

    #[test]
    fn event_kind_matches_the_json_tag() {
        let e = Event::FamilyNotFound {
            date: crate::Date::from_ymd(2026, 1, 2).unwrap_or_else(|| unreachable!()),
        };
        assert_eq!(serde_json::to_value(&e).unwrap()["type"], e.kind().name());
        assert!(!e.needs_review());
        let g = Event::Graduation {
            kind: crate::model::GraduationKind::Mandiri,
            date: crate::Date::from_ymd(2026, 1, 2).unwrap_or_else(|| unreachable!()),
            reason: "usaha stabil".into(),
        };
        assert_eq!(serde_json::to_value(&g).unwrap()["type"], "graduation");
        assert!(g.needs_review(), "a graduation is reviewed");
    }

    #[test]
    fn only_a_leaving_member_without_a_new_head_can_be_given_one() {
        let date = crate::Date::from_ymd(2026, 3, 4).unwrap_or_else(|| unreachable!());
        let died = Event::MemberDied {
            nik: "3201010101800001".into(),
            date,
            new_head: None,
        };
        let named = died.naming_new_head("3201014101820002");
        assert_eq!(
            named,
            Some(Event::MemberDied {
                nik: "3201010101800001".into(),
                date,
                new_head: Some("3201014101820002".into()),
            })
        );
        // Named once: a reviewer does not overwrite what the submitter chose.
        assert_eq!(
            named.and_then(|e| e.naming_new_head("3201010101050003")),
            None
        );
        let not_found = Event::MemberNotFound {
            nik: "3201010101800001".into(),
            date,
            new_head: None,
        };
        assert!(not_found.naming_new_head("3201014101820002").is_some());
        assert_eq!(
            Event::FamilyNotFound { date }.naming_new_head("3201014101820002"),
            None
        );
    }

    #[cfg(feature = "schema")]
    #[test]
    fn change_request_has_a_json_schema_with_every_event_type() {
        let schema = serde_json::to_value(schemars::schema_for!(super::super::ChangeRequest))
            .unwrap()
            .to_string();
        for kind in EventKind::ALL {
            assert!(schema.contains(&format!("\"{}\"", kind.name())), "{kind}");
        }
    }
}
