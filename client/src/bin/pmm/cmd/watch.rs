//! `pmm watch`: a live view of the ledger in the terminal, redrawn as the
//! subscription delivers events (through the client's resilient
//! subscription, so it survives a dropped connection or a server restart).
//! With --json, one JSON line per new event instead, for scripts.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use pmm_client::{jsonl, MetricsOptions, Start, SubItem, SubscribeSpec};
use ratatui::crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::prelude::CrosstermBackend;
use ratatui::Terminal;
use serde_json::json;
use tokio::sync::mpsc;

use super::Ctx;
use crate::cli::WatchArgs;
use crate::fail::Fail;
use crate::machine;
use crate::out::Out;
use crate::watch_view::WatchState;

/// Events replayed first, to fill the list.
const BACKFILL: u64 = 200;
/// Metrics are fetched again at most this often while events arrive.
const METRICS_EVERY: Duration = Duration::from_millis(200);
/// Longest wait for the metrics while the view is live.
const METRICS_TIMEOUT: Duration = Duration::from_secs(2);
/// The view is redrawn at least this often (the rate decays).
const TICK: Duration = Duration::from_millis(500);

pub async fn run(ctx: &Ctx, args: WatchArgs) -> Result<(), Fail> {
    if args.rate_window.is_nan() || args.rate_window <= 0.0 {
        return Err(Fail::usage("--rate-window: must be positive"));
    }
    let head = ctx.client.head().await?;
    let start = Start::AfterId(head.last_id.saturating_sub(BACKFILL));
    // The title names the mind when it is not the default one.
    let title = match ctx.client.mind_name() {
        pmm::mind::DEFAULT_MIND => ctx.addr.clone(),
        mind => format!("{} mind {mind}", ctx.addr),
    };
    let state = WatchState::new(
        title,
        head,
        Duration::from_secs_f64(args.rate_window),
        args.kinds,
        args.lines,
    );
    let items = ctx
        .client
        .subscribe_resilient(SubscribeSpec::new(start).with_heartbeat(Duration::from_secs(1)))
        .boxed();
    if ctx.json {
        return json_lines(ctx, state, items).await;
    }
    if !std::io::stdout().is_terminal() {
        return Err(Fail::usage(
            "watch needs a terminal (or --json for JSON lines)",
        ));
    }
    let mut screen = Screen::enter().map_err(|e| Fail::server(format!("terminal: {e}")))?;
    let result = live(ctx, state, items, &mut screen).await;
    drop(screen);
    result
}

type Items = futures_util::stream::BoxStream<'static, Result<SubItem, pmm_client::ClientError>>;

/// The terminal in raw mode on the alternate screen, restored when dropped.
struct Screen {
    terminal: Terminal<CrosstermBackend<std::io::Stdout>>,
}

impl Screen {
    fn enter() -> std::io::Result<Screen> {
        enable_raw_mode()?;
        let mut stdout = std::io::stdout();
        if let Err(e) = execute!(stdout, EnterAlternateScreen) {
            let _ = disable_raw_mode();
            return Err(e);
        }
        let mut terminal = Terminal::new(CrosstermBackend::new(stdout))?;
        terminal.hide_cursor()?;
        terminal.clear()?;
        Ok(Screen { terminal })
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = disable_raw_mode();
        let _ = execute!(self.terminal.backend_mut(), LeaveAlternateScreen);
        let _ = self.terminal.show_cursor();
    }
}

/// What the keyboard thread reports.
enum Input {
    Quit,
    Redraw,
}

/// Reads the terminal's events on a thread of its own (crossterm's reads
/// block); it ends once the view has gone.
fn keyboard() -> mpsc::Receiver<Input> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        while !tx.is_closed() {
            match event::poll(Duration::from_millis(100)) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(_) => break,
            }
            let input = match event::read() {
                Ok(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => match k.code {
                    KeyCode::Char('q') | KeyCode::Esc => Input::Quit,
                    KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                        Input::Quit
                    }
                    _ => continue,
                },
                Ok(TermEvent::Resize(..)) => Input::Redraw,
                Ok(_) => continue,
                Err(_) => break,
            };
            if tx.blocking_send(input).is_err() {
                break;
            }
        }
    });
    rx
}

async fn live(
    ctx: &Ctx,
    mut state: WatchState,
    mut items: Items,
    screen: &mut Screen,
) -> Result<(), Fail> {
    let mut keys = keyboard();
    // A short deadline, so that a server gone away does not hold up q.
    let metrics_client = ctx.client.with_request_timeout(Some(METRICS_TIMEOUT));
    let mut tick = tokio::time::interval(TICK);
    let mut metrics_at: Option<Instant> = None;
    let mut metrics_due = true;
    loop {
        if metrics_due && metrics_at.is_none_or(|t| t.elapsed() >= METRICS_EVERY) {
            // A failed read leaves the last metrics shown; the status line
            // tells of connection trouble.
            if let Ok(m) = metrics_client.get_metrics(&MetricsOptions::default()).await {
                state.metrics = Some(m);
            }
            metrics_at = Some(Instant::now());
            metrics_due = false;
        }
        screen
            .terminal
            .draw(|f| state.draw(f, Instant::now()))
            .map_err(|e| Fail::server(format!("terminal: {e}")))?;
        tokio::select! {
            key = keys.recv() => match key {
                Some(Input::Quit) | None => return Ok(()),
                Some(Input::Redraw) => {}
            },
            item = items.next() => match item {
                Some(Ok(item)) => metrics_due |= apply(&mut state, item),
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            _ = tick.tick() => {}
        }
    }
}

/// Folds one subscription item into the view; true when the metrics may
/// have changed.
fn apply(state: &mut WatchState, item: SubItem) -> bool {
    match item {
        SubItem::Event(ev) => {
            state.event(ev, Instant::now());
            true
        }
        SubItem::CaughtUp(p) => {
            state.server_head(p.head);
            state.status = "live".into();
            true
        }
        SubItem::Heartbeat(p) => {
            state.server_head(p.head);
            false
        }
        SubItem::Reconnecting(r) => {
            state.status = format!("reconnecting: {}", r.reason);
            false
        }
        _ => false,
    }
}

/// `--json`: one line per new event, with the head, rate and metrics after it.
async fn json_lines(ctx: &Ctx, mut state: WatchState, mut items: Items) -> Result<(), Fail> {
    let mut out = Out::new();
    let known = state.head.last_id;
    while let Some(item) = items.next().await {
        let item = item?;
        let new_event = match &item {
            SubItem::Event(ev) if ev.id > known => Some(jsonl::format_event(ev)),
            _ => None,
        };
        apply(&mut state, item);
        if let Some(event) = new_event {
            let metrics = ctx.client.get_metrics(&MetricsOptions::default()).await?;
            let event: serde_json::Value = serde_json::from_str(&event)
                .map_err(|e| Fail::server(format!("event JSON: {e}")))?;
            out.json(&json!({
                "head": machine::head(&state.head),
                "rate_per_second": state.rate(Instant::now()),
                "metrics": machine::metrics(&metrics),
                "event": event,
            }))?;
            out.flush()?;
        }
    }
    Ok(out.flush()?)
}
