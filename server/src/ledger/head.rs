//! The head of a ledger: its last row and how many rows it holds.

use crate::event::Event;

/// The last row of the ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    /// 0 when the ledger is empty.
    pub last_id: i64,
    pub last_hash: Option<String>,
    pub last_ts: Option<String>,
    pub count: u64,
}

impl Head {
    /// Moves the head onto `ev`, the next row.
    pub fn advance(&mut self, ev: &Event) {
        self.advance_to(ev.id, ev.hash.as_deref(), &ev.ts);
    }

    /// Moves the head onto the next row, given its id, hash and ts.
    pub fn advance_to(&mut self, id: i64, hash: Option<&str>, ts: &str) {
        self.last_id = id;
        set_text(&mut self.last_hash, hash);
        set_text(&mut self.last_ts, Some(ts));
        self.count += 1;
    }
}

/// Overwrites an optional text, reusing its allocation.
fn set_text(slot: &mut Option<String>, value: Option<&str>) {
    match (slot.as_mut(), value) {
        (Some(s), Some(v)) => {
            s.clear();
            s.push_str(v);
        }
        (_, v) => *slot = v.map(str::to_string),
    }
}
