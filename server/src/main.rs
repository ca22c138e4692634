//! `pmm-server`: serve one ledger over gRPC until SIGINT/SIGTERM.

use clap::Parser;
use pmm_server::config::Config;
use pmm_server::server;
use tracing_subscriber::EnvFilter;

/// Folding allocates many small values, freed on other threads; mimalloc
/// handles that far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How often freed memory is handed back to the system.
const RETURN_MEMORY_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// mimalloc gives freed pages back to the system a second after they are
/// freed, but only when some thread calls into it: an idle server (after a
/// burst of subscribers or a large import) would keep them. A small thread
/// asks it to, every second.
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

async fn serve() -> std::process::ExitCode {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
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
    let db = config.db.display().to_string();
    let mut running = server::bind_and_start(config).await?;
    tracing::info!(addr = %running.addr, db = %db, "listening");
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
