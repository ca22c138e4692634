//! The context block a language model reads before each reply (SPEC §5).
//!
//! [`ContextFolds`] holds everything the block shows (projection, metrics,
//! stage, the newest reflections); [`render`] formats it. [`TailWindow`]
//! keeps the last N rows and replays them into fresh folds on demand, since
//! a block "as if the last N rows were the whole ledger" cannot be updated
//! incrementally: its cost is bounded by N, not by the ledger.

use std::sync::{Arc, LazyLock};

use imbl::Vector;
use pmm::py;
use pmm::py::PY_WS_CLASS;
use regex::Regex;
use serde_json::Value;

use super::metrics::Metrics;
use super::projection::Projection;
use super::stage::{StageFold, TelemetryError};
use super::Fold;
use crate::event::Event;

/// The first line of the standard layout.
const HEADER: &str = "[SYSTEM STATE — from ledger]";
/// The fixed guidance line of the standard layout.
pub const GUIDANCE: &str = "You may suggest personality adjustments when context supports it \
(e.g., 'I should increase openness by 0.02'). Suggestions should be precise and justified.";
/// How many of the newest reflections are remembered: the most a block can show.
pub const MAX_REFLECTIONS: usize = 100;
const COMMITMENT_TEXT_LIMIT: usize = 80;
const REFLECTION_TEXT_LIMIT: usize = 120;
const BUDGET_MIN_REMAINING: usize = 20;

static MARKDOWN_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[`*_#>]+").expect("static regex"));
static LIST_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    let ws = PY_WS_CLASS;
    Regex::new(&format!(
        r"^{ws}*(?:[-*•]+|\(?[A-Za-z]\)|\(?\d+\)|\d+\.){ws}*"
    ))
    .expect("static regex")
});

/// Parameters of a block; the defaults are the reference's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContextParams {
    pub n_reflections: usize,
    pub max_commitment_chars: usize,
    pub max_reflection_chars: usize,
    pub compact: bool,
}

impl ContextParams {
    /// The reference's defaults: the standard block.
    pub const STANDARD: ContextParams = ContextParams {
        n_reflections: 3,
        max_commitment_chars: 400,
        max_reflection_chars: 600,
        compact: false,
    };
}

impl Default for ContextParams {
    fn default() -> Self {
        Self::STANDARD
    }
}

/// Why a block cannot be rendered: the stage it shows cannot be computed.
/// (Parameters are checked where requests are validated: a block shows at
/// most [`MAX_REFLECTIONS`] reflections and a tail of at most the window.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error(transparent)]
    Telemetry(#[from] TelemetryError),
}

/// A reflection as the block shows it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct ReflectionLine {
    ts: String,
    text: String,
}

/// The newest reflections, already shortened.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Reflections {
    newest: Vector<ReflectionLine>,
}

impl Fold for Reflections {
    fn apply(&mut self, ev: &Event) {
        if ev.kind != "reflection" {
            return;
        }
        self.newest.push_back(ReflectionLine {
            ts: ev.ts.clone(),
            text: reflection_line(&ev.content),
        });
        if self.newest.len() > MAX_REFLECTIONS {
            self.newest.pop_front();
        }
    }
}

/// Everything a context block shows, folded from one sequence of events.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ContextFolds {
    pub projection: Projection,
    pub metrics: Metrics,
    pub stage: StageFold,
    pub reflections: Reflections,
}

impl Fold for ContextFolds {
    fn apply(&mut self, ev: &Event) {
        self.projection.apply(ev);
        self.metrics.apply(ev);
        self.stage.apply(ev);
        self.reflections.apply(ev);
    }
}

impl ContextFolds {
    /// Renders the block from these folds.
    pub fn render(&self, params: &ContextParams) -> Result<ContextBlock, ContextError> {
        render(self, params)
    }
}

/// How many of the last rows a [`TailWindow`] keeps: at most `rows` rows
/// and `bytes` bytes of their texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TailLimits {
    pub rows: usize,
    pub bytes: usize,
}

impl TailLimits {
    /// `rows` rows, whatever their size.
    pub fn rows(rows: usize) -> Self {
        TailLimits {
            rows,
            bytes: usize::MAX,
        }
    }
}

/// The last rows, for blocks built from a tail window. Bounded by rows and
/// by bytes, so that large events cannot make it hold much memory; a tail
/// longer than the rows held is folded with the older rows read from
/// storage by the caller ([`TailWindow::fold_last_after`]).
///
/// A window may be *cold*: it holds no rows and keeps none, and every tail
/// is read from storage, until it is filled with the last rows
/// ([`TailWindow::fill`]). A server opens every mind's window cold, so
/// that a mind never asked for a tail block holds none of its rows; a fold
/// snapshot saves the limits only, and comes back cold.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TailWindow {
    limits: TailLimits,
    #[serde(skip)]
    rows: Vector<Arc<Event>>,
    #[serde(skip)]
    bytes: usize,
    /// Whether a row ever left the window (otherwise it holds every row).
    #[serde(skip)]
    evicted: bool,
    #[serde(skip, default = "cold")]
    cold: bool,
}

/// What a window read back from a fold snapshot is.
fn cold() -> bool {
    true
}

impl TailWindow {
    /// An empty window, keeping every row pushed (within its limits).
    pub fn new(limits: TailLimits) -> Self {
        TailWindow {
            limits,
            rows: Vector::new(),
            bytes: 0,
            evicted: false,
            cold: false,
        }
    }

    /// A window that keeps no rows until [`TailWindow::fill`]ed.
    pub fn new_cold(limits: TailLimits) -> Self {
        TailWindow {
            cold: true,
            ..TailWindow::new(limits)
        }
    }

    pub fn limits(&self) -> TailLimits {
        self.limits
    }

    /// Whether it keeps no rows (see [`TailWindow::new_cold`]).
    pub fn is_cold(&self) -> bool {
        self.cold
    }

    /// Warms a cold window with the last rows of the ledger, oldest first
    /// (as many as its limits keep); `all` says whether they are every row
    /// there is.
    pub fn fill(&mut self, rows: impl IntoIterator<Item = Arc<Event>>, all: bool) {
        *self = TailWindow::new(self.limits);
        for ev in rows {
            self.push(ev);
        }
        self.evicted |= !all;
    }

    /// Makes it cold again, dropping its rows.
    pub fn make_cold(&mut self) {
        *self = TailWindow::new_cold(self.limits);
    }

    pub fn push(&mut self, ev: Arc<Event>) {
        if self.cold {
            return;
        }
        self.bytes += ev.text_bytes();
        self.rows.push_back(ev);
        while self.rows.len() > self.limits.rows || self.bytes > self.limits.bytes {
            let Some(old) = self.rows.pop_front() else {
                break;
            };
            self.bytes -= old.text_bytes();
            self.evicted = true;
        }
    }

    /// Bytes of the rows it holds.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether the last `n` rows are all held (or every row there is).
    pub fn holds(&self, n: usize) -> bool {
        !self.cold && (n <= self.rows.len() || !self.evicted)
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The id of the oldest row held.
    pub fn first_id(&self) -> Option<i64> {
        self.rows.front().map(|r| r.id)
    }

    /// Folds the last `n` rows held into fresh state, as if they were the
    /// whole ledger. Costs O(n).
    pub fn fold_last(&self, n: usize) -> ContextFolds {
        self.fold_last_after(n, ContextFolds::default())
    }

    /// Continues `folds` (the older rows of a tail, folded by the caller)
    /// with the last `n` rows held.
    pub fn fold_last_after(&self, n: usize, mut folds: ContextFolds) -> ContextFolds {
        for ev in self.rows.iter().skip(self.rows.len().saturating_sub(n)) {
            folds.apply(ev);
        }
        folds
    }
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

fn take_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// If longer than `limit` code points: the first limit−1, back to the last
/// space if any, trimmed, plus `…`.
fn cut(text: String, limit: usize) -> String {
    if char_len(&text) <= limit {
        return text;
    }
    let mut head = take_chars(&text, limit - 1);
    if let Some(space) = head.rfind(' ') {
        head = &head[..space];
    }
    format!("{}…", py::strip(head))
}

/// Keeps text up to the first sentence break: whitespace after `.`, `!`
/// or `?` (after collapsing, every whitespace run is one space).
fn first_sentence(text: &str) -> &str {
    let mut prev = None;
    for (i, c) in text.char_indices() {
        if py::is_space(c) && matches!(prev, Some('.' | '!' | '?')) {
            return &text[..i];
        }
        prev = Some(c);
    }
    text
}

/// A commitment text as the block lists it.
pub fn commitment_line(text: &str) -> String {
    let s = MARKDOWN_RUN.replace_all(text, " ");
    let s = LIST_MARKER.replace(&s, "");
    let s = py::collapse_ws(&s);
    cut(first_sentence(&s).to_string(), COMMITMENT_TEXT_LIMIT)
}

/// A reflection text as the block lists it.
pub fn reflection_line(content: &str) -> String {
    cut(py::collapse_ws(content), REFLECTION_TEXT_LIMIT)
}

/// An item that would overflow the budget is cut to fit (when more than 20
/// characters remain) with `...`, and the walk stops there.
fn apply_budget(items: Vec<String>, budget: usize) -> Vec<String> {
    let mut kept = Vec::with_capacity(items.len());
    let mut total = 0usize;
    for item in items {
        let len = char_len(&item);
        if total + len > budget {
            let remaining = budget - total;
            if remaining > BUDGET_MIN_REMAINING {
                kept.push(format!("{}...", take_chars(&item, remaining - 3)));
            }
            break;
        }
        total += len;
        kept.push(item);
    }
    kept
}

/// Renders a context block from folded state.
pub fn render(folds: &ContextFolds, params: &ContextParams) -> Result<ContextBlock, ContextError> {
    let p = &folds.projection;
    let name = match p.name() {
        Some(name) if super::value::truthy(name) => py::py_str(name),
        _ => "Unknown".to_string(),
    };
    let t = p.traits().map(py::format_2f);
    let traits = format!("O={}, C={}, E={}, A={}, N={}", t[0], t[1], t[2], t[3], t[4]);
    let scores = folds.metrics.scores();
    let (ias, gas) = (py::format_2f(scores.ias), py::format_2f(scores.gas));
    let stage = folds.stage.stage()?.name;

    // The first 5 (3) open cids by code point; an empty text uses its slot.
    let slots = if params.compact { 3 } else { 5 };
    let commitments: Vec<String> = p
        .open_by_text()
        .take(slots)
        .map(|c| {
            let text = c.entry.get("text").unwrap_or(&Value::Null);
            commitment_line(&py::py_str(text))
        })
        .filter(|line| !line.is_empty())
        .collect();
    let commitments = apply_budget(commitments, params.max_commitment_chars);

    // Newest first for the budget, then shown oldest first. Compact shows up
    // to 2 whatever n_reflections is, and none when it is 0.
    let limit = match (params.compact, params.n_reflections) {
        (_, 0) => 0,
        (true, _) => 2,
        (false, n) => n,
    };
    let newest: Vec<&ReflectionLine> = folds.reflections.newest.iter().rev().take(limit).collect();
    let texts = apply_budget(
        newest.iter().map(|r| r.text.clone()).collect(),
        params.max_reflection_chars,
    );
    let reflections: Vec<String> = newest
        .iter()
        .zip(texts)
        .rev()
        .map(|(r, text)| {
            if params.compact {
                format!("  - \"{text}\"")
            } else {
                let when = py::iso_wall_clock(&r.ts).unwrap_or_else(|| r.ts.clone());
                format!("  - {when}: \"{text}\"")
            }
        })
        .collect();

    let mut block = BlockBuilder::default();
    if params.compact {
        block.section(Section::Identity, [format!("[STATE] {name} | {traits}")]);
        block.section(Section::Metrics, [format!("IAS={ias} GAS={gas} {stage}")]);
        if !commitments.is_empty() {
            let items = commitments.iter().map(|c| format!("  - {c}"));
            block.section(
                Section::Commitments,
                std::iter::once("Commitments:".to_string()).chain(items),
            );
        }
        if !reflections.is_empty() {
            block.section(
                Section::Reflections,
                std::iter::once("Reflections:".to_string()).chain(reflections),
            );
        }
    } else {
        block.section(Section::Header, [HEADER]);
        block.section(Section::Identity, [format!("Identity: {name}")]);
        block.section(Section::Traits, [format!("Traits: {traits}")]);
        block.section(Section::Guidance, [GUIDANCE]);
        block.section(
            Section::Metrics,
            [format!("IAS={ias}, GAS={gas}, Stage={stage}")],
        );
        if !commitments.is_empty() {
            let items = commitments.iter().map(|c| format!("  - {c}"));
            block.section(
                Section::Commitments,
                std::iter::once("Open commitments:".to_string()).chain(items),
            );
        }
        if !reflections.is_empty() {
            block.section(
                Section::Reflections,
                std::iter::once("Recent reflections:".to_string()).chain(reflections),
            );
        }
        block.section(Section::Footer, ["---"]);
    }
    Ok(block.finish())
}

/// A section of a context block: a run of whole lines with one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    Header,
    Identity,
    Traits,
    Guidance,
    Metrics,
    Commitments,
    Reflections,
    Footer,
}

impl Section {
    pub fn name(self) -> &'static str {
        match self {
            Section::Header => "header",
            Section::Identity => "identity",
            Section::Traits => "traits",
            Section::Guidance => "guidance",
            Section::Metrics => "metrics",
            Section::Commitments => "commitments",
            Section::Reflections => "reflections",
            Section::Footer => "footer",
        }
    }
}

/// A rendered block: its text, and where each section of it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextBlock {
    pub text: String,
    /// Each section with the byte offset just past it (its ending newline
    /// included), in order; the last one ends at `text.len()`.
    ends: Vec<(Section, usize)>,
}

impl ContextBlock {
    /// The sections with their text, in order. Concatenated, they are the
    /// text, byte for byte: each holds the newline that ends it.
    pub fn sections(&self) -> impl Iterator<Item = (Section, &str)> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&(section, end)| {
            let text = &self.text[start..end];
            start = end;
            (section, text)
        })
    }

    pub fn into_text(self) -> String {
        self.text
    }
}

/// Builds a block a section at a time: lines joined by `\n`, no trailing
/// newline; the `\n` between two sections belongs to the first.
#[derive(Default)]
struct BlockBuilder {
    text: String,
    ends: Vec<(Section, usize)>,
}

impl BlockBuilder {
    fn section<L: AsRef<str>>(&mut self, section: Section, lines: impl IntoIterator<Item = L>) {
        if let Some(last) = self.ends.last_mut() {
            self.text.push('\n');
            last.1 = self.text.len();
        }
        for (i, line) in lines.into_iter().enumerate() {
            if i > 0 {
                self.text.push('\n');
            }
            self.text.push_str(line.as_ref());
        }
        self.ends.push((section, self.text.len()));
    }

    fn finish(self) -> ContextBlock {
        ContextBlock {
            text: self.text,
            ends: self.ends,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(ids: std::ops::RangeInclusive<i64>) -> Vec<Arc<Event>> {
        ids.map(|id| Arc::new(crate::rules::test_support::ev(id, "user", "hi", "{}")))
            .collect()
    }

    /// A cold window keeps nothing and holds no tail; filled, it holds
    /// what a window fed every row holds; saved, it comes back cold.
    #[test]
    fn a_cold_window_holds_nothing_until_filled() {
        let limits = TailLimits::rows(3);
        let mut cold = TailWindow::new_cold(limits);
        for ev in rows(1..=5) {
            cold.push(ev);
        }
        assert!(cold.is_cold() && cold.is_empty() && !cold.holds(1));

        let mut fed = TailWindow::new(limits);
        for ev in rows(1..=5) {
            fed.push(ev);
        }
        cold.fill(rows(3..=5), false);
        assert!(!cold.is_cold());
        assert_eq!((cold.len(), cold.first_id()), (fed.len(), fed.first_id()));
        assert_eq!((cold.holds(3), cold.holds(4)), (fed.holds(3), fed.holds(4)));
        cold.push(rows(6..=6).remove(0));
        assert_eq!((cold.len(), cold.first_id()), (3, Some(4)));

        // Every row there is: longer tails are held too.
        let mut small = TailWindow::new_cold(limits);
        small.fill(rows(1..=2), true);
        assert!(small.holds(3));

        let bytes = postcard::to_stdvec(&cold).expect("writes");
        let back: TailWindow = postcard::from_bytes(&bytes).expect("reads");
        assert!(back.is_cold() && back.is_empty());
        assert_eq!(back.limits(), limits);
    }

    #[test]
    fn commitment_lines_drop_markup_markers_and_later_sentences() {
        assert_eq!(
            commitment_line("- Write tests for the **hash chain**"),
            "Write tests for the hash chain"
        );
        assert_eq!(commitment_line("  (b)  Ship it. Then rest!"), "Ship it.");
        assert_eq!(commitment_line("12. Count"), "Count");
        assert_eq!(commitment_line("ab) keeps"), "ab) keeps");
        assert_eq!(commitment_line("## "), "");
    }

    #[test]
    fn long_texts_are_cut_at_a_space_with_an_ellipsis() {
        let text = "word ".repeat(30);
        let line = commitment_line(&text);
        assert!(line.ends_with("word…"), "{line}");
        assert!(char_len(&line) <= 80);
    }

    #[test]
    fn budget_cuts_the_overflowing_item_then_stops() {
        let items = vec!["a".repeat(50), "b".repeat(50), "c".repeat(5)];
        assert_eq!(
            apply_budget(items.clone(), 80),
            vec!["a".repeat(50), format!("{}...", "b".repeat(27))]
        );
        assert_eq!(apply_budget(items, 65), vec!["a".repeat(50)]);
    }
}
