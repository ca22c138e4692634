//! Configuration: command-line flags, each with a `PMM_*` environment
//! variable, and the limits in force.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::ledger::handle::LedgerConfig;
use crate::store::schema::Durability;

/// The pmm gRPC server.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "pmm-server",
    version,
    about = "The Persistent Mind Model ledger as a gRPC service"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "PMM_ADDR", default_value = "127.0.0.1:50051")]
    pub addr: SocketAddr,

    /// SQLite ledger file (created with its folder if missing; a
    /// reference-made pmm.db is opened in place).
    #[arg(long, env = "PMM_DB", default_value = "./data/pmm.db")]
    pub db: PathBuf,

    /// Durability of commits.
    #[arg(long, env = "PMM_DURABILITY", value_enum, default_value_t = Durability::Normal)]
    pub durability: Durability,

    /// Read connections in the pool.
    #[arg(long, env = "PMM_READ_POOL", default_value_t = 8)]
    pub read_pool: u32,

    /// Largest event (kind + content + meta bytes), and largest Embed/Search text.
    #[arg(long, env = "PMM_MAX_EVENT_BYTES", default_value_t = 1 << 20)]
    pub max_event_bytes: usize,

    /// Most events per Append, rows per Import.
    #[arg(long, env = "PMM_MAX_BATCH", default_value_t = 1000)]
    pub max_batch_events: usize,

    /// Largest gRPC message decoded or sent, in bytes.
    #[arg(long, env = "PMM_MAX_MESSAGE_BYTES", default_value_t = 16 << 20)]
    pub max_message_bytes: usize,

    /// Largest Read page and Export chunk.
    #[arg(long, env = "PMM_MAX_PAGE", default_value_t = 10_000)]
    pub max_page_size: usize,

    /// Most open subscriptions.
    #[arg(long, env = "PMM_MAX_SUBSCRIBERS", default_value_t = 1024)]
    pub max_subscribers: usize,

    /// Live rows buffered for subscribers; one that falls further behind
    /// reads from SQLite until it catches up.
    #[arg(long, env = "PMM_SUBSCRIBER_BUFFER", default_value_t = 4096)]
    pub subscriber_buffer: usize,

    /// Largest Search top_k.
    #[arg(long, env = "PMM_MAX_TOP_K", default_value_t = 100)]
    pub max_search_top_k: usize,

    /// Rows kept for context blocks over a tail window (GetContext `tail`).
    #[arg(long, env = "PMM_MAX_TAIL", default_value_t = 1000)]
    pub max_tail: usize,

    /// Check mode: every N appended events, rebuild all derived state from
    /// SQLite and compare it with the incremental state (0 = off).
    #[arg(long, env = "PMM_VERIFY_FOLDS_EVERY", default_value_t = 0)]
    pub verify_folds_every: u64,

    /// Connection limits and timeouts.
    #[command(flatten)]
    pub connections: crate::transport::Settings,

    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `pmm_server=debug`.
    #[arg(long, env = "PMM_LOG", default_value = "info")]
    pub log: String,
}

/// The limits requests are checked against (the `limits` of Stats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_event_bytes: usize,
    pub max_batch_events: usize,
    pub max_message_bytes: usize,
    pub max_page_size: usize,
    pub max_subscribers: usize,
    pub max_search_top_k: usize,
    pub max_tail: usize,
    pub max_n_reflections: usize,
}

impl Config {
    /// The defaults, with the ledger at `db` (for tests and embedding).
    pub fn for_db(db: impl Into<PathBuf>) -> Config {
        let mut config = Config::parse_from(["pmm-server"]);
        config.db = db.into();
        config
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        Limits {
            max_event_bytes: self.max_event_bytes,
            max_batch_events: self.max_batch_events,
            max_message_bytes: self.max_message_bytes,
            max_page_size: self.max_page_size,
            max_subscribers: self.max_subscribers,
            max_search_top_k: self.max_search_top_k,
            max_tail: self.max_tail,
            max_n_reflections: crate::rules::context::MAX_REFLECTIONS,
        }
    }

    /// How the ledger is opened.
    pub fn ledger(&self) -> LedgerConfig {
        LedgerConfig {
            path: self.db.clone(),
            durability: self.durability,
            read_pool: self.read_pool,
            tail_capacity: self.max_tail,
            subscriber_buffer: self.subscriber_buffer,
            max_subscribers: self.max_subscribers,
            write_queue: self.max_batch_events.max(64),
            verify_folds_every: self.verify_folds_every,
        }
    }
}
