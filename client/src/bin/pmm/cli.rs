//! The command line: global flags and one subcommand per task.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
pub use clap_complete::Shell;
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
    /// The mind every command addresses (sent as the `pmm-mind` header;
    /// default: the server's mind `default`). 1 to 64 characters of a-z,
    /// 0-9, '.', '_', '-', starting with a letter or a digit.
    #[arg(
        long,
        global = true,
        env = "PMM_MIND",
        value_name = "NAME",
        value_parser = parse_mind
    )]
    pub mind: Option<String>,
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
    /// Show IAS, GAS and the stage; with --history, how they developed.
    Metrics(MetricsArgs),
    /// Show the agent's name and traits.
    Identity {
        /// As of this event id.
        #[arg(long, value_name = "ID")]
        as_of: Option<u64>,
    },
    /// Show the directives and the active set.
    Directives {
        /// Only the active set (the top 7 by score).
        #[arg(long)]
        active: bool,
        /// As of this event id.
        #[arg(long, value_name = "ID")]
        as_of: Option<u64>,
    },
    /// Show the deterministic embedding of a text.
    Embed {
        /// The text; read from standard input when `-`.
        text: String,
    },
    /// A live view: head, event rate, IAS/GAS/stage and the latest events,
    /// redrawn as events are committed (q or Esc quits).
    Watch(WatchArgs),
    /// Print a shell completion script (e.g. `pmm completions bash >
    /// /etc/bash_completion.d/pmm`).
    Completions {
        /// The shell.
        shell: Shell,
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
    /// The minds a server holds (a server with --data-dir; the admin role):
    /// create, list, show, delete, back up. Other commands address a mind
    /// with --mind.
    #[command(subcommand)]
    Minds(MindsCommand),
}

#[derive(Debug, Subcommand)]
pub enum MindsCommand {
    /// Create an empty mind.
    Create {
        /// The new mind's name.
        name: String,
    },
    /// List every mind on the server, in name order (all pages): name,
    /// size on disk, whether it is open.
    List {
        /// Names fetched per call (default: the server's, 100).
        #[arg(long, value_name = "N", default_value_t = 0)]
        page_size: u32,
    },
    /// Show what a mind holds: events, last id and hash, size, memory.
    Show {
        /// The mind's name.
        name: String,
    },
    /// Delete a mind: the server closes it and moves its folder to the data
    /// directory's trash. There is no prompt: give --confirm NAME (the name
    /// again) or --yes.
    Delete {
        /// The mind's name.
        name: String,
        /// The name again, to confirm (a different name deletes nothing).
        #[arg(long, value_name = "NAME", required_unless_present = "yes")]
        confirm: Option<String>,
        /// Confirm without repeating the name (for scripts).
        #[arg(long, conflicts_with = "confirm")]
        yes: bool,
    },
    /// Write a consistent copy of a mind's ledger while it is served, on
    /// the server under its --backup-dir.
    Backup {
        /// The mind's name.
        name: String,
        /// The file to write, relative to the server's backup directory
        /// (default: `NAME/<UTC time>.db`).
        #[arg(long, value_name = "REL")]
        path: Option<String>,
    },
}

/// A mind name of the allowed set.
fn parse_mind(s: &str) -> Result<String, String> {
    pmm::mind::check_mind_name(s)?;
    Ok(s.to_string())
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
    /// Also show the size of each section: bytes, characters and tokens.
    #[arg(long)]
    pub breakdown: bool,
    /// The tokenizer counting the breakdown's tokens.
    #[arg(long, value_enum, default_value_t = Encoding::O200kBase, requires = "breakdown")]
    pub encoding: Encoding,
}

/// A tokenizer for `context --breakdown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Encoding {
    /// GPT-4o, GPT-4.1, GPT-5, the o-series.
    #[value(name = "o200k_base")]
    O200kBase,
    /// GPT-4, GPT-3.5-turbo.
    #[value(name = "cl100k_base")]
    Cl100kBase,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Also show the IAS diagnosis.
    #[arg(long, conflicts_with = "history")]
    pub diagnosis: bool,
    /// As of this event id (with --history: the last point, as --to).
    #[arg(long, value_name = "ID", conflicts_with = "to")]
    pub as_of: Option<u64>,
    /// Chart IAS, GAS and the stage over event ids.
    #[arg(long)]
    pub history: bool,
    /// History: the first point's id (default 1).
    #[arg(long, value_name = "ID")]
    pub from: Option<u64>,
    /// History: the last point's id (default: the head).
    #[arg(long, value_name = "ID")]
    pub to: Option<u64>,
    /// History: number of points, evenly spaced (default: the chart's
    /// width in the terminal, 400 for images).
    #[arg(long, value_name = "N", conflicts_with = "every")]
    pub points: Option<u32>,
    /// History: a point every N ids instead.
    #[arg(long, value_name = "N")]
    pub every: Option<u64>,
    /// History: write the chart as an SVG image to FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// History: write the chart as a PNG image to FILE.
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    /// History: the terminal chart's size in columns and rows (default:
    /// the terminal's width, 16 rows).
    #[arg(long, value_name = "COLSxROWS", value_parser = parse_size)]
    pub size: Option<(u16, u16)>,
}

impl MetricsArgs {
    /// Whether a history is asked for (an image implies it).
    pub fn wants_history(&self) -> bool {
        self.history || self.svg.is_some() || self.png.is_some()
    }
}

/// `80x20` as (80, 20).
fn parse_size(s: &str) -> Result<(u16, u16), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{s:?}: expected COLSxROWS, e.g. 100x20"))?;
    let number = |t: &str| t.trim().parse::<u16>().map_err(|e| format!("{t:?}: {e}"));
    let (w, h) = (number(w)?, number(h)?);
    if w < 30 || h < 6 {
        return Err(format!("{s}: at least 30x6"));
    }
    Ok((w, h))
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Number of latest events shown (default: as many as fit).
    #[arg(short = 'n', long, value_name = "N")]
    pub lines: Option<usize>,
    /// Only these kinds in the event list (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    pub kinds: Vec<String>,
    /// Seconds over which the event rate is measured.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub rate_window: f64,
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

    #[test]
    fn the_mind_is_global_and_checked_and_deleting_needs_a_confirmation() {
        let cli = Cli::try_parse_from(["pmm", "head", "--mind", "alice"]).unwrap();
        assert_eq!(cli.mind.as_deref(), Some("alice"));
        let err = Cli::try_parse_from(["pmm", "--mind", "Alice", "head"]).unwrap_err();
        assert!(
            err.to_string().contains("must start with a-z or 0-9"),
            "{err}"
        );
        assert!(Cli::try_parse_from(["pmm", "minds", "delete", "alice"]).is_err());
        assert!(Cli::try_parse_from([
            "pmm",
            "minds",
            "delete",
            "alice",
            "--yes",
            "--confirm",
            "alice"
        ])
        .is_err());
        for ok in [
            &["pmm", "minds", "delete", "alice", "--yes"][..],
            &["pmm", "minds", "delete", "alice", "--confirm", "alice"],
        ] {
            let cli = Cli::try_parse_from(ok).unwrap();
            assert!(matches!(
                cli.command,
                Command::Minds(MindsCommand::Delete { .. })
            ));
        }
    }

    #[test]
    fn an_image_implies_the_history_and_sizes_parse() {
        let cli =
            Cli::try_parse_from(["pmm", "metrics", "--png", "h.png", "--size", "100x20"]).unwrap();
        match cli.command {
            Command::Metrics(m) => {
                assert!(m.wants_history());
                assert_eq!(m.size, Some((100, 20)));
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["pmm", "metrics", "--size", "10x2"]).is_err());
        assert!(Cli::try_parse_from(["pmm", "metrics", "--points", "5", "--every", "2"]).is_err());
        assert!(Cli::try_parse_from(["pmm", "context", "--encoding", "cl100k_base"]).is_err());
    }
}
