//! `pmm watch` in a pseudo-terminal: the screen (read through a terminal
//! emulator) shows the head and the latest events, is redrawn as new events
//! are committed, and `q` quits with the terminal restored. Every wait is
//! bounded.

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Server;
use pmm_client::{Client, NewEvent};
use portable_pty::{native_pty_system, CommandBuilder, PtySize};

const ROWS: u16 = 30;
const COLS: u16 = 110;
/// Longest wait for any one screen.
const WAIT: Duration = Duration::from_secs(20);

/// The emulated screen, fed by a thread reading the pseudo-terminal.
#[derive(Clone)]
struct Screen(Arc<Mutex<vt100::Parser>>);

impl Screen {
    fn contents(&self) -> String {
        self.0
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Waits until the screen shows every one of `wanted`.
    async fn wait_for(&self, wanted: &[&str]) {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.contents();
            if wanted.iter().all(|w| screen.contains(w)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "screen never showed {wanted:?}; it shows:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn watch_redraws_as_events_arrive_and_q_quits() {
    let server = Server::start().await;
    let client = Client::connect(&server.addr).await.expect("connect");
    client
        .append(NewEvent::new("identity_adopt", "Echo").with_meta_text(r#"{"confidence": 0.95}"#))
        .await
        .expect("append");
    client
        .append(NewEvent::new("user", "first words"))
        .await
        .expect("append");

    let pty = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pseudo-terminal");
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_pmm"));
    command.args(["--addr", server.addr.as_str(), "watch"]);
    command.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(command).expect("spawn pmm watch");
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().expect("reader");
    let mut writer = pty.master.take_writer().expect("writer");
    let screen = Screen(Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0))));
    let feed = screen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut parser) = feed.0.lock() {
                parser.process(&buf[..n]);
            }
        }
    });

    // First frame: the stored events, the head, the metrics.
    screen
        .wait_for(&[
            "pmm watch",
            "[live]",
            "head #2",
            "first words",
            "identity_adopt",
            "stage S0",
        ])
        .await;
    // New events are drawn as they are committed.
    for i in 1..=3 {
        client
            .append(NewEvent::new("reflection", format!("live line {i}")))
            .await
            .expect("append");
    }
    screen
        .wait_for(&["head #5", "live line 3", "events 5"])
        .await;
    client
        .append(NewEvent::new("user", "one more"))
        .await
        .expect("append");
    screen.wait_for(&["head #6", "one more"]).await;

    writer.write_all(b"q").expect("type q");
    writer.flush().expect("flush");
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "pmm watch did not quit on q; screen:\n{}",
                screen.contents()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    server.stop().await;
}
