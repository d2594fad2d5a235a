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
        self == Value::Null
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

macro_rules! k {
    ($name:literal, Int, $($p:ident).+) => {
        FieldDef { name: $name, ty: Type::Int, get: Getter::Keluarga(|k| int(k.$($p).+)) }
    };
    ($name:literal, Text, $($p:ident).+) => {
        FieldDef { name: $name, ty: Type::Text, get: Getter::Keluarga(|k| text(&k.$($p).+)) }
    };
}

macro_rules! a {
    ($name:literal, Int, $($p:ident).+) => {
        FieldDef { name: $name, ty: Type::Int, get: Getter::Anggota(|a, _| int(a.$($p).+)) }
    };
    ($name:literal, Text, $($p:ident).+) => {
        FieldDef { name: $name, ty: Type::Text, get: Getter::Anggota(|a, _| text(&a.$($p).+)) }
    };
}

/// Every field, family fields first. The order is the rulebook's natural order.
pub static FIELDS: &[FieldDef] = &[
    // Keluarga
    FieldDef {
        name: "version",
        ty: Type::Int,
        get: Getter::Keluarga(|k| Value::Int(i64::from(k.version))),
    },
    FieldDef {
        name: "address.rt",
        ty: Type::Text,
        get: Getter::Keluarga(|k| text(&k.address.rt)),
    },
    FieldDef {
        name: "address.rw",
        ty: Type::Text,
        get: Getter::Keluarga(|k| text(&k.address.rw)),
    },
    FieldDef {
        name: "address.street",
        ty: Type::Text,
        get: Getter::Keluarga(|k| text(&k.address.street)),
    },
    k!("urban_rural", Int, urban_rural),
    FieldDef {
        name: "urban",
        ty: Type::Bool,
        get: Getter::Keluarga(|k| k.is_urban().map_or(Value::Null, Value::Bool)),
    },
    FieldDef {
        name: "gps",
        ty: Type::Text,
        get: Getter::Keluarga(|k| text(&k.gps)),
    },
    k!("member_count", Int, member_count),
    k!("housing.ownership", Int, housing.ownership),
    k!("housing.land_proof", Int, housing.land_proof),
    k!("housing.floor_area_m2", Int, housing.floor_area_m2),
    k!("housing.floor", Int, housing.floor),
    k!("housing.wall", Int, housing.wall),
    k!("housing.roof", Int, housing.roof),
    k!("housing.drinking_water", Int, housing.drinking_water),
    k!("housing.water_distance", Int, housing.water_distance),
    k!("housing.lighting", Int, housing.lighting),
    k!("housing.power", Int, housing.power),
    k!("housing.pln_customer_id", Text, housing.pln_customer_id),
    k!("housing.cooking_fuel", Int, housing.cooking_fuel),
    k!("housing.toilet", Int, housing.toilet),
    k!("housing.toilet_type", Int, housing.toilet_type),
    k!("housing.sewage_disposal", Int, housing.sewage_disposal),
    k!("assets.programs.sembako", Int, assets.programs.sembako),
    k!("assets.programs.pkh", Int, assets.programs.pkh),
    k!("assets.programs.blt_desa", Int, assets.programs.blt_desa),
    k!(
        "assets.programs.electricity_subsidy",
        Int,
        assets.programs.electricity_subsidy
    ),
    k!(
        "assets.programs.local_government_aid",
        Int,
        assets.programs.local_government_aid
    ),
    k!(
        "assets.programs.fertilizer_subsidy",
        Int,
        assets.programs.fertilizer_subsidy
    ),
    k!(
        "assets.programs.lpg_subsidy",
        Int,
        assets.programs.lpg_subsidy
    ),
    k!(
        "assets.movable.gas_cylinder",
        Int,
        assets.movable.gas_cylinder
    ),
    k!(
        "assets.movable.refrigerator",
        Int,
        assets.movable.refrigerator
    ),
    k!(
        "assets.movable.air_conditioner",
        Int,
        assets.movable.air_conditioner
    ),
    k!(
        "assets.movable.water_heater",
        Int,
        assets.movable.water_heater
    ),
    k!("assets.movable.landline", Int, assets.movable.landline),
    k!("assets.movable.flat_tv", Int, assets.movable.flat_tv),
    k!("assets.movable.gold", Int, assets.movable.gold),
    k!("assets.movable.computer", Int, assets.movable.computer),
    k!("assets.movable.motorcycle", Int, assets.movable.motorcycle),
    k!("assets.movable.bicycle", Int, assets.movable.bicycle),
    k!("assets.movable.car", Int, assets.movable.car),
    k!("assets.movable.boat", Int, assets.movable.boat),
    k!("assets.movable.motorboat", Int, assets.movable.motorboat),
    k!("assets.movable.smartphone", Int, assets.movable.smartphone),
    k!(
        "assets.immovable.other_land",
        Int,
        assets.immovable.other_land
    ),
    k!(
        "assets.immovable.other_house",
        Int,
        assets.immovable.other_house
    ),
    k!("assets.livestock.cattle", Int, assets.livestock.cattle),
    k!("assets.livestock.buffalo", Int, assets.livestock.buffalo),
    k!("assets.livestock.horse", Int, assets.livestock.horse),
    k!("assets.livestock.pig", Int, assets.livestock.pig),
    k!(
        "assets.livestock.goat_sheep",
        Int,
        assets.livestock.goat_sheep
    ),
    k!("assets.internet", Int, assets.internet),
    k!("assets.bank_account", Int, assets.bank_account),
    // Anggota
    FieldDef {
        name: "nik",
        ty: Type::Text,
        get: Getter::Anggota(|a, _| {
            if a.nik.is_empty() {
                Value::Null
            } else {
                Value::Text
            }
        }),
    },
    FieldDef {
        name: "name",
        ty: Type::Text,
        get: Getter::Anggota(|a, _| {
            if a.name.trim().is_empty() {
                Value::Null
            } else {
                Value::Text
            }
        }),
    },
    a!("number", Int, number),
    FieldDef {
        name: "presence",
        ty: Type::Int,
        get: Getter::Anggota(|a, _| Value::Int(i64::from(a.presence))),
    },
    FieldDef {
        name: "presence_date",
        ty: Type::Date,
        get: Getter::Anggota(|a, _| a.presence_date.map_or(Value::Null, Value::Date)),
    },
    a!("moved_to", Text, moved_to),
    FieldDef {
        name: "sex",
        ty: Type::Int,
        get: Getter::Anggota(|a, _| Value::Int(i64::from(a.sex.code()))),
    },
    FieldDef {
        name: "birth_date",
        ty: Type::Date,
        get: Getter::Anggota(|a, _| Value::Date(a.birth_date)),
    },
    FieldDef {
        name: "age",
        ty: Type::Int,
        get: Getter::Anggota(|a, today| Value::Int(i64::from(a.birth_date.age_on(today)))),
    },
    a!("marital_status", Int, marital_status),
    FieldDef {
        name: "relationship",
        ty: Type::Int,
        get: Getter::Anggota(|a, _| Value::Int(i64::from(a.relationship))),
    },
    a!("id_document", Int, id_document),
    a!("school_participation", Int, school_participation),
    a!("education_level", Int, education_level),
    a!("highest_grade", Int, highest_grade),
    a!("certificate", Int, certificate),
    a!("worked_last_week", Int, worked_last_week),
    a!("work_hours", Int, work_hours),
    a!("sector", Int, sector),
    a!("employment_status", Int, employment_status),
    a!("business_turnover", Int, business_turnover),
    a!("child_nutrition", Int, child_nutrition),
    a!("disability.seeing", Int, disability.seeing),
    a!("disability.hearing", Int, disability.hearing),
    a!("disability.walking", Int, disability.walking),
    a!("disability.hands", Int, disability.hands),
    a!("disability.learning", Int, disability.learning),
    a!("disability.behaviour", Int, disability.behaviour),
    a!("disability.speaking", Int, disability.speaking),
    a!("disability.self_care", Int, disability.self_care),
    a!("disability.remembering", Int, disability.remembering),
    FieldDef {
        name: "disability_severe",
        ty: Type::Bool,
        get: Getter::Anggota(|a, _| Value::Bool(a.disability.is_severe())),
    },
    a!("chronic_illness", Int, chronic_illness),
    a!("jkn", Int, jkn),
    a!("pregnant", Int, pregnant),
];

/// Looks a field up by name.
pub fn field(name: &str) -> Option<&'static FieldDef> {
    FIELDS.iter().find(|f| f.name == name)
}
