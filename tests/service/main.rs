//! The service through a real server on 127.0.0.1:0, one concern per
//! module (one test binary, so that the suite links once).

#[path = "../common/mod.rs"]
mod common;

mod append;
mod bad_input;
mod check_mode;
mod concurrency;
mod context_breakdown;
mod damaged_rows;
mod durability;
mod fixtures;
mod health;
mod idempotency;
mod ids;
mod large_events;
mod many_minds;
mod metrics_history;
mod minds;
mod projection;
mod read;
mod reference_ledgers;
mod safe_defaults;
mod search;
mod security_tls;
mod security_tokens;
mod startup;
mod stats;
mod subscribe;
mod tail;
mod tamper;
mod transfer;
mod verify;
