//! The structural checks in Rust: No. KK, address, GPS, PLN customer id, and each
//! member's NIK, name and dates. Each check runs once; a finding's path and message are
//! built only when it fires.

use std::collections::BTreeMap;

use super::{MemberPrefix, push};
use crate::finding::{Finding, Severity, Text, values};
use crate::model::Keluarga;
use crate::nik::{IdContext, kk_findings, nik_findings};
use crate::region::{Level, RegionTable};

/// The family's structural checks: its No. KK (and those it came from or went to), the
/// address, the GPS point and the PLN customer id. `known` caches the district of the
/// last identifier found in the region table (see [`nik_findings`]).
pub(super) fn check_family(
    k: &Keluarga,
    ids: &IdContext,
    known: &mut [u8; 6],
    out: &mut Vec<Finding>,
) {
    kk_findings(&k.no_kk, ids, &|| "no_kk".into(), known, out);
    if let Some(kk) = &k.origin_kk {
        kk_findings(kk, ids, &|| "origin_kk".into(), known, out);
    }
    if let Some(kk) = &k.merged_into {
        kk_findings(kk, ids, &|| "merged_into".into(), known, out);
    }
    check_address(k, ids.regions, out);
    check_gps(k, out);
    if let Some(id) = &k.housing.pln_customer_id
        && (id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()))
    {
        pln_finding(id, out);
    }
}

fn is_child(code: &str, parent: &str) -> bool {
    code.len() > parent.len() && code.starts_with(parent) && code.as_bytes()[parent.len()] == b'.'
}

/// The finding of a malformed PLN customer id (cold, out of line).
#[cold]
#[inline(never)]
fn pln_finding(id: &str, out: &mut Vec<Finding>) {
    push(
        out,
        "housing.pln_customer_id",
        Severity::Error,
        "housing.pln_customer_id".into(),
        Text::new(
            "ID pelanggan PLN harus 12 digit angka; yang diisi {length} karakter.",
            "The PLN customer id must have 12 digits; {length} characters were entered.",
        ),
        values([("length", id.chars().count().to_string())]),
    );
}

/// The address: each level's code has its shape, lies within the level above and is in
/// the region table; RT and RW are 1–3 digits.
fn check_address(k: &Keluarga, regions: &RegionTable, out: &mut Vec<Finding>) {
    let a = &k.address;
    let levels = [
        ("province", &a.province, Level::Province),
        ("regency", &a.regency, Level::Regency),
        ("district", &a.district, Level::District),
        ("village", &a.village, Level::Village),
    ];
    // The table holds every region's parents: a code above a listed village is listed.
    let village_known = regions.contains(&a.village);
    let mut parent: Option<&str> = None;
    for (name, code, level) in levels {
        let path = || format!("address.{name}");
        if Level::of(code) != Some(level) {
            push(
                out,
                "address.format",
                Severity::Error,
                path(),
                Text::new(
                    "Kode wilayah {level} harus berbentuk {shape}.",
                    "The {level} region code must have the form {shape}.",
                ),
                values([
                    ("level", name.to_owned()),
                    (
                        "shape",
                        ["PP", "PP.KK", "PP.KK.CC", "PP.KK.CC.DDDD"][level as usize].to_owned(),
                    ),
                ]),
            );
            return;
        }
        if let Some(p) = parent
            && !is_child(code, p)
        {
            push(
                out,
                "address.hierarchy",
                Severity::Error,
                path(),
                Text::new(
                    "Kode {level} {code} tidak berada di bawah {parent}.",
                    "The {level} code {code} does not lie within {parent}.",
                ),
                values([
                    ("level", name.to_owned()),
                    ("code", code.clone()),
                    ("parent", p.to_owned()),
                ]),
            );
            return;
        }
        // A device may carry only the villages of its districts: a village is checked
        // only when the table holds villages of that district.
        let known = (village_known && (code == &a.village || is_child(&a.village, code)))
            || regions.contains(code)
            || (level == Level::Village && regions.children(&a.district).next().is_none());
        if !known {
            push(
                out,
                "address.region",
                Severity::Error,
                path(),
                Text::new(
                    "Kode wilayah {code} tidak ada dalam daftar wilayah Kemendagri.",
                    "Region code {code} is not in the Kemendagri region list.",
                ),
                values([("code", code.clone())]),
            );
            return;
        }
        parent = Some(code);
    }
    for (name, v) in [("rt", &a.rt), ("rw", &a.rw)] {
        if let Some(v) = v
            && !(1..=3).contains(&v.len()) | !v.bytes().all(|b| b.is_ascii_digit())
        {
            push(
                out,
                "address.rt_rw",
                Severity::Error,
                format!("address.{name}"),
                Text::new(
                    "{part} harus berisi 1–3 digit angka.",
                    "{part} must be 1–3 digits.",
                ),
                values([("part", name.to_uppercase())]),
            );
        }
    }
}

/// The GPS point: a possible point, within Indonesia (a warning), with a
/// non-negative accuracy.
fn check_gps(k: &Keluarga, out: &mut Vec<Finding>) {
    if let Some(g) = &k.gps {
        check_point(g, out);
    }
}

/// The checks of one GPS point (path `gps`): the family's, or a filing's.
pub(crate) fn check_point(g: &crate::model::GeoPoint, out: &mut Vec<Finding>) {
    let finite = g.lat.is_finite() && g.lon.is_finite();
    if !finite || !(-90.0..=90.0).contains(&g.lat) || !(-180.0..=180.0).contains(&g.lon) {
        push(
            out,
            "gps.range",
            Severity::Error,
            "gps".into(),
            Text::new(
                "Koordinat GPS tidak mungkin: lintang harus −90..90 dan bujur −180..180.",
                "Impossible GPS point: latitude must be −90..90 and longitude −180..180.",
            ),
            BTreeMap::new(),
        );
        return;
    }
    if !(-11.5..=6.5).contains(&g.lat) || !(94.5..=141.5).contains(&g.lon) {
        push(
            out,
            "gps.outside_indonesia",
            Severity::Warning,
            "gps".into(),
            Text::new(
                "Koordinat GPS berada di luar wilayah Indonesia. Periksa kembali lokasi.",
                "The GPS point lies outside Indonesia. Check the location.",
            ),
            BTreeMap::new(),
        );
    }
    if let Some(acc) = g.accuracy_m
        && (!acc.is_finite() || acc < 0.0)
    {
        push(
            out,
            "gps.accuracy",
            Severity::Error,
            "gps.accuracy_m".into(),
            Text::new(
                "Akurasi GPS harus berupa angka meter yang tidak negatif.",
                "GPS accuracy must be a non-negative number of metres.",
            ),
            BTreeMap::new(),
        );
    }
}

/// `a == b`, comparing 16-byte texts (NIKs) as two words instead of calling
/// `memcmp` (a byte loop under wasm32).
#[inline(always)]
fn same_text(a: &str, b: &str) -> bool {
    match (
        <[u8; 16]>::try_from(a.as_bytes()),
        <[u8; 16]>::try_from(b.as_bytes()),
    ) {
        (Ok(x), Ok(y)) => u128::from_ne_bytes(x) == u128::from_ne_bytes(y),
        _ => a == b,
    }
}

/// A member's structural checks: NIK (decoded once), duplicate NIK, name, dates and
/// the destination of a move.
pub(super) fn check_member(
    k: &Keluarga,
    index: usize,
    ids: &IdContext,
    known: &mut [u8; 6],
    prefix: &MemberPrefix,
    out: &mut Vec<Finding>,
) {
    let a = &k.anggota[index];
    let at = |field: &str| format!("{}{field}", prefix.text());
    nik_findings(
        &a.nik,
        ids,
        Some(a.birth_date),
        Some(a.sex),
        &|| at("nik"),
        known,
        out,
    );
    if !a.nik.is_empty() && k.anggota[..index].iter().any(|b| same_text(&b.nik, &a.nik)) {
        push(
            out,
            "household.duplicate_nik",
            Severity::Error,
            at("nik"),
            Text::new(
                "NIK ini sudah dipakai anggota lain dalam keluarga yang sama.",
                "This NIK is already used by another member of the same family.",
            ),
            BTreeMap::new(),
        );
    }
    let name = a.name.trim();
    if name.is_empty() || (name.len() > 100 && name.chars().count() > 100) {
        push(
            out,
            "anggota.name",
            Severity::Error,
            at("name"),
            Text::new(
                "Nama harus diisi, paling banyak 100 karakter.",
                "The name is required, at most 100 characters.",
            ),
            BTreeMap::new(),
        );
    }
    if a.birth_date > ids.today {
        push(
            out,
            "date.future",
            Severity::Error,
            at("birth_date"),
            Text::new(
                "Tanggal lahir {date} ada di masa depan.",
                "The birth date {date} lies in the future.",
            ),
            values([("date", a.birth_date.to_string())]),
        );
    } else if a.birth_date.age_on(ids.today) > 120 {
        push(
            out,
            "anggota.age_range",
            Severity::Error,
            at("birth_date"),
            Text::new(
                "Umur {age} tahun tidak mungkin (0–120 tahun).",
                "An age of {age} years is impossible (0–120).",
            ),
            values([("age", a.birth_date.age_on(ids.today).to_string())]),
        );
    }
    if let Some(d) = a.presence_date {
        if d > ids.today {
            push(
                out,
                "date.future",
                Severity::Error,
                at("presence_date"),
                Text::new(
                    "Tanggal meninggal/pindah {date} ada di masa depan.",
                    "The date of death or move {date} lies in the future.",
                ),
                values([("date", d.to_string())]),
            );
        } else if d < a.birth_date {
            push(
                out,
                "anggota.presence_date_before_birth",
                Severity::Error,
                at("presence_date"),
                Text::new(
                    "Tanggal meninggal/pindah {date} lebih awal dari tanggal lahir.",
                    "The date of death or move {date} is before the birth date.",
                ),
                values([("date", d.to_string())]),
            );
        }
    }
    if let Some(code) = &a.moved_to
        && !ids.regions.contains(code)
        && !(Level::of(code) == Some(Level::Village)
            && ids.regions.contains(&code[..8])
            && ids.regions.children(&code[..8]).next().is_none())
    {
        push(
            out,
            "anggota.moved_to",
            Severity::Error,
            at("moved_to"),
            Text::new(
                "Wilayah tujuan pindah {code} tidak ada dalam daftar wilayah Kemendagri.",
                "The destination region {code} is not in the Kemendagri region list.",
            ),
            values([("code", code.clone())]),
        );
    }
}
