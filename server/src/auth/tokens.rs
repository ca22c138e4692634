//! The tokens in force: read from the tokens file at start, swapped whole
//! on reload (a bad file leaves the current set in force), and looked up by
//! digest: candidates by the digest's first 8 bytes, then the whole digest
//! compared in constant time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};
use pmm::token::Role;
use subtle::ConstantTimeEq;

use super::file::{self, TokenEntry, TokenFileError};

/// A set of admitted tokens.
#[derive(Debug, Default)]
pub struct TokenSet {
    entries: Vec<TokenEntry>,
    /// Indexes into `entries` by the first 8 bytes of the digest.
    by_prefix: HashMap<u64, Vec<usize>>,
}

/// The first 8 bytes of a digest.
fn prefix(digest: &[u8; 32]) -> u64 {
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(head)
}

/// The token a request presented, once found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holder<'a> {
    pub name: &'a str,
    pub role: Role,
}

impl TokenSet {
    pub fn new(entries: Vec<TokenEntry>) -> Self {
        let mut by_prefix: HashMap<u64, Vec<usize>> = HashMap::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            by_prefix.entry(prefix(&entry.digest)).or_default().push(i);
        }
        TokenSet { entries, by_prefix }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry whose digest is the SHA-256 of `token`. The digest is
    /// compared in constant time, so that the time taken tells nothing about
    /// how close a guess came; picking the candidates by the digest's first
    /// bytes tells nothing about a token either (a guess cannot be steered
    /// towards a digest), and keeps the check O(1) however many tokens are
    /// listed.
    pub fn find(&self, token: &str) -> Option<Holder<'_>> {
        let digest = pmm::token::digest(token);
        let candidates = self.by_prefix.get(&prefix(&digest))?;
        candidates
            .iter()
            .filter_map(|&i| self.entries.get(i))
            .find(|entry| bool::from(entry.digest.ct_eq(&digest)))
            .map(|entry| Holder {
                name: &entry.name,
                role: entry.role,
            })
    }
}

/// The tokens file and the set read from it last.
#[derive(Debug)]
pub struct Tokens {
    path: PathBuf,
    current: ArcSwap<TokenSet>,
}

impl Tokens {
    /// Reads the tokens file; an error here stops the start.
    pub fn load(path: &Path) -> Result<Tokens, TokenFileError> {
        let set = TokenSet::new(file::load(path)?);
        Ok(Tokens {
            path: path.to_path_buf(),
            current: ArcSwap::from_pointee(set),
        })
    }

    /// A fixed set (tests, benchmarks).
    pub fn fixed(path: impl Into<PathBuf>, set: TokenSet) -> Tokens {
        Tokens {
            path: path.into(),
            current: ArcSwap::from_pointee(set),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The set in force (a cheap guard, not a clone).
    pub fn current(&self) -> Guard<Arc<TokenSet>> {
        self.current.load()
    }

    /// Reads the file again and puts its set in force, returning how many
    /// tokens it holds; on error the set in force stays.
    pub fn reload(&self) -> Result<usize, TokenFileError> {
        let set = TokenSet::new(file::load(&self.path)?);
        let n = set.len();
        self.current.store(Arc::new(set));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, role: Role, token: &str) -> TokenEntry {
        TokenEntry {
            name: name.to_string(),
            role,
            digest: pmm::token::digest(token),
        }
    }

    #[test]
    fn a_token_is_found_by_its_own_text_only() {
        let set = TokenSet::new(vec![
            entry("a", Role::Reader, "token-a"),
            entry("b", Role::Admin, "token-b"),
        ]);
        assert_eq!(
            set.find("token-b"),
            Some(Holder {
                name: "b",
                role: Role::Admin
            })
        );
        assert_eq!(set.find("token-c"), None);
        // The digest listed is not itself a token.
        assert_eq!(set.find(&pmm::token::digest_hex("token-a")), None);
        assert_eq!(set.find(""), None);
    }

    #[test]
    fn digests_sharing_their_first_bytes_are_told_apart() {
        let mut twin = entry("a", Role::Reader, "token-a");
        twin.digest[31] ^= 1;
        twin.name = "twin".into();
        let set = TokenSet::new(vec![twin, entry("a", Role::Writer, "token-a")]);
        assert_eq!(set.find("token-a").map(|h| h.role), Some(Role::Writer));
    }

    #[test]
    fn a_bad_file_on_reload_keeps_the_set_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        std::fs::write(&path, pmm::token::file_line("a", Role::Reader, "t1")).unwrap();
        let tokens = Tokens::load(&path).unwrap();
        assert!(tokens.current().find("t1").is_some());

        std::fs::write(&path, "a reader not-a-digest\n").unwrap();
        assert!(tokens.reload().is_err());
        assert!(tokens.current().find("t1").is_some(), "old set kept");

        std::fs::write(&path, pmm::token::file_line("b", Role::Writer, "t2")).unwrap();
        assert_eq!(tokens.reload().unwrap(), 1);
        assert!(tokens.current().find("t1").is_none(), "revoked");
        assert!(tokens.current().find("t2").is_some());
    }
}
