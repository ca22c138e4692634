//! pmm-server: the PMM rules as incremental folds, and the gRPC service.
pub mod api;
pub mod chain;
pub mod config;
pub mod engine;
pub mod event;
pub mod hub;
pub mod mind;
/// The old home of the Python semantics, now [`pmm::py`]; the name stays
/// for `api::convert` until it imports `pmm::py` itself.
pub use pmm::py as pyfmt;
pub mod rules;
pub mod server;
pub mod source;
pub mod store;
