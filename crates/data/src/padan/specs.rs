//! The linkage models as data: which comparisons, which blocking rules, what is
//! deterministic. People (register ↔ Dukcapil, and the register with itself) share
//! one spec; PLN customers link to the register's adult members.

use tepat_core::Date;

use super::compare::{
    ADDRESS_LEVELS, DATE_LEVELS, MISSING, NAME_LEVELS, NIK_LEVELS, REGION_LEVELS, SEX_LEVELS,
    address_level, date_level, name_level, nik_level, region_level, sex_level,
};
use super::extract::{DukcapilRow, PlnRow};
use super::link::{Spec, key_of};
use super::model::Comparison;
use super::normalize::NameKey;
use super::register::{RegFamily, RegMember};

/// What the person comparisons read.
pub trait PersonFields {
    fn nik(&self) -> &str;
    fn name(&self) -> &NameKey;
    fn birth(&self) -> Date;
    fn sex(&self) -> u8;
    fn village(&self) -> &str;
}

impl<T: PersonFields> PersonFields for &T {
    fn nik(&self) -> &str {
        (**self).nik()
    }
    fn name(&self) -> &NameKey {
        (**self).name()
    }
    fn birth(&self) -> Date {
        (**self).birth()
    }
    fn sex(&self) -> u8 {
        (**self).sex()
    }
    fn village(&self) -> &str {
        (**self).village()
    }
}

impl PersonFields for RegMember {
    fn nik(&self) -> &str {
        &self.nik
    }
    fn name(&self) -> &NameKey {
        &self.name
    }
    fn birth(&self) -> Date {
        self.birth
    }
    fn sex(&self) -> u8 {
        self.sex
    }
    fn village(&self) -> &str {
        &self.village
    }
}

/// A Dukcapil row prepared for comparison.
#[derive(Clone, Debug)]
pub struct DukcapilPerson {
    pub row: DukcapilRow,
    pub name: NameKey,
}

impl DukcapilPerson {
    pub fn new(row: DukcapilRow) -> DukcapilPerson {
        DukcapilPerson {
            name: NameKey::new(&row.nama),
            row,
        }
    }
}

impl PersonFields for DukcapilPerson {
    fn nik(&self) -> &str {
        &self.row.nik
    }
    fn name(&self) -> &NameKey {
        &self.name
    }
    fn birth(&self) -> Date {
        self.row.tanggal_lahir
    }
    fn sex(&self) -> u8 {
        self.row.jenis_kelamin
    }
    fn village(&self) -> &str {
        &self.row.kode_wilayah
    }
}

/// The person comparisons, named as the Dukcapil columns.
pub const PERSON_COMPARISONS: &[Comparison] = &[
    Comparison {
        name: "nik",
        levels: NIK_LEVELS,
    },
    Comparison {
        name: "nama",
        levels: NAME_LEVELS,
    },
    Comparison {
        name: "tanggal_lahir",
        levels: DATE_LEVELS,
    },
    Comparison {
        name: "jenis_kelamin",
        levels: SEX_LEVELS,
    },
    Comparison {
        name: "kode_wilayah",
        levels: REGION_LEVELS,
    },
];

/// Blocking rules for people: the same NIK; the same district and birth date; the
/// same name and birth date; the same name and district. (The same district and birth
/// *year* would catch a little more, but its blocks grow with the register: the pairs
/// it makes grow with the square of the members per district.)
pub const PERSON_RULES: &[&str] = &[
    "nik",
    "kecamatan+tanggal_lahir",
    "nama+tanggal_lahir",
    "nama+kecamatan",
];

/// Deduplication does not block on NIK: one NIK in two families is found directly.
pub const DEDUP_RULES: &[&str] = &[
    "kecamatan+tanggal_lahir",
    "nama+tanggal_lahir",
    "nama+kecamatan",
];

fn district(village: &str) -> &str {
    village.get(..8).unwrap_or(village)
}

fn person_key<P: PersonFields>(p: &P, rule: usize) -> u64 {
    let b = p.birth();
    match rule {
        0 if !p.nik().is_empty() => key_of(p.nik()),
        1 => key_of((district(p.village()), b)),
        2 if !p.name().key.is_empty() => key_of((&p.name().key, b)),
        3 if !p.name().key.is_empty() => key_of((&p.name().key, district(p.village()))),
        _ => 0,
    }
}

fn dedup_key<P: PersonFields>(p: &P, rule: usize) -> u64 {
    person_key(p, rule + 1)
}

fn person_compare<A: PersonFields, B: PersonFields>(a: &A, b: &B, out: &mut [u8]) {
    out[0] = nik_level(a.nik(), b.nik());
    out[1] = name_level(a.name(), b.name());
    out[2] = date_level(a.birth(), b.birth());
    out[3] = if a.sex() == 0 || b.sex() == 0 {
        MISSING
    } else {
        sex_level(a.sex(), b.sex())
    };
    out[4] = region_level(a.village(), b.village());
}

/// Deterministic: the same NIK, with the name agreeing (Jaro–Winkler ≥ 0.92) and the
/// same birth date.
fn person_deterministic(levels: &[u8]) -> bool {
    levels[0] == 2 && levels[1] != MISSING && levels[1] >= 2 && levels[2] == 3
}

fn never(_: &[u8]) -> bool {
    false
}

/// Register members ↔ Dukcapil rows.
pub fn dukcapil_spec<'a>() -> Spec<&'a RegMember, DukcapilPerson> {
    Spec {
        comparisons: PERSON_COMPARISONS,
        rules: PERSON_RULES,
        left_key: person_key::<&RegMember>,
        right_key: person_key::<DukcapilPerson>,
        compare: person_compare::<&RegMember, DukcapilPerson>,
        deterministic: person_deterministic,
        tf_comparison: Some(1),
        left_name: |m| &m.name.key,
        right_name: |p| &p.name.key,
        self_link: false,
        fixed_m: None,
    }
}

/// m of [`PERSON_COMPARISONS`] for one person under two NIKs (levels from "else" to
/// exact): the NIKs differ (a pair with the same NIK is the other finding), a third of
/// them by one digit; names and birth dates mostly agree; the two families may live
/// anywhere.
pub const DEDUP_M: &[&[f64]] = &[
    &[0.7, 0.3, 1e-6],
    &[0.02, 0.05, 0.13, 0.80],
    &[0.02, 0.03, 0.02, 0.93],
    &[0.01, 0.99],
    &[0.2, 0.2, 0.2, 0.4],
];

/// The share of register members expected under a second NIK (the prior of dedup).
pub const DEDUP_SHARE: f64 = 0.001;

/// Register members with themselves: one person under two NIKs.
pub fn dedup_spec<'a>() -> Spec<&'a RegMember, &'a RegMember> {
    Spec {
        comparisons: PERSON_COMPARISONS,
        rules: DEDUP_RULES,
        left_key: dedup_key::<&RegMember>,
        right_key: dedup_key::<&RegMember>,
        compare: person_compare::<&RegMember, &RegMember>,
        deterministic: never,
        tf_comparison: Some(1),
        left_name: |m| &m.name.key,
        right_name: |m| &m.name.key,
        self_link: true,
        fixed_m: Some((DEDUP_M, DEDUP_SHARE)),
    }
}

/// An adult register member as a possible PLN customer, with the family's address.
#[derive(Clone, Debug)]
pub struct Customer {
    pub member: u32,
    pub family: u32,
    pub nik: String,
    pub name: NameKey,
    pub village: String,
    pub address: Vec<String>,
    pub idpel: String,
}

impl Customer {
    pub fn new(member_index: u32, m: &RegMember, f: &RegFamily) -> Customer {
        Customer {
            member: member_index,
            family: m.family,
            nik: m.nik.clone(),
            name: m.name.clone(),
            village: m.village.clone(),
            address: f.address.clone(),
            idpel: f.pln_customer_id.clone(),
        }
    }
}

/// A PLN row prepared for comparison.
#[derive(Clone, Debug)]
pub struct PlnCustomer {
    pub row: PlnRow,
    pub name: NameKey,
    pub address: Vec<String>,
}

impl PlnCustomer {
    pub fn new(row: PlnRow) -> PlnCustomer {
        PlnCustomer {
            name: NameKey::new(&row.nama_pelanggan),
            address: super::compare::address_tokens(&row.alamat),
            row,
        }
    }
}

/// The PLN comparisons.
pub const PLN_COMPARISONS: &[Comparison] = &[
    Comparison {
        name: "idpel",
        levels: 2,
    },
    Comparison {
        name: "nik",
        levels: NIK_LEVELS,
    },
    Comparison {
        name: "nama_pelanggan",
        levels: NAME_LEVELS,
    },
    Comparison {
        name: "kode_wilayah",
        levels: REGION_LEVELS,
    },
    Comparison {
        name: "alamat",
        levels: ADDRESS_LEVELS,
    },
];

/// Blocking rules for PLN: the same IDPEL; the same NIK; the same name and village;
/// the same village and first letters of the name.
pub const PLN_RULES: &[&str] = &["idpel", "nik", "nama+desa", "desa+awal_nama"];

fn first_letters(name: &NameKey) -> &str {
    let k = &name.key;
    let end = k.char_indices().nth(2).map_or(k.len(), |(i, _)| i);
    &k[..end]
}

fn customer_key(c: &Customer, rule: usize) -> u64 {
    match rule {
        0 if !c.idpel.is_empty() => key_of(&c.idpel),
        1 if !c.nik.is_empty() => key_of(&c.nik),
        2 if !c.name.key.is_empty() => key_of((&c.name.key, &c.village)),
        3 if !c.name.key.is_empty() => key_of((&c.village, first_letters(&c.name))),
        _ => 0,
    }
}

fn pln_key(p: &PlnCustomer, rule: usize) -> u64 {
    match rule {
        0 => key_of(&p.row.idpel),
        1 if !p.row.nik.is_empty() => key_of(&p.row.nik),
        2 if !p.name.key.is_empty() => key_of((&p.name.key, &p.row.kode_wilayah)),
        3 if !p.name.key.is_empty() => key_of((&p.row.kode_wilayah, first_letters(&p.name))),
        _ => 0,
    }
}

fn pln_compare(c: &Customer, p: &PlnCustomer, out: &mut [u8]) {
    out[0] = if c.idpel.is_empty() {
        MISSING
    } else {
        u8::from(c.idpel == p.row.idpel)
    };
    out[1] = nik_level(&c.nik, &p.row.nik);
    out[2] = name_level(&c.name, &p.name);
    out[3] = region_level(&c.village, &p.row.kode_wilayah);
    out[4] = address_level(&c.address, &p.address);
}

/// Deterministic: the IDPEL the register records; or the same NIK with the name
/// agreeing.
fn pln_deterministic(levels: &[u8]) -> bool {
    levels[0] == 1 || (levels[1] == 2 && levels[2] != MISSING && levels[2] >= 2)
}

/// Register adults ↔ PLN rows.
pub fn pln_spec() -> Spec<Customer, PlnCustomer> {
    Spec {
        comparisons: PLN_COMPARISONS,
        rules: PLN_RULES,
        left_key: customer_key,
        right_key: pln_key,
        compare: pln_compare,
        deterministic: pln_deterministic,
        tf_comparison: Some(2),
        left_name: |c| &c.name.key,
        right_name: |p| &p.name.key,
        self_link: false,
        fixed_m: None,
    }
}
