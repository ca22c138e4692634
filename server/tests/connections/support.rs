//! An in-process server with adjusted connection settings, raw TCP
//! connections to it, and gRPC clients.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use pmm::v1::ledger_client::LedgerClient;
use pmm::v1::{self, StatsResponse};
use pmm_server::config::Config;
use pmm_server::server::{self, Running};
use pmm_server::transport::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::transport::Channel;

/// The HTTP/2 client preface and an empty SETTINGS frame: what a client
/// sends first.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// A running server over a new empty ledger.
pub struct Server {
    pub running: Running,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start(adjust: impl FnOnce(&mut Settings)) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_db(dir.path().join("pmm.db"));
        config.addr = "127.0.0.1:0".parse().expect("addr");
        adjust(&mut config.connections);
        let mut running = server::bind_and_start(config).await.expect("start");
        running.ready().await.expect("ready");
        Server {
            addr: running.addr,
            running,
            _dir: dir,
        }
    }

    pub async fn stop(self) {
        self.running.shut_down().await.expect("clean shutdown");
    }
}

/// A new gRPC channel (its own connection).
pub async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect")
}

/// Stats over a new connection.
pub async fn stats(addr: SocketAddr) -> StatsResponse {
    stats_on(channel(addr).await).await
}

/// Stats over `channel`.
pub async fn stats_on(channel: Channel) -> StatsResponse {
    LedgerClient::new(channel)
        .stats(v1::StatsRequest {})
        .await
        .expect("stats")
        .into_inner()
}

/// A raw TCP connection that has sent `first` and nothing else.
pub async fn raw(addr: SocketAddr, first: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    if !first.is_empty() {
        stream.write_all(first).await.expect("write");
    }
    stream
}

/// How long until the server closed `stream` (end of stream or reset),
/// reading and discarding what it sends; `None` if still open after
/// `within`.
pub async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return start.elapsed(),
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, read_all).await.ok()
}
