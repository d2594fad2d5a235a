//! Small process helpers. xtask stays std-only so it compiles in seconds.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;

/// The repository root (xtask lives in crates/xtask).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/xtask has two ancestors")
        .to_path_buf()
}

/// `cargo` as invoked by the user (`$CARGO`), falling back to the one on PATH.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    // A CI run starts from a clean clone and never rebuilds incrementally: the
    // incremental caches would only take disk space.
    if std::env::var_os("CI").is_some() {
        cmd.env("CARGO_INCREMENTAL", "0");
    }
    cmd
}

/// Free space, in bytes, on the file system that holds `path` (from `df`), if known.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let out = Command::new("df").arg("-Pk").arg(path).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.lines().nth(1)?;
    let kib: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib * 1024)
}

/// A command run from the repository root with the project's tool folders first on PATH.
pub fn cmd(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(root()).env("PATH", tool_path());
    cmd
}

/// PATH with tests/node_modules/.bin (wasm-opt) and the cargo bin dir in front.
pub fn tool_path() -> std::ffi::OsString {
    let mut dirs = vec![root().join("tests/node_modules/.bin"), cargo_bin_dir()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// Where `cargo install` puts binaries: `$CARGO_HOME/bin`, else `~/.cargo/bin`.
pub fn cargo_bin_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return PathBuf::from(home).join("bin");
    }
    PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".cargo/bin")
}

/// Runs a command, echoing its output, and returns success.
pub fn run(cmd: &mut Command) -> bool {
    eprintln!("xtask$ {}", show(cmd));
    match cmd.status() {
        Ok(status) => status.success(),
        Err(e) => {
            eprintln!(
                "xtask: cannot start {}: {e}",
                cmd.get_program().to_string_lossy()
            );
            false
        }
    }
}

/// Runs a command and returns its stdout (trimmed) if it succeeded.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs a command, echoing every line of stdout and stderr as it comes, and
/// hands each line to `on_line` too. Returns the exit status.
pub fn run_streaming(cmd: &mut Command, mut on_line: impl FnMut(&str)) -> Option<ExitStatus> {
    eprintln!("xtask$ {}", show(cmd));
    let mut child = match cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "xtask: cannot start {}: {e}",
                cmd.get_program().to_string_lossy()
            );
            return None;
        }
    };
    let (tx, rx) = mpsc::channel::<(bool, String)>();
    let pump = |stream: Box<dyn Read + Send>, is_err: bool, tx: mpsc::Sender<(bool, String)>| {
        thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if tx.send((is_err, line)).is_err() {
                    break;
                }
            }
        })
    };
    let a = pump(Box::new(child.stdout.take()?), false, tx.clone());
    let b = pump(Box::new(child.stderr.take()?), true, tx);
    for (is_err, line) in rx {
        if is_err {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
        on_line(&line);
    }
    let _ = (a.join(), b.join());
    child.wait().ok()
}

pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// A 64-bit FNV-1a hash, stable across Rust versions (used as a cache key).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub fn is_root() -> bool {
    output(Command::new("id").arg("-u")).as_deref() == Some("0")
}

/// `apt-get install -y PKGS` (with sudo when not root). Runs `apt-get update` first.
pub fn apt_install(pkgs: &[&str]) -> bool {
    let sudo = !is_root();
    let mk = |args: &[&str]| {
        let mut c = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&mut mk(&["update", "-q"])) && run(mk(&["install", "-y", "-q"]).args(pkgs))
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(38_080)
}

pub fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.2} MB", n as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KB", n as f64 / 1024.0)
    }
}
