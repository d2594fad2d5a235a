//! Property tests over the JSON entry point: no bytes make it panic, and households
//! built to be valid validate without errors.
#![cfg(not(target_arch = "wasm32"))]

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::Value;
use tepat_core::model::{Address, Anggota, Keluarga};
use tepat_core::{
    Date, RegionTable, Rulebook, Sex, ValidationContext, parse_and_validate, parse_keluarga,
    validate_keluarga,
};

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");

fn regions() -> &'static RegionTable {
    static T: OnceLock<RegionTable> = OnceLock::new();
    T.get_or_init(|| {
        RegionTable::from_csv(include_str!("../../../data/wilayah.csv")).expect("wilayah loads")
    })
}

fn ctx() -> ValidationContext<'static> {
    ValidationContext {
        rulebook: Rulebook::builtin(),
        regions: regions(),
        today: Date::parse("2026-06-30").expect("date"),
    }
}

/// Arbitrary JSON values, a few levels deep.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u8..=255).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        "[0-9]{16}".prop_map(Value::from),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path (as a list of keys/indices) in a JSON tree.
fn paths(v: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                prefix.push(Step::Key(k.clone()));
                out.push(prefix.clone());
                paths(x, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                prefix.push(Step::Index(i));
                out.push(prefix.clone());
                paths(x, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn at_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let mut at = v;
    for s in path {
        at = match s {
            Step::Key(k) => at.as_object_mut()?.get_mut(k)?,
            Step::Index(i) => at.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(at)
}

/// A tiny deterministic generator for valid households (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn code(&mut self, lo: u8, hi: u8) -> Option<u8> {
        Some(self.range(u64::from(lo), u64::from(hi)) as u8)
    }
}

fn nik(birth: Date, sex: Sex, serial: u32) -> String {
    let day = birth.day() + if sex == Sex::Female { 40 } else { 0 };
    format!(
        "110101{:02}{:02}{:02}{:04}",
        day,
        birth.month(),
        birth.year() % 100,
        serial
    )
}

fn member(rng: &mut Rng, birth: Date, sex: Sex, rel: u8, serial: u32, today: Date) -> Anggota {
    let mut a = Anggota::new(&nik(birth, sex, serial), "Nama Anggota", sex, birth, rel);
    a.number = Some(serial as u16);
    let age = birth.age_on(today);
    a.id_document = rng.code(1, 4);
    if age >= 10 {
        a.marital_status = Some(match rel {
            1 | 2 => 2,
            _ if age >= 19 => rng.code(1, 4).unwrap_or(1),
            _ => 1,
        });
    }
    if age >= 5 {
        let school = if (7..=18).contains(&age) {
            2
        } else {
            rng.range(1, 3) as u8
        };
        a.school_participation = Some(school);
        if school != 1 {
            a.education_level = Some(match age {
                0..=11 => 3,
                12..=14 => 8,
                _ => rng.code(13, 19).unwrap_or(13),
            });
            a.highest_grade = rng.code(1, 6);
        }
        let worked = if age >= 15 { rng.range(1, 2) as u8 } else { 2 };
        a.worked_last_week = Some(worked);
        if worked == 1 {
            a.work_hours = rng.code(1, 70);
            a.sector = rng.code(1, 26);
            let status = rng.code(1, 8).unwrap_or(1);
            a.employment_status = Some(status);
            if status <= 3 {
                a.business_turnover = rng.code(1, 7);
            }
        }
    }
    if age <= 4 {
        a.child_nutrition = rng.code(1, 4);
    }
    if age >= 2 {
        let d = &mut a.disability;
        for item in [
            &mut d.seeing,
            &mut d.hearing,
            &mut d.walking,
            &mut d.hands,
            &mut d.learning,
            &mut d.behaviour,
            &mut d.speaking,
            &mut d.self_care,
            &mut d.remembering,
        ] {
            *item = rng.code(1, 4);
        }
    }
    a.chronic_illness = rng.code(1, 18);
    a.jkn = Some([0, 1, 2, 3, 4, 5, 8, 9, 15][rng.range(0, 8) as usize]);
    if sex == Sex::Female && (10..=54).contains(&age) {
        a.pregnant = rng.code(1, 2);
    }
    a
}

fn date(rng: &mut Rng, year: i32) -> Date {
    Date::from_ymd(year, rng.range(1, 12) as u8, rng.range(1, 28) as u8).expect("valid date")
}

fn valid_household(seed: u64) -> Keluarga {
    let today = Date::parse("2026-06-30").expect("date");
    let mut rng = Rng(seed);
    let head_sex = if rng.range(0, 4) == 0 {
        Sex::Female
    } else {
        Sex::Male
    };
    let head_year = rng.range(1956, 2000) as i32;
    let born = date(&mut rng, head_year);
    let mut anggota = vec![member(&mut rng, born, head_sex, 1, 1, today)];
    if rng.range(0, 3) > 0 {
        let sex = if head_sex == Sex::Male {
            Sex::Female
        } else {
            Sex::Male
        };
        let y = (head_year + rng.range(0, 6) as i32 - 3).min(2005);
        let born = date(&mut rng, y);
        anggota.push(member(&mut rng, born, sex, 2, 2, today));
    }
    for _ in 0..rng.range(0, 5) {
        let y = rng.range((head_year + 15) as u64, 2025) as i32;
        let sex = if rng.range(0, 1) == 0 {
            Sex::Male
        } else {
            Sex::Female
        };
        let serial = anggota.len() as u32 + 1;
        let born = date(&mut rng, y);
        anggota.push(member(&mut rng, born, sex, 3, serial, today));
    }
    let n = anggota.len() as u32;
    let mut k = Keluarga {
        no_kk: "1101011503120001".into(),
        version: 1,
        address: Address {
            province: "11".into(),
            regency: "11.01".into(),
            district: "11.01.01".into(),
            village: "11.01.01.2001".into(),
            rt: Some("001".into()),
            rw: Some("002".into()),
            street: None,
        },
        member_count: Some(n as u16),
        anggota,
        ..Keluarga::default()
    };
    let h = &mut k.housing;
    h.ownership = rng.code(1, 5);
    if h.ownership == Some(1) {
        h.land_proof = rng.code(1, 6);
    }
    h.floor_area_m2 = Some(rng.range(u64::from(4 * n), u64::from(60 * n)) as u32);
    h.floor = rng.code(1, 9);
    h.wall = rng.code(1, 7);
    h.roof = rng.code(1, 8);
    h.drinking_water = rng.code(1, 11);
    if matches!(h.drinking_water, Some(4..=8)) {
        h.water_distance = Some([1, 2, 8][rng.range(0, 2) as usize]);
    }
    h.lighting = rng.code(1, 4);
    if h.lighting == Some(1) {
        h.power = rng.code(1, 5);
        h.pln_customer_id = Some(format!("{:012}", rng.range(1, 999_999_999_999)));
    }
    h.cooking_fuel = rng.code(0, 11);
    h.toilet = rng.code(1, 6);
    if matches!(h.toilet, Some(1..=3)) {
        h.toilet_type = rng.code(1, 4);
    }
    h.sewage_disposal = rng.code(1, 6);
    let a = &mut k.assets;
    let p = &mut a.programs;
    for x in [
        &mut p.sembako,
        &mut p.pkh,
        &mut p.blt_desa,
        &mut p.local_government_aid,
        &mut p.fertilizer_subsidy,
        &mut p.lpg_subsidy,
    ] {
        *x = rng.code(1, 2);
    }
    p.electricity_subsidy = Some(2);
    let m = &mut a.movable;
    for x in [
        &mut m.gas_cylinder,
        &mut m.refrigerator,
        &mut m.air_conditioner,
        &mut m.water_heater,
        &mut m.landline,
        &mut m.flat_tv,
        &mut m.gold,
        &mut m.computer,
        &mut m.motorcycle,
        &mut m.bicycle,
        &mut m.car,
        &mut m.boat,
        &mut m.motorboat,
        &mut m.smartphone,
    ] {
        *x = rng.code(1, 2);
    }
    a.immovable.other_land = rng.code(1, 2);
    a.immovable.other_house = rng.code(1, 2);
    let l = &mut a.livestock;
    for x in [
        &mut l.cattle,
        &mut l.buffalo,
        &mut l.horse,
        &mut l.pig,
        &mut l.goat_sheep,
    ] {
        *x = Some(rng.range(0, 5) as u32);
    }
    a.internet = rng.code(0, 3);
    a.bank_account = rng.code(1, 4);
    k
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_and_validate(&bytes, &ctx());
    }

    #[test]
    fn arbitrary_json_never_panics(v in arb_json()) {
        let bytes = serde_json::to_vec(&v).expect("serialize");
        if let Err(e) = parse_keluarga(&bytes) {
            prop_assert!(!e.problems.is_empty());
        }
    }

    #[test]
    fn mutated_sample_never_panics_and_errors_name_a_path(
        picks in prop::collection::vec((any::<prop::sample::Index>(), arb_json(), any::<bool>()), 1..6)
    ) {
        let mut doc: Value = serde_json::from_str(SAMPLE).expect("sample");
        for (pick, value, remove) in picks {
            let mut all = Vec::new();
            paths(&doc, &mut Vec::new(), &mut all);
            if all.is_empty() {
                break;
            }
            let path = all[pick.index(all.len())].clone();
            if remove {
                if let Some((Step::Key(k), parent)) = path.split_last()
                    && let Some(Value::Object(o)) = at_mut(&mut doc, parent)
                {
                    o.remove(k);
                }
            } else if let Some(slot) = at_mut(&mut doc, &path) {
                *slot = value;
            }
        }
        let bytes = serde_json::to_vec(&doc).expect("serialize");
        match parse_and_validate(&bytes, &ctx()) {
            Ok(report) => prop_assert_eq!(report.valid, report.errors == 0),
            Err(e) => {
                prop_assert!(!e.problems.is_empty());
                prop_assert!(e.problems.len() <= tepat_core::parse::MAX_PROBLEMS);
            }
        }
    }

    #[test]
    fn valid_households_have_no_errors(seed in any::<u64>()) {
        let k = valid_household(seed);
        let report = validate_keluarga(&k, &ctx());
        let errors: Vec<_> = report.findings.iter().filter(|f| f.is_error()).collect();
        prop_assert!(errors.is_empty(), "seed {}: {:#?}", seed, errors);
        // And they survive the JSON round trip unchanged.
        let bytes = serde_json::to_vec(&k).expect("serialize");
        let back = parse_keluarga(&bytes).expect("parses");
        prop_assert_eq!(back, k);
    }
}
