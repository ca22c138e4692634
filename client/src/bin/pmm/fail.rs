//! Failures of a command, their messages and exit codes.

use std::process::ExitCode;

use pmm_client::import::ImportError;
use pmm_client::ClientError;

/// Exit code for bad usage (also clap's).
pub const USAGE: u8 = 2;
/// Exit code for server and transport errors.
pub const SERVER: u8 = 1;
/// Exit code for conflicts and a chain that does not verify.
pub const CONFLICT: u8 = 3;

/// Why a command failed.
#[derive(Debug)]
pub enum Fail {
    /// Print `pmm: <message>` and exit with `code`.
    Message { code: u8, message: String },
    /// Exit with `code` without a message (the output said it all).
    Silent(u8),
}

impl Fail {
    pub fn usage(message: impl Into<String>) -> Self {
        Fail::Message {
            code: USAGE,
            message: message.into(),
        }
    }

    pub fn server(message: impl Into<String>) -> Self {
        Fail::Message {
            code: SERVER,
            message: message.into(),
        }
    }

    /// Reports the failure on stderr and gives the exit code.
    pub fn exit(self) -> ExitCode {
        match self {
            Fail::Message { code, message } => {
                eprintln!("pmm: {message}");
                ExitCode::from(code)
            }
            Fail::Silent(code) => ExitCode::from(code),
        }
    }
}

impl From<ClientError> for Fail {
    fn from(err: ClientError) -> Self {
        let code = exit_code(&err);
        Fail::Message {
            code,
            message: describe(&err),
        }
    }
}

impl From<ImportError> for Fail {
    fn from(err: ImportError) -> Self {
        let code = match &err {
            ImportError::Source(_) => USAGE,
            other => other.client_error().map_or(SERVER, exit_code),
        };
        let mut message = format!("import stopped: {err}");
        if let Some(hint) = err.client_error().and_then(head_hint) {
            message.push_str(&hint);
        }
        if let ImportError::Rejected { before, .. } = &err {
            if before.batches > 0 {
                message.push_str(&format!(
                    "; the {} rows before it are stored ({} imported, {} already present)",
                    before.imported + before.skipped,
                    before.imported,
                    before.skipped
                ));
            }
        }
        Fail::Message { code, message }
    }
}

impl From<std::io::Error> for Fail {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader went away (`pmm read | head`): not a failure.
            Fail::Silent(0)
        } else {
            Fail::server(format!("cannot write output: {err}"))
        }
    }
}

fn exit_code(err: &ClientError) -> u8 {
    if err.is_conflict() {
        CONFLICT
    } else if matches!(
        err,
        ClientError::InvalidInput { .. } | ClientError::InvalidAddress { .. }
    ) {
        USAGE
    } else {
        SERVER
    }
}

/// The error's text, with the current head for a conflict, or where a
/// token goes when the server wants one.
fn describe(err: &ClientError) -> String {
    let mut text = err.to_string();
    if let Some(hint) = head_hint(err) {
        text.push_str(&hint);
    }
    if err.code() == Some(tonic::Code::Unauthenticated) {
        text.push_str(" (the server wants a token: set PMM_TOKEN or give --token)");
    }
    text
}

fn head_hint(err: &ClientError) -> Option<String> {
    let head = err.conflict_head()?;
    Some(match &head.last_hash {
        Some(hash) => format!(" (ledger head: #{} {})", head.last_id, short_hash(hash)),
        None => format!(" (ledger head: #{}, empty)", head.last_id),
    })
}

/// The first 12 characters of a hash.
pub fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_and_message(fail: Fail) -> (u8, String) {
        match fail {
            Fail::Message { code, message } => (code, message),
            Fail::Silent(code) => (code, String::new()),
        }
    }

    #[test]
    fn conflicts_exit_3_with_the_head() {
        let mut status =
            tonic::Status::aborted("expected_last_id: expected 5, ledger last id is 7");
        status
            .metadata_mut()
            .insert(pmm::TRAILER_LAST_ID, "7".parse().unwrap());
        status.metadata_mut().insert(
            pmm::TRAILER_LAST_HASH,
            "0123456789abcdef0123".parse().unwrap(),
        );
        let (code, message) = code_and_message(Fail::from(ClientError::from(status)));
        assert_eq!(code, CONFLICT);
        assert_eq!(
            message,
            "ABORTED: expected_last_id: expected 5, ledger last id is 7 (ledger head: #7 0123456789ab)"
        );
    }

    #[test]
    fn server_errors_exit_1_and_broken_pipes_0() {
        let (code, _) = code_and_message(Fail::from(ClientError::from(tonic::Status::internal(
            "disk",
        ))));
        assert_eq!(code, SERVER);
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert_eq!(code_and_message(Fail::from(pipe)).0, 0);
    }
}
