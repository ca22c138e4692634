//! Importing a whole ledger file through the server's `Import` RPC: rows are
//! read on a blocking thread (streaming, never the whole file in memory),
//! cut into batches within the server's limits, and sent one `Import` call
//! per batch. Each call is atomic and the server skips rows it already holds
//! identically, so an interrupted import is resumed by running it again; a
//! row that conflicts with the stored chain is refused (`FAILED_PRECONDITION`)
//! and nothing of its batch is written.

use std::path::{Path, PathBuf};

use pmm::v1;
use prost::Message;
use tokio::sync::mpsc;

use crate::client::Client;
use crate::error::ClientError;
use crate::options::ImportMode;
use crate::source::{self, Format, SourceError};
use crate::types::Head;

/// Bytes of framing counted per row on top of its encoded length.
const ROW_OVERHEAD: usize = 16;

/// Cuts a sequence of rows into batches of at most `max_rows` rows and about
/// `max_bytes` encoded bytes (a single larger row makes a batch of its own).
#[derive(Debug)]
pub struct Batcher {
    max_rows: usize,
    max_bytes: usize,
    rows: Vec<v1::Event>,
    bytes: usize,
}

impl Batcher {
    /// A batcher with these bounds (each at least 1).
    pub fn new(max_rows: usize, max_bytes: usize) -> Self {
        Batcher {
            max_rows: max_rows.max(1),
            max_bytes: max_bytes.max(1),
            rows: Vec::new(),
            bytes: 0,
        }
    }

    /// Adds a row; returns the previous batch when this row does not fit in it.
    pub fn push(&mut self, row: v1::Event) -> Option<Vec<v1::Event>> {
        let size = row.encoded_len() + ROW_OVERHEAD;
        let full = !self.rows.is_empty()
            && (self.rows.len() >= self.max_rows || self.bytes + size > self.max_bytes);
        let out = full.then(|| self.take());
        self.rows.push(row);
        self.bytes += size;
        out
    }

    /// The last, partial batch.
    pub fn finish(mut self) -> Option<Vec<v1::Event>> {
        (!self.rows.is_empty()).then(|| self.take())
    }

    fn take(&mut self) -> Vec<v1::Event> {
        self.bytes = 0;
        std::mem::take(&mut self.rows)
    }
}

/// How to import a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportFileOptions {
    /// Verify (default) or verbatim.
    pub mode: ImportMode,
    /// Do not send rows below the ledger's last id (the last stored row is
    /// still sent, so the server checks that the file continues its chain).
    /// Faster for resuming a big import; without it every row is sent and
    /// the server checks that each already stored row is identical.
    pub resume: bool,
    /// Rows per batch (default: the server's `max_batch_events`).
    pub batch_rows: Option<usize>,
}

/// Progress of a file import, reported after each batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportProgress {
    /// Rows of the file dealt with so far (sent, or passed over by `resume`).
    pub rows_done: u64,
    /// Rows written by the server so far.
    pub imported: u64,
    /// Rows the server skipped as already stored identically.
    pub skipped: u64,
    /// Rows not sent because of `resume`.
    pub passed_over: u64,
    /// `Import` calls made.
    pub batches: u64,
    /// The ledger head after the last batch.
    pub head: Head,
}

/// Why a file import stopped. Batches before the failing one are stored.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The server refused a batch (nothing of it was written; the batches
    /// before it were).
    #[error("rows {first_id}..={last_id} refused: {source}")]
    Rejected {
        /// First id of the refused batch.
        first_id: u64,
        /// Last id of the refused batch.
        last_id: u64,
        /// What the batches before it did.
        before: Box<ImportProgress>,
        /// The server's error (`FAILED_PRECONDITION` for a conflict).
        #[source]
        source: ClientError,
    },
    /// A call before the import proper failed (`Stats`, `Head`).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The reading thread failed unexpectedly.
    #[error("reading thread failed: {0}")]
    Reader(String),
}

impl ImportError {
    /// The server's error, when the import failed on a call.
    pub fn client_error(&self) -> Option<&ClientError> {
        match self {
            ImportError::Rejected { source, .. } | ImportError::Client(source) => Some(source),
            _ => None,
        }
    }
}

/// A batch from the reading thread, with the rows passed over before it.
struct Chunk {
    passed_over: u64,
    rows: Vec<v1::Event>,
}

enum ReadStop {
    Source(SourceError),
    Closed,
}

impl From<SourceError> for ReadStop {
    fn from(e: SourceError) -> Self {
        ReadStop::Source(e)
    }
}

/// Imports every row of `path` (JSON lines or SQLite, detected), calling
/// `progress` after each batch. Returns the final progress.
pub async fn import_file(
    client: &Client,
    path: &Path,
    options: &ImportFileOptions,
    mut progress: impl FnMut(&ImportProgress),
) -> Result<ImportProgress, ImportError> {
    let format = source::detect(path)?;
    let limits = client.stats().await?.limits.unwrap_or_default();
    let max_rows = options
        .batch_rows
        .unwrap_or(limit_or(u64::from(limits.max_batch_events), 1000))
        .clamp(1, limit_or(u64::from(limits.max_batch_events), 1000));
    // Leave room for the request's framing under the message limit.
    let max_bytes = limit_or(limits.max_message_bytes, 16 << 20) / 4 * 3;
    let skip_below = if options.resume {
        client.head().await?.last_id
    } else {
        0
    };

    let (tx, mut rx) = mpsc::channel::<Chunk>(4);
    let path_buf: PathBuf = path.to_path_buf();
    let reader = tokio::task::spawn_blocking(move || {
        read_batches(
            &path_buf,
            format,
            skip_below,
            Batcher::new(max_rows, max_bytes),
            &tx,
        )
    });

    let mut state = ImportProgress::default();
    while let Some(chunk) = rx.recv().await {
        state.passed_over += chunk.passed_over;
        state.rows_done += chunk.passed_over;
        if chunk.rows.is_empty() {
            progress(&state);
            continue;
        }
        let first_id = chunk.rows.first().map_or(0, |r| r.id);
        let last_id = chunk.rows.last().map_or(0, |r| r.id);
        let n = chunk.rows.len() as u64;
        let outcome = client
            .import(chunk.rows, options.mode)
            .await
            .map_err(|source| ImportError::Rejected {
                first_id,
                last_id,
                before: Box::new(state.clone()),
                source,
            })?;
        state.rows_done += n;
        state.imported += outcome.imported;
        state.skipped += outcome.skipped;
        state.batches += 1;
        state.head = outcome.head;
        progress(&state);
    }
    match reader.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(ImportError::Source(e)),
        Err(e) => return Err(ImportError::Reader(e.to_string())),
    }
    if state.batches == 0 {
        state.head = client.head().await?;
    }
    Ok(state)
}

fn limit_or(value: u64, default: usize) -> usize {
    if value == 0 {
        default
    } else {
        usize::try_from(value).unwrap_or(usize::MAX)
    }
}

/// The reading thread: rows → batches → channel.
fn read_batches(
    path: &Path,
    format: Format,
    skip_below: u64,
    mut batcher: Batcher,
    tx: &mpsc::Sender<Chunk>,
) -> Result<(), SourceError> {
    let mut passed_over = 0u64;
    let send = |chunk: Chunk| tx.blocking_send(chunk).map_err(|_| ReadStop::Closed);
    let result = source::for_each_row::<ReadStop>(path, format, |row| {
        if row.id < skip_below {
            passed_over += 1;
            if passed_over % 10_000 == 0 {
                send(Chunk {
                    passed_over: std::mem::take(&mut passed_over),
                    rows: Vec::new(),
                })?;
            }
            return Ok(());
        }
        if let Some(rows) = batcher.push(row) {
            send(Chunk {
                passed_over: std::mem::take(&mut passed_over),
                rows,
            })?;
        }
        Ok(())
    });
    match result {
        Ok(()) => {}
        // The importer stopped listening: it has its own error to report.
        Err(ReadStop::Closed) => return Ok(()),
        Err(ReadStop::Source(e)) => return Err(e),
    }
    let last = Chunk {
        passed_over,
        rows: batcher.finish().unwrap_or_default(),
    };
    if last.passed_over > 0 || !last.rows.is_empty() {
        // A closed channel means the importer already failed.
        let _ = tx.blocking_send(last);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u64, content_len: usize) -> v1::Event {
        v1::Event {
            id,
            ts: "2025-09-29T12:00:00+00:00".into(),
            kind: "user".into(),
            content: "x".repeat(content_len),
            meta: "{}".into(),
            prev_hash: None,
            hash: "h".repeat(64),
        }
    }

    fn ids(batch: &[v1::Event]) -> Vec<u64> {
        batch.iter().map(|r| r.id).collect()
    }

    #[test]
    fn batches_by_row_count() {
        let mut b = Batcher::new(2, usize::MAX);
        let mut out = Vec::new();
        for id in 1..=5 {
            out.extend(b.push(row(id, 1)));
        }
        out.extend(b.finish());
        let got: Vec<_> = out.iter().map(|b| ids(b)).collect();
        assert_eq!(got, [vec![1, 2], vec![3, 4], vec![5]]);
    }

    #[test]
    fn batches_by_bytes_and_lets_a_big_row_stand_alone() {
        let one = row(1, 100).encoded_len() + ROW_OVERHEAD;
        let mut b = Batcher::new(100, one * 2);
        let mut out = Vec::new();
        out.extend(b.push(row(1, 100)));
        out.extend(b.push(row(2, 100)));
        out.extend(b.push(row(3, 10_000)));
        out.extend(b.push(row(4, 100)));
        out.extend(b.finish());
        let got: Vec<_> = out.iter().map(|b| ids(b)).collect();
        assert_eq!(got, [vec![1, 2], vec![3], vec![4]]);
        assert!(Batcher::new(1, 1).finish().is_none());
    }
}
