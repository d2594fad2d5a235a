//! One screen per file.

pub mod nik;
