//! Validation of a family record: structural checks in Rust, then the rulebook's
//! variables (code lists, ranges, skip logic) and cross-field rules.
//!
//! Pure: the rulebook, the region table and "today" come in through
//! [`ValidationContext`]. Findings come out in a fixed order:
//! 1. the family's structural checks (No. KK, address, GPS, IDPEL);
//! 2. the family variables, in rulebook order;
//! 3. the family rules, in rulebook order;
//! 4. per member, in record order: structural checks (NIK, name, dates, duplicate NIK),
//!    member variables, member rules.

mod rules;
mod structural;
pub(crate) use structural::check_point;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::expr::Record;
use crate::finding::{Finding, Severity, Text};
use crate::model::Keluarga;
use crate::nik::IdContext;
use crate::region::RegionTable;
use crate::rulebook::Rulebook;
use rules::{Relevance, check_rule, check_variable};

/// What validation needs from outside.
#[derive(Clone, Copy, Debug)]
pub struct ValidationContext<'a> {
    pub rulebook: &'a Rulebook,
    pub regions: &'a RegionTable,
    /// The reference date (ages, "no future date").
    pub today: Date,
}

/// The outcome of validating one family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Report {
    /// No error-severity finding (warnings need confirmation but do not block).
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    /// The rulebook version used.
    pub rulebook_version: String,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn from_findings(rulebook_version: &str, findings: Vec<Finding>) -> Report {
        let errors = findings.iter().filter(|f| f.is_error()).count();
        Report {
            valid: errors == 0,
            errors,
            warnings: findings.len() - errors,
            rulebook_version: rulebook_version.to_owned(),
            findings,
        }
    }
}

/// Validates a family. See the module docs for the order of findings.
pub fn validate_keluarga(keluarga: &Keluarga, ctx: &ValidationContext) -> Report {
    let mut findings = Vec::new();
    validate_into(keluarga, ctx, &mut findings);
    Report::from_findings(ctx.rulebook.version(), findings)
}

/// Like [`validate_keluarga`], appending to `out`, for batch use without a report per family.
pub fn validate_into(k: &Keluarga, ctx: &ValidationContext, out: &mut Vec<Finding>) {
    let ids = IdContext {
        regions: ctx.regions,
        today: ctx.today,
    };
    let rb = ctx.rulebook;
    // The 6-digit district last found in the region table: most identifiers of a
    // family share the No. KK's district, so this saves most table lookups.
    let mut known = [0u8; 6];
    structural::check_family(k, &ids, &mut known, out);

    // The rulebook's part reads the family and each member once into slots, which
    // variables and expressions then index.
    let rec = Record::read(k, ctx.today, &rb.layout);
    let mut relevance = Relevance::new();
    let at = rec.family();
    relevance.fill(rb, &rb.family_relevances, at);
    for c in &rb.family_vars {
        check_variable(rb, c, &rec.family, &relevance, &MemberPrefix::FAMILY, out);
    }
    for &i in &rb.family_rules {
        check_rule(rb, i, at, &MemberPrefix::FAMILY, out);
    }

    for (index, m) in rec.members.iter().enumerate() {
        let prefix = &MemberPrefix::new(index);
        structural::check_member(k, index, &ids, &mut known, prefix, out);
        let at = rec.member(index);
        relevance.fill(rb, &rb.member_relevances, at);
        if m.active {
            for c in &rb.member_vars {
                check_variable(rb, c, &m.slots, &relevance, prefix, out);
            }
            for &i in &rb.member_rules {
                check_rule(rb, i, at, prefix, out);
            }
        } else {
            for c in rb.member_vars.iter().filter(|c| c.all_members) {
                check_variable(rb, c, &m.slots, &relevance, prefix, out);
            }
        }
    }
}

fn push(
    out: &mut Vec<Finding>,
    rule: &str,
    severity: Severity,
    path: String,
    template: Text,
    vals: BTreeMap<String, String>,
) {
    out.push(Finding {
        rule: rule.to_owned(),
        severity,
        path,
        message: template.render(&vals),
        values: vals,
    });
}

/// `anggota[index].`, the path prefix of a member's findings. It is made for every
/// member but turned into text only when a finding names a path: nothing is built per
/// member (a variable-length copy is a `memory.copy` under wasm32, which V8 runs as a
/// call into the engine).
#[derive(Clone, Copy)]
struct MemberPrefix {
    index: Option<usize>,
}

impl MemberPrefix {
    /// No prefix: paths of the family itself.
    const FAMILY: MemberPrefix = MemberPrefix { index: None };

    fn new(index: usize) -> MemberPrefix {
        MemberPrefix { index: Some(index) }
    }

    fn text(&self) -> String {
        match self.index {
            Some(i) => format!("anggota[{i}]."),
            None => String::new(),
        }
    }
}

/// The ids of every finding Rust itself can emit (the rulebook adds its rule ids).
pub const STRUCTURAL_RULES: &[&str] = &[
    "kk.length",
    "kk.digits",
    "kk.province",
    "kk.district",
    "kk.date",
    "kk.future_date",
    "kk.serial",
    "nik.length",
    "nik.digits",
    "nik.province",
    "nik.district",
    "nik.date",
    "nik.serial",
    "nik.birth_date_mismatch",
    "nik.sex_mismatch",
    "address.format",
    "address.hierarchy",
    "address.region",
    "address.rt_rw",
    "gps.range",
    "gps.outside_indonesia",
    "gps.accuracy",
    "housing.pln_customer_id",
    "household.duplicate_nik",
    "anggota.name",
    "anggota.age_range",
    "anggota.presence_date_before_birth",
    "anggota.moved_to",
    "date.future",
    "variable.required",
    "variable.code",
    "variable.range",
    "variable.not_applicable",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_prefix_matches_format() {
        assert_eq!(MemberPrefix::FAMILY.text(), "");
        assert_eq!(MemberPrefix::new(0).text(), "anggota[0].");
        assert_eq!(MemberPrefix::new(12).text(), "anggota[12].");
    }
}
