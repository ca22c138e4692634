//! Smoke test of the load generator: an in-process server over a temporary
//! ledger, every scenario with a few hundred requests in all, and checks
//! that the report tells the truth (counts, latencies, appended events
//! visible through Head).

use std::time::Duration;

use pmm_bench::load::{self, Conn, Limit, LoadConfig, Minds, Scenario};
use pmm_client::v1;
use pmm_server::config::Config;
use pmm_server::server;

const REQUESTS: u64 = 20;
const LEVELS: [usize; 2] = [1, 4];
const BATCH: usize = 10;
const SUBSCRIBERS: usize = 12;
const ROUNDS: usize = 3;
const SEED_EVENTS: usize = 300;

/// Every scenario that runs on one mind (open-mind needs many).
fn one_mind_scenarios() -> impl Iterator<Item = Scenario> {
    Scenario::ALL
        .into_iter()
        .filter(|s| *s != Scenario::OpenMind)
}

async fn head(conn: &Conn) -> v1::LedgerHead {
    conn.ledger
        .clone()
        .head(v1::HeadRequest {})
        .await
        .expect("Head")
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_and_reports_what_happened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("pmm.db");
    // A small generated ledger, so that reads, catch-up and VerifyChain
    // have something to do.
    pmm_bench::write_db(SEED_EVENTS, 3, &db).expect("generate ledger");
    let mut config = Config::for_db(&db);
    config.addr = "127.0.0.1:0".parse().expect("addr");
    // metrics-history is a replay: admit as many as the highest level sends.
    config.max_concurrent_replays = LEVELS[LEVELS.len() - 1];
    let mut running = server::bind_and_start(config).await.expect("start");
    running.ready().await.expect("ready");
    let addr = running.addr.to_string();

    let control = Conn::open(&addr).await.expect("connect");
    assert!(control.serving().await.expect("health"));
    let before = head(&control).await;
    assert_eq!(before.count, SEED_EVENTS as u64);

    let load_config = LoadConfig {
        scenarios: one_mind_scenarios().collect(),
        concurrency: LEVELS.to_vec(),
        limit: Limit::Count(REQUESTS),
        warmup: Duration::ZERO,
        per_channel: 2,
        batch: BATCH,
        fanout_subscribers: SUBSCRIBERS,
        fanout_rounds: ROUNDS,
        catchup_repeats: 2,
        verify_repeats: 2,
        seed: 5,
        server_pid: None,
        progress: false,
        minds: Minds::Default,
        prepare: 0,
    };
    let report = tokio::time::timeout(Duration::from_secs(60), load::run(&addr, &load_config))
        .await
        .expect("the load run finishes in time")
        .expect("load run");

    // Every scenario is there, the unary ones at each level, without error.
    for scenario in one_mind_scenarios() {
        let rows: Vec<_> = report.rows_of(scenario).collect();
        let want = if scenario.is_unary() { LEVELS.len() } else { 1 };
        assert_eq!(rows.len(), want, "{}", scenario.name());
        for row in rows {
            assert_eq!(row.errors, 0, "{}: {:?}", row.scenario, row.first_error);
            assert!(row.p50_us > 0.0, "{}: p50 {}", row.scenario, row.p50_us);
            assert!(row.p50_us <= row.p90_us && row.p90_us <= row.p99_us);
            assert!(row.p99_us <= row.max_us && row.max_us > 0.0);
            assert!(row.elapsed_s > 0.0);
            if scenario.is_unary() {
                assert_eq!(row.operations, REQUESTS, "{}", row.scenario);
                assert!(row.ops_per_s > 0.0);
                assert!(row.p50_vs_noop.is_some() && row.ops_per_s_vs_noop.is_some());
            }
        }
    }
    for level in LEVELS {
        let noop = report.row(Scenario::Noop, level).expect("noop row");
        assert_eq!(noop.p50_vs_noop, Some(1.0));
        assert_eq!(noop.channels, level.div_ceil(2));
    }

    // Catch-up replayed the whole ledger as it was; VerifyChain checked it.
    let catchup = report
        .rows_of(Scenario::SubscribeCatchup)
        .next()
        .expect("catch-up");
    assert_eq!(catchup.operations, 2);
    assert_eq!(catchup.events_per_op, Some(SEED_EVENTS as u64));
    assert!(catchup.events_per_s.unwrap_or(0.0) > 0.0);
    let verify = report
        .rows_of(Scenario::VerifyChain)
        .next()
        .expect("verify");
    assert_eq!(verify.operations, 2);
    assert_eq!(verify.events_per_op, Some(SEED_EVENTS as u64));

    // Fan-out: every subscriber got every round's event.
    let fanout = report
        .rows_of(Scenario::SubscribeFanout)
        .next()
        .expect("fan-out");
    assert_eq!(fanout.operations, ROUNDS as u64);
    assert_eq!(fanout.deliveries, Some((SUBSCRIBERS * ROUNDS) as u64));
    assert_eq!(fanout.concurrency, SUBSCRIBERS);

    // What the report says was appended is what the ledger holds.
    let per_op = |s: Scenario| match s {
        Scenario::Append => 1,
        Scenario::AppendBatch => BATCH as u64,
        Scenario::Interaction | Scenario::Interaction2 => 2,
        _ => 0,
    };
    let mut expected = ROUNDS as u64;
    for scenario in one_mind_scenarios().filter(|s| s.is_unary()) {
        for row in report.rows_of(scenario) {
            assert_eq!(
                row.events_appended,
                REQUESTS * per_op(scenario),
                "{}",
                row.scenario
            );
            expected += row.events_appended;
        }
    }
    let reported: u64 = report.rows.iter().map(|r| r.events_appended).sum();
    assert_eq!(reported, expected);
    let after = head(&control).await;
    assert_eq!(after.count - before.count, expected);
    assert_eq!(after.last_id - before.last_id, expected);
    assert_eq!(report.meta.ledger_events_start, before.count);
    assert_eq!(report.meta.ledger_events_end, after.count);
    assert!(!report.meta.cpu_model.is_empty() && report.meta.nproc > 0);
    let chain = control
        .ledger
        .clone()
        .verify_chain(v1::VerifyChainRequest {})
        .await
        .expect("VerifyChain")
        .into_inner();
    assert!(chain.ok, "{}", chain.reason);
    assert_eq!(chain.checked, after.count);

    // The table and the JSON carry every row.
    let table = report.markdown(None);
    for scenario in one_mind_scenarios() {
        assert!(
            table.contains(&format!("| {} |", scenario.name())),
            "{table}"
        );
    }
    let json = serde_json::to_string(&report).expect("json");
    let back: load::Report = serde_json::from_str(&json).expect("json back");
    assert_eq!(back.rows.len(), report.rows.len());

    drop(control);
    running.shut_down().await.expect("shut down");
}

/// `--mind default`: every call carries the header, and the server (which
/// serves the mind `default`) answers them all; open-mind without many
/// minds is refused before any call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_mind_is_sent_on_every_call() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_db(dir.path().join("pmm.db"));
    config.addr = "127.0.0.1:0".parse().expect("addr");
    let mut running = server::bind_and_start(config).await.expect("start");
    running.ready().await.expect("ready");
    let addr = running.addr.to_string();
    let load_config = LoadConfig {
        scenarios: vec![
            Scenario::GetMetrics,
            Scenario::Append,
            Scenario::Interaction,
        ],
        concurrency: vec![1, 4],
        limit: Limit::Count(REQUESTS),
        warmup: Duration::ZERO,
        minds: Minds::One("default".into()),
        prepare: 5,
        ..LoadConfig::default()
    };
    let report = load::run(&addr, &load_config).await.expect("load run");
    for row in &report.rows {
        assert_eq!(row.errors, 0, "{}: {:?}", row.scenario, row.first_error);
    }
    assert_eq!(report.meta.minds, "default");
    assert_eq!(report.meta.prepared_events, 5);
    // 5 prepared, then 20 appends and 20 interactions (2 events) at each level.
    assert_eq!(report.meta.ledger_events_start, 5);
    assert_eq!(
        report.meta.ledger_events_end,
        5 + 2 * (REQUESTS + 2 * REQUESTS)
    );

    // Another mind is NOT_FOUND on this one-file server: the header arrives.
    let other = LoadConfig {
        minds: Minds::One("alice".into()),
        ..load_config.clone()
    };
    let err = load::run(&addr, &other).await.expect_err("no mind alice");
    assert!(err.to_string().contains("alice"), "{err}");
    let open_mind = LoadConfig {
        scenarios: vec![Scenario::OpenMind],
        ..load_config
    };
    let err = load::run(&addr, &open_mind)
        .await
        .expect_err("needs --minds");
    assert!(err.to_string().contains("--minds"), "{err}");
    running.shut_down().await.expect("shut down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_held_while_a_new_client_is_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_db(dir.path().join("pmm.db"));
    config.addr = "127.0.0.1:0".parse().expect("addr");
    let mut running = server::bind_and_start(config).await.expect("start");
    running.ready().await.expect("ready");
    let idle = load::IdleConfig {
        connections: 50,
        hold: Duration::from_millis(200),
        server_pid: Some(std::process::id()),
    };
    let report = load::idle::run(&running.addr.to_string(), &idle)
        .await
        .expect("idle run");
    assert_eq!(report.opened, 50, "{:?}", report.first_error);
    assert!(report.new_client_served, "{:?}", report.first_error);
    // The 50, the measuring connection, and the new client's.
    assert!(report.server_open >= 51, "{report:?}");
    assert_eq!(report.server_refused, 0);
    assert!(report.rss_kb_with.is_some());
    assert!(report.markdown().contains("| 50 | 50 |"));
    running.shut_down().await.expect("shut down");
}
