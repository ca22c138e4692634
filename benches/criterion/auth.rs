//! The token check of every call with tokens configured (SHA-256 of the
//! token, a constant-time comparison with each listed digest, the role
//! table): the budget is 5 µs per request.
//! `cargo bench -p pmm-bench --bench auth`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use http::{HeaderMap, HeaderValue};
use pmm::token::{digest, Role};
use pmm_server::auth::file::TokenEntry;
use pmm_server::auth::layer::authorize;
use pmm_server::auth::TokenSet;

/// A set of `n` tokens, the last one a writer's `token-{n-1}`.
fn set(n: usize) -> TokenSet {
    TokenSet::new(
        (0..n)
            .map(|i| TokenEntry {
                name: format!("t{i}"),
                role: if i + 1 == n {
                    Role::Writer
                } else {
                    Role::Reader
                },
                digest: digest(&format!("pmm_{i:064}")),
            })
            .collect(),
    )
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
    headers.insert("authorization", value);
    headers
}

fn token_check(c: &mut Criterion) {
    let mut g = c.benchmark_group("token_check");
    for n in [1, 10, 100] {
        let tokens = set(n);
        let admitted = bearer(&format!("pmm_{:064}", n - 1));
        g.bench_function(format!("admitted_of_{n}"), |b| {
            b.iter(|| authorize(black_box(&tokens), "/pmm.v1.Mind/GetMetrics", &admitted))
        });
    }
    let tokens = set(10);
    let unknown = bearer(&format!("pmm_{:064}", 999));
    g.bench_function("unknown_of_10", |b| {
        b.iter(|| authorize(black_box(&tokens), "/pmm.v1.Ledger/Append", &unknown))
    });
    g.finish();
}

criterion_group!(benches, token_check);
criterion_main!(benches);
