//! The metrics history as an image (SVG or PNG) with plotters: IAS and GAS
//! over event ids on top of tinted stage bands. Pure-Rust backends and an
//! embedded font (DejaVu Sans, from the `dejavu` crate), so it needs no
//! system library.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use pmm_client::v1;

/// Image size in pixels.
pub const SIZE: (u32, u32) = (960, 440);

const IAS: RGBColor = RGBColor(31, 119, 180);
const GAS: RGBColor = RGBColor(255, 127, 14);

fn stage_color(level: u32) -> RGBColor {
    match level {
        0 => RGBColor(150, 150, 150),
        1 => RGBColor(70, 110, 220),
        2 => RGBColor(40, 160, 70),
        3 => RGBColor(230, 170, 0),
        _ => RGBColor(160, 60, 190),
    }
}

/// The image format, from the flag that asked for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

/// Writes the chart of `history` to `path`.
pub fn write(
    history: &v1::GetMetricsHistoryResponse,
    path: &Path,
    format: Format,
) -> Result<(), String> {
    static FONT: Once = Once::new();
    let mut font = Ok(());
    FONT.call_once(|| {
        font = register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "the embedded font cannot be read".to_string());
    });
    font?;
    let result = match format {
        Format::Svg => draw(SVGBackend::new(path, SIZE).into_drawing_area(), history)
            .map_err(|e| e.to_string()),
        Format::Png => draw(BitMapBackend::new(path, SIZE).into_drawing_area(), history)
            .map_err(|e| e.to_string()),
    };
    result.map_err(|e| format!("{}: {e}", path.display()))
}

/// A run of points of one stage: (first id, last id, stage name and level
/// or `None` when it could not be computed).
type Band = (f64, f64, Option<(String, u32)>);

/// Consecutive points of one stage.
fn bands(points: &[v1::MetricsPoint]) -> Vec<Band> {
    let mut bands: Vec<Band> = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let stage = p.stage.as_ref().map(|s| (s.name.clone(), s.level));
        // A stage holds from its point up to the next point.
        let end = points.get(i + 1).map_or(p.as_of_id, |n| n.as_of_id) as f64;
        match bands.last_mut() {
            Some(last) if last.2 == stage => last.1 = end,
            _ => bands.push((p.as_of_id as f64, end, stage)),
        }
    }
    bands
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    history: &v1::GetMetricsHistoryResponse,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let points = &history.points;
    let (x0, x1) = match (points.first(), points.last()) {
        (Some(a), Some(b)) if b.as_of_id > a.as_of_id => (a.as_of_id as f64, b.as_of_id as f64),
        (Some(a), _) => (a.as_of_id as f64 - 0.5, a.as_of_id as f64 + 0.5),
        _ => (0.0, 1.0),
    };
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "IAS, GAS and stage over event ids (as of #{})",
                history.as_of_id
            ),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(x0..x1, 0f64..1.05f64)?;
    chart
        .configure_mesh()
        .x_desc("event id")
        .y_desc("score")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let bands = bands(points);
    chart.draw_series(bands.iter().map(|(a, b, stage)| {
        let color = stage
            .as_ref()
            .map_or(RGBColor(220, 60, 60), |s| stage_color(s.1));
        Rectangle::new([(*a, 0.0), (*b, 1.05)], color.mix(0.15).filled())
    }))?;
    let min_label_width = (x1 - x0) / 30.0;
    chart.draw_series(
        bands
            .iter()
            .filter(|(a, b, _)| b - a >= min_label_width)
            .map(|(a, _, stage)| {
                let name = stage.as_ref().map_or("?".to_string(), |s| s.0.clone());
                Text::new(
                    name,
                    (*a, 1.04),
                    ("sans-serif", 14).into_font().color(&BLACK.mix(0.6)),
                )
            }),
    )?;
    for (name, color, pick) in [
        (
            "IAS",
            IAS,
            (|p: &v1::MetricsPoint| p.ias) as fn(&v1::MetricsPoint) -> f64,
        ),
        ("GAS", GAS, |p: &v1::MetricsPoint| p.gas),
    ] {
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.as_of_id as f64, pick(p))),
                color.stroke_width(2),
            ))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(id: u64, stage: Option<&str>) -> v1::MetricsPoint {
        v1::MetricsPoint {
            as_of_id: id,
            ias: 0.5,
            gas: 0.25,
            stage: stage.map(|s| v1::Stage {
                name: s.into(),
                level: s[1..].parse().unwrap(),
                snapshot: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn bands_merge_points_of_one_stage() {
        let points = [
            point(1, Some("S0")),
            point(5, Some("S0")),
            point(9, Some("S2")),
            point(12, None),
        ];
        let b = bands(&points);
        assert_eq!(b.len(), 3);
        assert_eq!((b[0].0, b[0].1), (1.0, 9.0));
        assert_eq!(
            (b[1].0, b[1].1, b[1].2.clone()),
            (9.0, 12.0, Some(("S2".into(), 2)))
        );
        assert_eq!(b[2].2, None);
    }

    #[test]
    fn svg_and_png_files_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let history = v1::GetMetricsHistoryResponse {
            points: vec![
                point(1, Some("S0")),
                point(40, Some("S1")),
                point(80, Some("S1")),
            ],
            as_of_id: 80,
        };
        let svg = dir.path().join("h.svg");
        write(&history, &svg, Format::Svg).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(
            text.starts_with("<svg") && text.contains("IAS"),
            "{}",
            &text[..200.min(text.len())]
        );
        let png = dir.path().join("h.png");
        write(&history, &png, Format::Png).unwrap();
        assert!(std::fs::read(&png)
            .unwrap()
            .starts_with(b"\x89PNG\r\n\x1a\n"));
    }
}
