//! The SHA-256 hash chain (SPEC §1): the payload hashed for a row, its
//! hash computed ahead of the append ([`PreparedHash`]), and verification
//! ([`ChainVerifier`]). Pure functions; the canonical JSON is
//! [`pmm::py::json`] with [`Options::CANONICAL`].

use pmm::py::json::{self, Options};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

use crate::event::Event;

/// A value that canonical JSON cannot write (Python's `json.dumps` with
/// `allow_nan=False` refuses the same).
pub use pmm::py::json::DumpError as CanonicalError;

/// `json.dumps(value, sort_keys=True, separators=(",", ":"))`, byte for byte.
pub fn canonical_json(value: &Value) -> Result<String, CanonicalError> {
    json::dumps(value, Options::CANONICAL)
}

/// A string as canonical JSON writes it (`ensure_ascii=True`).
fn write_string(s: &str, out: &mut String) {
    json::write_str(s, true, out);
}

/// The payload hashed for a row: `{"id","ts","kind","content","meta","prev_hash"}`
/// in canonical form (keys written in sorted order directly). The hash is
/// computed from the same pieces without building this text (see
/// [`PreparedHash`]).
pub fn canonical_payload(
    id: i64,
    ts: &str,
    kind: &str,
    content: &str,
    meta: &Value,
    prev_hash: Option<&str>,
) -> Result<String, CanonicalError> {
    let mut out = String::with_capacity(96 + content.len() + ts.len() + kind.len());
    write_content_part(content, &mut out);
    write_id_part(id, &mut out);
    write_middle_part(kind, meta, Options::CANONICAL_STORED, &mut out)?;
    write_prev_hash(prev_hash, &mut out);
    write_ts_part(ts, &mut out);
    Ok(out)
}

// The payload's pieces, in the order they are written.

fn write_content_part(content: &str, out: &mut String) {
    out.push_str("{\"content\":");
    write_string(content, out);
}

fn write_id_part(id: i64, out: &mut String) {
    let _ = write!(out, ",\"id\":{id}");
}

fn write_middle_part(
    kind: &str,
    meta: &Value,
    options: Options,
    out: &mut String,
) -> Result<(), CanonicalError> {
    out.push_str(",\"kind\":");
    write_string(kind, out);
    out.push_str(",\"meta\":");
    json::write_value(meta, options, out)?;
    out.push_str(",\"prev_hash\":");
    Ok(())
}

fn write_prev_hash(prev_hash: Option<&str>, out: &mut String) {
    match prev_hash {
        Some(h) => write_string(h, out),
        None => out.push_str("null"),
    }
}

fn write_ts_part(ts: &str, out: &mut String) {
    out.push_str(",\"ts\":");
    write_string(ts, out);
    out.push('}');
}

/// The part of a row's hash that does not depend on where the row lands in
/// the chain (content, kind, meta), computed ahead of time: the request
/// handlers prepare it in parallel, and the single writer only adds the id,
/// the timestamp and the previous hash.
#[derive(Clone, Debug)]
pub struct PreparedHash {
    /// SHA-256 state after `{"content":"…"`.
    after_content: Sha256,
    /// `,"kind":"…","meta":{…},"prev_hash":`
    middle: String,
}

impl PreparedHash {
    /// The hash of a new event: its meta must be writable without `NaN` or
    /// `Infinity` (SPEC §1 refuses them on input).
    pub fn new(kind: &str, content: &str, meta: &Value) -> Result<PreparedHash, CanonicalError> {
        Self::with(kind, content, meta, Options::CANONICAL)
    }

    /// The hash of a stored row, as the reference computed it: a stored
    /// `NaN` or `Infinity` is written as Python's `json.dumps` writes it.
    pub fn stored(kind: &str, content: &str, meta: &Value) -> Result<PreparedHash, CanonicalError> {
        Self::with(kind, content, meta, Options::CANONICAL_STORED)
    }

    fn with(
        kind: &str,
        content: &str,
        meta: &Value,
        options: Options,
    ) -> Result<PreparedHash, CanonicalError> {
        let mut middle = String::with_capacity(64 + kind.len());
        write_middle_part(kind, meta, options, &mut middle)?;
        let mut head = String::with_capacity(16 + content.len());
        write_content_part(content, &mut head);
        Ok(PreparedHash {
            after_content: Sha256::new().chain_update(head.as_bytes()),
            middle,
        })
    }

    /// Lowercase hex SHA-256 of the row's canonical payload.
    pub fn finish(&self, id: i64, ts: &str, prev_hash: Option<&str>) -> String {
        let mut rest = String::with_capacity(self.middle.len() + 128 + ts.len());
        write_id_part(id, &mut rest);
        rest.push_str(&self.middle);
        write_prev_hash(prev_hash, &mut rest);
        write_ts_part(ts, &mut rest);
        let digest = self
            .after_content
            .clone()
            .chain_update(rest.as_bytes())
            .finalize();
        let mut hex = [0u8; 64];
        // A 32-byte digest always fits 64 hex digits, which are ASCII.
        let _ = hex::encode_to_slice(digest, &mut hex);
        std::str::from_utf8(&hex)
            .map(str::to_owned)
            .unwrap_or_default()
    }
}

/// Lowercase hex SHA-256 of the canonical payload of a stored row (see
/// [`PreparedHash::stored`]).
pub fn event_hash(
    id: i64,
    ts: &str,
    kind: &str,
    content: &str,
    meta: &Value,
    prev_hash: Option<&str>,
) -> Result<String, CanonicalError> {
    Ok(PreparedHash::stored(kind, content, meta)?.finish(id, ts, prev_hash))
}

/// The hash an event should carry, from its own fields.
pub fn hash_of(ev: &Event) -> Result<String, CanonicalError> {
    hash_with_meta(ev, ev.meta())
}

/// The hash an event should carry, given its meta as parsed by the caller
/// (who has dealt with a meta that does not parse).
pub fn hash_with_meta(ev: &Event, meta: &Value) -> Result<String, CanonicalError> {
    event_hash(
        ev.id,
        &ev.ts,
        &ev.kind,
        &ev.content,
        meta,
        ev.prev_hash.as_deref(),
    )
}

/// Why a row breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainFaultReason {
    #[error("first row's prev_hash is not null")]
    FirstPrevHashNotNull,
    #[error("prev_hash does not match the previous row's hash")]
    PrevHashMismatch,
    #[error("stored hash does not match the recomputed hash")]
    HashMismatch,
    #[error("stored hash is NULL")]
    HashMissing,
    #[error("row cannot be hashed: {0}")]
    Unhashable(CanonicalError),
    #[error("row cannot be read: {0}")]
    Unreadable(String),
}

/// The first row that fails verification, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("chain broken at id {id}: {reason}")]
pub struct ChainFault {
    pub id: i64,
    pub reason: ChainFaultReason,
}

/// Verifies rows one at a time in id order (SPEC §1 `verify_chain`), so a
/// ledger of any length is checked without holding it in memory.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ChainVerifier {
    prev_hash: Option<String>,
    checked: u64,
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Continues a chain whose last verified row had `last_hash`.
    pub fn resume(last_hash: Option<String>, checked: u64) -> Self {
        Self {
            prev_hash: last_hash,
            checked,
        }
    }

    /// Rows verified so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The stored hash of the last verified row.
    pub fn last_hash(&self) -> Option<&str> {
        self.prev_hash.as_deref()
    }

    /// Checks the next row; on success it becomes the previous row.
    pub fn check(&mut self, ev: &Event) -> Result<(), ChainFault> {
        if let Err(e) = ev.parsed_meta() {
            return Err(ChainFault {
                id: ev.id,
                reason: ChainFaultReason::Unreadable(e.to_string()),
            });
        }
        self.check_link(ev.id, ev.prev_hash.as_deref(), ev.hash.as_deref(), || {
            hash_of(ev)
        })
    }

    /// Checks the next row given its hash computed elsewhere (only asked
    /// for once the link to the previous row holds): lets the hashing of
    /// many rows run in parallel while the links are checked in order.
    pub fn check_link(
        &mut self,
        id: i64,
        prev_hash: Option<&str>,
        stored_hash: Option<&str>,
        computed: impl FnOnce() -> Result<String, CanonicalError>,
    ) -> Result<(), ChainFault> {
        let fault = |reason| ChainFault { id, reason };
        if self.checked == 0 {
            if prev_hash.is_some() {
                return Err(fault(ChainFaultReason::FirstPrevHashNotNull));
            }
        } else if prev_hash != self.prev_hash.as_deref() {
            return Err(fault(ChainFaultReason::PrevHashMismatch));
        }
        let Some(stored_hash) = stored_hash else {
            return Err(fault(ChainFaultReason::HashMissing));
        };
        let recomputed = computed().map_err(|e| fault(ChainFaultReason::Unhashable(e)))?;
        if stored_hash != recomputed {
            return Err(fault(ChainFaultReason::HashMismatch));
        }
        match (&mut self.prev_hash, Some(stored_hash)) {
            (Some(prev), Some(stored)) => {
                prev.clear();
                prev.push_str(stored);
            }
            (prev, stored) => *prev = stored.map(str::to_string),
        }
        self.checked += 1;
        Ok(())
    }
}

/// Verifies a whole sequence of rows; `Ok(count)` when every row verifies.
pub fn verify_chain<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<u64, ChainFault> {
    let mut verifier = ChainVerifier::new();
    for ev in events {
        verifier.check(ev)?;
    }
    Ok(verifier.checked())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hash_is_the_sha256_of_the_canonical_payload() {
        let meta = json!({"z": [1.5, "\u{e9}"], "a": {"y": null, "b": true}});
        let (ts, kind, content) = (
            "2026-01-01T00:00:00.5+00:00",
            "user_message",
            "h\u{e9}llo \"x\"",
        );
        for (id, prev) in [(1, None), (42, Some("ab".repeat(32)))] {
            let payload = canonical_payload(id, ts, kind, content, &meta, prev.as_deref()).unwrap();
            assert_eq!(
                payload,
                format!(
                    r#"{{"content":"h\u00e9llo \"x\"","id":{id},"kind":"user_message","meta":{{"a":{{"b":true,"y":null}},"z":[1.5,"\u00e9"]}},"prev_hash":{},"ts":"2026-01-01T00:00:00.5+00:00"}}"#,
                    prev.as_ref()
                        .map_or("null".to_string(), |h| format!("\"{h}\""))
                )
            );
            let hash = event_hash(id, ts, kind, content, &meta, prev.as_deref()).unwrap();
            assert_eq!(hash, hex::encode(Sha256::digest(payload.as_bytes())));
        }
    }

    #[test]
    fn verifier_reports_first_bad_row() {
        let mut rows = Vec::new();
        let mut prev: Option<String> = None;
        for id in 1..=3 {
            let meta = json!({"k": id});
            let mut ev = Event {
                id,
                ts: "2025-09-29T12:00:00+00:00".into(),
                kind: "user".into(),
                content: format!("hello {id}"),
                meta_text: meta.to_string(),
                prev_hash: prev.clone(),
                hash: None,
                parsed: crate::event::ParsedMeta::given(meta),
            };
            ev.hash = Some(hash_of(&ev).unwrap());
            prev = ev.hash.clone();
            rows.push(ev);
        }
        assert_eq!(verify_chain(&rows), Ok(3));
        rows[1].content.push('!');
        let fault = verify_chain(&rows).unwrap_err();
        assert_eq!(
            (fault.id, fault.reason),
            (2, ChainFaultReason::HashMismatch)
        );
        rows[1].content.pop();
        rows[2].prev_hash = Some("0".repeat(64));
        assert_eq!(
            verify_chain(&rows).unwrap_err().reason,
            ChainFaultReason::PrevHashMismatch
        );
    }
}
