//! The life of one open ledger, above SQLite and below the wire:
//!
//! - [`handle`]: [`handle::Ledger`], the open ledger and everything a
//!   caller may ask of it;
//! - [`sequencer`]: the single writer (queue, plan, group commit, fold,
//!   publish);
//! - [`replay`]: the start-up rebuild and the verification of the stored
//!   chain;
//! - [`history`]: the metrics as the ledger grew, from one replay;
//! - [`breakdown`]: a context block's size section by section (tokens of
//!   a real tokenizer), cached with the block;
//! - [`snapshot`]: the published, immutable derived state;
//! - [`persist`], [`saver`]: the fold snapshot file (`pmm.db-snapshot`)
//!   that opening starts from, and when it is saved;
//! - [`reverify`]: the periodic background verification of the chain;
//! - [`hub`]: subscriptions (catch-up from SQLite, then live);
//! - [`head`], [`views`], [`search`], [`caches`]: the head, the cached
//!   read-outs, search, and the caches by key.
//!
//! Modules here import one another by their own paths (never through this
//! file), so that no import runs in a circle.

pub mod anchor;
pub mod breakdown;
pub mod caches;
pub mod cancel;
pub mod condition;
pub mod handle;
pub mod head;
pub mod history;
pub mod hub;
pub mod persist;
pub mod replay;
pub mod reverify;
pub mod saver;
pub mod search;
pub mod sequencer;
pub mod snapshot;
pub mod views;
