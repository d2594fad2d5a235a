//! The rulebook: the questionnaire and its rules as versioned data.
//!
//! The default is `crates/core/rulebook/regsosek2022.json`, embedded with
//! `include_str!`; another rulebook loads from text with [`Rulebook::from_json`]. Loading
//! checks everything once (fields exist, code lists exist, expressions parse and
//! type-check) and compiles every expression, so validation only evaluates.
//!
//! A load error names the variable or rule and, for an expression, the 1-based
//! character position in it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::expr::{Expr, ExprError, Layout, Record};
use crate::fields::{FieldDef, Scope, Type, Value, field};
use crate::finding::{Severity, Text};
use crate::model::Keluarga;

/// The embedded default rulebook text.
pub const DEFAULT_RULEBOOK_JSON: &str = include_str!("../rulebook/regsosek2022.json");

/// One code of a code list, with its labels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeLabel {
    pub code: i64,
    pub id: String,
    pub en: String,
}

/// A questionnaire block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub id: String,
    pub label: Text,
}

/// The answer type of a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VarType {
    /// One code of `codes`.
    Code,
    /// Additive bit codes (431a): a sum of distinct bit values of `codes`, or one of
    /// its non-bit codes (0, 99) alone.
    Flags,
    /// A whole number within `min..=max`.
    Integer,
    /// Free text (only presence is checked here).
    Text,
    /// A date.
    Date,
}

/// Whether `code` of a `flags` code list is a bit value (1, 2, 4, … below 64) that adds
/// up with the others; every other code (0, 99) stands alone ([`VarType::Flags`]).
pub fn is_flag_bit(code: i64) -> bool {
    code > 0 && code < 64 && code.count_ones() == 1
}

/// Whether a `flags` answer holds `code`: a bit value is in a sum of bits, a
/// stand-alone code is the whole answer.
pub fn flag_holds(value: Option<i64>, code: i64) -> bool {
    match value {
        None => false,
        Some(v) if is_flag_bit(code) => is_flag_sum(v) && v & code != 0,
        Some(v) => v == code,
    }
}

/// The `flags` answer after adding (`on`) or removing `code`: bit values add up, a
/// stand-alone code replaces everything. `None` when nothing is left.
pub fn flag_toggle(value: Option<i64>, code: i64, on: bool) -> Option<i64> {
    if !is_flag_bit(code) {
        return on.then_some(code);
    }
    let bits = value.filter(|v| is_flag_sum(*v)).unwrap_or(0);
    let next = if on { bits | code } else { bits & !code };
    (next != 0).then_some(next)
}

/// A `flags` answer that is a sum of bit values (1..64), not one stand-alone code.
fn is_flag_sum(v: i64) -> bool {
    v > 0 && v < 64
}

/// One questionnaire variable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// Stable id, the Regsosek question number where one exists (`301a`, `404`).
    pub id: String,
    /// The question number as printed, or `null` for Tepat's additions.
    #[serde(default)]
    pub question: Option<String>,
    /// The model field, as named in the expression language (`housing.ownership`).
    pub field: String,
    /// The section id (`I`, `III`, `IV`, `V`).
    pub section: String,
    pub label: Text,
    #[serde(rename = "type")]
    pub var_type: VarType,
    /// The code list name for `code`/`flags`.
    #[serde(default)]
    pub codes: Option<String>,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    /// Key variable: ground-checked (uji petik) and used for ranking.
    #[serde(default)]
    pub key: bool,
    /// Must be answered when relevant.
    #[serde(default)]
    pub required: bool,
    /// Skip logic: asked only when this holds (always when absent).
    #[serde(default)]
    pub relevant: Option<String>,
    /// The skip condition in words, for messages and forms.
    #[serde(default)]
    pub relevant_text: Option<Text>,
    /// Member variables: also check members no longer active (404 ≠ 1, 5).
    #[serde(default)]
    pub all_members: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// A cross-field rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id, e.g. `household.one_head`.
    pub id: String,
    /// `keluarga`: once per family; `anggota`: once per active member.
    pub scope: RuleScope,
    pub severity: Severity,
    /// The rule applies only when this holds (always when absent).
    #[serde(default)]
    pub when: Option<String>,
    /// What must be true; the rule fails when it evaluates to false (null passes).
    #[serde(rename = "assert")]
    pub assertion: String,
    /// Where the finding points: a field path, relative to the member for `anggota` rules.
    pub path: String,
    /// The message with `{placeholders}` filled from `values`.
    pub message: Text,
    /// Placeholder name → expression, evaluated when the rule fails.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleScope {
    Keluarga,
    Anggota,
}

impl RuleScope {
    fn scope(self) -> Scope {
        match self {
            RuleScope::Keluarga => Scope::Keluarga,
            RuleScope::Anggota => Scope::Anggota,
        }
    }
}

/// The rulebook file as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulebookSource {
    /// Version string recorded on validated records (`Keluarga::rulebook_version`).
    pub version: String,
    pub title: Text,
    #[serde(default)]
    pub note: Option<String>,
    pub sections: Vec<Section>,
    pub code_lists: BTreeMap<String, Vec<CodeLabel>>,
    pub variables: Vec<Variable>,
    pub rules: Vec<Rule>,
}

/// Why a rulebook did not load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RulebookError {
    /// Not valid JSON, or not the rulebook shape.
    Json { path: String, message: String },
    /// A variable is inconsistent (unknown field, missing code list, …).
    Variable { id: String, message: String },
    /// A rule or relevance expression does not parse or type-check.
    Expression {
        /// The rule id, or `variable <id>` for a relevance expression.
        id: String,
        /// `when`, `assert`, `relevant` or `values.<name>`.
        part: String,
        /// 1-based character position in the expression.
        position: usize,
        message: String,
    },
    /// A rule is inconsistent (duplicate id, …).
    Rule { id: String, message: String },
}

impl fmt::Display for RulebookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RulebookError::Json { path, message } if path.is_empty() => {
                write!(f, "rulebook JSON: {message}")
            }
            RulebookError::Json { path, message } => {
                write!(f, "rulebook JSON at `{path}`: {message}")
            }
            RulebookError::Variable { id, message } => write!(f, "variable {id}: {message}"),
            RulebookError::Expression {
                id,
                part,
                position,
                message,
            } => write!(f, "rule {id}, {part}, position {position}: {message}"),
            RulebookError::Rule { id, message } => write!(f, "rule {id}: {message}"),
        }
    }
}

impl std::error::Error for RulebookError {}

/// A variable ready to check (its hot part is the [`VarCheck`]).
#[derive(Clone, Debug)]
pub(crate) struct CompiledVariable {
    pub def: &'static FieldDef,
    /// Index into `Rulebook::relevances` (shared by variables with the same condition).
    pub relevant: Option<usize>,
    /// Allowed codes (sorted) for `code`; the exclusive (non-bit) codes for `flags`.
    pub codes: Vec<i64>,
    /// The same codes as a bit set when all lie in 0..128 (the usual case).
    pub code_mask: Option<u128>,
}

impl CompiledVariable {
    /// `n` is one of the listed codes.
    pub fn has_code(&self, n: i64) -> bool {
        match self.code_mask {
            Some(mask) => (0..128).contains(&n) && mask & (1u128 << n) != 0,
            None => self.codes.binary_search(&n).is_ok(),
        }
    }
}

/// A variable's check in the form validation runs it: what the hot loop reads, in one
/// cache line, with the relevance slot and the field slot resolved.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VarCheck {
    /// The allowed codes as a bit set (codes 0..64, then 64..128), when `code_mask`
    /// is set.
    pub mask: [u64; 2],
    /// `integer`: the bounds (`i64::MIN`/`i64::MAX` when absent).
    pub min: i64,
    pub max: i64,
    /// `flags`: the OR of the bit values.
    pub bits: i64,
    /// Index into `Rulebook::vars` and the rulebook's variables.
    pub var: u32,
    /// The field's slot in the record view of its scope.
    pub slot: u16,
    /// Index into `Rulebook::relevances`, or [`VarCheck::ALWAYS`].
    pub relevant: u8,
    pub var_type: VarType,
    pub code_mask: bool,
    pub required: bool,
    pub all_members: bool,
}

impl VarCheck {
    /// No relevance condition: always asked.
    pub const ALWAYS: u8 = u8::MAX;

    /// `n` is a valid answer: a listed code (`code`), a listed exclusive code or a
    /// positive sum of the bit values (`flags`), a number within the bounds
    /// (`integer`). The bit set decides most answers in one test.
    #[inline(always)]
    pub fn valid(&self, rb: &Rulebook, n: i64) -> bool {
        if (n as u64) < 128 && self.mask[(n >> 6) as usize] >> (n & 63) & 1 != 0 {
            return true;
        }
        let listed = || !self.code_mask && rb.vars[self.var as usize].has_code(n);
        match self.var_type {
            VarType::Code => listed(),
            VarType::Flags => (n > 0 && n & !self.bits == 0) || listed(),
            VarType::Integer => self.min <= n && n <= self.max,
            VarType::Text | VarType::Date => true,
        }
    }
}

/// The most distinct relevance conditions a rulebook may have: validation keeps the
/// state of each in a fixed array, indexed by a byte ([`VarCheck::ALWAYS`] is the
/// last).
pub(crate) const RELEVANCE_CACHE: usize = VarCheck::ALWAYS as usize;

/// A rule ready to evaluate.
#[derive(Clone, Debug)]
pub(crate) struct CompiledRule {
    pub when: Option<Expr>,
    pub assertion: Expr,
    pub values: Vec<(String, Expr)>,
}

/// A loaded, checked and compiled rulebook.
#[derive(Clone, Debug)]
pub struct Rulebook {
    source: RulebookSource,
    pub(crate) vars: Vec<CompiledVariable>,
    /// Distinct relevance conditions, each evaluated once per family or member.
    pub(crate) relevances: Vec<Expr>,
    /// Indices into `relevances`, split by scope.
    pub(crate) family_relevances: Vec<usize>,
    pub(crate) member_relevances: Vec<usize>,
    pub(crate) rules: Vec<CompiledRule>,
    /// The checks of `vars`, split by scope, in file order.
    pub(crate) family_vars: Vec<VarCheck>,
    pub(crate) member_vars: Vec<VarCheck>,
    /// Indices into `rules`, split by scope, in file order.
    pub(crate) family_rules: Vec<usize>,
    pub(crate) member_rules: Vec<usize>,
    /// The slots the variables and expressions read.
    pub(crate) layout: Layout,
}

impl Rulebook {
    /// Loads a rulebook from JSON text.
    pub fn from_json(text: &str) -> Result<Rulebook, RulebookError> {
        let source: RulebookSource =
            crate::json::from_str(text).map_err(|e| RulebookError::Json {
                path: e.path,
                message: e.message,
            })?;
        Rulebook::compile(source)
    }

    /// Checks and compiles a rulebook already in memory.
    pub fn compile(source: RulebookSource) -> Result<Rulebook, RulebookError> {
        let sections: BTreeSet<&str> = source.sections.iter().map(|s| s.id.as_str()).collect();
        let mut seen = BTreeSet::new();
        let mut vars = Vec::new();
        let mut relevances: Vec<Expr> = Vec::new();
        let mut relevance_ids: BTreeMap<(String, bool), usize> = BTreeMap::new();
        let (mut family_relevances, mut member_relevances) = (Vec::new(), Vec::new());
        let (mut family_vars, mut member_vars) = (Vec::new(), Vec::new());
        for v in &source.variables {
            let bad = |message: String| RulebookError::Variable {
                id: v.id.clone(),
                message,
            };
            if !seen.insert(v.id.as_str()) {
                return Err(bad("duplicate variable id".into()));
            }
            if !sections.contains(v.section.as_str()) {
                return Err(bad(format!("unknown section `{}`", v.section)));
            }
            let def = field(&v.field).ok_or_else(|| bad(format!("unknown field `{}`", v.field)))?;
            let want = match v.var_type {
                VarType::Code | VarType::Flags | VarType::Integer => Type::Int,
                VarType::Text => Type::Text,
                VarType::Date => Type::Date,
            };
            if def.ty != want {
                return Err(bad(format!(
                    "field `{}` is {}, not {:?}",
                    v.field,
                    def.ty.name(),
                    v.var_type
                )));
            }
            let mut codes = Vec::new();
            let mut bits = 0i64;
            match (v.var_type, &v.codes) {
                (VarType::Code | VarType::Flags, Some(list)) => {
                    let list = source
                        .code_lists
                        .get(list)
                        .ok_or_else(|| bad(format!("unknown code list `{list}`")))?;
                    if list.is_empty() {
                        return Err(bad("empty code list".into()));
                    }
                    for c in list {
                        if v.var_type == VarType::Flags && is_flag_bit(c.code) {
                            bits |= c.code;
                        } else {
                            codes.push(c.code);
                        }
                    }
                    codes.sort_unstable();
                    codes.dedup();
                }
                (VarType::Code | VarType::Flags, None) => {
                    return Err(bad("a code variable needs `codes`".into()));
                }
                (_, Some(_)) => return Err(bad("only code variables take `codes`".into())),
                _ => {}
            }
            if let (Some(lo), Some(hi)) = (v.min, v.max)
                && lo > hi
            {
                return Err(bad(format!("min {lo} is above max {hi}")));
            }
            let scope = def.scope();
            let relevant = match &v.relevant {
                None => None,
                Some(src) => {
                    let e = Expr::compile_bool(src, scope)
                        .map_err(|e| expr_err(&format!("variable {}", v.id), "relevant", e))?;
                    let key = (src.clone(), scope == Scope::Anggota);
                    let next = relevances.len();
                    let slot = *relevance_ids.entry(key).or_insert(next);
                    if slot == next {
                        relevances.push(e);
                        match scope {
                            Scope::Keluarga => family_relevances.push(slot),
                            Scope::Anggota => member_relevances.push(slot),
                        }
                    }
                    Some(slot)
                }
            };
            let code_mask = codes
                .iter()
                .all(|c| (0..128).contains(c))
                .then(|| codes.iter().fold(0u128, |m, &c| m | (1u128 << c)));
            // Small integer ranges become bit sets too (one test instead of two).
            let small_range = match (v.var_type, v.min, v.max) {
                (VarType::Integer, Some(lo), Some(hi)) if 0 <= lo && hi < 128 => {
                    Some((lo..=hi).fold(0u128, |m, c| m | (1u128 << c)))
                }
                _ => None,
            };
            let check = VarCheck {
                mask: match v.var_type {
                    VarType::Integer => small_range,
                    _ => code_mask,
                }
                .map_or([0; 2], |m| [m as u64, (m >> 64) as u64]),
                min: v.min.unwrap_or(i64::MIN),
                max: v.max.unwrap_or(i64::MAX),
                bits,
                var: u32::try_from(vars.len()).map_err(|_| bad("too many variables".into()))?,
                slot: def.slot,
                relevant: match relevant {
                    None => VarCheck::ALWAYS,
                    Some(r) if r < RELEVANCE_CACHE => r as u8,
                    Some(_) => {
                        return Err(bad(format!(
                            "too many relevance conditions (at most {RELEVANCE_CACHE})"
                        )));
                    }
                },
                var_type: v.var_type,
                code_mask: code_mask.is_some(),
                required: v.required,
                all_members: v.all_members,
            };
            match scope {
                Scope::Keluarga => family_vars.push(check),
                Scope::Anggota => member_vars.push(check),
            }
            vars.push(CompiledVariable {
                def,
                relevant,
                codes,
                code_mask,
            });
        }

        let mut rule_ids = BTreeSet::new();
        let mut rules = Vec::new();
        let (mut family_rules, mut member_rules) = (Vec::new(), Vec::new());
        for r in &source.rules {
            if !rule_ids.insert(r.id.as_str()) {
                return Err(RulebookError::Rule {
                    id: r.id.clone(),
                    message: "duplicate rule id".into(),
                });
            }
            if r.id.starts_with("variable.") {
                return Err(RulebookError::Rule {
                    id: r.id.clone(),
                    message: "ids starting with `variable.` are reserved".into(),
                });
            }
            let scope = r.scope.scope();
            let when = match &r.when {
                None => None,
                Some(src) => {
                    Some(Expr::compile_bool(src, scope).map_err(|e| expr_err(&r.id, "when", e))?)
                }
            };
            let assertion = Expr::compile_bool(&r.assertion, scope)
                .map_err(|e| expr_err(&r.id, "assert", e))?;
            let mut values = Vec::new();
            for (name, src) in &r.values {
                let e = Expr::compile(src, scope)
                    .map_err(|e| expr_err(&r.id, &format!("values.{name}"), e))?;
                values.push((name.clone(), e));
            }
            match scope {
                Scope::Keluarga => family_rules.push(rules.len()),
                Scope::Anggota => member_rules.push(rules.len()),
            }
            rules.push(CompiledRule {
                when,
                assertion,
                values,
            });
        }
        // Equal aggregates share one result per family during validation.
        let mut aggregates = BTreeMap::new();
        for e in relevances.iter_mut().chain(rules.iter_mut().flat_map(|r| {
            r.when
                .iter_mut()
                .chain([&mut r.assertion])
                .chain(r.values.iter_mut().map(|(_, e)| e))
        })) {
            e.number_aggregates(&mut aggregates);
        }
        let mut layout = Layout::default();
        for e in relevances.iter().chain(rules.iter().flat_map(|r| {
            r.when
                .iter()
                .chain([&r.assertion])
                .chain(r.values.iter().map(|(_, e)| e))
        })) {
            e.read_into(&mut layout);
        }
        for c in &family_vars {
            layout.family |= 1 << c.slot;
        }
        for c in &member_vars {
            layout.member |= 1 << c.slot;
        }
        Ok(Rulebook {
            source,
            vars,
            relevances,
            family_relevances,
            member_relevances,
            rules,
            family_vars,
            member_vars,
            family_rules,
            member_rules,
            layout,
        })
    }

    /// The default rulebook (Regsosek 2022), loaded once.
    pub fn builtin() -> &'static Rulebook {
        static DEFAULT: OnceLock<Rulebook> = OnceLock::new();
        DEFAULT.get_or_init(|| {
            // The embedded file is part of the crate and tested; failing here is a build defect.
            Rulebook::from_json(DEFAULT_RULEBOOK_JSON)
                .unwrap_or_else(|e| panic!("embedded rulebook is invalid: {e}"))
        })
    }

    pub fn version(&self) -> &str {
        &self.source.version
    }

    pub fn source(&self) -> &RulebookSource {
        &self.source
    }

    pub fn variables(&self) -> &[Variable] {
        &self.source.variables
    }

    pub fn rules(&self) -> &[Rule] {
        &self.source.rules
    }

    /// A variable by id (`301a`).
    pub fn variable(&self, id: &str) -> Option<&Variable> {
        self.source.variables.iter().find(|v| v.id == id)
    }

    /// The variable that asks the model's field `field` (`relationship`, `housing.floor`).
    pub fn variable_of_field(&self, field: &str) -> Option<&Variable> {
        self.source.variables.iter().find(|v| v.field == field)
    }

    /// The code list of the variable that asks `field`, if it is a code variable.
    pub fn codes_of_field(&self, field: &str) -> Option<&[CodeLabel]> {
        self.codes_of(self.variable_of_field(field)?)
    }

    /// The code list of a code variable.
    pub fn codes_of(&self, variable: &Variable) -> Option<&[CodeLabel]> {
        variable
            .codes
            .as_ref()
            .and_then(|name| self.source.code_lists.get(name))
            .map(Vec::as_slice)
    }

    /// Skip logic of variable `id` for a family, or for its member at index `member`
    /// of `anggota` (member variables): `Some(true)` when the question is asked,
    /// `Some(false)` when it is skipped, `None` when the condition cannot be decided
    /// yet (an answer it reads is missing) or the call does not fit (unknown variable,
    /// a member variable without a valid member). Validation uses the same conditions.
    pub fn is_relevant(
        &self,
        id: &str,
        keluarga: &Keluarga,
        member: Option<usize>,
        today: Date,
    ) -> Option<bool> {
        let i = self.source.variables.iter().position(|v| v.id == id)?;
        let cv = &self.vars[i];
        let rec = Record::read(keluarga, today, &self.layout);
        let at = match cv.def.scope() {
            Scope::Keluarga => rec.family(),
            Scope::Anggota => rec.member(member.filter(|&m| m < rec.members.len())?),
        };
        let Some(slot) = cv.relevant else {
            return Some(true);
        };
        match self.relevances[slot].eval(at) {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The key variables (uji petik), in rulebook order.
    pub fn key_variables(&self) -> impl Iterator<Item = &Variable> {
        self.source.variables.iter().filter(|v| v.key)
    }
}

fn expr_err(id: &str, part: &str, e: ExprError) -> RulebookError {
    RulebookError::Expression {
        id: id.to_owned(),
        part: part.to_owned(),
        position: e.position,
        message: e.message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ground_check_asks_36_key_variables() {
        let rb = Rulebook::builtin();
        let keys: Vec<&str> = rb.key_variables().map(|v| v.id.as_str()).collect();
        assert_eq!(keys.len(), 36, "{keys:?}");
        // Every variable the ranking model reads from the housing and asset blocks is key.
        for id in ["302", "303", "307b", "310", "502b", "502n", "504b", "506"] {
            assert!(keys.contains(&id), "{id} in {keys:?}");
        }
        // Program receipt and the long health blocks are in the full questionnaire only.
        for id in ["501a", "430", "431a", "disabilitas_seeing", "gps"] {
            assert!(!keys.contains(&id), "{id} in {keys:?}");
        }
    }

    #[test]
    fn builtin_loads() {
        let rb = Rulebook::builtin();
        assert!(rb.variables().len() > 80);
        assert!(!rb.rules().is_empty());
    }

    fn sample() -> Keluarga {
        serde_json::from_str(include_str!(
            "../../../tests/vectors/households/sample.json"
        ))
        .expect("the sample household parses")
    }

    #[test]
    fn relevance_follows_the_skip_logic_of_family_and_member_variables() {
        let rb = Rulebook::builtin();
        let today = Date::from_ymd(2026, 11, 23).expect("a date");
        let mut k = sample();
        // 301b (land proof) is asked only of owners (301a = 1).
        assert_eq!(rb.is_relevant("301b", &k, None, today), Some(true));
        k.housing.ownership = Some(2);
        assert_eq!(rb.is_relevant("301b", &k, None, today), Some(false));
        k.housing.ownership = None;
        assert_eq!(rb.is_relevant("301b", &k, None, today), None);
        // No condition: always asked.
        assert_eq!(rb.is_relevant("303", &k, None, today), Some(true));
        // 427 (child nutrition) only for members aged 0–4; the head is 46.
        assert_eq!(rb.is_relevant("427", &k, Some(0), today), Some(false));
        k.anggota[0].birth_date = Date::from_ymd(2024, 1, 1).expect("a date");
        assert_eq!(rb.is_relevant("427", &k, Some(0), today), Some(true));
        // Calls that do not fit give None, never a panic.
        assert_eq!(rb.is_relevant("427", &k, None, today), None);
        assert_eq!(rb.is_relevant("427", &k, Some(99), today), None);
        assert_eq!(rb.is_relevant("no-such-variable", &k, None, today), None);
    }

    fn with_rule(assert: &str) -> Result<Rulebook, RulebookError> {
        let mut src: RulebookSource = serde_json::from_str(DEFAULT_RULEBOOK_JSON).unwrap();
        src.rules.push(Rule {
            id: "test.bad".into(),
            scope: RuleScope::Keluarga,
            severity: Severity::Error,
            when: None,
            assertion: assert.into(),
            path: "".into(),
            message: Text::new("x", "x"),
            values: BTreeMap::new(),
            note: None,
        });
        Rulebook::compile(src)
    }

    #[test]
    fn bad_rule_is_a_load_error_naming_rule_and_position() {
        let e = with_rule("count(relationship == 1) == tru").unwrap_err();
        assert_eq!(
            e,
            RulebookError::Expression {
                id: "test.bad".into(),
                part: "assert".into(),
                position: 29,
                message: "unknown field `tru`".into()
            }
        );
        let e = with_rule("housing.floor + 1").unwrap_err();
        assert!(e.to_string().contains("expected a boolean"), "{e}");
        let e = with_rule("age > 3").unwrap_err();
        assert!(
            e.to_string()
                .contains("member field `age` used in a family rule"),
            "{e}"
        );
        let e = with_rule("housing.floor == today").unwrap_err();
        assert!(
            e.to_string().contains("cannot compare integer with date"),
            "{e}"
        );
        let e = with_rule("housing.floor in {3..1}").unwrap_err();
        assert!(e.to_string().contains("empty range"), "{e}");
        assert!(with_rule("count(relationship == 1) == 1").is_ok());
    }

    #[test]
    fn flags_add_bits_and_stand_alone_codes_replace_them() {
        assert!(is_flag_bit(1) && is_flag_bit(32) && !is_flag_bit(0) && !is_flag_bit(3));
        assert!(!is_flag_bit(64) && !is_flag_bit(99) && !is_flag_bit(-2));
        assert_eq!(flag_toggle(None, 1, true), Some(1));
        assert_eq!(flag_toggle(Some(1), 4, true), Some(5));
        assert!(flag_holds(Some(5), 4) && flag_holds(Some(5), 1));
        assert!(!flag_holds(Some(5), 2) && !flag_holds(Some(5), 0));
        assert!(!flag_holds(None, 1) && !flag_holds(None, 0));
        assert_eq!(flag_toggle(Some(5), 1, false), Some(4));
        assert_eq!(flag_toggle(Some(4), 4, false), None);
        // Stand-alone codes (0 none, 99 other) replace the bits and are replaced by them.
        assert_eq!(flag_toggle(Some(5), 99, true), Some(99));
        assert_eq!(flag_toggle(Some(99), 99, false), None);
        assert!(flag_holds(Some(99), 99) && !flag_holds(Some(99), 1) && !flag_holds(Some(99), 2));
        assert_eq!(flag_toggle(Some(99), 2, true), Some(2));
        assert_eq!(flag_toggle(Some(0), 2, true), Some(2));
        assert!(flag_holds(Some(0), 0) && !flag_holds(Some(0), 2));
    }

    #[test]
    fn a_toggled_flags_answer_is_one_validation_accepts() {
        // Whatever boxes are ticked, in any order, the answer passes the core's own check
        // of the flags question (jkn, 431a): bits of the list, or one stand-alone code
        // (99 "don't know" still draws its warning, not an error).
        let rb = Rulebook::builtin();
        let regions = crate::RegionTable::from_csv("kode,nama\n").expect("an empty table");
        let ctx = crate::ValidationContext {
            rulebook: rb,
            regions: &regions,
            today: Date::from_ymd(2026, 11, 23).expect("a date"),
        };
        let jkn = rb
            .variables()
            .iter()
            .find(|v| v.field == "jkn")
            .expect("431a");
        assert_eq!(jkn.var_type, VarType::Flags);
        let codes: Vec<i64> = rb
            .codes_of(jkn)
            .expect("codes")
            .iter()
            .map(|c| c.code)
            .collect();
        assert!(codes.iter().any(|c| is_flag_bit(*c)) && codes.iter().any(|c| !is_flag_bit(*c)));
        let on_jkn = |k: &Keluarga| {
            crate::validate_keluarga(k, &ctx)
                .findings
                .into_iter()
                .filter(|f| f.path == "anggota[0].jkn" && f.is_error())
                .count()
        };
        let mut k = sample();
        k.anggota[0].jkn = Some(200);
        assert_eq!(on_jkn(&k), 1, "a value outside the list is a finding");
        for a in &codes {
            for b in &codes {
                let value = flag_toggle(flag_toggle(None, *a, true), *b, true);
                k.anggota[0].jkn = value.map(|v| v.try_into().expect("a code"));
                assert!(k.anggota[0].jkn.is_some());
                assert_eq!(on_jkn(&k), 0, "{a} then {b}: {:?}", k.anggota[0].jkn);
            }
        }
    }
}
