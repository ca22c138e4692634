//! Developmental stage from telemetry windows (SPEC §4).

use imbl::Vector;
use pmm::py;
use serde_json::{json, Value};

use super::{float_value, Fold};
use crate::event::Event;

/// Number of telemetry points averaged.
pub const STAGE_WINDOW: usize = 10;

/// A telemetry value that cannot be read as a number: the stage of such a
/// window cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("telemetry {field} of event {id} is not a number: {value}")]
pub struct TelemetryError {
    pub id: i64,
    pub field: &'static str,
    pub value: String,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Point {
    id: i64,
    #[serde(with = "super::persisted::value")]
    ias: Value,
    #[serde(with = "super::persisted::value")]
    gas: Value,
}

/// The last telemetry points of ticks and of reflections.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct StageFold {
    ticks: Vector<Point>,
    reflections: Vector<Point>,
}

/// The stage and the snapshot it was computed from.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub name: &'static str,
    pub ias_mean: f64,
    pub gas_mean: f64,
    pub count: usize,
}

impl Stage {
    /// `{"stage", "snapshot": {"IAS_mean", "GAS_mean", "count", "window"}}`.
    pub fn to_json(&self) -> Value {
        json!({
            "stage": self.name,
            "snapshot": {
                "IAS_mean": float_value(self.ias_mean),
                "GAS_mean": float_value(self.gas_mean),
                "count": self.count,
                "window": STAGE_WINDOW,
            }
        })
    }
}

fn push_bounded(points: &mut Vector<Point>, point: Point) {
    points.push_back(point);
    if points.len() > STAGE_WINDOW {
        points.pop_front();
    }
}

fn coerce(point: &Point, field: &'static str, value: &Value) -> Result<f64, TelemetryError> {
    py::coerce_float(value).ok_or_else(|| TelemetryError {
        id: point.id,
        field,
        value: value.to_string(),
    })
}

/// The stage bucket of a pair of means.
pub fn bucket(ias: f64, gas: f64) -> &'static str {
    if ias >= 0.85 && gas >= 0.75 {
        "S4"
    } else if (0.70..0.85).contains(&ias) && (0.55..0.75).contains(&gas) {
        "S3"
    } else if (0.50..0.70).contains(&ias) && (0.35..0.55).contains(&gas) {
        "S2"
    } else if (0.35..0.50).contains(&ias) && (0.20..0.35).contains(&gas) {
        "S1"
    } else {
        "S0"
    }
}

impl StageFold {
    pub fn new() -> Self {
        Self::default()
    }

    /// The stage of the current window: the last 10 tick points, topped up
    /// with the last reflection points; sums left to right in that order.
    pub fn stage(&self) -> Result<Stage, TelemetryError> {
        let missing = STAGE_WINDOW - self.ticks.len();
        let from_reflections = self.reflections.len().min(missing);
        let window = self.ticks.iter().chain(
            self.reflections
                .iter()
                .skip(self.reflections.len() - from_reflections),
        );
        let (mut ias_sum, mut gas_sum, mut count) = (0.0, 0.0, 0usize);
        for point in window {
            ias_sum += coerce(point, "IAS", &point.ias)?;
            gas_sum += coerce(point, "GAS", &point.gas)?;
            count += 1;
        }
        let (ias_mean, gas_mean) = if count == 0 {
            (0.0, 0.0)
        } else {
            (ias_sum / count as f64, gas_sum / count as f64)
        };
        Ok(Stage {
            name: bucket(ias_mean, gas_mean),
            ias_mean,
            gas_mean,
            count,
        })
    }
}

impl Fold for StageFold {
    fn apply(&mut self, ev: &Event) {
        let points = match ev.kind.as_str() {
            "autonomy_tick" => &mut self.ticks,
            "reflection" => &mut self.reflections,
            _ => return,
        };
        let Some(tel) = ev.meta_get("telemetry").and_then(Value::as_object) else {
            return;
        };
        if let (Some(ias), Some(gas)) = (tel.get("IAS"), tel.get("GAS")) {
            push_bounded(
                points,
                Point {
                    id: ev.id,
                    ias: ias.clone(),
                    gas: gas.clone(),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::ev;

    #[test]
    fn ten_equal_points_sum_left_to_right() {
        let mut s = StageFold::new();
        for id in 1..=12 {
            s.apply(&ev(
                id,
                "autonomy_tick",
                "",
                r#"{"telemetry": {"IAS": 0.85, "GAS": 0.75}}"#,
            ));
        }
        let stage = s.stage().unwrap();
        assert_eq!(stage.ias_mean, 0.8499999999999999);
        // 0.8499999999999999 < 0.85 and GAS 0.75 is not < 0.75: neither S4 nor S3.
        assert_eq!((stage.name, stage.count), ("S0", 10));
    }

    #[test]
    fn reflections_top_up_a_short_tick_window() {
        let mut s = StageFold::new();
        s.apply(&ev(
            1,
            "reflection",
            "",
            r#"{"telemetry": {"IAS": "0.4", "GAS": 0.3}}"#,
        ));
        s.apply(&ev(
            2,
            "autonomy_tick",
            "",
            r#"{"telemetry": {"IAS": 0.4, "GAS": 0.2}}"#,
        ));
        let stage = s.stage().unwrap();
        assert_eq!((stage.name, stage.count, stage.gas_mean), ("S1", 2, 0.25));
    }

    #[test]
    fn junk_telemetry_in_the_window_is_an_error() {
        let mut s = StageFold::new();
        s.apply(&ev(
            7,
            "autonomy_tick",
            "",
            r#"{"telemetry": {"IAS": "high", "GAS": 0.2}}"#,
        ));
        assert_eq!(s.stage().unwrap_err().id, 7);
    }
}
