//! Folds over a generated 100k-event ledger: full rebuilds, one append, and
//! context rendering. `cargo bench -p pmm-bench --bench folds`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pmm_bench::{Chainer, Generator};
use pmm_server::event::Event;
use pmm_server::ledger::breakdown::{breakdown, Encoding};
use pmm_server::rules::{ContextParams, Directives, Fold, Metrics, Projection, StageFold, State};

const EVENTS: usize = 100_000;
const SEED: u64 = 42;

/// The ledger, and a chainer positioned after its last row.
fn ledger() -> (Vec<Arc<Event>>, Chainer, Generator) {
    let mut generator = Generator::new(SEED);
    let mut chainer = Chainer::new();
    let events = generator
        .by_ref()
        .take(EVENTS)
        .map(|d| chainer.link(d).map(Arc::new))
        .collect::<Result<_, _>>()
        .expect("generated ledger");
    (events, chainer, generator)
}

fn rebuild<F: Fold>(mut fold: F, events: &[Arc<Event>]) -> F {
    for ev in events {
        fold.apply(ev);
    }
    fold
}

fn bench_rebuild(c: &mut Criterion, events: &[Arc<Event>]) {
    let mut g = c.benchmark_group("rebuild_100k");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("projection", |b| {
        b.iter(|| rebuild(Projection::default(), events))
    });
    g.bench_function("metrics", |b| b.iter(|| rebuild(Metrics::new(), events)));
    g.bench_function("directives", |b| {
        b.iter(|| rebuild(Directives::new(), events))
    });
    g.bench_function("stage", |b| b.iter(|| rebuild(StageFold::new(), events)));
    g.bench_function("state", |b| {
        b.iter(|| {
            let mut state = State::default();
            for ev in events {
                state.apply_shared(Arc::clone(ev));
            }
            state
        })
    });
    g.finish();
}

/// The next row of each kind, as it would be appended after the ledger.
fn next_rows(chainer: &Chainer, generator: Generator) -> Vec<Arc<Event>> {
    let kinds = [
        "user",
        "autonomy_tick",
        "reflection",
        "commitment_open",
        "autonomy_directive",
    ];
    let drafts: Vec<_> = generator.take(2_000).collect();
    kinds
        .iter()
        .map(|kind| {
            let draft = drafts
                .iter()
                .find(|d| d.kind == *kind)
                .expect("kind in the mix")
                .clone();
            Arc::new(chainer.clone().link(draft).expect("hashable"))
        })
        .collect()
}

fn bench_append(c: &mut Criterion, state: &State, next: &[Arc<Event>]) {
    let mut g = c.benchmark_group("append_after_100k");
    g.throughput(Throughput::Elements(1));
    for ev in next {
        g.bench_function(ev.kind.as_str(), |b| {
            b.iter_batched(
                || state.clone(),
                |mut s| {
                    s.apply_shared(Arc::clone(ev));
                    s
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn bench_context(c: &mut Criterion, state: &State) {
    let standard = ContextParams::default();
    let compact = ContextParams {
        compact: true,
        ..standard
    };
    let mut g = c.benchmark_group("context_100k");
    g.bench_function("standard", |b| {
        b.iter(|| state.context(black_box(&standard), None))
    });
    g.bench_function("compact", |b| {
        b.iter(|| state.context(black_box(&compact), None))
    });
    g.bench_function("tail_1000", |b| {
        b.iter(|| state.context(black_box(&standard), Some(1000)))
    });
    // Counting a block's sections (the tokenizer already loaded): what a
    // GetContext with a breakdown costs on the first call for a head.
    let block = state
        .context_block(&standard, None)
        .expect("renderable block");
    for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
        breakdown(&block, encoding).expect("tokenizer loads");
        g.bench_function(format!("breakdown_{}", encoding.name()), |b| {
            b.iter(|| breakdown(black_box(&block), encoding))
        });
    }
    g.finish();
}

fn folds(c: &mut Criterion) {
    let (events, chainer, generator) = ledger();
    let mut state = State::default();
    for ev in &events {
        state.apply_shared(Arc::clone(ev));
    }
    assert!(state.chain.ok(), "generated chain verifies");
    bench_rebuild(c, &events);
    bench_append(c, &state, &next_rows(&chainer, generator));
    bench_context(c, &state);
}

// No plots: the workspace's plotters draws text with fonts registered at
// run time (the `pmm` CLI embeds one for its images), which criterion's
// plots do not register. The figures are in the text report either way.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = folds
}
criterion_main!(benches);
