use super::*;
use crate::date::Date;
use crate::model::Keluarga;

const SAMPLE: &str = include_str!("../../../../tests/vectors/households/sample.json");

fn sample() -> Keluarga {
    serde_json::from_str(SAMPLE).unwrap()
}

fn today() -> Date {
    Date::parse("2026-11-23").unwrap()
}

fn model_with(edit: impl FnOnce(&mut serde_json::Value)) -> Result<RankingModel, ModelError> {
    let mut v: serde_json::Value = serde_json::from_str(RankingModel::builtin_json()).unwrap();
    edit(&mut v);
    RankingModel::from_json(&v.to_string())
}

fn rules_with(
    edit: impl FnOnce(&mut serde_json::Value),
) -> Result<ProgramRules, ProgramRulesError> {
    let mut v: serde_json::Value = serde_json::from_str(ProgramRules::builtin_json()).unwrap();
    edit(&mut v);
    ProgramRules::from_json(&v.to_string())
}

#[test]
fn builtin_model_is_labelled_illustrative() {
    let m = RankingModel::builtin();
    assert!(!m.is_official());
    assert!(
        m.label().id.contains("bukan koefisien resmi BPS"),
        "{:?}",
        m.label()
    );
    assert_eq!(m.version(), "ilustratif-2026.1");
}

#[test]
fn score_records_model_version_and_explains_biggest_first() {
    let s = RankingModel::builtin().score(&sample(), today()).unwrap();
    assert_eq!(s.model_version, RankingModel::builtin().version());
    assert_eq!(
        s.group, "rural",
        "urban_rural = 2 in Aceh has no province group"
    );
    assert!((1..=10).contains(&s.desil));
    assert_eq!(s.members, 4);
    assert!(
        s.per_capita > 100_000.0 && s.per_capita < 20_000_000.0,
        "{}",
        s.per_capita
    );
    let mags: Vec<f64> = s.factors.iter().map(|f| f.contribution.abs()).collect();
    assert!(mags.windows(2).all(|w| w[0] >= w[1]), "{mags:?}");
    // The explanation sums back to the prediction.
    let total: f64 = s.baseline + s.factors.iter().map(|f| f.contribution).sum::<f64>();
    assert!((total - s.log_per_capita).abs() < 1e-9);
    assert!(s.summary.id.starts_with(&format!("Desil {}", s.desil)));
    // predict() agrees bit for bit with score().
    let p = RankingModel::builtin().predict(&sample(), today()).unwrap();
    assert_eq!(p.log_per_capita.to_bits(), s.log_per_capita.to_bits());
    assert_eq!(p.desil, s.desil);
}

#[test]
fn signs_follow_the_published_pmt_structure() {
    let m = RankingModel::builtin();
    let base = m.predict(&sample(), today()).unwrap().log_per_capita;
    let with = |f: &dyn Fn(&mut Keluarga)| {
        let mut k = sample();
        f(&mut k);
        m.predict(&k, today()).unwrap().log_per_capita
    };
    assert!(
        with(&|k| k.assets.movable.car = Some(1)) > base,
        "car raises"
    );
    assert!(
        with(&|k| k.assets.movable.refrigerator = Some(2)) < base,
        "no fridge lowers"
    );
    assert!(
        with(&|k| k.assets.movable.motorcycle = Some(2)) < base,
        "no motorcycle lowers"
    );
    assert!(
        with(&|k| k.housing.floor = Some(8)) < base,
        "earth floor lowers"
    );
    assert!(
        with(&|k| k.housing.wall = Some(6)) < base,
        "bamboo wall lowers"
    );
    assert!(
        with(&|k| k.housing.cooking_fuel = Some(10)) < base,
        "firewood lowers"
    );
    assert!(
        with(&|k| k.anggota[0].education_level = Some(19)) > base,
        "head S1 raises"
    );
    assert!(
        with(&|k| {
            let extra = k.anggota[2].clone();
            k.anggota.push(extra.clone());
            k.anggota.push(extra);
        }) < base,
        "more members lower"
    );
}

#[test]
fn region_groups_fall_back_to_national() {
    let m = RankingModel::builtin();
    let mut k = sample();
    k.urban_rural = None;
    k.address.village = "bad".into();
    assert_eq!(m.score(&k, today()).unwrap().group, "national");
    k.address.province = "31".into();
    k.urban_rural = Some(1);
    assert_eq!(m.score(&k, today()).unwrap().group, "31-urban");
    k.urban_rural = Some(2);
    assert_eq!(m.score(&k, today()).unwrap().group, "rural");
}

#[test]
fn no_active_member_is_an_error_not_a_panic() {
    let mut k = sample();
    for a in &mut k.anggota {
        a.presence = 2;
    }
    assert_eq!(
        RankingModel::builtin().score(&k, today()),
        Err(ScoreError::NoActiveMembers)
    );
}

#[test]
fn bad_model_files_name_the_problem() {
    let e = RankingModel::from_json("{").unwrap_err();
    assert!(e.to_string().contains("EOF"), "{e}");
    let e = model_with(|v| v["format"] = "x".into()).unwrap_err();
    assert_eq!(e.path, "format");
    let e =
        model_with(|v| v["variables"][11]["expr"] = "housing.flor in {1..4}".into()).unwrap_err();
    assert_eq!(e.path, "variables[11].expr (floor_modern)", "{e}");
    assert!(e.message.contains("position 1"), "{e}");
    let e = model_with(|v| v["groups"][0]["coefficients"]["nope"] = 1.0.into()).unwrap_err();
    assert_eq!(e.path, "groups[0] (national).coefficients.nope", "{e}");
    let e = model_with(|v| {
        v["groups"][0]["coefficients"]
            .as_object_mut()
            .unwrap()
            .remove("car");
    })
    .unwrap_err();
    assert!(e.message.contains("\"car\""), "{e}");
    let e = model_with(|v| {
        v["groups"].as_array_mut().unwrap().remove(0);
    })
    .unwrap_err();
    assert!(e.path.contains("extends") || e.path == "groups", "{e}");
    let e = model_with(|v| v["cut_points"]["national"][3] = 1.0.into()).unwrap_err();
    assert_eq!(e.path, "cut_points.national[3]", "{e}");
    let e =
        model_with(|v| v["cut_points"]["national"] = serde_json::json!([1.0, 2.0])).unwrap_err();
    assert!(e.message.contains("expected 9 cut points"), "{e}");
    let e =
        model_with(|v| v["variables"][0]["expr"] = "housing.pln_customer_id".into()).unwrap_err();
    assert!(e.message.contains("integer or a boolean"), "{e}");
    let e = model_with(|v| v["unknown"] = 1.into()).unwrap_err();
    assert!(e.message.contains("unknown field"), "{e}");
}

#[test]
fn pkh_counts_components_with_caps_and_amounts_from_data() {
    let rules = ProgramRules::builtin();
    let mut k = sample();
    // Three children aged 0–6: only 2 count.
    let mut kid = k.anggota[2].clone();
    kid.birth_date = Date::parse("2023-01-01").unwrap();
    kid.school_participation = None;
    kid.education_level = None;
    k.anggota.truncate(2);
    k.anggota.extend([kid.clone(), kid.clone(), kid]);
    let e = rules.eligibility(&k, 2, today());
    let pkh = &e.programs[0];
    assert_eq!(pkh.program, "pkh");
    assert!(pkh.eligible);
    assert_eq!(pkh.annual_benefit, 6_000_000);
    assert!(
        pkh.reasons
            .iter()
            .any(|r| r.rule == "pkh.komponen.anak_usia_dini"
                && r.text.id.contains("3 orang (dihitung 2 dari 3)")),
        "{:?}",
        pkh.reasons
    );
    let sembako = &e.programs[1];
    assert!(sembako.eligible);
    assert_eq!(sembako.annual_benefit, 2_400_000);
    let pbi = &e.programs[2];
    assert!(pbi.eligible);
    assert_eq!(pbi.annual_benefit, 5 * 504_000, "PBI counts persons");

    // Out of range.
    let e = rules.eligibility(&k, 5, today());
    assert!(!e.programs[0].eligible && !e.programs[1].eligible && e.programs[2].eligible);
    assert_eq!(e.programs[0].annual_benefit, 0);
}

#[test]
fn family_without_component_is_not_pkh_eligible() {
    let mut k = sample();
    k.anggota.truncate(2);
    let e = ProgramRules::builtin().eligibility(&k, 1, today());
    assert!(!e.programs[0].eligible);
    assert!(
        e.programs[0]
            .reasons
            .iter()
            .any(|r| r.rule == "pkh.no_component")
    );
    assert!(e.programs[1].eligible);
}

#[test]
fn exclusion_names_member_by_position_and_relationship_never_by_name() {
    let mut k = sample();
    k.anggota[1].employment_status = Some(5);
    let e = ProgramRules::builtin().eligibility(&k, 1, today());
    for p in &e.programs {
        assert!(!p.eligible, "{}", p.program);
        assert_eq!(p.annual_benefit, 0);
        let r = p
            .reasons
            .iter()
            .find(|r| r.rule == "exclusion.asn_tni_polri_bumn")
            .expect("exclusion reason");
        assert!(
            r.text.id.contains("Anggota ke-2 (istri/suami)"),
            "{}",
            r.text.id
        );
        assert!(
            r.text.en.contains("Member 2 (wife/husband)"),
            "{}",
            r.text.en
        );
        for a in &k.anggota {
            assert!(!r.text.id.contains(&a.name) && !r.text.id.contains(&a.nik));
        }
    }
    // An inactive member does not exclude.
    k.anggota[1].presence = 2;
    let e = ProgramRules::builtin().eligibility(&k, 1, today());
    assert!(e.programs[1].eligible);
}

#[test]
fn graduation_flags_natural_and_self_sufficient() {
    let rules = ProgramRules::builtin();
    let k = sample(); // receives PKH and Sembako (501a/b = 1) and PBI (jkn 1)
    let g = rules.graduation(&k, 6, today());
    assert!(g.graduate);
    let pkh = g.programs.iter().find(|p| p.program == "pkh").unwrap();
    assert_eq!(pkh.kind, Some(GraduationKind::Alamiah));
    let pbi = g.programs.iter().find(|p| p.program == "pbi_jkn").unwrap();
    assert_eq!(pbi.kind, Some(GraduationKind::Alamiah), "desil 6 > 5");
    let g = rules.graduation(&k, 2, today());
    let sembako = g.programs.iter().find(|p| p.program == "sembako").unwrap();
    assert_eq!(sembako.kind, None, "{g:?}");

    let mut rich = k.clone();
    rich.housing.power = Some(4);
    rich.assets.movable.gold = Some(1);
    rich.anggota[0].employment_status = Some(4);
    let g = rules.graduation(&rich, 2, today());
    assert!(g.indicators_met.len() >= 4, "{:?}", g.indicators_met);
    let sembako = g.programs.iter().find(|p| p.program == "sembako").unwrap();
    assert_eq!(sembako.kind, Some(GraduationKind::Mandiri));

    let t = rules.tally([("p1", true), ("p2", false), ("p1", true)]);
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0].graduated, t[0].target, t[0].remaining, t[0].met),
        (2, 10, 8, false)
    );
    assert_eq!(t[1].graduated, 0);
}

#[test]
fn bad_program_files_name_the_problem() {
    let e = rules_with(|v| v["programs"][0]["desil"]["max"] = 11.into()).unwrap_err();
    assert_eq!(e.path, "programs[0] (pkh).desil", "{e}");
    let e =
        rules_with(|v| v["programs"][0]["components"][4]["member"] = "age <= ".into()).unwrap_err();
    assert_eq!(
        e.path, "programs[0] (pkh).components[4].member (anak_usia_dini)",
        "{e}"
    );
    let e = rules_with(|v| v["exclusions"][0]["member"] = "age".into()).unwrap_err();
    assert!(e.message.contains("boolean"), "{e}");
    let e = rules_with(|v| v["programs"][1]["amount"] = (-1).into()).unwrap_err();
    assert!(e.message.contains("-1"), "{e}");
    // Without the `error-paths` feature a JSON type error has no path (the message
    // still has serde_json's line and column).
    #[cfg(feature = "error-paths")]
    assert_eq!(e.path, "programs[1].amount", "{e}");
    #[cfg(not(feature = "error-paths"))]
    assert!(
        e.path.is_empty() && e.message.contains("line 1 column"),
        "{e}"
    );
}

#[test]
fn cap_on_counted_components_lives_in_data() {
    let rules = rules_with(|v| v["programs"][0]["max_counted"] = 1.into()).unwrap();
    let mut k = sample();
    let mut kid = k.anggota[2].clone();
    kid.birth_date = Date::parse("2024-01-01").unwrap();
    kid.school_participation = None;
    kid.education_level = None;
    k.anggota.push(kid);
    let e = rules.eligibility(&k, 1, today());
    assert!(
        e.programs[0]
            .reasons
            .iter()
            .any(|r| r.rule == "pkh.max_counted")
    );
    let unc = ProgramRules::builtin().eligibility(&k, 1, today());
    assert!(e.programs[0].annual_benefit < unc.programs[0].annual_benefit);
}

#[test]
fn compact_decision_agrees_with_the_explained_eligibility() {
    let rules = ProgramRules::builtin();
    let mut asn = sample();
    asn.anggota[1].employment_status = Some(5);
    let mut couple = sample();
    couple.anggota.truncate(2);
    for k in [sample(), asn, couple] {
        for desil in 1..=10 {
            let d = rules.decide(&k, desil, today());
            let e = rules.eligibility(&k, desil, today());
            assert_eq!(d.programs.len(), e.programs.len());
            for (d, e) in d.programs.iter().zip(&e.programs) {
                assert_eq!(d.eligible, e.eligible, "{} at desil {desil}", e.program);
                assert_eq!(
                    d.benefit, e.annual_benefit,
                    "{} at desil {desil}",
                    e.program
                );
            }
        }
    }
}

#[test]
fn decide_into_reuses_its_storage_and_agrees_with_decide() {
    let rules = ProgramRules::builtin();
    let mut d = Decisions::default();
    let k = sample();
    let mut eligible = 0;
    for desil in 1..=10 {
        rules.decide_into(&k, desil, today(), &mut d);
        assert_eq!(d, rules.decide(&k, desil, today()));
        eligible += d.programs.iter().filter(|p| p.eligible).count();
    }
    assert!(
        eligible > 0,
        "the sample family is eligible for something in some desil"
    );
}

#[test]
fn determination_gives_the_reasons_of_exclusion_and_the_counted_components() {
    let rules = ProgramRules::builtin();
    let k = sample();
    // Eligible at desil 2: PKH by component, Sembako per family, PBI per person.
    let d = rules.determine(&k, 2, today());
    let e = rules.eligibility(&k, 2, today());
    assert_eq!(d.len(), e.programs.len());
    for (d, e) in d.iter().zip(&e.programs) {
        assert_eq!((d.eligible, d.amount), (e.eligible, e.annual_benefit));
        assert!(d.exclusions.is_empty(), "{d:?}");
    }
    let pkh = &d[0];
    assert!(!pkh.components.is_empty());
    assert_eq!(
        pkh.components.iter().map(|c| c.amount).sum::<u64>(),
        pkh.amount
    );
    let active = k.active_members().count() as u32;
    assert_eq!(d[2].persons, active);
    assert_eq!(d[2].amount, u64::from(active) * 504_000);
    // At desil 6: out of every range but PBI's (1–5), and only the desil is the reason.
    let d = rules.determine(&k, 6, today());
    for p in &d {
        assert!(!p.eligible && p.amount == 0 && p.components.is_empty());
        let rules: Vec<&str> = p.exclusions.iter().map(|r| r.rule.as_str()).collect();
        assert_eq!(rules, [format!("{}.desil", p.program)], "{p:?}");
    }
    // An ASN member: the exclusion, and the desil in range is no reason.
    let mut asn = sample();
    asn.anggota[1].employment_status = Some(5);
    for p in rules.determine(&asn, 1, today()) {
        let rules: Vec<&str> = p.exclusions.iter().map(|r| r.rule.as_str()).collect();
        assert_eq!(rules, ["exclusion.asn_tni_polri_bumn"], "{p:?}");
    }
    // No component: PKH only.
    let mut couple = sample();
    couple.anggota.truncate(2);
    let d = rules.determine(&couple, 1, today());
    let rules_of = |p: &Determination| -> Vec<String> {
        p.exclusions.iter().map(|r| r.rule.clone()).collect()
    };
    assert_eq!(rules_of(&d[0]), ["pkh.no_component"]);
    assert!(d[1].eligible && d[2].eligible);
}

#[test]
fn a_determination_gives_each_amount_as_paid_and_the_totals_per_year() {
    use super::{Payment, Period};
    let rules = ProgramRules::builtin();
    let k = sample();
    let persons = k.active_members().count() as u64;
    let d = rules.determine(&k, 2, today());
    // PKH: by component, per year as the components are paid.
    let pkh = &d[0];
    for c in &pkh.components {
        assert_eq!(c.rate.period, Period::Year);
        assert_eq!(c.amount, c.rate.amount * u64::from(c.persons));
    }
    let p = pkh.payment.as_ref().unwrap();
    assert_eq!((p.amount, p.period), (pkh.amount, Period::Year));
    assert!(p.text.id.contains("Rp2.000.000/tahun"), "{p:?}");
    // Sembako: Rp200.000 a month, Rp2.400.000 a year in the totals.
    assert_eq!(
        d[1].payment,
        Some(Payment {
            amount: 200_000,
            period: Period::Month,
            text: tepat_core_text("Rp200.000/bulan", "Rp200,000/month"),
        })
    );
    assert_eq!(d[1].amount, 2_400_000);
    // PBI JKN: Rp42.000 per person a month.
    let pbi = d[2].payment.as_ref().unwrap();
    assert_eq!((pbi.amount, pbi.period), (42_000 * persons, Period::Month));
    assert_eq!(
        pbi.text.id,
        format!(
            "{persons} jiwa × Rp42.000/jiwa/bulan = {}/bulan",
            super::rupiah((42_000 * persons) as f64, '.')
        )
    );
    assert_eq!(d[2].amount, 42_000 * 12 * persons);
    assert_eq!(
        rules.source().programs[2].rate_label().en,
        "Rp42,000/person/month"
    );
    // The sample receives PKH and Sembako; not a graduation candidate at desil 2, a
    // natural one at desil 6; no payment when not eligible.
    assert!(d[0].receiving && d[1].receiving);
    assert_eq!(d[0].graduation, rules.graduation_candidate(&k, 2, today()));
    let d6 = rules.determine(&k, 6, today());
    assert_eq!(
        d6[0].graduation,
        Some(crate::model::GraduationKind::Alamiah)
    );
    assert!(d6.iter().all(|p| p.payment.is_none()));
    assert!(
        d6[1].graduation.is_none(),
        "only PKH has graduation candidates"
    );
}

fn tepat_core_text(id: &str, en: &str) -> crate::finding::Text {
    crate::finding::Text::new(id, en)
}

#[test]
fn a_monthly_amount_counts_twelve_times_a_year_and_the_period_is_checked() {
    let mut v: serde_json::Value = serde_json::from_str(ProgramRules::builtin_json()).unwrap();
    v["programs"][1]["period"] = serde_json::json!("week");
    let e = ProgramRules::from_json(&v.to_string()).unwrap_err();
    assert!(e.path.contains("period"), "{e}");
    v["programs"][1]["period"] = serde_json::json!("year");
    v["programs"][1]["amount"] = serde_json::json!(2_400_000);
    let yearly = ProgramRules::from_json(&v.to_string()).unwrap();
    let k = sample();
    assert_eq!(
        yearly.determine(&k, 2, today())[1].amount,
        ProgramRules::builtin().determine(&k, 2, today())[1].amount
    );
}

#[test]
fn a_recorded_graduation_excludes_the_family_from_pkh_only() {
    use crate::model::{Graduated, GraduationKind};
    let rules = ProgramRules::builtin();
    let mut k = sample();
    assert!(rules.eligibility(&k, 2, today()).programs[0].eligible);
    k.pkh.graduated = Some(Graduated {
        kind: GraduationKind::Mandiri,
        date: Date::parse("2026-10-01").unwrap(),
        reason: "usaha stabil".into(),
    });
    let e = rules.eligibility(&k, 2, today());
    let pkh = &e.programs[0];
    assert!(!pkh.eligible);
    assert_eq!(pkh.annual_benefit, 0);
    let r = pkh
        .reasons
        .iter()
        .find(|r| r.rule == "pkh.graduated")
        .expect("the graduation is the reason");
    assert!(r.text.id.contains("2026-10-01") && r.text.en.contains("self-sufficient"));
    assert!(
        e.programs[1].eligible,
        "Sembako is not ended by a PKH graduation"
    );
    let d = rules.decide(&k, 2, today());
    assert!(d.programs[0].graduated && !d.programs[0].eligible);
    assert!(!d.programs[1].graduated && d.programs[1].eligible);
}

#[test]
fn natural_candidates_need_pkh_and_a_desil_above_the_range_or_no_component() {
    use crate::model::{Graduated, GraduationKind};
    let rules = ProgramRules::builtin();
    let k = sample(); // receives PKH, has components
    assert!(rules.receives_pkh(&k, today()));
    assert_eq!(rules.graduation_candidate(&k, 4, today()), None);
    assert_eq!(
        rules.graduation_candidate(&k, 6, today()),
        Some(GraduationKind::Alamiah)
    );
    // No component left: only the head and spouse, aged 30–60.
    let mut adults = k.clone();
    adults.anggota.truncate(2);
    assert_eq!(
        rules.graduation_candidate(&adults, 2, today()),
        Some(GraduationKind::Alamiah)
    );
    // Not receiving PKH: never a candidate.
    let mut other = k.clone();
    other.assets.programs.pkh = Some(2);
    assert!(!rules.receives_pkh(&other, today()));
    assert_eq!(rules.graduation_candidate(&other, 9, today()), None);
    // Already graduated: no longer a candidate.
    let mut done = k.clone();
    done.pkh.graduated = Some(Graduated {
        kind: GraduationKind::Alamiah,
        date: Date::parse("2026-10-01").unwrap(),
        reason: "desil 6".into(),
    });
    assert_eq!(rules.graduation_candidate(&done, 6, today()), None);
    // Self-sufficient by the indicators, within the range.
    let mut rich = k.clone();
    rich.housing.power = Some(4);
    rich.assets.movable.gold = Some(1);
    rich.anggota[0].employment_status = Some(4);
    assert_eq!(
        rules.graduation_candidate(&rich, 2, today()),
        Some(GraduationKind::Mandiri)
    );
}

#[test]
fn old_records_without_a_pkh_status_still_parse_and_round_trip() {
    let k = sample();
    assert!(k.pkh.graduated.is_none());
    let text = serde_json::to_string(&k).unwrap();
    assert!(
        !text.contains("\"pkh\":{"),
        "an empty status is not written"
    );
    let mut g = k.clone();
    g.pkh.graduated = Some(crate::model::Graduated {
        kind: crate::model::GraduationKind::Mandiri,
        date: Date::parse("2026-10-01").unwrap(),
        reason: "r".into(),
    });
    let back: Keluarga = serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
    assert_eq!(back, g);
}
