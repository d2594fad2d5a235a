//! The reference tables built into the binary, so that `tepat gen`, `tepat validate`
//! and the server work wherever they are installed: the Kemendagri region table
//! (`data/wilayah.csv`, deflated at build time by `build.rs`) and the population by
//! regency (`data/penduduk.csv`). `--regions` and `--population` override them with a
//! file, e.g. an updated Kemendagri list, without a rebuild.

use std::sync::OnceLock;

/// Source and licence of the embedded tables (`data/NOTICE.md`), which travels with
/// every copy; `tepat --help` prints it.
pub const NOTICE: &str = include_str!("../../../data/NOTICE.md");

/// The population table (`kode,nama,pria,wanita,total`), `data/penduduk.csv`.
pub const POPULATION_CSV: &str = include_str!("../../../data/penduduk.csv");

/// `data/wilayah.csv`, raw deflate.
const REGIONS_DEFLATE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/wilayah.csv.deflate"));

/// The region table (`kode,nama`), `data/wilayah.csv`, inflated once per process.
pub fn regions_csv() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        // The bytes were written by this build's build.rs from a UTF-8 file: a failure
        // here is a broken build, not bad outside data.
        let bytes = miniz_oxide::inflate::decompress_to_vec(REGIONS_DEFLATE)
            .expect("the embedded region table inflates");
        String::from_utf8(bytes).expect("the embedded region table is UTF-8")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_tables_are_the_files() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/");
        let read = |f: &str| std::fs::read_to_string(format!("{dir}{f}")).expect("readable");
        assert_eq!(regions_csv(), read("wilayah.csv"));
        assert_eq!(POPULATION_CSV, read("penduduk.csv"));
        assert!(
            REGIONS_DEFLATE.len() * 3 < regions_csv().len(),
            "compressed"
        );
        assert!(NOTICE.contains("wilayah.csv"));
    }
}
