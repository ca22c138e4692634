//! `pmm-server`: serve one ledger over gRPC until SIGINT/SIGTERM; SIGHUP
//! reloads the tokens file.

use std::sync::Arc;

use clap::Parser;
use pmm_server::auth::Tokens;
use pmm_server::config::Config;
use pmm_server::server;
use tracing_subscriber::EnvFilter;

/// Folding allocates many small values, freed on other threads; mimalloc
/// handles that far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How often freed memory is handed back to the system.
const RETURN_MEMORY_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// mimalloc gives freed pages back to the system only when some thread
/// calls into it: an idle server (after a burst of subscribers or a large
/// import) would keep them. A small thread asks it to, every second.
fn return_freed_memory() {
    let spawned = std::thread::Builder::new()
        .name("pmm-memory".into())
        .spawn(|| loop {
            std::thread::sleep(RETURN_MEMORY_EVERY);
            // SAFETY: mi_collect has no preconditions; `false` only purges
            // what is due.
            unsafe { libmimalloc_sys::mi_collect(false) };
        });
    if let Err(e) = spawned {
        eprintln!("pmm-server: cannot start the memory thread: {e}");
    }
}

fn main() -> std::process::ExitCode {
    return_freed_memory();
    // Threads for blocking work (SQLite reads, replays) that sit idle are
    // ended after 2 s rather than tokio's 10 s, giving their memory back
    // soon after a burst.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_keep_alive(std::time::Duration::from_secs(2))
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(serve()),
        Err(e) => {
            eprintln!("pmm-server: cannot start the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `--check`: examine the ledger file, say what was found, exit 0 when it is
/// healthy (after repairs), 1 when not.
fn check(config: &Config) -> std::process::ExitCode {
    let db = config.default_db();
    println!("pmm-server --check {}", db.display());
    let report = pmm_server::check::check(&db);
    print!("{}", report.text());
    if report.healthy {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

async fn serve() -> std::process::ExitCode {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    if config.check {
        return check(&config);
    }
    // Every connection and open mind holds descriptors: allow as many as
    // the hard limit.
    let minds_files =
        config.max_open_minds as u64 * pmm_server::minds::registry::FILES_PER_IDLE_MIND;
    pmm_server::transport::fdlimit::raise_and_log(config.connections.max_connections, minds_files);
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("pmm-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let db = config.default_db().display().to_string();
    let tls = config.tls_cert.is_some();
    let mut running = server::bind_and_start(config).await?;
    tracing::info!(addr = %running.addr, default_mind = %db, tls, tokens = running.tokens().is_some(), "listening");
    if let Some(tokens) = running.tokens() {
        reload_on_sighup(tokens)?;
    }
    tokio::select! {
        result = running.ready() => {
            // A start-up failure ends the server; success keeps serving.
            result?;
            shutdown_signal().await;
        }
        _ = shutdown_signal() => {}
    }
    running.trigger_shutdown();
    running.wait().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Reloads the tokens file on every SIGHUP (only with a tokens file:
/// otherwise SIGHUP keeps its default effect).
#[cfg(unix)]
fn reload_on_sighup(tokens: Arc<Tokens>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            let _ = server::reload_tokens(&tokens);
        }
    });
    Ok(())
}

#[cfg(not(unix))]
fn reload_on_sighup(_: Arc<Tokens>) -> std::io::Result<()> {
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
