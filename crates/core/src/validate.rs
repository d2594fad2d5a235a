//! Validation of a family record: structural checks in Rust, then the rulebook's
//! variables (code lists, ranges, skip logic) and cross-field rules.
//!
//! Pure: the rulebook, the region table and "today" come in through
//! [`ValidationContext`]. Findings come out in a fixed order:
//! 1. the family's structural checks (No. KK, address, GPS, IDPEL);
//! 2. the family variables, in rulebook order;
//! 3. the family rules, in rulebook order;
//! 4. per member, in record order: structural checks (NIK, name, dates, duplicate NIK),
//!    member variables, member rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::expr::{AggregateCache, View};
use crate::fields::{Value, read_family, read_member};
use crate::finding::{Finding, Severity, Text, values};
use crate::model::{Anggota, Keluarga};
use crate::nik::{IdContext, check_kk, check_nik};
use crate::region::{Level, RegionTable};
use crate::rulebook::{
    QuickRelevance, RELEVANCE_CACHE, Rulebook, ScopeScan, VarCheck, VarType, Variable,
};

/// What validation needs from outside.
#[derive(Clone, Copy, Debug)]
pub struct ValidationContext<'a> {
    pub rulebook: &'a Rulebook,
    pub regions: &'a RegionTable,
    /// The reference date (ages, "no future date").
    pub today: Date,
}

/// The outcome of validating one family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Report {
    /// No error-severity finding (warnings need confirmation but do not block).
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    /// The rulebook version used.
    pub rulebook_version: String,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn from_findings(rulebook_version: &str, findings: Vec<Finding>) -> Report {
        let errors = findings.iter().filter(|f| f.is_error()).count();
        Report {
            valid: errors == 0,
            errors,
            warnings: findings.len() - errors,
            rulebook_version: rulebook_version.to_owned(),
            findings,
        }
    }
}

/// Validates a family. See the module docs for the order of findings.
pub fn validate_keluarga(keluarga: &Keluarga, ctx: &ValidationContext) -> Report {
    let mut findings = Vec::new();
    validate_into(keluarga, ctx, &mut findings);
    Report::from_findings(ctx.rulebook.version(), findings)
}

/// Like [`validate_keluarga`], appending to `out`, for batch use without a report per family.
pub fn validate_into(k: &Keluarga, ctx: &ValidationContext, out: &mut Vec<Finding>) {
    validate_with(k, ctx, out, true);
}

/// The validation; `quick` enables the short paths (quick scans, variables accepted
/// without the full check, rule guards). Without them every check runs in full: the
/// tests compare both.
fn validate_with(k: &Keluarga, ctx: &ValidationContext, out: &mut Vec<Finding>, quick: bool) {
    let ids = IdContext {
        regions: ctx.regions,
        today: ctx.today,
    };
    let rb = ctx.rulebook;
    // The 6-digit district prefix last found in the region table: most NIKs of a
    // family share the No. KK's prefix, so this saves most table lookups.
    let mut known = [0u8; 6];
    if !kk_fast_ok(&k.no_kk, ctx, &mut known) {
        check_kk(&k.no_kk, &ids, "no_kk", out);
    }
    if let Some(kk) = &k.origin_kk {
        check_kk(kk, &ids, "origin_kk", out);
    }
    if let Some(kk) = &k.merged_into {
        check_kk(kk, &ids, "merged_into", out);
    }
    check_address(k, ctx.regions, out);
    check_gps(k, out);
    if let Some(id) = &k.housing.pln_customer_id
        && (id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()))
    {
        pln_finding(id, out);
    }

    // The rulebook's part reads the family, then each member, once into a slot
    // array (every field of the scope), which variables and expressions then index.
    let family = read_family(k);
    let aggregates = AggregateCache::default();
    let view = View {
        keluarga: k,
        family: &family,
        member: None,
        head: k.head(),
        today: ctx.today,
        aggregates: &aggregates,
    };
    let mut cache = Relevance::new(rb);
    if quick {
        cache.fill(&rb.family_relevance, &family);
    }
    if !(quick && scan_ok(rb, &rb.family_scan, &family, &view, &mut cache)) {
        for c in &rb.family_vars {
            if !(quick && c.accepts(family[usize::from(c.slot)], &cache)) {
                check_variable(
                    rb,
                    c,
                    &family,
                    &view,
                    &mut cache,
                    &MemberPrefix::FAMILY,
                    out,
                );
            }
        }
    }
    for &i in &rb.family_rules {
        check_rule(rb, i, &view, &MemberPrefix::FAMILY, quick, out);
    }

    for (index, a) in k.anggota.iter().enumerate() {
        let prefix = &MemberPrefix::new(index);
        if !member_fast_ok(k, index, a, ctx, &mut known) {
            check_member(k, index, a, ctx, prefix, &mut known, out);
        }
        let active = a.is_active();
        let slots = &read_member(a, ctx.today);
        let view = View {
            member: Some(slots),
            ..view
        };
        cache.clear();
        if quick {
            cache.fill(&rb.member_relevance, slots);
        }
        if !(quick && active && scan_ok(rb, &rb.member_scan, slots, &view, &mut cache)) {
            for c in &rb.member_vars {
                if (active || c.all_members)
                    && !(quick && c.accepts(slots[usize::from(c.slot)], &cache))
                {
                    check_variable(rb, c, slots, &view, &mut cache, prefix, out);
                }
            }
        }
        if active {
            for &i in &rb.member_rules {
                check_rule(rb, i, &view, prefix, quick, out);
            }
        }
    }
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

fn push(
    out: &mut Vec<Finding>,
    rule: &str,
    severity: Severity,
    path: String,
    template: Text,
    vals: BTreeMap<String, String>,
) {
    out.push(Finding {
        rule: rule.to_owned(),
        severity,
        path,
        message: template.render(&vals),
        values: vals,
    });
}

/// True when `code` has the dotted shape of `level`, without allocating.
fn has_shape(code: &str, level: Level) -> bool {
    let b = code.as_bytes();
    let len = [2, 5, 8, 13][level as usize];
    b.len() == len
        && b.iter().enumerate().all(|(i, &c)| {
            if i == 2 || i == 5 || i == 8 {
                c == b'.'
            } else {
                c.is_ascii_digit()
            }
        })
}

fn is_child(code: &str, parent: &str) -> bool {
    code.len() > parent.len() && code.starts_with(parent) && code.as_bytes()[parent.len()] == b'.'
}

/// The whole address is fine: shapes right, each level within the one above, and the
/// village in the table (the table guarantees every region's parents exist).
fn address_fast_ok(k: &Keluarga, regions: &RegionTable) -> bool {
    let a = &k.address;
    has_shape(&a.province, Level::Province)
        && has_shape(&a.regency, Level::Regency)
        && has_shape(&a.district, Level::District)
        && has_shape(&a.village, Level::Village)
        && is_child(&a.regency, &a.province)
        && is_child(&a.district, &a.regency)
        && is_child(&a.village, &a.district)
        && regions.contains(&a.village)
        && a.rt.as_deref().is_none_or(rt_ok)
        && a.rw.as_deref().is_none_or(rt_ok)
}

fn rt_ok(v: &str) -> bool {
    !v.is_empty() && v.len() <= 3 && v.bytes().all(|b| b.is_ascii_digit())
}

fn two(b: &[u8]) -> u8 {
    (b[0] - b'0') * 10 + (b[1] - b'0')
}

/// The district of a 16-digit identifier exists (checked against `known` first).
fn district_known(b: &[u8], regions: &RegionTable, known: &mut [u8; 6]) -> bool {
    let Ok(district) = <[u8; 6]>::try_from(&b[..6]) else {
        return false;
    };
    if district == *known {
        return true;
    }
    let ok = regions.contains_district_digits(&district);
    if ok {
        *known = district;
    }
    ok
}

/// A No. KK that `check_kk` would pass without findings.
fn kk_fast_ok(kk: &str, ctx: &ValidationContext, known: &mut [u8; 6]) -> bool {
    let b = kk.as_bytes();
    if b.len() != 16 || !b.iter().all(u8::is_ascii_digit) || &b[12..] == b"0000" {
        return false;
    }
    let yy = i32::from(two(&b[10..12]));
    let year = if 2000 + yy <= ctx.today.year() {
        2000 + yy
    } else {
        1900 + yy
    };
    Date::from_ymd(year, two(&b[8..10]), two(&b[6..8])).is_some_and(|d| d <= ctx.today)
        && district_known(b, ctx.regions, known)
}

/// A NIK that `check_nik` would pass without findings: well formed, a known district,
/// and its date and sex equal to the member's recorded ones.
fn nik_fast_ok(a: &Anggota, ctx: &ValidationContext, known: &mut [u8; 6]) -> bool {
    let b = a.nik.as_bytes();
    if b.len() != 16 || !b.iter().all(u8::is_ascii_digit) || &b[12..] == b"0000" {
        return false;
    }
    let raw_day = two(&b[6..8]);
    let female = raw_day > 40;
    let day = if female { raw_day - 40 } else { raw_day };
    let born = a.birth_date;
    female == (a.sex == crate::nik::Sex::Female)
        && day == born.day()
        && two(&b[8..10]) == born.month()
        && i32::from(two(&b[10..12])) == born.year().rem_euclid(100)
        && born <= ctx.today
        && born.age_on(ctx.today) <= 120
        && district_known(b, ctx.regions, known)
}

/// `anggota[index].`, the path prefix of a member's findings. It is made for every
/// member but turned into text only when a finding names a path: nothing is built per
/// member (a variable-length copy is a `memory.copy` under wasm32, which V8 runs as a
/// call into the engine).
#[derive(Clone, Copy)]
struct MemberPrefix {
    index: Option<usize>,
}

impl MemberPrefix {
    /// No prefix: paths of the family itself.
    const FAMILY: MemberPrefix = MemberPrefix { index: None };

    fn new(index: usize) -> MemberPrefix {
        MemberPrefix { index: Some(index) }
    }

    fn text(&self) -> String {
        match self.index {
            Some(i) => format!("anggota[{i}]."),
            None => String::new(),
        }
    }
}

/// A name that surely passes the name check: 1–100 bytes, starting and ending with a
/// visible ASCII character (so trimming changes nothing).
fn name_fast_ok(name: &str) -> bool {
    let b = name.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => b.len() <= 100 && f.is_ascii_graphic() && l.is_ascii_graphic(),
        _ => false,
    }
}

#[inline(always)]
fn check_address(k: &Keluarga, regions: &RegionTable, out: &mut Vec<Finding>) {
    if !address_fast_ok(k, regions) {
        address_findings(k, regions, out);
    }
}

/// The address checks in full, with their findings. Out of line and cold: most
/// addresses pass [`address_fast_ok`], and code that is never run still costs a wasm
/// engine registers in the function it sits in.
#[cold]
#[inline(never)]
fn address_findings(k: &Keluarga, regions: &RegionTable, out: &mut Vec<Finding>) {
    let a = &k.address;
    let levels = [
        ("province", &a.province, Level::Province),
        ("regency", &a.regency, Level::Regency),
        ("district", &a.district, Level::District),
        ("village", &a.village, Level::Village),
    ];
    let mut parent: Option<&str> = None;
    for (name, code, level) in levels {
        let path = format!("address.{name}");
        if Level::of(code) != Some(level) {
            push(
                out,
                "address.format",
                Severity::Error,
                path,
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
            && !(code.starts_with(p) && code.as_bytes().get(p.len()) == Some(&b'.'))
        {
            push(
                out,
                "address.hierarchy",
                Severity::Error,
                path,
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
        let known = regions.contains(code)
            || (level == Level::Village && regions.children(&a.district).next().is_none());
        if !known {
            push(
                out,
                "address.region",
                Severity::Error,
                path,
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
            && (v.is_empty() || v.len() > 3 || !v.bytes().all(|b| b.is_ascii_digit()))
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

/// A GPS point that [`gps_findings`] would pass without findings.
#[inline(always)]
fn gps_fast_ok(k: &Keluarga) -> bool {
    k.gps.as_ref().is_none_or(|g| {
        (-11.5..=6.5).contains(&g.lat)
            && (94.5..=141.5).contains(&g.lon)
            && g.accuracy_m.is_none_or(|acc| acc >= 0.0 && acc.is_finite())
    })
}

#[inline(always)]
fn check_gps(k: &Keluarga, out: &mut Vec<Finding>) {
    if !gps_fast_ok(k) {
        gps_findings(k, out);
    }
}

#[cold]
#[inline(never)]
fn gps_findings(k: &Keluarga, out: &mut Vec<Finding>) {
    let Some(g) = &k.gps else { return };
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

/// A member that [`check_member`] would pass without findings (the common case,
/// checked inline; the full checks are out of line).
#[inline(always)]
fn member_fast_ok(
    k: &Keluarga,
    index: usize,
    a: &Anggota,
    ctx: &ValidationContext,
    known: &mut [u8; 6],
) -> bool {
    // `nik_fast_ok` also holds the birth date to today and to 120 years.
    nik_fast_ok(a, ctx, known)
        && name_fast_ok(&a.name)
        && a.presence_date
            .is_none_or(|d| d <= ctx.today && d >= a.birth_date)
        && a.moved_to
            .as_deref()
            .is_none_or(|c| Level::of(c).is_some() && ctx.regions.contains(c))
        && !k.anggota[..index].iter().any(|b| same_text(&b.nik, &a.nik))
}

/// The member's structural checks in full, with their findings. Cold and out of
/// line (see [`address_findings`]); [`member_fast_ok`] passes most members.
#[cold]
#[inline(never)]
fn check_member(
    k: &Keluarga,
    index: usize,
    a: &Anggota,
    ctx: &ValidationContext,
    prefix: &MemberPrefix,
    known: &mut [u8; 6],
    out: &mut Vec<Finding>,
) {
    let prefix = prefix.text();
    let at = |field: &str| format!("{prefix}{field}");
    if !nik_fast_ok(a, ctx, known) {
        let ids = IdContext {
            regions: ctx.regions,
            today: ctx.today,
        };
        check_nik(
            &a.nik,
            &ids,
            Some(a.birth_date),
            Some(a.sex),
            &at("nik"),
            out,
        );
    }
    if k.anggota[..index].iter().any(|b| same_text(&b.nik, &a.nik)) && !a.nik.is_empty() {
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
    if !name_fast_ok(&a.name) && {
        let name = a.name.trim();
        name.is_empty() || (name.len() > 100 && name.chars().count() > 100)
    } {
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
    if a.birth_date > ctx.today {
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
    } else if a.birth_date.age_on(ctx.today) > 120 {
        push(
            out,
            "anggota.age_range",
            Severity::Error,
            at("birth_date"),
            Text::new(
                "Umur {age} tahun tidak mungkin (0–120 tahun).",
                "An age of {age} years is impossible (0–120).",
            ),
            values([("age", a.birth_date.age_on(ctx.today).to_string())]),
        );
    }
    if let Some(d) = a.presence_date {
        if d > ctx.today {
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
        && !(Level::of(code).is_some() && ctx.regions.contains(code))
        && !(Level::of(code) == Some(Level::Village)
            && ctx.regions.contains(&code[..8])
            && ctx.regions.children(&code[..8]).next().is_none())
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

fn fmt_value(v: Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.to_string(),
        Value::Text => "(terisi)".into(),
    }
}

fn var_text(v: &Variable, id: &str, en: &str) -> Text {
    let q = v.question.as_deref().unwrap_or(&v.id);
    Text::new(
        id.replace("{q}", q).replace("{label}", &v.label.id),
        en.replace("{q}", q).replace("{label}", &v.label.en),
    )
}

/// Relevance results of one family or member, each condition evaluated at most once.
pub(crate) struct Relevance {
    /// 0 not yet evaluated, 1 true, 2 false, 3 unknown (null).
    pub(crate) state: [u8; RELEVANCE_CACHE],
}

impl Relevance {
    fn new(_rb: &Rulebook) -> Relevance {
        Relevance {
            state: [0; RELEVANCE_CACHE],
        }
    }

    fn clear(&mut self) {
        self.state = [0; RELEVANCE_CACHE];
    }

    /// Sets the states of the conditions that are one slot test, read from `slots`
    /// (those of the conditions' scope); the others are evaluated on first use.
    #[inline(always)]
    fn fill(&mut self, tests: &[QuickRelevance], slots: &[Value]) {
        for t in tests {
            if let Some(cell) = self.state.get_mut(usize::from(t.relevance)) {
                *cell = t.state(slots);
            }
        }
    }

    /// The condition's state (1 true, 2 false, 3 null), evaluated on first use.
    #[inline(always)]
    fn state(&mut self, rb: &Rulebook, slot: usize, view: &View) -> u8 {
        match self.state.get(slot) {
            Some(&s) if s != 0 => s,
            _ => self.evaluate(rb, slot, view),
        }
    }

    #[inline(never)]
    fn evaluate(&mut self, rb: &Rulebook, slot: usize, view: &View) -> u8 {
        let s = match rb.relevances[slot].eval_in(view) {
            Value::Bool(true) => 1,
            Value::Bool(false) => 2,
            _ => 3,
        };
        if let Some(cell) = self.state.get_mut(slot) {
            *cell = s;
        }
        s
    }

    #[inline(always)]
    fn get(&mut self, rb: &Rulebook, slot: usize, view: &View) -> Option<bool> {
        match self.state(rb, slot, view) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }
}

/// The quick scan of one scope's variables: true when none of them has a finding.
/// False only means "run the full checks" (which then find what there is).
fn scan_ok(
    rb: &Rulebook,
    scan: &ScopeScan,
    slots: &[Value],
    view: &View,
    cache: &mut Relevance,
) -> bool {
    let mut ok = true;
    // Four variables per iteration: V8 does not unroll this loop, and each iteration
    // of its code pays a stack check and moves registers around the shift (wasm
    // instructions per validated family −3.6 %, native unchanged; docs/benchmarks.md,
    // session 7). `fast_path_tests` compare the quick path with the full checks.
    let quads = scan.plain.chunks_exact(4);
    for p in quads.remainder() {
        ok &= p.ok(slots[usize::from(p.slot)], 1);
    }
    for q in quads {
        let a = q[0].ok(slots[usize::from(q[0].slot)], 1);
        let b = q[1].ok(slots[usize::from(q[1].slot)], 1);
        let c = q[2].ok(slots[usize::from(q[2].slot)], 1);
        let d = q[3].ok(slots[usize::from(q[3].slot)], 1);
        ok &= (a & b) & (c & d);
    }
    if !ok {
        return false;
    }
    for (relevant, group) in &scan.groups {
        let state = cache.state(rb, *relevant, view);
        for p in group {
            ok &= p.ok(slots[usize::from(p.slot)], state);
        }
    }
    ok && scan.rest.iter().all(|c| {
        if c.relevant != VarCheck::ALWAYS {
            cache.state(rb, usize::from(c.relevant), view);
        }
        c.accepts(slots[usize::from(c.slot)], cache)
    })
}

/// The outcome of a variable's check when it needs a finding.
#[derive(Clone, Copy)]
enum VarProblem {
    Required,
    NotApplicable(Value),
    Code(i64),
    Range(i64),
}

/// Checks one variable. The common case (answered, applicable, valid) stays on this
/// small hot path; building a finding is the cold [`report_variable`].
#[inline(always)]
fn check_variable(
    rb: &Rulebook,
    cv: &VarCheck,
    slots: &[Value],
    view: &View,
    cache: &mut Relevance,
    prefix: &MemberPrefix,
    out: &mut Vec<Finding>,
) {
    let value = slots[usize::from(cv.slot)];
    let problem = if let Value::Int(n) = value {
        // Answered: a finding if skipped (relevance false) or not a valid answer.
        let invalid = match cv.var_type {
            VarType::Code => !cv.has_code(rb, n),
            VarType::Flags => !cv.has_code(rb, n) && (n <= 0 || n & !cv.bits != 0),
            VarType::Integer => n < cv.min || n > cv.max,
            _ => false,
        };
        if cv.relevant != VarCheck::ALWAYS
            && cache.get(rb, usize::from(cv.relevant), view) == Some(false)
        {
            VarProblem::NotApplicable(value)
        } else if !invalid {
            return;
        } else if cv.var_type == VarType::Integer {
            VarProblem::Range(n)
        } else {
            VarProblem::Code(n)
        }
    } else if value.is_null() {
        // Unanswered: a finding only if required and surely asked.
        if !cv.required
            || (cv.relevant != VarCheck::ALWAYS
                && cache.get(rb, usize::from(cv.relevant), view) != Some(true))
        {
            return;
        }
        VarProblem::Required
    } else {
        // A text, date or boolean answer: a finding only if skipped.
        if cv.relevant == VarCheck::ALWAYS
            || cache.get(rb, usize::from(cv.relevant), view) != Some(false)
        {
            return;
        }
        VarProblem::NotApplicable(value)
    };
    report_variable(rb, cv.var as usize, &prefix.text(), problem, out);
}

#[cold]
#[inline(never)]
fn report_variable(
    rb: &Rulebook,
    i: usize,
    prefix: &str,
    problem: VarProblem,
    out: &mut Vec<Finding>,
) {
    let v = &rb.variables()[i];
    let path = format!("{prefix}{}", v.field);
    match problem {
        VarProblem::Required => push(
            out,
            "variable.required",
            Severity::Error,
            path,
            var_text(
                v,
                "Pertanyaan {q} ({label}) belum diisi.",
                "Question {q} ({label}) is not answered.",
            ),
            values([("variable", v.id.clone())]),
        ),
        VarProblem::NotApplicable(x) => {
            let cond = v.relevant_text.clone().unwrap_or_else(|| {
                let src = v.relevant.clone().unwrap_or_default();
                Text::new(src.clone(), src)
            });
            let t = var_text(
                v,
                "Pertanyaan {q} ({label}) hanya diisi jika ",
                "Question {q} ({label}) applies only if ",
            );
            push(
                out,
                "variable.not_applicable",
                Severity::Error,
                path,
                Text::new(
                    format!("{}{}; kosongkan jawabannya.", t.id, cond.id),
                    format!("{}{}; clear the answer.", t.en, cond.en),
                ),
                values([("variable", v.id.clone()), ("value", fmt_value(x))]),
            );
        }
        VarProblem::Code(n) => push_code(out, v, path, n),
        VarProblem::Range(n) => {
            let lo = v.min.map_or_else(|| "–".into(), |x| x.to_string());
            let hi = v.max.map_or_else(|| "–".into(), |x| x.to_string());
            push(
                out,
                "variable.range",
                Severity::Error,
                path,
                var_text(
                    v,
                    "Jawaban {value} untuk pertanyaan {q} ({label}) harus antara {min} dan {max}.",
                    "The answer {value} to question {q} ({label}) must be between {min} and {max}.",
                ),
                values([
                    ("variable", v.id.clone()),
                    ("value", n.to_string()),
                    ("min", lo),
                    ("max", hi),
                ]),
            );
        }
    }
}

fn push_code(out: &mut Vec<Finding>, v: &Variable, path: String, n: i64) {
    push(
        out,
        "variable.code",
        Severity::Error,
        path,
        var_text(
            v,
            "Jawaban {value} bukan kode yang sah untuk pertanyaan {q} ({label}).",
            "{value} is not a valid code for question {q} ({label}).",
        ),
        values([("variable", v.id.clone()), ("value", n.to_string())]),
    );
}

#[inline(always)]
fn check_rule(
    rb: &Rulebook,
    i: usize,
    view: &View,
    prefix: &MemberPrefix,
    quick: bool,
    out: &mut Vec<Finding>,
) {
    let cr = &rb.rules[i];
    if let Some((slot, k)) = cr.guard.filter(|_| quick) {
        // `when: <member field> == k`, the common form, read straight from the slots.
        if !view
            .member
            .is_some_and(|m| m[usize::from(slot)] == Value::Int(k))
        {
            return;
        }
    } else if let Some(q) = cr.quick_when.as_ref().filter(|_| quick) {
        // `when` as slot tests of the rule's scope: it holds only in state 1 (true).
        let slots: &[Value] = match view.member {
            Some(m) => m,
            None => view.family,
        };
        if q.state(slots) != 1 {
            return;
        }
    } else if let Some(w) = &cr.when
        && !matches!(w.eval_in(view), Value::Bool(true))
    {
        return;
    }
    if !matches!(cr.assertion.eval_in(view), Value::Bool(false)) {
        return;
    }
    report_rule(rb, i, view, &prefix.text(), out);
}

#[cold]
#[inline(never)]
fn report_rule(rb: &Rulebook, i: usize, view: &View, prefix: &str, out: &mut Vec<Finding>) {
    let cr = &rb.rules[i];
    let r = &rb.rules()[i];
    let vals = crate::finding::values_from(
        &mut cr
            .values
            .iter()
            .map(|(name, e)| (name.clone(), fmt_value(e.eval_in(view)))),
    );
    let path = if prefix.is_empty() {
        r.path.clone()
    } else if r.path.is_empty() {
        prefix.trim_end_matches('.').to_owned()
    } else {
        format!("{prefix}{}", r.path)
    };
    push(out, &r.id, r.severity, path, r.message.clone(), vals);
}

/// The ids of every finding Rust itself can emit (the rulebook adds its rule ids).
pub const STRUCTURAL_RULES: &[&str] = &[
    "kk.length",
    "kk.digits",
    "kk.province",
    "kk.district",
    "kk.date",
    "kk.future_date",
    "kk.serial",
    "nik.length",
    "nik.digits",
    "nik.province",
    "nik.district",
    "nik.date",
    "nik.serial",
    "nik.birth_date_mismatch",
    "nik.sex_mismatch",
    "address.format",
    "address.hierarchy",
    "address.region",
    "address.rt_rw",
    "gps.range",
    "gps.outside_indonesia",
    "gps.accuracy",
    "housing.pln_customer_id",
    "household.duplicate_nik",
    "anggota.name",
    "anggota.age_range",
    "anggota.presence_date_before_birth",
    "anggota.moved_to",
    "date.future",
    "variable.required",
    "variable.code",
    "variable.range",
    "variable.not_applicable",
];

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    /// The real region table.
    fn regions() -> RegionTable {
        RegionTable::from_csv(include_str!("../../../data/wilayah.csv")).unwrap()
    }

    /// The built-in rulebook over `regions`, on a fixed day.
    fn context(regions: &RegionTable) -> ValidationContext<'_> {
        ValidationContext {
            rulebook: Rulebook::builtin(),
            regions,
            today: Date::from_ymd(2026, 6, 30).unwrap(),
        }
    }

    /// The sample household as a JSON tree, to change field by field.
    fn sample() -> serde_json::Value {
        serde_json::from_str(include_str!(
            "../../../tests/vectors/households/sample.json"
        ))
        .unwrap()
    }

    /// Every rulebook variable of the family, and of each member, set to each of a
    /// range of answers (and random combinations of such changes): the quick paths
    /// give exactly the findings of the full checks.
    #[test]
    fn quick_paths_give_the_findings_of_the_full_checks() {
        use serde_json::{Value as J, json};
        let regions = regions();
        let ctx = context(&regions);
        let base = sample();
        let members = base["anggota"].as_array().unwrap().len();
        let answers = [
            J::Null,
            json!(0),
            json!(1),
            json!(2),
            json!(3),
            json!(4),
            json!(5),
            json!(6),
            json!(8),
            json!(9),
            json!(12),
            json!(23),
            json!(63),
            json!(64),
            json!(99),
            json!(127),
            json!(128),
            json!(200),
            json!(1000),
            json!(100001),
            json!(-1),
            json!("2019-05-01"),
            json!("x"),
        ];
        // Each change: a variable's field (in the family, or in member `m`) and an answer.
        let mut changes = Vec::new();
        for v in ctx.rulebook.variables() {
            let member =
                crate::fields::field(&v.field).unwrap().scope() == crate::fields::Scope::Anggota;
            let targets: Vec<Option<usize>> = if member {
                (0..members).map(Some).collect()
            } else {
                vec![None]
            };
            for t in targets {
                for a in &answers {
                    changes.push((v.field.clone(), t, a.clone()));
                }
            }
        }
        let apply = |j: &mut J, (field, member, answer): &(String, Option<usize>, J)| {
            let mut at = match member {
                Some(m) => &mut j["anggota"][*m],
                None => &mut *j,
            };
            let parts: Vec<&str> = field.split('.').collect();
            for p in &parts[..parts.len() - 1] {
                at = &mut at[*p];
            }
            at[*parts.last().unwrap()] = answer.clone();
        };
        let compare = |j: J, checked: &mut usize| {
            let Ok(k) = serde_json::from_value::<Keluarga>(j) else {
                return;
            };
            let (mut quick, mut full) = (Vec::new(), Vec::new());
            validate_with(&k, &ctx, &mut quick, true);
            validate_with(&k, &ctx, &mut full, false);
            assert_eq!(quick, full);
            views_read_as_the_getters(&k, &ctx);
            *checked += 1;
        };
        let mut checked = 0;
        for c in &changes {
            let mut j = base.clone();
            apply(&mut j, c);
            compare(j, &mut checked);
        }
        // Random combinations of three changes (a fixed linear congruential sequence).
        let mut seed = 7u64;
        for _ in 0..3000 {
            let mut j = base.clone();
            for _ in 0..3 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                apply(&mut j, &changes[(seed >> 33) as usize % changes.len()]);
            }
            compare(j, &mut checked);
        }
        assert!(checked > 3000, "only {checked} records could be built");
    }

    /// Every expression of the rulebook gives the same value on the slot view as on
    /// the record through the getters, for the family and for each member.
    fn views_read_as_the_getters(k: &Keluarga, ctx: &ValidationContext) {
        use crate::expr::Env;
        let rb = ctx.rulebook;
        let family = read_family(k);
        let aggregates = AggregateCache::default();
        let view = View {
            keluarga: k,
            family: &family,
            member: None,
            head: k.head(),
            today: ctx.today,
            aggregates: &aggregates,
        };
        let env = Env::new(k, ctx.today);
        let exprs = |scope: &[usize]| -> Vec<&crate::expr::Expr> {
            scope
                .iter()
                .flat_map(|&i| {
                    let r = &rb.rules[i];
                    r.when
                        .iter()
                        .chain([&r.assertion])
                        .chain(r.values.iter().map(|(_, e)| e))
                })
                .collect()
        };
        let relevances = |checks: &[VarCheck]| -> Vec<&crate::expr::Expr> {
            checks
                .iter()
                .filter(|c| c.relevant != VarCheck::ALWAYS)
                .map(|c| &rb.relevances[usize::from(c.relevant)])
                .collect()
        };
        for e in exprs(&rb.family_rules)
            .into_iter()
            .chain(relevances(&rb.family_vars))
        {
            assert_eq!(e.eval_in(&view), e.eval(&env), "{}", e.source());
        }
        // The conditions evaluated up front give the evaluator's state.
        let state = |v: Value| match v {
            Value::Bool(true) => 1,
            Value::Bool(false) => 2,
            _ => 3,
        };
        let quick_states_agree = |tests: &[QuickRelevance], slots: &[Value], env: &Env| {
            for q in tests {
                let e = &rb.relevances[usize::from(q.relevance)];
                assert_eq!(q.state(slots), state(e.eval(env)), "{}", e.source());
            }
        };
        quick_states_agree(&rb.family_relevance, view.family, &env);
        let quick_whens_agree = |scope: &[usize], slots: &[Value], env: &Env| {
            for &i in scope {
                let r = &rb.rules[i];
                if let (Some(q), Some(w)) = (&r.quick_when, &r.when) {
                    assert_eq!(q.state(slots), state(w.eval(env)), "{}", w.source());
                }
            }
        };
        quick_whens_agree(&rb.family_rules, view.family, &env);
        for a in &k.anggota {
            let slots = read_member(a, ctx.today);
            let view = View {
                member: Some(&slots),
                ..view
            };
            let env = env.with_member(a);
            quick_states_agree(&rb.member_relevance, &slots, &env);
            quick_whens_agree(&rb.member_rules, &slots, &env);
            for e in exprs(&rb.member_rules)
                .into_iter()
                .chain(relevances(&rb.member_vars))
            {
                assert_eq!(e.eval_in(&view), e.eval(&env), "{}", e.source());
            }
        }
    }

    /// The inline fast tests never pass what the full structural checks would report:
    /// `member_fast_ok` ⇒ no finding from `check_member`, `gps_fast_ok` ⇒ none from
    /// `gps_findings`, over changes of the fields they read (and they do pass the sample).
    #[test]
    fn fast_tests_never_pass_what_the_full_checks_report() {
        use serde_json::{Value as J, json};
        let regions = regions();
        let ctx = context(&regions);
        let base = sample();
        let nik0 = base["anggota"][0]["nik"].clone();
        let member_changes: Vec<(&str, J)> = vec![
            ("nik", json!("")),
            ("nik", json!("110101120580000")),
            ("nik", json!("11010112058000012")),
            ("nik", json!("1101011205800000")),
            ("nik", json!("110101120580000x")),
            ("nik", json!("9901011205800001")),
            ("nik", json!("1101015205800001")),
            ("nik", json!("1101011305800001")),
            ("nik", nik0),
            ("name", json!("")),
            ("name", json!(" Siti")),
            ("name", json!("a".repeat(101))),
            ("birth_date", json!("2027-01-01")),
            ("birth_date", json!("1900-01-01")),
            ("birth_date", json!("1980-05-13")),
            ("presence_date", json!("2027-01-01")),
            ("presence_date", json!("1970-01-01")),
            ("presence_date", json!("2020-01-01")),
            ("moved_to", json!("11.01.01.2001")),
            ("moved_to", json!("11.01.01.9999")),
            ("moved_to", json!("99")),
            ("moved_to", json!("11.01")),
        ];
        let gps_changes = [
            json!({"lat": 5.5, "lon": 95.3}),
            json!({"lat": 5.5, "lon": 95.3, "accuracy_m": 12.0}),
            json!({"lat": 5.5, "lon": 95.3, "accuracy_m": -1.0}),
            json!({"lat": 40.0, "lon": 95.3}),
            json!({"lat": 5.5, "lon": 200.0}),
            json!({"lat": -11.5, "lon": 141.5}),
        ];
        let (mut fast_members, mut slow_members, mut fast_gps) = (0, 0, 0);
        let mut check = |j: J| {
            let Ok(k) = serde_json::from_value::<Keluarga>(j) else {
                return;
            };
            let mut known = [0u8; 6];
            for (i, a) in k.anggota.iter().enumerate() {
                let mut out = Vec::new();
                let mut known2 = [0u8; 6];
                check_member(&k, i, a, &ctx, &MemberPrefix::new(i), &mut known2, &mut out);
                if member_fast_ok(&k, i, a, &ctx, &mut known) {
                    assert!(out.is_empty(), "member {i}: {out:?}");
                    fast_members += 1;
                } else {
                    slow_members += 1;
                }
            }
            let mut out = Vec::new();
            gps_findings(&k, &mut out);
            if gps_fast_ok(&k) {
                assert!(out.is_empty(), "{out:?}");
                fast_gps += 1;
            }
        };
        check(base.clone());
        let members = base["anggota"].as_array().unwrap().len();
        for m in 0..members {
            for (field, v) in &member_changes {
                let mut j = base.clone();
                j["anggota"][m][*field] = v.clone();
                check(j);
            }
        }
        for g in &gps_changes {
            let mut j = base.clone();
            j["gps"] = g.clone();
            check(j);
        }
        // Both ways were taken: the test can fail either way.
        assert!(
            fast_members > 50 && slow_members > 10,
            "{fast_members} / {slow_members}"
        );
        assert!(fast_gps >= 3, "{fast_gps}");
    }

    #[test]
    fn member_prefix_matches_format() {
        assert_eq!(MemberPrefix::FAMILY.text(), "");
        assert_eq!(MemberPrefix::new(0).text(), "anggota[0].");
        assert_eq!(MemberPrefix::new(12).text(), "anggota[12].");
    }

    #[test]
    fn name_fast_path_never_accepts_what_the_full_check_refuses() {
        let full = |n: &str| {
            let t = n.trim();
            !(t.is_empty() || (t.len() > 100 && t.chars().count() > 100))
        };
        for n in [
            "Siti Aminah",
            " Siti",
            "Siti ",
            "",
            " ",
            "\u{a0}",
            "\u{a0}Budi\u{a0}",
            "É",
            &"a".repeat(100),
            &"a".repeat(101),
            &"é".repeat(60),
        ] {
            if name_fast_ok(n) {
                assert!(full(n), "{n:?}");
            }
        }
        assert!(name_fast_ok("Siti Aminah"));
        assert!(!name_fast_ok(" Siti"));
    }
}
