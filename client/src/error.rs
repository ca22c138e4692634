//! [`ClientError`]: everything a call can fail with, keeping the gRPC status
//! code and message the server sent.

use std::error::Error as StdError;

use tonic::Code;

/// The ledger head the server reported with a conflict (`ABORTED` for a
/// mismatched `expected_last_id`, `FAILED_PRECONDITION` for an import that
/// conflicts with the stored chain), from the trailers
/// [`pmm::TRAILER_LAST_ID`] and [`pmm::TRAILER_LAST_HASH`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictHead {
    /// The ledger's last id.
    pub last_id: u64,
    /// The ledger's last hash; `None` when the ledger is empty.
    pub last_hash: Option<String>,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server address could not be parsed.
    #[error("invalid server address {addr:?}: {reason}")]
    InvalidAddress {
        /// The address as given.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The connection could not be established (`Client::connect`).
    #[error("cannot connect to {addr}: {reason}")]
    Connect {
        /// The server address.
        addr: String,
        /// What went wrong, with its causes.
        reason: String,
    },
    /// The call failed with a gRPC status: sent by the server, or made up by
    /// the transport when the connection failed (`transport` = true).
    #[error("{}: {message}", code_name(*code))]
    Status {
        /// The gRPC status code.
        code: Code,
        /// The status message (for transport failures, with its causes).
        message: String,
        /// The head carried by a conflict's trailers, when present.
        head: Option<ConflictHead>,
        /// true when the status was produced locally by the transport (the
        /// connection failed or dropped), not sent by the server.
        transport: bool,
    },
    /// A value given to the client is not acceptable (checked before any
    /// call is made).
    #[error("{what}: {reason}")]
    InvalidInput {
        /// The offending field or argument.
        what: String,
        /// Why it is refused.
        reason: String,
    },
    /// The server sent something this client cannot interpret (e.g. a `meta`
    /// that is not JSON).
    #[error("unexpected response: {0}")]
    Protocol(String),
}

impl ClientError {
    /// The gRPC status code, for [`ClientError::Status`].
    pub fn code(&self) -> Option<Code> {
        match self {
            ClientError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The status message, for [`ClientError::Status`].
    pub fn message(&self) -> Option<&str> {
        match self {
            ClientError::Status { message, .. } => Some(message),
            _ => None,
        }
    }

    /// true for a write that lost a race or conflicts with what is stored:
    /// `ABORTED` (expected_last_id mismatch), `FAILED_PRECONDITION` (import
    /// conflict), `ALREADY_EXISTS` (partial idempotent retry).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self.code(),
            Some(Code::Aborted | Code::FailedPrecondition | Code::AlreadyExists)
        )
    }

    /// The head carried by a conflict's trailers.
    pub fn conflict_head(&self) -> Option<&ConflictHead> {
        match self {
            ClientError::Status { head, .. } => head.as_ref(),
            _ => None,
        }
    }

    /// true when retrying may succeed: the server is starting or shutting
    /// down (`UNAVAILABLE`), or the connection failed or dropped.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Connect { .. } => true,
            ClientError::Status {
                code, transport, ..
            } => {
                *code == Code::Unavailable
                    || (*transport
                        && matches!(code, Code::Unknown | Code::Internal | Code::Cancelled))
            }
            _ => false,
        }
    }

    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        ClientError::InvalidInput {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> Self {
        let head = conflict_head(status.metadata());
        let transport = status.source().is_some();
        let mut code = status.code();
        let mut message = status.message().to_string();
        if let Some(source) = status.source() {
            if has_timeout(source) {
                code = Code::DeadlineExceeded;
                message = "request timed out (client-side timeout)".to_string();
            } else {
                append_causes(&mut message, source);
            }
        }
        ClientError::Status {
            code,
            message,
            head,
            transport,
        }
    }
}

/// Reads the trailers [`pmm::TRAILER_LAST_ID`] / [`pmm::TRAILER_LAST_HASH`].
fn conflict_head(metadata: &tonic::metadata::MetadataMap) -> Option<ConflictHead> {
    let last_id = metadata
        .get(pmm::TRAILER_LAST_ID)?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    let last_hash = metadata
        .get(pmm::TRAILER_LAST_HASH)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Some(ConflictHead { last_id, last_hash })
}

fn has_timeout(err: &(dyn StdError + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<tonic::TimeoutExpired>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Appends `: cause` for each error in the chain whose text is not already
/// in `message`.
/// An error's text followed by its causes.
pub(crate) fn causes(err: &(dyn StdError + 'static)) -> String {
    let mut text = String::new();
    append_causes(&mut text, err);
    text
}

pub(crate) fn append_causes(message: &mut String, err: &(dyn StdError + 'static)) {
    let mut cur = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !text.is_empty() && !message.contains(&text) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
        cur = e.source();
    }
}

/// The canonical name of a status code, e.g. `ABORTED`.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_status_keeps_code_message_and_head() {
        let mut status =
            tonic::Status::aborted("expected_last_id: expected 5, ledger last id is 7");
        status
            .metadata_mut()
            .insert(pmm::TRAILER_LAST_ID, "7".parse().unwrap());
        status
            .metadata_mut()
            .insert(pmm::TRAILER_LAST_HASH, "abc".parse().unwrap());
        let err = ClientError::from(status);
        assert_eq!(err.code(), Some(Code::Aborted));
        assert!(err.is_conflict());
        assert!(!err.is_transient());
        assert_eq!(
            err.conflict_head(),
            Some(&ConflictHead {
                last_id: 7,
                last_hash: Some("abc".into())
            })
        );
        assert_eq!(
            err.to_string(),
            "ABORTED: expected_last_id: expected 5, ledger last id is 7"
        );
    }

    #[test]
    fn unavailable_is_transient_and_unknown_from_server_is_not() {
        assert!(ClientError::from(tonic::Status::unavailable("shutting down")).is_transient());
        assert!(!ClientError::from(tonic::Status::unknown("boom")).is_transient());
        let local = tonic::Status::from_error(Box::new(std::io::Error::other("connection reset")));
        let err = ClientError::from(local);
        assert!(err.is_transient(), "{err:?}");
        assert!(err.to_string().contains("connection reset"));
    }

    #[test]
    fn client_timeout_reads_as_deadline_exceeded() {
        let status = tonic::Status::from_error(Box::new(tonic::TimeoutExpired(())));
        let err = ClientError::from(status);
        assert_eq!(err.code(), Some(Code::DeadlineExceeded));
    }
}
