//! Bearer tokens, as the server's tokens file lists them and as
//! `pmm token new` mints them: the roles, the one digest (SHA-256 of the
//! token text exactly as sent after `Bearer `, in lower-case hex), what a
//! token's name may be, and the file's line format (`NAME ROLE DIGEST`).
//! The token itself is never stored anywhere, only its digest.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// The metadata key a token travels in.
pub const AUTHORIZATION: &str = "authorization";

/// What precedes the token in [`AUTHORIZATION`].
pub const BEARER_PREFIX: &str = "Bearer ";

/// What a token may do. Each role may do everything the ones before it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Every read: views, Read, Subscribe, Export, VerifyChain, Stats.
    Reader,
    /// Also Append.
    Writer,
    /// Also Import, and any administrative call.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Reader, Role::Writer, Role::Admin];

    /// The name used in the tokens file and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A role name that is none of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?} (expected reader, writer or admin)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// Random bytes per token: 256 bits.
const TOKEN_BYTES: usize = 32;

/// What every token starts with, so that a leaked one is recognisable
/// (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "pmm_";

/// A fresh token: `pmm_` and 64 hex digits from the operating system's
/// random source.
pub fn generate() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// The SHA-256 of a token's text.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The digest as the tokens file lists it: lower-case hex.
pub fn digest_hex(token: &str) -> String {
    hex::encode(digest(token))
}

/// Why a token name cannot go in the tokens file.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("a token name cannot be empty")
    } else if name.len() > 128 {
        Err("a token name has at most 128 bytes")
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("a token name cannot contain spaces or control characters")
    } else if name.contains('#') {
        Err("a token name cannot contain '#' (it starts a comment)")
    } else {
        Ok(())
    }
}

/// The tokens-file line admitting `token` as `name` with `role`.
pub fn file_line(name: &str, role: Role, token: &str) -> String {
    format!("{name} {role} {}", digest_hex(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_named() {
        assert!(Role::Reader < Role::Writer && Role::Writer < Role::Admin);
        for role in Role::ALL {
            assert_eq!(role.name().parse::<Role>(), Ok(role));
        }
        assert!("Admin".parse::<Role>().is_err());
    }

    #[test]
    fn the_digest_is_sha256_of_the_text_in_lower_case_hex() {
        assert_eq!(
            digest_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            file_line("ci", Role::Writer, "abc"),
            "ci writer ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tokens_are_fresh_and_carry_256_bits() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
    }

    #[test]
    fn names_are_single_words_without_comments() {
        assert!(check_name("ci-bot@host").is_ok());
        for bad in ["", "a b", "a#b", "tab\there", &"x".repeat(129)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
