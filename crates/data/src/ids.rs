//! Issuing NIKs and No. KKs that are structurally valid, consistent with the person
//! (birth date, sex) or card (issue date), and unique across a whole generated run.
//!
//! Uniqueness without keeping every number: a NIK is `district + DDMMYY + serial`, and
//! the serial is a counter per (district, two-digit year). Two people with the same
//! district and year get different serials, so their NIKs differ. The state is two
//! counters per (district, year): about 1.5 MB each for the 7,285 districts, whatever
//! the number of families. When a counter would pass 9999 the number is issued in the
//! next district of the table instead (a NIK's region is where it was first issued,
//! which need not be where the person lives).

use std::collections::HashMap;

use tepat_core::Date;

/// Dense index of every district in the region table.
#[derive(Clone, Debug)]
pub struct Issuer {
    districts: Vec<String>,
    /// District code (`PP.KK.CC`) → index in `districts`.
    index: HashMap<String, usize>,
    nik_serials: Vec<u16>,
    kk_serials: Vec<u16>,
}

/// Which register a number belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Nik,
    Kk,
}

impl Issuer {
    /// `districts` are dotted district codes (`PP.KK.CC`), in a fixed order.
    pub fn new<'a>(districts: impl IntoIterator<Item = &'a String>) -> Issuer {
        let districts: Vec<String> = districts.into_iter().cloned().collect();
        let index = districts
            .iter()
            .enumerate()
            .map(|(i, d)| (d.clone(), i))
            .collect();
        let slots = districts.len() * 100;
        Issuer {
            districts,
            index,
            nik_serials: vec![0; slots],
            kk_serials: vec![0; slots],
        }
    }

    /// A NIK first issued in `district` for a person born on `birth` of the given sex.
    /// `None` only when the district is unknown to the issuer or all serials are used.
    pub fn nik(&mut self, district: &str, birth: Date, female: bool) -> Option<String> {
        let day = birth.day() + if female { 40 } else { 0 };
        self.issue(Kind::Nik, district, day, birth)
    }

    /// A No. KK issued in `district` on `issued`.
    pub fn kk(&mut self, district: &str, issued: Date) -> Option<String> {
        self.issue(Kind::Kk, district, issued.day(), issued)
    }

    fn issue(&mut self, kind: Kind, district: &str, day: u8, date: Date) -> Option<String> {
        let start = *self.index.get(district)?;
        let yy = date.year().rem_euclid(100) as usize;
        let n = self.districts.len();
        for step in 0..n {
            let d = (start + step) % n;
            let counters = match kind {
                Kind::Nik => &mut self.nik_serials,
                Kind::Kk => &mut self.kk_serials,
            };
            let slot = &mut counters[d * 100 + yy];
            if *slot < 9999 {
                *slot += 1;
                let serial = *slot;
                let digits: String = self.districts[d].chars().filter(|c| *c != '.').collect();
                return Some(format!(
                    "{digits}{day:02}{:02}{yy:02}{serial:04}",
                    date.month()
                ));
            }
        }
        None
    }
}

/// The same day `years` earlier (29 February becomes 28 February when needed).
pub fn years_before(date: Date, years: i32) -> Option<Date> {
    let y = date.year() - years;
    Date::from_ymd(y, date.month(), date.day())
        .or_else(|| Date::from_ymd(y, date.month(), date.day().saturating_sub(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tepat_core::{IdContext, RegionTable, check_kk, check_nik, nik::Sex};

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn years_before_keeps_the_day_or_the_last_of_february() {
        assert_eq!(years_before(d("2024-02-29"), 1), Some(d("2023-02-28")));
    }

    #[test]
    fn issued_numbers_pass_core_checks_and_are_unique() {
        let regions = RegionTable::from_csv("11,Aceh\n11.01,A\n11.01.01,X\n11.01.02,Y\n").unwrap();
        let ctx = IdContext {
            regions: &regions,
            today: d("2026-01-01"),
        };
        let districts = vec!["11.01.01".to_owned(), "11.01.02".to_owned()];
        let mut issuer = Issuer::new(&districts);
        let born = d("1990-03-07");
        let mut seen = std::collections::HashSet::new();
        // More than 9999 in one (district, year): the overflow goes to the next district.
        for i in 0..12_000 {
            let female = i % 2 == 0;
            let nik = issuer.nik("11.01.01", born, female).unwrap();
            assert!(seen.insert(nik.clone()), "duplicate {nik}");
            if i % 997 == 0 || i > 9990 {
                let mut out = Vec::new();
                let sex = if female { Sex::Female } else { Sex::Male };
                let info = check_nik(&nik, &ctx, Some(born), Some(sex), "nik", &mut out).unwrap();
                assert!(out.is_empty(), "{nik}: {out:?}");
                assert_eq!(info.birth_date, born);
            }
        }
        assert!(seen.iter().any(|n| n.starts_with("110102")));
        let kk = issuer.kk("11.01.02", d("2015-08-20")).unwrap();
        assert_eq!(kk, "1101022008150001");
        let mut out = Vec::new();
        assert!(check_kk(&kk, &ctx, "no_kk", &mut out).is_some());
        assert!(issuer.nik("99.99.99", born, false).is_none());
    }
}
