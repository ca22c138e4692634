//! The metrics history as a chart in the terminal: IAS and GAS over event
//! ids (a ratatui canvas drawn into an off-screen buffer), the stage as a
//! band of labelled segments under the x axis, printed as text — with ANSI
//! colours when asked. A pure function of the history.

use std::fmt::Write as _;

use pmm_client::v1;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::widgets::canvas::{Canvas, Line};
use ratatui::widgets::Widget;

/// Columns left of the plot: y labels and the axis.
const GUTTER: u16 = 6;
pub const IAS_COLOR: Color = Color::Cyan;
pub const GAS_COLOR: Color = Color::Yellow;

/// The colour of a stage's band (S0 to S4).
pub fn stage_color(level: u32) -> Color {
    match level {
        0 => Color::DarkGray,
        1 => Color::Blue,
        2 => Color::Green,
        3 => Color::Yellow,
        _ => Color::Magenta,
    }
}

/// The stage name of a point, `?` when it could not be computed.
fn stage_of(p: &v1::MetricsPoint) -> (String, Option<u32>) {
    match &p.stage {
        Some(s) => (s.name.clone(), Some(s.level)),
        None => ("?".into(), None),
    }
}

/// The chart, `width` columns by `height` rows for the plot itself (plus
/// four rows: x axis, x labels, the stage band, the legend).
pub fn render(
    history: &v1::GetMetricsHistoryResponse,
    width: u16,
    height: u16,
    color: bool,
) -> String {
    let points = &history.points;
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return "no points\n".into();
    };
    let (x0, x1) = (first.as_of_id as f64, last.as_of_id as f64);
    let x_bounds = if x1 > x0 {
        [x0, x1]
    } else {
        [x0 - 0.5, x0 + 0.5]
    };
    let plot_w = width.saturating_sub(GUTTER).max(10);
    let area = Rect::new(0, 0, GUTTER + plot_w, height + 4);
    let mut buf = Buffer::empty(area);
    let plot = Rect::new(GUTTER, 0, plot_w, height);

    // GAS first, as dots; IAS over it in braille, so the two differ
    // without colour too.
    for (marker, pick, line_color) in [
        (
            Marker::Dot,
            (|p: &v1::MetricsPoint| p.gas) as fn(&v1::MetricsPoint) -> f64,
            GAS_COLOR,
        ),
        (Marker::Braille, |p: &v1::MetricsPoint| p.ias, IAS_COLOR),
    ] {
        Canvas::default()
            .x_bounds(x_bounds)
            .y_bounds([0.0, 1.0])
            .marker(marker)
            .paint(|ctx| {
                for pair in points.windows(2) {
                    ctx.draw(&Line::new(
                        pair[0].as_of_id as f64,
                        pick(&pair[0]),
                        pair[1].as_of_id as f64,
                        pick(&pair[1]),
                        line_color,
                    ));
                }
                if points.len() == 1 {
                    ctx.draw(&Line::new(x0, pick(first), x0, pick(first), line_color));
                }
            })
            .render(plot, &mut buf);
    }

    // The y axis with labels at 1, 0.5 and 0.
    let dim = Style::default().fg(Color::DarkGray);
    for row in 0..height {
        let label = match row {
            0 => Some("1.0"),
            r if r == height - 1 => Some("0.0"),
            r if r == (height - 1) / 2 && height % 2 == 1 => Some("0.5"),
            _ => None,
        };
        let text = match label {
            Some(l) => format!("{l:>4} ┤"),
            None => "     │".to_string(),
        };
        buf.set_string(0, row, text, dim);
    }
    buf.set_string(
        0,
        height,
        format!("     └{}", "─".repeat(plot_w as usize)),
        dim,
    );

    // The x labels: first and last id, and the middle one when there is room.
    let (left, right) = (
        format!("#{}", first.as_of_id),
        format!("#{}", last.as_of_id),
    );
    buf.set_string(GUTTER, height + 1, &left, Style::default());
    let right_x = (GUTTER + plot_w).saturating_sub(right.chars().count() as u16);
    if right_x as usize > GUTTER as usize + left.chars().count() + 1 {
        buf.set_string(right_x, height + 1, &right, Style::default());
    }

    // The stage band: each column shows the stage of the point nearest to
    // its id; a run of columns long enough starts with the stage's name.
    buf.set_string(0, height + 2, "stage", Style::default());
    let mut columns: Vec<(String, Option<u32>)> = Vec::with_capacity(plot_w as usize);
    let mut at = 0usize;
    for col in 0..plot_w {
        let id = x_bounds[0] + (col as f64 + 0.5) / plot_w as f64 * (x_bounds[1] - x_bounds[0]);
        while at + 1 < points.len()
            && (points[at + 1].as_of_id as f64 - id).abs()
                <= (points[at].as_of_id as f64 - id).abs()
        {
            at += 1;
        }
        columns.push(stage_of(&points[at]));
    }
    let mut col = 0usize;
    while col < columns.len() {
        let (name, level) = &columns[col];
        let run = columns[col..].iter().take_while(|c| c.0 == *name).count();
        let style = Style::default().fg(level.map_or(Color::Red, stage_color));
        let x = GUTTER + col as u16;
        let label = name.chars().count();
        if run > label {
            buf.set_string(
                x,
                height + 2,
                format!("{name}{}", "━".repeat(run - label)),
                style,
            );
        } else {
            buf.set_string(x, height + 2, "━".repeat(run), style);
        }
        col += run;
    }

    // The legend.
    let legend_y = height + 3;
    buf.set_string(GUTTER, legend_y, "⣿ IAS", Style::default().fg(IAS_COLOR));
    buf.set_string(
        GUTTER + 7,
        legend_y,
        "• GAS",
        Style::default().fg(GAS_COLOR),
    );
    buf.set_string(
        GUTTER + 14,
        legend_y,
        format!("{} points, as of #{}", points.len(), history.as_of_id),
        dim,
    );
    to_text(&buf, color)
}

/// The buffer as lines of text (trailing blanks trimmed), with ANSI
/// foreground colours when `color`.
fn to_text(buf: &Buffer, color: bool) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut current = Color::Reset;
        for x in area.left()..area.right() {
            let Some(cell) = buf.cell((x, y)) else {
                continue;
            };
            if color && cell.symbol() != " " && cell.fg != current {
                current = cell.fg;
                line.push_str(&sgr(current));
            }
            line.push_str(cell.symbol());
        }
        let mut line = line.trim_end().to_string();
        if color && current != Color::Reset {
            line.push_str("\x1b[0m");
        }
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The SGR sequence selecting a foreground colour.
fn sgr(c: Color) -> String {
    let code = match c {
        Color::Black => 30,
        Color::Red => 31,
        Color::Green => 32,
        Color::Yellow => 33,
        Color::Blue => 34,
        Color::Magenta => 35,
        Color::Cyan => 36,
        Color::Gray => 37,
        Color::DarkGray => 90,
        _ => 39,
    };
    format!("\x1b[{code}m")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(id: u64, ias: f64, gas: f64, stage: &str) -> v1::MetricsPoint {
        v1::MetricsPoint {
            as_of_id: id,
            event_count: id,
            ias,
            gas,
            stage: Some(v1::Stage {
                name: stage.into(),
                level: stage[1..].parse().unwrap(),
                snapshot: None,
            }),
            stage_error: None,
        }
    }

    #[test]
    fn the_chart_has_axes_bands_and_a_legend() {
        let history = v1::GetMetricsHistoryResponse {
            points: vec![
                point(1, 0.0, 0.0, "S0"),
                point(50, 0.5, 0.3, "S1"),
                point(100, 1.0, 0.6, "S3"),
            ],
            as_of_id: 100,
        };
        let text = render(&history, 46, 8, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 12, "{text}");
        assert!(lines[0].starts_with(" 1.0 ┤"), "{text}");
        assert!(lines[7].starts_with(" 0.0 ┤"), "{text}");
        assert!(lines[8].starts_with("     └────"), "{text}");
        assert!(
            lines[9].trim_start().starts_with("#1") && lines[9].ends_with("#100"),
            "{text}"
        );
        let band = lines[10];
        assert!(band.starts_with("stage S0━"), "{text}");
        let (s1, s3) = (band.find("S1").unwrap(), band.find("S3").unwrap());
        assert!(s1 < s3, "{text}");
        assert!(
            lines[11].contains("⣿ IAS") && lines[11].contains("• GAS"),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
        // The IAS line reaches the top right corner, braille.
        assert!(
            lines[0]
                .trim_end()
                .ends_with(|c: char| ('\u{2800}'..='\u{28ff}').contains(&c)),
            "{text}"
        );
        let colored = render(&history, 46, 8, true);
        assert!(colored.contains("\x1b[36m") && colored.contains("\x1b[0m"));
    }

    #[test]
    fn one_point_and_none_are_drawn() {
        let one = v1::GetMetricsHistoryResponse {
            points: vec![point(0, 0.0, 0.0, "S0")],
            as_of_id: 0,
        };
        assert!(render(&one, 40, 6, false).contains("stage S0"));
        let none = v1::GetMetricsHistoryResponse::default();
        assert_eq!(render(&none, 40, 6, false), "no points\n");
    }
}
