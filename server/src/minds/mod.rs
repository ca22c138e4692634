//! The minds of one server: where they live on disk ([`layout`]), which
//! are open ([`registry`]), and consistent copies of them ([`backup`]).
//! Above [`crate::ledger`] (each open mind is one `Ledger`), below the wire.

pub mod backup;
pub mod layout;
pub mod registry;
