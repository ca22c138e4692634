//! Configuration: command-line flags, each with a `PMM_*` environment
//! variable, and the limits in force.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::ledger::handle::LedgerConfig;
use crate::ledger::hub::HubLimits;
use crate::minds::layout::Layout;
use crate::rules::TailLimits;
use crate::store::schema::Durability;
use crate::tls::Pem;

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

    /// The data directory: one folder per mind, `<dir>/<name>/pmm.db`
    /// (created if missing). The mind `default` is `<dir>/pmm.db` when that
    /// file exists (the single-mind layout), else `<dir>/default/pmm.db`.
    #[arg(long, env = "PMM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Serve this one SQLite file as the only mind, `default` (created with
    /// its folder if missing; a reference-made pmm.db is opened in place),
    /// instead of a data directory.
    #[arg(long, env = "PMM_DB", conflicts_with = "data_dir")]
    pub db: Option<PathBuf>,

    /// An Append to a mind that does not exist creates it (otherwise every
    /// call to an unknown mind is NOT_FOUND; minds are created with
    /// pmm.v1.Minds/CreateMind).
    #[arg(long, env = "PMM_CREATE_MINDS_ON_APPEND")]
    pub create_minds_on_append: bool,

    /// Most minds open (in memory) at once; the least recently used is
    /// closed to make room, and opened again when next asked for.
    #[arg(long, env = "PMM_MAX_OPEN_MINDS", default_value_t = 1000)]
    pub max_open_minds: usize,

    /// Memory of the open minds, in bytes, at most (each mind's measured
    /// memory; a mind larger than this is still served, alone).
    #[arg(long, env = "PMM_MAX_OPEN_MEMORY", default_value_t = 1 << 30)]
    pub max_open_memory: u64,

    /// Where BackupMind writes (created if missing).
    #[arg(long, env = "PMM_BACKUP_DIR", default_value = "./backups")]
    pub backup_dir: PathBuf,

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

    /// Largest Read page and Export chunk, in events.
    #[arg(long, env = "PMM_MAX_PAGE", default_value_t = 10_000)]
    pub max_page_size: usize,

    /// Largest Read page and Export chunk, in bytes of events (a page holds
    /// at least one event). Must be at least max-event-bytes + 1 KiB and at
    /// most max-message-bytes.
    #[arg(long, env = "PMM_MAX_PAGE_BYTES", default_value_t = 4 << 20)]
    pub max_page_bytes: usize,

    /// Most open subscriptions.
    #[arg(long, env = "PMM_MAX_SUBSCRIBERS", default_value_t = 1024)]
    pub max_subscribers: usize,

    /// Recent rows kept in memory for subscribers (the live window, shared
    /// by all); one further behind reads from SQLite until it catches up.
    #[arg(long, env = "PMM_SUBSCRIBER_BUFFER", default_value_t = 4096)]
    pub subscriber_buffer: usize,

    /// Bytes of recent rows kept in the live window, at most.
    #[arg(long, env = "PMM_SUBSCRIBER_BUFFER_BYTES", default_value_t = 16 << 20)]
    pub subscriber_buffer_bytes: usize,

    /// Bytes of rows one subscription may have queued for its client; a
    /// client that stops reading holds no more than this.
    #[arg(long, env = "PMM_SUBSCRIBER_IN_FLIGHT_BYTES", default_value_t = 64 << 10)]
    pub subscriber_in_flight_bytes: usize,

    /// Largest Search top_k.
    #[arg(long, env = "PMM_MAX_TOP_K", default_value_t = 100)]
    pub max_search_top_k: usize,

    /// Longest GetContext `tail`, in rows; the last rows are kept in memory
    /// for it, up to --max-tail-bytes.
    #[arg(long, env = "PMM_MAX_TAIL", default_value_t = 1000)]
    pub max_tail: usize,

    /// Bytes of the last rows kept in memory for tail contexts; a tail
    /// longer than the rows this holds reads the older ones from SQLite.
    #[arg(long, env = "PMM_MAX_TAIL_BYTES", default_value_t = 32 << 20)]
    pub max_tail_bytes: usize,

    /// Most VerifyChain calls running at once (more are refused with
    /// RESOURCE_EXHAUSTED).
    #[arg(long, env = "PMM_MAX_CONCURRENT_VERIFY", default_value_t = 2)]
    pub max_concurrent_verify: usize,

    /// Most Search calls running at once.
    #[arg(long, env = "PMM_MAX_CONCURRENT_SEARCH", default_value_t = 4)]
    pub max_concurrent_search: usize,

    /// Most rebuilds of a past state (views `as_of_id` an uncached id)
    /// running at once.
    #[arg(long, env = "PMM_MAX_CONCURRENT_REPLAYS", default_value_t = 2)]
    pub max_concurrent_replays: usize,

    /// Most uncached context blocks over a tail window being built at once.
    #[arg(long, env = "PMM_MAX_CONCURRENT_TAIL_CONTEXTS", default_value_t = 8)]
    pub max_concurrent_tail_contexts: usize,

    /// Most Export streams open at once.
    #[arg(long, env = "PMM_MAX_CONCURRENT_EXPORTS", default_value_t = 4)]
    pub max_concurrent_exports: usize,

    /// Check mode: every N appended events, rebuild all derived state from
    /// SQLite and compare it with the incremental state (0 = off).
    #[arg(long, env = "PMM_VERIFY_FOLDS_EVERY", default_value_t = 0)]
    pub verify_folds_every: u64,

    /// Most concurrent streams (calls) per HTTP/2 connection; a client
    /// opening more waits for one to end.
    #[arg(long, env = "PMM_MAX_CONCURRENT_STREAMS", default_value_t = 256)]
    pub max_concurrent_streams: u32,

    /// TLS certificate chain (PEM): a file, or the PEM text itself.
    #[arg(
        long,
        env = "PMM_TLS_CERT",
        value_name = "PEM",
        hide_env_values = true,
        requires = "tls_key"
    )]
    pub tls_cert: Option<Pem>,

    /// TLS private key (PEM): a file, or the PEM text itself.
    #[arg(
        long,
        env = "PMM_TLS_KEY",
        value_name = "PEM",
        hide_env_values = true,
        requires = "tls_cert"
    )]
    pub tls_key: Option<Pem>,

    /// Mutual TLS: CA certificate(s) (PEM, a file or the text) that every
    /// client certificate must chain to; clients without one are refused.
    #[arg(
        long,
        env = "PMM_TLS_CLIENT_CA",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_client_ca: Option<Pem>,

    /// Tokens file: one `NAME ROLE SHA256-HEX` line per token (see
    /// SECURITY.md); every call but health then needs `authorization:
    /// Bearer TOKEN`. Reloaded on SIGHUP.
    #[arg(long, env = "PMM_TOKENS", value_name = "FILE")]
    pub tokens: Option<PathBuf>,

    /// Listen on a non-loopback address without tokens (refused otherwise):
    /// anyone who reaches the port may then read and write the ledger.
    #[arg(long, env = "PMM_INSECURE")]
    pub insecure: bool,
    /// Connection limits and timeouts.
    #[command(flatten)]
    pub connections: crate::transport::Settings,

    /// Examine the ledger file (SQLite integrity, rebuilding a damaged
    /// index; the schema; the hash chain; the head anchor), say what was
    /// found, and exit (0 when healthy) instead of serving.
    #[arg(long)]
    pub check: bool,

    /// Write on although the ledger file does not match its head anchor
    /// (`pmm.db-anchor`: rows were removed or rewritten outside the server).
    /// Check the file first; the anchor then names the current head.
    #[arg(long, env = "PMM_ACCEPT_ANCHOR")]
    pub accept_anchor: bool,

    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `pmm_server=debug`.
    #[arg(long, env = "PMM_LOG", default_value = "info")]
    pub log: String,
}

/// Room beyond `max_event_bytes` that a stored row may take in a message:
/// its timestamp and hashes (bounded on Import) and the framing.
pub const ROW_ROOM: usize = 1 << 10;

/// Settings that contradict each other.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--max-page-bytes {page} must be at least --max-event-bytes {event} + {ROW_ROOM} (one event must fit a page)")]
    PageSmallerThanEvent { page: usize, event: usize },
    #[error("--max-page-bytes {page} must be at most --max-message-bytes {message} (a page must fit a message)")]
    PageLargerThanMessage { page: usize, message: usize },
    #[error("--max-open-minds must be at least 1")]
    NoOpenMinds,
}

/// How many of each kind of expensive work may run at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkLimits {
    pub verify: usize,
    pub search: usize,
    pub replay: usize,
    pub tail_context: usize,
    pub export: usize,
}

/// The limits requests are checked against (the `limits` of Stats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_event_bytes: usize,
    pub max_batch_events: usize,
    pub max_message_bytes: usize,
    pub max_page_size: usize,
    pub max_page_bytes: usize,
    pub max_subscribers: usize,
    pub subscriber_buffer: usize,
    pub subscriber_buffer_bytes: usize,
    pub subscriber_in_flight_bytes: usize,
    pub max_search_top_k: usize,
    pub max_tail: usize,
    pub max_tail_bytes: usize,
    pub max_n_reflections: usize,
    pub work: WorkLimits,
    pub max_concurrent_streams: u32,
}

impl Config {
    /// The defaults, serving the one file `db` (for tests and embedding).
    pub fn for_db(db: impl Into<PathBuf>) -> Config {
        let mut config = Config::parse_from(["pmm-server"]);
        config.db = Some(db.into());
        config
    }

    /// The defaults, serving the minds of the data directory `dir`.
    pub fn for_data_dir(dir: impl Into<PathBuf>) -> Config {
        let mut config = Config::parse_from(["pmm-server"]);
        config.data_dir = dir.into();
        config
    }

    /// The file of the mind `default`.
    pub fn default_db(&self) -> PathBuf {
        self.layout()
            .db_path(pmm::mind::DEFAULT_MIND)
            .unwrap_or_else(|| self.data_dir.join("pmm.db"))
    }

    /// Where the minds are.
    pub fn layout(&self) -> Layout {
        match &self.db {
            Some(file) => Layout::SingleFile(file.clone()),
            None => Layout::DataDir(self.data_dir.clone()),
        }
    }

    /// Checks that the settings fit together: every stored event fits a
    /// page, and a page fits a message.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.max_page_bytes < self.max_event_bytes.saturating_add(ROW_ROOM) {
            return Err(ConfigError::PageSmallerThanEvent {
                page: self.max_page_bytes,
                event: self.max_event_bytes,
            });
        }
        if self.max_open_minds == 0 {
            return Err(ConfigError::NoOpenMinds);
        }
        if self.max_page_bytes > self.max_message_bytes {
            return Err(ConfigError::PageLargerThanMessage {
                page: self.max_page_bytes,
                message: self.max_message_bytes,
            });
        }
        Ok(())
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        Limits {
            max_event_bytes: self.max_event_bytes,
            max_batch_events: self.max_batch_events,
            max_message_bytes: self.max_message_bytes,
            max_page_size: self.max_page_size,
            max_page_bytes: self.max_page_bytes,
            max_subscribers: self.max_subscribers,
            subscriber_buffer: self.subscriber_buffer,
            subscriber_buffer_bytes: self.subscriber_buffer_bytes,
            subscriber_in_flight_bytes: self.subscriber_in_flight_bytes,
            max_search_top_k: self.max_search_top_k,
            max_tail: self.max_tail,
            max_tail_bytes: self.max_tail_bytes,
            max_n_reflections: crate::rules::context::MAX_REFLECTIONS,
            work: WorkLimits {
                verify: self.max_concurrent_verify,
                search: self.max_concurrent_search,
                replay: self.max_concurrent_replays,
                tail_context: self.max_concurrent_tail_contexts,
                export: self.max_concurrent_exports,
            },
            max_concurrent_streams: self.max_concurrent_streams,
        }
    }

    /// How a mind's ledger at `path` is opened.
    pub fn ledger(&self, path: PathBuf) -> LedgerConfig {
        LedgerConfig {
            path,
            durability: self.durability,
            read_pool: self.read_pool,
            tail: TailLimits {
                rows: self.max_tail,
                bytes: self.max_tail_bytes,
            },
            hub: HubLimits {
                window_rows: self.subscriber_buffer,
                window_bytes: self.subscriber_buffer_bytes,
                in_flight_bytes: self.subscriber_in_flight_bytes,
                max_subscribers: self.max_subscribers,
            },
            write_queue: self.max_batch_events.max(64),
            verify_folds_every: self.verify_folds_every,
            accept_anchor: self.accept_anchor,
            subscribers: Default::default(),
        }
    }
}
