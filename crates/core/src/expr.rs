//! The rulebook's expression language: small, typed, safe.
//!
//! In the spirit of XLSForm `relevant`/`constraint` and DHIS2 program rules. There are
//! no loops (only the bounded member aggregates), no assignment and no IO. An
//! expression is parsed and type-checked once, when the rulebook loads, into a tree
//! whose field references are resolved getter functions; evaluation allocates nothing.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | compare
//! compare := sum (("=="|"!="|"<"|"<="|">"|">=") sum | ["not"] "in" set)?
//! sum     := product (("+"|"-") product)*
//! product := unary (("*"|"/"|"%") unary)*
//! unary   := "-" unary | atom
//! atom    := INT | "true" | "false" | "null" | "today" | "(" expr ")"
//!          | name ("." name)*                      field, e.g. housing.lighting, head.age
//!          | name "(" [expr ("," expr)*] ")"        function
//! set     := "{" item ("," item)* "}"      item := INT | INT ".." INT (inclusive)
//! ```
//!
//! Functions: `count()` (active members), `count(cond)`, `any(cond)`, `all(cond)` over
//! active members (inside, member fields refer to the member at hand); `present(x)`;
//! `years_between(from, to)` (completed years), `days_between(from, to)`;
//! `date("YYYY-MM-DD")`; `min(a, b)`, `max(a, b)`.
//!
//! Names: family fields anywhere (`housing.floor_area_m2`, `member_count`); member
//! fields (`age`, `sex`, `relationship`, …) in member scope and inside aggregates;
//! `head.<member field>` for the family's active head (null when there is not exactly
//! one). `today` is the reference date passed in by the caller.
//!
//! Missing answers are `null`. Arithmetic and comparisons with `null` give `null`;
//! `and`/`or`/`not` are three-valued (false wins in `and`, true wins in `or`);
//! `x == null` / `x != null` test for an answer. A rule's assertion fails only when it
//! is `false`; a condition (`when`, `relevant`) holds only when it is `true`.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;

use crate::date::Date;
use crate::fields::{
    FAMILY_FIELDS, Getter, MEMBER_FIELDS, MEMBER_RAW, RAW_NULL, RawGet, Scope, Type, Value,
    field_slot, member_field,
};
use crate::model::{Anggota, Keluarga};

/// A parse or type error, with the 1-based character position in the expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    pub position: usize,
    pub message: String,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "position {}: {}", self.position, self.message)
    }
}

impl std::error::Error for ExprError {}

/// The record an expression is evaluated against.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub keluarga: &'a Keluarga,
    /// The member at hand (member-scope rules and inside aggregates).
    pub anggota: Option<&'a Anggota>,
    /// The active head, if exactly one.
    pub head: Option<&'a Anggota>,
    /// The reference date.
    pub today: Date,
}

impl<'a> Env<'a> {
    pub fn new(keluarga: &'a Keluarga, today: Date) -> Env<'a> {
        Env {
            keluarga,
            anggota: None,
            head: keluarga.head(),
            today,
        }
    }

    pub fn with_member(self, anggota: &'a Anggota) -> Env<'a> {
        Env {
            anggota: Some(anggota),
            ..self
        }
    }
}

/// What an expression reads from: the record itself through the field getters
/// ([`Env`]), or a [`View`] of it read once into slot arrays (validation). Every field
/// node carries both its getter and its slot, so either answers the same.
pub(crate) trait Record {
    /// Evaluate leaf nodes inline at each use (cheap slot reads), or all nodes in one
    /// compact recursive function (getter calls; keeps the code of scoring small).
    const INLINE_LEAVES: bool;
    fn today(&self) -> Date;
    fn fam(&self, get: FamGet, slot: u16) -> Value;
    /// Null when there is no member at hand.
    fn mem(&self, get: MemGet, slot: u16) -> Value;
    /// An integer member field (the parser's types for `MemCmpK` and `MemIn`), `None`
    /// when unanswered or when there is no member at hand.
    #[inline(always)]
    fn mem_int(&self, get: MemGet, slot: u16) -> Option<i64> {
        match self.mem(get, slot) {
            Value::Int(x) => Some(x),
            _ => None,
        }
    }
    /// Null when the family has no single active head.
    fn head(&self, get: MemGet, slot: u16) -> Value;
    /// A `head.` field through its raw getter; [`RAW_NULL`] when the family has no
    /// single active head. One small getter returning in a register: under wasm32,
    /// [`Record::head`] is a dispatch over every member field and a [`Value`]
    /// returned through memory.
    #[inline(always)]
    fn head_raw(&self, raw: RawGet) -> i64 {
        self.head_member()
            .map_or(RAW_NULL, |a| raw(a, self.today()))
    }
    /// The active head, if exactly one.
    fn head_member(&self) -> Option<&Anggota>;
    fn aggregate(&self, agg: Agg, cond: Option<&AggCond>, cache: u16) -> Value;
}

type FamGet = fn(&Keluarga) -> Value;
type MemGet = fn(&Anggota, Date) -> Value;

/// A member field read by the getter path ([`Env`], `head.` fields, aggregates):
/// natively through the getter's function pointer; under wasm32 through
/// [`member_field`], a `match` on the slot inlined here, because V8's `call_indirect`
/// (and the 16-byte `Value` it returns through memory) costs about three times a
/// native call, while natively the indirect call is the faster of the two (an
/// out-of-line `match` made score + eligibility 10 % slower, docs/benchmarks.md,
/// session 6). Both give the same value: a test compares them slot by slot.
#[inline(always)]
fn member_value(get: MemGet, slot: u16, a: &Anggota, today: Date) -> Value {
    if cfg!(target_arch = "wasm32") {
        member_field(a, today, slot)
    } else {
        get(a, today)
    }
}

/// An integer member field (`None` when unanswered): under wasm32 through the field's
/// raw getter ([`MEMBER_RAW`]: a small function returning in a register; with V8's
/// speculative inlining of indirect calls, Chromium inlines it), natively through
/// [`member_value`].
#[inline(always)]
fn member_int(get: MemGet, slot: u16, a: &Anggota, today: Date) -> Option<i64> {
    if cfg!(target_arch = "wasm32") {
        match raw_getter(slot)(a, today) {
            RAW_NULL => None,
            x => Some(x),
        }
    } else {
        match member_value(get, slot, a, today) {
            Value::Int(x) => Some(x),
            _ => None,
        }
    }
}

impl Record for Env<'_> {
    const INLINE_LEAVES: bool = false;

    fn head_member(&self) -> Option<&Anggota> {
        self.head
    }

    fn today(&self) -> Date {
        self.today
    }

    fn fam(&self, get: FamGet, _: u16) -> Value {
        get(self.keluarga)
    }

    fn mem(&self, get: MemGet, slot: u16) -> Value {
        self.anggota
            .map_or(Value::Null, |a| member_value(get, slot, a, self.today))
    }

    /// Under wasm32 through the field's raw getter (see [`member_int`]).
    #[inline(always)]
    fn mem_int(&self, get: MemGet, slot: u16) -> Option<i64> {
        self.anggota
            .and_then(|a| member_int(get, slot, a, self.today))
    }

    fn head(&self, get: MemGet, slot: u16) -> Value {
        self.head
            .map_or(Value::Null, |a| member_value(get, slot, a, self.today))
    }

    #[inline(never)]
    fn aggregate(&self, agg: Agg, cond: Option<&AggCond>, _: u16) -> Value {
        let active = self.keluarga.anggota.iter().filter(|m| m.is_active());
        // The most common condition, `<member field> <op> k`, by itself.
        if let Some(AggCond {
            node: Node::MemCmpK(op, get, slot, k),
            ..
        }) = cond
        {
            return fold_aggregate(
                agg,
                active.map(|m| {
                    matches!(member_int(*get, *slot, m, self.today), Some(x) if cmp_int(*op, x, *k))
                }),
            );
        }
        // The other conditions that are member field tests read the fields directly.
        if let Some(q) = cond.and_then(|c| c.quick.as_ref()) {
            return fold_aggregate(agg, active.map(|m| q.hold(m, self.today)));
        }
        fold_aggregate(
            agg,
            self.keluarga
                .anggota
                .iter()
                .filter(|m| m.is_active())
                .map(|m| match cond {
                    None => true,
                    Some(c) => matches!(eval(&c.node, &self.with_member(m)), Value::Bool(true)),
                }),
        )
    }
}

/// An aggregate over the active members, from whether each one meets the condition.
#[inline(always)]
fn fold_aggregate(agg: Agg, oks: impl Iterator<Item = bool>) -> Value {
    let mut n = 0i64;
    for ok in oks {
        match (agg, ok) {
            (Agg::Any, true) => return Value::Bool(true),
            (Agg::All, false) => return Value::Bool(false),
            (_, true) => n += 1,
            _ => {}
        }
    }
    match agg {
        Agg::Count => Value::Int(n),
        Agg::Any => Value::Bool(false),
        Agg::All => Value::Bool(true),
    }
}

/// The most aggregates of a rulebook whose results a [`View`] keeps per family.
pub(crate) const AGGREGATE_CACHE: usize = 32;

/// Aggregate results of one family (`count(relationship == 2)` is asked by several
/// rules; it is computed once). `None`: not computed yet.
pub(crate) type AggregateCache = [Cell<Option<Value>>; AGGREGATE_CACHE];

/// A family read into slot arrays ([`crate::fields::read_family`],
/// [`crate::fields::read_member`]) for the many expressions of one validation.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub keluarga: &'a Keluarga,
    pub family: &'a [Value; FAMILY_FIELDS],
    /// The member at hand.
    pub member: Option<&'a [Value; MEMBER_FIELDS]>,
    /// The active head, if exactly one ([`Keluarga::head`]).
    pub head: Option<&'a Anggota>,
    pub today: Date,
    /// Aggregate results kept per family (see [`AggregateCache`]); may be empty.
    pub aggregates: &'a [Cell<Option<Value>>],
}

impl Record for View<'_> {
    const INLINE_LEAVES: bool = true;

    fn head_member(&self) -> Option<&Anggota> {
        self.head
    }

    fn today(&self) -> Date {
        self.today
    }

    #[inline(always)]
    fn fam(&self, _: FamGet, slot: u16) -> Value {
        self.family[usize::from(slot)]
    }

    #[inline(always)]
    fn mem(&self, _: MemGet, slot: u16) -> Value {
        self.member.map_or(Value::Null, |m| m[usize::from(slot)])
    }

    fn head(&self, get: MemGet, slot: u16) -> Value {
        self.head
            .map_or(Value::Null, |a| member_value(get, slot, a, self.today))
    }

    /// Computed through the getters on the first call, then from the cache.
    #[inline(never)]
    fn aggregate(&self, agg: Agg, cond: Option<&AggCond>, cache: u16) -> Value {
        let cell = self.aggregates.get(usize::from(cache));
        if let Some(v) = cell.and_then(Cell::get) {
            return v;
        }
        let env = Env {
            keluarga: self.keluarga,
            anggota: None,
            head: self.head,
            today: self.today,
        };
        let v = env.aggregate(agg, cond, cache);
        if let Some(cell) = cell {
            cell.set(Some(v));
        }
        v
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Agg {
    Count,
    Any,
    All,
}

/// No aggregate cache slot assigned (see [`Expr::number_aggregates`]).
const NO_CACHE: u16 = u16::MAX;

/// Field nodes hold the getter and the field's slot (see [`Record`]).
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Const(Value),
    Today,
    Fam(FamGet, u16),
    Mem(MemGet, u16),
    Head(MemGet, u16),
    /// `member_field <op> constant`: the common leaf test, fused into one node.
    MemCmpK(CmpOp, MemGet, u16, i64),
    /// `family_field <op> constant`.
    FamCmpK(CmpOp, FamGet, u16, i64),
    /// `head.field <op> constant` (the field's getter as a [`RawGet`]).
    HeadCmpK(CmpOp, RawGet, i64),
    /// `member_field in {…}`.
    MemIn(MemGet, u16, Box<[(i64, i64)]>, bool),
    /// `family_field in {…}`.
    FamIn(FamGet, u16, Box<[(i64, i64)]>, bool),
    /// `head.field in {…}` (the field's getter as a [`RawGet`]).
    HeadIn(RawGet, Box<[(i64, i64)]>, bool),
    /// `member_field == null` (`!= null` when the flag is set).
    MemIsNull(MemGet, u16, bool),
    /// `family_field == null` (`!= null` when the flag is set).
    FamIsNull(FamGet, u16, bool),
    Neg(Box<Node>),
    Arith(ArOp, Box<Node>, Box<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    IsNull(Box<Node>, bool),
    In(Box<Node>, Box<[(i64, i64)]>, bool),
    /// `a and b and …`: false if any is false, true if all are true, else null.
    And(Box<[Node]>),
    /// `a or b or …`: true if any is true, false if all are false, else null.
    Or(Box<[Node]>),
    Not(Box<Node>),
    /// The aggregate, its condition, its canonical text (tokens, for sharing a cache
    /// slot between equal aggregates of a rulebook) and its cache slot.
    Aggregate(Agg, Option<Box<AggCond>>, Box<str>, u16),
    Present(Box<Node>),
    YearsBetween(Box<Node>, Box<Node>),
    DaysBetween(Box<Node>, Box<Node>),
    MinMax(bool, Box<Node>, Box<Node>),
}

/// The condition of an aggregate, and its form as direct member field tests when it
/// has one ([`member_tests`]; then the getter path decides it without the evaluator).
#[derive(Clone, Debug)]
pub(crate) struct AggCond {
    node: Node,
    quick: Option<MemberTests>,
}

/// A compiled, type-checked expression.
#[derive(Clone, Debug)]
pub struct Expr {
    node: Node,
    ty: Type,
    source: String,
}

impl Expr {
    /// Parses and type-checks `source` for evaluation in `scope`.
    pub fn compile(source: &str, scope: Scope) -> Result<Expr, ExprError> {
        let tokens = lex(source)?;
        let mut p = Parser {
            tokens,
            at: 0,
            member: scope == Scope::Anggota,
            depth: 0,
            ops: 0,
        };
        let (node, ty) = p.expr()?;
        if let Some(t) = p.tokens.get(p.at) {
            return Err(ExprError {
                position: t.pos,
                message: format!("unexpected {}", t.tok.describe()),
            });
        }
        Ok(Expr {
            node,
            ty,
            source: source.to_owned(),
        })
    }

    /// Compiles and requires a boolean result.
    pub fn compile_bool(source: &str, scope: Scope) -> Result<Expr, ExprError> {
        let e = Expr::compile(source, scope)?;
        if e.ty != Type::Bool {
            return Err(ExprError {
                position: 1,
                message: format!("expected a boolean condition, found {}", e.ty.name()),
            });
        }
        Ok(e)
    }

    pub fn ty(&self) -> Type {
        self.ty
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn eval(&self, env: &Env) -> Value {
        eval(&self.node, env)
    }

    /// `Some((slot, k))` when the expression is `<member field> == k`: it holds exactly
    /// when the member's slot holds the integer `k`.
    pub(crate) fn member_eq(&self) -> Option<(u16, i64)> {
        match self.node {
            Node::MemCmpK(CmpOp::Eq, _, slot, k) => Some((slot, k)),
            _ => None,
        }
    }

    /// The expression as a conjunction of integer slot tests (see [`slot_range`]):
    /// one test, or `t1 and t2 and …`. Three-valued: false when a test is false, else
    /// null when one is null, else true.
    pub(crate) fn slot_ranges(&self) -> Option<Vec<SlotTest>> {
        match &self.node {
            Node::And(items) => items.iter().map(slot_range).collect(),
            n => Some(vec![slot_range(n)?]),
        }
    }

    /// The condition as a [`MemberCond`], when it is built from member field tests,
    /// `days_between(<member date>, today) <op> k`, `any(…)` of such a condition over
    /// the family's members, and `and` / `or` of these (no `not`: only whether each
    /// part is true matters then).
    pub(crate) fn member_cond(&self) -> Option<MemberCond> {
        if self.ty != Type::Bool {
            return None;
        }
        member_cond(&self.node)
    }

    /// The expression as a [`QuickValue`], when it is one family slot, family slot
    /// tests joined by `and` or `or` (each a comparison with a constant, a null test, or
    /// a set of one range or of codes 0–63), a `head.` field or such a test of one, or a
    /// `count` whose condition is member field tests: the forms of ranking-model
    /// variables. `None` for other forms and for non-integer, non-boolean types.
    pub(crate) fn quick_value(&self) -> Option<QuickValue> {
        if !matches!(self.ty, Type::Int | Type::Bool) {
            return None;
        }
        let fam_test = |n: &Node| {
            let (slot, within, negate, null) = match (slot_range(n), n) {
                (Some((false, slot, lo, hi, negate, null)), _) => {
                    (slot, Within::Range(lo, hi), negate, null)
                }
                (Some(_), _) => return None,
                (None, Node::FamIn(_, slot, set, negate)) => {
                    (*slot, Within::of_set(set)?, *negate, false)
                }
                _ => return None,
            };
            Some(FamTest {
                slot,
                within,
                negate,
                null,
            })
        };
        Some(match &self.node {
            // The expression's type is the field's: an integer or a boolean.
            Node::Fam(_, slot) => QuickValue::Fam(*slot),
            Node::Head(_, slot) => QuickValue::Head(*MEMBER_RAW.get(usize::from(*slot))?),
            Node::HeadCmpK(op, raw, k) => {
                let (lo, hi, negate) = cmp_range(*op, *k)?;
                QuickValue::HeadTest(*raw, Within::Range(lo, hi), negate)
            }
            Node::HeadIn(raw, set, negate) => {
                QuickValue::HeadTest(*raw, Within::of_set(set)?, *negate)
            }
            Node::Aggregate(Agg::Count, None, ..) => QuickValue::Members,
            Node::Aggregate(Agg::Count, Some(c), ..) => QuickValue::Count(c.quick.clone()?),
            Node::And(items) => {
                QuickValue::FamTests(items.iter().map(fam_test).collect::<Option<_>>()?, false)
            }
            Node::Or(items) => {
                QuickValue::FamTests(items.iter().map(fam_test).collect::<Option<_>>()?, true)
            }
            n => QuickValue::FamTest(fam_test(n)?),
        })
    }

    /// [`Expr::eval`] on any [`Record`] (validation's [`View`]).
    #[inline]
    pub(crate) fn eval_in<R: Record>(&self, r: &R) -> Value {
        eval(&self.node, r)
    }

    /// `f` of [`Expr::eval_in`], applied on each path of the evaluation (an inline
    /// leaf, or [`eval_inner`]) before the paths join. Under wasm32 the joined
    /// [`Value`] of `f(self.eval_in(r))` lived in memory: each leaf's value was copied
    /// there with two overlapping 8-byte stores and read back across both, a
    /// store-forwarding stall; joined after `f`, a small result stays in registers.
    #[inline(always)]
    pub(crate) fn eval_in_then<R: Record, T>(&self, r: &R, f: impl Fn(Value) -> T) -> T {
        eval_then(&self.node, r, f)
    }

    /// Gives each aggregate a cache slot, shared by aggregates with the same text
    /// across all expressions numbered with the same `slots` (one rulebook).
    pub(crate) fn number_aggregates(&mut self, slots: &mut BTreeMap<Box<str>, u16>) {
        fn walk(node: &mut Node, slots: &mut BTreeMap<Box<str>, u16>) {
            match node {
                Node::Const(_)
                | Node::Today
                | Node::Fam(..)
                | Node::Mem(..)
                | Node::Head(..)
                | Node::MemCmpK(..)
                | Node::FamCmpK(..)
                | Node::HeadCmpK(..)
                | Node::MemIn(..)
                | Node::FamIn(..)
                | Node::HeadIn(..)
                | Node::MemIsNull(..)
                | Node::FamIsNull(..) => {}
                Node::Neg(a)
                | Node::IsNull(a, _)
                | Node::In(a, _, _)
                | Node::Not(a)
                | Node::Present(a) => walk(a, slots),
                Node::Arith(_, a, b)
                | Node::Cmp(_, a, b)
                | Node::YearsBetween(a, b)
                | Node::DaysBetween(a, b)
                | Node::MinMax(_, a, b) => {
                    walk(a, slots);
                    walk(b, slots);
                }
                Node::And(items) | Node::Or(items) => {
                    for n in items {
                        walk(n, slots);
                    }
                }
                Node::Aggregate(_, cond, key, slot) => {
                    if let Some(c) = cond {
                        walk(&mut c.node, slots);
                    }
                    let next = slots.len();
                    if next < AGGREGATE_CACHE || slots.contains_key(key) {
                        *slot = *slots.entry(key.clone()).or_insert(next as u16);
                    }
                }
            }
        }
        walk(&mut self.node, slots);
    }

    /// True only when the expression evaluates to `true`.
    pub fn holds(&self, env: &Env) -> bool {
        matches!(self.eval(env), Value::Bool(true))
    }

    /// False only when the expression evaluates to `false` (null passes).
    pub fn fails(&self, env: &Env) -> bool {
        matches!(self.eval(env), Value::Bool(false))
    }
}

/// One test of a member field in a [`MemberTests`] conjunction: the field (getter and
/// slot) and what it must hold.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MemberTest {
    get: MemGet,
    /// The same field as a [`raw`] integer (what wasm32 reads).
    raw: RawGet,
    slot: u16,
    test: Test,
}

#[derive(Clone, Copy, Debug)]
enum Test {
    /// An integer within `lo..=hi` (outside when `negate`).
    Range(i64, i64, bool),
    /// Unanswered (answered when `negate`).
    IsNull(bool),
    /// The boolean field is true.
    True,
}

/// A member-scope condition of the form `t1 and t2 and …` (or `t1 or t2 or …`) over
/// member fields (see [`member_tests`]): it holds exactly when every test (any
/// test) passes, so it is decided by reading the member's fields directly, without the
/// evaluator.
#[derive(Clone, Debug)]
pub(crate) struct MemberTests {
    tests: Box<[MemberTest]>,
    /// `or` instead of `and`.
    any: bool,
}

impl MemberTests {
    /// True only when the condition evaluates to `true` for member `a` on `today`
    /// (what [`Expr::holds`] gives with `a` at hand). Inlined at every use: out of line
    /// (as LLVM left it once `MemberCond` called it too), decide ran 9 % slower natively.
    #[inline(always)]
    pub(crate) fn hold(&self, a: &Anggota, today: Date) -> bool {
        // A test passes only when it is `true` (three-valued: null fails too), and an
        // `and` is true only when all its items are, an `or` when any is.
        let pass = |t: &MemberTest| {
            if cfg!(target_arch = "wasm32") {
                // Ranges test integer fields and `True` boolean ones (the parser's
                // types), so the raw integer decides each test: one small getter
                // returning in a register, where `member_field` is a dispatch over
                // every field and a `Value` returned through memory.
                let x = (t.raw)(a, today);
                return match t.test {
                    Test::Range(lo, hi, negate) => x != RAW_NULL && (lo <= x && x <= hi) != negate,
                    Test::IsNull(negate) => (x == RAW_NULL) != negate,
                    Test::True => x == 1,
                };
            }
            let v = member_value(t.get, t.slot, a, today);
            match t.test {
                Test::Range(lo, hi, negate) => {
                    matches!(v, Value::Int(x) if (lo <= x && x <= hi) != negate)
                }
                Test::IsNull(negate) => v.is_null() != negate,
                Test::True => v == Value::Bool(true),
            }
        };
        if self.any {
            self.tests.iter().any(pass)
        } else {
            self.tests.iter().all(pass)
        }
    }
}

impl MemberTests {
    /// How many active members of `keluarga` meet the condition on `today`.
    #[inline(never)]
    fn count(&self, keluarga: &Keluarga, today: Date) -> i64 {
        keluarga
            .anggota
            .iter()
            .filter(|a| a.is_active() && self.hold(a, today))
            .count() as i64
    }
}

/// The flat form of [`Expr::member_cond`]: a member field test (`field <op> k`,
/// `field in {…}`, `field == null`, a boolean field) or a conjunction or disjunction
/// of such tests.
fn member_tests(node: &Node) -> Option<MemberTests> {
    fn test(node: &Node) -> Option<MemberTest> {
        let get = match node {
            Node::Mem(get, slot) => {
                return Some(MemberTest {
                    get: *get,
                    raw: *MEMBER_RAW.get(usize::from(*slot))?,
                    slot: *slot,
                    test: Test::True,
                });
            }
            Node::MemCmpK(_, get, ..) | Node::MemIn(get, ..) | Node::MemIsNull(get, ..) => *get,
            _ => return None,
        };
        let (slot, test) = match slot_range(node)? {
            (true, slot, _, _, negate, true) => (slot, Test::IsNull(negate)),
            (true, slot, lo, hi, negate, false) => (slot, Test::Range(lo, hi, negate)),
            _ => return None,
        };
        Some(MemberTest {
            get,
            raw: *MEMBER_RAW.get(usize::from(slot))?,
            slot,
            test,
        })
    }
    let (items, any) = match node {
        Node::And(items) => (&items[..], false),
        Node::Or(items) => (&items[..], true),
        n => (std::slice::from_ref(n), false),
    };
    let mut tests: Vec<MemberTest> = items.iter().map(test).collect::<Option<_>>()?;
    merge_ranges(&mut tests, any);
    Some(MemberTests {
        tests: tests.into(),
        any,
    })
}

/// Joins range tests of the same field, so the field is read once: under `and` into
/// their intersection, under `or` into their union when it is one range or all but
/// one range (`age < 15 or age >= 65` is `age` outside `15..=64`). A range test is
/// false for an unanswered field, and so are both its parts and the joined test.
fn merge_ranges(tests: &mut Vec<MemberTest>, any: bool) {
    let mut i = 0;
    while i < tests.len() {
        let mut j = i + 1;
        while j < tests.len() {
            let joined = match (tests[i].test, tests[j].test) {
                (Test::Range(a, b, false), Test::Range(c, d, false))
                    if tests[i].slot == tests[j].slot =>
                {
                    let (lo, hi) = if (a, b) <= (c, d) {
                        ((a, b), (c, d))
                    } else {
                        ((c, d), (a, b))
                    };
                    if !any {
                        Some(Test::Range(a.max(c), b.min(d), false))
                    } else if hi.0 <= lo.1.saturating_add(1) {
                        Some(Test::Range(lo.0, lo.1.max(hi.1), false))
                    } else if lo.0 == i64::MIN && hi.1 == i64::MAX {
                        // The gap between them is non-empty: lo.1 + 1 <= hi.0 - 1.
                        Some(Test::Range(lo.1 + 1, hi.0 - 1, true))
                    } else {
                        None
                    }
                }
                _ => None,
            };
            match joined {
                Some(t) => {
                    tests[i].test = t;
                    tests.remove(j);
                }
                None => j += 1,
            }
        }
        i += 1;
    }
}

/// A member-scope condition decided without the evaluator ([`Expr::member_cond`]):
/// a tree of `and` / `or` whose leaves are member field tests, a date field's age in
/// days, or `any(…)` over the family's active members.
#[derive(Clone, Debug)]
pub(crate) enum MemberCond {
    /// Member field tests (the flat form, [`MemberTests`]).
    Tests(MemberTests),
    /// `field in {…}` of codes 0–63 whose ranges do not join into one (the flat form
    /// takes one range): the field's raw getter, the codes as bits, `not in`.
    Codes(RawGet, u64, bool),
    /// `days_between(<date field>, today) <op> k`: the date is answered and the days
    /// from it to `today` are within `lo..=hi` (outside when the flag is set).
    DaysSince(MemGet, u16, i64, i64, bool),
    All(Box<[MemberCond]>),
    Any(Box<[MemberCond]>),
    /// `tests and rest`: a conjunction whose field tests are decided first, in flat form
    /// (`sex == 2 and (…)` of `ibu_hamil_nifas`), so most members need no walk of
    /// the tree (see [`MemberCond::hold_inline`]).
    Guarded(MemberTests, Box<MemberCond>),
    /// `any(condition)`: some active member of the family meets it.
    AnyMember(Box<MemberCond>),
}

impl MemberCond {
    /// True only when the condition evaluates to `true` for member `a` of `keluarga` on
    /// `today` (what [`Expr::holds`] gives with `a` at hand).
    pub(crate) fn hold(&self, a: &Anggota, keluarga: &Keluarga, today: Date) -> bool {
        match self {
            MemberCond::Tests(q) => q.hold(a, today),
            MemberCond::Guarded(q, rest) => q.hold(a, today) && rest.hold(a, keluarga, today),
            MemberCond::Codes(raw, bits, negate) => match raw(a, today) {
                RAW_NULL => false,
                x => Within::Codes(*bits).holds(x) != *negate,
            },
            MemberCond::DaysSince(get, slot, lo, hi, negate) => {
                match member_value(*get, *slot, a, today) {
                    Value::Date(d) => {
                        let days = today.days_since_epoch() - d.days_since_epoch();
                        (*lo <= days && days <= *hi) != *negate
                    }
                    _ => false,
                }
            }
            MemberCond::All(items) => items.iter().all(|c| c.hold(a, keluarga, today)),
            MemberCond::Any(items) => items.iter().any(|c| c.hold(a, keluarga, today)),
            MemberCond::AnyMember(c) => keluarga
                .anggota
                .iter()
                .any(|m| m.is_active() && c.hold(m, keluarga, today)),
        }
    }

    /// [`MemberCond::hold`] with the flat tests of the top level decided inline, where
    /// they settle most members, and the tree walked by a call only past them.
    #[inline(always)]
    pub(crate) fn hold_inline(&self, a: &Anggota, keluarga: &Keluarga, today: Date) -> bool {
        match self {
            MemberCond::Tests(q) => q.hold(a, today),
            MemberCond::Guarded(q, rest) => q.hold(a, today) && rest.hold(a, keluarga, today),
            c => c.hold(a, keluarga, today),
        }
    }
}

/// [`Expr::member_cond`] of a boolean node.
fn member_cond(node: &Node) -> Option<MemberCond> {
    if let Some(q) = member_tests(node) {
        return Some(MemberCond::Tests(q));
    }
    let all = |items: &[Node]| items.iter().map(member_cond).collect::<Option<Box<_>>>();
    Some(match node {
        Node::And(items) => {
            // The items that are field tests (or conjunctions of them) go first, flat.
            let mut tests = Vec::new();
            let mut rest = Vec::new();
            for n in items.iter() {
                match member_tests(n) {
                    Some(q) if !q.any => tests.extend(q.tests.iter().copied()),
                    _ => rest.push(member_cond(n)?),
                }
            }
            merge_ranges(&mut tests, false);
            let rest = match <[MemberCond; 1]>::try_from(rest) {
                Ok([one]) => one,
                Err(many) => MemberCond::All(many.into()),
            };
            if tests.is_empty() {
                rest
            } else {
                let tests = MemberTests {
                    tests: tests.into(),
                    any: false,
                };
                MemberCond::Guarded(tests, Box::new(rest))
            }
        }
        Node::Or(items) => MemberCond::Any(all(items)?),
        Node::MemIn(_, slot, set, negate) => match Within::of_set(set)? {
            Within::Codes(bits) => {
                MemberCond::Codes(*MEMBER_RAW.get(usize::from(*slot))?, bits, *negate)
            }
            Within::Range(..) => return None,
        },
        Node::Aggregate(Agg::Any, Some(c), ..) => {
            MemberCond::AnyMember(Box::new(member_cond(&c.node)?))
        }
        Node::Cmp(op, a, k) => match (&**a, &**k) {
            (Node::DaysBetween(d, t), Node::Const(Value::Int(k))) => match (&**d, &**t) {
                (Node::Mem(get, slot), Node::Today) => {
                    let (lo, hi, negate) = cmp_range(*op, *k)?;
                    MemberCond::DaysSince(*get, *slot, lo, hi, negate)
                }
                _ => return None,
            },
            _ => return None,
        },
        _ => return None,
    })
}

/// The integers a direct test asks for: one range, or codes 0–63 as bits (a set
/// whose ranges do not join into one, e.g. `in {5, 7}`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Within {
    Range(i64, i64),
    Codes(u64),
}

impl Within {
    fn of_set(set: &[(i64, i64)]) -> Option<Within> {
        if let Some((lo, hi)) = joined_range(set) {
            return Some(Within::Range(lo, hi));
        }
        let mut bits = 0u64;
        for &(lo, hi) in set {
            if lo < 0 || hi > 63 {
                return None;
            }
            for x in lo..=hi {
                bits |= 1 << x;
            }
        }
        Some(Within::Codes(bits))
    }

    #[inline(always)]
    fn holds(self, x: i64) -> bool {
        match self {
            Within::Range(lo, hi) => lo <= x && x <= hi,
            Within::Codes(bits) => (0..64).contains(&x) && (bits >> x) & 1 == 1,
        }
    }
}

/// One test of a family slot in a [`QuickValue`] (see [`slot_range`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FamTest {
    slot: u16,
    within: Within,
    negate: bool,
    /// `== null` (`!= null` when `negate`) instead of `within`.
    null: bool,
}

impl FamTest {
    /// 0 false, 1 true, 2 null.
    #[inline(always)]
    fn truth(&self, family: &[Value; FAMILY_FIELDS]) -> u8 {
        let v = family
            .get(usize::from(self.slot))
            .copied()
            .unwrap_or(Value::Null);
        if self.null {
            return u8::from(v.is_null() != self.negate);
        }
        match v {
            Value::Int(x) => u8::from(self.within.holds(x) != self.negate),
            _ => 2,
        }
    }
}

/// An integer or boolean expression in a form read without the evaluator
/// ([`Expr::quick_value`]): [`QuickValue::get`] gives what [`Expr::eval`] gives, as an
/// integer (a boolean as 0 or 1), `None` for null.
#[derive(Clone, Debug)]
pub(crate) enum QuickValue {
    /// A family field.
    Fam(u16),
    /// One family slot test.
    FamTest(FamTest),
    /// Family slot tests joined by `and` (`or` when the flag is set), three-valued.
    FamTests(Box<[FamTest]>, bool),
    /// A `head.` field through its raw getter.
    Head(RawGet),
    /// A `head.` integer field within the set (outside when the flag is set).
    HeadTest(RawGet, Within, bool),
    /// `count()`: the active members.
    Members,
    /// `count(condition)`, the condition as member field tests.
    Count(MemberTests),
}

impl QuickValue {
    /// The value for a family read into `family` ([`crate::fields::read_family`]), with
    /// its single active head, if any, and its `members` active members.
    #[inline(always)]
    pub(crate) fn get(
        &self,
        keluarga: &Keluarga,
        family: &[Value; FAMILY_FIELDS],
        head: Option<&Anggota>,
        members: u32,
        today: Date,
    ) -> Option<i64> {
        match self {
            QuickValue::Fam(slot) => match family.get(usize::from(*slot))? {
                Value::Int(x) => Some(*x),
                Value::Bool(b) => Some(i64::from(*b)),
                _ => None,
            },
            QuickValue::FamTest(t) => match t.truth(family) {
                2 => None,
                r => Some(i64::from(r)),
            },
            QuickValue::FamTests(tests, any) => {
                // `and` stops at a false, `or` at a true.
                let stop = u8::from(*any);
                let mut all = true;
                for t in tests.iter() {
                    let r = t.truth(family);
                    if r == stop {
                        return Some(i64::from(stop));
                    }
                    all &= r != 2;
                }
                all.then_some(i64::from(1 - stop))
            }
            QuickValue::Head(raw) => match raw(head?, today) {
                RAW_NULL => None,
                x => Some(x),
            },
            QuickValue::HeadTest(raw, within, negate) => match raw(head?, today) {
                RAW_NULL => None,
                x => Some(i64::from(within.holds(x) != *negate)),
            },
            QuickValue::Members => Some(i64::from(members)),
            QuickValue::Count(q) => Some(q.count(keluarga, today)),
        }
    }
}

/// A set's ranges as one range `lo..=hi`, when they join into one.
fn joined_range(set: &[(i64, i64)]) -> Option<(i64, i64)> {
    let mut items = set.to_vec();
    items.sort_unstable();
    let (mut lo, mut hi) = *items.first()?;
    for &(a, b) in &items[1..] {
        if a > hi.checked_add(1)? {
            return None;
        }
        lo = lo.min(a);
        hi = hi.max(b);
    }
    Some((lo, hi))
}

/// `x <op> k` as `x` within `lo..=hi` (outside when `negate`).
fn cmp_range(op: CmpOp, k: i64) -> Option<(i64, i64, bool)> {
    Some(match op {
        CmpOp::Eq => (k, k, false),
        CmpOp::Ne => (k, k, true),
        CmpOp::Lt => (i64::MIN, k.checked_sub(1)?, false),
        CmpOp::Le => (i64::MIN, k, false),
        CmpOp::Gt => (k.checked_add(1)?, i64::MAX, false),
        CmpOp::Ge => (k, i64::MAX, false),
    })
}

/// One test of a slot (see [`slot_range`]): `(member, slot, lo, hi, negate, null)`.
pub(crate) type SlotTest = (bool, u16, i64, i64, bool, bool);

/// `Some((member, slot, lo, hi, negate, false))` when the node is one integer test
/// of a slot: `field <op> k`, `field in {…}` (ranges that join into one) or their
/// negations. It is then `null` when the slot holds no integer, else whether the
/// integer lies within `lo..=hi` (inverted when `negate`).
/// `Some((member, slot, _, _, negate, true))` when it is `field == null` (`!= null`
/// when `negate`), which is never null.
fn slot_range(node: &Node) -> Option<SlotTest> {
    match node {
        Node::MemCmpK(op, _, slot, k) => {
            cmp_range(*op, *k).map(|(lo, hi, n)| (true, *slot, lo, hi, n, false))
        }
        Node::FamCmpK(op, _, slot, k) => {
            cmp_range(*op, *k).map(|(lo, hi, n)| (false, *slot, lo, hi, n, false))
        }
        Node::MemIn(_, slot, set, negate) => {
            joined_range(set).map(|(lo, hi)| (true, *slot, lo, hi, *negate, false))
        }
        Node::FamIn(_, slot, set, negate) => {
            joined_range(set).map(|(lo, hi)| (false, *slot, lo, hi, *negate, false))
        }
        Node::MemIsNull(_, slot, negate) => Some((true, *slot, 0, 0, *negate, true)),
        Node::FamIsNull(_, slot, negate) => Some((false, *slot, 0, 0, *negate, true)),
        Node::In(a, set, negate) => {
            let (member, slot) = match **a {
                Node::Mem(_, slot) => (true, slot),
                Node::Fam(_, slot) => (false, slot),
                _ => return None,
            };
            joined_range(set).map(|(lo, hi)| (member, slot, lo, hi, *negate, false))
        }
        _ => None,
    }
}

/// Evaluates a node: the leaves (most conditions are one field test) inline, the
/// rest through [`eval_inner`], so a leaf costs no call.
#[inline(always)]
fn eval<R: Record>(node: &Node, env: &R) -> Value {
    if !R::INLINE_LEAVES {
        return eval_inner(node, env);
    }
    match leaf(node, env) {
        Some(v) => v,
        None => eval_inner(node, env),
    }
}

/// `match node` with the arms of the leaf nodes, then the given arms: one dispatch
/// for [`leaf`] and for [`eval_inner`] alike.
macro_rules! match_node {
    ($node:expr, $env:expr, { $($rest:tt)* }) => {
        match $node {
            Node::Const(v) => *v,
            Node::Fam(get, slot) => $env.fam(*get, *slot),
            Node::Mem(get, slot) => $env.mem(*get, *slot),
            Node::MemCmpK(op, get, slot, k) => match $env.mem_int(*get, *slot) {
                Some(x) => Bool(cmp_int(*op, x, *k)),
                None => Null,
            },
            Node::FamCmpK(op, get, slot, k) => match $env.fam(*get, *slot) {
                Int(x) => Bool(cmp_int(*op, x, *k)),
                _ => Null,
            },
            Node::MemIn(get, slot, set, negate) => match $env.mem_int(*get, *slot) {
                Some(x) => Bool(set.iter().any(|&(lo, hi)| lo <= x && x <= hi) != *negate),
                None => Null,
            },
            Node::FamIn(get, slot, set, negate) => match $env.fam(*get, *slot) {
                Int(x) => Bool(set.iter().any(|&(lo, hi)| lo <= x && x <= hi) != *negate),
                _ => Null,
            },
            Node::MemIsNull(get, slot, negate) => Bool($env.mem(*get, *slot).is_null() != *negate),
            Node::FamIsNull(get, slot, negate) => Bool($env.fam(*get, *slot).is_null() != *negate),
            // `head.` integer tests (scoring's head variables) as leaves: one getter
            // call each and no call of `eval_inner` besides. Integer fields (the
            // parser's types), so the raw integer is the value. Bare `head.` fields
            // and aggregates stay in `eval_inner`: as leaves, their code inlined at
            // every leaf site made validation 3 % slower under wasm32.
            Node::HeadCmpK(op, raw, k) => match $env.head_raw(*raw) {
                RAW_NULL => Null,
                x => Bool(cmp_int(*op, x, *k)),
            },
            Node::HeadIn(raw, set, negate) => match $env.head_raw(*raw) {
                RAW_NULL => Null,
                x => Bool(set.iter().any(|&(lo, hi)| lo <= x && x <= hi) != *negate),
            },
            $($rest)*
        }
    };
}

#[inline(always)]
fn leaf<R: Record>(node: &Node, env: &R) -> Option<Value> {
    use Value::*;
    Some(match_node!(node, env, { _ => return None, }))
}

/// An operand inside [`eval_inner`], handed to `f`: fields, `head.` fields,
/// aggregates, constants and `today` are read here, the leaves inline (through
/// [`eval_then`]), and only other inner nodes cost another call of [`eval_inner`].
/// Each arm applies `f` itself, so the arms join on `f`'s result (see
/// [`Expr::eval_in_then`]); the callers reduce the value to what they test.
#[inline(always)]
fn operand<R: Record, T>(node: &Node, env: &R, f: impl Fn(Value) -> T) -> T {
    match node {
        Node::Const(v) => f(*v),
        Node::Fam(get, slot) => f(env.fam(*get, *slot)),
        Node::Mem(get, slot) => f(env.mem(*get, *slot)),
        Node::Head(get, slot) => f(env.head(*get, *slot)),
        Node::Aggregate(agg, cond, _, cache) => f(env.aggregate(*agg, cond.as_deref(), *cache)),
        Node::Today => f(Value::Date(env.today())),
        _ => eval_then(node, env, f),
    }
}

/// [`eval`] with `f` applied on each path before they join.
#[inline(always)]
fn eval_then<R: Record, T>(node: &Node, env: &R, f: impl Fn(Value) -> T) -> T {
    if !R::INLINE_LEAVES {
        return f(eval_inner(node, env));
    }
    match leaf(node, env) {
        Some(v) => f(v),
        None => f(eval_inner(node, env)),
    }
}

/// The raw getter of member field `slot` (a slot the parser resolved, so always
/// present; a getter of nothing otherwise).
fn raw_getter(slot: u16) -> RawGet {
    MEMBER_RAW
        .get(usize::from(slot))
        .copied()
        .unwrap_or(|_, _| RAW_NULL)
}

/// A value reduced to what [`Node::And`], [`Node::Or`] and [`Node::Not`] read: 0 false,
/// 1 true, 2 anything else (null).
#[inline(always)]
fn truth(v: Value) -> u8 {
    match v {
        Value::Bool(b) => u8::from(b),
        _ => 2,
    }
}

/// An integer operand, or `None`.
#[inline(always)]
fn int_of(v: Value) -> Option<i64> {
    match v {
        Value::Int(x) => Some(x),
        _ => None,
    }
}

/// A date operand, or `None`.
#[inline(always)]
fn date_of(v: Value) -> Option<Date> {
    match v {
        Value::Date(d) => Some(d),
        _ => None,
    }
}

/// A comparable operand as (kind, key), ordered as the values are within a kind:
/// integers, dates (year, month, day) and booleans; `None` for null and text.
#[inline(always)]
fn cmp_key(v: Value) -> Option<(u8, i64)> {
    match v {
        Value::Int(x) => Some((0, x)),
        Value::Date(d) => Some((
            1,
            (i64::from(d.year()) << 16) | (i64::from(d.month()) << 8) | i64::from(d.day()),
        )),
        Value::Bool(b) => Some((2, i64::from(b))),
        _ => None,
    }
}

#[inline(never)]
fn eval_inner<R: Record>(node: &Node, env: &R) -> Value {
    use Value::*;
    match_node!(node, env, {
        Node::Today => Date(env.today()),
        Node::Head(get, slot) => env.head(*get, *slot),
        Node::Aggregate(agg, cond, _, cache) => env.aggregate(*agg, cond.as_deref(), *cache),
        Node::Neg(a) => match operand(a, env, int_of) {
            Some(x) => Int(x.wrapping_neg()),
            None => Null,
        },
        Node::Arith(op, a, b) => match (operand(a, env, int_of), operand(b, env, int_of)) {
            (Some(x), Some(y)) => match op {
                ArOp::Add => Int(x.wrapping_add(y)),
                ArOp::Sub => Int(x.wrapping_sub(y)),
                ArOp::Mul => Int(x.wrapping_mul(y)),
                ArOp::Div => x.checked_div(y).map_or(Null, Int),
                ArOp::Rem => x.checked_rem(y).map_or(Null, Int),
            },
            _ => Null,
        },
        Node::Cmp(op, a, b) => {
            let ord = match (operand(a, env, cmp_key), operand(b, env, cmp_key)) {
                (Some((kx, x)), Some((ky, y))) if kx == ky => x.cmp(&y),
                _ => return Null,
            };
            Bool(match op {
                CmpOp::Eq => ord.is_eq(),
                CmpOp::Ne => ord.is_ne(),
                CmpOp::Lt => ord.is_lt(),
                CmpOp::Le => ord.is_le(),
                CmpOp::Gt => ord.is_gt(),
                CmpOp::Ge => ord.is_ge(),
            })
        }
        Node::IsNull(a, negate) => Bool(operand(a, env, Value::is_null) != *negate),
        Node::In(a, set, negate) => match operand(a, env, int_of) {
            Some(x) => Bool(set.iter().any(|&(lo, hi)| lo <= x && x <= hi) != *negate),
            None => Null,
        },
        Node::And(items) => {
            let mut all = true;
            for n in items {
                match operand(n, env, truth) {
                    0 => return Bool(false),
                    1 => {}
                    _ => all = false,
                }
            }
            if all { Bool(true) } else { Null }
        }
        Node::Or(items) => {
            let mut all = true;
            for n in items {
                match operand(n, env, truth) {
                    1 => return Bool(true),
                    0 => {}
                    _ => all = false,
                }
            }
            if all { Bool(false) } else { Null }
        }
        Node::Not(a) => match operand(a, env, truth) {
            0 => Bool(true),
            1 => Bool(false),
            _ => Null,
        },
        Node::Present(a) => Bool(!operand(a, env, Value::is_null)),
        Node::YearsBetween(a, b) => match (operand(a, env, date_of), operand(b, env, date_of)) {
            (Some(x), Some(y)) => Int(i64::from(x.age_on(y))),
            _ => Null,
        },
        Node::DaysBetween(a, b) => match (operand(a, env, date_of), operand(b, env, date_of)) {
            (Some(x), Some(y)) => Int(y.days_since_epoch() - x.days_since_epoch()),
            _ => Null,
        },
        Node::MinMax(is_max, a, b) => match (operand(a, env, int_of), operand(b, env, int_of)) {
            (Some(x), Some(y)) => Int(if *is_max { x.max(y) } else { x.min(y) }),
            _ => Null,
        },
    })
}

fn cmp_int(op: CmpOp, x: i64, k: i64) -> bool {
    match op {
        CmpOp::Eq => x == k,
        CmpOp::Ne => x != k,
        CmpOp::Lt => x < k,
        CmpOp::Le => x <= k,
        CmpOp::Gt => x > k,
        CmpOp::Ge => x >= k,
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Int(i64),
    Str(String),
    Ident(String),
    Op(&'static str),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Int(n) => format!("number {n}"),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Op(s) => format!("`{s}`"),
        }
    }
}

struct Spanned {
    tok: Tok,
    /// 1-based character position.
    pos: usize,
}

const OPS: &[&str] = &[
    "==", "!=", "<=", ">=", "..", "<", ">", "+", "-", "*", "/", "%", "(", ")", "{", "}", ",", ".",
];

/// The longest source accepted; a rule is a line, not a program.
const MAX_SOURCE: usize = 4096;
/// The deepest nesting accepted, so parsing and evaluation cannot overflow the stack.
const MAX_DEPTH: usize = 64;
/// The most binary operators in one expression (bounds the depth of operator chains).
const MAX_OPS: usize = 256;

fn lex(source: &str) -> Result<Vec<Spanned>, ExprError> {
    if source.len() > MAX_SOURCE {
        return Err(ExprError {
            position: 1,
            message: format!("expression longer than {MAX_SOURCE} bytes"),
        });
    }
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let n = text.parse::<i64>().map_err(|_| ExprError {
                position: pos,
                message: format!("number {text} is too large"),
            })?;
            out.push(Spanned {
                tok: Tok::Int(n),
                pos,
            });
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Spanned {
                tok: Tok::Ident(chars[start..i].iter().collect()),
                pos,
            });
        } else if c == '"' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
            if i >= chars.len() {
                return Err(ExprError {
                    position: pos,
                    message: "unterminated string".into(),
                });
            }
            out.push(Spanned {
                tok: Tok::Str(chars[start..i].iter().collect()),
                pos,
            });
            i += 1;
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let op = OPS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or(ExprError {
                    position: pos,
                    message: format!("unexpected character {c:?}"),
                })?;
            i += op.len();
            out.push(Spanned {
                tok: Tok::Op(op),
                pos,
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- parser + type checker

struct Parser {
    tokens: Vec<Spanned>,
    at: usize,
    /// Member fields are in scope (member rule, or inside an aggregate).
    member: bool,
    depth: usize,
    /// Binary operators so far: chains like `1 + 1 + …` nest to the left without
    /// raising `depth`, so they are bounded separately.
    ops: usize,
}

type Typed = (Node, Type);

fn err<T>(position: usize, message: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError {
        position,
        message: message.into(),
    })
}

impl Parser {
    fn pos(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or_else(|| self.tokens.last().map_or(1, |t| t.pos + 1), |t| t.pos)
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|t| &t.tok)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w == word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, op: &str) -> Result<(), ExprError> {
        if self.eat_op(op) {
            Ok(())
        } else {
            let found = self
                .peek()
                .map_or_else(|| "end of expression".to_owned(), Tok::describe);
            err(self.pos(), format!("expected `{op}`, found {found}"))
        }
    }

    fn want(
        &self,
        pos: usize,
        (node, ty): Typed,
        want: Type,
        what: &str,
    ) -> Result<Node, ExprError> {
        if ty == want {
            Ok(node)
        } else {
            err(
                pos,
                format!("{what} needs {}, found {}", want.name(), ty.name()),
            )
        }
    }

    fn count_op(&mut self) -> Result<(), ExprError> {
        self.ops += 1;
        if self.ops > MAX_OPS {
            return err(
                self.pos(),
                format!("more than {MAX_OPS} operators in one expression"),
            );
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Typed, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(self.pos(), "expression nested too deeply");
        }
        let r = self.or();
        self.depth -= 1;
        r
    }

    fn or(&mut self) -> Result<Typed, ExprError> {
        let pos = self.pos();
        let mut first = Some(self.and()?);
        let mut items = Vec::new();
        while self.eat_word("or") {
            self.count_op()?;
            let rpos = self.pos();
            let right = self.and()?;
            if let Some(left) = first.take() {
                items.push(self.want(pos, left, Type::Bool, "`or`")?);
            }
            items.push(self.want(rpos, right, Type::Bool, "`or`")?);
        }
        // A chain is one node: three-valued `or` is associative.
        Ok(match first {
            Some(only) => only,
            None => (Node::Or(items.into()), Type::Bool),
        })
    }

    fn and(&mut self) -> Result<Typed, ExprError> {
        let pos = self.pos();
        let mut first = Some(self.not()?);
        let mut items = Vec::new();
        while self.eat_word("and") {
            self.count_op()?;
            let rpos = self.pos();
            let right = self.not()?;
            if let Some(left) = first.take() {
                items.push(self.want(pos, left, Type::Bool, "`and`")?);
            }
            items.push(self.want(rpos, right, Type::Bool, "`and`")?);
        }
        // A chain is one node: three-valued `and` is associative.
        Ok(match first {
            Some(only) => only,
            None => (Node::And(items.into()), Type::Bool),
        })
    }

    fn not(&mut self) -> Result<Typed, ExprError> {
        let pos = self.pos();
        if self.eat_word("not") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return err(pos, "expression nested too deeply");
            }
            let inner = self.not()?;
            self.depth -= 1;
            let n = self.want(pos, inner, Type::Bool, "`not`")?;
            return Ok((Node::Not(Box::new(n)), Type::Bool));
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Typed, ExprError> {
        let pos = self.pos();
        let left = self.sum()?;
        let op = match self.peek() {
            Some(Tok::Op("==")) => Some(CmpOp::Eq),
            Some(Tok::Op("!=")) => Some(CmpOp::Ne),
            Some(Tok::Op("<")) => Some(CmpOp::Lt),
            Some(Tok::Op("<=")) => Some(CmpOp::Le),
            Some(Tok::Op(">")) => Some(CmpOp::Gt),
            Some(Tok::Op(">=")) => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.at += 1;
            if matches!(op, CmpOp::Eq | CmpOp::Ne) && self.eat_word("null") {
                let negate = op == CmpOp::Ne;
                let node = match left.0 {
                    Node::Mem(g, slot) => Node::MemIsNull(g, slot, negate),
                    Node::Fam(g, slot) => Node::FamIsNull(g, slot, negate),
                    other => Node::IsNull(Box::new(other), negate),
                };
                return Ok((node, Type::Bool));
            }
            let right = self.sum()?;
            return compare(pos, op, left, right);
        }
        let negate = if matches!(self.peek(), Some(Tok::Ident(w)) if w == "not")
            && matches!(self.tokens.get(self.at + 1).map(|t| &t.tok), Some(Tok::Ident(w)) if w == "in")
        {
            self.at += 2;
            Some(true)
        } else if self.eat_word("in") {
            Some(false)
        } else {
            None
        };
        if let Some(negate) = negate {
            let l = self.want(pos, left, Type::Int, "`in`")?;
            let set = self.set()?;
            let node = match l {
                Node::Mem(g, slot) => Node::MemIn(g, slot, set, negate),
                Node::Head(_, slot) => Node::HeadIn(raw_getter(slot), set, negate),
                Node::Fam(g, slot) => Node::FamIn(g, slot, set, negate),
                other => Node::In(Box::new(other), set, negate),
            };
            return Ok((node, Type::Bool));
        }
        Ok(left)
    }

    fn set(&mut self) -> Result<Box<[(i64, i64)]>, ExprError> {
        self.expect_op("{")?;
        let mut items = Vec::new();
        loop {
            let lo = self.int_literal()?;
            let hi = if self.eat_op("..") {
                let pos = self.pos();
                let hi = self.int_literal()?;
                if hi < lo {
                    return err(pos, format!("empty range {lo}..{hi}"));
                }
                hi
            } else {
                lo
            };
            items.push((lo, hi));
            if self.eat_op("}") {
                break;
            }
            self.expect_op(",")?;
        }
        Ok(items.into_boxed_slice())
    }

    fn int_literal(&mut self) -> Result<i64, ExprError> {
        let neg = self.eat_op("-");
        match self.peek() {
            Some(Tok::Int(n)) => {
                let n = *n;
                self.at += 1;
                Ok(if neg { -n } else { n })
            }
            _ => err(self.pos(), "expected a whole number"),
        }
    }

    fn sum(&mut self) -> Result<Typed, ExprError> {
        let pos = self.pos();
        let mut left = self.product()?;
        loop {
            let op = if self.eat_op("+") {
                ArOp::Add
            } else if self.eat_op("-") {
                ArOp::Sub
            } else {
                return Ok(left);
            };
            self.count_op()?;
            let rpos = self.pos();
            let right = self.product()?;
            left = arith(pos, rpos, op, left, right, self)?;
        }
    }

    fn product(&mut self) -> Result<Typed, ExprError> {
        let pos = self.pos();
        let mut left = self.unary()?;
        loop {
            let op = if self.eat_op("*") {
                ArOp::Mul
            } else if self.eat_op("/") {
                ArOp::Div
            } else if self.eat_op("%") {
                ArOp::Rem
            } else {
                return Ok(left);
            };
            self.count_op()?;
            let rpos = self.pos();
            let right = self.unary()?;
            left = arith(pos, rpos, op, left, right, self)?;
        }
    }

    fn unary(&mut self) -> Result<Typed, ExprError> {
        let pos = self.pos();
        if self.eat_op("-") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return err(pos, "expression nested too deeply");
            }
            let inner = self.unary()?;
            self.depth -= 1;
            let n = self.want(pos, inner, Type::Int, "`-`")?;
            return Ok((Node::Neg(Box::new(n)), Type::Int));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Typed, ExprError> {
        let pos = self.pos();
        let Some(tok) = self.peek().cloned() else {
            return err(pos, "expression ends too early");
        };
        self.at += 1;
        match tok {
            Tok::Int(n) => Ok((Node::Const(Value::Int(n)), Type::Int)),
            Tok::Str(s) => err(
                pos,
                format!("a string {s:?} may only appear in date(\"YYYY-MM-DD\")"),
            ),
            Tok::Op("(") => {
                let inner = self.expr()?;
                self.expect_op(")")?;
                Ok(inner)
            }
            Tok::Op(o) => err(pos, format!("unexpected `{o}`")),
            Tok::Ident(word) => match word.as_str() {
                "true" => Ok((Node::Const(Value::Bool(true)), Type::Bool)),
                "false" => Ok((Node::Const(Value::Bool(false)), Type::Bool)),
                "today" => Ok((Node::Today, Type::Date)),
                "null" => err(pos, "`null` may only be compared with `==` or `!=`"),
                _ if self.eat_op("(") => self.call(pos, &word),
                _ => self.field(pos, word),
            },
        }
    }

    fn field(&mut self, pos: usize, first: String) -> Result<Typed, ExprError> {
        let mut name = first;
        while self.eat_op(".") {
            match self.peek() {
                Some(Tok::Ident(w)) => {
                    name.push('.');
                    name.push_str(w);
                    self.at += 1;
                }
                _ => return err(self.pos(), "expected a field name after `.`"),
            }
        }
        let (head, lookup) = match name.strip_prefix("head.") {
            Some(rest) => (true, rest),
            None => (false, name.as_str()),
        };
        let Some((def, slot)) = field_slot(lookup) else {
            return err(pos, format!("unknown field `{name}`"));
        };
        let (ty, get) = (def.ty, def.get);
        // Slots index arrays of fewer than a hundred fields.
        let slot = slot as u16;
        match (get, head) {
            (Getter::Keluarga(g), false) => Ok((Node::Fam(g, slot), ty)),
            (Getter::Keluarga(_), true) => err(
                pos,
                format!("`{lookup}` is a family field, not a member field"),
            ),
            (Getter::Anggota(g), true) => Ok((Node::Head(g, slot), ty)),
            (Getter::Anggota(g), false) if self.member => Ok((Node::Mem(g, slot), ty)),
            (Getter::Anggota(_), false) => err(
                pos,
                format!(
                    "member field `{name}` used in a family rule; use it inside count/any/all or as head.{name}"
                ),
            ),
        }
    }

    fn args(&mut self, member: bool) -> Result<Vec<(usize, Typed)>, ExprError> {
        let saved = self.member;
        self.member = member;
        let mut args = Vec::new();
        if !self.eat_op(")") {
            loop {
                let pos = self.pos();
                args.push((pos, self.expr()?));
                if self.eat_op(")") {
                    break;
                }
                self.expect_op(",")?;
            }
        }
        self.member = saved;
        Ok(args)
    }

    fn call(&mut self, pos: usize, name: &str) -> Result<Typed, ExprError> {
        if name == "date" {
            let spos = self.pos();
            let text = match self.peek() {
                Some(Tok::Str(s)) => s.clone(),
                _ => return err(spos, "date() takes a string \"YYYY-MM-DD\""),
            };
            self.at += 1;
            self.expect_op(")")?;
            let d = Date::parse(&text).map_err(|e| ExprError {
                position: spos,
                message: format!("{e}: {text:?}"),
            })?;
            return Ok((Node::Const(Value::Date(d)), Type::Date));
        }
        let aggregate = matches!(name, "count" | "any" | "all");
        // The call's tokens from its name (the name and `(` are consumed).
        let first = self.at - 2;
        let args = self.args(aggregate || self.member)?;
        let key: Box<str> = self.tokens[first..self.at]
            .iter()
            .map(|t| t.tok.describe())
            .collect::<Vec<_>>()
            .join(" ")
            .into();
        let given = args.len();
        let arity = |n: usize| -> Result<(), ExprError> {
            if given == n {
                Ok(())
            } else {
                err(
                    pos,
                    format!("{name}() takes {n} argument(s), found {given}"),
                )
            }
        };
        let mut it = args.into_iter();
        let mut next = |this: &Parser, want: Type| -> Result<Node, ExprError> {
            let (apos, typed) = it.next().ok_or(ExprError {
                position: pos,
                message: format!("{name}() is missing an argument"),
            })?;
            this.want(apos, typed, want, &format!("{name}()"))
        };
        match name {
            "count" if given == 0 => {
                Ok((Node::Aggregate(Agg::Count, None, key, NO_CACHE), Type::Int))
            }
            "count" | "any" | "all" => {
                arity(1)?;
                let agg = match name {
                    "count" => Agg::Count,
                    "any" => Agg::Any,
                    _ => Agg::All,
                };
                let cond = next(self, Type::Bool)?;
                let ty = if agg == Agg::Count {
                    Type::Int
                } else {
                    Type::Bool
                };
                Ok((
                    Node::Aggregate(
                        agg,
                        Some(Box::new(AggCond {
                            quick: member_tests(&cond),
                            node: cond,
                        })),
                        key,
                        NO_CACHE,
                    ),
                    ty,
                ))
            }
            "present" => {
                arity(1)?;
                let (_, (node, _)) = it.next().ok_or(ExprError {
                    position: pos,
                    message: "present() is missing an argument".into(),
                })?;
                Ok((Node::Present(Box::new(node)), Type::Bool))
            }
            "years_between" | "days_between" => {
                arity(2)?;
                let a = Box::new(next(self, Type::Date)?);
                let b = Box::new(next(self, Type::Date)?);
                let node = if name == "years_between" {
                    Node::YearsBetween(a, b)
                } else {
                    Node::DaysBetween(a, b)
                };
                Ok((node, Type::Int))
            }
            "min" | "max" => {
                arity(2)?;
                let a = Box::new(next(self, Type::Int)?);
                let b = Box::new(next(self, Type::Int)?);
                Ok((Node::MinMax(name == "max", a, b), Type::Int))
            }
            _ => err(pos, format!("unknown function `{name}`")),
        }
    }
}

fn compare(pos: usize, op: CmpOp, left: Typed, right: Typed) -> Result<Typed, ExprError> {
    let (l, lt) = left;
    let (r, rt) = right;
    if lt != rt {
        return err(
            pos,
            format!("cannot compare {} with {}", lt.name(), rt.name()),
        );
    }
    let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
    if lt == Type::Text || (ordered && lt == Type::Bool) {
        return err(
            pos,
            format!(
                "{} values cannot be compared with this operator; use present()",
                lt.name()
            ),
        );
    }
    let node = match (l, r) {
        (Node::Mem(g, slot), Node::Const(Value::Int(k))) => Node::MemCmpK(op, g, slot, k),
        (Node::Head(_, slot), Node::Const(Value::Int(k))) => {
            Node::HeadCmpK(op, raw_getter(slot), k)
        }
        (Node::Fam(g, slot), Node::Const(Value::Int(k))) => Node::FamCmpK(op, g, slot, k),
        (l, r) => Node::Cmp(op, Box::new(l), Box::new(r)),
    };
    Ok((node, Type::Bool))
}

fn arith(
    pos: usize,
    rpos: usize,
    op: ArOp,
    left: Typed,
    right: Typed,
    p: &Parser,
) -> Result<Typed, ExprError> {
    let l = p.want(pos, left, Type::Int, "arithmetic")?;
    let r = p.want(rpos, right, Type::Int, "arithmetic")?;
    Ok((Node::Arith(op, Box::new(l), Box::new(r)), Type::Int))
}
