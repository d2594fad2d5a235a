//! Kemendagri region codes (kode wilayah) as data.
//!
//! The table is loaded from text in the `kode,nama` CSV format of `data/wilayah.csv`,
//! never compiled in, so a device can carry only the part it needs: all provinces,
//! regencies and districts (for NIK and No. KK prefixes) plus the villages of its
//! assigned districts.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The four levels of `PP.KK.CC.DDDD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Province,
    Regency,
    District,
    Village,
}

impl Level {
    /// The level of a dotted code by its shape, or `None` if the shape is wrong.
    pub fn of(code: &str) -> Option<Level> {
        pack(code).map(Level::from_key)
    }

    fn from_key(key: u64) -> Level {
        [
            Level::Province,
            Level::Regency,
            Level::District,
            Level::Village,
        ][(key & 3) as usize]
    }
}

/// A load error with the 1-based line it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionLoadError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for RegionLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "region table line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for RegionLoadError {}

/// A set of regions keyed by dotted code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionTable {
    names: BTreeMap<String, String>,
    /// The same codes packed by [`pack`], sorted: `contains` is a binary search over
    /// integers instead of string comparisons down a tree.
    keys: Vec<u64>,
}

/// A dotted region code as one number: its digits, then its level in the low two
/// bits; `None` unless the code has one of the shapes `PP`, `PP.KK`, `PP.KK.CC` or
/// `PP.KK.CC.DDDD`. No allocation: this is on validation's hot path.
fn pack(code: &str) -> Option<u64> {
    let b = code.as_bytes();
    let level = match b.len() {
        2 => 0,
        5 => 1,
        8 => 2,
        13 => 3,
        _ => return None,
    };
    let mut value = 0u64;
    for (i, &c) in b.iter().enumerate() {
        if i == 2 || i == 5 || i == 8 {
            if c != b'.' {
                return None;
            }
        } else if c.is_ascii_digit() {
            value = value * 10 + u64::from(c - b'0');
        } else {
            return None;
        }
    }
    Some(value << 2 | level)
}

/// Turns `110101` into `11.01.01` (and 2/4/10-digit codes likewise); `None` for other shapes.
pub fn dotted(digits: &str) -> Option<String> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cuts: &[usize] = match digits.len() {
        2 => &[2],
        4 => &[2, 4],
        6 => &[2, 4, 6],
        10 => &[2, 4, 6, 10],
        _ => return None,
    };
    let mut out = String::with_capacity(digits.len() + 3);
    let mut start = 0;
    for &end in cuts {
        if start > 0 {
            out.push('.');
        }
        out.push_str(&digits[start..end]);
        start = end;
    }
    Some(out)
}

impl RegionTable {
    /// Parses `kode,nama` lines (a header line `kode,nama` is optional).
    /// Every region's parent must appear earlier or later in the same text.
    pub fn from_csv(text: &str) -> Result<RegionTable, RegionLoadError> {
        let mut names = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.is_empty() || (i == 0 && line == "kode,nama") {
                continue;
            }
            let err = |message: String| RegionLoadError {
                line: i + 1,
                message,
            };
            let (code, name) = line
                .split_once(',')
                .ok_or_else(|| err("expected `kode,nama`".into()))?;
            if Level::of(code).is_none() {
                return Err(err(format!("malformed region code {code:?}")));
            }
            let name = name.trim().trim_matches('"');
            if name.is_empty() {
                return Err(err(format!("region {code} has no name")));
            }
            if names.insert(code.to_owned(), name.to_owned()).is_some() {
                return Err(err(format!("duplicate region code {code}")));
            }
        }
        let table = RegionTable::new(names);
        if let Some(orphan) = table.names.keys().find(|c| {
            c.rfind('.')
                .is_some_and(|dot| !table.names.contains_key(&c[..dot]))
        }) {
            return Err(RegionLoadError {
                line: 0,
                message: format!("region {orphan} has no parent in the table"),
            });
        }
        Ok(table)
    }

    /// Writes the table back as `kode,nama` CSV with a header.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("kode,nama\n");
        for (code, name) in &self.names {
            out.push_str(code);
            out.push(',');
            out.push_str(name);
            out.push('\n');
        }
        out
    }

    /// The part a device needs: every province, regency and district, plus the
    /// villages of the given districts (dotted codes).
    pub fn subset_for_districts(&self, districts: &[&str]) -> RegionTable {
        let names = self
            .names
            .iter()
            .filter(|(code, _)| {
                Level::of(code) != Some(Level::Village)
                    || districts
                        .iter()
                        .any(|d| code.len() > d.len() && code.starts_with(d))
            })
            .map(|(c, n)| (c.clone(), n.clone()))
            .collect();
        RegionTable::new(names)
    }

    fn new(names: BTreeMap<String, String>) -> RegionTable {
        // Every code is checked by `Level::of` on the way in, so every code packs.
        let mut keys: Vec<u64> = names.keys().filter_map(|c| pack(c)).collect();
        keys.sort_unstable();
        RegionTable { names, keys }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of a region by dotted code.
    pub fn name(&self, code: &str) -> Option<&str> {
        self.names.get(code).map(String::as_str)
    }

    pub fn contains(&self, code: &str) -> bool {
        pack(code).is_some_and(|key| self.keys.binary_search(&key).is_ok())
    }

    /// `contains` for the district named by six digits `PPKKCC` (the start of a NIK or
    /// No. KK), without building the dotted code.
    pub(crate) fn contains_district_digits(&self, digits: &[u8; 6]) -> bool {
        digits.iter().all(u8::is_ascii_digit) && {
            let value = digits
                .iter()
                .fold(0u64, |v, &c| v * 10 + u64::from(c - b'0'));
            self.keys.binary_search(&(value << 2 | 2)).is_ok()
        }
    }

    /// Regions of one level, in code order.
    pub fn codes(&self, level: Level) -> impl Iterator<Item = (&str, &str)> {
        self.names
            .iter()
            .filter(move |(c, _)| Level::of(c) == Some(level))
            .map(|(c, n)| (c.as_str(), n.as_str()))
    }

    /// Direct children of a region, in code order.
    pub fn children<'a>(&'a self, parent: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        let prefix = format!("{parent}.");
        self.names
            .range(prefix.clone()..)
            .take_while(move |(c, _)| c.starts_with(&prefix))
            .filter(move |(c, _)| !c[parent.len() + 1..].contains('.'))
            .map(|(c, n)| (c.as_str(), n.as_str()))
    }
}

/// **(Tepat's design)** A region is urban when its village is a kelurahan
/// (village part starting with 1) or its regency is a kota (71–99).
pub fn is_urban(village_code: &str) -> Option<bool> {
    if Level::of(village_code) != Some(Level::Village) {
        return None;
    }
    let regency: u8 = village_code[3..5].parse().ok()?;
    Some(village_code.as_bytes()[9] == b'1' || regency >= 71)
}

/// Indonesia's three time zones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TimeZone {
    /// Waktu Indonesia Barat, UTC+7 (Asia/Jakarta).
    Wib,
    /// Waktu Indonesia Tengah, UTC+8 (Asia/Makassar).
    Wita,
    /// Waktu Indonesia Timur, UTC+9 (Asia/Jayapura).
    Wit,
}

impl TimeZone {
    /// Minutes east of UTC; Indonesia keeps no daylight saving time.
    pub fn offset_minutes(self) -> i32 {
        match self {
            TimeZone::Wib => 7 * 60,
            TimeZone::Wita => 8 * 60,
            TimeZone::Wit => 9 * 60,
        }
    }

    /// The abbreviation shown beside a time: "WIB", "WITA" or "WIT".
    pub fn abbrev(self) -> &'static str {
        match self {
            TimeZone::Wib => "WIB",
            TimeZone::Wita => "WITA",
            TimeZone::Wit => "WIT",
        }
    }

    /// The IANA zone name.
    pub fn iana(self) -> &'static str {
        match self {
            TimeZone::Wib => "Asia/Jakarta",
            TimeZone::Wita => "Asia/Makassar",
            TimeZone::Wit => "Asia/Jayapura",
        }
    }

    /// The civil date in this zone at `unix_seconds` (seconds since 1970-01-01 UTC);
    /// `None` only outside the dates [`Date`](crate::date::Date) can hold.
    pub fn date_at(self, unix_seconds: i64) -> Option<crate::date::Date> {
        let local = unix_seconds.checked_add(i64::from(self.offset_minutes()) * 60)?;
        crate::date::Date::from_days_since_epoch(local.div_euclid(86_400))
    }
}

/// The time zone of a province by its Kemendagri code (the first two digits of a region
/// code), as set by Keppres 41/1987: Bali, Nusa Tenggara, South, East and North
/// Kalimantan and every Sulawesi province keep WITA; Maluku and every Papua province keep
/// WIT; the rest, West and Central Kalimantan included, keep WIB. An unknown code gets
/// WIB, the zone of most of the population.
pub fn time_zone(province: u8) -> TimeZone {
    match province {
        51..=53 | 63..=65 | 71..=76 => TimeZone::Wita,
        81 | 82 | 91..=96 => TimeZone::Wit,
        _ => TimeZone::Wib,
    }
}

/// The time zone of a dotted or plain region code by its province digits; WIB when the
/// code does not start with two digits.
pub fn time_zone_of(code: &str) -> TimeZone {
    code.get(..2)
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse().ok())
        .map_or(TimeZone::Wib, time_zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "kode,nama\n11,Aceh\n11.01,Kabupaten Aceh Selatan\n11.01.01,Bakongan\n11.01.01.2001,Keude Bakongan\n11.71,Kota Banda Aceh\n11.71.01,Meuraxa\n11.71.01.1001,Ulee Lheue\n";

    #[test]
    fn loads_levels_and_children() {
        let t = RegionTable::from_csv(SAMPLE).unwrap();
        assert_eq!(t.len(), 7);
        assert_eq!(t.name("11.01.01"), Some("Bakongan"));
        let kids: Vec<_> = t.children("11").map(|(c, _)| c).collect();
        assert_eq!(kids, ["11.01", "11.71"]);
        assert_eq!(t.codes(Level::Village).count(), 2);
    }

    #[test]
    fn rejects_orphans_duplicates_and_bad_codes_with_line() {
        let e = RegionTable::from_csv("kode,nama\n11,Aceh\n11.1,X\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = RegionTable::from_csv("11,Aceh\n11,Aceh\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = RegionTable::from_csv("11,Aceh\n11.01.01,X\n").unwrap_err();
        assert!(e.message.contains("no parent"), "{e}");
    }

    #[test]
    fn subset_keeps_all_districts_and_only_assigned_villages() {
        let t = RegionTable::from_csv(SAMPLE).unwrap();
        let s = t.subset_for_districts(&["11.71.01"]);
        assert!(s.contains("11.01.01"));
        assert!(!s.contains("11.01.01.2001"));
        assert!(s.contains("11.71.01.1001"));
        assert_eq!(RegionTable::from_csv(&s.to_csv()).unwrap(), s);
    }

    #[test]
    fn urban_rule() {
        assert_eq!(is_urban("11.01.01.2001"), Some(false));
        assert_eq!(is_urban("11.01.01.1001"), Some(true));
        assert_eq!(is_urban("11.71.01.2001"), Some(true));
        assert_eq!(is_urban("11.71.01"), None);
        assert_eq!(dotted("1101012001").as_deref(), Some("11.01.01.2001"));
        assert_eq!(dotted("11010"), None);
    }

    #[test]
    fn time_zones_by_province() {
        let table = RegionTable::from_csv(include_str!("../../../data/wilayah.csv")).unwrap();
        let mut by_zone = BTreeMap::new();
        for (code, _) in table.codes(Level::Province) {
            let zone = time_zone(code.parse().unwrap());
            by_zone
                .entry(zone.abbrev())
                .or_insert_with(Vec::new)
                .push(code.to_string());
        }
        let wita = "51 52 53 63 64 65 71 72 73 74 75 76";
        let wit = "81 82 91 92 93 94 95 96";
        assert_eq!(by_zone["WITA"].join(" "), wita);
        assert_eq!(by_zone["WIT"].join(" "), wit);
        assert_eq!(by_zone["WIB"].len(), 18);
        assert!(
            by_zone["WIB"].contains(&"61".to_string())
                && by_zone["WIB"].contains(&"62".to_string())
        );
        assert_eq!(time_zone(0), TimeZone::Wib);
        assert_eq!(time_zone_of("51.71.01.1001"), TimeZone::Wita);
        assert_eq!(time_zone_of("9101"), TimeZone::Wit);
        assert_eq!(time_zone_of("x1"), TimeZone::Wib);
        assert_eq!(time_zone_of(""), TimeZone::Wib);
        assert_eq!(TimeZone::Wita.offset_minutes(), 480);
        assert_eq!(TimeZone::Wit.iana(), "Asia/Jayapura");
    }

    #[test]
    fn local_date_turns_at_local_midnight() {
        use crate::date::Date;
        // 2026-12-05 23:30 UTC is 06:30 WIB on 6 December.
        let t = Date::from_ymd(2026, 12, 5).unwrap().days_since_epoch() * 86_400 + 23 * 3600 + 1800;
        assert_eq!(TimeZone::Wib.date_at(t), Date::from_ymd(2026, 12, 6));
        assert_eq!(
            TimeZone::Wib.date_at(t - 7 * 3600),
            Date::from_ymd(2026, 12, 5)
        );
        // 15:30 UTC is 00:30 WIT on the next day, still 23:30 WITA.
        assert_eq!(
            TimeZone::Wit.date_at(t - 8 * 3600),
            Date::from_ymd(2026, 12, 6)
        );
        assert_eq!(
            TimeZone::Wita.date_at(t - 8 * 3600),
            Date::from_ymd(2026, 12, 5)
        );
        assert_eq!(TimeZone::Wib.date_at(-1), Date::from_ymd(1970, 1, 1));
        assert_eq!(TimeZone::Wib.date_at(i64::MAX), None);
    }
}

#[cfg(test)]
mod packed_lookup_tests {
    use super::*;

    #[test]
    fn contains_agrees_with_the_names() {
        let t = RegionTable::from_csv(
            "kode,nama\n11,ACEH\n11.01,KAB. ACEH SELATAN\n11.01.01,Bakongan\n11.01.01.2001,Keude Bakongan\n32,JAWA BARAT\n",
        )
        .unwrap();
        for code in [
            "11",
            "11.01",
            "11.01.01",
            "11.01.01.2001",
            "32",
            "32.01",
            "11.01.01.2002",
            "11.1",
            "1101",
            "11.01.01.20011",
            "11.01.01.200",
            "ab",
            "11-01",
            "",
            "00",
            "11.01.01.2001 ",
            "１１",
        ] {
            assert_eq!(t.contains(code), t.names.contains_key(code), "{code:?}");
        }
        assert_eq!(Level::of("11.01.01.2001"), Some(Level::Village));
        assert_eq!(Level::of("11.01.01"), Some(Level::District));
        assert_eq!(Level::of("11.01"), Some(Level::Regency));
        assert_eq!(Level::of("11"), Some(Level::Province));
        for bad in [
            "1",
            "11.1",
            "11.01.01.201",
            "11,01",
            "11.01.0a",
            "11.01.01.2001.1",
        ] {
            assert_eq!(Level::of(bad), None, "{bad:?}");
        }
        for digits in [b"110101", b"110102", b"320101", b"11010a"] {
            let dotted = dotted(std::str::from_utf8(digits).unwrap()).unwrap_or_default();
            assert_eq!(t.contains_district_digits(digits), t.contains(&dotted));
        }
        assert!(t.contains_district_digits(b"110101"));
        // A subset keeps its lookup index in step.
        let s = t.subset_for_districts(&["11.01.01"]);
        assert!(s.contains("11.01.01.2001") && s.contains("32") && !s.contains("32.01"));
    }
}
