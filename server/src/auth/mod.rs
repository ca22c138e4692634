//! Who may call what: bearer tokens with roles (`reader` < `writer` <
//! `admin`), listed by digest in a tokens file ([`file`]), held and
//! reloaded as a whole ([`tokens`]), required per gRPC path by one table
//! ([`rules`]), and checked on every call by one tower layer ([`layer`]).
//! Without a tokens file the layer lets every call through (the local
//! default).

pub mod file;
pub mod layer;
pub mod rules;
pub mod tokens;

pub use self::file::TokenFileError;
pub use self::layer::{AuthLayer, Denied};
pub use self::tokens::{TokenSet, Tokens};
