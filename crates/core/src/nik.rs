//! Structural checks of NIK and No. KK (DTSEN.md §3): `PP KK CC DDMMYY SSSS`.
//!
//! These are not questionnaire logic, so they live in Rust rather than in the rulebook.
//! Structural problems are errors; a NIK whose date or sex disagrees with the
//! person's record is only a warning, because legacy NIKs exist.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::date::Date;
use crate::finding::{Finding, Severity, Text, has_errors, values};
use crate::region::{RegionTable, dotted};

/// Sex as coded by Regsosek question 405: 1 laki-laki, 2 perempuan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sex {
    Male = 1,
    Female = 2,
}

impl Sex {
    pub fn code(self) -> u8 {
        self as u8
    }
    pub fn from_code(code: u8) -> Option<Sex> {
        match code {
            1 => Some(Sex::Male),
            2 => Some(Sex::Female),
            _ => None,
        }
    }
    pub fn label(self) -> Text {
        match self {
            Sex::Male => Text::new("laki-laki", "male"),
            Sex::Female => Text::new("perempuan", "female"),
        }
    }
}

/// JSON Schema (feature `schema`): Regsosek 405 code 1 or 2.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Sex {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Sex".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "integer",
            "enum": [1, 2],
            "description": "405 Jenis kelamin: 1 laki-laki (male), 2 perempuan (female)."
        })
    }
}

impl Serialize for Sex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for Sex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Sex, D::Error> {
        let code = u8::deserialize(d)?;
        Sex::from_code(code).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "sex must be 1 (laki-laki) or 2 (perempuan), found {code}"
            ))
        })
    }
}

/// What a check needs from outside: the region table and today's date.
#[derive(Clone, Copy, Debug)]
pub struct IdContext<'a> {
    pub regions: &'a RegionTable,
    pub today: Date,
}

/// A region named in an identifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionRef {
    pub code: String,
    pub name: String,
}

/// What a structurally valid NIK says about its holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NikInfo {
    pub province: RegionRef,
    /// The district where the NIK was first issued (not necessarily where the person lives).
    pub district: RegionRef,
    pub birth_date: Date,
    pub sex: Sex,
    pub serial: String,
}

/// What a structurally valid No. KK says about the card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KkInfo {
    pub province: RegionRef,
    pub district: RegionRef,
    pub issue_date: Date,
    pub serial: String,
}

/// Input of [`validate_nik`]: a NIK, and optionally the person's recorded birth date and sex.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NikRequest {
    pub nik: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
}

/// Output of [`validate_nik`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NikReport {
    /// No error-severity finding (warnings may remain).
    pub valid: bool,
    pub findings: Vec<Finding>,
    /// Present when the NIK is structurally valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<NikInfo>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Nik,
    Kk,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Nik => "nik",
            Kind::Kk => "kk",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Kind::Nik => "NIK",
            Kind::Kk => "No. KK",
        }
    }
}

fn message(kind: Kind, rule: &str) -> Text {
    let n = kind.noun();
    match rule {
        "length" => Text::new(
            format!("{n} harus 16 digit; yang diisi {{length}} karakter."),
            format!("{n} must have 16 digits; {{length}} characters were entered."),
        ),
        "digits" => Text::new(
            format!("{n} hanya boleh berisi angka 0–9."),
            format!("{n} may contain only the digits 0–9."),
        ),
        "province" => Text::new(
            format!("Kode provinsi {{province}} pada {n} tidak dikenal."),
            format!("Province code {{province}} in the {n} is unknown."),
        ),
        "district" => Text::new(
            format!(
                "Kode kecamatan {{district}} pada {n} tidak ada dalam daftar wilayah Kemendagri."
            ),
            format!("District code {{district}} in the {n} is not in the Kemendagri region list."),
        ),
        "date" if kind == Kind::Nik => Text::new(
            "Tanggal lahir pada NIK (digit 7–12) bukan tanggal yang mungkin. Untuk perempuan tanggal ditambah 40.",
            "The birth date in the NIK (digits 7–12) is not a possible date. For women the day is increased by 40.",
        ),
        "date" => Text::new(
            "Tanggal terbit pada No. KK (digit 7–12) bukan tanggal yang mungkin.",
            "The issue date in the No. KK (digits 7–12) is not a possible date.",
        ),
        "future_date" => Text::new(
            "Tanggal terbit pada No. KK ({date}) ada di masa depan.",
            "The issue date in the No. KK ({date}) lies in the future.",
        ),
        "serial" => Text::new(
            format!("Nomor urut {n} (4 digit terakhir) tidak boleh 0000."),
            format!("The serial number of the {n} (last 4 digits) may not be 0000."),
        ),
        "birth_date_mismatch" => Text::new(
            "Tanggal lahir pada NIK ({nik_date}) berbeda dengan tanggal lahir tercatat ({recorded}). Periksa KTP/KK; NIK lama bisa berbeda.",
            "The birth date in the NIK ({nik_date}) differs from the recorded birth date ({recorded}). Check the ID card; legacy NIKs can differ.",
        ),
        "sex_mismatch" => Text::new(
            "Jenis kelamin pada NIK ({nik_sex}) berbeda dengan yang tercatat ({recorded}). Periksa KTP/KK; NIK lama bisa berbeda.",
            "The sex encoded in the NIK ({nik_sex}) differs from the recorded sex ({recorded}). Check the ID card; legacy NIKs can differ.",
        ),
        _ => Text::new(rule, rule),
    }
}

/// Where findings go: `out`, at the path `path` gives (made only for a finding).
struct Push<'a> {
    kind: Kind,
    path: &'a dyn Fn() -> String,
    out: &'a mut Vec<Finding>,
}

impl Push<'_> {
    #[cold]
    fn add<const N: usize>(&mut self, rule: &str, severity: Severity, vals: [(&str, String); N]) {
        let id = format!("{}.{rule}", self.kind.prefix());
        self.out.push(Finding::new(
            &id,
            severity,
            &(self.path)(),
            &message(self.kind, rule),
            values(vals),
        ));
    }
}

/// What a structurally valid identifier encodes (its digits are in the text).
pub(crate) struct Decoded {
    pub(crate) date: Date,
    pub(crate) female: bool,
}

fn two(b: &[u8]) -> u8 {
    (b[0] - b'0') * 10 + (b[1] - b'0')
}

/// The shared structure of NIK and No. KK, decoded once. Pushes errors; returns the
/// encoded date and sex when none. `known` is the 6-digit district last found in the
/// region table (most identifiers of a family share it, saving the lookups).
#[inline]
fn decode(
    kind: Kind,
    text: &str,
    ctx: &IdContext,
    hint: Option<Date>,
    known: &mut [u8; 6],
    p: &mut Push,
) -> Option<Decoded> {
    let b = text.as_bytes();
    if b.len() != 16 || !b.is_ascii() {
        let len = text.chars().count();
        if len != 16 {
            p.add("length", Severity::Error, [("length", len.to_string())]);
            return None;
        }
    }
    if !b.iter().all(u8::is_ascii_digit) {
        p.add("digits", Severity::Error, []);
        return None;
    }
    let mut ok = true;
    let district = [b[0], b[1], b[2], b[3], b[4], b[5]];
    if district != *known {
        if ctx.regions.contains_district_digits(&district) {
            *known = district;
        } else if !ctx.regions.contains(&text[0..2]) {
            p.add(
                "province",
                Severity::Error,
                [("province", text[0..2].to_owned())],
            );
            ok = false;
        } else {
            let code = dotted(&text[0..6]).unwrap_or_default();
            p.add("district", Severity::Error, [("district", code)]);
            ok = false;
        }
    }
    let (raw_day, month, yy) = (two(&b[6..8]), two(&b[8..10]), i32::from(two(&b[10..12])));
    let female = kind == Kind::Nik && raw_day > 40;
    let day = if female { raw_day - 40 } else { raw_day };
    let date = resolve_century(kind, day, month, yy, ctx.today, hint);
    match date {
        None => {
            p.add("date", Severity::Error, []);
            ok = false;
        }
        Some(d) if d > ctx.today && kind == Kind::Kk => {
            p.add("future_date", Severity::Error, [("date", d.to_string())]);
            ok = false;
        }
        Some(_) => {}
    }
    if &b[12..16] == b"0000" {
        p.add("serial", Severity::Error, []);
        ok = false;
    }
    Some(Decoded {
        date: date.filter(|_| ok)?,
        female,
    })
}

/// The province and district regions named by a valid identifier's first six digits.
fn regions_of(text: &str, regions: &RegionTable) -> Option<(RegionRef, RegionRef)> {
    let region = |code: &str| {
        regions.name(code).map(|name| RegionRef {
            code: code.to_owned(),
            name: name.to_owned(),
        })
    };
    Some((region(&text[0..2])?, region(&dotted(&text[0..6])?)?))
}

/// Picks the century of a two-digit year.
///
/// NIK: the person must be 0–120 years old on `today`; the century of the recorded
/// birth date wins when it fits, else the most recent one. No. KK: 20YY unless that
/// year is after this one, then 19YY (a date later this year stays, and is then an error).
fn resolve_century(
    kind: Kind,
    day: u8,
    month: u8,
    yy: i32,
    today: Date,
    hint: Option<Date>,
) -> Option<Date> {
    if kind == Kind::Kk {
        let year = if 2000 + yy <= today.year() {
            2000 + yy
        } else {
            1900 + yy
        };
        return Date::from_ymd(year, month, day);
    }
    let base = today.year() - today.year().rem_euclid(100);
    let candidates = [base + yy, base - 100 + yy, base - 200 + yy];
    let fits = |year: i32| {
        Date::from_ymd(year, month, day).filter(|d| *d <= today && d.age_on(today) <= 120)
    };
    if let Some(h) = hint
        && let Some(d) = fits(h.year())
        && h.year().rem_euclid(100) == yy
    {
        return Some(d);
    }
    candidates.into_iter().find_map(fits)
}

/// Checks a NIK. Pushes findings at `path`; returns the decoded parts when structurally valid.
/// `recorded` is the person's recorded birth date and sex, compared with the NIK (warnings).
pub fn check_nik(
    nik: &str,
    ctx: &IdContext,
    recorded_birth: Option<Date>,
    recorded_sex: Option<Sex>,
    path: &str,
    out: &mut Vec<Finding>,
) -> Option<NikInfo> {
    let d = nik_findings(
        nik,
        ctx,
        recorded_birth,
        recorded_sex,
        &|| path.to_owned(),
        &mut [0; 6],
        out,
    )?;
    let (province, district) = regions_of(nik, ctx.regions)?;
    Some(NikInfo {
        province,
        district,
        birth_date: d.date,
        sex: if d.female { Sex::Female } else { Sex::Male },
        serial: nik[12..16].to_owned(),
    })
}

/// The NIK check of [`check_nik`] without building its result: findings at the path
/// `path` gives, through the district cache `known` (see [`decode`]). Validation runs it
/// once per member.
#[inline]
pub(crate) fn nik_findings(
    nik: &str,
    ctx: &IdContext,
    recorded_birth: Option<Date>,
    recorded_sex: Option<Sex>,
    path: &dyn Fn() -> String,
    known: &mut [u8; 6],
    out: &mut Vec<Finding>,
) -> Option<Decoded> {
    let mut p = Push {
        kind: Kind::Nik,
        path,
        out,
    };
    let d = decode(Kind::Nik, nik, ctx, recorded_birth, known, &mut p)?;
    if let Some(recorded) = recorded_birth
        && recorded != d.date
    {
        p.add(
            "birth_date_mismatch",
            Severity::Warning,
            [
                ("nik_date", d.date.to_string()),
                ("recorded", recorded.to_string()),
            ],
        );
    }
    let sex = if d.female { Sex::Female } else { Sex::Male };
    if let Some(recorded) = recorded_sex
        && recorded != sex
    {
        p.add(
            "sex_mismatch",
            Severity::Warning,
            [
                ("nik_sex", sex.label().id),
                ("recorded", recorded.label().id),
            ],
        );
    }
    Some(d)
}

/// Checks a No. KK. Pushes findings at `path`; returns the decoded parts when structurally valid.
pub fn check_kk(kk: &str, ctx: &IdContext, path: &str, out: &mut Vec<Finding>) -> Option<KkInfo> {
    let d = kk_findings(kk, ctx, &|| path.to_owned(), &mut [0; 6], out)?;
    let (province, district) = regions_of(kk, ctx.regions)?;
    Some(KkInfo {
        province,
        district,
        issue_date: d.date,
        serial: kk[12..16].to_owned(),
    })
}

/// The No. KK check of [`check_kk`] without building its result (see [`nik_findings`]).
pub(crate) fn kk_findings(
    kk: &str,
    ctx: &IdContext,
    path: &dyn Fn() -> String,
    known: &mut [u8; 6],
    out: &mut Vec<Finding>,
) -> Option<Decoded> {
    let mut p = Push {
        kind: Kind::Kk,
        path,
        out,
    };
    decode(Kind::Kk, kk, ctx, None, known, &mut p)
}

/// The NIK check as one call: the entry point the app, the server and the JS package share.
pub fn validate_nik(req: &NikRequest, ctx: &IdContext) -> NikReport {
    let mut findings = Vec::new();
    let info = check_nik(&req.nik, ctx, req.birth_date, req.sex, "nik", &mut findings);
    NikReport {
        valid: !has_errors(&findings),
        findings,
        info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_table() -> RegionTable {
        RegionTable::from_csv("11,Aceh\n11.01,Kabupaten Aceh Selatan\n11.01.01,Bakongan\n").unwrap()
    }

    fn run(nik: &str, birth: Option<&str>, sex: Option<Sex>) -> NikReport {
        let regions = ctx_table();
        let ctx = IdContext {
            regions: &regions,
            today: Date::parse("2026-11-23").unwrap(),
        };
        let req = NikRequest {
            nik: nik.into(),
            birth_date: birth.map(|b| Date::parse(b).unwrap()),
            sex,
        };
        validate_nik(&req, &ctx)
    }

    fn rules(r: &NikReport) -> Vec<&str> {
        r.findings.iter().map(|f| f.rule.as_str()).collect()
    }

    #[test]
    fn female_day_offset_and_century() {
        let r = run("1101014512900001", None, None);
        assert!(r.valid, "{:?}", r.findings);
        let info = r.info.unwrap();
        assert_eq!(info.sex, Sex::Female);
        assert_eq!(info.birth_date.to_string(), "1990-12-05");
        // 2010 and 1910 both give an age in 0..=120: the recorded date decides.
        let r = run("1101010101100001", Some("1910-01-01"), Some(Sex::Male));
        assert_eq!(r.info.unwrap().birth_date.to_string(), "1910-01-01");
        let r = run("1101010101100001", None, None);
        assert_eq!(r.info.unwrap().birth_date.to_string(), "2010-01-01");
    }

    #[test]
    fn structural_errors_are_errors_and_mismatches_warnings() {
        assert_eq!(rules(&run("110101", None, None)), ["nik.length"]);
        assert_eq!(rules(&run("11010145129000a1", None, None)), ["nik.digits"]);
        assert_eq!(
            rules(&run("9901014512900001", None, None)),
            ["nik.province"]
        );
        assert_eq!(
            rules(&run("1101994512900001", None, None)),
            ["nik.district"]
        );
        assert_eq!(rules(&run("1101013502900001", None, None)), ["nik.date"]);
        assert_eq!(rules(&run("1101014512900000", None, None)), ["nik.serial"]);
        let r = run("1101014512900001", Some("1990-12-06"), Some(Sex::Male));
        assert!(r.valid);
        assert_eq!(rules(&r), ["nik.birth_date_mismatch", "nik.sex_mismatch"]);
        assert!(r.findings.iter().all(|f| f.severity == Severity::Warning));
    }

    #[test]
    fn kk_future_issue_date_is_an_error() {
        let regions = ctx_table();
        let ctx = IdContext {
            regions: &regions,
            today: Date::parse("2026-11-23").unwrap(),
        };
        let mut out = Vec::new();
        assert!(check_kk("1101012512260001", &ctx, "no_kk", &mut out).is_none());
        assert_eq!(out[0].rule, "kk.future_date");
        out.clear();
        let kk = check_kk("1101012011260001", &ctx, "no_kk", &mut out).unwrap();
        assert_eq!(kk.issue_date.to_string(), "2026-11-20");
        assert!(out.is_empty());
    }

    #[test]
    fn multibyte_input_does_not_panic() {
        let r = run("११०१०१४५१२९०००१", None, None);
        assert_eq!(rules(&r), ["nik.length"]);
        let r = run("11010145129000é1", None, None);
        assert_eq!(rules(&r), ["nik.digits"]);
    }
}
