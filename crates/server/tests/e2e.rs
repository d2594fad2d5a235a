//! End-to-end through the real `tepat` binary on a real socket: demo seed, login, pull,
//! graceful shutdown, no re-seed; and kill -9 during a burst of pushes, then restart and
//! retry — every acknowledged change is present exactly once. SQLite and PostgreSQL.

mod common;

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

struct Server {
    child: Child,
    addr: String,
    banner: Vec<String>,
}

async fn start(url: &str, dir: &std::path::Path) -> Server {
    // Debug level: the log must still carry no NIK, No. KK or name.
    start_logging(url, dir, "debug,sqlx=info,hyper=info,h2=info").await
}

/// [`start`] with the log filter `TEPAT_LOG`.
async fn start_logging(url: &str, dir: &std::path::Path, log: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tepat"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--database-url",
            url,
            "--demo",
            "--dist",
        ])
        .arg(dir.join("dist"))
        .env("TEPAT_RATE_PER_MINUTE", "100000")
        .env("TEPAT_LOG", log)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("server.log"))
                .expect("log file"),
        ))
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tepat");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    let addr = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(a) = line.strip_prefix("Tepat listening on http://") {
                return a.to_owned();
            }
            banner.push(line);
        }
        panic!("tepat exited before listening; output: {banner:?}");
    })
    .await
    .expect("tepat did not start within 120 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server {
        child,
        addr,
        banner,
    }
}

/// A minimal HTTP/1.1 client (one request per connection).
async fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let mut s = TcpStream::connect(addr).await?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Err(std::io::Error::other("chunked responses are not expected"));
    }
    Ok((status, serde_json::from_str(rest).unwrap_or(Value::Null)))
}

async fn login(addr: &str, user: &str) -> String {
    let (status, body) = http(
        addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": user, "password": "tepat-demo-2026"})),
    )
    .await
    .expect("login");
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

async fn pull_all(addr: &str, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = "0".to_owned();
    loop {
        let (status, body) = http(
            addr,
            "GET",
            &format!("/api/v1/sync/pull?cursor={cursor}&limit=50"),
            Some(token),
            None,
        )
        .await
        .expect("pull");
        assert_eq!(status, 200, "{body}");
        out.extend(body["households"].as_array().unwrap().iter().cloned());
        cursor = body["next_cursor"].as_str().unwrap().to_owned();
        if body["has_more"] == false {
            return out;
        }
    }
}

async fn database(engine: common::Engine) -> (String, tempfile::TempDir, Option<common::Ctx>) {
    let dir = tempfile::tempdir().unwrap();
    match engine {
        common::Engine::Sqlite => (
            format!("sqlite://{}", dir.path().join("db/tepat.db").display()),
            dir,
            None,
        ),
        common::Engine::Postgres => {
            // A fresh PostgreSQL database from the harness (dropped at the end).
            let ctx = common::setup(engine).await;
            ctx.state.db.pool.close().await;
            (ctx.url.clone(), dir, Some(ctx))
        }
    }
}

async fn demo_start_and_restart(engine: common::Engine) {
    let (url, dir, ctx) = database(engine).await;
    let mut server = start(&url, dir.path()).await;
    let banner = server.banner.join("\n");
    assert!(banner.contains("pendamping1"), "{banner}");
    assert!(
        banner.contains("koordinator1") && banner.contains("dinsos1") && banner.contains("analis1"),
        "{banner}"
    );
    assert!(banner.contains("tepat-demo-2026"));
    let (status, health) = http(&server.addr, "GET", "/api/v1/health", None, None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    let t1 = login(&server.addr, "pendamping1").await;
    let t2 = login(&server.addr, "pendamping2").await;
    let h1 = pull_all(&server.addr, &t1).await;
    let h2 = pull_all(&server.addr, &t2).await;
    assert!(
        h1.len() + h2.len() >= 200,
        "a few hundred demo families: {} + {}",
        h1.len(),
        h2.len()
    );
    assert!(!h1.is_empty() && !h2.is_empty());
    let v1: std::collections::HashSet<&str> =
        h1.iter().map(|h| h["village"].as_str().unwrap()).collect();
    assert!(
        h2.iter()
            .all(|h| !v1.contains(h["village"].as_str().unwrap())),
        "facilitators' villages are disjoint"
    );
    let k = login(&server.addr, "koordinator1").await;
    assert_eq!(pull_all(&server.addr, &k).await.len(), h1.len() + h2.len());

    // SIGTERM: graceful shutdown with exit status 0.
    let pid = server.child.id().unwrap();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");

    // A second start does not seed again.
    let mut again = start(&url, dir.path()).await;
    assert!(
        again.banner.join("\n").contains("not seeding again"),
        "{:?}",
        again.banner
    );
    let t1 = login(&again.addr, "pendamping1").await;
    assert_eq!(pull_all(&again.addr, &t1).await.len(), h1.len());
    again.child.kill().await.ok();
    if let Some(ctx) = ctx {
        ctx.teardown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_demo_sqlite() {
    demo_start_and_restart(common::Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_demo_postgres() {
    demo_start_and_restart(common::Engine::Postgres).await;
}

fn change(h: &Value, id: &str) -> Value {
    json!({
        "id": id, "no_kk": h["no_kk"], "base_version": h["version"], "author": "pendamping1",
        "time": "2026-11-20T09:15:00+07:00", "reason": "Uji petik / ground check",
        "event": {"type": "variable_correction", "corrections": [{"field": "address.rt", "value": "009"}]}
    })
}

async fn kill9_during_pushes(engine: common::Engine) {
    let (url, dir, ctx) = database(engine).await;
    let mut server = start(&url, dir.path()).await;
    let token = login(&server.addr, "pendamping1").await;
    let households = pull_all(&server.addr, &token).await;
    assert!(households.len() >= 60);
    let items: Vec<Value> = households
        .iter()
        .map(|h| change(h, &uuid::Uuid::new_v4().to_string()))
        .collect();
    let batches: Vec<Vec<Value>> = items.chunks(3).map(<[Value]>::to_vec).collect();

    // Three clients push batches; the server is killed -9 after the first acknowledgements.
    let acked = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::<Value>::new()));
    let addr = server.addr.clone();
    let mut tasks = Vec::new();
    for client in 0..3 {
        let batches: Vec<Vec<Value>> = batches.iter().skip(client).step_by(3).cloned().collect();
        let (addr, token, acked) = (addr.clone(), token.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for b in batches {
                match http(
                    &addr,
                    "POST",
                    "/api/v1/sync/push",
                    Some(&token),
                    Some(&json!({"items": b})),
                )
                .await
                {
                    Ok((200, body)) => acked
                        .lock()
                        .await
                        .extend(body["results"].as_array().unwrap().iter().cloned()),
                    Ok((status, body)) => panic!("push answered {status}: {body}"),
                    Err(_) => return, // the server died mid-request: not acknowledged
                }
            }
        }));
    }
    loop {
        if acked.lock().await.len() >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pid = server.child.id().unwrap();
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    server.child.wait().await.unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().await.clone();
    assert!(
        !acked.is_empty() && acked.len() < items.len(),
        "killed mid-burst ({} acked)",
        acked.len()
    );

    // Restart; clients retry everything.
    let mut server = start(&url, dir.path()).await;
    let token = login(&server.addr, "pendamping1").await;
    let mut results = std::collections::HashMap::new();
    for b in &batches {
        let (status, body) = http(
            &server.addr,
            "POST",
            "/api/v1/sync/push",
            Some(&token),
            Some(&json!({"items": b})),
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{body}");
        for r in body["results"].as_array().unwrap() {
            results.insert(r["id"].as_str().unwrap().to_owned(), r.clone());
        }
    }
    for a in &acked {
        assert_eq!(
            &results[a["id"].as_str().unwrap()],
            a,
            "a replay answers what was acknowledged"
        );
        assert_eq!(a["status"], "applied", "{a}");
    }
    server.child.kill().await.ok();
    server.child.wait().await.ok();

    // Exactly once in the database.
    let db = tepat_server::db::Db::connect(&url).await.unwrap();
    for item in &items {
        let id = item["id"].as_str().unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM change_requests WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "change {id} stored once");
        let (v,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM household_versions WHERE change_id = $1")
                .bind(id)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(
            v,
            i64::from(results[id]["status"] == "applied"),
            "change {id} applied at most once"
        );
    }
    // Nothing personal reached the log.
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("push"), "the log is written");
    for h in &households {
        assert!(
            !log.contains(h["no_kk"].as_str().unwrap()),
            "a No. KK reached the log"
        );
        for a in h["keluarga"]["anggota"].as_array().unwrap() {
            assert!(
                !log.contains(a["nik"].as_str().unwrap()),
                "a NIK reached the log"
            );
            assert!(
                !log.contains(a["name"].as_str().unwrap()),
                "a name reached the log"
            );
        }
    }
    let (versions,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM household_versions")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let applied = results
        .values()
        .filter(|r| r["status"] == "applied")
        .count() as i64;
    let (heads,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM households")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(versions, heads + applied);
    db.pool.close().await;
    if let Some(ctx) = ctx {
        ctx.teardown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_during_pushes_sqlite() {
    kill9_during_pushes(common::Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_during_pushes_postgres() {
    kill9_during_pushes(common::Engine::Postgres).await;
}

fn tepat(args: &[&str], url: &str, stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tepat"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("TEPAT_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

#[test]
fn cli_user_assign_import_export() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli/tepat.db").display());
    let ok = |o: &std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr))
    };
    ok(&tepat(
        &["user", "add", "koor", "--role", "koordinator"],
        &url,
        Some("rahasia-sekali\n"),
    ));
    let dup = tepat(
        &[
            "user",
            "add",
            "koor",
            "--role",
            "supervisor",
            "--password",
            "rahasia-lagi",
        ],
        &url,
        None,
    );
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let bad = tepat(
        &[
            "user",
            "add",
            "x1",
            "--role",
            "boss",
            "--password",
            "rahasia-lagi",
        ],
        &url,
        None,
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));
    ok(&tepat(&["assign", "koor", "11.01.01"], &url, None));
    let wrong = tepat(&["assign", "koor", "11.01.01.2001"], &url, None);
    assert!(
        !wrong.status.success(),
        "a supervisor is assigned districts"
    );

    let sample: Value = serde_json::from_str(include_str!(
        "../../../tests/vectors/households/sample.json"
    ))
    .unwrap();
    let file = dir.path().join("extract.jsonl");
    std::fs::write(&file, format!("{sample}\n{{\"no_kk\": 1}}\n")).unwrap();
    let imp = tepat(
        &["import", "--region", "11.01", file.to_str().unwrap()],
        &url,
        None,
    );
    ok(&imp);
    assert!(
        String::from_utf8_lossy(&imp.stdout).contains("Imported 1 of 2 lines, 1 rejected"),
        "{}",
        String::from_utf8_lossy(&imp.stdout)
    );
    assert!(String::from_utf8_lossy(&imp.stderr).contains("extract.jsonl:2: parse"));
    let exp = tepat(
        &["export", "--what", "households", "--format", "csv"],
        &url,
        None,
    );
    ok(&exp);
    let csv = String::from_utf8_lossy(&exp.stdout);
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(csv.contains("1101011503120001,1,11.01.01.2001,active,1101011205800001,"));
}

/// With every target at debug level (`TEPAT_LOG=debug`, the database driver's and the
/// HTTP library's too), requests that carry a No. KK, a NIK or a name in the path, the
/// query string or the body leave none of them in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_logs_carry_no_identifier_from_paths_or_queries() {
    let (url, dir, _) = database(common::Engine::Sqlite).await;
    let mut server = start_logging(&url, dir.path(), "debug").await;
    let addr = server.addr.clone();
    let token = login(&addr, "pendamping1").await;
    let families = pull_all(&addr, &token).await;
    assert!(!families.is_empty());
    let mut secrets = Vec::new();
    for h in &families {
        let kk = h["no_kk"].as_str().unwrap();
        secrets.push(kk.to_owned());
        let k = &h["keluarga"];
        for a in k["anggota"].as_array().unwrap() {
            secrets.push(a["nik"].as_str().unwrap().to_owned());
            let n = a["name"].as_str().unwrap();
            secrets.push(n.to_owned());
            secrets.push(n.replace(' ', "%20"));
        }
    }
    let h = &families[0];
    let kk = h["no_kk"].as_str().unwrap();
    let nik = h["keluarga"]["anggota"][0]["nik"].as_str().unwrap();
    let name = h["keluarga"]["anggota"][0]["name"]
        .as_str()
        .unwrap()
        .replace(' ', "%20");
    let paths = [
        format!("/api/v1/households/{kk}"),
        format!("/api/v1/households/{kk}/history?nik={nik}"),
        format!("/api/v1/household?no_kk={kk}"),
        format!("/api/v1/audit?household={kk}"),
        format!("/api/v1/x/nik-{nik}?name={name}"),
        format!("/api/v1/penduduk/{nik}"),
    ];
    for p in &paths {
        http(&addr, "GET", p, Some(&token), None)
            .await
            .expect("request");
    }
    http(
        &addr,
        "POST",
        "/api/v1/validate/nik",
        None,
        Some(&json!({ "nik": nik })),
    )
    .await
    .expect("validate");
    let base = h["version"].as_u64().unwrap();
    let item = json!({
        "id": uuid::Uuid::new_v4().to_string(), "no_kk": kk, "base_version": base,
        "author": "pendamping1", "time": "2026-11-20T09:15:00+07:00", "reason": "Uji petik",
        "event": {"type": "variable_correction", "corrections": [{"field": "housing.floor", "value": 3}]}
    });
    let (status, body) = http(
        &addr,
        "POST",
        "/api/v1/sync/push",
        Some(&token),
        Some(&json!({ "items": [item] })),
    )
    .await
    .expect("push");
    assert_eq!(status, 200, "{body}");
    let _ = server.child.kill().await;
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("DEBUG"), "the log is at debug level");
    for s in &secrets {
        assert!(
            !log.contains(s.as_str()),
            "personal data reached the debug log"
        );
    }
    assert!(
        log.contains("/api/v1/households/{id}"),
        "paths are logged, redacted"
    );
}
