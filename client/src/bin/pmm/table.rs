//! Plain-text tables and one-line renderings of events (pure functions).

use pmm_client::Event;

/// Default width of the content column.
pub const CONTENT_CHARS: usize = 72;

/// `s` on one line: newlines shown as `⏎`, tabs and other control
/// characters as spaces; cut to `max` characters with `…` when longer.
pub fn one_line(s: &str, max: Option<usize>) -> String {
    let mut out = String::with_capacity(s.len().min(max.unwrap_or(usize::MAX)));
    let mut count = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if max.is_some_and(|m| count + 1 > m) {
            // Make room for the `…` within the budget.
            out.pop();
            out.push('…');
            return out;
        }
        match c {
            '\r' if chars.peek() == Some(&'\n') => continue,
            '\n' | '\r' => out.push('⏎'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
        count += 1;
    }
    out
}

/// A table: a header row, then rows, columns separated by two spaces, the
/// last column unpadded.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns named `header`; `right[i]` right-aligns column i.
    pub fn new(header: &[&str], right: &[bool]) -> Self {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            right: right.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as lines, each ending with `\n`.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths = vec![0usize; columns];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate().take(columns) {
                if i > 0 {
                    line.push_str("  ");
                }
                let last = i + 1 == columns;
                let pad = widths[i].saturating_sub(cell.chars().count());
                if self.right.get(i).copied().unwrap_or(false) {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if !last {
                        line.push_str(&" ".repeat(pad));
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// The table of events: ID, TS, KIND, CONTENT (the meta, when the content
/// is empty).
pub fn events_table(events: &[Event], content_max: Option<usize>) -> Table {
    let mut table = Table::new(
        &["ID", "TS", "KIND", "CONTENT"],
        &[true, false, false, false],
    );
    for ev in events {
        table.push(vec![
            ev.id.to_string(),
            ev.ts.clone(),
            ev.kind.clone(),
            event_text(ev, content_max),
        ]);
    }
    table
}

/// One event on one line with fixed widths (for streams, where later rows
/// are not known): `#ID  TS  KIND  CONTENT`.
pub fn event_line(ev: &Event, content_max: Option<usize>, kind_width: usize) -> String {
    let line = format!(
        "#{}  {}  {:<kind_width$}  {}",
        ev.id,
        ev.ts,
        ev.kind,
        event_text(ev, content_max)
    );
    line.trim_end().to_string()
}

/// The content on one line, or `meta {...}` when the content is empty.
fn event_text(ev: &Event, content_max: Option<usize>) -> String {
    if ev.content.is_empty() {
        let meta = ev.meta.to_string();
        if meta == "{}" {
            String::new()
        } else {
            one_line(&format!("meta {meta}"), content_max)
        }
    } else {
        one_line(&ev.content, content_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: u64, kind: &str, content: &str, meta: &str) -> Event {
        Event {
            id,
            ts: "2025-09-29T12:00:00+00:00".into(),
            kind: kind.into(),
            content: content.into(),
            meta: serde_json::from_str(meta).unwrap(),
            prev_hash: None,
            hash: None,
        }
    }

    #[test]
    fn one_line_folds_newlines_and_cuts_with_an_ellipsis() {
        assert_eq!(one_line("a\r\nb\nc\td", None), "a⏎b⏎c d");
        assert_eq!(one_line("héllo wörld", Some(5)), "héll…");
        assert_eq!(one_line("hello", Some(5)), "hello");
        assert_eq!(one_line("", Some(3)), "");
    }

    #[test]
    fn table_aligns_columns_and_leaves_the_last_unpadded() {
        let events = [
            ev(9, "user", "hi", "{}"),
            ev(10, "llm_latency", "", r#"{"ms": 1.50}"#),
            ev(11, "reflection", "line one\nline two", "{}"),
        ];
        let got = events_table(&events, Some(12)).render();
        let want = "\
ID  TS                         KIND         CONTENT
 9  2025-09-29T12:00:00+00:00  user         hi
10  2025-09-29T12:00:00+00:00  llm_latency  meta {\"ms\":…
11  2025-09-29T12:00:00+00:00  reflection   line one⏎li…
";
        assert_eq!(got, want);
    }

    #[test]
    fn an_event_line_has_fixed_kind_width() {
        let line = event_line(&ev(42, "user", "hello", "{}"), None, 10);
        assert_eq!(line, "#42  2025-09-29T12:00:00+00:00  user        hello");
        let empty = event_line(&ev(43, "autonomy_tick", "", "{}"), None, 4);
        assert_eq!(empty, "#43  2025-09-29T12:00:00+00:00  autonomy_tick");
    }

    #[test]
    fn right_aligned_columns_pad_on_the_left() {
        let mut t = Table::new(&["N", "NAME"], &[true, false]);
        t.push(vec!["1".into(), "a".into()]);
        t.push(vec!["100".into(), "b".into()]);
        assert_eq!(t.render(), "  N  NAME\n  1  a\n100  b\n");
        assert!(!t.is_empty());
    }
}
