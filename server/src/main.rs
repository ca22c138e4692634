//! `pmm-server`: serve one ledger over gRPC until SIGINT/SIGTERM.

use clap::Parser;
use pmm_server::config::Config;
use pmm_server::server;
use tracing_subscriber::EnvFilter;

/// Folding allocates many small values, freed on other threads; mimalloc
/// handles that far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    // Every connection holds a descriptor: allow as many as the hard limit.
    pmm_server::transport::fdlimit::raise_and_log(config.connections.max_connections);
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
