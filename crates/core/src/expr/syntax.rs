//! The expression language's syntax: the lexer, and the recursive-descent parser that
//! type-checks as it goes and builds the engine's nodes through [`super::compile`].

use super::ExprError;
use super::compile::{self, Typed};
use super::engine::{Agg, ArOp, CmpOp, NO_CACHE, Node};
use crate::date::Date;
use crate::fields::{Type, Value};

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

    fn arith(
        &self,
        pos: usize,
        rpos: usize,
        op: ArOp,
        left: Typed,
        right: Typed,
    ) -> Result<Typed, ExprError> {
        let l = self.want(pos, left, Type::Int, "arithmetic")?;
        let r = self.want(rpos, right, Type::Int, "arithmetic")?;
        Ok((Node::Arith(op, Box::new(l), Box::new(r)), Type::Int))
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
            None => (compile::and(items), Type::Bool),
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
                return Ok((compile::is_null(left.0, op == CmpOp::Ne), Type::Bool));
            }
            let right = self.sum()?;
            return compile::compare(pos, op, left, right);
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
            return Ok((compile::in_set(l, &set, negate), Type::Bool));
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
            left = self.arith(pos, rpos, op, left, right)?;
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
            left = self.arith(pos, rpos, op, left, right)?;
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
        compile::field(&name, self.member).map_err(|message| ExprError {
            position: pos,
            message,
        })
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
                    Node::Aggregate(agg, Some(Box::new(cond)), key, NO_CACHE),
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

/// Parses and type-checks `source`, with member fields in scope when `member`.
pub(super) fn parse(source: &str, member: bool) -> Result<Typed, ExprError> {
    let mut p = Parser {
        tokens: lex(source)?,
        at: 0,
        member,
        depth: 0,
        ops: 0,
    };
    let typed = p.expr()?;
    if let Some(t) = p.tokens.get(p.at) {
        return err(t.pos, format!("unexpected {}", t.tok.describe()));
    }
    Ok(typed)
}
