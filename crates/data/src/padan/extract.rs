//! Readers of the Dukcapil and PLN extracts (CSV, UTF-8, header required; the formats
//! are in docs/data-format.md). A wrong header stops the read with an error naming
//! the expected columns; a bad row is reported with its line number and skipped, and
//! the read goes on. Messages name the column and the problem, never the value.

use std::io::Read;

use tepat_core::Date;

/// The columns of a Dukcapil extract, in order.
pub const DUKCAPIL_COLUMNS: &[&str] = &[
    "nik",
    "no_kk",
    "nama",
    "tempat_lahir",
    "tanggal_lahir",
    "jenis_kelamin",
    "kode_wilayah",
    "status",
    "tanggal_meninggal",
];

/// The columns of a PLN extract, in order.
pub const PLN_COLUMNS: &[&str] = &[
    "idpel",
    "nama_pelanggan",
    "alamat",
    "kode_wilayah",
    "tarif",
    "daya_va",
    "kwh_rata_rata",
    "nik",
];

/// A person's status at Dukcapil.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Aktif,
    Nonaktif,
    Meninggal,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Aktif => "aktif",
            Status::Nonaktif => "nonaktif",
            Status::Meninggal => "meninggal",
        }
    }
}

/// One row of a Dukcapil extract.
#[derive(Clone, Debug, PartialEq)]
pub struct DukcapilRow {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    pub nik: String,
    pub no_kk: String,
    pub nama: String,
    pub tempat_lahir: String,
    pub tanggal_lahir: Date,
    /// 1 male, 2 female.
    pub jenis_kelamin: u8,
    pub kode_wilayah: String,
    pub status: Status,
    pub tanggal_meninggal: Option<Date>,
}

/// One row of a PLN extract.
#[derive(Clone, Debug, PartialEq)]
pub struct PlnRow {
    pub line: u64,
    pub idpel: String,
    pub nama_pelanggan: String,
    pub alamat: String,
    pub kode_wilayah: String,
    pub tarif: String,
    pub daya_va: u32,
    pub kwh_rata_rata: Option<f64>,
    /// Empty when PLN does not have it.
    pub nik: String,
}

/// A row that was skipped, with why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BadRow {
    pub line: u64,
    /// Bahasa Indonesia, then English.
    pub message: String,
}

/// Why an extract cannot be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractError(pub String);

impl std::fmt::Display for ExtractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExtractError {}

impl<T> Extract<T> {
    fn new() -> Extract<T> {
        Extract {
            rows: Vec::new(),
            bad: Vec::new(),
        }
    }
}

/// What a read gives: the good rows and the skipped ones.
#[derive(Clone, Debug)]
pub struct Extract<T> {
    pub rows: Vec<T>,
    pub bad: Vec<BadRow>,
}

fn check_header(
    reader: &mut csv::Reader<impl Read>,
    expected: &[&str],
    what: &str,
) -> Result<(), ExtractError> {
    let header = reader.headers().map_err(|e| {
        ExtractError(format!(
            "berkas {what} tidak dapat dibaca ({}) / the {what} file cannot be read",
            csv_problem(&e)
        ))
    })?;
    let got: Vec<&str> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}'))
        .collect();
    if got != expected {
        let list = expected.join(",");
        return Err(ExtractError(format!(
            "kepala kolom {what} salah; kolom yang diharapkan: {list} / wrong {what} header; expected columns: {list}"
        )));
    }
    Ok(())
}

/// The kind of a CSV error, without the data it saw.
fn csv_problem(e: &csv::Error) -> &'static str {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "bukan UTF-8 / not UTF-8",
        csv::ErrorKind::UnequalLengths { .. } => {
            "jumlah kolom tidak sesuai / wrong number of columns"
        }
        csv::ErrorKind::Io(_) => "galat baca / read error",
        _ => "CSV rusak / malformed CSV",
    }
}

fn reader(input: impl Read) -> csv::Reader<impl Read> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(input)
}

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// A dotted village code: `PP.KK.CC.DDDD` (digits, 13 characters).
fn is_village_code(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && [2, 2, 2, 4]
            .iter()
            .zip(&parts)
            .all(|(n, p)| is_digits(p, *n))
}

fn bad(line: u64, column: &str, id: &str, en: &str) -> BadRow {
    BadRow {
        line,
        message: format!("kolom {column}: {id} / column {column}: {en}"),
    }
}

/// Reads a Dukcapil extract.
pub fn read_dukcapil(input: impl Read) -> Result<Extract<DukcapilRow>, ExtractError> {
    read_rows(input, DUKCAPIL_COLUMNS, "Dukcapil", dukcapil_row)
}

/// Reads an extract: its header checked against `columns`, then each row through
/// `row`; a bad or malformed row is reported with its line and the rest read on, and
/// only an unreadable file stops it.
fn read_rows<T>(
    input: impl Read,
    columns: &[&str],
    source: &str,
    row: fn(u64, &csv::StringRecord) -> Result<T, BadRow>,
) -> Result<Extract<T>, ExtractError> {
    let mut r = reader(input);
    check_header(&mut r, columns, source)?;
    let mut out = Extract::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let line = r.position().line();
        match r.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => match row(line, &rec) {
                Ok(v) => out.rows.push(v),
                Err(b) => out.bad.push(b),
            },
            Err(e) => {
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(ExtractError(format!(
                        "berkas {source} tidak dapat dibaca pada baris {line} / the {source} file cannot be read at line {line}"
                    )));
                }
                let problem = csv_problem(&e);
                out.bad.push(BadRow {
                    line,
                    message: format!("baris rusak: {problem} / malformed row: {problem}"),
                });
            }
        }
    }
    Ok(out)
}

fn dukcapil_row(line: u64, rec: &csv::StringRecord) -> Result<DukcapilRow, BadRow> {
    let f = |i: usize| rec.get(i).unwrap_or("").trim();
    let nik = f(0);
    if !is_digits(nik, 16) {
        return Err(bad(line, "nik", "harus 16 angka", "must be 16 digits"));
    }
    let no_kk = f(1);
    if !(no_kk.is_empty() || is_digits(no_kk, 16)) {
        return Err(bad(line, "no_kk", "harus 16 angka", "must be 16 digits"));
    }
    let nama = f(2);
    if nama.is_empty() {
        return Err(bad(line, "nama", "kosong", "empty"));
    }
    let tanggal_lahir = Date::parse(f(4)).map_err(|_| {
        bad(
            line,
            "tanggal_lahir",
            "bukan tanggal YYYY-MM-DD",
            "not a YYYY-MM-DD date",
        )
    })?;
    let jenis_kelamin = match f(5) {
        "1" => 1,
        "2" => 2,
        _ => {
            return Err(bad(
                line,
                "jenis_kelamin",
                "harus 1 (laki-laki) atau 2 (perempuan)",
                "must be 1 (male) or 2 (female)",
            ));
        }
    };
    let kode_wilayah = f(6);
    if !is_village_code(kode_wilayah) {
        return Err(bad(
            line,
            "kode_wilayah",
            "bukan kode desa Kemendagri (PP.KK.CC.DDDD)",
            "not a Kemendagri village code (PP.KK.CC.DDDD)",
        ));
    }
    let status = match f(7) {
        "aktif" => Status::Aktif,
        "nonaktif" => Status::Nonaktif,
        "meninggal" => Status::Meninggal,
        _ => {
            return Err(bad(
                line,
                "status",
                "harus aktif, nonaktif atau meninggal",
                "must be aktif, nonaktif or meninggal",
            ));
        }
    };
    let tanggal_meninggal = match f(8) {
        "" => None,
        t => Some(Date::parse(t).map_err(|_| {
            bad(
                line,
                "tanggal_meninggal",
                "bukan tanggal YYYY-MM-DD",
                "not a YYYY-MM-DD date",
            )
        })?),
    };
    match (status, tanggal_meninggal) {
        (Status::Meninggal, None) => {
            return Err(bad(
                line,
                "tanggal_meninggal",
                "wajib diisi bila status meninggal",
                "required when the status is meninggal",
            ));
        }
        (Status::Aktif | Status::Nonaktif, Some(_)) => {
            return Err(bad(
                line,
                "tanggal_meninggal",
                "harus kosong kecuali status meninggal",
                "must be empty unless the status is meninggal",
            ));
        }
        _ => {}
    }
    Ok(DukcapilRow {
        line,
        nik: nik.to_owned(),
        no_kk: no_kk.to_owned(),
        nama: nama.to_owned(),
        tempat_lahir: f(3).to_owned(),
        tanggal_lahir,
        jenis_kelamin,
        kode_wilayah: kode_wilayah.to_owned(),
        status,
        tanggal_meninggal,
    })
}

/// The power classes PLN sells to households, in VA; above 3,500 any value is allowed.
pub const POWER_CLASSES: &[u32] = &[450, 900, 1300, 2200, 3500];

/// Reads a PLN extract.
pub fn read_pln(input: impl Read) -> Result<Extract<PlnRow>, ExtractError> {
    read_rows(input, PLN_COLUMNS, "PLN", pln_row)
}

fn pln_row(line: u64, rec: &csv::StringRecord) -> Result<PlnRow, BadRow> {
    let f = |i: usize| rec.get(i).unwrap_or("").trim();
    let idpel = f(0);
    if !is_digits(idpel, 12) {
        return Err(bad(line, "idpel", "harus 12 angka", "must be 12 digits"));
    }
    let kode_wilayah = f(3);
    if !is_village_code(kode_wilayah) {
        return Err(bad(
            line,
            "kode_wilayah",
            "bukan kode desa Kemendagri (PP.KK.CC.DDDD)",
            "not a Kemendagri village code (PP.KK.CC.DDDD)",
        ));
    }
    let tarif = f(4);
    if tarif.is_empty() || !tarif.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad(
            line,
            "tarif",
            "harus kode tarif seperti R1, R1M, R1T",
            "must be a tariff code such as R1, R1M, R1T",
        ));
    }
    let daya_va = f(5)
        .parse::<u32>()
        .ok()
        .filter(|v| POWER_CLASSES.contains(v) || *v > 3500)
        .ok_or_else(|| {
            bad(
                line,
                "daya_va",
                "harus 450, 900, 1300, 2200, 3500 atau lebih",
                "must be 450, 900, 1300, 2200, 3500 or more",
            )
        })?;
    let kwh_rata_rata = match f(6) {
        "" => None,
        t => Some(
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    bad(
                        line,
                        "kwh_rata_rata",
                        "bukan bilangan tidak negatif",
                        "not a non-negative number",
                    )
                })?,
        ),
    };
    let nik = f(7);
    if !(nik.is_empty() || is_digits(nik, 16)) {
        return Err(bad(
            line,
            "nik",
            "harus kosong atau 16 angka",
            "must be empty or 16 digits",
        ));
    }
    Ok(PlnRow {
        line,
        idpel: idpel.to_owned(),
        nama_pelanggan: f(1).to_owned(),
        alamat: f(2).to_owned(),
        kode_wilayah: kode_wilayah.to_owned(),
        tarif: tarif.to_uppercase(),
        daya_va,
        kwh_rata_rata,
        nik: nik.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "nik,no_kk,nama,tempat_lahir,tanggal_lahir,jenis_kelamin,kode_wilayah,status,tanggal_meninggal\n";

    #[test]
    fn dukcapil_rows_read_and_bad_rows_reported_by_line() {
        let text = format!(
            "{HEAD}3374014101800001,3374010101100001,Siti Aminah,Semarang,1980-01-01,2,33.74.01.1001,aktif,\n\
             33740141018000,3374010101100001,Siti,Semarang,1980-01-01,2,33.74.01.1001,aktif,\n\
             3374014101800002,,Budi,Semarang,1980-13-01,1,33.74.01.1001,aktif,\n\
             3374014101800003,,Budi,Semarang,1980-01-01,1,33.74.01.1001,meninggal,2024-05-06\n\
             3374014101800004,,Budi,Semarang,1980-01-01,1,33.74.01.1001,meninggal,\n\
             too,few\n"
        );
        let e = read_dukcapil(text.as_bytes()).unwrap();
        assert_eq!(e.rows.len(), 2);
        assert_eq!(e.rows[0].line, 2);
        assert_eq!(e.rows[1].status, Status::Meninggal);
        assert_eq!(e.rows[1].tanggal_meninggal, Date::parse("2024-05-06").ok());
        let lines: Vec<u64> = e.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [3, 4, 6, 7]);
        assert!(e.bad[0].message.starts_with("kolom nik: harus 16 angka"));
        assert!(e.bad[1].message.contains("tanggal_lahir"));
        // No submitted value is echoed.
        assert!(e.bad.iter().all(|b| !b.message.contains("33740141018000")));
    }

    #[test]
    fn a_wrong_header_names_the_expected_columns() {
        let err = read_dukcapil("nik,nama\n1,2\n".as_bytes()).unwrap_err();
        assert!(err.0.starts_with("kepala kolom Dukcapil salah"), "{err}");
        assert!(err.0.contains(&DUKCAPIL_COLUMNS.join(",")));
        let err = read_pln(HEAD.as_bytes()).unwrap_err();
        assert!(err.0.contains(&PLN_COLUMNS.join(",")), "{err}");
    }

    #[test]
    fn pln_rows_read_nik_may_be_empty() {
        let text = "idpel,nama_pelanggan,alamat,kode_wilayah,tarif,daya_va,kwh_rata_rata,nik\n\
                    123456789012,Budi,Jl. Melati 5,33.74.01.1001,R1,900,85.5,\n\
                    123456789013,Siti,Jl. Mawar 1,33.74.01.1001,r1m,1300,,3374014101800001\n\
                    12345678901,Siti,Jl. Mawar 1,33.74.01.1001,R1,900,1,\n\
                    123456789014,Siti,Jl. Mawar 1,33.74.01.1001,R1,1000,1,\n\
                    123456789015,Siti,Jl. Mawar 1,33.74.01.1001,R1T,5500,1,\n";
        let e = read_pln(text.as_bytes()).unwrap();
        assert_eq!(e.rows.len(), 3);
        assert_eq!(e.rows[0].nik, "");
        assert_eq!(e.rows[1].tarif, "R1M");
        assert_eq!(e.rows[2].daya_va, 5500);
        assert_eq!(e.bad.iter().map(|b| b.line).collect::<Vec<_>>(), [4, 5]);
    }
}
