//! Life events applied to generated families: every event kind on thousands of
//! realistic families, checking that `apply` never panics, that an applied event gives
//! version + 1 with no error finding, and that a sealed request verifies.

use std::collections::BTreeMap;

use tepat_core::codes::relationship as rel;
use tepat_core::event::{
    ChangeRequest, Destination, Event, EventContext, MemberRole, apply, seal, verify_hash,
};
use tepat_core::rulebook::Rulebook;
use tepat_core::validate::ValidationContext;
use tepat_core::{Date, Keluarga, RegionTable};
use tepat_data::{GenConfig, Generator, Population, Rng};

const WILAYAH: &str = include_str!("../../../data/wilayah.csv");
const PENDUDUK: &str = include_str!("../../../data/penduduk.csv");

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn request(k: &Keluarga, i: u64, event: Event) -> ChangeRequest {
    ChangeRequest {
        id: format!("00000000-0000-4000-8000-{i:012x}"),
        no_kk: k.no_kk.clone(),
        base_version: k.version,
        author: "pendamping-1".into(),
        time: "2026-06-30T10:00:00Z".into(),
        reason: "uji".into(),
        evidence: Vec::new(),
        confirmed_warnings: Vec::new(),
        event,
        hash: None,
    }
}

/// A plausible event for family `k`, drawn with `rng`.
fn event_for(k: &Keluarga, rng: &mut Rng) -> Event {
    let date = d("2026-06-15");
    let pick = rng.below(k.anggota.len() as u64) as usize;
    let a = &k.anggota[pick];
    let other_member = k
        .anggota
        .iter()
        .find(|m| m.nik != a.nik && m.birth_date.age_on(date) >= 17)
        .map(|m| m.nik.clone());
    match rng.below(8) {
        0 => Event::MemberDied {
            nik: a.nik.clone(),
            date,
            new_head: (a.relationship == rel::HEAD)
                .then(|| other_member.clone())
                .flatten(),
        },
        1 => Event::MemberMovedOut {
            nik: a.nik.clone(),
            date,
            destination: if rng.chance(0.8) {
                Destination::Domestic {
                    region: k.address.district.clone(),
                }
            } else {
                Destination::Abroad { country: None }
            },
            new_head: (a.relationship == rel::HEAD)
                .then(|| other_member.clone())
                .flatten(),
        },
        2 => Event::MemberNotFound {
            nik: a.nik.clone(),
            date,
            new_head: (a.relationship == rel::HEAD)
                .then(|| other_member.clone())
                .flatten(),
        },
        3 => Event::FamilyNotFound { date },
        4 => Event::VariableCorrection {
            corrections: vec![tepat_core::event::Correction {
                nik: None,
                field: "housing.floor".into(),
                value: serde_json::json!(rng.range(1, 8)),
            }],
            visited: Some(date),
        },
        5 => Event::FamilySplit {
            new_no_kk: format!("{}1506260{:03}", &k.no_kk[..6], rng.below(999) + 1),
            date,
            members: vec![MemberRole {
                nik: a.nik.clone(),
                relationship: rel::HEAD,
            }],
            address: None,
            housing: None,
            assets: None,
            remaining_head: (a.relationship == rel::HEAD)
                .then(|| other_member.clone())
                .flatten(),
        },
        6 => Event::GroundCheckConfirmed { date },
        _ => Event::Marriage {
            nik: a.nik.clone(),
            date,
            partner: None,
            partner_nik: None,
        },
    }
}

#[test]
fn events_on_generated_families_apply_cleanly_or_give_findings() {
    let regions = RegionTable::from_csv(WILAYAH).unwrap();
    let population = Population::from_csv(PENDUDUK).unwrap();
    let today = d("2026-06-30");
    let config = GenConfig {
        households: 1500,
        seed: 77,
        region: None,
        fault_rate: 0.0,
        today,
    };
    let ctx = EventContext::new(ValidationContext {
        rulebook: Rulebook::builtin(),
        regions: &regions,
        today,
    });
    let mut rng = Rng::new(5);
    let mut outcome: BTreeMap<(&'static str, bool), usize> = BTreeMap::new();
    for (i, k) in Generator::new(config, &regions, &population)
        .unwrap()
        .enumerate()
    {
        let event = event_for(&k, &mut rng);
        let kind = event.kind().name();
        let req = seal(&request(&k, i as u64, event));
        assert_eq!(verify_hash(&req), Ok(()));
        match apply(&k, &req, &ctx) {
            Ok(applied) => {
                assert_eq!(applied.keluarga.version, k.version + 1);
                assert!(
                    applied.findings.iter().all(|f| !f.is_error()),
                    "{kind}: {:?}",
                    applied.findings
                );
                if let Some(other) = &applied.other {
                    assert_eq!(other.origin_kk.as_deref(), Some(k.no_kk.as_str()));
                }
                *outcome.entry((kind, true)).or_default() += 1;
            }
            Err(findings) => {
                assert!(
                    findings.iter().any(|f| f.is_error()),
                    "{kind}: rejected without an error"
                );
                if std::env::var_os("SHOW").is_some() {
                    let rules: Vec<_> = findings.iter().map(|f| (&f.rule, &f.path)).collect();
                    println!("{kind} {rules:?}");
                }
                *outcome.entry((kind, false)).or_default() += 1;
            }
        }
    }
    println!("{outcome:?}");
    // Most plausible events on valid families apply.
    for kind in [
        "member_died",
        "member_moved_out",
        "member_not_found",
        "family_not_found",
        "variable_correction",
        "family_split",
        "ground_check_confirmed",
    ] {
        let ok = outcome.get(&(kind, true)).copied().unwrap_or(0);
        let bad = outcome.get(&(kind, false)).copied().unwrap_or(0);
        assert!(ok > 3 * bad, "{kind}: {ok} applied, {bad} rejected");
    }
}

/// Every leaf of a JSON value, as a JSON pointer.
fn pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                pointers(x, format!("{at}/{k}"), out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

#[test]
fn mutated_requests_never_panic_and_never_apply_with_errors() {
    let regions = RegionTable::from_csv(WILAYAH).unwrap();
    let population = Population::from_csv(PENDUDUK).unwrap();
    let today = d("2026-06-30");
    let config = GenConfig {
        households: 1200,
        seed: 91,
        region: Some("35".into()),
        fault_rate: 0.0,
        today,
    };
    let ctx = EventContext::new(ValidationContext {
        rulebook: Rulebook::builtin(),
        regions: &regions,
        today,
    });
    let junk = [
        serde_json::json!(null),
        serde_json::json!(""),
        serde_json::json!("x"),
        serde_json::json!(0),
        serde_json::json!(-1),
        serde_json::json!(4_294_967_296u64),
        serde_json::json!(1.5),
        serde_json::json!(true),
        serde_json::json!("2026-02-30"),
        serde_json::json!("११०१"),
        serde_json::json!({}),
        serde_json::json!([]),
        serde_json::json!("1101011205800001"),
        serde_json::json!("31.74.01"),
        serde_json::json!("2026-07-01"),
        serde_json::json!("1900-01-01"),
        serde_json::json!(7),
        serde_json::json!(255),
    ];
    let mut rng = Rng::new(17);
    let (mut parsed, mut applied) = (0, 0);
    for (i, k) in Generator::new(config, &regions, &population)
        .unwrap()
        .enumerate()
    {
        let mut event = event_for(&k, &mut rng);
        if let Event::VariableCorrection { corrections, .. } = &mut event {
            corrections[0].value = junk[rng.below(junk.len() as u64) as usize].clone();
        }
        let mut doc = serde_json::to_value(request(&k, i as u64, event)).unwrap();
        for _ in 0..=rng.below(3) {
            let mut leaves = Vec::new();
            pointers(&doc, String::new(), &mut leaves);
            let Some(p) = rng.pick(&leaves).cloned() else {
                continue;
            };
            if let Some(slot) = doc.pointer_mut(&p) {
                // Mostly keep the JSON type, so the request still parses and reaches
                // `apply` with a wrong but well-typed value.
                let same_type: Vec<&serde_json::Value> = junk
                    .iter()
                    .filter(|j| std::mem::discriminant(*j) == std::mem::discriminant(&*slot))
                    .collect();
                *slot = match rng.pick(&same_type) {
                    Some(j) if rng.chance(0.8) => (*j).clone(),
                    _ => junk[rng.below(junk.len() as u64) as usize].clone(),
                };
            }
        }
        let Ok(req) = serde_json::from_value::<ChangeRequest>(doc) else {
            continue;
        };
        parsed += 1;
        match apply(&k, &req, &ctx) {
            Ok(a) => {
                applied += 1;
                // The families start valid, so nothing applied may carry an error.
                assert!(a.findings.iter().all(|f| !f.is_error()), "{:?}", a.findings);
                assert_eq!(a.keluarga.version, k.version + 1);
            }
            Err(f) => assert!(f.iter().any(|x| x.is_error())),
        }
    }
    println!("{parsed} parsed, {applied} applied");
    assert!(
        parsed > 300 && applied > 30,
        "{parsed} parsed, {applied} applied"
    );
}
