//! `cargo xtask bench`: the benchmarks and their figures. Figures are written by hand,
//! with date and machine, into docs/benchmarks.md; nothing here asserts a speed.

use std::path::Path;

use crate::util::{self, cargo, cmd};
use crate::{build, tools};

pub fn run(_args: &[String]) -> bool {
    let mut ok = true;
    eprintln!(
        "xtask: machine: {} cores; {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        uname()
    );
    // Criterion benches of every crate that has them.
    ok &= util::run(cargo().args(["bench", "--workspace", "--exclude", "tepat-app"]));
    // App shell transfer size.
    match build::pwa() {
        Ok(dist) => print_shell_sizes(&dist),
        Err(e) => {
            eprintln!("xtask: {e}");
            ok = false;
        }
    }
    if tools::ensure_npm_packages().is_err() {
        ok = false;
    }
    ok
}

fn uname() -> String {
    crate::util::output(std::process::Command::new("uname").args(["-srm"])).unwrap_or_default()
}

/// Raw and brotli sizes of the app shell (wasm + js + css) in `dist`.
pub fn print_shell_sizes(dist: &Path) {
    let script = r#"
const fs = require('fs'), path = require('path'), zlib = require('zlib');
const dir = process.argv[1];
let raw = 0, br = 0;
for (const f of fs.readdirSync(dir).sort()) {
  if (!/\.(wasm|js|css)$/.test(f) || f === 'sw.js') continue;
  const b = fs.readFileSync(path.join(dir, f));
  const c = zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  raw += b.length; br += c;
  console.log(`  ${f.padEnd(40)} ${(b.length/1024).toFixed(1).padStart(8)} KB raw ${(c/1024).toFixed(1).padStart(8)} KB brotli`);
}
console.log(`  ${'app shell (wasm+js+css)'.padEnd(40)} ${(raw/1024).toFixed(1).padStart(8)} KB raw ${(br/1024).toFixed(1).padStart(8)} KB brotli`);
"#;
    let mut c = cmd("node");
    c.args(["-e", script]).arg(dist);
    if !util::run(&mut c) {
        eprintln!(
            "xtask: could not measure the app shell in {}",
            dist.display()
        );
    }
}
