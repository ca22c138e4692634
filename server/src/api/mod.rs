//! The wire layer: the tonic services, turning protobuf into validated
//! domain requests ([`validate`]), domain answers into protobuf
//! ([`respond`]), and every error into a status in one place ([`error`]).
//! No PMM rule and no SQL lives here.

pub mod addressing;
pub mod admission;
pub mod error;
pub mod gate;
pub mod ledger;
pub mod mind;
pub mod minds;
pub mod respond;
pub mod undecodable;
pub mod validate;
