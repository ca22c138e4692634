//! Helpers for the tests that run the real `pmm-server` binary as a child
//! process: writing a ledger file directly, spawning the server on
//! 127.0.0.1:0, and reading its CPU time and memory from `/proc`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pmm::v1::ledger_client::LedgerClient;
use pmm::v1::mind_client::MindClient;
use pmm_server::event::{Event, ParsedMeta};
use pmm_server::store::schema::Durability;
use pmm_server::store::write::{insert_event, open_connection, RowRef};
use serde_json::json;
use tonic::transport::Channel;

/// Writes a chained ledger of `n` events into a new SQLite file, with the
/// server's schema.
pub fn write_ledger(path: &Path, n: i64) {
    let mut conn = open_connection(path, Durability::Normal).expect("open");
    let tx = conn.transaction().expect("tx");
    let mut prev: Option<String> = None;
    for id in 1..=n {
        let ts = format!("2025-09-29T12:00:00.{:06}+00:00", id % 1_000_000);
        let (kind, content) = if id % 5 == 0 {
            ("autonomy_tick", String::new())
        } else {
            ("user", format!("message {id}"))
        };
        let meta = json!({"telemetry": {"IAS": 0.5, "GAS": 0.4}, "n": id});
        let hash = pmm_server::chain::event_hash(id, &ts, kind, &content, &meta, prev.as_deref())
            .expect("hash");
        let event = Event {
            id,
            ts,
            kind: kind.into(),
            content,
            meta_text: meta.to_string(),
            prev_hash: prev.replace(hash.clone()),
            hash: Some(hash),
            parsed: ParsedMeta::given(meta),
        };
        insert_event(&tx, &RowRef::from(&event)).expect("row");
    }
    tx.commit().expect("commit");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
}

/// A folder another user can reach, for a server run as that user: under
/// the system's temp folder (a checkout may sit below a folder only its
/// owner can enter), open to all (0755), with a copy of the server binary.
/// Removed when dropped.
pub struct Sandbox {
    dir: tempfile::TempDir,
    pub bin: std::path::PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("pmm-sandbox-")
            .tempdir()
            .expect("sandbox");
        let open = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(dir.path(), open.clone()).expect("chmod sandbox");
        let bin = dir.path().join("pmm-server");
        std::fs::copy(env!("CARGO_BIN_EXE_pmm-server"), &bin).expect("copy the server");
        std::fs::set_permissions(&bin, open).expect("chmod the server");
        Sandbox { dir, bin }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A `pmm-server` child process, killed when dropped.
pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: String,
    /// Lines the server logged (collected in the background).
    pub log: mpsc::Receiver<String>,
}

impl Server {
    /// Starts the server binary on `db` with more `args`, waits until it
    /// serves.
    pub async fn spawn(db: &Path, args: &[&str]) -> Server {
        let (server, deadline) = Server::start(db, args, None);
        server.wait_serving(deadline).await;
        server
    }

    /// Starts the server binary on `db` with more `args` and waits until its
    /// ledger is open (Head answers), whatever its health says: for a
    /// ledger served read-only, which never becomes SERVING.
    pub async fn spawn_unchecked(db: &Path, args: &[&str]) -> Server {
        Server::spawn_unchecked_as(None, db, args, None).await
    }

    /// [`Server::spawn_unchecked`], the server running as `user` (uid, gid)
    /// when given (the test must be root), from `bin` when given (a
    /// [`Sandbox`]'s copy, which that user can reach).
    pub async fn spawn_unchecked_as(
        bin: Option<&Path>,
        db: &Path,
        args: &[&str],
        user: Option<(u32, u32)>,
    ) -> Server {
        let (mut server, deadline) = Server::start_bin(bin, db, args, user);
        server.wait_open(deadline).await;
        server
    }

    /// Starts the server binary with exactly `args` (no `--addr` nor
    /// `--db` added: e.g. `--addr 127.0.0.1:PORT --data-dir DIR`), waits
    /// until it serves.
    pub async fn spawn_args(args: &[&str]) -> Server {
        let (server, deadline) = Server::start_raw(None, &[], args, None);
        server.wait_serving(deadline).await;
        server
    }

    /// Starts the binary and waits for the address it logs.
    fn start(db: &Path, args: &[&str], user: Option<(u32, u32)>) -> (Server, Instant) {
        Server::start_bin(None, db, args, user)
    }

    fn start_bin(
        bin: Option<&Path>,
        db: &Path,
        args: &[&str],
        user: Option<(u32, u32)>,
    ) -> (Server, Instant) {
        let first = [
            "--addr".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--db".as_ref(),
            db.as_os_str(),
        ];
        Server::start_raw(bin, &first, args, user)
    }

    fn start_raw(
        bin: Option<&Path>,
        first: &[&std::ffi::OsStr],
        args: &[&str],
        user: Option<(u32, u32)>,
    ) -> (Server, Instant) {
        let bin = bin.unwrap_or(Path::new(env!("CARGO_BIN_EXE_pmm-server")));
        let mut command = Command::new(bin);
        if let Some((uid, gid)) = user {
            use std::os::unix::process::CommandExt;
            // std drops the supplementary groups too.
            command.uid(uid).gid(gid);
        }
        let mut child = command
            .args(first)
            .args(args)
            .env("PMM_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn pmm-server");
        let pid = child.id();
        let stdout = child.stdout.take().expect("stdout");
        let (lines, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            let line = log
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| {
                    let status = child.try_wait().ok().flatten();
                    panic!("the server did not log its address (exit status {status:?})")
                });
            if let Some(rest) = line.split("listening addr=").nth(1) {
                break rest.split_whitespace().next().expect("addr").to_string();
            }
        };
        let server = Server {
            child,
            pid,
            addr,
            log,
        };
        (server, deadline)
    }

    async fn wait_open(&mut self, deadline: Instant) {
        loop {
            if let Ok(channel) = self.try_channel().await {
                if LedgerClient::new(channel)
                    .head(pmm::v1::HeadRequest {})
                    .await
                    .is_ok()
                {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited before its ledger was open ({status})");
            }
            assert!(Instant::now() < deadline, "the ledger was never open");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_serving(&self, deadline: Instant) {
        use tonic_health::pb::health_client::HealthClient;
        use tonic_health::pb::HealthCheckRequest;
        loop {
            if let Ok(channel) = self.try_channel().await {
                let status = HealthClient::new(channel)
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await;
                if status.is_ok_and(|s| s.into_inner().status == 1) {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "the server never served");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn try_channel(&self) -> Result<Channel, tonic::transport::Error> {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect()
            .await
    }

    /// A new connection to the server.
    pub async fn channel(&self) -> Channel {
        self.try_channel().await.expect("connect")
    }

    pub async fn ledger(&self) -> LedgerClient<Channel> {
        LedgerClient::new(self.channel().await).max_decoding_message_size(64 << 20)
    }

    pub async fn mind(&self) -> MindClient<Channel> {
        MindClient::new(self.channel().await)
    }

    /// CPU time (user + system) the server has used so far.
    pub fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).expect("stat");
        // The fields after the command name, which is in parentheses.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .expect("stat format")
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 =
            fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_millis(ticks * 1000 / per_second)
    }

    /// CPU time the server uses while the caller waits `wait`.
    pub async fn cpu_during(&self, wait: Duration) -> Duration {
        let before = self.cpu();
        tokio::time::sleep(wait).await;
        self.cpu().saturating_sub(before)
    }

    /// A line of `/proc/PID/status` in kB (`VmRSS`, `VmHWM`).
    pub fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("status field")
    }

    /// Stops the server with SIGKILL and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: kill with a valid pid and signal has no other precondition.
        unsafe {
            libc::kill(self.pid as i32, libc::SIGTERM);
        }
        self.child.wait().expect("wait")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
