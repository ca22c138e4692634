//! Every domain error becomes a `tonic::Status` here and nowhere else. The
//! matches are exhaustive: a new error variant forces a decision on its code.

use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

use crate::engine::AsOfError;
use crate::hub::HubError;
use crate::rules::ContextError;
use crate::store::writer::WriteError;
use crate::store::{Head, StoreError};

/// A status carrying the current head in its trailers
/// ([`pmm::TRAILER_LAST_ID`], [`pmm::TRAILER_LAST_HASH`]), for writes that
/// lost a race.
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

pub fn store(e: StoreError) -> Status {
    match e {
        StoreError::BadMeta { .. } => Status::data_loss(e.to_string()),
        StoreError::Sqlite(_)
        | StoreError::Pool(_)
        | StoreError::CreateDir { .. }
        | StoreError::Schema(_) => {
            tracing::warn!("storage error: {e}");
            Status::internal(e.to_string())
        }
    }
}

pub fn write(e: WriteError) -> Status {
    let message = e.to_string();
    match e {
        WriteError::Conflict { head, .. } => with_head(Code::Aborted, message, &head),
        WriteError::PartialRetry { .. } => Status::already_exists(message),
        WriteError::ChainBroken(_) => Status::data_loss(message),
        WriteError::ImportConflict { head, .. } => {
            with_head(Code::FailedPrecondition, message, &head)
        }
        WriteError::ImportInvalid { .. } | WriteError::Unhashable(_) => {
            Status::invalid_argument(message)
        }
        WriteError::Storage(e) => store(e),
        WriteError::ShuttingDown => Status::unavailable(message),
    }
}

pub fn hub(e: HubError) -> Status {
    let message = e.to_string();
    match e {
        HubError::BeyondHead { .. } => Status::out_of_range(message),
        HubError::TooMany(_) => Status::resource_exhausted(message),
        HubError::ShuttingDown => Status::unavailable(message),
        HubError::Store(e) => store(e),
        HubError::Join(_) => Status::internal(message),
    }
}

pub fn as_of(e: AsOfError) -> Status {
    match e {
        AsOfError::BeyondHead { .. } => Status::out_of_range(e.to_string()),
        AsOfError::Store(e) => store(e),
    }
}

pub fn context(e: ContextError) -> Status {
    let message = e.to_string();
    match e {
        ContextError::TooManyReflections(_) => {
            Status::invalid_argument(format!("n_reflections: {message}"))
        }
        ContextError::TailTooLong { .. } => Status::invalid_argument(format!("tail: {message}")),
        ContextError::Telemetry(_) => {
            Status::failed_precondition(format!("stage cannot be computed: {message}"))
        }
    }
}

/// A request field that failed validation.
pub fn invalid(field: &str, why: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("{field}: {why}"))
}
