//! pmm-server: the PMM rules as incremental folds, and the gRPC service.
pub mod chain;
pub mod event;
pub mod pyfmt;
pub mod rules;
pub mod source;
