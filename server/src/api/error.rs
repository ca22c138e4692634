//! Every error a call can end with, and the one conversion of it into a
//! `tonic::Status`. The matches are exhaustive (no `_` arm): a new error
//! variant forces a decision on its code.

use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

use super::validate::RequestError;
use crate::ledger::breakdown::TokenizerError;
use crate::ledger::condition::Condition;
use crate::ledger::handle::{AsOfError, OpenError, ViewError};
use crate::ledger::head::Head;
use crate::ledger::history::HistoryError;
use crate::ledger::hub::HubError;
use crate::ledger::replay::ReplayError;
use crate::ledger::sequencer::WriteError;
use crate::minds::backup::BackupError;
use crate::minds::layout::LayoutError;
use crate::minds::registry::MindError;
use crate::rules::ContextError;
use crate::store::StoreError;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error(transparent)]
    Subscribe(#[from] HubError),
    #[error(transparent)]
    AsOf(#[from] AsOfError),
    #[error("stage cannot be computed: {0}")]
    Context(#[from] ContextError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error(transparent)]
    View(ViewError),
    /// Boxed: an error opening a mind carries a store or replay error.
    #[error(transparent)]
    Mind(Box<MindError>),
    #[error(
        "confirm: {confirm:?} does not repeat the name {name:?} (DeleteMind needs the name twice)"
    )]
    Unconfirmed { name: String, confirm: String },
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error("no event with id {id} (the ledger's last id is {last_id})")]
    NotFound { id: i64, last_id: i64 },
    #[error(
        "starting up: rebuilding derived state ({folded} of {total} events folded); retry shortly"
    )]
    Starting { folded: u64, total: u64 },
    #[error("worker failed: {0}")]
    Worker(String),
    #[error("too many {what} requests at once (limit {limit}, {flag}); retry in about {} ms", retry_after.as_millis().max(1))]
    Busy {
        what: &'static str,
        flag: &'static str,
        limit: usize,
        retry_after: std::time::Duration,
    },
    #[error("the request body could not be decoded as {expected}: {reason}")]
    Undecodable { expected: String, reason: String },
}

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        let message = e.to_string();
        match e {
            Error::Request(RequestError::Invalid { .. }) => Status::invalid_argument(message),
            Error::Request(RequestError::OverLimit { .. }) => Status::resource_exhausted(message),
            Error::Write(e) => write(e, message),
            Error::Store(e) => store(&e, message),
            Error::Replay(e) => replay(&e, message),
            Error::Subscribe(e) => match e {
                HubError::BeyondHead { .. } => Status::out_of_range(message),
                HubError::TooMany(_) => Status::resource_exhausted(message),
                HubError::ShuttingDown | HubError::MindClosed | HubError::MindDeleted => {
                    Status::unavailable(message)
                }
                HubError::Store(e) => store(&e, message),
                HubError::Join(_) => internal(message),
            },
            Error::AsOf(e) => match e {
                AsOfError::BeyondHead { .. } => Status::out_of_range(message),
                AsOfError::Replay(e) => replay(&e, message),
            },
            Error::Context(ContextError::Telemetry(_)) => Status::failed_precondition(message),
            Error::History(e) => match e {
                HistoryError::BeyondHead { .. } => Status::out_of_range(message),
                HistoryError::FromAfterTo { .. } | HistoryError::TooManyPoints { .. } => {
                    Status::invalid_argument(message)
                }
                HistoryError::Replay(e) => replay(&e, message),
            },
            Error::Tokenizer(_) => internal(message),
            Error::View(e) => match e {
                ViewError::Context(ContextError::Telemetry(_)) => {
                    Status::failed_precondition(message)
                }
                ViewError::Store(e) => store(&e, message),
            },
            Error::NotFound { .. } => Status::not_found(message),
            Error::Mind(e) => mind(*e, message),
            Error::Unconfirmed { .. } => Status::failed_precondition(message),
            Error::Backup(e) => match e {
                BackupError::BadPath(_) => Status::invalid_argument(message),
                BackupError::Exists(_) => Status::already_exists(message),
                BackupError::Failed { .. } => internal(message),
            },
            Error::Starting { .. } => Status::unavailable(message),
            Error::Worker(_) => internal(message),
            Error::Busy { retry_after, .. } => {
                let mut status = Status::resource_exhausted(message);
                // gRPC's own pushback trailer: a retrying client waits this long.
                let millis = retry_after.as_millis().max(1).to_string();
                if let Ok(v) = MetadataValue::try_from(millis) {
                    status.metadata_mut().insert("grpc-retry-pushback-ms", v);
                }
                status
            }
            Error::Undecodable { .. } => Status::invalid_argument(message),
        }
    }
}

impl From<MindError> for Error {
    fn from(e: MindError) -> Error {
        Error::Mind(Box::new(e))
    }
}

fn mind(e: MindError, message: String) -> Status {
    match e {
        MindError::NotFound { .. } => Status::not_found(message),
        MindError::AlreadyExists(_) => Status::already_exists(message),
        MindError::DefaultStays => Status::failed_precondition(message),
        MindError::ShuttingDown => Status::unavailable(message),
        MindError::Open { source, .. } => match source {
            OpenError::Store(e) => store(&e, message),
            OpenError::Replay(e) => replay(&e, message),
        },
        MindError::Layout(e) => match e {
            LayoutError::SingleFile(_) => Status::failed_precondition(message),
            LayoutError::Taken(_) => Status::already_exists(message),
            LayoutError::List { .. } | LayoutError::Move { .. } => internal(message),
            LayoutError::Store(e) => store(&e, message),
        },
        MindError::Worker(_) => internal(message),
    }
}

fn write(e: WriteError, message: String) -> Status {
    match e {
        WriteError::Conflict { head, .. } => with_head(Code::Aborted, message, &head),
        WriteError::PartialRetry { .. } => Status::already_exists(message),
        WriteError::ChainBroken(_) | WriteError::DanglingKey { .. } => Status::data_loss(message),
        WriteError::ImportConflict { head, .. } | WriteError::VerbatimNotEmpty { head } => {
            with_head(Code::FailedPrecondition, message, &head)
        }
        WriteError::ImportInvalid { .. } => Status::invalid_argument(message),
        WriteError::IdsExhausted { .. } | WriteError::DiskFull { .. } => {
            Status::resource_exhausted(message)
        }
        WriteError::Storage { .. } | WriteError::WriterFailed => internal(message),
        WriteError::ShuttingDown | WriteError::MindClosed => Status::unavailable(message),
        WriteError::MindDeleted => Status::not_found(message),
        WriteError::NotWritable(condition) => match condition {
            Condition::ReadOnly { .. } => Status::failed_precondition(message),
            Condition::Damaged { .. } | Condition::AnchorMismatch { .. } => {
                Status::data_loss(message)
            }
            Condition::Writable => internal(message),
        },
    }
}

fn store(e: &StoreError, message: String) -> Status {
    match e {
        StoreError::Sqlite(e) if damaged(e) => Status::data_loss(format!(
            "{message}: the ledger file is damaged; run `pmm-server --check` on it"
        )),
        StoreError::Sqlite(_)
        | StoreError::Pool(_)
        | StoreError::CreateDir { .. }
        | StoreError::CreateFile { .. }
        | StoreError::NotWal { .. }
        | StoreError::NotALedger { .. }
        | StoreError::FolderNotWritable { .. }
        | StoreError::Thread { .. } => internal(message),
    }
}

/// SQLite says the file is damaged (or not a database at all).
fn damaged(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

fn replay(e: &ReplayError, message: String) -> Status {
    match e {
        ReplayError::Store(e) => store(e, message),
        ReplayError::Damaged(_) => Status::data_loss(message),
        ReplayError::ThreadPanicked { .. } => internal(message),
        ReplayError::Cancelled => Status::cancelled(message),
    }
}

/// INTERNAL, logged: the client cannot fix it.
fn internal(message: String) -> Status {
    tracing::warn!("internal error: {message}");
    Status::internal(message)
}

/// A status carrying the current head in its trailers, for writes that lost
/// a race.
fn with_head(code: Code, message: String, head: &Head) -> Status {
    let mut status = Status::new(code, message);
    let md = status.metadata_mut();
    if let Ok(v) = MetadataValue::try_from(head.last_id.to_string()) {
        md.insert(pmm::TRAILER_LAST_ID, v);
    }
    if let Some(v) = head
        .last_hash
        .as_ref()
        .and_then(|h| MetadataValue::try_from(h.as_str()).ok())
    {
        md.insert(pmm::TRAILER_LAST_HASH, v);
    }
    status
}

/// A context that cannot be computed is reported as `Context`, so that the
/// message says the stage is at fault.
impl From<ViewError> for Error {
    fn from(e: ViewError) -> Self {
        match e {
            ViewError::Context(e) => Error::Context(e),
            ViewError::Store(_) => Error::View(e),
        }
    }
}
