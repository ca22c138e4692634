//! What `pmm watch` shows, and how: the state the live view keeps (head,
//! event rate, metrics, latest events, connection status) and one pure
//! function drawing it into a ratatui frame.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use pmm_client::{v1, Event, Head};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, LineGauge, Paragraph, Row, Table};
use ratatui::Frame;

use crate::chart::{stage_color, GAS_COLOR, IAS_COLOR};
use crate::table::one_line;

/// Latest events kept (more than any terminal shows).
const KEPT_EVENTS: usize = 500;

/// The state of the live view.
#[derive(Debug)]
pub struct WatchState {
    pub addr: String,
    pub head: Head,
    pub metrics: Option<v1::GetMetricsResponse>,
    /// Newest last.
    pub events: VecDeque<Event>,
    /// Arrival times of live events within the rate window.
    arrivals: VecDeque<Instant>,
    rate_window: Duration,
    /// Shown events' kinds (empty = all).
    kinds: Vec<String>,
    /// Most events listed (`None` = as many as fit).
    lines: Option<usize>,
    /// `live`, `catching up`, or why it is reconnecting.
    pub status: String,
}

impl WatchState {
    pub fn new(
        addr: String,
        head: Head,
        rate_window: Duration,
        kinds: Vec<String>,
        lines: Option<usize>,
    ) -> Self {
        WatchState {
            addr,
            head,
            metrics: None,
            events: VecDeque::new(),
            arrivals: VecDeque::new(),
            rate_window,
            kinds,
            lines,
            status: "catching up".into(),
        }
    }

    /// An event from the subscription; events past the head known so far
    /// are new (they count in the head and the rate).
    pub fn event(&mut self, ev: Event, now: Instant) {
        if ev.id > self.head.last_id {
            self.head.last_id = ev.id;
            self.head.count += 1;
            self.head.last_hash = ev.hash.clone();
            self.head.last_ts = Some(ev.ts.clone());
            self.arrivals.push_back(now);
        }
        if self.kinds.is_empty() || self.kinds.contains(&ev.kind) {
            self.events.push_back(ev);
            if self.events.len() > KEPT_EVENTS {
                self.events.pop_front();
            }
        }
    }

    /// A head the server reported (caught-up marker, heartbeat).
    pub fn server_head(&mut self, head: Head) {
        if head.last_id >= self.head.last_id {
            self.head = head;
        }
    }

    /// Live events per second over the rate window ending at `now`.
    pub fn rate(&mut self, now: Instant) -> f64 {
        while self
            .arrivals
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.rate_window)
        {
            self.arrivals.pop_front();
        }
        self.arrivals.len() as f64 / self.rate_window.as_secs_f64()
    }

    /// Draws the view.
    pub fn draw(&mut self, frame: &mut Frame, now: Instant) {
        let rate = self.rate(now);
        let [title, numbers, gauges, list] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(3),
            Constraint::Length(2),
            Constraint::Min(3),
        ])
        .areas(frame.area());

        let bold = Style::default().add_modifier(Modifier::BOLD);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("pmm watch ", bold),
                Span::raw(self.addr.clone()),
                Span::styled(
                    format!("  [{}]", self.status),
                    Style::default().fg(Color::DarkGray),
                ),
                Span::styled("  q quits", Style::default().fg(Color::DarkGray)),
            ])),
            title,
        );

        let stage = self.metrics.as_ref().and_then(|m| m.stage.clone());
        let stage_span = match &stage {
            Some(s) => Span::styled(s.name.clone(), bold.fg(stage_color(s.level))),
            None => Span::raw("-"),
        };
        let (ias, gas) = self.metrics.as_ref().map_or((0.0, 0.0), |m| (m.ias, m.gas));
        let numbers_line = Line::from(vec![
            Span::raw("head "),
            Span::styled(format!("#{}", self.head.last_id), bold),
            Span::raw(format!("   events {}", self.head.count)),
            Span::raw("   rate "),
            Span::styled(format!("{rate:.1}/s"), bold),
            Span::raw("   IAS "),
            Span::styled(format!("{ias:.4}"), bold.fg(IAS_COLOR)),
            Span::raw("   GAS "),
            Span::styled(format!("{gas:.4}"), bold.fg(GAS_COLOR)),
            Span::raw("   stage "),
            stage_span,
        ]);
        frame.render_widget(
            Paragraph::new(numbers_line)
                .block(Block::default().borders(Borders::ALL).title("ledger")),
            numbers,
        );

        let [ias_area, gas_area] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(gauges);
        for (area, label, value, color) in [
            (ias_area, "IAS", ias, IAS_COLOR),
            (gas_area, "GAS", gas, GAS_COLOR),
        ] {
            frame.render_widget(
                LineGauge::default()
                    .label(label)
                    .ratio(value.clamp(0.0, 1.0))
                    .filled_style(Style::default().fg(color)),
                area,
            );
        }

        let fit = list.height.saturating_sub(3) as usize;
        let shown = self.lines.map_or(fit, |n| n.min(fit));
        let content_width = list.width.saturating_sub(8 + 26 + 16 + 8).max(10) as usize;
        let rows: Vec<Row> = self
            .events
            .iter()
            .rev()
            .take(shown)
            .map(|ev| {
                let text = if ev.content.is_empty() {
                    ev.meta.to_string()
                } else {
                    ev.content.clone()
                };
                Row::new(vec![
                    Cell::from(format!("#{}", ev.id)),
                    Cell::from(ev.ts.clone()),
                    Cell::from(ev.kind.clone()),
                    Cell::from(one_line(&text, Some(content_width))),
                ])
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(8),
                Constraint::Length(26),
                Constraint::Length(16),
                Constraint::Min(10),
            ],
        )
        .header(Row::new(vec!["ID", "TS", "KIND", "CONTENT"]).style(bold))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title("latest events"),
        );
        frame.render_widget(table, list);
    }
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use super::*;

    fn ev(id: u64, kind: &str, content: &str) -> Event {
        Event {
            id,
            ts: "2025-09-29T12:00:00+00:00".into(),
            kind: kind.into(),
            content: content.into(),
            meta: serde_json::json!({}),
            prev_hash: None,
            hash: Some(format!("h{id}")),
        }
    }

    #[test]
    fn new_events_move_the_head_and_the_rate_old_ones_do_not() {
        let head = Head {
            last_id: 5,
            count: 5,
            ..Default::default()
        };
        let mut s = WatchState::new(
            "a".into(),
            head,
            Duration::from_secs(10),
            vec!["user".into()],
            None,
        );
        let t0 = Instant::now();
        s.event(ev(4, "user", "old"), t0);
        s.event(ev(6, "user", "new"), t0);
        s.event(ev(7, "reflection", "hidden"), t0);
        assert_eq!((s.head.last_id, s.head.count), (7, 7));
        assert_eq!(s.events.len(), 2, "only the kinds asked for are listed");
        assert_eq!(s.rate(t0), 0.2);
        assert_eq!(s.rate(t0 + Duration::from_secs(11)), 0.0);
    }

    #[test]
    fn the_frame_shows_head_metrics_and_events() {
        let mut s = WatchState::new(
            "127.0.0.1:1".into(),
            Head::default(),
            Duration::from_secs(10),
            vec![],
            None,
        );
        s.status = "live".into();
        s.metrics = Some(v1::GetMetricsResponse {
            ias: 0.25,
            gas: 0.5,
            stage: Some(v1::Stage {
                name: "S1".into(),
                level: 1,
                snapshot: None,
            }),
            ..Default::default()
        });
        let now = Instant::now();
        s.event(ev(1, "user", "hello there"), now);
        let mut terminal = Terminal::new(TestBackend::new(100, 16)).unwrap();
        terminal.draw(|f| s.draw(f, now)).unwrap();
        let screen: String = terminal
            .backend()
            .buffer()
            .content()
            .chunks(100)
            .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
            .collect();
        for want in [
            "pmm watch",
            "[live]",
            "head #1",
            "IAS 0.2500",
            "GAS 0.5000",
            "stage S1",
            "hello there",
        ] {
            assert!(screen.contains(want), "{want:?} missing from:\n{screen}");
        }
    }
}
