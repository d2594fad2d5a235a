//! The one engine: compiled expressions ([`Node`]) evaluated over one record layout
//! ([`Record`]: the family and every member read once into slot arrays).
//!
//! Validation, relevance, rule conditions, aggregates, the ranking model and the
//! program rules all evaluate here, on every target. Evaluation allocates nothing
//! and passes values by copy.

use std::cell::Cell;

use crate::date::Date;
use crate::fields::{FAMILY_FIELDS, MEMBER_FIELDS, Value, read_family, read_member};
use crate::model::Keluarga;

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

/// Where a field is read: a family slot, a slot of the member at hand, or a slot of
/// the family's single active head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    Fam(u16),
    Mem(u16),
    Head(u16),
}

/// A set of integers tested by one node: one range, codes 0–63 as bits, or ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Within {
    Range(i64, i64),
    Codes(u64),
    Ranges(Box<[(i64, i64)]>),
}

impl Within {
    #[inline(always)]
    pub(crate) fn holds(&self, x: i64) -> bool {
        match self {
            Within::Range(lo, hi) => *lo <= x && x <= *hi,
            Within::Codes(bits) => (0..64).contains(&x) && (bits >> x) & 1 == 1,
            Within::Ranges(set) => set.iter().any(|&(lo, hi)| lo <= x && x <= hi),
        }
    }
}

/// No aggregate cache slot assigned.
pub(crate) const NO_CACHE: u16 = u16::MAX;

/// A compiled expression node. The explicit tag byte makes a node's kind one load (a
/// niche-packed tag costs a few instructions more at every dispatch).
#[derive(Clone, Debug)]
#[repr(u8)]
pub(crate) enum Node {
    Const(Value),
    Today,
    Field(Place),
    /// `field <op> k` and `field in {…}` fused: null when the field holds no integer,
    /// else whether it lies within the set (outside when the flag is set).
    Test(Place, Within, bool),
    /// `Test` of a member field of the member at hand against one range, the commonest
    /// leaf of a rulebook (`age >= 5`, `relationship == 2`): one slot read, no set to
    /// look into.
    MemberIn(u16, i64, i64, bool),
    /// `field == null` (`!= null` when the flag is set).
    FieldIsNull(Place, bool),
    Neg(Box<Node>),
    Arith(ArOp, Box<Node>, Box<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    IsNull(Box<Node>, bool),
    In(Box<Node>, Within, bool),
    /// `a and b and …`: false if any is false, true if all are true, else null.
    And(Box<[Node]>),
    /// `a or b or …`: true if any is true, false if all are false, else null.
    Or(Box<[Node]>),
    Not(Box<Node>),
    /// The aggregate, its condition, its canonical text (for sharing a cache slot
    /// between equal aggregates) and its cache slot in [`Record`].
    Aggregate(Agg, Option<Box<Node>>, Box<str>, u16),
    Present(Box<Node>),
    YearsBetween(Box<Node>, Box<Node>),
    DaysBetween(Box<Node>, Box<Node>),
    MinMax(bool, Box<Node>, Box<Node>),
}

/// The slots a rule set reads, one bit per slot of each scope: what [`Record::read`]
/// reads of a family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    pub family: u64,
    pub member: u64,
}

impl Layout {
    /// Every slot.
    pub(crate) const ALL: Layout = Layout {
        family: u64::MAX,
        member: u64::MAX,
    };

    /// Adds the slots `node` reads.
    pub(crate) fn add(&mut self, node: &Node) {
        let mut place = |p: &Place| match *p {
            Place::Fam(s) => self.family |= 1 << s,
            Place::Mem(s) | Place::Head(s) => self.member |= 1 << s,
        };
        match node {
            Node::Const(_) | Node::Today => {}
            Node::Field(p) | Node::Test(p, ..) | Node::FieldIsNull(p, _) => place(p),
            Node::MemberIn(s, ..) => self.member |= 1 << s,
            Node::Neg(a)
            | Node::IsNull(a, _)
            | Node::In(a, ..)
            | Node::Not(a)
            | Node::Present(a) => self.add(a),
            Node::Arith(_, a, b)
            | Node::Cmp(_, a, b)
            | Node::YearsBetween(a, b)
            | Node::DaysBetween(a, b)
            | Node::MinMax(_, a, b) => {
                self.add(a);
                self.add(b);
            }
            Node::And(items) | Node::Or(items) => items.iter().for_each(|n| self.add(n)),
            Node::Aggregate(_, cond, ..) => cond.iter().for_each(|c| self.add(c)),
        }
    }
}

/// The most aggregate results a [`Record`] keeps.
pub(crate) const AGGREGATE_CACHE: usize = 16;

/// One member read into slots.
#[derive(Clone, Debug)]
pub(crate) struct MemberSlots {
    pub slots: [Value; MEMBER_FIELDS],
    pub active: bool,
}

/// A family read once into slots: the record layout every expression reads.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) today: Date,
    pub(crate) family: [Value; FAMILY_FIELDS],
    /// Every member, in record order (active or not).
    pub(crate) members: Vec<MemberSlots>,
    /// The single active head's index in `members`, if exactly one.
    pub(crate) head: Option<usize>,
    /// Aggregate results, computed on first use (aggregates are family values).
    aggregates: [Cell<Option<Value>>; AGGREGATE_CACHE],
}

impl Record {
    /// Reads `keluarga` on `today`: the family's slots of `layout`, then each member's
    /// (the others stay null).
    pub(crate) fn read(keluarga: &Keluarga, today: Date, layout: &Layout) -> Record {
        let head = keluarga
            .head()
            .and_then(|h| keluarga.anggota.iter().position(|a| std::ptr::eq(a, h)));
        let unread = MemberSlots {
            slots: [Value::Null; MEMBER_FIELDS],
            active: false,
        };
        let mut rec = Record {
            today,
            family: [Value::Null; FAMILY_FIELDS],
            members: vec![unread; keluarga.anggota.len()],
            head,
            aggregates: Default::default(),
        };
        // Read in place: an array returned by value is copied once more.
        read_family(keluarga, layout.family, &mut rec.family);
        for (m, a) in rec.members.iter_mut().zip(&keluarga.anggota) {
            m.active = a.is_active();
            read_member(a, today, layout.member, &mut m.slots);
        }
        rec
    }

    /// The active members' count.
    pub(crate) fn active_members(&self) -> u32 {
        self.members.iter().filter(|m| m.active).count() as u32
    }

    /// The family scope: no member at hand (member fields read as null).
    #[inline(always)]
    pub(crate) fn family(&self) -> At<'_> {
        At {
            rec: self,
            member: &NO_MEMBER,
        }
    }

    /// Member `i` at hand (null member fields past the last member).
    #[inline(always)]
    pub(crate) fn member(&self, i: usize) -> At<'_> {
        At {
            rec: self,
            member: self.members.get(i).map_or(&NO_MEMBER, |m| &m.slots),
        }
    }

    /// The active members, each at hand, with their index.
    pub(crate) fn active(&self) -> impl Iterator<Item = (usize, At<'_>)> {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.active)
            .map(|(i, m)| {
                (
                    i,
                    At {
                        rec: self,
                        member: &m.slots,
                    },
                )
            })
    }

    #[inline(never)]
    fn aggregate(&self, agg: Agg, cond: Option<&Node>, cache: u16) -> Value {
        let cell = self.aggregates.get(usize::from(cache));
        if let Some(v) = cell.and_then(Cell::get) {
            return v;
        }
        let mut n = 0i64;
        let mut found = None;
        for (_, at) in self.active() {
            let ok = cond.is_none_or(|c| eval_inline(c, at) == Value::Bool(true));
            match (agg, ok) {
                (Agg::Any, true) => found = Some(true),
                (Agg::All, false) => found = Some(false),
                (_, true) => n += 1,
                _ => {}
            }
            if found.is_some() {
                break;
            }
        }
        let v = match (agg, found) {
            (Agg::Count, _) => Value::Int(n),
            (_, Some(b)) => Value::Bool(b),
            (Agg::Any, None) => Value::Bool(false),
            (Agg::All, None) => Value::Bool(true),
        };
        if let Some(cell) = cell {
            cell.set(Some(v));
        }
        v
    }
}

/// The member fields of no member: what member fields read at the family scope.
static NO_MEMBER: [Value; MEMBER_FIELDS] = [Value::Null; MEMBER_FIELDS];

/// A [`Record`] with the member at hand ([`NO_MEMBER`] at the family scope): what an
/// expression is evaluated at.
#[derive(Clone, Copy)]
pub(crate) struct At<'r> {
    rec: &'r Record,
    member: &'r [Value; MEMBER_FIELDS],
}

impl At<'_> {
    #[inline(always)]
    fn read(self, place: Place) -> Value {
        let (slots, slot): (&[Value], u16) = match place {
            Place::Fam(s) => (&self.rec.family, s),
            Place::Mem(s) => (self.member, s),
            Place::Head(s) => match self.rec.head.and_then(|h| self.rec.members.get(h)) {
                Some(m) => (&m.slots, s),
                None => return Value::Null,
            },
        };
        slots.get(usize::from(slot)).copied().unwrap_or(Value::Null)
    }
}

/// A value reduced to what `and`, `or` and `not` read: 0 false, 1 true, 2 null.
#[inline(always)]
fn truth(v: Value) -> u8 {
    match v {
        Value::Bool(b) => u8::from(b),
        _ => 2,
    }
}

#[inline(always)]
fn int_of(v: Value) -> Option<i64> {
    match v {
        Value::Int(x) => Some(x),
        _ => None,
    }
}

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

/// [`eval`] with the leaves (constants, fields, field tests: most conditions, most
/// operands and most items of `and` / `or`) decided inline at the call site, without
/// a call.
#[inline(always)]
pub(crate) fn eval_inline(node: &Node, at: At) -> Value {
    match node {
        Node::MemberIn(s, lo, hi, negate) => member_in(at, *s, *lo, *hi, *negate),
        Node::Test(p, within, negate) => test(at.read(*p), within, *negate),
        Node::FieldIsNull(p, negate) => Value::Bool(at.read(*p).is_null() != *negate),
        Node::Field(p) => at.read(*p),
        Node::Const(v) => *v,
        _ => eval(node, at),
    }
}

#[inline(always)]
fn member_in(at: At, slot: u16, lo: i64, hi: i64, negate: bool) -> Value {
    match at.member.get(usize::from(slot)) {
        Some(Value::Int(x)) => Value::Bool((lo <= *x && *x <= hi) != negate),
        _ => Value::Null,
    }
}

#[inline(always)]
fn test(v: Value, within: &Within, negate: bool) -> Value {
    match v {
        Value::Int(x) => Value::Bool(within.holds(x) != negate),
        _ => Value::Null,
    }
}

/// Evaluates a node at a record. Each kind's work is its own small function, so one
/// level of a deep expression costs a small stack frame on every build (a debug build
/// keeps every arm's temporaries in the frame of the function that holds them).
#[inline(never)]
pub(crate) fn eval(node: &Node, at: At) -> Value {
    match node {
        Node::Const(v) => *v,
        Node::Today => Value::Date(at.rec.today),
        Node::Field(p) => at.read(*p),
        Node::Test(p, within, negate) => test(at.read(*p), within, *negate),
        Node::MemberIn(s, lo, hi, negate) => member_in(at, *s, *lo, *hi, *negate),
        Node::FieldIsNull(p, negate) => Value::Bool(at.read(*p).is_null() != *negate),
        Node::Neg(a) => neg(a, at),
        Node::Arith(op, a, b) => arith(*op, a, b, at),
        Node::Cmp(op, a, b) => compare(*op, a, b, at),
        Node::IsNull(a, negate) => Value::Bool(eval_inline(a, at).is_null() != *negate),
        Node::In(a, within, negate) => test(eval_inline(a, at), within, *negate),
        Node::And(items) => and(items, at),
        Node::Or(items) => or(items, at),
        Node::Not(a) => not(a, at),
        Node::Aggregate(agg, cond, _, cache) => at.rec.aggregate(*agg, cond.as_deref(), *cache),
        Node::Present(a) => Value::Bool(!eval_inline(a, at).is_null()),
        Node::YearsBetween(a, b) => years_between(a, b, at),
        Node::DaysBetween(a, b) => days_between(a, b, at),
        Node::MinMax(is_max, a, b) => min_max(*is_max, a, b, at),
    }
}

#[inline]
fn neg(a: &Node, at: At) -> Value {
    int_of(eval_inline(a, at)).map_or(Value::Null, |x| Value::Int(x.wrapping_neg()))
}

#[inline]
fn arith(op: ArOp, a: &Node, b: &Node, at: At) -> Value {
    let (Some(x), Some(y)) = (int_of(eval_inline(a, at)), int_of(eval_inline(b, at))) else {
        return Value::Null;
    };
    match op {
        ArOp::Add => Value::Int(x.wrapping_add(y)),
        ArOp::Sub => Value::Int(x.wrapping_sub(y)),
        ArOp::Mul => Value::Int(x.wrapping_mul(y)),
        ArOp::Div => x.checked_div(y).map_or(Value::Null, Value::Int),
        ArOp::Rem => x.checked_rem(y).map_or(Value::Null, Value::Int),
    }
}

#[inline]
fn compare(op: CmpOp, a: &Node, b: &Node, at: At) -> Value {
    let ord = match (cmp_key(eval_inline(a, at)), cmp_key(eval_inline(b, at))) {
        (Some((kx, x)), Some((ky, y))) if kx == ky => x.cmp(&y),
        _ => return Value::Null,
    };
    Value::Bool(match op {
        CmpOp::Eq => ord.is_eq(),
        CmpOp::Ne => ord.is_ne(),
        CmpOp::Lt => ord.is_lt(),
        CmpOp::Le => ord.is_le(),
        CmpOp::Gt => ord.is_gt(),
        CmpOp::Ge => ord.is_ge(),
    })
}

#[inline]
fn and(items: &[Node], at: At) -> Value {
    let mut all = true;
    for n in items {
        match truth(eval_inline(n, at)) {
            0 => return Value::Bool(false),
            1 => {}
            _ => all = false,
        }
    }
    if all { Value::Bool(true) } else { Value::Null }
}

#[inline]
fn or(items: &[Node], at: At) -> Value {
    let mut all = true;
    for n in items {
        match truth(eval_inline(n, at)) {
            1 => return Value::Bool(true),
            0 => {}
            _ => all = false,
        }
    }
    if all { Value::Bool(false) } else { Value::Null }
}

#[inline]
fn not(a: &Node, at: At) -> Value {
    match truth(eval_inline(a, at)) {
        0 => Value::Bool(true),
        1 => Value::Bool(false),
        _ => Value::Null,
    }
}

#[inline]
fn years_between(a: &Node, b: &Node, at: At) -> Value {
    match (date_of(eval_inline(a, at)), date_of(eval_inline(b, at))) {
        (Some(x), Some(y)) => Value::Int(i64::from(x.age_on(y))),
        _ => Value::Null,
    }
}

#[inline]
fn days_between(a: &Node, b: &Node, at: At) -> Value {
    match (date_of(eval_inline(a, at)), date_of(eval_inline(b, at))) {
        (Some(x), Some(y)) => Value::Int(y.days_since_epoch() - x.days_since_epoch()),
        _ => Value::Null,
    }
}

#[inline]
fn min_max(is_max: bool, a: &Node, b: &Node, at: At) -> Value {
    match (int_of(eval_inline(a, at)), int_of(eval_inline(b, at))) {
        (Some(x), Some(y)) => Value::Int(if is_max { x.max(y) } else { x.min(y) }),
        _ => Value::Null,
    }
}
