//! The size of a context block section by section — bytes, code points and
//! tokens of a real tokenizer — and the block as cached with its
//! breakdowns. Counting is presentation, so it lives here and not in the
//! rules; nothing is counted unless a caller asks.

use std::sync::{Arc, OnceLock};

use tiktoken_rs::CoreBPE;

use crate::rules::{ContextBlock, Section};

/// A tokenizer: one of tiktoken's byte-pair encodings, embedded in the
/// binary and loaded on first use (once per process).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// GPT-4o, GPT-4.1, GPT-5, the o-series: the default.
    #[default]
    O200kBase,
    /// GPT-4, GPT-3.5-turbo.
    Cl100kBase,
}

const ENCODINGS: usize = 2;

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }

    fn index(self) -> usize {
        match self {
            Encoding::O200kBase => 0,
            Encoding::Cl100kBase => 1,
        }
    }

    /// The loaded tokenizer (the first call parses the embedded BPE file:
    /// tens to hundreds of milliseconds, so call it off the async runtime).
    fn bpe(self) -> Result<&'static CoreBPE, TokenizerError> {
        static LOADED: [OnceLock<Result<CoreBPE, String>>; ENCODINGS] =
            [OnceLock::new(), OnceLock::new()];
        let loaded = LOADED[self.index()].get_or_init(|| {
            let bpe = match self {
                Encoding::O200kBase => tiktoken_rs::o200k_base(),
                Encoding::Cl100kBase => tiktoken_rs::cl100k_base(),
            };
            bpe.map_err(|e| e.to_string())
        });
        loaded.as_ref().map_err(|reason| TokenizerError {
            encoding: self.name(),
            reason: reason.clone(),
        })
    }

    /// Tokens of `text` encoded as ordinary text (special-token names are
    /// plain characters).
    pub fn count(self, text: &str) -> Result<usize, TokenizerError> {
        Ok(self.bpe()?.encode_ordinary(text).len())
    }
}

/// The embedded tokenizer could not be loaded (a broken build).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("tokenizer {encoding} cannot be loaded: {reason}")]
pub struct TokenizerError {
    pub encoding: &'static str,
    pub reason: String,
}

/// The size of some text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size {
    pub bytes: u64,
    pub chars: u64,
    pub tokens: u64,
    pub lines: u32,
}

/// A block's size, section by section; the sections add up to the total.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breakdown {
    pub encoding: Encoding,
    pub sections: Vec<(Section, Size)>,
    pub total: Size,
}

/// Measures a block. The whole text is encoded once and each token counts
/// in the section where its first byte lies, so the sections add up to the
/// text's own token count whatever the tokenizer does at their borders.
pub fn breakdown(block: &ContextBlock, encoding: Encoding) -> Result<Breakdown, TokenizerError> {
    let bpe = encoding.bpe()?;
    let mut sections: Vec<(Section, Size)> = Vec::new();
    let mut ends = Vec::new();
    let mut end = 0;
    for (section, text) in block.sections() {
        end += text.len();
        ends.push(end);
        let newlines = text.bytes().filter(|&b| b == b'\n').count();
        let lines = newlines + usize::from(!text.ends_with('\n'));
        sections.push((
            section,
            Size {
                bytes: text.len() as u64,
                chars: text.chars().count() as u64,
                tokens: 0,
                lines: lines as u32,
            },
        ));
    }
    let tokens = bpe.encode_ordinary(&block.text);
    let (mut at, mut current) = (0usize, 0usize);
    for token in &tokens {
        while current + 1 < ends.len() && at >= ends[current] {
            current += 1;
        }
        if let Some((_, size)) = sections.get_mut(current) {
            size.tokens += 1;
        }
        let len = bpe
            .decode_bytes(std::slice::from_ref(token))
            .map_err(|e| TokenizerError {
                encoding: encoding.name(),
                reason: e.to_string(),
            })?
            .len();
        at += len;
    }
    let total = Size {
        bytes: block.text.len() as u64,
        chars: block.text.chars().count() as u64,
        tokens: tokens.len() as u64,
        lines: sections.iter().map(|(_, s)| s.lines).sum(),
    };
    Ok(Breakdown {
        encoding,
        sections,
        total,
    })
}

/// A context block as cached: the block, and its breakdown per encoding,
/// each counted the first time it is asked for.
#[derive(Debug)]
pub struct CachedContext {
    pub block: ContextBlock,
    breakdowns: [OnceLock<Arc<Breakdown>>; ENCODINGS],
}

impl CachedContext {
    pub fn new(block: ContextBlock) -> Self {
        CachedContext {
            block,
            breakdowns: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// The breakdown, if it was already counted.
    pub fn cached_breakdown(&self, encoding: Encoding) -> Option<Arc<Breakdown>> {
        self.breakdowns[encoding.index()].get().cloned()
    }

    /// The breakdown, counted now if it was not yet. May load the
    /// tokenizer: blocking.
    pub fn breakdown(&self, encoding: Encoding) -> Result<Arc<Breakdown>, TokenizerError> {
        let slot = &self.breakdowns[encoding.index()];
        if let Some(b) = slot.get() {
            return Ok(Arc::clone(b));
        }
        let counted = Arc::new(breakdown(&self.block, encoding)?);
        // Two callers may count at once; both results are equal.
        Ok(Arc::clone(slot.get_or_init(|| counted)))
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::rules::{ContextParams, Fold, State, OUTPUT_BLOCKS};

    fn fixture_cases() -> Vec<PathBuf> {
        let root = match std::env::var_os("PMM_FIXTURES") {
            Some(dir) => PathBuf::from(dir),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
        };
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("fixtures expected at {}: {e}", root.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("events.jsonl").is_file())
            .collect();
        cases.sort();
        assert!(!cases.is_empty(), "no fixture under {}", root.display());
        cases
    }

    /// The four blocks of the fixtures' outputs, with their names.
    fn blocks(state: &State) -> Vec<(&'static str, ContextBlock)> {
        OUTPUT_BLOCKS
            .iter()
            .map(|(name, params, tail)| {
                let block = state
                    .context_block(params, *tail)
                    .expect("renderable block");
                (*name, block)
            })
            .collect()
    }

    /// On every fixture's four blocks: the sections concatenated are the
    /// text the fixture expects, byte for byte; each section's size is its
    /// text's, tokens as the tokenizer counts the section alone; the
    /// sections add up to the totals, and the total tokens are the whole
    /// text's.
    #[test]
    fn sections_make_up_the_fixture_blocks_and_their_sizes_add_up() {
        for case in fixture_cases() {
            let expected: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(case.join("expected.json")).expect("expected.json"),
            )
            .expect("JSON");
            let mut state = State::default();
            crate::source::for_each_event(&case.join("events.jsonl"), |ev| {
                state.apply(&ev);
                Ok::<(), crate::source::SourceError>(())
            })
            .expect("fixture events");
            for (name, block) in blocks(&state) {
                let what = format!("{} {name}", case.display());
                let joined: String = block.sections().map(|(_, t)| t).collect();
                assert_eq!(joined, block.text, "{what}: sections");
                assert_eq!(
                    Some(block.text.as_str()),
                    expected["final"][name].as_str(),
                    "{what}: text"
                );
                for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
                    let b = breakdown(&block, encoding).expect("breakdown");
                    assert_eq!(b.sections.len(), block.sections().count());
                    for ((section, size), (s, text)) in b.sections.iter().zip(block.sections()) {
                        assert_eq!(*section, s);
                        assert_eq!(size.bytes, text.len() as u64, "{what}");
                        assert_eq!(size.chars, text.chars().count() as u64, "{what}");
                        let alone = encoding.count(text).expect("count") as u64;
                        assert_eq!(size.tokens, alone, "{what} {}", s.name());
                    }
                    let sum =
                        |f: fn(&Size) -> u64| -> u64 { b.sections.iter().map(|(_, s)| f(s)).sum() };
                    assert_eq!(sum(|s| s.bytes), b.total.bytes, "{what}");
                    assert_eq!(sum(|s| s.chars), b.total.chars, "{what}");
                    assert_eq!(sum(|s| s.tokens), b.total.tokens, "{what}");
                    assert_eq!(
                        b.total.tokens,
                        encoding.count(&block.text).expect("count") as u64,
                        "{what}"
                    );
                    assert_eq!(b.total.lines as usize, block.text.lines().count(), "{what}");
                }
            }
        }
    }

    #[test]
    fn a_block_is_counted_once_per_encoding() {
        let state = State::default();
        let block = state
            .context_block(&ContextParams::default(), None)
            .expect("block");
        let cached = CachedContext::new(block);
        assert!(cached.cached_breakdown(Encoding::O200kBase).is_none());
        let first = cached.breakdown(Encoding::O200kBase).expect("count");
        let again = cached
            .cached_breakdown(Encoding::O200kBase)
            .expect("cached");
        assert!(Arc::ptr_eq(&first, &again));
        assert!(cached.cached_breakdown(Encoding::Cl100kBase).is_none());
        let names: Vec<&str> = first.sections.iter().map(|(s, _)| s.name()).collect();
        assert_eq!(
            names,
            ["header", "identity", "traits", "guidance", "metrics", "footer"]
        );
    }
}
