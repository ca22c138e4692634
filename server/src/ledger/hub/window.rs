//! The live window: the most recent committed rows, shared by every
//! subscriber, bounded by a number of rows and of bytes. A subscriber
//! whose position is older than the window reads from SQLite instead.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::event::Event;
use crate::store::row_bytes;

/// What a subscriber at some position finds in the window.
#[derive(Debug)]
pub enum Found {
    /// The rows after the position (at least one), within a byte budget.
    Rows(Vec<Arc<Event>>),
    /// Rows after the position have left the window: read them from SQLite.
    Gone,
    /// Nothing after the position yet.
    Nothing,
}

/// The recent rows, in id order.
#[derive(Debug)]
pub struct Window {
    inner: Mutex<Inner>,
    max_rows: usize,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct Inner {
    rows: VecDeque<Arc<Event>>,
    bytes: usize,
    /// Every row with an id up to this one has left the window (or was
    /// never in it): committed before the window began, or evicted.
    left_through: i64,
}

impl Window {
    /// A window keeping at most `max_rows` rows and `max_bytes` bytes of
    /// them, starting after the row `last_id` (rows up to it are stored).
    pub fn new(max_rows: usize, max_bytes: usize, last_id: i64) -> Self {
        Window {
            inner: Mutex::new(Inner {
                left_through: last_id,
                ..Inner::default()
            }),
            max_rows: max_rows.max(1),
            max_bytes,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        crate::sync::lock(&self.inner)
    }

    /// Adds committed rows (in id order), evicting the oldest beyond the
    /// bounds. A row larger than the byte bound never stays.
    pub fn push(&self, rows: &[Arc<Event>]) {
        let mut inner = self.lock();
        for row in rows {
            inner.bytes += row_bytes(row);
            inner.rows.push_back(Arc::clone(row));
            while inner.rows.len() > self.max_rows || inner.bytes > self.max_bytes {
                let Some(old) = inner.rows.pop_front() else {
                    break;
                };
                inner.bytes -= row_bytes(&old);
                inner.left_through = old.id;
            }
        }
    }

    /// The rows after `position`, at most `max_bytes` of them (at least
    /// one).
    pub fn after(&self, position: i64, max_bytes: usize) -> Found {
        let inner = self.lock();
        if position < inner.left_through {
            return Found::Gone;
        }
        let first = inner.rows.partition_point(|r| r.id <= position);
        let mut taken = Vec::new();
        let mut bytes = 0;
        for row in inner.rows.range(first..) {
            bytes += row_bytes(row);
            if bytes > max_bytes && !taken.is_empty() {
                break;
            }
            taken.push(Arc::clone(row));
        }
        if taken.is_empty() {
            Found::Nothing
        } else {
            Found::Rows(taken)
        }
    }

    /// Rows and bytes held now.
    pub fn size(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.rows.len(), inner.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ParsedMeta;

    fn row(id: i64, content_bytes: usize) -> Arc<Event> {
        Arc::new(Event {
            id,
            ts: String::new(),
            kind: "k".into(),
            content: "x".repeat(content_bytes),
            meta_text: "{}".into(),
            prev_hash: None,
            hash: None,
            parsed: ParsedMeta::on_first_use(),
        })
    }

    fn ids(found: Found) -> Vec<i64> {
        match found {
            Found::Rows(rows) => rows.iter().map(|r| r.id).collect(),
            Found::Gone => vec![-1],
            Found::Nothing => vec![],
        }
    }

    #[test]
    fn rows_after_a_position_within_a_budget() {
        let window = Window::new(10, 1 << 20, 0);
        window.push(&[row(1, 100), row(2, 100), row(3, 100)]);
        assert_eq!(ids(window.after(0, 1 << 20)), [1, 2, 3]);
        assert_eq!(ids(window.after(1, 1 << 20)), [2, 3]);
        assert_eq!(ids(window.after(3, 1 << 20)), Vec::<i64>::new());
        // At least one row, however small the budget.
        assert_eq!(ids(window.after(0, 1)), [1]);
        assert_eq!(ids(window.after(0, 2 * row_bytes(&row(1, 100)))), [1, 2]);
    }

    #[test]
    fn the_oldest_rows_leave_beyond_the_bounds() {
        let window = Window::new(3, 1 << 20, 0);
        window.push(&[row(1, 10), row(2, 10), row(3, 10), row(4, 10)]);
        assert_eq!(ids(window.after(0, 1 << 20)), [-1], "row 1 left");
        assert_eq!(ids(window.after(1, 1 << 20)), [2, 3, 4]);
        let by_bytes = Window::new(100, 2 * row_bytes(&row(1, 1000)), 0);
        by_bytes.push(&[row(1, 1000), row(2, 1000), row(3, 1000)]);
        assert_eq!(by_bytes.size().0, 2);
        assert_eq!(ids(by_bytes.after(1, 1 << 20)), [2, 3]);
        // A row larger than the whole window never stays.
        by_bytes.push(&[row(4, 1 << 20)]);
        assert_eq!(by_bytes.size(), (0, 0));
        assert_eq!(ids(by_bytes.after(3, 1 << 20)), [-1]);
        assert_eq!(ids(by_bytes.after(4, 1 << 20)), Vec::<i64>::new());
    }

    #[test]
    fn rows_before_the_window_began_are_gone() {
        let window = Window::new(10, 1 << 20, 50);
        assert_eq!(ids(window.after(10, 1 << 20)), [-1]);
        assert_eq!(ids(window.after(50, 1 << 20)), Vec::<i64>::new());
        window.push(&[row(51, 1)]);
        assert_eq!(ids(window.after(50, 1 << 20)), [51]);
    }
}
