//! Indonesian name normalisation for matching.
//!
//! The same person is written many ways across registers: `MUHAMMAD RIZKI`,
//! `Moh. Rizki`, `M. Rizki`, `H. Muh Rizki, S.Pd.`, `Soeharto` / `Suharto`,
//! `Nur Hayati` / `Nurhayati`. [`normalize_name`] maps them to one form: lower case,
//! no punctuation, honorifics and academic degrees dropped, the forms of *Muhammad*
//! and a few other common words written one way, and the old spelling (`oe`, `dj`,
//! `tj`) in the current one. [`NameKey::key`] is that form with the spaces removed,
//! so that spacing differences compare equal.

/// Honorifics written before a name (compared without dots, in lower case).
const PREFIX_TITLES: &[&str] = &[
    "h", "hj", "haji", "hajah", "hajjah", "dr", "drs", "dra", "ir", "prof", "kh", "ust", "ustadz",
    "ustad", "ustazah", "tn", "ny", "nn", "sdr", "sdri", "bpk", "ibu", "bapak",
];

/// Academic degrees written after a name (compared without dots, in lower case).
const DEGREES: &[&str] = &[
    "spd", "spdi", "sh", "se", "st", "skom", "sag", "ssos", "sip", "skm", "skep", "ssi", "sked",
    "sfarm", "sp", "spt", "sth", "shi", "sei", "ak", "mpd", "mm", "mh", "msi", "mkes", "mag", "mt",
    "mkom", "amd", "amdkeb", "amdkep", "ama", "ba", "bsc", "msc", "phd", "mba", "apt",
];

/// Other spellings and abbreviations of common name words, and the form they take.
const SYNONYMS: &[(&str, &str)] = &[
    ("muhammad", "muhammad"),
    ("muhamad", "muhammad"),
    ("muhammed", "muhammad"),
    ("mohammad", "muhammad"),
    ("mohamad", "muhammad"),
    ("mochammad", "muhammad"),
    ("mochamad", "muhammad"),
    ("mokhammad", "muhammad"),
    ("mokhamad", "muhammad"),
    ("muhamed", "muhammad"),
    ("moh", "muhammad"),
    ("moch", "muhammad"),
    ("mhd", "muhammad"),
    ("muh", "muhammad"),
    ("mu", "muhammad"),
    ("abd", "abdul"),
    ("abdoel", "abdul"),
    ("noor", "nur"),
    ("nour", "nur"),
];

/// The normalised tokens of a name, in order. Empty when nothing is left.
pub fn normalize_tokens(name: &str) -> Vec<String> {
    // Degrees follow a comma: "Budi Santoso, S.Pd., M.M." keeps "Budi Santoso".
    let main = name.split(',').next().unwrap_or("");
    let raw: Vec<&str> = main.split_whitespace().collect();
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let n = raw.len();
    for (i, tok) in raw.iter().enumerate() {
        let has_inner_dot = tok.trim_end_matches('.').contains('.');
        let word: String = tok
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        if word.is_empty() {
            continue;
        }
        // A dotted degree anywhere ("S.Pd", "A.Md.") is not part of the name.
        if has_inner_dot && DEGREES.contains(&word.as_str()) {
            continue;
        }
        // An honorific before the name ("H.", "Hj", "Dr."), when a name follows.
        if out.is_empty() && i + 1 < n && PREFIX_TITLES.contains(&word.as_str()) {
            continue;
        }
        // "St." before a name is Siti; "M." is Muhammad.
        let word = if i + 1 < n && tok.ends_with('.') && word == "st" {
            "siti".to_owned()
        } else if i + 1 < n && word == "m" {
            "muhammad".to_owned()
        } else {
            word
        };
        let word = SYNONYMS
            .iter()
            .find(|(from, _)| *from == word)
            .map_or(word, |(_, to)| (*to).to_owned());
        out.push(modern_spelling(&word));
    }
    out
}

/// Old (pre-1972) spelling in the current one: `oe` → `u`, `dj` → `j`, `tj` → `c`.
fn modern_spelling(word: &str) -> String {
    if !(word.contains("oe") || word.contains("dj") || word.contains("tj")) {
        return word.to_owned();
    }
    word.replace("oe", "u")
        .replace("dj", "j")
        .replace("tj", "c")
}

/// The normalised name, its tokens joined by one space.
pub fn normalize_name(name: &str) -> String {
    normalize_tokens(name).join(" ")
}

/// A name prepared once for many comparisons.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameKey {
    /// Normalised, tokens joined by one space.
    pub normal: String,
    /// Normalised without spaces: the key for exact agreement and blocking.
    pub key: String,
    /// The tokens sorted and joined by one space, when there are two or more (else
    /// empty): "Siti Aminah" and "Aminah Siti" compare equal this way.
    pub sorted: String,
}

impl NameKey {
    pub fn new(name: &str) -> NameKey {
        let mut tokens = normalize_tokens(name);
        let key = tokens.concat();
        let normal = tokens.join(" ");
        let sorted = if tokens.len() > 1 {
            tokens.sort_unstable();
            tokens.join(" ")
        } else {
            String::new()
        };
        NameKey {
            normal,
            key,
            sorted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_muhammad_are_one() {
        for n in [
            "Muhammad Rizki",
            "MUHAMMAD RIZKI",
            "Moh. Rizki",
            "M. Rizki",
            "M Rizki",
            "Muh Rizki",
            "Mochammad Rizki",
            "Mohamad  Rizki",
            "Mhd. Rizki",
        ] {
            assert_eq!(normalize_name(n), "muhammad rizki", "{n}");
        }
        // A single "M" is a name of its own, not an abbreviation.
        assert_eq!(normalize_name("M"), "m");
    }

    #[test]
    fn titles_and_degrees_are_dropped() {
        assert_eq!(normalize_name("H. Ahmad Hidayat"), "ahmad hidayat");
        assert_eq!(normalize_name("Hj. Siti Aisyah"), "siti aisyah");
        assert_eq!(
            normalize_name("Dr. Budi Santoso, S.Pd., M.M."),
            "budi santoso"
        );
        assert_eq!(normalize_name("Budi Santoso S.Pd"), "budi santoso");
        assert_eq!(normalize_name("Ir. H. Joko Widodo"), "joko widodo");
        assert_eq!(normalize_name("Dewi Lestari A.Md."), "dewi lestari");
        // "Hasan" is a name, not the title "H".
        assert_eq!(normalize_name("Hasan"), "hasan");
        // A title alone is kept: nothing else would be left.
        assert_eq!(normalize_name("Haji"), "haji");
    }

    #[test]
    fn spelling_spacing_case_and_punctuation() {
        assert_eq!(normalize_name("Soeharto"), "suharto");
        assert_eq!(normalize_name("Djoko Tjahjono"), "joko cahjono");
        assert_eq!(normalize_name("  siti   NURHAYATI "), "siti nurhayati");
        assert_eq!(normalize_name("St. Aminah"), "siti aminah");
        assert_eq!(normalize_name("Abd. Rahman"), "abdul rahman");
        assert_eq!(normalize_name("Noor Aini"), "nur aini");
        assert_eq!(normalize_name("I Gusti Ngurah-Rai"), "i gusti ngurahrai");
        assert_eq!(normalize_name("Ma'ruf"), "maruf");
        assert_eq!(
            NameKey::new("Nur Hayati").key,
            NameKey::new("Nurhayati").key
        );
        assert_eq!(normalize_name(""), "");
        assert_eq!(normalize_name(" . , "), "");
    }
}
