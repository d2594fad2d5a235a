//! Tidy: tests that keep the code, the docs and the core's purity from drifting apart.
//! They run with the native tests (`cargo test -p xtask`), so `cargo xtask test` runs them.
//!
//! - The project speaks of the product only: no numbered work sessions, numbered issues or
//!   helper names in code, docs or comments (git history keeps the history).
//! - Every name that ARCHITECTURE.md puts in backticks still exists in the code.
//! - tepat-core depends only on the pure crates it is allowed, and on nothing that does IO.

#![cfg(test)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::root;

/// The crates tepat-core may depend on (normal dependencies; dev-dependencies are free).
const CORE_ALLOWED: &[&str] = &[
    "serde",
    "serde_json",
    "serde_path_to_error",
    "libm",
    "sha2",
    "schemars",
];

/// Crates that must never reach tepat-core, even transitively: IO, clocks, randomness,
/// the web binding, the database and the server.
const CORE_FORBIDDEN: &[&str] = &[
    "getrandom",
    "rand",
    "wasm-bindgen",
    "js-sys",
    "web-sys",
    "sqlx",
    "axum",
    "tokio",
    "hyper",
    "chrono",
    "time",
];

/// Files that are scanned for process words: source, build files, docs and test data.
fn scanned(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name == "package-lock.json" || name == "Cargo.lock" {
        return false;
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    matches!(
        ext,
        "rs" | "md"
            | "toml"
            | "mjs"
            | "js"
            | "ts"
            | "json"
            | "html"
            | "css"
            | "sh"
            | "sql"
            | "yml"
            | "yaml"
            | "txt"
    ) || name == "run"
}

/// The files git tracks (or, outside a checkout, every file below the root).
fn project_files() -> Vec<PathBuf> {
    let root = root();
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(&root)
        .output();
    match out {
        Ok(o) if o.status.success() => o
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| root.join(String::from_utf8_lossy(p).as_ref()))
            .filter(|p| p.is_file())
            .collect(),
        _ => {
            let mut files = Vec::new();
            walk(&root, &mut files);
            files
        }
    }
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "node_modules" || name == "dist" {
            continue;
        }
        if p.is_dir() {
            walk(&p, files);
        } else {
            files.push(p);
        }
    }
}

/// Words that tell the history of the work instead of the product: "session 10",
/// "sessions 8–9", "issue 5", "issue #5", "helper-2". Matching is case-insensitive and
/// needs the number, so a login session or a reported issue stays fine.
fn process_words(line: &str) -> Vec<String> {
    let lower = line.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found = Vec::new();
    for word in ["session", "sessions", "issue", "issues", "helper"] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(word) {
            let start = from + at;
            let end = start + word.len();
            from = end;
            let before_ok = start == 0
                || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
            if !before_ok || bytes.get(end).is_some_and(|b| b.is_ascii_alphabetic()) {
                continue;
            }
            let rest = &lower[end..];
            let numbered = match word {
                "helper" => rest.strip_prefix(['-', '_', ' ']),
                _ => rest
                    .strip_prefix(' ')
                    .map(|r| r.strip_prefix('#').unwrap_or(r)),
            }
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()));
            if numbered {
                let shown: String = line[start..].chars().take(word.len() + 4).collect();
                found.push(shown);
            }
        }
    }
    found
}

#[test]
fn process_words_are_recognised() {
    // A test that can fail: the matcher must see each form and pass the product's words.
    assert_eq!(process_words("as measured in Session 10").len(), 1);
    assert_eq!(process_words("sessions 8–9 on Intel").len(), 1);
    assert_eq!(process_words("the target (issue 5)").len(), 1);
    assert_eq!(process_words("see issue #12").len(), 1);
    assert_eq!(process_words("asked helper-2 to").len(), 1);
    assert!(process_words("a session token is revoked").is_empty());
    assert!(process_words("an issue with 3 rows").is_empty());
    assert!(process_words("SESSION_CACHE holds 15 s").is_empty());
    assert!(process_words("the test_helper 2").is_empty());
}

#[test]
fn the_project_speaks_of_the_product_only() {
    let root = root();
    let this = Path::new(file!());
    let mut hits = Vec::new();
    for path in project_files() {
        // An applied migration is never edited (its checksum is stored), so its
        // comments stay as they were written.
        let migration = path.components().any(|c| c.as_os_str() == "migrations");
        if !scanned(&path) || path.ends_with(this) || migration {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            for w in process_words(line) {
                let rel = path.strip_prefix(&root).unwrap_or(&path);
                hits.push(format!("{}:{}: {w:?}", rel.display(), n + 1));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "process words (the project speaks of the product only; git keeps the history):\n{}",
        hits.join("\n")
    );
}

/// The backticked spans of a Markdown text, outside fenced code blocks.
fn code_spans(text: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Odd parts of a line split at backticks are inside spans.
        spans.extend(
            line.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .take(line.matches('`').count() / 2),
        );
    }
    spans
}

/// What a span names, if it names something the code must hold: a path (`crates/core`),
/// or an identifier (`validate_keluarga`, `Expr::compile`, `tepat-core`). Spans with
/// spaces, options, values or URLs are prose, not names.
enum Name {
    Path(String),
    Ident(String),
}

fn name_of(span: &str) -> Option<Name> {
    let s = span.trim();
    if s.is_empty()
        || s.starts_with('-')
        || s.contains(char::is_whitespace)
        || s.contains("://")
        || s.starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let s = s.trim_end_matches("()").trim_end_matches('!');
    let file = [
        ".rs", ".mjs", ".js", ".json", ".md", ".toml", ".sql", ".css", ".csv", ".html",
    ]
    .iter()
    .any(|ext| s.ends_with(ext));
    if (s.contains('/') || file) && !s.contains("::") {
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./*".contains(c))
            || s.contains('*')
        {
            return None;
        }
        return Some(Name::Path(s.trim_end_matches('/').to_owned()));
    }
    let last = s.rsplit("::").next().unwrap_or(s);
    let last = last.split('<').next().unwrap_or(last);
    if last.len() < 3
        || !last.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        || !last
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        return None;
    }
    Some(Name::Ident(last.to_owned()))
}

/// Whether `word` stands in `text` as a whole word.
fn has_word(text: &str, word: &str) -> bool {
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let bytes = text.as_bytes();
    text.match_indices(word).any(|(i, _)| {
        let before = i == 0 || !ident(bytes[i - 1]);
        let after = bytes.get(i + word.len()).is_none_or(|b| !ident(*b));
        before && after
    })
}

/// The names of `doc` that the code no longer holds.
fn missing_names(doc: &str, code: &str, exists: impl Fn(&str) -> bool) -> BTreeSet<String> {
    let mut missing = BTreeSet::new();
    for span in code_spans(doc) {
        match name_of(&span) {
            Some(Name::Path(p)) if !exists(&p) && !code.contains(&p) => {
                missing.insert(p);
            }
            Some(Name::Ident(w)) if !has_word(code, &w) => {
                missing.insert(w);
            }
            _ => {}
        }
    }
    missing
}

#[test]
fn a_stale_name_is_found() {
    let doc = "- `validate` (`validate_keluarga`, `Gone::quick_value`) in `crates/core`, \
               `crates/ratio`; `tepat rank` and `--regions` are prose.\n```\nnot_checked\n```";
    let code = "pub fn validate_keluarga() {} mod validate;";
    let missing = missing_names(doc, code, |p| p == "crates/core");
    let want: BTreeSet<String> = ["crates/ratio", "quick_value"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(missing, want);
}

#[test]
fn architecture_names_exist_in_the_code() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut code = String::new();
    for path in project_files() {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let in_docs = path.starts_with(root.join("docs")) || ext == "md";
        if !in_docs
            && matches!(ext, "rs" | "toml" | "json" | "mjs" | "js" | "sql")
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            code.push_str(&text);
            code.push('\n');
        }
    }
    // A path is named from the root (`crates/core`) or from its crate (`api/sync.rs`).
    let files: Vec<String> = project_files()
        .iter()
        .filter_map(|p| p.strip_prefix(&root).ok())
        .map(|p| format!("/{}", p.display()))
        .collect();
    let exists = |p: &str| {
        let tail = format!("/{}", p.trim_start_matches('/'));
        root.join(p).exists()
            || files
                .iter()
                .any(|f| f.ends_with(&tail) || f.contains(&format!("{tail}/")))
    };
    let missing = missing_names(&doc, &code, exists);
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names what the code no longer has: {missing:?}"
    );
}

/// The `[dependencies]` of a Cargo.toml (also target-specific ones), not dev- or build-.
fn normal_dependencies(manifest: &str) -> Vec<String> {
    let mut deps = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let section = line.trim_matches(|c| c == '[' || c == ']');
            inside = section == "dependencies" || section.ends_with(".dependencies");
            if let Some(dep) = section.strip_prefix("dependencies.") {
                deps.push(dep.to_owned());
                inside = false;
            }
            continue;
        }
        if inside
            && !line.is_empty()
            && !line.starts_with('#')
            && let Some((name, _)) = line.split_once('=')
        {
            deps.push(name.trim().trim_matches('"').to_owned());
        }
    }
    deps
}

#[test]
fn core_dependencies_are_read() {
    let manifest = "[dependencies]\nserde.workspace = true\naxum = \"0.8\"\n\
                    [dev-dependencies]\nproptest = \"1\"\n\
                    [target.'cfg(unix)'.dependencies]\ntokio = \"1\"\n";
    let deps: Vec<String> = normal_dependencies(manifest)
        .into_iter()
        .map(|d| d.split('.').next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(deps, ["serde", "axum", "tokio"]);
}

#[test]
fn the_core_stays_pure() {
    let root = root();
    let manifest = std::fs::read_to_string(root.join("crates/core/Cargo.toml")).unwrap();
    for dep in normal_dependencies(&manifest) {
        let name = dep.split('.').next().unwrap_or("");
        assert!(
            CORE_ALLOWED.contains(&name),
            "tepat-core depends on {name:?}, which is not in the allowed list {CORE_ALLOWED:?}: \
             the core does no IO and knows nothing of the web, the database or the server"
        );
    }
    // The whole normal dependency tree, on every target, with every feature.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "tepat-core",
            "--all-features",
            "-e",
            "normal",
            "--target",
            "all",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(&root)
        .output()
        .expect("cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: BTreeSet<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(crates.contains("serde"), "cargo tree listed no dependency");
    let bad: Vec<&&str> = CORE_FORBIDDEN
        .iter()
        .filter(|c| crates.contains(**c))
        .collect();
    assert!(
        bad.is_empty(),
        "tepat-core reaches crates that do IO or bind the web: {bad:?}"
    );
}
