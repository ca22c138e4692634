//! The fold snapshot: saved state + the rows after it equals a full
//! rebuild; a snapshot that cannot be used falls back to a full rebuild;
//! the ledger saves one every N events and when asked at close.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::chain;
use crate::event::{Event, ParsedMeta};
use crate::ledger::cancel::Cancel;
use crate::ledger::handle::{Ledger, LedgerConfig};
use crate::ledger::hub::HubLimits;
use crate::ledger::replay::{self, Progress};
use crate::ledger::saver::SaveOutcome;
use crate::rules::CONTEXT_TAIL_ROWS;
use crate::store::schema::Durability;
use crate::store::write;

const TAIL: TailLimits = TailLimits {
    rows: CONTEXT_TAIL_ROWS,
    bytes: usize::MAX,
};

/// The meta of row `id`: every fold gets some (floats that do not add up
/// exactly included).
fn meta_of(id: i64) -> (&'static str, String, serde_json::Value) {
    let x = (id as f64) * 0.1 + 1e-9;
    match id % 9 {
        0 => (
            "reflection",
            format!("I noticed {id}"),
            json!({"telemetry": {"IAS": x.fract(), "GAS": 0.3}}),
        ),
        1 => (
            "commitment_open",
            format!("do {id}"),
            json!({"cid": id, "text": format!("task {id}")}),
        ),
        2 => ("commitment_close", "done".into(), json!({"cid": id - 1})),
        3 => (
            "trait_update",
            String::new(),
            json!({"delta": {"o": 0.013, "n": -0.007}}),
        ),
        4 => (
            "autonomy_tick",
            String::new(),
            json!({"telemetry": {"IAS": 0.5, "GAS": x.fract()}}),
        ),
        5 => (
            "identity_adopt",
            String::new(),
            json!({"name": format!("N{}", id % 4), "confidence": 0.91}),
        ),
        6 => (
            "autonomy_directive",
            format!("be kind {}", id % 5),
            json!({"source": "reflection"}),
        ),
        7 => (
            "commitment_open",
            format!("keep {id}"),
            json!({"cid": format!("k{}", id % 13), "text": "x"}),
        ),
        _ => ("user", format!("héllo {id} 🌍"), json!({"n": 2.50})),
    }
}

/// `n` rows forming a valid chain, starting after `prev` at `first`.
fn rows(first: i64, n: i64, mut prev: Option<String>) -> Vec<Event> {
    (first..first + n)
        .map(|id| {
            let (kind, content, meta) = meta_of(id);
            let ts = format!("2026-01-01T00:{:02}:{:02}+00:00", (id / 60) % 60, id % 60);
            let hash = chain::event_hash(id, &ts, kind, &content, &meta, prev.as_deref())
                .expect("hashable");
            Event {
                id,
                ts,
                kind: kind.into(),
                content,
                meta_text: meta.to_string(),
                prev_hash: prev.replace(hash.clone()),
                hash: Some(hash),
                parsed: ParsedMeta::on_first_use(),
            }
        })
        .collect()
}

fn insert(db: &Path, events: &[Event]) {
    let mut conn = write::open_connection(db, Durability::Normal).expect("open");
    let tx = conn.transaction().expect("tx");
    for ev in events {
        write::insert_event(&tx, &ev.into()).expect("insert");
    }
    tx.commit().expect("commit");
}

/// Rewrites the content of row `id` behind the server's back.
fn tamper(db: &Path, id: i64, content: &str) {
    let conn = write::open_connection(db, Durability::Normal).expect("open");
    conn.execute(
        "UPDATE events SET content = ?1 WHERE id = ?2",
        rusqlite::params![content, id],
    )
    .expect("tamper");
}

/// A ledger file holding `n` rows, and its store.
fn ledger(n: i64) -> (tempfile::TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("pmm.db");
    insert(&db, &rows(1, n, None));
    let store = Store::open_pool(&db, 2).expect("pool");
    (dir, db, store)
}

fn rebuild(store: &Store, up_to: i64) -> Snapshot {
    let folded = replay::rebuild(store, TAIL, up_to, None, &Cancel::never()).expect("rebuild");
    Snapshot {
        head: folded.head,
        state: folded.state,
    }
}

/// Every difference between two snapshots that a reader could see, their
/// tail windows filled from `store` where they are cold (as a server fills
/// them on first use).
fn differences(store: &Store, a: &Snapshot, b: &Snapshot) -> Vec<String> {
    let warm = |s: &Snapshot| {
        let mut s = s.clone();
        if s.state.tail.is_cold() {
            replay::fill_tail(store, &mut s.state, s.head.last_id).expect("fill the tail");
        }
        s
    };
    let (a, b) = (&warm(a), &warm(b));
    let mut out = Vec::new();
    if a.head != b.head {
        out.push(format!("head {:?} != {:?}", a.head, b.head));
    }
    let (oa, ob) = (a.state.outputs(), b.state.outputs());
    if oa != ob {
        out.push(format!("outputs differ:\n{oa:?}\n{ob:?}"));
    }
    let (sa, sb) = (
        a.state.whole.metrics.scores(),
        b.state.whole.metrics.scores(),
    );
    if (sa.ias.to_bits(), sa.gas.to_bits()) != (sb.ias.to_bits(), sb.gas.to_bits()) {
        out.push(format!("scores {sa:?} != {sb:?}"));
    }
    let bits = |t: [f64; 5]| t.map(f64::to_bits);
    if bits(a.state.whole.projection.traits()) != bits(b.state.whole.projection.traits()) {
        out.push("traits differ".into());
    }
    if a.state.chain.fault() != b.state.chain.fault()
        || a.state.chain.last_hash() != b.state.chain.last_hash()
    {
        out.push("chain status differs".into());
    }
    let tail = |s: &Snapshot| {
        s.state
            .tail
            .fold_last(s.state.tail.len())
            .render(&Default::default())
    };
    if tail(a) != tail(b) || a.state.tail.len() != b.state.tail.len() {
        out.push("tail window differs".into());
    }
    out
}

fn resume(store: &Store, saved: Snapshot) -> Snapshot {
    let folded =
        replay::rebuild_after(store, saved, i64::MAX, None, &Cancel::never()).expect("replay");
    Snapshot {
        head: folded.head,
        state: folded.state,
    }
}

/// A snapshot at any id, written and read back, plus the rows after it,
/// equals a full rebuild (with a tail window of every size).
#[test]
fn snapshot_plus_replay_equals_a_full_rebuild() {
    let (_dir, _db, store) = ledger(1400);
    let full = rebuild(&store, i64::MAX);
    for cut in [1, 8, 9, 500, 999, 1000, 1001, 1399, 1400] {
        let bytes = encode(&rebuild(&store, cut)).expect("encode");
        let saved = decode(&bytes).expect("decode");
        let diffs = differences(&store, &resume(&store, saved), &full);
        assert!(diffs.is_empty(), "cut {cut}: {diffs:?}");
    }
}

/// Floats come back bit for bit (subnormals, -0.0, NaN payloads).
#[test]
fn floats_round_trip_bit_for_bit() {
    let floats = vec![
        0.1 + 0.2,
        -0.0,
        5e-324,
        f64::MAX,
        f64::from_bits(0x7ff8_0000_dead_beef),
    ];
    let bytes = postcard::to_stdvec(&floats).expect("write");
    let back: Vec<f64> = postcard::from_bytes(&bytes).expect("read");
    let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&floats), bits(&back));
}

/// Writes `bytes` as the snapshot file of `db`.
fn plant(db: &Path, bytes: &[u8]) -> PathBuf {
    let path = path_for(db);
    std::fs::write(&path, bytes).expect("write");
    path
}

/// Each kind of unusable snapshot is refused, naming why.
#[test]
fn unusable_snapshots_are_refused() {
    let (_dir, db, store) = ledger(300);
    let good = encode(&rebuild(&store, 200)).expect("encode");
    let path = plant(&db, &good);
    assert!(read(&path, &store, TAIL).expect("usable").is_some());

    let mut flipped = good.clone();
    let at = flipped.len() - 7;
    flipped[at] ^= 0x20;
    plant(&db, &flipped);
    assert!(matches!(read(&path, &store, TAIL), Err(Rejected::Checksum)));

    let mut other = good.clone();
    other[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&(VERSION + 1).to_le_bytes());
    plant(&db, &other);
    assert!(matches!(
        read(&path, &store, TAIL),
        Err(Rejected::Version { .. })
    ));

    plant(&db, &good[..HEADER - 1]);
    assert!(matches!(
        read(&path, &store, TAIL),
        Err(Rejected::NotASnapshot)
    ));

    // Other tail limits: used, its window cold within the new limits.
    plant(&db, &good);
    let smaller = TailLimits { rows: 10, ..TAIL };
    let read_back = read(&path, &store, smaller).expect("read").expect("some");
    assert!(read_back.state.tail.is_cold());
    assert_eq!(read_back.state.tail.limits(), smaller);

    // The row it covers rewritten (another hash).
    let conn = write::open_connection(&db, Durability::Normal).expect("open");
    conn.execute("UPDATE events SET hash = 'x' WHERE id = 200", [])
        .expect("rewrite");
    assert!(matches!(
        read(&path, &store, TAIL),
        Err(Rejected::RowRewritten { id: 200, .. })
    ));

    // Beyond the head: the rows it covers cut off.
    conn.execute("DELETE FROM events WHERE id >= 150", [])
        .expect("cut");
    assert!(matches!(
        read(&path, &store, TAIL),
        Err(Rejected::BeyondHead { id: 200 })
    ));
    assert!(load(&path, &store, TAIL).is_none());
}

fn config(db: &Path, snapshot_every: u64) -> LedgerConfig {
    LedgerConfig {
        path: db.to_path_buf(),
        durability: Durability::Normal,
        read_pool: 2,
        tail: TAIL,
        hub: HubLimits {
            window_rows: 64,
            window_bytes: 1 << 20,
            in_flight_bytes: 1 << 20,
            max_subscribers: 4,
        },
        write_queue: 64,
        verify_folds_every: 0,
        accept_anchor: false,
        snapshot_every,
        verify_every: Duration::ZERO,
        subscribers: Default::default(),
    }
}

fn open(db: &Path, snapshot_every: u64) -> Ledger {
    Ledger::open(config(db, snapshot_every), &Progress::default()).expect("open")
}

/// What a ledger opened from its file serves, against a full rebuild.
fn assert_opens_to_a_full_rebuild(db: &Path, from_snapshot: Option<i64>) {
    let ledger = open(db, 0);
    assert_eq!(
        ledger.stats().expect("stats").rebuild.from_snapshot,
        from_snapshot
    );
    let store = Store::open_pool(db, 1).expect("pool");
    let diffs = differences(&store, &ledger.snapshot(), &rebuild(&store, i64::MAX));
    assert!(diffs.is_empty(), "{diffs:?}");
}

/// Opening uses a good snapshot (folding only the rows after it), and
/// falls back to a full rebuild, with the right state, for a damaged one,
/// one of another version, one whose row was rewritten and one beyond the
/// head.
#[test]
fn open_uses_a_good_snapshot_and_rebuilds_past_a_bad_one() {
    let (_dir, db, store) = ledger(600);
    let at_400 = encode(&rebuild(&store, 400)).expect("encode");
    plant(&db, &at_400);
    assert_opens_to_a_full_rebuild(&db, Some(400));

    let mut flipped = at_400.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 1;
    plant(&db, &flipped);
    assert_opens_to_a_full_rebuild(&db, None);

    let mut other = at_400.clone();
    other[MAGIC.len()] ^= 0xff;
    plant(&db, &other);
    assert_opens_to_a_full_rebuild(&db, None);

    // A snapshot of another ledger whose row 400 differs.
    let (_other_dir, _other_db, other_store) = {
        let dir = tempfile::tempdir().expect("tempdir");
        let odb = dir.path().join("pmm.db");
        let mut evs = rows(1, 450, None);
        evs[399].content.push('!');
        let mut prev = None;
        for ev in &mut evs {
            ev.prev_hash = prev.clone();
            ev.hash = Some(chain::hash_of(ev).expect("hash"));
            prev = ev.hash.clone();
        }
        insert(&odb, &evs);
        let s = Store::open_pool(&odb, 1).expect("pool");
        (dir, odb, s)
    };
    plant(&db, &encode(&rebuild(&other_store, 400)).expect("encode"));
    assert_opens_to_a_full_rebuild(&db, None);

    plant(&db, &encode(&rebuild(&store, 600)).expect("encode"));
    let conn = write::open_connection(&db, Durability::Normal).expect("open");
    conn.execute("DELETE FROM events WHERE id > 550", [])
        .expect("cut");
    drop(conn);
    assert_opens_to_a_full_rebuild(&db, None);
}

/// A row after the snapshot that breaks the chain is found at open: the
/// chain is verified from the snapshot's row on.
#[test]
fn a_broken_link_after_the_snapshot_is_found_at_open() {
    let (_dir, db, store) = ledger(300);
    plant(&db, &encode(&rebuild(&store, 200)).expect("encode"));
    tamper(&db, 250, "tampered");
    let ledger = open(&db, 0);
    assert_eq!(
        ledger.stats().expect("stats").rebuild.from_snapshot,
        Some(200)
    );
    assert_eq!(ledger.chain_fault().map(|f| f.id), Some(250));
}

/// An append through the writer of a ledger.
fn append_one(ledger: &Ledger, rt: &tokio::runtime::Runtime, i: usize) {
    use crate::ledger::sequencer::{AppendBatch, NewEvent};
    let meta = json!({"i": i});
    let event = NewEvent {
        kind: "user".into(),
        content: format!("m{i}"),
        meta_text: meta.to_string(),
        hash: chain::PreparedHash::new("user", &format!("m{i}"), &meta).expect("hash"),
        meta,
        idempotency_key: None,
    };
    rt.block_on(ledger.append(AppendBatch {
        events: vec![event],
        expected_last_id: None,
        want_snapshot: false,
    }))
    .expect("append");
}

/// Every N appended events a snapshot is saved in the background, and at
/// close when asked; the next open starts from it.
#[test]
fn snapshots_are_saved_every_n_events_and_at_close() {
    let (_dir, db, _store) = ledger(20);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("runtime");
    let path = path_for(&db);
    let store = Store::open_pool(&db, 1).expect("pool");
    // The id the file covers once no save is running.
    let saved_id = |ledger: &Ledger| {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while ledger.saver().in_flight() {
            assert!(std::time::Instant::now() < deadline, "save never ends");
            std::thread::sleep(Duration::from_millis(5));
        }
        read(&path, &store, TAIL)
            .expect("usable")
            .map(|s| s.head.last_id)
    };
    {
        let ledger = open(&db, 5);
        // Opening folded 20 rows (>= N): saved at once.
        assert_eq!(saved_id(&ledger), Some(20));
        for i in 0..4 {
            append_one(&ledger, &rt, i);
        }
        assert_eq!(saved_id(&ledger), Some(20), "saved before N events");
        append_one(&ledger, &rt, 4);
        assert_eq!(saved_id(&ledger), Some(25));
        append_one(&ledger, &rt, 5);
        rt.block_on(ledger.stop_writer(crate::ledger::hub::Ending::ShuttingDown));
        assert_eq!(
            ledger.save_snapshot().expect("save"),
            SaveOutcome::Written { last_id: 26 }
        );
        assert_eq!(
            ledger.save_snapshot().expect("save"),
            SaveOutcome::UpToDate { last_id: 26 }
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert_opens_to_a_full_rebuild(&db, Some(26));
    // Opened from it: nothing new to save at close.
    assert_eq!(
        open(&db, 0).save_snapshot().expect("save"),
        SaveOutcome::UpToDate { last_id: 26 }
    );
}

/// Nothing is saved of an empty ledger or of a broken chain.
#[test]
fn nothing_is_saved_of_an_empty_ledger_or_a_broken_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("pmm.db");
    let empty = open(&db, 0);
    assert!(matches!(
        empty.save_snapshot(),
        Ok(SaveOutcome::NotSaved(_))
    ));
    drop(empty);
    let (_dir, db, _store) = ledger(50);
    tamper(&db, 10, "x");
    let ledger = open(&db, 0);
    assert!(matches!(
        ledger.save_snapshot(),
        Ok(SaveOutcome::NotSaved(_))
    ));
    assert!(!path_for(&db).exists());
}

/// The periodic verification records a broken chain before the snapshot
/// the way a chain found broken at open is: Stats and refused appends.
#[test]
fn the_background_verification_records_a_broken_chain() {
    let (_dir, db, store) = ledger(300);
    plant(&db, &encode(&rebuild(&store, 280)).expect("encode"));
    tamper(&db, 10, "x");
    let mut cfg = config(&db, 0);
    cfg.verify_every = Duration::from_millis(20);
    let ledger = Ledger::open(cfg, &Progress::default()).expect("open");
    // Not seen at open: the row is before the snapshot.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while ledger.chain_fault().is_none() {
        assert!(std::time::Instant::now() < deadline, "not found");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(ledger.chain_fault().map(|f| f.id), Some(10));
    assert_eq!(
        ledger.stats().expect("stats").chain_fault.map(|f| f.id),
        Some(10)
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let meta = json!({});
    let refused = rt.block_on(ledger.append(crate::ledger::sequencer::AppendBatch {
        events: vec![crate::ledger::sequencer::NewEvent {
            kind: "user".into(),
            content: "x".into(),
            meta_text: "{}".into(),
            hash: chain::PreparedHash::new("user", "x", &meta).expect("hash"),
            meta,
            idempotency_key: None,
        }],
        expected_last_id: None,
        want_snapshot: false,
    }));
    assert!(matches!(
        refused,
        Err(crate::ledger::sequencer::WriteError::ChainBroken(_))
    ));
}

/// A ledger opens with its tail window cold (no rows held); a tail block
/// is then folded from SQLite, and the next commit fills the window, after
/// which the same blocks come from memory — equal to a full rebuild's at
/// every step.
#[test]
fn the_tail_window_opens_cold_and_fills_after_a_tail_block_is_asked_for() {
    let (_dir, db, _store) = ledger(1200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("runtime");
    let ledger = open(&db, 0);
    let store = Store::open_pool(&db, 1).expect("pool");
    let tail_block = |n: usize| {
        let snapshot = ledger.snapshot();
        let cached = ledger
            .context(&snapshot, &Default::default(), Some(n))
            .expect("context");
        let full = rebuild(&store, snapshot.head.last_id);
        let want = full.state.tail.fold_last(n).render(&Default::default());
        assert_eq!(cached.block, want.expect("render"), "tail {n}");
    };
    assert!(ledger.snapshot().state.tail.is_cold());
    // Appends alone leave it cold.
    append_one(&ledger, &rt, 0);
    assert!(ledger.snapshot().state.tail.is_cold());
    tail_block(10);
    tail_block(1000);
    assert!(ledger.snapshot().state.tail.is_cold());
    append_one(&ledger, &rt, 1);
    let window = &ledger.snapshot().state.tail;
    assert!(!window.is_cold());
    assert_eq!(window.len(), TAIL.rows.min(1202));
    for i in 2..5 {
        append_one(&ledger, &rt, i);
    }
    tail_block(10);
    tail_block(1000);
    assert_eq!(
        differences(&store, &ledger.snapshot(), &rebuild(&store, i64::MAX)),
        Vec::<String>::new()
    );
}

/// The snapshot file this build writes, pinned (`testdata/`): a change of
/// the format that still decodes — fields reordered, a field's meaning
/// changed — would otherwise go unnoticed until a server misread its own
/// files. When the format changes on purpose, raise [`VERSION`] and
/// rewrite the file: `PMM_WRITE_PINNED_SNAPSHOT=1 cargo test -p pmm-server
/// --lib pinned`.
#[test]
fn a_pinned_snapshot_file_reads_back_to_the_same_state() {
    let pinned =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ledger/testdata/fold-snapshot.bin");
    let (_dir, _db, store) = ledger(400);
    let full = rebuild(&store, i64::MAX);
    if std::env::var_os("PMM_WRITE_PINNED_SNAPSHOT").is_some() {
        std::fs::write(&pinned, encode(&full).expect("encode")).expect("write the pinned file");
    }
    let bytes = std::fs::read(&pinned).expect("the pinned snapshot file");
    let saved = decode(&bytes).unwrap_or_else(|e| {
        panic!("the pinned snapshot file {e}: if the format changed on purpose, raise VERSION and rewrite the file (see this test's comment)")
    });
    let diffs: Vec<String> = differences(&store, &saved, &full)
        .iter()
        .map(|d| d.chars().take(300).collect())
        .collect();
    assert!(
        diffs.is_empty(),
        "the pinned snapshot file decodes to another state (raise VERSION if the format changed): {diffs:?}"
    );
}
