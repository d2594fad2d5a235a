//! The ground check (uji petik): which event a visit to a family sends.

use crate::date::Date;
use crate::event::{Correction, Event};

/// The reason sent with a visit that confirms the record when the facilitator wrote
/// no note of their own.
pub const CONFIRM_REASON: &str = "Uji petik: semua data sesuai";

/// The event and reason of a ground check on `date`: the answers it corrected with the
/// facilitator's reason `note`, or, when no answer changed, a confirmation of the record
/// as it is (data sesuai) with `note`, or [`CONFIRM_REASON`] when `note` is blank.
pub fn ground_check_event(corrections: Vec<Correction>, note: &str, date: Date) -> (Event, String) {
    if corrections.is_empty() {
        let reason = if note.trim().is_empty() {
            CONFIRM_REASON
        } else {
            note
        };
        (Event::GroundCheckConfirmed { date }, reason.to_owned())
    } else {
        let event = Event::VariableCorrection {
            corrections,
            visited: Some(date),
        };
        (event, note.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> Date {
        Date::from_ymd(2026, 11, 23).expect("a date")
    }

    #[test]
    fn no_changed_answer_confirms_the_record_with_a_default_note() {
        let (event, reason) = ground_check_event(Vec::new(), "  ", date());
        assert_eq!(event, Event::GroundCheckConfirmed { date: date() });
        assert_eq!(reason, CONFIRM_REASON);
        let (_, reason) = ground_check_event(Vec::new(), "Rumah sudah diperbaiki", date());
        assert_eq!(reason, "Rumah sudah diperbaiki");
    }

    #[test]
    fn changed_answers_are_a_correction_dated_by_the_visit_with_the_reason_as_written() {
        let c = Correction {
            nik: None,
            field: "housing.floor".into(),
            value: 3.into(),
        };
        let (event, reason) = ground_check_event(vec![c.clone()], "", date());
        assert_eq!(
            event,
            Event::VariableCorrection {
                corrections: vec![c],
                visited: Some(date()),
            }
        );
        // No default: a correction needs the facilitator's reason (the core's
        // `event.reason` refuses an empty one).
        assert_eq!(reason, "");
    }
}
