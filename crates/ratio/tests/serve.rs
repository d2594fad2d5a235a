//! `tepat-ratio --serve`: the protocol `cargo xtask bench ratio` drives. Each command
//! gets one JSON line whose checksum is the kernel's own result, and a malformed
//! command gets an error line without ending the loop.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use tepat_ratio::Workload;

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let at = line.find(&format!("\"{name}\":"))? + name.len() + 3;
    let rest = line[at..].trim_start_matches('"');
    let end = rest.find(['"', ',', '}'])?;
    Some(&rest[..end])
}

#[test]
fn serves_rounds_with_the_kernels_checksums() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tepat-ratio"))
        .args(["--serve", "30"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("tepat-ratio starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = || lines.next().expect("a line").expect("utf-8");

    let ready = next();
    assert_eq!(field(&ready, "ready"), Some("true"), "{ready}");
    assert_eq!(field(&ready, "families"), Some("30"), "{ready}");

    let w = Workload::new(30);
    let expected = [
        ("validate", 2, w.validate(2)),
        ("score", 3, w.score(3)),
        ("predict", 1, w.predict(1)),
        ("decide", 2, w.decide(2)),
    ];
    for (kernel, reps, sum) in expected {
        writeln!(stdin, "{kernel} {reps}").expect("write");
        let line = next();
        assert_eq!(
            field(&line, "checksum"),
            Some(format!("{sum:016x}").as_str()),
            "{kernel}: {line}"
        );
        let wall: f64 = field(&line, "wall_ns")
            .and_then(|s| s.parse().ok())
            .expect(&line);
        assert!(wall > 0.0, "{line}");
    }
    for bad in ["scores 1", "score", "score 0", "score -1", "score x"] {
        writeln!(stdin, "{bad}").expect("write");
        let line = next();
        assert!(field(&line, "error").is_some(), "{bad:?} → {line}");
    }
    // Still serving after the errors.
    writeln!(stdin, "predict 1").expect("write");
    let line = next();
    assert_eq!(
        field(&line, "checksum"),
        Some(format!("{:016x}", w.predict(1)).as_str())
    );
    drop(stdin);
    assert!(child.wait().expect("exits").success());
}
