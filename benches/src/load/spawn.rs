//! Running the real `pmm-server` binary: start it on 127.0.0.1:0, read the
//! address from its `listening addr=…` log line, time its cold start (spawn
//! to health SERVING), read its memory high-water mark, stop it with SIGTERM.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tokio::task::JoinHandle;

use super::conn::{wait_serving, Credentials};
use super::stats::status_kb;
use super::LoadError;

/// How to start the server.
#[derive(Clone, Debug)]
pub struct SpawnOptions {
    /// The `pmm-server` binary.
    pub server_bin: PathBuf,
    /// The ledger file (`--db`).
    pub db: PathBuf,
    /// `--durability` (`normal` / `full`); `None` = the server's default.
    pub durability: Option<String>,
    /// More arguments for the server.
    pub extra_args: Vec<String>,
    /// Where to copy the server's log (its stdout); `None` = discard.
    pub log: Option<PathBuf>,
    /// Longest wait for SERVING.
    pub startup_timeout: Duration,
    /// How to reach it (TLS when `extra_args` turn it on).
    pub credentials: Credentials,
}

impl SpawnOptions {
    pub fn new(server_bin: impl Into<PathBuf>, db: impl Into<PathBuf>) -> SpawnOptions {
        SpawnOptions {
            server_bin: server_bin.into(),
            db: db.into(),
            durability: None,
            extra_args: Vec::new(),
            log: None,
            startup_timeout: Duration::from_secs(300),
            credentials: Credentials::default(),
        }
    }
}

/// A running `pmm-server` process.
#[derive(Debug)]
pub struct SpawnedServer {
    child: Child,
    /// Its process id.
    pub pid: u32,
    /// `host:port` it listens on.
    pub addr: String,
    /// From spawning the process to health SERVING.
    pub cold_start: Duration,
    /// From spawning the process to its `listening` log line.
    pub to_listening: Duration,
    drain: JoinHandle<()>,
}

/// Removes ANSI escape sequences (`ESC [ … final byte`).
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The address in a `… listening addr=127.0.0.1:1234 db=…` log line.
pub fn listening_addr(line: &str) -> Option<String> {
    let line = strip_ansi(line);
    let at = line.find("listening")?;
    let rest = &line[at..];
    let value = rest
        .split_whitespace()
        .find_map(|w| w.strip_prefix("addr="))?;
    (!value.is_empty()).then(|| value.to_string())
}

/// Copies the rest of the server's stdout to `log` (or discards it), so
/// that the server never blocks on a full pipe.
fn drain(stdout: BufReader<ChildStdout>, log: Option<PathBuf>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = stdout.lines();
        let mut file = match log {
            Some(path) => tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await
                .ok(),
            None => None,
        };
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(f) = file.as_mut() {
                let _ = f.write_all(strip_ansi(&line).as_bytes()).await;
                let _ = f.write_all(b"\n").await;
            }
        }
        if let Some(f) = file.as_mut() {
            let _ = f.flush().await;
        }
    })
}

impl SpawnedServer {
    /// Starts the server and waits until it reports SERVING.
    pub async fn start(options: &SpawnOptions) -> Result<SpawnedServer, LoadError> {
        let mut command = Command::new(&options.server_bin);
        command
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--db")
            .arg(&options.db)
            .arg("--log")
            .arg("info");
        if let Some(d) = &options.durability {
            command.arg("--durability").arg(d);
        }
        command
            .args(&options.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let spawned = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| LoadError::Spawn(format!("{}: {e}", options.server_bin.display())))?;
        let pid = child
            .id()
            .ok_or_else(|| LoadError::Spawn("the server exited at once".to_string()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| LoadError::Spawn("no stdout pipe".to_string()))?;
        let mut reader = BufReader::new(stdout);
        let deadline = spawned + options.startup_timeout;
        let mut line = String::new();
        let addr = loop {
            line.clear();
            let remaining = deadline.saturating_duration_since(Instant::now());
            let read = tokio::time::timeout(remaining, reader.read_line(&mut line))
                .await
                .map_err(|_| LoadError::Spawn("no `listening` log line in time".to_string()))?
                .map_err(|e| LoadError::Spawn(format!("reading the server's log: {e}")))?;
            if read == 0 {
                let status = child.wait().await.ok();
                return Err(LoadError::Spawn(format!(
                    "the server exited before listening ({status:?})"
                )));
            }
            if let Some(addr) = listening_addr(&line) {
                break addr;
            }
        };
        let to_listening = spawned.elapsed();
        if let Some(path) = &options.log {
            let _ = std::fs::write(path, format!("{}\n", strip_ansi(line.trim_end())));
        }
        let drain = drain(reader, options.log.clone());
        let remaining = deadline.saturating_duration_since(Instant::now());
        wait_serving(
            &addr,
            &options.credentials,
            Duration::from_millis(2),
            remaining,
        )
        .await?;
        let cold_start = spawned.elapsed();
        Ok(SpawnedServer {
            child,
            pid,
            addr,
            cold_start,
            to_listening,
            drain,
        })
    }

    /// Peak resident set size so far (`VmHWM`), in kB.
    pub fn vm_hwm_kb(&self) -> Option<u64> {
        status_kb(self.pid, "VmHWM")
    }

    /// Current resident set size (`VmRSS`), in kB.
    pub fn vm_rss_kb(&self) -> Option<u64> {
        status_kb(self.pid, "VmRSS")
    }

    /// SIGTERM, then waits for the exit (SIGKILL after `grace`).
    pub async fn stop(mut self, grace: Duration) -> Result<ExitStatus, LoadError> {
        let pid = libc::pid_t::try_from(self.pid)
            .map_err(|_| LoadError::Internal(format!("pid {} out of range", self.pid)))?;
        // SAFETY: kill(2) with a pid we spawned and have not reaped yet.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        if sent != 0 {
            self.child
                .kill()
                .await
                .map_err(|e| LoadError::Spawn(format!("kill: {e}")))?;
        }
        let status = match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => status.map_err(|e| LoadError::Spawn(format!("wait: {e}")))?,
            Err(_) => {
                self.child
                    .kill()
                    .await
                    .map_err(|e| LoadError::Spawn(format!("kill: {e}")))?;
                self.child
                    .wait()
                    .await
                    .map_err(|e| LoadError::Spawn(format!("wait: {e}")))?
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), self.drain).await;
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_address_with_and_without_colours() {
        let plain = "2026-11-26T23:44:30.481148Z  INFO pmm_server: listening addr=127.0.0.1:44931 db=/tmp/x.db";
        assert_eq!(listening_addr(plain).as_deref(), Some("127.0.0.1:44931"));
        let coloured = "\u{1b}[2m2026-11-26T23:44:30.481148Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m \u{1b}[2mpmm_server\u{1b}[0m\u{1b}[2m:\u{1b}[0m listening \u{1b}[3maddr\u{1b}[0m\u{1b}[2m=\u{1b}[0m127.0.0.1:44931 \u{1b}[3mdb\u{1b}[0m\u{1b}[2m=\u{1b}[0m/tmp/lt/pmm.db";
        assert_eq!(listening_addr(coloured).as_deref(), Some("127.0.0.1:44931"));
        assert_eq!(listening_addr("INFO pmm_server::server: serving"), None);
    }
}
