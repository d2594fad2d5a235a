//! [`apply_new_family`]: a family that is not in the register yet, registered from a
//! verified usul. It applies to "no family" and gives version 1.

use super::apply::{check_date, check_envelope};
use super::findings::Out;
use super::{Applied, ChangeRequest, Event, EventContext, RegisterFacts};
use crate::codes::presence;
use crate::finding::Finding;
use crate::model::{FamilyStatus, Keluarga};
use crate::validate::validate_into;

/// Applies a [`Event::NewFamily`] request to no family: the request's own fields (base
/// version 0), the event (a case named, the visit not in the future, at least one
/// member, no NIK twice), the register's facts (the No. KK not registered, no member's
/// NIK active in a registered family), then the new family, version 1, checked with the
/// core's one validation. Every error blocks: a new family has no errors of its own
/// from before. Warnings are returned with the result.
pub fn apply_new_family(
    req: &ChangeRequest,
    ctx: &EventContext,
    register: &RegisterFacts,
) -> Result<Applied, Vec<Finding>> {
    let mut out = Out::default();
    let Event::NewFamily {
        case_id,
        date,
        address,
        urban_rural,
        gps,
        housing,
        assets,
        anggota,
    } = &req.event
    else {
        out.error("event.new_family_kind", "event.type", []);
        return Err(out.findings);
    };
    check_envelope(&mut out, None, req);
    if *case_id == 0 {
        out.error("event.new_family_case", "event.case_id", []);
    }
    check_date(&mut out, *date, None, ctx.validation.today, "event.date");
    if anggota.is_empty() {
        out.error("event.new_family_empty", "event.anggota", []);
    }
    if register.kk_registered {
        out.error("event.new_family_kk_registered", "no_kk", []);
    }
    for (i, a) in anggota.iter().enumerate() {
        let path = format!("event.anggota[{i}].nik");
        if anggota[..i].iter().any(|b| b.nik == a.nik) {
            out.error("event.member_repeated", &path, []);
        } else if register.niks_registered.contains(&a.nik) {
            out.error("event.new_family_nik_registered", &path, []);
        }
    }
    if out.has_errors() {
        return Err(out.findings);
    }
    let rulebook = ctx.validation.rulebook.version().to_owned();
    let mut family = Keluarga {
        no_kk: req.no_kk.clone(),
        version: 1,
        rulebook_version: Some(rulebook),
        status: FamilyStatus::Active,
        origin_kk: None,
        merged_into: None,
        ground_checked: Some(*date),
        address: address.clone(),
        urban_rural: *urban_rural,
        gps: *gps,
        member_count: Some(anggota.len() as u16),
        housing: housing.clone(),
        assets: assets.clone(),
        anggota: Vec::with_capacity(anggota.len()),
        pkh: Default::default(),
    };
    for (i, a) in anggota.iter().enumerate() {
        let mut a = a.clone();
        a.number = Some(i as u16 + 1);
        a.presence = presence::LIVES_WITH_FAMILY;
        a.presence_date = None;
        a.moved_to = None;
        family.anggota.push(a);
    }
    let mut found = Vec::new();
    validate_into(&family, &ctx.validation, &mut found);
    if found.iter().any(Finding::is_error) {
        return Err(found.into_iter().filter(Finding::is_error).collect());
    }
    let mut findings = out.findings;
    findings.extend(found);
    Ok(Applied {
        keluarga: family,
        other: None,
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::apply;
    use crate::{Date, RegionTable, Rulebook, ValidationContext};

    const SAMPLE: &str = include_str!("../../../../tests/vectors/households/sample.json");
    const WILAYAH: &str = include_str!("../../../../data/wilayah.csv");

    fn request(sample: &Keluarga) -> ChangeRequest {
        ChangeRequest {
            id: "5f0c2a4e-8b1d-4c6e-9a3f-0000000020aa".into(),
            no_kk: "1101012010250007".into(),
            base_version: 0,
            author: "pendamping1".into(),
            time: "2026-11-20T08:00:00+07:00".into(),
            reason: "usul terverifikasi".into(),
            evidence: Vec::new(),
            event: Event::NewFamily {
                case_id: 3,
                date: Date::from_ymd(2026, 11, 19).unwrap_or_else(|| unreachable!()),
                address: sample.address.clone(),
                urban_rural: sample.urban_rural,
                gps: sample.gps,
                housing: sample.housing.clone(),
                assets: sample.assets.clone(),
                anggota: sample.anggota.clone(),
            },
            confirmed_warnings: Vec::new(),
            hash: None,
        }
    }

    /// The builtin rulebook over `regions`, on 2026-11-20.
    fn context(regions: &RegionTable) -> EventContext<'_> {
        EventContext::new(ValidationContext {
            rulebook: Rulebook::builtin(),
            regions,
            today: Date::from_ymd(2026, 11, 20).unwrap_or_else(|| unreachable!()),
        })
    }

    #[test]
    fn a_new_family_is_version_one_of_its_own_and_never_applies_onto_a_family() {
        let sample: Keluarga = serde_json::from_str(SAMPLE).expect("sample");
        let regions = RegionTable::from_csv(WILAYAH).expect("regions");
        let ctx = context(&regions);
        let req = request(&sample);
        assert!(req.event.needs_review(), "a new family is reviewed");
        assert_eq!(
            serde_json::to_value(&req.event).expect("json")["type"],
            "new_family"
        );
        let back: ChangeRequest =
            serde_json::from_str(&serde_json::to_string(&req).expect("json")).expect("parses");
        assert_eq!(back, req);

        let applied =
            apply_new_family(&req, &ctx, &RegisterFacts::default()).expect("a valid family");
        let k = &applied.keluarga;
        assert_eq!((k.no_kk.as_str(), k.version), ("1101012010250007", 1));
        assert_eq!(k.status, FamilyStatus::Active);
        assert_eq!(k.member_count, Some(4));
        assert_eq!(k.ground_checked, Date::from_ymd(2026, 11, 19));
        let numbers: Vec<_> = k.anggota.iter().map(|a| (a.number, a.presence)).collect();
        assert_eq!(
            numbers,
            [(Some(1), 1), (Some(2), 1), (Some(3), 1), (Some(4), 1)]
        );
        assert!(applied.other.is_none());

        // Onto a registered family: refused, whatever the family.
        let onto = apply(&sample, &req, &ctx).expect_err("not onto a family");
        assert_eq!(onto.len(), 1);
        assert_eq!(onto[0].rule, "event.new_family_existing");
        assert!(!onto[0].message.id.is_empty() && onto[0].message.id != onto[0].message.en);

        // The register's facts: a registered No. KK, a registered NIK.
        let niks = vec![sample.anggota[2].nik.clone()];
        let refused = apply_new_family(
            &req,
            &ctx,
            &RegisterFacts {
                kk_registered: true,
                niks_registered: &niks,
            },
        )
        .expect_err("registered");
        let rules: Vec<(&str, &str)> = refused
            .iter()
            .map(|f| (f.rule.as_str(), f.path.as_str()))
            .collect();
        assert_eq!(
            rules,
            [
                ("event.new_family_kk_registered", "no_kk"),
                ("event.new_family_nik_registered", "event.anggota[2].nik"),
            ]
        );
        for f in &refused {
            assert_ne!(f.message.id, f.rule, "{} has its words", f.rule);
        }
    }

    #[test]
    fn duplicate_niks_and_an_invalid_family_are_refused() {
        let sample: Keluarga = serde_json::from_str(SAMPLE).expect("sample");
        let regions = RegionTable::from_csv(WILAYAH).expect("regions");
        let ctx = context(&regions);
        let mut req = request(&sample);
        if let Event::NewFamily { anggota, .. } = &mut req.event {
            let first = anggota[0].nik.clone();
            anggota[3].nik = first;
        }
        let f = apply_new_family(&req, &ctx, &RegisterFacts::default()).expect_err("twice");
        assert!(
            f.iter()
                .any(|f| f.rule == "event.member_repeated" && f.path == "event.anggota[3].nik"),
            "{f:?}"
        );
        // The core's one validation: a No. KK that is not one.
        let mut req = request(&sample);
        req.no_kk = "12345".into();
        let f = apply_new_family(&req, &ctx, &RegisterFacts::default()).expect_err("bad No. KK");
        assert!(f.iter().all(Finding::is_error));
        assert!(f.iter().any(|f| f.path == "no_kk"), "{f:?}");
    }
}
