//! Golden test vectors from tests/vectors/, run natively and, compiled for wasm32,
//! in headless Chromium through wasm-bindgen-test. Both compare against the same
//! expected JSON, so a pass on both means identical output.
//!
//! To regenerate expected outputs after a deliberate change (native only):
//! `TEPAT_BLESS=1 cargo test -p tepat-core --test vectors`, then review the diff.

use serde_json::Value;
#[cfg(not(target_arch = "wasm32"))]
use tepat_core::validate::STRUCTURAL_RULES;
use tepat_core::{
    Date, IdContext, Keluarga, NikRequest, RegionTable, Rulebook, ValidationContext,
    parse_and_validate, validate_nik,
};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const WILAYAH: &str = include_str!("../../../data/wilayah.csv");

/// One vector file: `{ "suite", "today", "cases": [{ "name", "input", "expected" }] }`.
struct Suite {
    file: &'static str,
    text: &'static str,
}

macro_rules! suite {
    ($name:literal) => {
        Suite {
            file: $name,
            text: include_str!(concat!("../../../tests/vectors/", $name)),
        }
    };
}

/// Runs every case of a suite through `run` and compares with `expected`.
/// Returns the number of cases checked.
fn check(suite: Suite, run: impl Fn(&Value, Date) -> Value) -> usize {
    let mut doc: Value = serde_json::from_str(suite.text).expect("vector file is JSON");
    let today = Date::parse(doc["today"].as_str().expect("today")).expect("today is a date");
    let cases = doc["cases"].as_array_mut().expect("cases");
    assert!(!cases.is_empty(), "{} has no cases", suite.file);
    let mut failures = Vec::new();
    for case in cases.iter_mut() {
        let got = run(&case["input"], today);
        if got != case["expected"] {
            failures.push(format!(
                "{}: {}\n  expected {}\n  got      {}",
                suite.file, case["name"], case["expected"], got
            ));
            case["expected"] = got;
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("TEPAT_BLESS").is_some() && !failures.is_empty() {
        let path = format!(
            "{}/../../tests/vectors/{}",
            env!("CARGO_MANIFEST_DIR"),
            suite.file
        );
        let text = serde_json::to_string_pretty(&doc).expect("serialize") + "\n";
        std::fs::write(&path, text).expect("write blessed vectors");
        return cases_len(&doc);
    }
    assert!(
        failures.is_empty(),
        "{} vector(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    cases_len(&doc)
}

fn cases_len(doc: &Value) -> usize {
    doc["cases"].as_array().map_or(0, Vec::len)
}

fn regions() -> RegionTable {
    RegionTable::from_csv(WILAYAH).expect("data/wilayah.csv loads")
}

#[test]
fn nik_vectors() {
    let regions = regions();
    let n = check(suite!("nik.json"), |input, today| {
        let req: NikRequest = serde_json::from_value(input.clone()).expect("input is a NikRequest");
        let report = validate_nik(
            &req,
            &IdContext {
                regions: &regions,
                today,
            },
        );
        serde_json::to_value(report).expect("report serializes")
    });
    assert!(n >= 10);
}

const SAMPLE_HOUSEHOLD: &str = include_str!("../../../tests/vectors/households/sample.json");

#[test]
fn sample_household_round_trips() {
    let original: Value = serde_json::from_str(SAMPLE_HOUSEHOLD).expect("sample is JSON");
    let family: Keluarga = serde_json::from_value(original.clone()).expect("sample is a Keluarga");
    assert_eq!(family.anggota.len(), 4);
    assert_eq!(family.active_members().count(), 4);
    assert_eq!(
        family.head().map(|h| h.nik.as_str()),
        Some("1101011205800001")
    );
    let again = serde_json::to_value(&family).expect("serializes");
    assert_eq!(
        again, original,
        "serialize(parse(sample)) must equal the sample"
    );
    let back: Keluarga = serde_json::from_value(again).expect("parses again");
    assert_eq!(back, family);
}

/// Applies `{ "a.b[2].c": value }` to `doc`: `null` removes the field; an index equal to
/// the array's length appends.
fn apply_patch(doc: &mut Value, patch: &Value) {
    let Some(patch) = patch.as_object() else {
        return;
    };
    for (path, value) in patch {
        let mut segs: Vec<Result<usize, String>> = Vec::new();
        for part in path.split('.') {
            let (key, rest) = part.split_once('[').unwrap_or((part, ""));
            segs.push(Err(key.to_owned()));
            for idx in rest.split('[').filter(|s| !s.is_empty()) {
                segs.push(Ok(idx.trim_end_matches(']').parse().expect("index")));
            }
        }
        let (last, parents) = segs.split_last().expect("non-empty path");
        let mut at = &mut *doc;
        for s in parents {
            at = match s {
                Err(k) => at
                    .as_object_mut()
                    .expect("object")
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Default::default())),
                Ok(i) => &mut at.as_array_mut().expect("array")[*i],
            };
        }
        match (last, value.is_null()) {
            (Err(k), true) => {
                at.as_object_mut().expect("object").remove(k);
            }
            (Err(k), false) => {
                at.as_object_mut()
                    .expect("object")
                    .insert(k.clone(), value.clone());
            }
            (Ok(i), _) => {
                let arr = at.as_array_mut().expect("array");
                if *i == arr.len() {
                    arr.push(value.clone());
                } else {
                    arr[*i] = value.clone();
                }
            }
        }
    }
}

/// The ids of the findings a case expects, written by hand next to the blessed output.
fn rule_ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|x| x["rule"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids.dedup();
    ids
}

std::thread_local! {
    static MISMATCHES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Fails if any case's findings differ from its hand-written `expect_rules`.
fn assert_expect_rules() {
    let m = MISMATCHES.with(|m| std::mem::take(&mut *m.borrow_mut()));
    assert!(
        m.is_empty(),
        "{} case(s) differ from expect_rules:\n{}",
        m.len(),
        m.join("\n")
    );
}

/// Runs a household case: `{ "rule", "patch" | "raw", "expect_rules" }` against the sample.
fn run_household_case(input: &Value, today: Date, regions: &RegionTable) -> Value {
    let bytes = match input.get("raw") {
        Some(raw) => raw.as_str().expect("raw is a string").as_bytes().to_vec(),
        None => {
            let mut doc: Value = serde_json::from_str(SAMPLE_HOUSEHOLD).expect("sample");
            apply_patch(&mut doc, &input["patch"]);
            serde_json::to_vec(&doc).expect("serialize")
        }
    };
    let ctx = ValidationContext {
        rulebook: Rulebook::builtin(),
        regions,
        today,
    };
    let out = match parse_and_validate(&bytes, &ctx) {
        Ok(report) => serde_json::to_value(report).expect("report"),
        Err(e) => serde_json::json!({ "parse_error": e }),
    };
    if let Some(want) = input.get("expect_rules") {
        let mut want: Vec<String> = serde_json::from_value(want.clone()).expect("expect_rules");
        want.sort();
        let got = rule_ids(&out);
        if got != want {
            MISMATCHES.with(|m| {
                m.borrow_mut().push(format!(
                    "{} / {}: expect_rules {want:?}, got {got:?}",
                    input["rule"], input["patch"]
                ))
            });
        }
    }
    out
}

#[test]
fn household_rule_vectors() {
    let regions = regions();
    let n = check(suite!("rules.json"), |input, today| {
        run_household_case(input, today, &regions)
    });
    assert_expect_rules();
    assert!(n >= 60);
}

/// Every rule (rulebook and Rust) has a failing and a passing case in rules.json.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn every_rule_has_a_failing_and_a_passing_case() {
    let doc: Value =
        serde_json::from_str(include_str!("../../../tests/vectors/rules.json")).expect("JSON");
    let mut all: Vec<String> = Rulebook::builtin()
        .rules()
        .iter()
        .map(|r| r.id.clone())
        .collect();
    all.extend(STRUCTURAL_RULES.iter().map(|s| s.to_string()));
    let cases = doc["cases"].as_array().expect("cases");
    let mut missing = Vec::new();
    for id in &all {
        let mine: Vec<&Value> = cases
            .iter()
            .filter(|c| c["input"]["rule"].as_str() == Some(id))
            .collect();
        let fails = mine.iter().any(|c| rule_ids(&c["expected"]).contains(id));
        let passes = mine.iter().any(|c| !rule_ids(&c["expected"]).contains(id));
        if !fails || !passes {
            missing.push(format!("{id} (failing: {fails}, passing: {passes})"));
        }
    }
    assert!(missing.is_empty(), "rules without vectors: {missing:#?}");
}

#[test]
fn parse_vectors() {
    let regions = regions();
    let n = check(suite!("parse.json"), |input, today| {
        run_household_case(input, today, &regions)
    });
    assert_expect_rules();
    assert!(n >= 8);
}

#[test]
fn expression_vectors() {
    use tepat_core::expr::Expr;
    use tepat_core::fields::{Scope, Value as V};
    let family: Keluarga = serde_json::from_str(SAMPLE_HOUSEHOLD).expect("sample");
    let n = check(suite!("expr.json"), |input, today| {
        let src = input["expr"].as_str().expect("expr");
        let member = input.get("member").and_then(Value::as_u64);
        let scope = if member.is_some() {
            Scope::Anggota
        } else {
            Scope::Keluarga
        };
        match Expr::compile(src, scope) {
            Err(e) => {
                serde_json::json!({ "error": { "position": e.position, "message": e.message } })
            }
            Ok(expr) => match expr.eval_on(&family, member.map(|i| i as usize), today) {
                V::Null => Value::Null,
                V::Int(n) => serde_json::json!(n),
                V::Bool(b) => serde_json::json!(b),
                V::Date(d) => serde_json::json!(d.to_string()),
                V::Text => serde_json::json!("(text)"),
            },
        }
    });
    assert!(n >= 20);
}

/// Life events: `tests/vectors/events.json` (applying change requests),
/// `tests/vectors/new_family.json` (a new family applied to no family) and
/// `tests/vectors/events_hash.json` (canonical form, content hash, tamper check).
#[test]
fn event_vectors() {
    use std::collections::BTreeMap;
    use tepat_core::event::{
        ChangeRequest, EventContext, RegisterFacts, apply, apply_new_family, canonical_json, seal,
        verify_hash,
    };

    fn leaves(v: &Value, path: String, out: &mut BTreeMap<String, Value>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    leaves(x, p, out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    leaves(x, format!("{path}[{i}]"), out);
                }
            }
            _ => {
                out.insert(path, v.clone());
            }
        }
    }
    fn changes(before: &Keluarga, after: &Keluarga) -> Value {
        let (mut b, mut a) = (BTreeMap::new(), BTreeMap::new());
        leaves(
            &serde_json::to_value(before).expect("json"),
            String::new(),
            &mut b,
        );
        leaves(
            &serde_json::to_value(after).expect("json"),
            String::new(),
            &mut a,
        );
        let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
        let list: Vec<Value> = keys
            .into_iter()
            .filter(|k| b.get(*k) != a.get(*k))
            .map(|k| {
                serde_json::json!({
                    "path": k,
                    "from": b.get(k).cloned().unwrap_or(Value::Null),
                    "to": a.get(k).cloned().unwrap_or(Value::Null),
                })
            })
            .collect();
        Value::Array(list)
    }
    fn summary(k: &Keluarga) -> Value {
        serde_json::json!({
            "no_kk": k.no_kk,
            "version": k.version,
            "status": k.status,
            "origin_kk": k.origin_kk,
            "merged_into": k.merged_into,
            "member_count": k.member_count,
            "anggota": k.anggota.iter().map(|a| serde_json::json!([
                a.number, a.nik, a.relationship, a.presence, a.marital_status
            ])).collect::<Vec<_>>(),
        })
    }
    fn brief(findings: &[tepat_core::Finding]) -> Value {
        findings
            .iter()
            .map(|f| serde_json::json!({ "rule": f.rule, "severity": f.severity, "path": f.path }))
            .collect()
    }

    let regions = regions();
    let sample: Value = serde_json::from_str(SAMPLE_HOUSEHOLD).expect("sample");
    let n = check(suite!("events.json"), |input, today| {
        let mut doc = input
            .get("family")
            .cloned()
            .unwrap_or_else(|| sample.clone());
        if let Some(patch) = input.get("family_patch") {
            apply_patch(&mut doc, patch);
        }
        let family: Keluarga = serde_json::from_value(doc).expect("family");
        let target: Option<Keluarga> = match input.get("target") {
            Some(Value::String(s)) if s == "sample" => serde_json::from_value(sample.clone()).ok(),
            Some(t) => Some(serde_json::from_value(t.clone()).expect("target family")),
            None => None,
        };
        let req: ChangeRequest =
            serde_json::from_value(input["request"].clone()).expect("request parses");
        let ctx = EventContext {
            validation: ValidationContext {
                rulebook: Rulebook::builtin(),
                regions: &regions,
                today,
            },
            target: target.as_ref(),
        };
        match apply(&family, &req, &ctx) {
            Ok(applied) => serde_json::json!({
                "result": "applied",
                "changes": changes(&family, &applied.keluarga),
                "other": applied.other.as_ref().map(summary),
                "findings": brief(&applied.findings),
            }),
            Err(findings) => {
                serde_json::json!({ "result": "rejected", "findings": brief(&findings) })
            }
        }
    });
    assert!(n >= 20);
    // Every event type has at least one applied and one rejected case.
    let doc: Value =
        serde_json::from_str(include_str!("../../../tests/vectors/events.json")).expect("json");
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for case in doc["cases"].as_array().expect("cases") {
        let kind = case["input"]["request"]["event"]["type"]
            .as_str()
            .unwrap_or_default();
        let result = case["expected"]["result"].as_str().unwrap_or_default();
        *seen
            .entry((kind.to_owned(), result.to_owned()))
            .or_default() += 1;
    }
    for kind in [
        "member_died",
        "member_moved_out",
        "member_moved_in",
        "birth",
        "marriage",
        "family_split",
        "family_merge",
        "variable_correction",
        "member_not_found",
        "family_not_found",
        "graduation",
        "ground_check_confirmed",
    ] {
        for result in ["applied", "rejected"] {
            assert!(
                seen.contains_key(&(kind.to_owned(), result.to_owned())),
                "no {result} case for {kind}"
            );
        }
    }

    // A new family applies to no family: its cases are `new_family.json`'s; here only
    // its refusal onto a registered family.
    assert!(seen.contains_key(&("new_family".to_owned(), "rejected".to_owned())));
    let n = check(suite!("new_family.json"), |input, today| {
        let req: ChangeRequest =
            serde_json::from_value(input["request"].clone()).expect("request parses");
        let niks: Vec<String> = input["register"]["niks_registered"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let register = RegisterFacts {
            kk_registered: input["register"]["kk_registered"] == true,
            niks_registered: &niks,
        };
        let ctx = EventContext::new(ValidationContext {
            rulebook: Rulebook::builtin(),
            regions: &regions,
            today,
        });
        match apply_new_family(&req, &ctx, &register) {
            Ok(applied) => {
                let k = &applied.keluarga;
                let mut family = summary(k);
                family["village"] = serde_json::json!(k.address.village);
                family["ground_checked"] = serde_json::json!(k.ground_checked);
                family["rulebook_version"] = serde_json::json!(k.rulebook_version);
                serde_json::json!({
                    "result": "applied",
                    "family": family,
                    "findings": brief(&applied.findings),
                })
            }
            Err(findings) => {
                serde_json::json!({ "result": "rejected", "findings": brief(&findings) })
            }
        }
    });
    assert!(n >= 5);
    let doc: Value =
        serde_json::from_str(include_str!("../../../tests/vectors/new_family.json")).expect("json");
    for result in ["applied", "rejected"] {
        assert!(
            doc["cases"]
                .as_array()
                .expect("cases")
                .iter()
                .any(|c| c["expected"]["result"] == result),
            "no {result} case for new_family"
        );
    }

    let n = check(suite!("events_hash.json"), |input, _| {
        let mut req: ChangeRequest =
            serde_json::from_value(input["request"].clone()).expect("request parses");
        if input["seal"] == true {
            req = seal(&req);
        }
        if let Some(reason) = input.get("tamper_reason").and_then(Value::as_str) {
            req.reason = reason.to_owned();
        }
        // Through JSON and back: the canonical form survives a round trip.
        let again: ChangeRequest =
            serde_json::from_str(&serde_json::to_string_pretty(&req).expect("json"))
                .expect("parses");
        assert_eq!(canonical_json(&again), canonical_json(&req));
        serde_json::json!({
            "canonical": canonical_json(&req),
            "hash": req.hash,
            "verify": match verify_hash(&req) {
                Ok(()) => serde_json::json!("ok"),
                Err(e) => serde_json::to_value(e).expect("json"),
            },
        })
    });
    assert!(n >= 3);
}

/// Scoring: `tests/vectors/scoring/households.json`. Each case scores a family with
/// the built-in (illustrative) model, then checks eligibility and graduation with the
/// built-in program rules at the score's desil (or `input.desil` when given). Floats
/// are compared as IEEE-754 bits (hex), so native and wasm32 must agree bit for bit.
#[test]
fn scoring_vectors() {
    use serde_json::json;
    use tepat_core::score::{ProgramRules, RankingModel};

    let bits = |x: f64| format!("{:016x}", x.to_bits());
    let model = RankingModel::builtin();
    let rules = ProgramRules::builtin();
    let n = check(suite!("scoring/households.json"), |input, today| {
        let k: Keluarga = serde_json::from_value(input["keluarga"].clone())
            .expect("input.keluarga is a Keluarga");
        let score = match model.score(&k, today) {
            Ok(s) => json!({
                "model_version": s.model_version,
                "group": s.group,
                "members": s.members,
                "log_per_capita": bits(s.log_per_capita),
                "per_capita": bits(s.per_capita),
                "baseline": bits(s.baseline),
                "per_capita_rounded": s.per_capita.round() as u64,
                "desil": s.desil,
                "desil_province": s.desil_province,
                "desil_regency": s.desil_regency,
                "top_factors": s.factors.iter().take(5).map(|f| json!({
                    "variable": f.variable,
                    "contribution": bits(f.contribution),
                    "effect_percent": f.effect_percent,
                })).collect::<Vec<_>>(),
                "summary": s.summary,
            }),
            Err(e) => json!({ "error": e }),
        };
        let desil = input["desil"]
            .as_u64()
            .map(|d| d as u8)
            .or_else(|| score["desil"].as_u64().map(|d| d as u8));
        let Some(desil) = desil else {
            return json!({ "score": score });
        };
        let e = rules.eligibility(&k, desil, today);
        let g = rules.graduation(&k, desil, today);
        json!({
            "score": score,
            "eligibility": e.programs.iter().map(|p| json!({
                "program": p.program,
                "eligible": p.eligible,
                "annual_benefit": p.annual_benefit,
                "rules": p.reasons.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "graduation": {
                "graduate": g.graduate,
                "programs": g.programs.iter().map(|p| json!({ "program": p.program, "kind": p.kind })).collect::<Vec<_>>(),
                "indicators_met": g.indicators_met,
            },
        })
    });
    assert!(n >= 8);
}
