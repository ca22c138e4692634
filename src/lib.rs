//! Protocol types for pmm, generated from `proto/pmm/v1/*.proto`.
//!
//! The `.proto` files are the public contract; their comments (copied into
//! the generated docs) say what every field means. Everything lives in
//! [`v1`], the Rust form of the protobuf package `pmm.v1`:
//!
//! - messages and enums, e.g. [`v1::AppendRequest`], [`v1::Event`];
//! - server traits and wrappers: [`v1::ledger_server::Ledger`] with
//!   [`v1::ledger_server::LedgerServer`], [`v1::mind_server::Mind`] with
//!   [`v1::mind_server::MindServer`];
//! - clients: [`v1::ledger_client::LedgerClient`],
//!   [`v1::mind_client::MindClient`];
//! - [`v1::FILE_DESCRIPTOR_SET`], the encoded descriptor set of the package,
//!   for gRPC server reflection.
//!
//! Next to it, shared by the server and the client:
//!
//! - [`py`]: the Python 3.11 semantics SPEC is written in (float `repr`,
//!   `float()`/`int()`, `str()`, `str.lower`, `fromisoformat`, `json.dumps`);
//! - [`ledger_file`]: reading a ledger file (`events.jsonl` or a reference
//!   `pmm.db`) row by row;
//! - [`token`]: bearer tokens, their roles and the digest the server's
//!   tokens file lists;
//! - [`mind`]: the `pmm-mind` header naming a call's mind, and the names
//!   allowed;
//!
//! and [`TRAILER_LAST_ID`] and [`TRAILER_LAST_HASH`]: the trailers a
//! conflict status carries, named once for the server and its clients.

pub mod ledger_file;
pub mod mind;
pub mod py;
pub mod token;

/// The gRPC trailer in which the server reports the ledger's last id with a
/// write that lost a race (`ABORTED`, `FAILED_PRECONDITION`); clients read
/// the current head from it instead of asking again.
pub const TRAILER_LAST_ID: &str = "pmm-last-id";

/// The trailer with the ledger's last hash, next to [`TRAILER_LAST_ID`];
/// absent when the ledger is empty.
pub const TRAILER_LAST_HASH: &str = "pmm-last-hash";

/// The protobuf package `pmm.v1`: messages, enums, client and server stubs.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    missing_docs,
    rustdoc::bare_urls,
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags
)]
pub mod v1 {
    tonic::include_proto!("pmm.v1");

    /// The encoded `google.protobuf.FileDescriptorSet` of every file of
    /// `pmm.v1`, for gRPC server reflection (`tonic-reflection`'s
    /// `register_encoded_file_descriptor_set`).
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("pmm_v1_descriptor");

    /// Fully qualified names of the public services, as reflection lists them.
    pub const SERVICE_NAMES: [&str; 3] = [
        ledger_server::SERVICE_NAME,
        mind_server::SERVICE_NAME,
        minds_server::SERVICE_NAME,
    ];
}

#[cfg(test)]
mod tests {
    use super::v1;
    use prost::Message;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn descriptor_set_holds_both_files_with_comments() {
        let fds = v1::FILE_DESCRIPTOR_SET;
        assert!(contains(fds, b"pmm/v1/ledger.proto"));
        assert!(contains(fds, b"pmm/v1/mind.proto"));
        // Source info is kept, so reflection clients can show the docs.
        assert!(contains(fds, b"Optimistic concurrency"));
        assert_eq!(
            v1::SERVICE_NAMES,
            ["pmm.v1.Ledger", "pmm.v1.Mind", "pmm.v1.Minds"]
        );
    }

    #[test]
    fn expected_last_id_zero_is_distinct_from_unset() {
        let with_zero = v1::AppendRequest {
            expected_last_id: Some(0),
            ..Default::default()
        };
        let decoded = v1::AppendRequest::decode(with_zero.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded.expected_last_id, Some(0));
        let unset = v1::AppendRequest::decode(&[][..]).unwrap();
        assert_eq!(unset.expected_last_id, None);
    }

    #[test]
    fn subscribe_start_is_a_oneof() {
        use v1::subscribe_request::Start;
        let req = v1::SubscribeRequest {
            start: Some(Start::AfterId(7)),
            ..Default::default()
        };
        let decoded = v1::SubscribeRequest::decode(req.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded.start, Some(Start::AfterId(7)));
    }
}
