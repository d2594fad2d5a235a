use super::*;
use crate::model::GeoPoint;
use crate::region::RegionTable;

const KK: &str = "1101011503120001";
const NIK: &str = "1101014308830002";
const OTHER_KK: &str = "1101011503120002";
const VILLAGE: &str = "11.01.01.2001";
const OTHER_VILLAGE: &str = "11.01.01.2002";

fn regions() -> RegionTable {
    RegionTable::from_csv(
        "11,Aceh\n11.01,Kabupaten Aceh Selatan\n11.01.01,Bakongan\n11.01.01.2001,Keude Bakongan\n11.01.01.2002,Ujong Mangki\n",
    )
    .unwrap()
}

fn today() -> Date {
    Date::parse("2026-11-23").unwrap()
}

fn rules() -> &'static Rules {
    Rules::builtin()
}

fn sanggah() -> Filing {
    Filing {
        kind: Kind::Sanggah,
        filer: Filer {
            nik: NIK.into(),
            no_kk: KK.into(),
            name: "Siti Aminah".into(),
            phone: "0812-3456-7890".into(),
        },
        no_kk: Some(OTHER_KK.into()),
        village: None,
        address: None,
        members: vec![],
        reasons: vec!["mampu".into()],
        text: "Memiliki dua mobil".into(),
        gps: Some(GeoPoint {
            lat: 3.1,
            lon: 97.4,
            accuracy_m: Some(8.0),
        }),
        has_photo: true,
    }
}

fn usul() -> Filing {
    Filing {
        kind: Kind::Usul,
        no_kk: None,
        village: Some(VILLAGE.into()),
        address: Some("Dusun Baru RT 01".into()),
        members: vec![ProposedMember {
            name: "Budi".into(),
            nik: None,
        }],
        reasons: vec!["miskin_tidak_terdaftar".into()],
        gps: None,
        has_photo: false,
        ..sanggah()
    }
}

fn home() -> FilerFamily {
    FilerFamily {
        no_kk: KK.into(),
        village: VILLAGE.into(),
    }
}

fn target(village: &str, active: bool) -> TargetFamily {
    TargetFamily {
        village: village.into(),
        active,
    }
}

fn check(
    filing: &Filing,
    home: Option<&FilerFamily>,
    t: Option<&TargetFamily>,
) -> Result<FilingOutcome, Vec<String>> {
    let table = regions();
    let facts = FilingFacts {
        regions: &table,
        today: today(),
        filer_family: home,
        target: t,
    };
    rules()
        .check_filing(filing, &facts)
        .map_err(|e| e.into_iter().map(|r| r.code).collect())
}

fn refused(filing: &Filing, home: Option<&FilerFamily>, t: Option<&TargetFamily>) -> Vec<String> {
    check(filing, home, t).expect_err("refused")
}

#[test]
fn the_builtin_rules_load_and_label_every_state() {
    let r = rules();
    assert_eq!(r.version(), "partisipasi-2026.1");
    for s in State::ALL {
        assert_ne!(r.state_label(s).id, s.as_str(), "{s} has a label");
        assert_eq!(State::parse(s.as_str()), Some(s));
    }
    assert!(r.is_final(State::Declined) && r.is_final(State::Ranked));
    assert!(!r.is_final(State::Agreed));
}

#[test]
fn a_bad_rules_file_names_its_place() {
    let mut v: serde_json::Value = serde_json::from_str(Rules::builtin_json()).unwrap();
    v["cutoff_day"] = 31.into();
    assert_eq!(
        Rules::from_json(&v.to_string()).unwrap_err().path,
        "cutoff_day"
    );
    let mut v: serde_json::Value = serde_json::from_str(Rules::builtin_json()).unwrap();
    v["actions"][1]["reasons"] = "nope".into();
    assert_eq!(
        Rules::from_json(&v.to_string()).unwrap_err().path,
        "actions[1].reasons"
    );
    let mut v: serde_json::Value = serde_json::from_str(Rules::builtin_json()).unwrap();
    v["states"].as_array_mut().unwrap().pop();
    assert_eq!(Rules::from_json(&v.to_string()).unwrap_err().path, "states");
    assert!(Rules::from_json("{").is_err());
}

#[test]
fn a_sanggah_of_the_same_village_is_an_objection() {
    let t = target(VILLAGE, true);
    let out = check(&sanggah(), Some(&home()), Some(&t)).unwrap();
    assert_eq!(
        out.target,
        Target::Objection {
            no_kk: OTHER_KK.into()
        }
    );
    assert_eq!(out.village, VILLAGE);
    assert_eq!(out.duplicate_key.len(), 64);
    assert!(!out.duplicate_key.contains(NIK));
}

#[test]
fn a_sanggah_of_another_village_an_unknown_or_an_inactive_family_gets_one_answer() {
    let other = target(OTHER_VILLAGE, true);
    let inactive = target(VILLAGE, false);
    let table = regions();
    let h = home();
    let answer = |t: Option<&TargetFamily>| {
        let facts = FilingFacts {
            regions: &table,
            today: today(),
            filer_family: Some(&h),
            target: t,
        };
        rules().check_filing(&sanggah(), &facts).unwrap_err()
    };
    let a = answer(Some(&other));
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].code, "sanggah.target");
    assert_eq!(answer(None), a, "unknown answers as another village");
    assert_eq!(
        answer(Some(&inactive)),
        a,
        "inactive answers as another village"
    );
}

#[test]
fn a_sanggah_filer_must_be_an_active_member_with_the_given_kk() {
    let t = target(VILLAGE, true);
    assert_eq!(refused(&sanggah(), None, Some(&t)), ["sanggah.filer"]);
    let elsewhere = FilerFamily {
        no_kk: OTHER_KK.into(),
        village: VILLAGE.into(),
    };
    assert_eq!(
        refused(&sanggah(), Some(&elsewhere), Some(&t)),
        ["sanggah.filer"]
    );
}

#[test]
fn a_sanggah_needs_photo_gps_and_a_target() {
    let t = target(VILLAGE, true);
    let mut f = sanggah();
    f.gps = None;
    f.has_photo = false;
    assert_eq!(
        refused(&f, Some(&home()), Some(&t)),
        ["gps.required", "photo.required"]
    );
    let mut f = sanggah();
    f.no_kk = None;
    assert_eq!(refused(&f, Some(&home()), Some(&t)), ["no_kk"]);
    let mut f = sanggah();
    f.no_kk = Some("12345".into());
    assert_eq!(refused(&f, Some(&home()), Some(&t)), ["no_kk"]);
    let mut f = sanggah();
    f.gps = Some(GeoPoint {
        lat: 200.0,
        lon: 0.0,
        accuracy_m: None,
    });
    assert_eq!(refused(&f, Some(&home()), Some(&t)), ["gps"]);
}

#[test]
fn the_filer_is_checked_by_structure_and_every_problem_is_named() {
    let mut f = usul();
    f.filer.nik = "1101014308830000".into();
    f.filer.no_kk = "99".into();
    f.filer.name = "  ".into();
    f.filer.phone = "12345".into();
    f.reasons = vec!["mampu".into()];
    f.text = String::new();
    assert_eq!(
        refused(&f, None, None),
        [
            "filer.nik",
            "filer.no_kk",
            "filer.name",
            "filer.phone",
            "reasons",
            "text"
        ]
    );
}

#[test]
fn errors_never_echo_the_submitted_values() {
    let mut f = sanggah();
    f.filer.nik = "1101019999990000".into();
    f.filer.name = "x".repeat(101);
    let table = regions();
    let facts = FilingFacts {
        regions: &table,
        today: today(),
        filer_family: None,
        target: None,
    };
    for r in rules().check_filing(&f, &facts).unwrap_err() {
        for text in [&r.message.id, &r.message.en] {
            assert!(
                !text.contains("1101019999990000")
                    && !text.contains("xxxx")
                    && !text.contains(OTHER_KK),
                "{text}"
            );
        }
    }
}

#[test]
fn phones() {
    for ok in [
        "081234567890",
        "+62 812 3456 7890",
        "6281234567",
        "0812-3456-789",
    ] {
        assert!(filing::valid_phone(ok), "{ok}");
    }
    for bad in [
        "",
        "0212345678",
        "+1 812 345 6789",
        "08123",
        "0812345678901234",
        "0812abc45678",
    ] {
        assert!(!filing::valid_phone(bad), "{bad}");
    }
}

#[test]
fn an_usul_of_a_new_family_and_of_a_registered_one() {
    let out = check(&usul(), None, None).unwrap();
    assert_eq!(out.target, Target::NewFamily);
    assert_eq!(out.village, VILLAGE);
    let mut f = usul();
    f.no_kk = Some(OTHER_KK.into());
    let t = target(OTHER_VILLAGE, true);
    let out = check(&f, None, Some(&t)).unwrap();
    assert_eq!(
        out.target,
        Target::GroundCheck {
            no_kk: OTHER_KK.into()
        }
    );
    assert_eq!(
        out.village, OTHER_VILLAGE,
        "the register's village handles it"
    );
    let gone = target(OTHER_VILLAGE, false);
    assert_eq!(
        check(&f, None, Some(&gone)).unwrap().target,
        Target::NewFamily
    );
}

#[test]
fn an_usul_needs_a_real_village_and_members() {
    let mut f = usul();
    f.village = Some("11.01.01".into());
    f.members.clear();
    assert_eq!(refused(&f, None, None), ["village", "members"]);
    let mut f = usul();
    f.village = Some("11.01.01.2999".into());
    f.members = vec![
        ProposedMember {
            name: "".into(),
            nik: None,
        },
        ProposedMember {
            name: "Ani".into(),
            nik: Some("11010143088".into()),
        },
    ];
    assert_eq!(
        refused(&f, None, None),
        ["village", "members", "members.nik"]
    );
}

#[test]
fn the_duplicate_key_is_filer_target_and_kind() {
    let a = check(&usul(), None, None).unwrap().duplicate_key;
    let mut same = usul();
    same.text = "Alasan lain".into();
    same.members[0].name = "  BUDI ".into();
    assert_eq!(check(&same, None, None).unwrap().duplicate_key, a);
    let mut other = usul();
    other.filer.nik = "1101011402100003".into();
    assert_ne!(check(&other, None, None).unwrap().duplicate_key, a);
    let t = target(VILLAGE, true);
    let mut as_sanggah = sanggah();
    as_sanggah.no_kk = Some(OTHER_KK.into());
    let mut as_usul = usul();
    as_usul.no_kk = Some(OTHER_KK.into());
    assert_ne!(
        check(&as_sanggah, Some(&home()), Some(&t))
            .unwrap()
            .duplicate_key,
        check(&as_usul, None, Some(&t)).unwrap().duplicate_key
    );
}

fn case(kind: Kind, state: State, agreed: Option<&str>) -> CaseFacts {
    CaseFacts {
        kind,
        state,
        agreed_on: agreed.map(|d| Date::parse(d).unwrap()),
    }
}

fn req<'a>(action: &'a str, role: &'a str) -> Request<'a> {
    Request {
        action,
        role,
        reason: None,
        has_record: false,
    }
}

fn decide(c: &CaseFacts, r: Request<'_>) -> Result<State, String> {
    rules()
        .decide(c, r, today())
        .map(|d| d.to)
        .map_err(|e| e.code)
}

#[test]
fn the_whole_path_of_a_sanggah() {
    let mut c = case(Kind::Sanggah, State::Filed, None);
    let steps: [(&str, &str, Option<&str>, bool, State); 6] = [
        ("check", "system", None, false, State::Checked),
        (
            "request_visit",
            "operator_desa",
            None,
            false,
            State::Checked,
        ),
        (
            "open_deliberation",
            "operator_desa",
            None,
            false,
            State::Deliberation,
        ),
        ("agree", "operator_desa", None, true, State::Agreed),
        (
            "start_verification",
            "dinsos_admin",
            None,
            false,
            State::Verification,
        ),
        ("verify", "dinsos_admin", None, false, State::Verified),
    ];
    for (action, role, reason, has_record, to) in steps {
        let r = Request {
            action,
            role,
            reason,
            has_record,
        };
        assert_eq!(decide(&c, r), Ok(to), "{action}");
        c.state = to;
        if to == State::Agreed {
            c.agreed_on = Some(today());
        }
    }
    assert_eq!(
        decide(&c, req("enter_ranking", "system")),
        Ok(State::Ranked)
    );
}

#[test]
fn a_wrong_role_is_refused() {
    let c = case(Kind::Usul, State::Verification, Some("2026-11-20"));
    assert_eq!(
        decide(&c, req("verify", "operator_desa")),
        Err("action.role".into())
    );
    assert_eq!(
        decide(&c, req("verify", "public")),
        Err("action.role".into())
    );
    let c = case(Kind::Usul, State::Deliberation, None);
    let agree = Request {
        has_record: true,
        ..req("agree", "dinsos_admin")
    };
    assert_eq!(decide(&c, agree), Err("action.role".into()));
}

#[test]
fn a_skipped_step_is_refused() {
    let c = case(Kind::Usul, State::Checked, None);
    assert_eq!(
        decide(&c, req("verify", "dinsos_admin")),
        Err("action.state".into())
    );
    let agree = Request {
        has_record: true,
        ..req("agree", "operator_desa")
    };
    assert_eq!(decide(&c, agree), Err("action.state".into()));
}

#[test]
fn a_second_decision_is_refused() {
    for state in [State::Verified, State::Declined, State::NotAgreed] {
        let c = case(Kind::Usul, state, Some("2026-11-20"));
        assert_eq!(
            decide(&c, req("verify", "dinsos_admin")),
            Err("action.decided".into()),
            "{state}"
        );
    }
    let c = case(Kind::Usul, State::Declined, Some("2026-11-20"));
    let decline = Request {
        reason: Some("tidak_layak"),
        ..req("decline", "dinsos_admin")
    };
    assert_eq!(decide(&c, decline), Err("action.decided".into()));
}

#[test]
fn a_decision_after_the_window_is_refused_and_the_case_expires() {
    let c = case(Kind::Sanggah, State::Verification, Some("2026-11-01"));
    assert_eq!(rules().deadline(&c), Date::parse("2026-11-15").ok());
    assert_eq!(rules().state_on(&c, today()), State::Expired);
    assert_eq!(
        decide(&c, req("verify", "dinsos_admin")),
        Err("action.expired".into())
    );
    assert_eq!(decide(&c, req("expire", "system")), Ok(State::Expired));
    let within = case(Kind::Sanggah, State::Verification, Some("2026-11-09"));
    assert_eq!(rules().state_on(&within, today()), State::Verification);
    assert_eq!(
        decide(&within, req("verify", "dinsos_admin")),
        Ok(State::Verified)
    );
    assert_eq!(
        decide(&within, req("expire", "system")),
        Err("action.state".into())
    );
    let usul = case(Kind::Usul, State::Verification, Some("2026-01-01"));
    assert_eq!(
        rules().deadline(&usul),
        None,
        "an usul has no window in the data"
    );
    assert_eq!(
        decide(&usul, req("verify", "dinsos_admin")),
        Ok(State::Verified)
    );
}

#[test]
fn records_and_reasons_are_required_where_the_data_says() {
    let c = case(Kind::Usul, State::Deliberation, None);
    assert_eq!(
        decide(&c, req("agree", "operator_desa")),
        Err("action.record".into())
    );
    let no_reason = Request {
        has_record: true,
        ..req("disagree", "operator_desa")
    };
    assert_eq!(decide(&c, no_reason), Err("action.reason".into()));
    let wrong_list = Request {
        reason: Some("tidak_layak"),
        ..no_reason
    };
    assert_eq!(decide(&c, wrong_list), Err("action.reason".into()));
    let ok = Request {
        reason: Some("tidak_sesuai_fakta"),
        ..no_reason
    };
    assert_eq!(decide(&c, ok), Ok(State::NotAgreed));
    assert_eq!(
        decide(&c, req("fly", "operator_desa")),
        Err("action.unknown".into())
    );
}

#[test]
fn an_appeal_is_once_of_a_declined_case() {
    let r = rules();
    assert!(r.check_appeal(State::Declined, false, 0).is_ok());
    assert_eq!(
        r.check_appeal(State::Declined, false, 1).unwrap_err().code,
        "appeal.used"
    );
    assert_eq!(
        r.check_appeal(State::Declined, true, 0).unwrap_err().code,
        "appeal.used"
    );
    assert_eq!(
        r.check_appeal(State::Verified, false, 0).unwrap_err().code,
        "appeal.state"
    );
}

#[test]
fn the_cut_off_and_pull_days_choose_the_quarter() {
    let r = rules();
    let d = |s: &str| Date::parse(s).unwrap();
    assert_eq!(r.pull_date(d("2026-12-17")), d("2026-12-18"));
    assert_eq!(r.pull_date(d("2026-12-18")), d("2027-01-18"));
    assert_eq!(r.ranking_quarter(d("2026-12-17")), "2026Q4");
    assert_eq!(r.ranking_quarter(d("2026-12-20")), "2027Q1");
    assert_eq!(r.ranking_quarter(d("2026-03-31")), "2026Q2");
}
