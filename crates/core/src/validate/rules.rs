//! The rulebook's checks: each variable's answer against its code list or range and
//! its skip logic, and the cross-field rules, all through the one expression engine.

use super::{MemberPrefix, push};
use crate::expr::At;
use crate::fields::Value;
use crate::finding::{Finding, Severity, Text, values};
use crate::rulebook::{RELEVANCE_CACHE, Rulebook, VarCheck, VarType, Variable};

fn fmt_value(v: Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.to_string(),
        Value::Text => "(terisi)".into(),
    }
}

fn var_text(v: &Variable, id: &str, en: &str) -> Text {
    let q = v.question.as_deref().unwrap_or(&v.id);
    Text::new(
        id.replace("{q}", q).replace("{label}", &v.label.id),
        en.replace("{q}", q).replace("{label}", &v.label.en),
    )
}

const ASKED: u8 = 1;
const SKIPPED: u8 = 2;

/// The relevance conditions of one family or member, evaluated together before its
/// variables are checked.
pub(super) struct Relevance {
    /// By condition: 1 true, 2 false, 3 unknown (null); 0 for another scope's. The
    /// last entry, [`VarCheck::ALWAYS`], is 1.
    state: [u8; 256],
}

impl Relevance {
    pub(super) fn new() -> Relevance {
        let mut state = [0; 256];
        state[usize::from(VarCheck::ALWAYS)] = ASKED;
        Relevance { state }
    }

    /// Evaluates the conditions `list` (the indices of one scope's) at `at`.
    pub(super) fn fill(&mut self, rb: &Rulebook, list: &[usize], at: At) {
        for &i in list {
            let s = match rb.relevances[i].eval(at) {
                Value::Bool(true) => ASKED,
                Value::Bool(false) => SKIPPED,
                _ => 3,
            };
            if let Some(cell) = self.state.get_mut(i).filter(|_| i < RELEVANCE_CACHE) {
                *cell = s;
            }
        }
    }

    /// The state of variable `cv`'s condition (1 asked, 2 skipped, 3 undecided).
    #[inline(always)]
    fn state(&self, cv: &VarCheck) -> u8 {
        self.state[usize::from(cv.relevant)]
    }
}

/// The outcome of a variable's check when it needs a finding.
#[derive(Clone, Copy)]
enum VarProblem {
    Required,
    NotApplicable(Value),
    Code(i64),
    Range(i64),
}

/// Checks one variable. The common case (answered, applicable, valid) stays on this
/// small hot path; building a finding is the cold [`report_variable`].
#[inline(always)]
pub(super) fn check_variable(
    rb: &Rulebook,
    cv: &VarCheck,
    slots: &[Value],
    cache: &Relevance,
    prefix: &MemberPrefix,
    out: &mut Vec<Finding>,
) {
    let value = slots[usize::from(cv.slot)];
    // Unanswered and optional: nothing to say, whatever the condition.
    if value.is_null() && !cv.required {
        return;
    }
    let state = cache.state(cv);
    let problem = match value {
        // An answer to a question not asked.
        Value::Int(_) | Value::Bool(_) | Value::Date(_) | Value::Text if state == SKIPPED => {
            VarProblem::NotApplicable(value)
        }
        Value::Int(n) if !cv.valid(rb, n) => match cv.var_type {
            VarType::Integer => VarProblem::Range(n),
            _ => VarProblem::Code(n),
        },
        // Required, surely asked and unanswered.
        Value::Null if state == ASKED => VarProblem::Required,
        _ => return,
    };
    report_variable(rb, cv.var as usize, &prefix.text(), problem, out);
}

#[cold]
#[inline(never)]
fn report_variable(
    rb: &Rulebook,
    i: usize,
    prefix: &str,
    problem: VarProblem,
    out: &mut Vec<Finding>,
) {
    let v = &rb.variables()[i];
    let path = format!("{prefix}{}", v.field);
    match problem {
        VarProblem::Required => push(
            out,
            "variable.required",
            Severity::Error,
            path,
            var_text(
                v,
                "Pertanyaan {q} ({label}) belum diisi.",
                "Question {q} ({label}) is not answered.",
            ),
            values([("variable", v.id.clone())]),
        ),
        VarProblem::NotApplicable(x) => {
            let cond = v.relevant_text.clone().unwrap_or_else(|| {
                let src = v.relevant.clone().unwrap_or_default();
                Text::new(src.clone(), src)
            });
            let t = var_text(
                v,
                "Pertanyaan {q} ({label}) hanya diisi jika ",
                "Question {q} ({label}) applies only if ",
            );
            push(
                out,
                "variable.not_applicable",
                Severity::Error,
                path,
                Text::new(
                    format!("{}{}; kosongkan jawabannya.", t.id, cond.id),
                    format!("{}{}; clear the answer.", t.en, cond.en),
                ),
                values([("variable", v.id.clone()), ("value", fmt_value(x))]),
            );
        }
        VarProblem::Code(n) => push_code(out, v, path, n),
        VarProblem::Range(n) => {
            let lo = v.min.map_or_else(|| "–".into(), |x| x.to_string());
            let hi = v.max.map_or_else(|| "–".into(), |x| x.to_string());
            push(
                out,
                "variable.range",
                Severity::Error,
                path,
                var_text(
                    v,
                    "Jawaban {value} untuk pertanyaan {q} ({label}) harus antara {min} dan {max}.",
                    "The answer {value} to question {q} ({label}) must be between {min} and {max}.",
                ),
                values([
                    ("variable", v.id.clone()),
                    ("value", n.to_string()),
                    ("min", lo),
                    ("max", hi),
                ]),
            );
        }
    }
}

fn push_code(out: &mut Vec<Finding>, v: &Variable, path: String, n: i64) {
    push(
        out,
        "variable.code",
        Severity::Error,
        path,
        var_text(
            v,
            "Jawaban {value} bukan kode yang sah untuk pertanyaan {q} ({label}).",
            "{value} is not a valid code for question {q} ({label}).",
        ),
        values([("variable", v.id.clone()), ("value", n.to_string())]),
    );
}

/// Checks rule `i` at `at`: a finding when its condition holds and its assertion is
/// false.
#[inline(always)]
pub(super) fn check_rule(
    rb: &Rulebook,
    i: usize,
    at: At,
    prefix: &MemberPrefix,
    out: &mut Vec<Finding>,
) {
    let cr = &rb.rules[i];
    if cr.when.as_ref().is_none_or(|w| w.holds(at)) && cr.assertion.eval(at) == Value::Bool(false) {
        report_rule(rb, i, at, &prefix.text(), out);
    }
}

#[cold]
#[inline(never)]
fn report_rule(rb: &Rulebook, i: usize, at: At, prefix: &str, out: &mut Vec<Finding>) {
    let cr = &rb.rules[i];
    let r = &rb.rules()[i];
    let vals = crate::finding::values_from(
        &mut cr
            .values
            .iter()
            .map(|(name, e)| (name.clone(), fmt_value(e.eval(at)))),
    );
    let path = if prefix.is_empty() {
        r.path.clone()
    } else if r.path.is_empty() {
        prefix.trim_end_matches('.').to_owned()
    } else {
        format!("{prefix}{}", r.path)
    };
    push(out, &r.id, r.severity, path, r.message.clone(), vals);
}
