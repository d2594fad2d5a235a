//! Population by regency (data/penduduk.csv) and the village sampler built on it.
//!
//! Families are spread over regencies in proportion to each regency's real population,
//! then uniformly over the regency's villages (data/wilayah.csv).

use std::collections::BTreeMap;
use std::fmt;

use tepat_core::region::{Level, RegionTable};

use crate::rng::Rng;

/// Population of one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Count {
    pub name: String,
    pub male: u64,
    pub female: u64,
    pub total: u64,
}

/// A `kode,nama,pria,wanita,total` table: one row per province and regency
/// (plus an optional `0,INDONESIA` total row).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Population {
    by_code: BTreeMap<String, Count>,
}

/// A load error with the 1-based line it came from (0 for the whole text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for LoadError {}

impl Population {
    /// Parses the CSV text. The header `kode,nama,pria,wanita,total` is optional.
    pub fn from_csv(text: &str) -> Result<Population, LoadError> {
        let mut by_code = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.is_empty() || (i == 0 && line.starts_with("kode,")) {
                continue;
            }
            let err = |message: String| LoadError {
                line: i + 1,
                message,
            };
            // The name may contain commas; the three counts are the last fields.
            let mut parts = line.rsplitn(4, ',');
            let (total, female, male, head) =
                match (parts.next(), parts.next(), parts.next(), parts.next()) {
                    (Some(t), Some(f), Some(m), Some(h)) => (t, f, m, h),
                    _ => return Err(err("expected `kode,nama,pria,wanita,total`".into())),
                };
            let (code, name) = head
                .split_once(',')
                .ok_or_else(|| err("expected `kode,nama,pria,wanita,total`".into()))?;
            if code == "0" {
                continue; // the national total row
            }
            if !matches!(Level::of(code), Some(Level::Province | Level::Regency)) {
                return Err(err(format!(
                    "expected a province or regency code, found {code:?}"
                )));
            }
            let num = |field: &str, what: &str| {
                field
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| err(format!("{what} of {code} is not a whole number: {field:?}")))
            };
            let count = Count {
                name: name.trim().trim_matches('"').to_owned(),
                male: num(male, "pria")?,
                female: num(female, "wanita")?,
                total: num(total, "total")?,
            };
            if by_code.insert(code.to_owned(), count).is_some() {
                return Err(err(format!("duplicate code {code}")));
            }
        }
        if !by_code.keys().any(|c| c.len() == 5) {
            return Err(LoadError {
                line: 0,
                message: "population table has no regency rows".into(),
            });
        }
        Ok(Population { by_code })
    }

    pub fn get(&self, code: &str) -> Option<&Count> {
        self.by_code.get(code)
    }

    /// Regencies (`PP.KK`) with their population, in code order.
    pub fn regencies(&self) -> impl Iterator<Item = (&str, &Count)> {
        self.by_code
            .iter()
            .filter(|(c, _)| c.len() == 5)
            .map(|(c, n)| (c.as_str(), n))
    }
}

/// One regency the sampler can choose, with its districts and villages.
#[derive(Clone, Debug)]
pub struct RegencyEntry {
    pub code: String,
    pub population: u64,
    /// District codes (`PP.KK.CC`) of this regency inside the selected area.
    pub districts: Vec<String>,
    /// Village codes (`PP.KK.CC.DDDD`) of this regency inside the selected area.
    pub villages: Vec<String>,
}

/// Why a sampler cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SamplerError {
    /// `--region` is not a well-formed Kemendagri code.
    BadRegion(String),
    /// The region code is well formed but not in the region table.
    UnknownRegion(String),
    /// No village with a population weight lies inside the area.
    NoVillages(String),
}

impl fmt::Display for SamplerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SamplerError::BadRegion(c) => write!(
                f,
                "kode wilayah {c:?} tidak sah / region code {c:?} is malformed (expected PP, PP.KK, PP.KK.CC or PP.KK.CC.DDDD)"
            ),
            SamplerError::UnknownRegion(c) => write!(
                f,
                "kode wilayah {c} tidak ada di tabel wilayah / region {c} is not in the region table"
            ),
            SamplerError::NoVillages(c) => write!(
                f,
                "wilayah {c} tidak memiliki desa/kelurahan berpenduduk / region {c} has no villages with population data"
            ),
        }
    }
}

impl std::error::Error for SamplerError {}

/// Picks villages in proportion to the population of their regency.
#[derive(Clone, Debug)]
pub struct VillageSampler {
    regencies: Vec<RegencyEntry>,
    /// Cumulative population, same order as `regencies`.
    cumulative: Vec<u64>,
    /// Every district of the region table, for NIKs first issued elsewhere.
    all_districts_by_province: BTreeMap<String, Vec<String>>,
}

impl VillageSampler {
    /// Builds the sampler over the whole country, or the area under `region`
    /// (a province, regency, district or village code).
    pub fn new(
        regions: &RegionTable,
        population: &Population,
        region: Option<&str>,
    ) -> Result<VillageSampler, SamplerError> {
        let area = match region {
            Some(code) => {
                if Level::of(code).is_none() {
                    return Err(SamplerError::BadRegion(code.to_owned()));
                }
                if !regions.contains(code) {
                    return Err(SamplerError::UnknownRegion(code.to_owned()));
                }
                Some(code)
            }
            None => None,
        };
        let inside = |code: &str| match area {
            None => true,
            Some(a) => {
                code == a || (code.starts_with(a) && code.as_bytes().get(a.len()) == Some(&b'.'))
            }
        };
        let mut by_regency: BTreeMap<&str, RegencyEntry> = BTreeMap::new();
        for (code, count) in population.regencies() {
            // A regency is a candidate when it lies inside the area or contains it.
            let overlaps = inside(code) || area.is_some_and(|a| a.starts_with(code));
            if overlaps && count.total > 0 {
                by_regency.insert(
                    code,
                    RegencyEntry {
                        code: code.to_owned(),
                        population: count.total,
                        districts: Vec::new(),
                        villages: Vec::new(),
                    },
                );
            }
        }
        let mut all_districts_by_province: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (code, _) in regions.codes(Level::District) {
            all_districts_by_province
                .entry(code[..2].to_owned())
                .or_default()
                .push(code.to_owned());
            if let Some(entry) = by_regency.get_mut(&code[..5])
                && (inside(code) || area.is_some_and(|a| a.starts_with(code)))
            {
                entry.districts.push(code.to_owned());
            }
        }
        for (code, _) in regions.codes(Level::Village) {
            if let Some(entry) = by_regency.get_mut(&code[..5])
                && inside(code)
            {
                entry.villages.push(code.to_owned());
            }
        }
        let regencies: Vec<RegencyEntry> = by_regency
            .into_values()
            .filter(|e| !e.villages.is_empty() && !e.districts.is_empty())
            .collect();
        if regencies.is_empty() {
            return Err(SamplerError::NoVillages(
                region.unwrap_or("INDONESIA").to_owned(),
            ));
        }
        let mut acc = 0u64;
        let cumulative = regencies
            .iter()
            .map(|e| {
                acc += e.population;
                acc
            })
            .collect();
        Ok(VillageSampler {
            regencies,
            cumulative,
            all_districts_by_province,
        })
    }

    pub fn regencies(&self) -> &[RegencyEntry] {
        &self.regencies
    }

    /// Total population weight of the area.
    pub fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// A regency, with probability proportional to its population.
    pub fn regency(&self, rng: &mut Rng) -> &RegencyEntry {
        let x = rng.below(self.total());
        let i = self.cumulative.partition_point(|&c| c <= x);
        &self.regencies[i.min(self.regencies.len() - 1)]
    }

    /// A village: a regency by population, then one of its villages uniformly.
    pub fn village<'a>(&'a self, rng: &mut Rng) -> (&'a RegencyEntry, &'a str) {
        let reg = self.regency(rng);
        let v = rng.pick(&reg.villages).map_or("", String::as_str);
        (reg, v)
    }

    /// Districts of a province (all of them, regardless of the selected area).
    pub fn districts_of_province(&self, province: &str) -> &[String] {
        self.all_districts_by_province
            .get(province)
            .map_or(&[], Vec::as_slice)
    }

    /// Every district in the table, grouped by province, in code order.
    pub fn all_districts(&self) -> impl Iterator<Item = &String> {
        self.all_districts_by_province.values().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGIONS: &str = "11,Aceh\n11.01,Kab A\n11.01.01,D1\n11.01.01.2001,V1\n11.01.01.2002,V2\n11.71,Kota B\n11.71.01,D2\n11.71.01.1001,V3\n12,Sumut\n12.01,Kab C\n12.01.01,D3\n";
    const POP: &str = "kode,nama,pria,wanita,total\n0,INDONESIA,10,10,20\n11,Aceh,5,5,400\n11.01,\"Kab A, Utara\",1,1,300\n11.71,Kota B,1,1,100\n12,Sumut,1,1,5\n12.01,Kab C,1,1,5\n";

    fn setup() -> (RegionTable, Population) {
        (
            RegionTable::from_csv(REGIONS).unwrap(),
            Population::from_csv(POP).unwrap(),
        )
    }

    #[test]
    fn parses_names_with_commas_and_skips_the_national_row() {
        let (_, p) = setup();
        assert_eq!(p.get("11.01").unwrap().name, "Kab A, Utara");
        assert_eq!(p.get("11.01").unwrap().total, 300);
        assert!(p.get("0").is_none());
        assert_eq!(p.regencies().count(), 3);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let e = Population::from_csv("kode,nama,pria,wanita,total\n11.01,A,1,x,3\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("wanita"), "{e}");
        let e = Population::from_csv("11.01.01,A,1,1,2\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(Population::from_csv("11,A,1,1,2\n").is_err());
    }

    #[test]
    fn sampling_follows_population_and_skips_regencies_without_villages() {
        let (r, p) = setup();
        let s = VillageSampler::new(&r, &p, None).unwrap();
        // 12.01 has no villages in the table: it is not a candidate.
        assert_eq!(s.regencies().len(), 2);
        let mut rng = Rng::new(5);
        let mut kab_a = 0;
        for _ in 0..4000 {
            let (reg, v) = s.village(&mut rng);
            assert!(v.starts_with(&reg.code));
            if reg.code == "11.01" {
                kab_a += 1;
            }
        }
        assert!((2850..3150).contains(&kab_a), "{kab_a}");
    }

    #[test]
    fn region_filter_restricts_to_the_area() {
        let (r, p) = setup();
        let s = VillageSampler::new(&r, &p, Some("11.71")).unwrap();
        assert_eq!(s.regencies().len(), 1);
        let s = VillageSampler::new(&r, &p, Some("11.01.01.2002")).unwrap();
        assert_eq!(s.regencies()[0].villages, ["11.01.01.2002"]);
        assert_eq!(s.regencies()[0].districts, ["11.01.01"]);
        assert!(matches!(
            VillageSampler::new(&r, &p, Some("11.1")),
            Err(SamplerError::BadRegion(_))
        ));
        assert!(matches!(
            VillageSampler::new(&r, &p, Some("13")),
            Err(SamplerError::UnknownRegion(_))
        ));
        assert!(matches!(
            VillageSampler::new(&r, &p, Some("12")),
            Err(SamplerError::NoVillages(_))
        ));
    }
}
