//! Type rules and node building: field names resolved to slots, and a field compared
//! with a constant or tested against a set fused into one [`Node::Test`]. Also the
//! numbering of aggregates, so equal aggregates of one rule set share a result.

use std::collections::BTreeMap;

use super::ExprError;
use super::engine::{AGGREGATE_CACHE, CmpOp, Node, Place, Within};
use crate::fields::{self, Scope, Type, Value};

/// A node and its static type.
pub(super) type Typed = (Node, Type);

/// A field by name (`head.` for the head's member field), with member fields allowed
/// when `member`.
pub(super) fn field(name: &str, member: bool) -> Result<Typed, String> {
    let (head, lookup) = match name.strip_prefix("head.") {
        Some(rest) => (true, rest),
        None => (false, name),
    };
    let Some(def) = fields::field(lookup) else {
        return Err(format!("unknown field `{name}`"));
    };
    let place = match (def.scope, head) {
        (Scope::Keluarga, false) => Place::Fam(def.slot),
        (Scope::Keluarga, true) => {
            return Err(format!("`{lookup}` is a family field, not a member field"));
        }
        (Scope::Anggota, true) => Place::Head(def.slot),
        (Scope::Anggota, false) if member => Place::Mem(def.slot),
        (Scope::Anggota, false) => {
            return Err(format!(
                "member field `{name}` used in a family rule; use it inside count/any/all or as head.{name}"
            ));
        }
    };
    Ok((Node::Field(place), def.ty))
}

/// `left == null` (`!= null` when `negate`).
pub(super) fn is_null(left: Node, negate: bool) -> Node {
    match left {
        Node::Field(p) => Node::FieldIsNull(p, negate),
        other => Node::IsNull(Box::new(other), negate),
    }
}

/// `left in {set}` (`not in` when `negate`) of an integer operand.
pub(super) fn in_set(left: Node, set: &[(i64, i64)], negate: bool) -> Node {
    let within = within(set);
    match left {
        Node::Field(p) => test(p, within, negate),
        other => Node::In(Box::new(other), within, negate),
    }
}

/// `place` tested against `within`: [`Node::MemberIn`] for one range of the member at
/// hand, else [`Node::Test`].
fn test(place: Place, within: Within, negate: bool) -> Node {
    match (place, within) {
        (Place::Mem(s), Within::Range(lo, hi)) => Node::MemberIn(s, lo, hi, negate),
        (place, within) => Node::Test(place, within, negate),
    }
}

/// A test of one range that is not negated, as its place and bounds.
fn range_test(node: &Node) -> Option<(Place, i64, i64)> {
    match *node {
        Node::Test(p, Within::Range(lo, hi), false) => Some((p, lo, hi)),
        Node::MemberIn(s, lo, hi, false) => Some((Place::Mem(s), lo, hi)),
        _ => None,
    }
}

/// `a and b and …`, with range tests of one field joined into one test (`age >= 7
/// and age <= 18` tests `age` once): both are null when the field holds no integer,
/// else the conjunction is the intersection. One item left is the node itself.
pub(super) fn and(items: Vec<Node>) -> Node {
    let mut out: Vec<Node> = Vec::with_capacity(items.len());
    for item in items {
        if let Some((p, lo, hi)) = range_test(&item) {
            let same = out.iter_mut().find_map(|n| match range_test(n) {
                Some((q, a, b)) if q == p => Some((n, a, b)),
                _ => None,
            });
            if let Some((n, a, b)) = same {
                *n = test(p, Within::Range(a.max(lo), b.min(hi)), false);
                continue;
            }
        }
        out.push(item);
    }
    if out.len() == 1 {
        out.pop().expect("one item")
    } else {
        Node::And(out.into())
    }
}

/// A set's ranges as one range when they join into one, else as bits when all lie in
/// 0..=63, else as they are.
fn within(set: &[(i64, i64)]) -> Within {
    let mut items = set.to_vec();
    items.sort_unstable();
    let joined = items.split_first().and_then(|(&(lo, mut hi), rest)| {
        for &(a, b) in rest {
            if a > hi.checked_add(1)? {
                return None;
            }
            hi = hi.max(b);
        }
        Some((lo, hi))
    });
    if let Some((lo, hi)) = joined {
        return Within::Range(lo, hi);
    }
    if items.iter().all(|&(lo, hi)| lo >= 0 && hi <= 63) {
        let bits = items
            .iter()
            .flat_map(|&(lo, hi)| lo..=hi)
            .fold(0u64, |b, x| b | 1 << x);
        return Within::Codes(bits);
    }
    Within::Ranges(items.into())
}

/// `x <op> k` as `x` within `lo..=hi` (outside when the flag is set).
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

/// `left <op> right`, both of one comparable type.
pub(super) fn compare(
    pos: usize,
    op: CmpOp,
    left: Typed,
    right: Typed,
) -> Result<Typed, ExprError> {
    let (l, lt) = left;
    let (r, rt) = right;
    let fail = |message: String| {
        Err(ExprError {
            position: pos,
            message,
        })
    };
    if lt != rt {
        return fail(format!("cannot compare {} with {}", lt.name(), rt.name()));
    }
    let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
    if lt == Type::Text || (ordered && lt == Type::Bool) {
        return fail(format!(
            "{} values cannot be compared with this operator; use present()",
            lt.name()
        ));
    }
    let node = match (l, r) {
        // An integer compared with a constant: a range test, of the field itself when
        // it is one.
        (l, Node::Const(Value::Int(k))) => match (cmp_range(op, k), l) {
            (Some((lo, hi, negate)), Node::Field(p)) => test(p, Within::Range(lo, hi), negate),
            (Some((lo, hi, negate)), l) => Node::In(Box::new(l), Within::Range(lo, hi), negate),
            (None, l) => Node::Cmp(op, Box::new(l), Box::new(Node::Const(Value::Int(k)))),
        },
        (l, r) => Node::Cmp(op, Box::new(l), Box::new(r)),
    };
    Ok((node, Type::Bool))
}

/// Gives each aggregate of `node` a cache slot, shared by aggregates with the same
/// text across all nodes numbered with the same `slots` (one rule set).
pub(super) fn number_aggregates(node: &mut Node, slots: &mut BTreeMap<Box<str>, u16>) {
    match node {
        Node::Const(_)
        | Node::Today
        | Node::Field(_)
        | Node::Test(..)
        | Node::MemberIn(..)
        | Node::FieldIsNull(..) => {}
        Node::Neg(a) | Node::IsNull(a, _) | Node::In(a, ..) | Node::Not(a) | Node::Present(a) => {
            number_aggregates(a, slots)
        }
        Node::Arith(_, a, b)
        | Node::Cmp(_, a, b)
        | Node::YearsBetween(a, b)
        | Node::DaysBetween(a, b)
        | Node::MinMax(_, a, b) => {
            number_aggregates(a, slots);
            number_aggregates(b, slots);
        }
        Node::And(items) | Node::Or(items) => {
            for n in items {
                number_aggregates(n, slots);
            }
        }
        Node::Aggregate(_, cond, key, slot) => {
            if let Some(c) = cond {
                number_aggregates(c, slots);
            }
            let next = slots.len();
            if next < AGGREGATE_CACHE || slots.contains_key(key) {
                *slot = *slots.entry(key.clone()).or_insert(next as u16);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::date::Date;
    use crate::expr::Expr;
    use crate::fields::{Scope, Value};
    use crate::model::Keluarga;

    /// Joined range tests give what the unjoined `not (… or …)` form gives, for
    /// answers inside, at the edges of and outside the range, and unanswered.
    #[test]
    fn joined_range_tests_keep_three_valued_and() {
        let mut k: Keluarga = serde_json::from_str(include_str!(
            "../../../../tests/vectors/households/sample.json"
        ))
        .expect("sample parses");
        let today = Date::parse("2026-06-30").expect("date");
        let joined = Expr::compile(
            "work_hours >= 7 and work_hours <= 18 and work_hours != 10",
            Scope::Anggota,
        )
        .expect("compiles");
        let plain = Expr::compile(
            "not (work_hours < 7 or work_hours > 18 or work_hours == 10)",
            Scope::Anggota,
        )
        .expect("compiles");
        for (hours, want) in [
            (None, Value::Null),
            (Some(6), Value::Bool(false)),
            (Some(7), Value::Bool(true)),
            (Some(10), Value::Bool(false)),
            (Some(18), Value::Bool(true)),
            (Some(19), Value::Bool(false)),
        ] {
            k.anggota[0].work_hours = hours;
            assert_eq!(joined.eval_on(&k, Some(0), today), want, "{hours:?}");
            assert_eq!(plain.eval_on(&k, Some(0), today), want, "{hours:?}");
        }
        let empty =
            Expr::compile("work_hours > 18 and work_hours < 7", Scope::Anggota).expect("compiles");
        k.anggota[0].work_hours = Some(10);
        assert_eq!(empty.eval_on(&k, Some(0), today), Value::Bool(false));
        k.anggota[0].work_hours = None;
        assert_eq!(empty.eval_on(&k, Some(0), today), Value::Null);
    }
}
