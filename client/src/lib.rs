//! `pmm-client`: a typed client for the pmm service (the `pmm.v1.Ledger`
//! and `pmm.v1.Mind` gRPC services, and `pmm.v1.Minds` to administer the
//! minds of a server) and the `pmm` command-line tool.
//!
//! ```no_run
//! use pmm_client::{Client, NewEvent, ContextOptions};
//!
//! # async fn demo() -> Result<(), pmm_client::ClientError> {
//! let client = Client::connect("http://127.0.0.1:50051").await?;
//! let meta = serde_json::json!({"source": "cli"});
//! let appended = client.append(NewEvent::new("user", "hello").with_meta(&meta)?).await?;
//! let context = client.get_context(&ContextOptions::default()).await?;
//! println!("#{} → {}", appended.id, context.text);
//!
//! // Another mind of the same server, on the same connection: every call
//! // carries the header `pmm-mind: alice`.
//! client.create_mind("alice").await?;
//! let alice = client.mind("alice")?;
//! alice.append(NewEvent::new("user", "hello, Alice")).await?;
//! for mind in client.list_all_minds(0).await? {
//!     println!("{} ({} bytes)", mind.name, mind.bytes);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Modules, one job each:
//! - [`client`]: [`Client`], connecting, one method per RPC, and
//!   [`Client::mind`] for a client of another mind;
//! - [`connect`]: the transport: TLS, HTTP/2 keep-alive, the bearer token
//!   and the `pmm-mind` header ([`MindHeader`]);
//! - [`options`]: request parameters; [`types`]: what calls return;
//! - [`subscribe`]: live subscriptions that resume after a dropped connection;
//! - [`error`]: [`ClientError`], keeping the gRPC code and message;
//! - [`jsonl`]: the JSON-lines row format of import/export (written with
//!   Python's `json.dumps`, [`pmm::py::json`]);
//! - [`source`], [`import`]: reading ledger files (JSON lines or a reference
//!   `pmm.db`) and importing them in batches.

pub mod client;
pub mod connect;
pub mod error;
pub mod import;
pub mod jsonl;
pub mod options;
mod paging;
pub mod source;
pub mod subscribe;
pub mod types;

pub use client::{Client, ConnectOptions, DEFAULT_ADDR};
pub use connect::{KeepAlive, MindHeader, TlsOptions, Token};
pub use error::{ClientError, ConflictHead};
pub use options::{
    AppendOptions, ContextOptions, ExportOptions, HistoryOptions, ImportMode, MetricsOptions,
    NewEvent, ProjectionOptions, ReadOptions, SearchOptions,
};
pub use subscribe::{Position, Reconnect, RetryPolicy, Start, SubItem, SubscribeSpec};
pub use types::{
    AppendOutcome, Appended, Event, Head, Identity, IdentityView, ImportOutcome, Page, Projection,
    ProjectionWarning, SelfModel,
};

/// The generated protocol types (`pmm::v1`), re-exported.
pub use pmm::v1;
