//! Sharding behind HAProxy (deploy/haproxy.cfg.in, SCALING.md): a real
//! haproxy in front of three real pmm-servers on loopback, each with its
//! own data directory and `--create-minds-on-append`. Appends to 50 minds
//! through the proxy land each mind on exactly one server; a call without
//! the header is the mind `default`, on one server too; a Subscribe through
//! the proxy receives live events; while a server is down its minds answer
//! UNAVAILABLE and are not created elsewhere; once it is back, every
//! acknowledged event is there.
//!
//! Needs `haproxy` on PATH (or `PMM_HAPROXY`): without it the test says
//! loudly that it was NOT run, and passes (`.ci/run` installs it;
//! scripts/test.sh repeats the warning at the end).

mod support;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pmm::v1::ledger_client::LedgerClient;
use pmm::v1::{self, AppendRequest, EventInput, ReadRequest, SubscribeRequest};
use support::Server;
use tonic::transport::Channel;

const SERVERS: usize = 3;
const MINDS: usize = 50;
const EVENTS_PER_MIND: usize = 4;

/// The haproxy binary: `PMM_HAPROXY`, else `haproxy` on PATH.
fn haproxy_bin() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PMM_HAPROXY") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("haproxy"))
            .find(|candidate| candidate.is_file())
    })
}

/// Whether the server binary serves many minds (a data directory, minds
/// created on Append), as its `--help` says.
fn serves_many_minds() -> bool {
    Command::new(env!("CARGO_BIN_EXE_pmm-server"))
        .arg("--help")
        .output()
        .map(|out| {
            let help = String::from_utf8_lossy(&out.stdout);
            help.contains("--data-dir") && help.contains("--create-minds-on-append")
        })
        .unwrap_or(false)
}

/// Written to the real stderr, past the test harness's capture, so that it
/// shows in a passing run.
fn shout(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// `n` loopback ports free right now (bound, read, released), so that a
/// restarted server gets its port back and the proxy's config stays true.
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local addr").port())
        .collect()
}

/// deploy/haproxy.cfg.in with its placeholders filled in, as
/// deploy/start.sh fills them.
fn haproxy_config(bind: &str, rundir: &Path, servers: &[u16]) -> String {
    let template = include_str!("../../deploy/haproxy.cfg.in");
    let lines: Vec<String> = servers
        .iter()
        .enumerate()
        .map(|(k, port)| {
            format!(
                "    server s{id} 127.0.0.1:{port} id {id} proto h2",
                id = k + 1
            )
        })
        .collect();
    template
        .lines()
        .map(|line| match line.trim() {
            "@SERVERS@" => lines.join("\n"),
            _ => line
                .replace("@BIND@", bind)
                .replace("@RUNDIR@", &rundir.display().to_string()),
        })
        .map(|line| line + "\n")
        .collect()
}

/// A haproxy child process, killed when dropped.
struct Proxy {
    child: Child,
    addr: String,
}

impl Proxy {
    fn start(bin: &Path, config: &Path, log: &Path) -> Proxy {
        let check = Command::new(bin)
            .args(["-c", "-q", "-f"])
            .arg(config)
            .status()
            .expect("run haproxy -c");
        assert!(check.success(), "haproxy -c refused {}", config.display());
        let log = std::fs::File::create(log).expect("haproxy log");
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(config)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn haproxy");
        Proxy {
            child,
            addr: String::new(),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn channel(addr: &str) -> Result<Channel, tonic::transport::Error> {
    Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
}

/// `message` for `mind` (no header for `None`).
fn named<T>(message: T, mind: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(mind) = mind {
        request
            .metadata_mut()
            .insert("pmm-mind", mind.parse().expect("header value"));
    }
    request.set_timeout(Duration::from_secs(10));
    request
}

fn event(mind: &str, i: usize) -> EventInput {
    EventInput {
        kind: "user".into(),
        content: format!("{mind} says {i}"),
        meta: "{}".into(),
        idempotency_key: String::new(),
    }
}

fn mind_name(i: usize) -> String {
    format!("m{i:05}")
}

/// Every event of `mind`, read through `ledger` (one page).
async fn read_all(
    ledger: &mut LedgerClient<Channel>,
    mind: Option<&str>,
) -> Result<Vec<(u64, String)>, tonic::Status> {
    let page = ledger
        .read(named(
            ReadRequest {
                limit: 1000,
                ..Default::default()
            },
            mind,
        ))
        .await?
        .into_inner();
    Ok(page.events.into_iter().map(|e| (e.id, e.content)).collect())
}

/// The server (1-based, as in its name `sN`) that the proxy says answered.
fn shard(metadata: &tonic::metadata::MetadataMap) -> Option<usize> {
    metadata
        .get("pmm-shard")?
        .to_str()
        .ok()?
        .strip_prefix('s')?
        .parse()
        .ok()
}

/// Where the proxy at `addr` sends `mind`: a health Check naming it (any
/// server answers health, whatever the mind), read from `pmm-shard`.
async fn health_shard(addr: &str, mind: &str) -> Option<usize> {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    let channel = channel(addr).await.ok()?;
    let response = HealthClient::new(channel)
        .check(named(
            HealthCheckRequest {
                service: String::new(),
            },
            Some(mind),
        ))
        .await
        .ok()?;
    shard(response.metadata())
}

/// The servers (0-based) whose data directory holds `mind`'s ledger.
fn holders(data_dirs: &[PathBuf], mind: &str) -> Vec<usize> {
    data_dirs
        .iter()
        .enumerate()
        .filter(|(_, dir)| dir.join(mind).join("pmm.db").is_file())
        .map(|(k, _)| k)
        .collect()
}

async fn start_server(port: u16, data_dir: &Path) -> Server {
    let addr = format!("127.0.0.1:{port}");
    let backups = data_dir.with_extension("backups");
    Server::spawn_args(&[
        "--addr",
        &addr,
        "--data-dir",
        &data_dir.display().to_string(),
        "--backup-dir",
        &backups.display().to_string(),
        "--create-minds-on-append",
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minds_are_sharded_by_header_behind_haproxy_and_survive_a_restart() {
    let Some(haproxy) = haproxy_bin() else {
        shout(
            "\n######################################################################\n\
             ## proxy.rs: haproxy NOT FOUND — the HAProxy sharding test was NOT RUN.\n\
             ## Install it (Debian: apt-get install -y haproxy) or set PMM_HAPROXY.\n\
             ######################################################################\n",
        );
        return;
    };
    if !serves_many_minds() {
        shout(
            "\n######################################################################\n\
             ## proxy.rs: this pmm-server has no --data-dir/--create-minds-on-append\n\
             ## (many minds per server) — the HAProxy sharding test was NOT RUN.\n\
             ######################################################################\n",
        );
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let ports = free_ports(SERVERS + 1);
    let (proxy_port, server_ports) = (ports[0], &ports[1..]);
    let data_dirs: Vec<PathBuf> = (1..=SERVERS)
        .map(|k| dir.path().join(format!("s{k}")))
        .collect();
    let mut servers = Vec::new();
    for (port, data_dir) in server_ports.iter().zip(&data_dirs) {
        servers.push(start_server(*port, data_dir).await);
    }

    let config_path = dir.path().join("haproxy.cfg");
    let bind = format!("127.0.0.1:{proxy_port}");
    std::fs::write(
        &config_path,
        haproxy_config(&bind, dir.path(), server_ports),
    )
    .expect("write the config");
    let mut proxy = Proxy::start(&haproxy, &config_path, &dir.path().join("haproxy.log"));
    proxy.addr = bind;

    // The proxy is up once a call through it is answered.
    let deadline = Instant::now() + Duration::from_secs(10);
    let through = loop {
        if let Ok(channel) = channel(&proxy.addr).await {
            let mut ledger = LedgerClient::new(channel.clone());
            if ledger
                .head(named(v1::HeadRequest {}, Some("probe")))
                .await
                .is_err_and(|s| s.code() == tonic::Code::NotFound)
            {
                break channel;
            }
        }
        if let Ok(Some(status)) = proxy.child.try_wait() {
            let log = std::fs::read_to_string(dir.path().join("haproxy.log")).unwrap_or_default();
            panic!("haproxy exited ({status}):\n{log}");
        }
        assert!(Instant::now() < deadline, "haproxy never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut ledger = LedgerClient::new(through.clone());

    // 50 minds, a few events each, through the proxy: every append
    // acknowledged, with ids 1.. in each mind.
    let mut acknowledged: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for i in 0..MINDS {
        let mind = mind_name(i);
        for round in 0..EVENTS_PER_MIND / 2 {
            let events = vec![event(&mind, 2 * round), event(&mind, 2 * round + 1)];
            let contents: Vec<String> = events.iter().map(|e| e.content.clone()).collect();
            let response = ledger
                .append(named(
                    AppendRequest {
                        events,
                        ..Default::default()
                    },
                    Some(&mind),
                ))
                .await
                .unwrap_or_else(|e| panic!("append to {mind} through the proxy: {e}"))
                .into_inner();
            let ids = response.events.iter().map(|e| e.id);
            acknowledged
                .entry(mind.clone())
                .or_default()
                .extend(ids.zip(contents));
        }
    }
    for (mind, events) in &acknowledged {
        let ids: Vec<u64> = events.iter().map(|(id, _)| *id).collect();
        let want: Vec<u64> = (1..=EVENTS_PER_MIND as u64).collect();
        assert_eq!(ids, want, "{mind}: one ledger, ids from 1");
    }

    // Each mind lives on exactly one server: its folder, and direct calls.
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    let mut direct = Vec::new();
    for server in &servers {
        direct.push(server.ledger().await);
    }
    for mind in acknowledged.keys() {
        let on = holders(&data_dirs, mind);
        assert_eq!(on.len(), 1, "{mind}'s folder is on servers {on:?}");
        let mut answered = Vec::new();
        for (k, client) in direct.iter_mut().enumerate() {
            match client.head(named(v1::HeadRequest {}, Some(mind))).await {
                Ok(head) => {
                    assert_eq!(head.into_inner().count, EVENTS_PER_MIND as u64, "{mind}");
                    answered.push(k);
                }
                Err(status) => assert_eq!(status.code(), tonic::Code::NotFound, "{mind}: {status}"),
            }
        }
        assert_eq!(
            answered, on,
            "{mind}: the server that answers is the one holding it"
        );
        let through_proxy = ledger
            .head(named(v1::HeadRequest {}, Some(mind)))
            .await
            .expect("head through the proxy");
        assert_eq!(
            shard(through_proxy.metadata()),
            Some(on[0] + 1),
            "{mind}: the proxy names the server that answered"
        );
        owner.insert(mind.clone(), on[0]);
    }
    let mut per_server = [0usize; SERVERS];
    for k in owner.values() {
        per_server[*k] += 1;
    }
    shout(&format!(
        "proxy.rs: {MINDS} minds over {SERVERS} servers: {per_server:?}"
    ));
    assert!(
        per_server.iter().all(|&n| n >= 5),
        "consistent hashing spreads the minds over every server: {per_server:?}"
    );

    // A call without the header is the mind `default`, on one server.
    for i in 0..4 {
        ledger
            .append(named(
                AppendRequest {
                    events: vec![event("default", i)],
                    ..Default::default()
                },
                None,
            ))
            .await
            .expect("append without a header");
    }
    let by_name = read_all(&mut ledger, Some("default"))
        .await
        .expect("read default");
    let unnamed = read_all(&mut ledger, None)
        .await
        .expect("read without a header");
    assert_eq!(by_name.len(), 4, "the four appends without a header");
    assert_eq!(by_name, unnamed, "no header = the mind `default`");
    // On exactly one server (another may hold an empty `default`).
    let mut with_default = Vec::new();
    for (k, client) in direct.iter_mut().enumerate() {
        if let Ok(head) = client.head(named(v1::HeadRequest {}, None)).await {
            if head.into_inner().count > 0 {
                with_default.push(k);
            }
        }
    }
    assert_eq!(
        with_default.len(),
        1,
        "default's events on servers {with_default:?}"
    );

    // A Subscribe through the proxy receives live events.
    let live_mind = mind_name(7);
    let mut subscriber = LedgerClient::new(channel(&proxy.addr).await.expect("connect"));
    let mut request = named(
        SubscribeRequest {
            start: Some(v1::subscribe_request::Start::OnlyNew(true)),
            heartbeat_ms: Some(100),
            ..Default::default()
        },
        Some(&live_mind),
    );
    request.set_timeout(Duration::from_secs(30));
    let mut stream = subscriber
        .subscribe(request)
        .await
        .expect("subscribe through the proxy")
        .into_inner();
    let first = stream
        .message()
        .await
        .expect("caught_up")
        .expect("a message");
    assert!(
        matches!(first.item, Some(v1::subscribe_response::Item::CaughtUp(_))),
        "only_new starts with caught_up: {first:?}"
    );
    let mut live = Vec::new();
    for i in 0..3 {
        let e = event(&live_mind, 100 + i);
        live.push(e.content.clone());
        let response = ledger
            .append(named(
                AppendRequest {
                    events: vec![e],
                    ..Default::default()
                },
                Some(&live_mind),
            ))
            .await
            .expect("live append")
            .into_inner();
        let id = response.events[0].id;
        acknowledged
            .get_mut(&live_mind)
            .expect("mind")
            .push((id, live[i].clone()));
    }
    let mut received = Vec::new();
    let mut heartbeats = 0;
    let until = Instant::now() + Duration::from_secs(10);
    while received.len() < live.len() {
        let left = until.saturating_duration_since(Instant::now());
        let message = tokio::time::timeout(left, stream.message())
            .await
            .expect("live events within 10 s")
            .expect("stream")
            .expect("open");
        match message.item {
            Some(v1::subscribe_response::Item::Event(e)) => received.push(e.content),
            Some(v1::subscribe_response::Item::Heartbeat(_)) => heartbeats += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        received, live,
        "the live events, in order, through the proxy"
    );
    // Idle: heartbeats (every 100 ms here) keep coming through the proxy.
    let idle_until = Instant::now() + Duration::from_millis(600);
    while Instant::now() < idle_until {
        if let Ok(Ok(Some(message))) =
            tokio::time::timeout(Duration::from_millis(300), stream.message()).await
        {
            if matches!(
                message.item,
                Some(v1::subscribe_response::Item::Heartbeat(_))
            ) {
                heartbeats += 1;
            }
        }
    }
    assert!(
        heartbeats >= 2,
        "heartbeats through the proxy: {heartbeats}"
    );
    drop(stream);

    // Restart the server holding the most minds.
    let victim = (0..SERVERS)
        .max_by_key(|k| per_server[*k])
        .expect("a server");
    let victims_minds: Vec<String> = owner
        .iter()
        .filter(|(_, k)| **k == victim)
        .map(|(m, _)| m.clone())
        .collect();
    servers[victim].terminate();
    // While it is down its minds answer UNAVAILABLE, and an append is not
    // redirected: the mind is not created on another server.
    let probe = &victims_minds[0];
    let refused = ledger
        .append(named(
            AppendRequest {
                events: vec![event(probe, 999)],
                ..Default::default()
            },
            Some(probe),
        ))
        .await
        .expect_err("the mind's server is down");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused}");
    assert!(
        refused.message().contains("unavailable"),
        "the proxy's own gRPC status: {refused}"
    );
    assert_eq!(
        shard(refused.metadata()),
        Some(victim + 1),
        "the proxy names the server that is down"
    );
    assert_eq!(
        holders(&data_dirs, probe),
        vec![victim],
        "{probe} was not created elsewhere"
    );
    servers[victim] = start_server(server_ports[victim], &data_dirs[victim]).await;

    // Every acknowledged event is there, through the proxy, in every mind.
    for (mind, events) in &acknowledged {
        let deadline = Instant::now() + Duration::from_secs(10);
        let stored = loop {
            match read_all(&mut ledger, Some(mind)).await {
                Ok(stored) => break stored,
                Err(status) if Instant::now() < deadline => {
                    // The proxy's connection to the restarted server.
                    assert_eq!(status.code(), tonic::Code::Unavailable, "{mind}: {status}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(status) => panic!("{mind} after the restart: {status}"),
            }
        };
        assert_eq!(&stored, events, "{mind}: every acknowledged event, once");
    }
    // Adding a fourth server moves about a quarter of the minds, all to
    // it: a planning proxy with the new list of servers (SCALING.md) says
    // where each name would go, from a health call that touches no mind.
    let extra_ports = free_ports(2);
    let fourth_dir = dir.path().join(format!("s{}", SERVERS + 1));
    let _fourth = start_server(extra_ports[1], &fourth_dir).await;
    let mut four: Vec<u16> = server_ports.to_vec();
    four.push(extra_ports[1]);
    let plan_dir = dir.path().join("plan");
    std::fs::create_dir_all(&plan_dir).expect("plan dir");
    let plan_bind = format!("127.0.0.1:{}", extra_ports[0]);
    let plan_config = plan_dir.join("haproxy.cfg");
    std::fs::write(&plan_config, haproxy_config(&plan_bind, &plan_dir, &four))
        .expect("write the planning config");
    let _plan = Proxy::start(&haproxy, &plan_config, &plan_dir.join("haproxy.log"));
    let mut moved = Vec::new();
    for (mind, k) in &owner {
        let deadline = Instant::now() + Duration::from_secs(10);
        let to = loop {
            match health_shard(&plan_bind, mind).await {
                Some(to) => break to,
                None if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                None => panic!("the planning proxy never answered for {mind}"),
            }
        };
        if to != k + 1 {
            assert_eq!(
                to,
                SERVERS + 1,
                "{mind} moves from s{} to s{to}, not to the new server",
                k + 1
            );
            moved.push(mind.clone());
        }
    }
    shout(&format!(
        "proxy.rs: adding s{} moves {} of {MINDS} minds to it: {moved:?}",
        SERVERS + 1,
        moved.len()
    ));
    assert!(
        (MINDS / 10..=MINDS / 2).contains(&moved.len()),
        "about 1/4 of the minds move: {}",
        moved.len()
    );

    shout(&format!(
        "proxy.rs: restarted s{} ({} minds), all {} minds intact; {:.1} s in all",
        victim + 1,
        victims_minds.len(),
        acknowledged.len(),
        started.elapsed().as_secs_f64()
    ));
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "bounded: {:?}",
        started.elapsed()
    );
}

/// Subscribe's heartbeats are what keep a quiet stream open through the
/// proxy: with the proxy's idle timeouts cut to 1 s (10 min in the real
/// config), a subscription with heartbeats every 300 ms stays open for 3 s,
/// one without heartbeats is cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_hold_a_quiet_subscription_open_through_the_proxy() {
    let Some(haproxy) = haproxy_bin() else {
        shout("proxy.rs: haproxy NOT FOUND — the heartbeat-through-the-proxy test was NOT RUN");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::spawn(&dir.path().join("pmm.db"), &[]).await;
    let server_port: u16 = server
        .addr
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .expect("server port");
    let bind = format!("127.0.0.1:{}", free_ports(1)[0]);
    let full = haproxy_config(&bind, dir.path(), &[server_port]);
    let short = full
        .replace("timeout client 10m", "timeout client 1s")
        .replace("timeout server 10m", "timeout server 1s");
    assert_ne!(
        full, short,
        "the config's idle timeouts are where this test expects"
    );
    let config = dir.path().join("haproxy.cfg");
    std::fs::write(&config, short).expect("write the config");
    let _proxy = Proxy::start(&haproxy, &config, &dir.path().join("haproxy.log"));

    let deadline = Instant::now() + Duration::from_secs(10);
    let through = loop {
        if let Ok(channel) = channel(&bind).await {
            if LedgerClient::new(channel.clone())
                .head(named(v1::HeadRequest {}, None))
                .await
                .is_ok()
            {
                break channel;
            }
        }
        assert!(Instant::now() < deadline, "haproxy never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let subscribe = |heartbeat_ms: u32| {
        let mut ledger = LedgerClient::new(through.clone());
        async move {
            let mut request = tonic::Request::new(SubscribeRequest {
                start: Some(v1::subscribe_request::Start::OnlyNew(true)),
                heartbeat_ms: Some(heartbeat_ms),
                ..Default::default()
            });
            request.set_timeout(Duration::from_secs(30));
            let mut stream = ledger
                .subscribe(request)
                .await
                .expect("subscribe")
                .into_inner();
            let first = stream.message().await.expect("caught_up").expect("message");
            assert!(matches!(
                first.item,
                Some(v1::subscribe_response::Item::CaughtUp(_))
            ));
            stream
        }
    };
    let mut beating = subscribe(300).await;
    let mut silent = subscribe(0).await;
    let held_for = Duration::from_secs(3);
    let until = Instant::now() + held_for;
    let mut heartbeats = 0;
    while Instant::now() < until {
        let message = tokio::time::timeout(Duration::from_secs(1), beating.message())
            .await
            .expect("a message within 1 s")
            .expect("the stream with heartbeats stays open")
            .expect("not ended");
        if matches!(
            message.item,
            Some(v1::subscribe_response::Item::Heartbeat(_))
        ) {
            heartbeats += 1;
        }
    }
    assert!(
        heartbeats >= 5,
        "heartbeats every 300 ms over 3 s: {heartbeats}"
    );
    let ended = tokio::time::timeout(Duration::from_secs(1), silent.message())
        .await
        .expect("the quiet stream was already closed by the proxy");
    assert!(
        !matches!(ended, Ok(Some(_))),
        "a quiet stream without heartbeats is cut after the proxy's idle timeout: {ended:?}"
    );
    shout(&format!(
        "proxy.rs: proxy idle timeout 1 s: with heartbeats held {held_for:?} ({heartbeats} heartbeats); \
         without, cut: {ended:?}"
    ));
}

#[test]
fn the_config_template_has_its_placeholders_and_the_routing_lines() {
    let template = include_str!("../../deploy/haproxy.cfg.in");
    let config = haproxy_config("127.0.0.1:1", Path::new("/run/x"), &[2, 3]);
    assert!(!config.contains('@'), "every placeholder filled:\n{config}");
    for line in [
        "bind 127.0.0.1:1 proto h2",
        "balance hdr(pmm-mind)",
        "hash-type consistent sdbm avalanche",
        "server s1 127.0.0.1:2 id 1 proto h2",
        "server s2 127.0.0.1:3 id 2 proto h2",
        "http-request set-header pmm-mind default unless { req.hdr(pmm-mind) -m found }",
        "http-after-response set-header pmm-shard %[srv_name]",
        "no option redispatch",
        "http-error status 503 hdr grpc-status 14 hdr grpc-message \"pmm proxy: the server of this mind is unavailable\"",
    ] {
        assert!(
            config.lines().any(|l| l.trim() == line),
            "{line:?} in\n{config}"
        );
    }
    assert!(
        !template
            .lines()
            .any(|l| l.trim_start().starts_with("server ")),
        "servers come from the placeholder only"
    );
    assert!(
        !config
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains(" check")),
        "no health checks (SCALING.md: they would move minds)"
    );
}
