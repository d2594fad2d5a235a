//! The comparisons of the linkage model: each turns two values into an agreement
//! level, 0 the weakest ("else") and the last the strongest (exact). A level of
//! [`MISSING`] means a value is absent on one side: it carries no weight either way.

use tepat_core::Date;

use super::normalize::NameKey;

/// The level of a comparison when one side lacks the value.
pub const MISSING: u8 = u8::MAX;

/// Name levels: 0 different, 1 Jaro–Winkler ≥ 0.80, 2 ≥ 0.92, 3 exact (normalised).
pub const NAME_LEVELS: usize = 4;

/// Compares two prepared names: exact on the normalised key (spacing ignored), else
/// the best Jaro–Winkler similarity of the key and of the spaced form (`strsim`).
pub fn name_level(a: &NameKey, b: &NameKey) -> u8 {
    if a.key.is_empty() || b.key.is_empty() {
        return MISSING;
    }
    if a.key == b.key {
        return 3;
    }
    let jw = strsim::jaro_winkler(&a.key, &b.key).max(token_sorted_jw(a, b));
    if jw >= 0.92 {
        2
    } else if jw >= 0.80 {
        1
    } else {
        0
    }
}

/// Jaro–Winkler of the sorted tokens, so that "Siti Aminah" and "Aminah Siti" are
/// close; only when both have more than one token.
fn token_sorted_jw(a: &NameKey, b: &NameKey) -> f64 {
    if a.sorted.is_empty() || b.sorted.is_empty() {
        return 0.0;
    }
    strsim::jaro_winkler(&a.sorted, &b.sorted)
}

/// Birth-date levels: 0 different, 1 within a year, 2 day and month swapped, 3 exact.
pub const DATE_LEVELS: usize = 4;

pub fn date_level(a: Date, b: Date) -> u8 {
    if a == b {
        return 3;
    }
    if a.year() == b.year() && a.day() == b.month() && a.month() == b.day() {
        return 2;
    }
    if (a.days_since_epoch() - b.days_since_epoch()).abs() <= 366 {
        return 1;
    }
    0
}

/// Sex levels: 0 different, 1 the same.
pub const SEX_LEVELS: usize = 2;

pub fn sex_level<T: PartialEq>(a: T, b: T) -> u8 {
    u8::from(a == b)
}

/// Region levels over dotted Kemendagri codes (`PP.KK.CC.DDDD`): 0 another regency,
/// 1 the same regency, 2 the same district, 3 the same village.
pub const REGION_LEVELS: usize = 4;

pub fn region_level(a: &str, b: &str) -> u8 {
    if a.is_empty() || b.is_empty() {
        return MISSING;
    }
    if a == b {
        return 3;
    }
    let same = |n: usize| a.len() >= n && b.len() >= n && a.as_bytes()[..n] == b.as_bytes()[..n];
    if same(8) {
        2
    } else if same(5) {
        1
    } else {
        0
    }
}

/// NIK levels: 0 different, 1 one digit differs or two neighbouring digits are
/// swapped (a typing error), 2 the same.
pub const NIK_LEVELS: usize = 3;

pub fn nik_level(a: &str, b: &str) -> u8 {
    if a.is_empty() || b.is_empty() {
        return MISSING;
    }
    if a == b {
        return 2;
    }
    if a.len() == b.len() {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let differ: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        let swapped = differ.len() == 2
            && differ[1] == differ[0] + 1
            && a[differ[0]] == b[differ[1]]
            && a[differ[1]] == b[differ[0]];
        if differ.len() == 1 || swapped {
            return 1;
        }
    }
    0
}

/// Address-token levels (PLN): 0 no common token, 1 some (Jaccard ≥ 0.3), 2 most
/// (Jaccard ≥ 0.6). Tokens are lower-case words and numbers without leading zeros.
pub const ADDRESS_LEVELS: usize = 3;

pub fn address_tokens(text: &str) -> Vec<String> {
    let mut t: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            let trimmed = w.trim_start_matches('0');
            if w.chars().all(|c| c.is_ascii_digit()) && !trimmed.is_empty() {
                trimmed.to_owned()
            } else {
                w
            }
        })
        .filter(|w| {
            !matches!(
                w.as_str(),
                "jl" | "jalan" | "gg" | "gang" | "no" | "rt" | "rw"
            )
        })
        .collect();
    t.sort_unstable();
    t.dedup();
    t
}

pub fn address_level(a: &[String], b: &[String]) -> u8 {
    if a.is_empty() || b.is_empty() {
        return MISSING;
    }
    let common = a.iter().filter(|w| b.binary_search(w).is_ok()).count();
    let union = a.len() + b.len() - common;
    let j = common as f64 / union as f64;
    if j >= 0.6 {
        2
    } else if j >= 0.3 {
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn names_compare_by_level() {
        let k = NameKey::new;
        assert_eq!(name_level(&k("Moh. Rizki"), &k("MUHAMMAD RIZKI")), 3);
        assert_eq!(name_level(&k("Nur Hayati"), &k("Nurhayati")), 3);
        assert_eq!(name_level(&k("Siti Aminah"), &k("Siti Aminha")), 2);
        assert_eq!(name_level(&k("Siti Aminah"), &k("Aminah Siti")), 2);
        assert_eq!(name_level(&k("Siti Aminah"), &k("Siti Rahmawati")), 1);
        assert_eq!(name_level(&k("Budi Santoso"), &k("Wayan Sembiring")), 0);
        assert_eq!(name_level(&k(""), &k("Budi")), MISSING);
    }

    #[test]
    fn dates_compare_exact_swapped_within_a_year() {
        assert_eq!(date_level(d("1980-03-07"), d("1980-03-07")), 3);
        assert_eq!(date_level(d("1980-03-07"), d("1980-07-03")), 2);
        assert_eq!(date_level(d("1980-03-07"), d("1981-03-07")), 1);
        assert_eq!(date_level(d("1980-03-07"), d("1980-03-08")), 1);
        assert_eq!(date_level(d("1980-03-07"), d("1982-03-07")), 0);
    }

    #[test]
    fn sex_region_nik_and_address() {
        assert_eq!(sex_level(1, 1), 1);
        assert_eq!(sex_level(1, 2), 0);
        assert_eq!(region_level("33.74.01.1001", "33.74.01.1001"), 3);
        assert_eq!(region_level("33.74.01.1001", "33.74.01.1002"), 2);
        assert_eq!(region_level("33.74.01.1001", "33.74.02.1001"), 1);
        assert_eq!(region_level("33.74.01.1001", "33.75.01.1001"), 0);
        assert_eq!(region_level("", "33.75.01.1001"), MISSING);
        assert_eq!(nik_level("3374010101800001", "3374010101800001"), 2);
        assert_eq!(nik_level("3374010101800001", "3374010101800007"), 1);
        assert_eq!(nik_level("3374010101800001", "3374010110800001"), 1);
        assert_eq!(nik_level("3374010101800001", "3374010102800002"), 0);
        assert_eq!(nik_level("3374010101800001", "3374019999800001"), 0);
        assert_eq!(nik_level("", "3374010101800001"), MISSING);
        let a = address_tokens("Jl. Melati No. 5 RT 003 RW 002");
        assert_eq!(a, ["2", "3", "5", "melati"]);
        assert_eq!(
            address_level(&a, &address_tokens("Jalan Melati 5, RT 3/RW 2")),
            2
        );
        assert_eq!(
            address_level(&a, &address_tokens("Gg. Mawar 9 RT 3 RW 7")),
            0
        );
        assert_eq!(
            address_level(&a, &address_tokens("Jl Melati 5 rt 8 rw 9")),
            1
        );
        assert_eq!(address_level(&a, &[]), MISSING);
    }
}
