//! pmm-gen: writes a deterministic PMM ledger.
//!
//! `pmm-gen --events 1000000 --seed 1 --format db --out pmm.db`

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use pmm_bench::{add_server_schema, write_db, write_events, write_jsonl, GenError};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// `{"kind","content","meta"}` per line: events to append through a server.
    Events,
    /// Chained rows `{"id","ts","kind","content","meta","prev_hash","hash"}` per line.
    Jsonl,
    /// A new SQLite `pmm.db` (SPEC §1 schema).
    Db,
}

#[derive(Parser, Debug)]
#[command(about = "Writes a deterministic PMM ledger (same seed, same bytes)")]
struct Args {
    /// Number of events.
    #[arg(long, short = 'n')]
    events: usize,
    /// Seed of the session.
    #[arg(long, short, default_value_t = 1)]
    seed: u64,
    #[arg(long, short, value_enum, default_value_t = Format::Jsonl)]
    format: Format,
    /// Output file (`-` for stdout; not for `db`).
    #[arg(long, short)]
    out: PathBuf,
    /// With `--format db`: also create what pmm-server adds when it first
    /// opens a reference-made ledger (the kind index, the idempotency
    /// table), so that starting a server on it measures a restart.
    #[arg(long)]
    server_schema: bool,
}

fn writer(path: &PathBuf) -> Result<Box<dyn Write>, GenError> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufWriter::with_capacity(
            1 << 20,
            io::stdout().lock(),
        )));
    }
    Ok(Box::new(BufWriter::with_capacity(
        1 << 20,
        File::create(path)?,
    )))
}

fn run(args: &Args) -> Result<(), GenError> {
    match args.format {
        Format::Events => write_events(args.events, args.seed, writer(&args.out)?),
        Format::Jsonl => write_jsonl(args.events, args.seed, writer(&args.out)?),
        Format::Db => {
            write_db(args.events, args.seed, &args.out)?;
            if args.server_schema {
                add_server_schema(&args.out)?;
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    match run(&args) {
        Ok(()) => {
            eprintln!(
                "pmm-gen: {} events (seed {}) to {} in {:.2?}",
                args.events,
                args.seed,
                args.out.display(),
                started.elapsed()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pmm-gen: {e}");
            ExitCode::FAILURE
        }
    }
}
