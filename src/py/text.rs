//! Python `str` methods on whitespace and case: `str.isspace`, `str.strip`,
//! `re`'s `\s` (also as a regex class), collapsing whitespace runs, and
//! `str.lower` with Python 3.11's Unicode 14.0.0 data.

use super::unicode::{is_format, is_printable};

/// The characters Python's `\s` matches in a `str` pattern, as a regex class
/// (the same set as [`is_space`]).
pub const PY_WS_CLASS: &str = r"[\t\n\x0B\x0C\r\x1C-\x1F \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]";

/// Python `str.isspace()` for one char, which is also what `re`'s `\s` matches in a str pattern
/// (`Py_UNICODE_ISSPACE`: bidi classes WS/B/S and category Zs).
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{d}'
            | '\u{1c}'..='\u{20}'
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// Python `str.strip()` with no argument (strips [`is_space`] characters at both ends).
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python `re.sub(r"\s+", " ", s).strip()`: trim, and collapse every whitespace run to one space.
pub fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(is_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Python 3.11 `str.lower()`: full Unicode lower-casing (SpecialCasing) with the final-sigma rule.
///
/// Each character is lower-cased with Rust's `char::to_lowercase` (same algorithm, newer Unicode
/// data than Python 3.11's 14.0.0); characters Python 3.11 does not know (unassigned in 14.0.0)
/// are kept as they are, and U+03A3 follows CPython's `handle_capital_sigma` with Unicode 14.0.0
/// cased/case-ignorable properties.
pub fn lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if c == '\u{3a3}' {
            out.push(if is_final_sigma(s, i) {
                '\u{3c2}'
            } else {
                '\u{3c3}'
            });
        } else if is_case_inert(c) {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// CPython `handle_capital_sigma`: the Σ at byte `i` is final when a cased letter precedes it
/// and none follows it, skipping case-ignorable characters both ways.
fn is_final_sigma(s: &str, i: usize) -> bool {
    let before = s[..i].chars().rev().find(|c| !is_case_ignorable(*c));
    if !before.is_some_and(is_cased) {
        return false;
    }
    let after = s[i + '\u{3a3}'.len_utf8()..]
        .chars()
        .find(|c| !is_case_ignorable(*c));
    !after.is_some_and(is_cased)
}

/// Non-ASCII characters that are neither printable nor format characters (Cf) for Python 3.11:
/// controls, separators, private use and everything unassigned in Unicode 14.0.0. They are
/// neither cased nor case-ignorable and lower-case to themselves there.
fn is_case_inert(c: char) -> bool {
    !c.is_ascii() && !is_printable(c) && !is_format(c)
}

/// Unicode 14.0.0 `Cased`, for a character that is not case-ignorable (the only case the
/// final-sigma scan asks about). Rust's own tables are probed through `str::to_lowercase`: in
/// "AΣc" the Σ stays σ exactly when c is cased and not case-ignorable.
fn is_cased(c: char) -> bool {
    match c {
        // Properties that differ between Unicode 14.0.0 and Rust's newer tables:
        // U+0295 ʕ is Ll (cased), U+1171E AHOM CONSONANT SIGN MEDIAL RA is Mn (case-ignorable).
        '\u{295}' => true,
        '\u{1171e}' => false,
        _ if is_case_inert(c) => false,
        _ => {
            ['A', '\u{3a3}', c]
                .iter()
                .collect::<String>()
                .to_lowercase()
                .chars()
                .nth(1)
                == Some('\u{3c3}')
        }
    }
}

/// Unicode 14.0.0 `Case_Ignorable`, probed like [`is_cased`]: in "AcΣ" the Σ becomes ς when c is
/// case-ignorable (skipped, so the cased A precedes Σ) or cased.
fn is_case_ignorable(c: char) -> bool {
    match c {
        '\u{295}' => false,
        '\u{1171e}' => true,
        _ if is_case_inert(c) => false,
        _ => {
            !is_cased(c)
                && ['A', c, '\u{3a3}']
                    .iter()
                    .collect::<String>()
                    .to_lowercase()
                    .ends_with('\u{3c2}')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_case() {
        for c in [
            '\t', '\n', '\u{b}', '\u{c}', '\r', '\u{1c}', '\u{1f}', ' ', '\u{85}', '\u{a0}',
        ] {
            assert!(is_space(c), "{c:?}");
        }
        for c in [
            '\u{1680}', '\u{2000}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}',
        ] {
            assert!(is_space(c), "{c:?}");
        }
        for c in [
            '\u{0}', 'a', '\u{8}', '\u{7f}', '\u{180e}', '\u{200b}', '\u{feff}', '\u{3001}',
        ] {
            assert!(!is_space(c), "{c:?}");
        }
        assert!(is_space('\u{3000}'));
        assert_eq!(strip("\u{a0}\u{3000} a b\u{1c}\n"), "a b");
        assert_eq!(strip(" \u{200b}x "), "\u{200b}x");
        assert_eq!(strip(""), "");
        assert_eq!(collapse_ws("  a \t\n b\u{2003}\u{2003}c  "), "a b c");
        assert_eq!(collapse_ws(" \u{85} "), "");
        assert_eq!(collapse_ws("x"), "x");
        assert_eq!(lower("HeLLo ÀÉ"), "hello àé");
        assert_eq!(lower("\u{130}"), "i\u{307}");
        assert_eq!(lower("ΟΔΟΣ"), "οδος");
        assert_eq!(lower("ΟΔΟΣ ΣΑ Σ"), "οδος σα σ");
        assert_eq!(
            lower("A\u{ad}Σ"),
            "a\u{ad}ς",
            "a format char is case-ignorable"
        );
        // Unicode 16 capitals Python 3.11 does not know are kept as they are.
        assert_eq!(
            lower("\u{a7cb}\u{10d50}\u{16ea0}Z"),
            "\u{a7cb}\u{10d50}\u{16ea0}z"
        );
        assert_eq!(
            lower("A\u{378}Σ"),
            "a\u{378}σ",
            "an unassigned char ends the word"
        );
        assert_eq!(
            lower("\u{295}Σ"),
            "\u{295}ς",
            "ʕ is cased in Unicode 14.0.0"
        );
        assert_eq!(
            lower("A\u{1171e}Σ"),
            "a\u{1171e}ς",
            "U+1171E is case-ignorable in 14.0.0"
        );
        assert_eq!(lower("AΣ\u{300}"), "aς\u{300}");
        assert_eq!(lower("AΣ\u{300}B"), "aσ\u{300}b");
        assert_eq!(lower("ΣΑ"), "σα");
    }

    #[test]
    fn the_regex_class_is_is_space() {
        let class = regex::Regex::new(&format!("^{PY_WS_CLASS}$")).unwrap();
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(
                class.is_match(c.encode_utf8(&mut [0; 4])),
                is_space(c),
                "{c:?}"
            );
        }
    }
}
