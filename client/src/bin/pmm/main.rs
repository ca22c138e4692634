//! `pmm`: the command-line client of the pmm service.
//!
//! Exit codes: 0 success, 1 server or transport error, 2 bad usage or
//! input, 3 conflict (`ABORTED`, `FAILED_PRECONDITION`, `ALREADY_EXISTS`)
//! or a chain that does not verify.

mod chart;
mod cli;
mod cmd;
mod fail;
mod human;
mod image;
mod machine;
mod out;
mod table;
mod watch_view;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail::Fail::server(format!("cannot start the runtime: {e}")).exit(),
    };
    match runtime.block_on(cmd::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.exit(),
    }
}
