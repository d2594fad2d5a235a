//! The fields that rulebook variables and expressions may name, with their types and
//! getters. Names are the JSON paths of `model` (e.g. `housing.lighting`,
//! `disability.seeing`), so a rulebook reads like the interchange format.
//!
//! Resolution happens once, when a rulebook loads; evaluation calls a plain function
//! pointer and allocates nothing.

use crate::date::Date;
use crate::model::{Anggota, Keluarga};

/// A value during evaluation. `Null` is an unanswered question. Text fields only tell
/// whether they are filled (`Text`), never their content, so no rule can leak a NIK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Date(Date),
    Text,
}

impl Value {
    pub fn is_null(self) -> bool {
        matches!(self, Value::Null)
    }
}

/// The static type of an expression or field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Int,
    Bool,
    Date,
    Text,
}

impl Type {
    pub fn name(self) -> &'static str {
        match self {
            Type::Int => "integer",
            Type::Bool => "boolean",
            Type::Date => "date",
            Type::Text => "text",
        }
    }
}

/// Where a field lives: on the family, or on one member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Keluarga,
    Anggota,
}

/// How to read a field. Member getters take the reference date (for `age`).
#[derive(Clone, Copy)]
pub enum Getter {
    Keluarga(fn(&Keluarga) -> Value),
    Anggota(fn(&Anggota, Date) -> Value),
}

impl std::fmt::Debug for Getter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Getter::Keluarga(_) => f.write_str("Getter::Keluarga"),
            Getter::Anggota(_) => f.write_str("Getter::Anggota"),
        }
    }
}

/// One readable field.
#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: Type,
    pub get: Getter,
}

impl FieldDef {
    pub fn scope(&self) -> Scope {
        match self.get {
            Getter::Keluarga(_) => Scope::Keluarga,
            Getter::Anggota(_) => Scope::Anggota,
        }
    }
}

/// A member field as one integer, for tests whose field type is known when they
/// compile: an integer field's value, a boolean's 0 or 1, 0 for a filled date or text,
/// and [`RAW_NULL`] when unanswered. Field integers come from `u8`…`i32` answers, so
/// none is `RAW_NULL`. Under wasm32 a getter returning an `i64` returns it in a
/// register, where a 16-byte [`Value`] goes through memory.
#[inline(always)]
pub(crate) fn raw(v: Value) -> i64 {
    match v {
        Value::Null => RAW_NULL,
        Value::Int(x) => x,
        Value::Bool(b) => i64::from(b),
        Value::Date(_) | Value::Text => 0,
    }
}

/// [`raw`]'s unanswered.
pub(crate) const RAW_NULL: i64 = i64::MIN;

/// A member getter that gives the [`raw`] integer.
pub(crate) type RawGet = fn(&Anggota, Date) -> i64;

fn int<T: Into<i64>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, |x| Value::Int(x.into()))
}

fn text<T>(v: &Option<T>) -> Value {
    if v.is_some() {
        Value::Text
    } else {
        Value::Null
    }
}

/// The filled-in test of a required text: not empty after trimming. A first byte that
/// is a visible ASCII character settles it without scanning the text.
fn filled(s: &str) -> Value {
    let visible = s.as_bytes().first().is_some_and(u8::is_ascii_graphic);
    if visible || !s.trim().is_empty() {
        Value::Text
    } else {
        Value::Null
    }
}

/// Declares every field once: the [`FIELDS`] table (name, type, getter) and the
/// record views [`read_family`] / [`read_member`], which read all fields of one scope
/// into an array indexed by the field's slot (its position among the fields of its
/// scope). Both come from the same getter expressions, so they cannot disagree.
macro_rules! fields {
    (
        family { $( $fname:literal : $fty:ident = |$k:ident| $fget:expr , )* }
        member { $( $mname:literal : $mty:ident = |$a:ident, $t:ident| $mget:expr , )* }
    ) => {
        /// Every field, family fields first. The order is the rulebook's natural order.
        pub static FIELDS: &[FieldDef] = &[
            $( FieldDef { name: $fname, ty: Type::$fty, get: Getter::Keluarga(|$k| $fget) }, )*
            $( FieldDef { name: $mname, ty: Type::$mty, get: Getter::Anggota(|$a, $t| $mget) }, )*
        ];

        /// How many family fields there are (the first entries of [`FIELDS`]).
        pub(crate) const FAMILY_FIELDS: usize = [$($fname),*].len();
        /// How many member fields there are (the entries of [`FIELDS`] after the family's).
        pub(crate) const MEMBER_FIELDS: usize = [$($mname),*].len();

        /// Every member getter as a [`raw`] integer, by slot (see [`RawGet`]).
        #[allow(unused_variables)]
        pub(crate) static MEMBER_RAW: [RawGet; MEMBER_FIELDS] = [
            $( |$a: &Anggota, $t: Date| -> i64 { raw($mget) }, )*
        ];

        /// Every family field of `k`, by slot: what each getter returns, read in one pass.
        pub(crate) fn read_family(k: &Keluarga) -> [Value; FAMILY_FIELDS] {
            if cfg!(target_arch = "wasm32") {
                read_family_by_slot(k)
            } else {
                [ $( { let $k = k; $fget }, )* ]
            }
        }

        /// [`read_family`] with each slot stored as soon as it is read: what
        /// `read_family` does under wasm32. As one array expression, LLVM loads all
        /// fields before the first store, into ≈ 100 wasm locals that V8 spills
        /// (`read_family` ran at about three times its native time; natively the array
        /// expression is as fast). The fences only keep the compiler from moving the
        /// loads and stores across them; they emit no code.
        #[inline(always)]
        pub(crate) fn read_family_by_slot(k: &Keluarga) -> [Value; FAMILY_FIELDS] {
            use std::sync::atomic::{Ordering, compiler_fence};
            let mut out = [Value::Null; FAMILY_FIELDS];
            let mut i = 0;
            $(
                out[i] = { let $k = k; $fget };
                i += 1;
                compiler_fence(Ordering::SeqCst);
            )*
            let _ = i;
            out
        }

        /// Every member field of `a` on `today`, by slot.
        #[allow(unused_variables)]
        pub(crate) fn read_member(a: &Anggota, today: Date) -> [Value; MEMBER_FIELDS] {
            if cfg!(target_arch = "wasm32") {
                read_member_by_slot(a, today)
            } else {
                [ $( { let $a = a; let $t = today; $mget }, )* ]
            }
        }

        /// [`read_member`] with each slot stored as soon as it is read: what
        /// `read_member` does under wasm32, for the reason given at
        /// [`read_family_by_slot`].
        #[allow(unused_variables)]
        #[inline(always)]
        pub(crate) fn read_member_by_slot(a: &Anggota, today: Date) -> [Value; MEMBER_FIELDS] {
            use std::sync::atomic::{Ordering, compiler_fence};
            let mut out = [Value::Null; MEMBER_FIELDS];
            let mut i = 0;
            $(
                out[i] = { let $a = a; let $t = today; $mget };
                i += 1;
                compiler_fence(Ordering::SeqCst);
            )*
            let _ = i;
            out
        }

        /// One member field of `a` on `today`, by slot (null past the last slot): what
        /// its getter returns, by a `match` on the slot that is inlined where it is used
        /// instead of a call through the getter's function pointer. Under wasm32 the
        /// evaluator reads member fields this way (see `expr::member_value`): V8's
        /// `call_indirect` and the 16-byte result returned through memory cost about
        /// three times a native call there. Natively the getters stay faster.
        #[allow(unused_variables)]
        #[inline(always)]
        pub(crate) fn member_field(a: &Anggota, today: Date, slot: u16) -> Value {
            let mut i = 0u16;
            $(
                if slot == i {
                    let $a = a;
                    let $t = today;
                    return $mget;
                }
                i += 1;
            )*
            let _ = i;
            Value::Null
        }
    };
}

fields! {
    family {
        "version": Int = |k| Value::Int(i64::from(k.version)),
        "address.rt": Text = |k| text(&k.address.rt),
        "address.rw": Text = |k| text(&k.address.rw),
        "address.street": Text = |k| text(&k.address.street),
        "urban_rural": Int = |k| int(k.urban_rural),
        "urban": Bool = |k| k.is_urban().map_or(Value::Null, Value::Bool),
        "gps": Text = |k| text(&k.gps),
        "member_count": Int = |k| int(k.member_count),
        "housing.ownership": Int = |k| int(k.housing.ownership),
        "housing.land_proof": Int = |k| int(k.housing.land_proof),
        "housing.floor_area_m2": Int = |k| int(k.housing.floor_area_m2),
        "housing.floor": Int = |k| int(k.housing.floor),
        "housing.wall": Int = |k| int(k.housing.wall),
        "housing.roof": Int = |k| int(k.housing.roof),
        "housing.drinking_water": Int = |k| int(k.housing.drinking_water),
        "housing.water_distance": Int = |k| int(k.housing.water_distance),
        "housing.lighting": Int = |k| int(k.housing.lighting),
        "housing.power": Int = |k| int(k.housing.power),
        "housing.pln_customer_id": Text = |k| text(&k.housing.pln_customer_id),
        "housing.cooking_fuel": Int = |k| int(k.housing.cooking_fuel),
        "housing.toilet": Int = |k| int(k.housing.toilet),
        "housing.toilet_type": Int = |k| int(k.housing.toilet_type),
        "housing.sewage_disposal": Int = |k| int(k.housing.sewage_disposal),
        "assets.programs.sembako": Int = |k| int(k.assets.programs.sembako),
        "assets.programs.pkh": Int = |k| int(k.assets.programs.pkh),
        "assets.programs.blt_desa": Int = |k| int(k.assets.programs.blt_desa),
        "assets.programs.electricity_subsidy": Int =
            |k| int(k.assets.programs.electricity_subsidy),
        "assets.programs.local_government_aid": Int =
            |k| int(k.assets.programs.local_government_aid),
        "assets.programs.fertilizer_subsidy": Int =
            |k| int(k.assets.programs.fertilizer_subsidy),
        "assets.programs.lpg_subsidy": Int = |k| int(k.assets.programs.lpg_subsidy),
        "assets.movable.gas_cylinder": Int = |k| int(k.assets.movable.gas_cylinder),
        "assets.movable.refrigerator": Int = |k| int(k.assets.movable.refrigerator),
        "assets.movable.air_conditioner": Int = |k| int(k.assets.movable.air_conditioner),
        "assets.movable.water_heater": Int = |k| int(k.assets.movable.water_heater),
        "assets.movable.landline": Int = |k| int(k.assets.movable.landline),
        "assets.movable.flat_tv": Int = |k| int(k.assets.movable.flat_tv),
        "assets.movable.gold": Int = |k| int(k.assets.movable.gold),
        "assets.movable.computer": Int = |k| int(k.assets.movable.computer),
        "assets.movable.motorcycle": Int = |k| int(k.assets.movable.motorcycle),
        "assets.movable.bicycle": Int = |k| int(k.assets.movable.bicycle),
        "assets.movable.car": Int = |k| int(k.assets.movable.car),
        "assets.movable.boat": Int = |k| int(k.assets.movable.boat),
        "assets.movable.motorboat": Int = |k| int(k.assets.movable.motorboat),
        "assets.movable.smartphone": Int = |k| int(k.assets.movable.smartphone),
        "assets.immovable.other_land": Int = |k| int(k.assets.immovable.other_land),
        "assets.immovable.other_house": Int = |k| int(k.assets.immovable.other_house),
        "assets.livestock.cattle": Int = |k| int(k.assets.livestock.cattle),
        "assets.livestock.buffalo": Int = |k| int(k.assets.livestock.buffalo),
        "assets.livestock.horse": Int = |k| int(k.assets.livestock.horse),
        "assets.livestock.pig": Int = |k| int(k.assets.livestock.pig),
        "assets.livestock.goat_sheep": Int = |k| int(k.assets.livestock.goat_sheep),
        "assets.internet": Int = |k| int(k.assets.internet),
        "assets.bank_account": Int = |k| int(k.assets.bank_account),
    }
    member {
        "nik": Text = |a, _t| if a.nik.is_empty() { Value::Null } else { Value::Text },
        "name": Text = |a, _t| filled(&a.name),
        "number": Int = |a, _t| int(a.number),
        "presence": Int = |a, _t| Value::Int(i64::from(a.presence)),
        "presence_date": Date = |a, _t| a.presence_date.map_or(Value::Null, Value::Date),
        "moved_to": Text = |a, _t| text(&a.moved_to),
        "sex": Int = |a, _t| Value::Int(i64::from(a.sex.code())),
        "birth_date": Date = |a, _t| Value::Date(a.birth_date),
        "age": Int = |a, today| Value::Int(i64::from(a.birth_date.age_on(today))),
        "marital_status": Int = |a, _t| int(a.marital_status),
        "relationship": Int = |a, _t| Value::Int(i64::from(a.relationship)),
        "id_document": Int = |a, _t| int(a.id_document),
        "school_participation": Int = |a, _t| int(a.school_participation),
        "education_level": Int = |a, _t| int(a.education_level),
        "highest_grade": Int = |a, _t| int(a.highest_grade),
        "certificate": Int = |a, _t| int(a.certificate),
        "worked_last_week": Int = |a, _t| int(a.worked_last_week),
        "work_hours": Int = |a, _t| int(a.work_hours),
        "sector": Int = |a, _t| int(a.sector),
        "employment_status": Int = |a, _t| int(a.employment_status),
        "business_turnover": Int = |a, _t| int(a.business_turnover),
        "child_nutrition": Int = |a, _t| int(a.child_nutrition),
        "disability.seeing": Int = |a, _t| int(a.disability.seeing),
        "disability.hearing": Int = |a, _t| int(a.disability.hearing),
        "disability.walking": Int = |a, _t| int(a.disability.walking),
        "disability.hands": Int = |a, _t| int(a.disability.hands),
        "disability.learning": Int = |a, _t| int(a.disability.learning),
        "disability.behaviour": Int = |a, _t| int(a.disability.behaviour),
        "disability.speaking": Int = |a, _t| int(a.disability.speaking),
        "disability.self_care": Int = |a, _t| int(a.disability.self_care),
        "disability.remembering": Int = |a, _t| int(a.disability.remembering),
        "disability_severe": Bool = |a, _t| Value::Bool(a.disability.is_severe()),
        "chronic_illness": Int = |a, _t| int(a.chronic_illness),
        "jkn": Int = |a, _t| int(a.jkn),
        "pregnant": Int = |a, _t| int(a.pregnant),
    }
}

/// Looks a field up by name.
pub fn field(name: &str) -> Option<&'static FieldDef> {
    FIELDS.iter().find(|f| f.name == name)
}

/// A field and its slot in the record view of its scope ([`read_family`] or
/// [`read_member`]).
pub(crate) fn field_slot(name: &str) -> Option<(&'static FieldDef, usize)> {
    let i = FIELDS.iter().position(|f| f.name == name)?;
    Some((&FIELDS[i], i.checked_sub(FAMILY_FIELDS).unwrap_or(i)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as J, json};

    /// `read_family_by_slot` (wasm32's `read_family`) gives what the array expression
    /// and every family getter give, for the sample with each family answer (top level,
    /// housing, assets) unset and set to a range of codes.
    #[test]
    fn family_by_slot_reads_as_the_getters() {
        let base: J = serde_json::from_str(include_str!(
            "../../../tests/vectors/households/sample.json"
        ))
        .unwrap();
        let mut families = vec![base.clone()];
        let answers = [J::Null, json!(0), json!(1), json!(2), json!(5), json!(9)];
        let leaves = crate::test_support::with_each_family_answer(&base, &answers, &mut families);
        assert!(leaves > 30, "{leaves} family leaves");
        let family_getters: Vec<_> = FIELDS
            .iter()
            .filter_map(|f| match f.get {
                Getter::Keluarga(g) => Some(g),
                Getter::Anggota(_) => None,
            })
            .collect();
        assert_eq!(family_getters.len(), FAMILY_FIELDS);
        let mut compared = 0;
        for f in families {
            let Ok(k) = serde_json::from_value::<Keluarga>(f) else {
                continue;
            };
            let by_slot = read_family_by_slot(&k);
            assert_eq!(by_slot, read_family(&k));
            for (slot, get) in family_getters.iter().enumerate() {
                assert_eq!(by_slot[slot], get(&k), "slot {slot}");
            }
            compared += 1;
        }
        assert!(compared > 100, "only {compared} families parsed");
    }

    /// `member_field` (the evaluator's member reads under wasm32) gives what each
    /// member getter and `read_member` give, slot by slot, and `read_member_by_slot`
    /// (wasm32's `read_member`) what `read_member` gives, for the sample's members
    /// with every answer unset and set to a range of codes, on several days; past the
    /// last slot it gives null.
    #[test]
    fn member_field_reads_as_the_getters() {
        let base: J = serde_json::from_str(include_str!(
            "../../../tests/vectors/households/sample.json"
        ))
        .unwrap();
        let days = [
            Date::from_ymd(2026, 6, 30).unwrap(),
            Date::from_ymd(1990, 1, 1).unwrap(),
            Date::from_ymd(2031, 2, 28).unwrap(),
        ];
        let mut families = vec![base.clone()];
        let members = base["anggota"].as_array().unwrap();
        for (i, m) in members.iter().enumerate() {
            for key in m.as_object().unwrap().keys() {
                let answers = [J::Null, json!(0), json!(1), json!(2), json!(5), json!(9)];
                for answer in answers {
                    let mut f = base.clone();
                    f["anggota"][i][key] = answer;
                    families.push(f);
                }
            }
            for seen in ["seeing", "walking", "self_care"] {
                for level in 1..=4 {
                    let mut f = base.clone();
                    f["anggota"][i]["disability"][seen] = json!(level);
                    families.push(f);
                }
            }
        }
        let member_getters: Vec<_> = FIELDS
            .iter()
            .filter_map(|f| match f.get {
                Getter::Anggota(g) => Some(g),
                Getter::Keluarga(_) => None,
            })
            .collect();
        assert_eq!(member_getters.len(), MEMBER_FIELDS);
        let mut compared = 0;
        for f in families {
            let Ok(k) = serde_json::from_value::<Keluarga>(f) else {
                continue;
            };
            for a in &k.anggota {
                for today in days {
                    let slots = read_member(a, today);
                    assert_eq!(read_member_by_slot(a, today), slots);
                    for (slot, get) in member_getters.iter().enumerate() {
                        let v = member_field(a, today, slot as u16);
                        assert_eq!(v, get(a, today), "slot {slot}");
                        assert_eq!(v, slots[slot], "slot {slot}");
                        // The raw getter (what wasm32's member tests read) gives the
                        // same answer as an integer: the value of an integer field,
                        // 0/1 of a boolean, a non-null mark for a date or text, and
                        // RAW_NULL exactly when the field is unanswered.
                        let x = MEMBER_RAW[slot](a, today);
                        assert_eq!(x, raw(v), "slot {slot}");
                        assert_eq!(x == RAW_NULL, v.is_null(), "slot {slot}");
                        if let Value::Int(n) = v {
                            assert_eq!(x, n, "slot {slot}");
                        }
                        compared += 1;
                    }
                    for past in [MEMBER_FIELDS, MEMBER_FIELDS + 1, usize::from(u16::MAX)] {
                        assert_eq!(member_field(a, today, past as u16), Value::Null);
                    }
                }
            }
        }
        assert!(compared > 10_000, "only {compared} reads compared");
    }
}
