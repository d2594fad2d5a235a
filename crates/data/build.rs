//! Compresses the Kemendagri region table (data/wilayah.csv) into the build's output
//! directory; `reference.rs` embeds the result, so the binary carries the table at
//! about a quarter of its size.

use std::path::Path;

fn main() {
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/wilayah.csv");
    println!("cargo::rerun-if-changed={}", csv.display());
    let text = std::fs::read(&csv).expect("data/wilayah.csv is readable");
    let packed = miniz_oxide::deflate::compress_to_vec(&text, 9);
    let out = Path::new(&std::env::var_os("OUT_DIR").expect("OUT_DIR is set"))
        .join("wilayah.csv.deflate");
    std::fs::write(out, packed).expect("OUT_DIR is writable");
}
