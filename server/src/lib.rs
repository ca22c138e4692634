//! pmm-server: the PMM rules as incremental folds, and the gRPC service.
pub mod api;
pub mod chain;
pub mod config;
pub mod event;
pub mod ledger;
pub mod rules;
pub mod server;
pub mod source;
pub mod store;
pub mod transport;
