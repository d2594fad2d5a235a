//! The rulebook's expression language: small, typed, safe.
//!
//! In the spirit of XLSForm `relevant`/`constraint` and DHIS2 program rules. There are
//! no loops (only the bounded member aggregates), no assignment and no IO. An
//! expression is parsed and type-checked once, when its rule set loads ([`syntax`],
//! [`compile`]), into a tree of the one engine ([`engine`]) whose field references are
//! slots of a family read once into slot arrays; evaluation allocates nothing.
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

mod compile;
mod engine;
mod syntax;

use std::collections::BTreeMap;
use std::fmt;

use engine::Node;
pub(crate) use engine::{At, Layout, Record};

use crate::date::Date;
use crate::fields::{Scope, Type, Value};
use crate::model::Keluarga;

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
        let (node, ty) = syntax::parse(source, scope == Scope::Anggota)?;
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

    /// The value for `keluarga` on `today`, with member `member` (an index into
    /// `anggota`) at hand for a member-scope expression.
    pub fn eval_on(&self, keluarga: &Keluarga, member: Option<usize>, today: Date) -> Value {
        let rec = Record::read(keluarga, today, &Layout::ALL);
        match member {
            Some(i) => self.eval(rec.member(i)),
            None => self.eval(rec.family()),
        }
    }

    #[inline(always)]
    pub(crate) fn eval(&self, at: At) -> Value {
        engine::eval_inline(&self.node, at)
    }

    /// True only when the expression evaluates to `true`.
    #[inline]
    pub(crate) fn holds(&self, at: At) -> bool {
        self.eval(at) == Value::Bool(true)
    }

    /// Gives each aggregate a cache slot in the [`Record`], shared by aggregates with
    /// the same text across all expressions numbered with the same `slots` (one rule
    /// set: a rulebook, a ranking model or a programs file).
    pub(crate) fn number_aggregates(&mut self, slots: &mut BTreeMap<Box<str>, u16>) {
        compile::number_aggregates(&mut self.node, slots);
    }

    /// Adds the slots the expression reads to `layout`.
    pub(crate) fn read_into(&self, layout: &mut Layout) {
        layout.add(&self.node);
    }
}
