//! The built `tepat` binary's data commands run in a directory without the project's
//! data/: the region and population tables are built in, and `--regions` /
//! `--population` still read a file when given.

use std::path::Path;
use std::process::Output;

fn tepat(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tepat"))
        .args(args)
        .current_dir(dir)
        .env("TEPAT_LOG", "warn")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn gen_validate_and_rank_work_outside_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(!d.join("data").exists());

    let gen_out = tepat(
        d,
        &[
            "gen",
            "--households",
            "50",
            "--seed",
            "7",
            "--today",
            "2026-06-30",
            "--out",
            "families.jsonl",
        ],
    );
    assert!(gen_out.status.success(), "{}", stderr(&gen_out));
    let families = std::fs::read_to_string(d.join("families.jsonl")).unwrap();
    assert_eq!(families.lines().count(), 50);

    let validate = tepat(d, &["validate", "families.jsonl", "--today", "2026-06-30"]);
    assert!(validate.status.success(), "{}", stderr(&validate));
    assert_eq!(
        String::from_utf8_lossy(&validate.stdout).lines().count(),
        50
    );

    let rank = tepat(
        d,
        &[
            "rank",
            "families.jsonl",
            "--today",
            "2026-06-30",
            "--out",
            "desil.jsonl",
            "--no-progress",
        ],
    );
    assert!(rank.status.success(), "{}", stderr(&rank));
    assert_eq!(
        std::fs::read_to_string(d.join("desil.jsonl"))
            .unwrap()
            .lines()
            .count(),
        50
    );

    // An override that names a missing file is a clear error naming the flag.
    for args in [
        &["validate", "families.jsonl", "--regions", "wilayah.csv"][..],
        &["gen", "--households", "1", "--population", "penduduk.csv"][..],
    ] {
        let o = tepat(d, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains("--regions wilayah.csv")
                || stderr(&o).contains("--population penduduk.csv"),
            "{}",
            stderr(&o)
        );
        assert!(
            stderr(&o).contains("berkas tidak dapat dibaca"),
            "{}",
            stderr(&o)
        );
    }

    // A table given with --regions is the one used: without the first family's
    // province, that family's address is unknown.
    let first: serde_json::Value = serde_json::from_str(families.lines().next().unwrap()).unwrap();
    let province = first["address"]["province"].as_str().unwrap().to_owned();
    let reduced: String = tepat_data::reference::regions_csv()
        .lines()
        .filter(|l| {
            !l.starts_with(&format!("{province},")) && !l.starts_with(&format!("{province}."))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(d.join("wilayah.csv"), reduced).unwrap();
    std::fs::write(d.join("first.jsonl"), families.lines().next().unwrap()).unwrap();
    let o = tepat(
        d,
        &[
            "validate",
            "first.jsonl",
            "--today",
            "2026-06-30",
            "--regions",
            "wilayah.csv",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "kk.province"),
        "{report}"
    );
}

#[test]
fn help_carries_the_reference_data_notice() {
    let dir = tempfile::tempdir().unwrap();
    let o = tepat(dir.path(), &["--help"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("cahyadsn/wilayah"), "{text}");
    assert!(text.contains("Kemendagri"), "{text}");
}

#[test]
fn match_and_dedup_run_on_generated_extracts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ok = |o: Output| assert!(o.status.success(), "{}", stderr(&o));
    let today = ["--today", "2026-06-30"];
    ok(tepat(
        d,
        &[
            &[
                "gen",
                "--households",
                "300",
                "--region",
                "33.74",
                "--out",
                "reg.jsonl",
            ][..],
            &today,
        ]
        .concat(),
    ));
    ok(tepat(
        d,
        &[
            &[
                "gen",
                "--dukcapil-from",
                "reg.jsonl",
                "--out",
                "dukcapil.csv",
                "--truth-out",
                "truth.csv",
            ][..],
            &today,
        ]
        .concat(),
    ));
    ok(tepat(
        d,
        &[
            &["gen", "--pln-from", "reg.jsonl", "--out", "pln.csv"][..],
            &today,
        ]
        .concat(),
    ));
    ok(tepat(
        d,
        &[
            "rank",
            "reg.jsonl",
            "--out",
            "desil.jsonl",
            "--no-progress",
            "--today",
            "2026-06-30",
        ],
    ));
    let m = tepat(
        d,
        &[
            &[
                "match",
                "--dukcapil",
                "dukcapil.csv",
                "--register",
                "reg.jsonl",
            ][..],
            &today,
        ]
        .concat(),
    );
    assert!(m.status.success(), "{}", stderr(&m));
    assert!(stderr(&m).contains("pairs compared"), "{}", stderr(&m));
    let links = std::fs::read_to_string(d.join("links.csv")).unwrap();
    assert!(
        links
            .lines()
            .skip(1)
            .any(|l| l.starts_with("dukcapil,") && l.contains(",match,"))
    );
    assert!(
        std::fs::read_to_string(d.join("findings.jsonl"))
            .unwrap()
            .contains("\"source\":\"dukcapil\"")
    );
    ok(tepat(
        d,
        &[
            &[
                "match",
                "--pln",
                "pln.csv",
                "--register",
                "reg.jsonl",
                "--desil",
                "desil.jsonl",
                "--out",
                "pln-links.csv",
                "--findings",
                "pln.jsonl",
            ][..],
            &today,
        ]
        .concat(),
    ));
    assert!(
        std::fs::read_to_string(d.join("pln.jsonl"))
            .unwrap()
            .contains("idpel_tertaut")
    );
    ok(tepat(d, &["dedup", "--register", "reg.jsonl"]));
    assert!(d.join("dedup-findings.jsonl").exists());

    // The server's register: the findings become review items, once.
    let url = format!("sqlite://{}", d.join("db/tepat.db").display());
    ok(tepat(
        d,
        &[
            "import",
            "--region",
            "33.74",
            "reg.jsonl",
            "--database-url",
            &url,
        ],
    ));
    let run = || {
        tepat(
            d,
            &[
                &[
                    "match",
                    "--database-url",
                    &url,
                    "--dukcapil",
                    "dukcapil.csv",
                ][..],
                &today,
            ]
            .concat(),
        )
    };
    let first = run();
    assert!(first.status.success(), "{}", stderr(&first));
    let out = String::from_utf8_lossy(&first.stdout).into_owned();
    let created: u64 = out
        .split(" findings, ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(created > 0, "{out}");
    let second = run();
    let out2 = String::from_utf8_lossy(&second.stdout).into_owned();
    assert!(out2.contains(" findings, 0 new review items"), "{out2}");
    assert!(!d.join("db").join("links.csv").exists());
}
