//! At the open-file limit (the real binary with RLIMIT_NOFILE lowered to
//! 64): accept fails with EMFILE; the server backs off instead of spinning,
//! warns once, and serves new clients again once descriptors are free.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::support::{raw, PREFACE};

const NOFILE: libc::rlim_t = 64;
/// More than the server can hold at that limit.
const CONNECTIONS: usize = 100;

/// The server binary as a child, its log lines collected.
struct Spawned {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    addr: std::net::SocketAddr,
}

impl Spawned {
    fn start(db: &std::path::Path) -> Spawned {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pmm-server"));
        command
            .args([
                "--addr",
                "127.0.0.1:0",
                "--read-pool",
                "1",
                "--log",
                "info",
                "--db",
            ])
            .arg(db)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between
        // fork and exec.
        unsafe {
            command.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: NOFILE,
                    rlim_max: NOFILE,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command.spawn().expect("spawn pmm-server");
        let stdout = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let collected = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("addr="))
                {
                    let _ = tx.send(addr.to_string());
                }
                collected.lock().expect("lines").push(line);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("a `listening addr=` line")
            .parse()
            .expect("address");
        Spawned { child, lines, addr }
    }

    /// Log lines containing `text`.
    fn count(&self, text: &str) -> usize {
        self.lines
            .lock()
            .expect("lines")
            .iter()
            .filter(|l| l.contains(text))
            .count()
    }

    /// User + system CPU time of the server so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("/proc/PID/stat");
        // Fields after the command name (which may hold spaces): state is
        // field 3, utime 14, stime 15.
        let after = &stat[stat.rfind(')').expect("comm") + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 =
            fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
        // SAFETY: sysconf only reads a configuration value.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_millis(ticks * 1000 / per_second)
    }
}

impl Spawned {
    /// SIGTERM, then waits (without blocking the runtime: the clients'
    /// connection tasks must run to see the server's GOAWAY).
    async fn stop(mut self) {
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "{status}");
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the server did not stop within 10 s of SIGTERM");
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // A failed test: no server left behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Whether a new client gets SERVING from health within `within`.
async fn served(addr: std::net::SocketAddr, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(2));
        if let Ok(channel) = endpoint.connect().await {
            let check = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await;
            if check.is_ok_and(|r| r.into_inner().status == 1) {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn at_the_open_file_limit_the_accept_loop_backs_off_and_recovers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Spawned::start(&dir.path().join("pmm.db"));
    assert!(
        served(server.addr, Duration::from_secs(30)).await,
        "SERVING at start"
    );

    let mut held = Vec::new();
    for _ in 0..CONNECTIONS {
        held.push(raw(server.addr, PREFACE).await);
    }
    // Let the back-off reach its longest pause.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.count("cannot accept connections"), 1, "one warning");
    let before = server.cpu();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let spent = server.cpu().saturating_sub(before);
    assert!(
        spent < Duration::from_millis(300),
        "{spent:?} of CPU in 2 s at EMFILE"
    );
    assert_eq!(
        server.count("cannot accept connections"),
        1,
        "still one warning"
    );

    drop(held);
    assert!(
        served(server.addr, Duration::from_secs(10)).await,
        "served again"
    );
    // The queued connections, accepted in a burst, may meet the limit again.
    assert!(server.count("accepting connections again") >= 1);
    server.stop().await;
}
