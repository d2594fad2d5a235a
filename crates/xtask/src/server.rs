//! Starting a real `tepat serve` for end-to-end tests and load tests.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::util::{free_port, root};

/// A running server, killed on drop.
pub struct Server {
    child: Child,
    pub url: String,
    /// The server's database, for tests that run the `tepat` CLI against it
    /// (e.g. `tepat rulebook add`).
    pub database_url: String,
    _dir: TempDir,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("{prefix}-{}-{}", std::process::id(), free_port()));
        let _ = std::fs::create_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How to start a server besides the defaults of [`start`].
#[derive(Default)]
pub struct StartOptions {
    /// `--demo` (seed demo data into an empty database).
    pub demo: bool,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Write the server's stderr (its log) to this file instead of the terminal.
    pub log: Option<std::path::PathBuf>,
}

/// Starts `tepat serve --demo` on a free loopback port with a fresh SQLite database
/// (or `database_url`) and waits for its `Tepat listening on` line.
pub fn start(bin: &Path, dist: &Path, database_url: Option<&str>) -> Result<Server, String> {
    start_with(
        bin,
        dist,
        database_url,
        &StartOptions {
            demo: true,
            ..StartOptions::default()
        },
    )
}

/// [`start`] with options.
pub fn start_with(
    bin: &Path,
    dist: &Path,
    database_url: Option<&str>,
    opts: &StartOptions,
) -> Result<Server, String> {
    let dir = TempDir::new("tepat-e2e");
    let port = free_port();
    let db = database_url.map_or_else(
        || format!("sqlite://{}/tepat.db", dir.0.display()),
        str::to_owned,
    );
    let stderr = match &opts.log {
        Some(p) => Stdio::from(
            std::fs::File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()))?,
        ),
        None => Stdio::inherit(),
    };
    let mut command = Command::new(bin);
    command
        .current_dir(root())
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &db,
        ])
        .args(if opts.demo { &["--demo"][..] } else { &[][..] })
        .arg("--dist")
        .arg(dist)
        .envs(opts.env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(stderr);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("[server] {line}");
            if let Some(url) = line.strip_prefix("Tepat listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(url) => Ok(Server {
            child,
            url,
            database_url: db,
            _dir: dir,
        }),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err("the server did not print `Tepat listening on …` within 120 s".into())
        }
    }
}
