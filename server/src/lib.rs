//! pmm-server: the PMM rules as incremental folds, and the gRPC service.
pub mod api;
pub mod auth;
pub mod chain;
pub mod check;
pub mod config;
pub mod event;
pub mod ledger;
pub mod minds;
pub mod rules;
pub mod security;
pub mod server;
pub mod source;
pub mod store;
#[cfg(feature = "test-certs")]
pub mod test_certs;
pub mod tls;
pub mod transport;
