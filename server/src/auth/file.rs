//! The tokens file: one line per token, `NAME ROLE SHA256-HEX` separated by
//! spaces, `#` starting a comment to the end of the line. Any mistake makes
//! the whole file unusable (a half-read file could drop a token that should
//! be refused or admit one that should not), and says on which line.

use std::path::{Path, PathBuf};

use pmm::token::{check_name, Role};

/// One admitted token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenEntry {
    pub name: String,
    pub role: Role,
    /// SHA-256 of the token text.
    pub digest: [u8; 32],
}

/// Why a tokens file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("cannot read the tokens file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tokens file {path}, line {line}: {reason}")]
    Line {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// Reads and parses the tokens file at `path`.
pub fn load(path: &Path) -> Result<Vec<TokenEntry>, TokenFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text).map_err(|(line, reason)| TokenFileError::Line {
        path: path.to_path_buf(),
        line,
        reason,
    })
}

/// The entries of a tokens file's text, or the first bad line (1-based)
/// and what is wrong with it.
pub fn parse(text: &str) -> Result<Vec<TokenEntry>, (usize, String)> {
    let mut entries: Vec<TokenEntry> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split_once('#').map_or(raw, |(before, _)| before);
        let fields: Vec<&str> = content.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let entry = parse_line(&fields).map_err(|reason| (line, reason))?;
        if entries.iter().any(|e| e.name == entry.name) {
            return Err((line, format!("the name {:?} is used twice", entry.name)));
        }
        if let Some(other) = entries.iter().find(|e| e.digest == entry.digest) {
            return Err((
                line,
                format!("the same digest is listed already as {:?}", other.name),
            ));
        }
        entries.push(entry);
    }
    Ok(entries)
}

fn parse_line(fields: &[&str]) -> Result<TokenEntry, String> {
    let [name, role, digest] = fields else {
        return Err(format!(
            "expected 3 fields `NAME ROLE SHA256-HEX`, found {}",
            fields.len()
        ));
    };
    check_name(name).map_err(str::to_string)?;
    let role: Role = role.parse().map_err(|e| format!("{e}"))?;
    Ok(TokenEntry {
        name: (*name).to_string(),
        role,
        digest: parse_digest(digest)?,
    })
}

/// 64 lower-case hex digits: the digest, never the token itself.
fn parse_digest(text: &str) -> Result<[u8; 32], String> {
    let well_formed =
        text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !well_formed {
        return Err(format!(
            "the third field must be the SHA-256 of the token in 64 lower-case hex digits \
             (`pmm token new` prints the line), not {} characters{}",
            text.len(),
            if text.bytes().any(|b| b.is_ascii_uppercase()) {
                " with upper-case letters"
            } else {
                ""
            }
        ));
    }
    let mut digest = [0u8; 32];
    hex::decode_to_slice(text, &mut digest).map_err(|e| e.to_string())?;
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const D2: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn lines_comments_and_blank_lines() {
        let text = format!("# tokens\n\nci writer {D1}  # the CI\n  ops   admin   {D2}\n");
        let entries = parse(&text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            (entries[0].name.as_str(), entries[0].role),
            ("ci", Role::Writer)
        );
        assert_eq!(hex::encode(entries[0].digest), D1);
        assert_eq!(
            (entries[1].name.as_str(), entries[1].role),
            ("ops", Role::Admin)
        );
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn a_bad_line_is_named_with_its_reason() {
        let cases = [
            (format!("a reader {D1} extra"), "expected 3 fields"),
            (format!("a root {D1}"), "unknown role \"root\""),
            ("a reader secret-token".to_string(), "64 lower-case hex"),
            (
                format!("a reader {}", D1.to_uppercase()),
                "with upper-case letters",
            ),
            (format!("a reader {D1}\na writer {D2}"), "used twice"),
            (format!("a reader {D1}\nb writer {D1}"), "listed already"),
        ];
        for (text, expected) in cases {
            let (line, reason) = parse(&text).unwrap_err();
            assert!(reason.contains(expected), "{text:?}: {reason}");
            assert_eq!(line, text.lines().count(), "{text:?}");
        }
    }

    #[test]
    fn an_unreadable_file_is_named() {
        let err = load(Path::new("/nonexistent/pmm-tokens")).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("cannot read the tokens file /nonexistent/pmm-tokens"));
    }
}
