//! The command line: global flags and one subcommand per task.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use pmm::token::Role;
use pmm_client::DEFAULT_ADDR;

/// Command-line client for pmm, an AI agent's mind kept as an append-only,
/// hash-chained event ledger.
#[derive(Debug, Parser)]
#[command(name = "pmm", version, propagate_version = true)]
pub struct Cli {
    /// Server address (`https://…` for TLS).
    #[arg(long, global = true, env = "PMM_ADDR", default_value = DEFAULT_ADDR)]
    pub addr: String,
    /// CA certificate (PEM) the server's certificate must chain to; turns
    /// TLS on (default for https://: the system's roots).
    #[arg(long, global = true, env = "PMM_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS, with --key.
    #[arg(long, global = true, env = "PMM_CERT", value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of --cert.
    #[arg(
        long = "key",
        visible_alias = "cert-key",
        global = true,
        env = "PMM_KEY",
        value_name = "FILE"
    )]
    pub cert_key: Option<PathBuf>,
    /// Bearer token for a server started with --tokens (prefer PMM_TOKEN:
    /// a command line is visible to other users of the machine).
    #[arg(
        long,
        global = true,
        env = "PMM_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Machine-readable output: one JSON object (or JSON line per event).
    #[arg(long, global = true)]
    pub json: bool,
    /// Timeout of each call in seconds (default 30; none for verify, search,
    /// import and export unless given).
    #[arg(long, global = true, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Timeout of the connection in seconds.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 5.0)]
    pub connect_timeout: f64,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Append one event.
    Append(AppendArgs),
    /// Read events by id range (a table, or JSON lines with --json).
    Read(ReadArgs),
    /// Show the last events; with -f, follow new ones live.
    Tail(TailArgs),
    /// Show one event by id.
    Get {
        /// The event id.
        id: u64,
    },
    /// Show the ledger head (last id, hash, count).
    Head,
    /// Print the context block a language model reads.
    Context(ContextArgs),
    /// Show IAS, GAS and the stage.
    Metrics {
        /// Also show the IAS diagnosis.
        #[arg(long)]
        diagnosis: bool,
        /// As of this event id.
        #[arg(long, value_name = "ID")]
        as_of: Option<u64>,
    },
    /// Show the self-model: identity, traits, commitments, warnings.
    Projection {
        /// The strict-mode projection.
        #[arg(long)]
        strict: bool,
        /// As of this event id.
        #[arg(long, value_name = "ID")]
        as_of: Option<u64>,
        /// Show this many of the most recently expired commitments
        /// (server default: 20).
        #[arg(long, value_name = "N")]
        expired: Option<u32>,
        /// Show this many of the latest warnings (server default: 20).
        #[arg(long, value_name = "N")]
        warnings: Option<u32>,
    },
    /// Verify the hash chain (exit code 3 when broken).
    Verify,
    /// Find the events most similar to a text.
    Search(SearchArgs),
    /// Show server and ledger statistics.
    Stats,
    /// Import a ledger from a JSON-lines file or a reference pmm.db.
    Import(ImportArgs),
    /// Export the ledger as JSON lines (the fixtures' events.jsonl format).
    Export(ExportArgs),
    /// Tokens for a server started with --tokens (no server is contacted).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a fresh random token and the line that admits it in the
    /// server's tokens file (which lists only its SHA-256).
    New {
        /// The token's name, shown in the server's debug log.
        name: String,
        /// What the token may do: reader (reads), writer (also Append),
        /// admin (also Import).
        #[arg(long)]
        role: Role,
    },
}

#[derive(Debug, Args)]
pub struct AppendArgs {
    /// Event kind, e.g. user, response, reflection.
    pub kind: String,
    /// Text content; read from standard input when omitted or `-`.
    pub content: Option<String>,
    /// Meta as a JSON object, e.g. '{"source":"cli"}'.
    #[arg(long, value_name = "JSON")]
    pub meta: Option<String>,
    /// Idempotency key: a retry with the same key writes nothing new.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Write only if the ledger's last id is this (0 = empty ledger).
    #[arg(long, value_name = "ID")]
    pub expect_last_id: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ReadArgs {
    /// First id (inclusive; backward: the highest).
    #[arg(long, value_name = "ID")]
    pub from: Option<u64>,
    /// Last id (inclusive; backward: the lowest).
    #[arg(long, value_name = "ID")]
    pub to: Option<u64>,
    /// Newest first.
    #[arg(long)]
    pub backward: bool,
    /// Only these kinds (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    pub kinds: Vec<String>,
    /// Most events shown (0 = no limit).
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
    /// Do not shorten long content.
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// Keep running and print new events as they are committed.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Number of past events shown first.
    #[arg(short = 'n', long, default_value_t = 10)]
    pub lines: u64,
    /// Start at this id (inclusive) instead of the last N events.
    #[arg(long, value_name = "ID")]
    pub from: Option<u64>,
    /// Only these kinds (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    pub kinds: Vec<String>,
    /// Do not shorten long content.
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, Args)]
pub struct ContextArgs {
    /// The compact layout.
    #[arg(long)]
    pub compact: bool,
    /// Number of recent reflections (default 3).
    #[arg(long, value_name = "N")]
    pub n_reflections: Option<u32>,
    /// Build the block from only the last N events.
    #[arg(long, value_name = "N")]
    pub tail: Option<u64>,
    /// Budget of the commitments list in characters (default 400).
    #[arg(long, value_name = "CHARS")]
    pub max_commitment_chars: Option<u32>,
    /// Budget of the reflections list in characters (default 600).
    #[arg(long, value_name = "CHARS")]
    pub max_reflection_chars: Option<u32>,
    /// As of this event id.
    #[arg(long, value_name = "ID")]
    pub as_of: Option<u64>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The text to search for.
    pub query: String,
    /// Number of hits.
    #[arg(long, default_value_t = 10)]
    pub top_k: u32,
    /// Only these kinds (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    pub kinds: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A JSON-lines file (events.jsonl format) or a SQLite pmm.db.
    pub file: PathBuf,
    /// Store rows as they are, without verifying hashes (for broken chains).
    #[arg(long)]
    pub verbatim: bool,
    /// Do not resend rows the server already has (below its last id).
    #[arg(long)]
    pub resume: bool,
    /// Rows per Import call (default: the server's limit).
    #[arg(long, value_name = "N")]
    pub batch: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output file (default: standard output).
    pub file: Option<PathBuf>,
    /// First id (inclusive).
    #[arg(long, value_name = "ID")]
    pub from: Option<u64>,
    /// Last id (inclusive).
    #[arg(long, value_name = "ID")]
    pub to: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn kinds_split_on_commas_and_globals_go_anywhere() {
        let cli = Cli::try_parse_from([
            "pmm",
            "tail",
            "-f",
            "--kinds",
            "user,reflection",
            "--kinds",
            "x",
            "--json",
        ])
        .unwrap();
        assert!(cli.json);
        match cli.command {
            Command::Tail(t) => {
                assert!(t.follow);
                assert_eq!(t.kinds, ["user", "reflection", "x"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
