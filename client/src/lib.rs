//! pmm-client
