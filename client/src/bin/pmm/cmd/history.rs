//! `pmm metrics --history`: IAS, GAS and the stage over event ids, as a
//! chart in the terminal (--history), as images (--svg, --png), or as JSON.

use std::io::IsTerminal;

use pmm_client::HistoryOptions;

use super::Ctx;
use crate::cli::MetricsArgs;
use crate::fail::Fail;
use crate::image::{self, Format};
use crate::out::Out;
use crate::{chart, machine};

/// Chart size when the terminal's is unknown (not a terminal).
const DEFAULT_SIZE: (u16, u16) = (80, 16);
/// Points asked for an image when --points and --every are not given.
const IMAGE_POINTS: u32 = 400;

/// The terminal's width, if standard output is one.
fn terminal_width() -> Option<u16> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    ratatui::crossterm::terminal::size().ok().map(|(w, _)| w)
}

pub async fn run(ctx: &Ctx, args: MetricsArgs) -> Result<(), Fail> {
    let (width, height) = args.size.unwrap_or_else(|| {
        let w = terminal_width().unwrap_or(DEFAULT_SIZE.0).clamp(30, 400);
        (w, DEFAULT_SIZE.1)
    });
    let images = args.svg.is_some() || args.png.is_some();
    // Braille gives two dots per column: twice the width is as fine as
    // the terminal can show.
    let chart_points = u32::from(width) * 2;
    let points = match (args.points, args.every) {
        (Some(n), _) => Some(n),
        (None, Some(_)) => None,
        (None, None) if images => Some(IMAGE_POINTS.max(chart_points)),
        (None, None) => Some(chart_points),
    };
    let options = HistoryOptions {
        from_id: args.from,
        to_id: args.to.or(args.as_of),
        points,
        every: args.every,
    };
    let history = ctx.long_client().metrics_history(&options).await?;
    let mut written = Vec::new();
    for (path, format) in [(&args.svg, Format::Svg), (&args.png, Format::Png)] {
        if let Some(path) = path {
            image::write(&history, path, format).map_err(Fail::usage)?;
            written.push(path.display().to_string());
        }
    }
    let mut out = Out::new();
    if ctx.json {
        let mut v = machine::history(&history);
        v["written"] = serde_json::json!(written);
        out.json(&v)?;
    } else {
        if args.history {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            out.text(&chart::render(&history, width, height, color))?;
        }
        for path in written {
            out.line(&format!("wrote {path} ({} points)", history.points.len()))?;
        }
    }
    Ok(out.flush()?)
}
