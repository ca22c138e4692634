//! Per-event primitives: canonical JSON + SHA-256 of one row, embedding of a
//! typical text, and chain verification. `cargo bench -p pmm-bench --bench primitives`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pmm_server::chain::{canonical_payload, hash_of, verify_chain};
use pmm_server::event::Event;
use pmm_server::rules::embedding::embed;

const EVENTS: usize = 100_000;
const SEED: u64 = 42;

fn primitives(c: &mut Criterion) {
    let events = pmm_bench::ledger(EVENTS, SEED).expect("generated ledger");
    let typical = |kind: &str| -> &Event {
        events
            .iter()
            .find(|e| e.kind == kind && e.content.len() > 80)
            .expect("kind in the mix")
    };

    let mut g = c.benchmark_group("hash_one_event");
    for kind in ["reflection", "autonomy_tick", "commitment_open"] {
        let ev = if kind == "autonomy_tick" {
            events.iter().find(|e| e.kind == kind).expect("ticks")
        } else {
            typical(kind)
        };
        let payload = canonical_payload(
            ev.id,
            &ev.ts,
            &ev.kind,
            &ev.content,
            ev.meta(),
            ev.prev_hash.as_deref(),
        )
        .expect("canonical");
        g.throughput(Throughput::Bytes(payload.len() as u64));
        g.bench_function(kind, |b| b.iter(|| hash_of(black_box(ev))));
    }
    g.finish();

    let text = &typical("reflection").content;
    let mut g = c.benchmark_group("embed");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("reflection", |b| b.iter(|| embed(black_box(text))));
    g.finish();

    let mut g = c.benchmark_group("verify_chain");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("100k", |b| b.iter(|| verify_chain(black_box(&events))));
    g.finish();
}

// No plots: the workspace's plotters draws text with fonts registered at
// run time (the `pmm` CLI embeds one for its images), which criterion's
// plots do not register. The figures are in the text report either way.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = primitives
}
criterion_main!(benches);
