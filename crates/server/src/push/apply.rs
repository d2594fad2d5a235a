//! Applying an item with tepat-core under the device's rulebook and the current one.

use tepat_core::event::{
    Applied, ChangeRequest, EventContext, RegisterFacts, apply, apply_new_family,
};
use tepat_core::rulebook::Rulebook;
use tepat_core::{Finding, Keluarga, Severity, ValidationContext};

use super::{RulebookCheck, RulebookChecks, finding};
use crate::state::AppState;

fn ctx<'a>(
    state: &'a AppState,
    rb: &'a Rulebook,
    today: tepat_core::Date,
    target: Option<&'a Keluarga>,
) -> EventContext<'a> {
    EventContext {
        validation: ValidationContext {
            rulebook: rb,
            regions: &state.regions,
            today,
        },
        target,
    }
}

/// The rulebook a push says the device validated with; `rulebook` is None when the
/// server does not know that version.
pub struct Device<'a> {
    pub version: &'a str,
    pub rulebook: Option<&'a Rulebook>,
    /// The `seq` of the rulebook registry both were taken from.
    pub registry: i64,
}

/// Applies under one rulebook.
pub fn apply_under(
    state: &AppState,
    fam: &Keluarga,
    item: &ChangeRequest,
    rulebook: &Rulebook,
    today: tepat_core::Date,
    target: Option<&Keluarga>,
) -> Result<Applied, Vec<Finding>> {
    apply(fam, item, &ctx(state, rulebook, today, target))
}

/// Applies a new family to no family under one rulebook, with the register's facts.
pub fn apply_new_under(
    state: &AppState,
    item: &ChangeRequest,
    rulebook: &Rulebook,
    today: tepat_core::Date,
    register: &RegisterFacts,
) -> Result<Applied, Vec<Finding>> {
    apply_new_family(item, &ctx(state, rulebook, today, None), register)
}

pub(super) type Outcome = Result<Applied, Vec<Finding>>;

fn check_of(version: &str, r: &Outcome) -> RulebookCheck {
    RulebookCheck {
        version: version.to_owned(),
        outcome: if r.is_ok() { "valid" } else { "invalid" }.into(),
        errors: r
            .as_ref()
            .err()
            .map(|f| f.iter().filter(|f| f.is_error()).cloned().collect())
            .unwrap_or_default(),
    }
}

/// Applies under the device's rulebook and the current one and reports both; the item
/// passes only when it is valid under both. An unknown device version fails it.
pub fn apply_both(
    state: &AppState,
    fam: &Keluarga,
    item: &ChangeRequest,
    device: &Device<'_>,
    current: &Rulebook,
    today: tepat_core::Date,
    target: Option<&Keluarga>,
) -> (Outcome, RulebookChecks) {
    both(device, current, |rb| {
        apply_under(state, fam, item, rb, today, target)
    })
}

/// [`apply_both`] for a new family: applied to no family, with the register's facts.
pub fn apply_new_both(
    state: &AppState,
    item: &ChangeRequest,
    device: &Device<'_>,
    current: &Rulebook,
    today: tepat_core::Date,
    register: &RegisterFacts,
) -> (Outcome, RulebookChecks) {
    both(device, current, |rb| {
        apply_new_under(state, item, rb, today, register)
    })
}

/// Runs `apply_with` under the current rulebook and the device's, and merges the two.
fn both(
    device: &Device<'_>,
    current: &Rulebook,
    apply_with: impl Fn(&Rulebook) -> Outcome,
) -> (Outcome, RulebookChecks) {
    let now_result = apply_with(current);
    let current_check = check_of(current.version(), &now_result);
    match device.rulebook {
        None => {
            let mut errors = vec![finding(
                "sync.rulebook_unknown",
                Severity::Error,
                "rulebook_version",
                "Versi buku aturan di perangkat tidak dikenal server; perbarui aplikasi lalu periksa lagi perubahan ini (buku aturan sekarang: {current}).",
                "The server does not know the device's rulebook version; update the app and check this change again (current rulebook: {current}).",
                &[("current", current.version().to_owned())],
            )];
            errors.extend(current_check.errors.iter().cloned());
            let checks = RulebookChecks {
                device: RulebookCheck {
                    version: device.version.to_owned(),
                    outcome: "unknown".into(),
                    errors: Vec::new(),
                },
                current: current_check,
            };
            (Err(errors), checks)
        }
        Some(d) if d.version() == current.version() => {
            let checks = RulebookChecks {
                device: current_check.clone(),
                current: current_check,
            };
            (now_result, checks)
        }
        Some(d) => {
            let dev_result = apply_with(d);
            let checks = RulebookChecks {
                device: check_of(d.version(), &dev_result),
                current: current_check,
            };
            let merged = match (now_result, dev_result) {
                (Ok(a), Ok(_)) => Ok(a),
                (Err(mut e), Err(d)) => {
                    for f in d {
                        if !e.contains(&f) {
                            e.push(f);
                        }
                    }
                    Err(e)
                }
                (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
            };
            (merged, checks)
        }
    }
}
