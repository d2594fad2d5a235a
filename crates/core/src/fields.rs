//! The fields that rulebook variables and expressions may name, with their types and
//! slots. Names are the JSON paths of `model` (e.g. `housing.lighting`,
//! `disability.seeing`), so a rulebook reads like the interchange format.
//!
//! Names resolve to slots once, when a rulebook loads. A family and each member are
//! read once into slot arrays ([`read_family`], [`read_member`]) that the expression
//! engine indexes.

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

/// Text fields that hold digits only (RT, RW, the PLN customer id): forms ask them with a
/// numeric keyboard; the structural checks decide their format.
pub const DIGIT_FIELDS: &[&str] = &["address.rt", "address.rw", "housing.pln_customer_id"];

/// One readable field: its name, type, scope and slot (its position among the
/// fields of its scope in [`read_family`] / [`read_member`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: Type,
    pub scope: Scope,
    pub slot: u16,
}

impl FieldDef {
    pub fn scope(&self) -> Scope {
        self.scope
    }
}

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

/// Declares every field once: the [`FIELDS`] table (name, type, scope, slot) and the
/// readers [`read_family`] / [`read_member`], which read all fields of one scope into
/// an array indexed by the field's slot. Both come from the same list, so they cannot
/// disagree.
macro_rules! fields {
    (
        family { $( $fname:literal : $fty:ident = |$k:ident| $fget:expr , )* }
        member { $( $mname:literal : $mty:ident = |$a:ident, $t:ident| $mget:expr , )* }
    ) => {
        /// How many family fields there are (the first entries of [`FIELDS`]).
        pub(crate) const FAMILY_FIELDS: usize = [$($fname),*].len();
        /// How many member fields there are (the entries of [`FIELDS`] after the family's).
        pub(crate) const MEMBER_FIELDS: usize = [$($mname),*].len();
        // A set of slots of one scope is one `u64`.
        const _: () = assert!(FAMILY_FIELDS <= 64 && MEMBER_FIELDS <= 64);

        /// Every field, family fields first. The order is the rulebook's natural order.
        pub static FIELDS: &[FieldDef] = &{
            const NAMES: [(&str, Type); FAMILY_FIELDS + MEMBER_FIELDS] =
                [$( ($fname, Type::$fty), )* $( ($mname, Type::$mty), )*];
            let mut out = [FieldDef {
                name: "",
                ty: Type::Int,
                scope: Scope::Keluarga,
                slot: 0,
            }; FAMILY_FIELDS + MEMBER_FIELDS];
            let mut i = 0;
            while i < out.len() {
                let member = i >= FAMILY_FIELDS;
                out[i] = FieldDef {
                    name: NAMES[i].0,
                    ty: NAMES[i].1,
                    scope: if member { Scope::Anggota } else { Scope::Keluarga },
                    slot: (if member { i - FAMILY_FIELDS } else { i }) as u16,
                };
                i += 1;
            }
            out
        };

        /// Reads into `out` the family fields of `k` whose bit is set in `used` (slot `i`
        /// is bit `i`); the other slots are left as they are. Each slot is stored as soon
        /// as it is read (as one array expression, LLVM loaded all fields before the
        /// first store, into ≈ 100 wasm locals that V8 spilled).
        pub(crate) fn read_family(k: &Keluarga, used: u64, out: &mut [Value; FAMILY_FIELDS]) {
            let mut i = 0;
            $(
                if used >> i & 1 == 1 {
                    out[i] = { let $k = k; $fget };
                }
                i += 1;
            )*
            let _ = i;
        }

        /// Reads into `out` the member fields of `a` on `today` whose bit is set in `used`
        /// (as [`read_family`] reads the family's).
        #[allow(unused_variables)]
        pub(crate) fn read_member(
            a: &Anggota,
            today: Date,
            used: u64,
            out: &mut [Value; MEMBER_FIELDS],
        ) {
            let mut i = 0;
            $(
                if used >> i & 1 == 1 {
                    out[i] = { let $a = a; let $t = today; $mget };
                }
                i += 1;
            )*
            let _ = i;
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
