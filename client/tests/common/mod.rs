//! A real server on 127.0.0.1:0 for the CLI tests, and the `pmm` binary
//! run against it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clap::Parser;
use pmm_server::config::Config;
use pmm_server::server::{self, Running};

pub struct Server {
    running: Option<Running>,
    pub addr: String,
    /// Global flags given to every `pmm` run (TLS files, a token).
    pub flags: Vec<String>,
    /// The temporary folder holding the server's files.
    pub dir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// A server over a new empty ledger.
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("pmm.db");
        Self::start_on(dir, db).await
    }

    /// A server over a copy of a ledger file (left untouched).
    pub async fn start_on_copy(ledger: &Path) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("pmm.db");
        std::fs::copy(ledger, &db).expect("copy ledger");
        Self::start_on(dir, db).await
    }

    /// A server over a new empty ledger, with adjusted configuration (TLS
    /// and tokens included).
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("pmm.db");
        Self::start_on_with(dir, db, adjust).await
    }

    /// A server started from command-line flags (after `--addr
    /// 127.0.0.1:0`), with `{dir}` in a flag replaced by a new temporary
    /// folder, e.g. `["--data-dir", "{dir}/minds"]`. Panics naming the
    /// flags when this server does not take them.
    pub async fn start_flags(flags: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_str().expect("UTF-8 temp dir").to_string();
        let mut args = vec![
            "pmm-server".to_string(),
            "--addr".to_string(),
            "127.0.0.1:0".to_string(),
        ];
        args.extend(flags.iter().map(|f| f.replace("{dir}", &root)));
        let config =
            Config::try_parse_from(&args).unwrap_or_else(|e| panic!("pmm-server {args:?}: {e}"));
        let mut running = server::bind_and_start(config)
            .await
            .unwrap_or_else(|e| panic!("pmm-server {args:?}: {e}"));
        running.ready().await.expect("ready");
        Server {
            addr: format!("http://{}", running.addr),
            running: Some(running),
            flags: Vec::new(),
            dir: dir.path().to_path_buf(),
            _dir: dir,
        }
    }

    async fn start_on(dir: tempfile::TempDir, db: PathBuf) -> Server {
        Self::start_on_with(dir, db, |_| {}).await
    }

    async fn start_on_with(
        dir: tempfile::TempDir,
        db: PathBuf,
        adjust: impl FnOnce(&mut Config),
    ) -> Server {
        let mut config = Config::for_db(db);
        config.addr = "127.0.0.1:0".parse().expect("addr");
        adjust(&mut config);
        let scheme = if config.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        let mut running = server::bind_and_start(config).await.expect("start");
        running.ready().await.expect("ready");
        Server {
            addr: format!("{scheme}://{}", running.addr),
            running: Some(running),
            flags: Vec::new(),
            dir: dir.path().to_path_buf(),
            _dir: dir,
        }
    }

    /// Runs `pmm --addr <this server> args…` off the async runtime, with
    /// `PMM_TOKEN` and `PMM_MIND` unset.
    pub async fn pmm(&self, args: &[&str]) -> Output {
        self.pmm_env(args, &[]).await
    }

    /// [`Server::pmm`] with environment variables set.
    pub async fn pmm_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pmm"));
        command
            .env_remove("PMM_TOKEN")
            .env_remove("PMM_MIND")
            .envs(env.iter().copied())
            .arg("--addr")
            .arg(&self.addr)
            .args(&self.flags)
            .args(args);
        tokio::task::spawn_blocking(move || command.output().expect("run pmm"))
            .await
            .expect("join")
    }

    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.pmm(args).await;
        assert!(
            out.status.success(),
            "pmm {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// Runs a command that must fail with `code`; its standard error.
    pub async fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.pmm(args).await;
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(code), "pmm {args:?}: {stderr}");
        stderr
    }

    /// `ok` with `--json`, parsed.
    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut with = vec!["--json"];
        with.extend_from_slice(args);
        let text = self.ok(&with).await;
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("pmm {args:?}: not JSON ({e}): {text}"))
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.shut_down().await.expect("shutdown");
        }
    }
}

pub fn fixtures_root() -> PathBuf {
    match std::env::var_os("PMM_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
    }
}
