//! The fold snapshot against a full rebuild: a ledger is stored in a
//! fresh SQLite file, folded up to a cut, saved and read back through the
//! snapshot file format, the rows after the cut folded on top, and the
//! result compared with a rebuild of every row. A snapshot holds no tail
//! rows (its window comes back cold): the window is filled from the store
//! as a server fills it when a tail block is first asked for.

use pmm_server::event::Event;
use pmm_server::ledger::cancel::Cancel;
use pmm_server::ledger::persist;
use pmm_server::ledger::replay;
use pmm_server::ledger::snapshot::Snapshot;
use pmm_server::rules::{TailLimits, CONTEXT_TAIL_ROWS};
use pmm_server::store::schema::Durability;
use pmm_server::store::{write, Store};

use super::first_difference;

const TAIL: TailLimits = TailLimits {
    rows: CONTEXT_TAIL_ROWS,
    bytes: usize::MAX,
};

fn rebuild(store: &Store, up_to: i64, start: Option<Snapshot>) -> Snapshot {
    let folded = match start {
        Some(s) => replay::rebuild_after(store, s, up_to, None, &Cancel::never()),
        None => replay::rebuild(store, TAIL, up_to, None, &Cancel::never()),
    }
    .expect("replay");
    Snapshot {
        head: folded.head,
        state: folded.state,
    }
}

/// Every way the state resumed from a snapshot at each of `cuts` differs
/// from a full rebuild of `events` (cuts where the chain is already broken
/// are skipped: no snapshot is saved of those). Returns the differences
/// and how many cuts were compared.
pub fn snapshot_replay_differences(
    events: &[Event],
    cuts: &[i64],
    label: &str,
) -> (Vec<String>, usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("pmm.db");
    let mut conn = write::open_connection(&db, Durability::Normal).expect("open");
    let tx = conn.transaction().expect("tx");
    for ev in events {
        write::insert_event(&tx, &ev.into()).expect("insert");
    }
    tx.commit().expect("commit");
    let store = Store::open_pool(&db, 2).expect("pool");
    let full = rebuild(&store, i64::MAX, None);
    let full_out = full.state.outputs().expect("outputs");
    let mut failures = Vec::new();
    let mut compared = 0;
    for &cut in cuts {
        let at = rebuild(&store, cut, None);
        if !at.state.chain.ok() {
            continue;
        }
        let bytes = persist::encode(&at).expect("encode");
        let saved = persist::decode(&bytes).expect("decode");
        let mut resumed = rebuild(&store, i64::MAX, Some(saved));
        assert!(
            resumed.state.tail.is_cold(),
            "{label}: a saved window comes back cold"
        );
        replay::fill_tail(&store, &mut resumed.state, resumed.head.last_id).expect("fill the tail");
        let here = format!("{label} snapshot at {cut}");
        if resumed.head != full.head {
            failures.push(format!(
                "{here}: head {:?} != {:?}",
                resumed.head, full.head
            ));
        }
        let out = resumed.state.outputs().expect("outputs");
        // Floats bit for bit, strings byte for byte, `1` != `1.0`.
        failures.extend(first_difference(&full_out, &out, &here));
        if out != full_out {
            failures.push(format!("{here}: outputs differ as JSON"));
        }
        if resumed.state.chain.fault() != full.state.chain.fault()
            || resumed.state.chain.last_hash() != full.state.chain.last_hash()
        {
            failures.push(format!("{here}: chain status differs"));
        }
        let (a, b) = (
            resumed.state.whole.metrics.scores(),
            full.state.whole.metrics.scores(),
        );
        if (a.ias.to_bits(), a.gas.to_bits()) != (b.ias.to_bits(), b.gas.to_bits()) {
            failures.push(format!("{here}: scores {a:?} != {b:?}"));
        }
        compared += 1;
    }
    (failures, compared)
}
