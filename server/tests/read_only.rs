//! A ledger file the server cannot write is served read-only: reads and
//! views work, health says NOT_SERVING (the Mind service, reads only,
//! SERVING), Stats names the condition, appends are refused with
//! FAILED_PRECONDITION saying the file is read-only and write nothing, and
//! the log is not flooded meanwhile. Once the file is writable again, a
//! restarted server appends at the next id.
//!
//! The file is made read-only the way its user sees it: `chmod 0444` (when
//! the tests run as root, which writes through file modes, the server then
//! runs as an unprivileged user) and, as root, `chattr +i`, which binds root
//! too. SQLite makes the `-wal` and `-shm` files it creates beside a
//! database with the database file's mode: after `chmod 0444`, they are
//! left read-only when the file is made writable again, and the server must
//! say so (served read-only, naming them) rather than serve and fail every
//! append.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pmm::v1;
use support::{write_ledger, Sandbox, Server};
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// The user the server runs as when the tests run as root and the file is
/// made read-only by its mode (nobody).
const UNPRIVILEGED: (u32, u32) = (65534, 65534);

const SERVING: i32 = 1;
const NOT_SERVING: i32 = 2;

/// How the ledger file is made read-only.
#[derive(Clone, Copy, Debug)]
enum How {
    /// `chmod 0444`; the server runs as `user` (as the tests' user when
    /// `None`).
    Mode { user: Option<(u32, u32)> },
    /// `chattr +i`: immutable, even for root.
    Immutable,
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// Runs `chattr FLAG path`; the error in words.
fn chattr(flag: &str, path: &Path) -> Result<(), String> {
    match Command::new("chattr").arg(flag).arg(path).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "chattr {flag} {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!(
            "cannot run chattr ({e}): running as root, the tests need it (e2fsprogs) to make a \
             file read-only for root"
        )),
    }
}

/// The ledger file made read-only; undone when dropped, so that a failing
/// test leaves no immutable file behind (its folder could not be removed).
struct ReadOnly {
    path: PathBuf,
    how: How,
    undone: bool,
}

impl ReadOnly {
    fn make(path: &Path, how: How) -> ReadOnly {
        match how {
            How::Mode { .. } => set_mode(path, 0o444),
            How::Immutable => chattr("+i", path).unwrap_or_else(|e| {
                panic!("{e} (the file system of CARGO_TARGET_TMPDIR must support the immutable attribute)")
            }),
        }
        ReadOnly {
            path: path.to_path_buf(),
            how,
            undone: false,
        }
    }

    fn undo(&mut self) -> Result<(), String> {
        if std::mem::replace(&mut self.undone, true) {
            return Ok(());
        }
        match self.how {
            How::Mode { .. } => {
                std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| e.to_string())
            }
            How::Immutable => chattr("-i", &self.path),
        }
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        if let Err(e) = self.undo() {
            eprintln!(
                "cannot undo the read-only state of {}: {e}",
                self.path.display()
            );
        }
    }
}

async fn health(server: &Server, service: &str) -> i32 {
    HealthClient::new(server.channel().await)
        .check(HealthCheckRequest {
            service: service.to_string(),
        })
        .await
        .expect("health")
        .into_inner()
        .status
}

/// Waits (up to 10 s) until `service` reports `status`.
async fn until_health(server: &Server, service: &str, status: i32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = health(server, service).await;
        if now == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "health of {service:?} stays {now}, not {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn append_request(content: &str) -> v1::AppendRequest {
    v1::AppendRequest {
        events: vec![v1::EventInput {
            kind: "user".into(),
            content: content.into(),
            meta: "{}".into(),
            idempotency_key: String::new(),
        }],
        ..Default::default()
    }
}

/// Stops the server; every line it logged.
fn stop(mut server: Server) -> Vec<String> {
    assert!(
        server.terminate().success(),
        "the server did not stop cleanly"
    );
    let mut lines = Vec::new();
    while let Ok(line) = server.log.recv_timeout(Duration::from_secs(5)) {
        lines.push(line);
    }
    lines
}

/// Files SQLite left beside the database that their owner cannot write.
fn read_only_leftovers(db: &Path) -> Vec<PathBuf> {
    ["-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut path = db.as_os_str().to_owned();
            path.push(suffix);
            PathBuf::from(path)
        })
        .filter(|path| std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o200 == 0))
        .collect()
}

async fn served_read_only(how: How) {
    let started = Instant::now();
    let user = match how {
        How::Mode { user } => user,
        How::Immutable => None,
    };
    // Run as another user, the server needs a binary and a folder it can
    // reach.
    let sandbox = user.map(|_| Sandbox::new());
    let bin = sandbox.as_ref().map(|s| s.bin.clone());
    let bin = bin.as_deref();
    let dir = tempfile::Builder::new()
        .prefix("read-only-")
        .tempdir_in(match &sandbox {
            Some(s) => s.path(),
            None => Path::new(env!("CARGO_TARGET_TMPDIR")),
        })
        .expect("temp dir");
    let db = dir.path().join("pmm.db");
    write_ledger(&db, 50);
    if let Some((uid, gid)) = user {
        for path in [dir.path(), &db] {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
        }
    }
    let mut read_only = ReadOnly::make(&db, how);

    let server = Server::spawn_unchecked_as(bin, &db, &[], user).await;
    let up = Instant::now();
    let mut ledger = server.ledger().await;
    // Reads and views are served.
    let page = ledger
        .read(v1::ReadRequest {
            limit: 1000,
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    let ids: Vec<u64> = page.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=50).collect::<Vec<u64>>());
    assert_eq!(page.events[0].content, "message 1");
    let last_hash = page.events[49].hash.clone();
    let metrics = server
        .mind()
        .await
        .get_metrics(v1::GetMetricsRequest {
            include_diagnosis: true,
            as_of_id: None,
        })
        .await
        .expect("metrics")
        .into_inner();
    assert_eq!(metrics.as_of_id, 50);
    assert_eq!(metrics.diagnosis.expect("diagnosis").autonomy_ticks, 10);
    let verified = ledger
        .verify_chain(v1::VerifyChainRequest {})
        .await
        .expect("verify")
        .into_inner();
    assert!(verified.ok && verified.checked == 50, "{verified:?}");

    // Health follows the condition (Mind is SERVING only once it has), and
    // says the server and the Ledger service are not serving.
    until_health(&server, "pmm.v1.Mind", SERVING).await;
    assert_eq!(health(&server, "").await, NOT_SERVING);
    assert_eq!(health(&server, "pmm.v1.Ledger").await, NOT_SERVING);
    let stats = ledger
        .stats(v1::StatsRequest {})
        .await
        .expect("stats")
        .into_inner();
    assert!(
        stats.condition.contains("read-only")
            && stats.condition.contains(&db.display().to_string()),
        "{}",
        stats.condition
    );

    // Appends are refused, saying why, and write nothing.
    for attempt in 0..2 {
        let refused = ledger
            .append(append_request(&format!("refused {attempt}")))
            .await
            .expect_err("an append to a read-only file");
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
        assert!(
            refused.message().contains("read-only"),
            "{}",
            refused.message()
        );
    }
    let head = ledger
        .head(v1::HeadRequest {})
        .await
        .expect("head")
        .into_inner();
    assert_eq!((head.last_id, head.count), (50, 50));
    assert_eq!(head.last_hash.as_deref(), Some(last_hash.as_str()));
    assert_eq!(health(&server, "").await, NOT_SERVING);

    // Over a second of checkpoints (every 250 ms), one warning at most.
    tokio::time::sleep(Duration::from_millis(1200).saturating_sub(up.elapsed())).await;
    drop(ledger);
    let log = stop(server);
    let warnings: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("checkpoint failed"))
        .collect();
    assert!(warnings.len() <= 1, "the log is flooded: {warnings:#?}");

    // Writable again: the files SQLite made beside it while it was
    // read-only may still be read-only (they take the file's mode). The
    // server must then refuse appends naming them, not serve and fail.
    read_only.undo().expect("undo the read-only state");
    let leftovers = read_only_leftovers(&db);
    if !leftovers.is_empty() {
        let server = Server::spawn_unchecked_as(bin, &db, &[], user).await;
        until_health(&server, "pmm.v1.Mind", SERVING).await;
        assert_eq!(health(&server, "").await, NOT_SERVING);
        let refused = server
            .ledger()
            .await
            .append(append_request("refused: read-only WAL"))
            .await
            .expect_err("an append with a read-only WAL");
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
        assert!(
            leftovers
                .iter()
                .any(|l| refused.message().contains(&l.display().to_string())),
            "the refusal does not name {leftovers:?}: {}",
            refused.message()
        );
        eprintln!(
            "with read-only files left beside the ledger: {}",
            refused.message()
        );
        stop(server);
        for path in &leftovers {
            set_mode(path, 0o600);
        }
    }

    let server = Server::spawn_unchecked_as(bin, &db, &[], user).await;
    until_health(&server, "", SERVING).await;
    let mut ledger = server.ledger().await;
    let appended = ledger
        .append(append_request("writable again"))
        .await
        .expect("append once writable")
        .into_inner();
    assert_eq!(appended.events[0].id, 51);
    assert_eq!(
        appended.events[0].prev_hash.as_deref(),
        Some(last_hash.as_str())
    );
    let stats = ledger
        .stats(v1::StatsRequest {})
        .await
        .expect("stats")
        .into_inner();
    assert_eq!(stats.condition, "writable");
    drop(ledger);
    stop(server);
    eprintln!(
        "read-only ({how:?}): served read-only, refused, then appended at 51; {} read-only file(s) \
         left beside it; {:.1} s",
        leftovers.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_file_that_cannot_be_written_is_served_read_only() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        served_read_only(How::Immutable).await;
        served_read_only(How::Mode {
            user: Some(UNPRIVILEGED),
        })
        .await;
    } else {
        served_read_only(How::Mode { user: None }).await;
    }
}

/// A ledger in a folder that cannot be written cannot be opened at all
/// (SQLite must create its `-wal` and `-shm` files there): the server stops
/// at start with a message naming the folder and what to do, not SQLite's
/// "unable to open database file".
#[test]
fn a_ledger_in_a_folder_that_cannot_be_written_is_refused_naming_the_folder() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    // As root, the server runs as nobody: from a sandbox it can reach.
    let sandbox = root.then(Sandbox::new);
    let dir = tempfile::Builder::new()
        .prefix("read-only-folder-")
        .tempdir_in(match &sandbox {
            Some(s) => s.path(),
            None => Path::new(env!("CARGO_TARGET_TMPDIR")),
        })
        .expect("temp dir");
    let folder = dir.path().join("ledger");
    std::fs::create_dir(&folder).expect("folder");
    let db = folder.join("pmm.db");
    write_ledger(&db, 5);
    if root {
        // Root writes through modes: the server runs as nobody.
        for path in [&folder, &db] {
            std::os::unix::fs::chown(path, Some(UNPRIVILEGED.0), Some(UNPRIVILEGED.1))
                .expect("chown");
        }
    }
    set_mode(&folder, 0o555);
    let bin = match &sandbox {
        Some(s) => s.bin.clone(),
        None => PathBuf::from(env!("CARGO_BIN_EXE_pmm-server")),
    };
    let mut command = Command::new(bin);
    if root {
        use std::os::unix::process::CommandExt;
        command.uid(UNPRIVILEGED.0).gid(UNPRIVILEGED.1);
    }
    let out = command
        .args(["--addr", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env("PMM_LOG", "warn")
        .output()
        .expect("run pmm-server");
    set_mode(&folder, 0o700);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the folder {} cannot be written",
            folder.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("must be writable"), "{stderr}");
}
