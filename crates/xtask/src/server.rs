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
    _dir: TempDir,
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

/// Starts `tepat serve --demo` on a free loopback port with a fresh SQLite database
/// (or `database_url`) and waits for its `Tepat listening on` line.
pub fn start(bin: &Path, dist: &Path, database_url: Option<&str>) -> Result<Server, String> {
    let dir = TempDir::new("tepat-e2e");
    let port = free_port();
    let db = database_url.map_or_else(
        || format!("sqlite://{}/tepat.db", dir.0.display()),
        str::to_owned,
    );
    let mut child = Command::new(bin)
        .current_dir(root())
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &db,
            "--demo",
            "--dist",
        ])
        .arg(dist)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
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
            _dir: dir,
        }),
        Err(_) => {
            let _ = child.kill();
            Err("the server did not print `Tepat listening on …` within 120 s".into())
        }
    }
}
