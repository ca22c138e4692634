//! Python 3.11 semantics that PMM leans on, reproduced bit for bit.
//!
//! SPEC.md is written against Python: floats are printed with `repr` and
//! `format(x, ".2f")`, values are coerced with `float()`/`int()`, shown with
//! `str()`, trimmed/lower-cased with `str.strip`/`str.lower`, whitespace is
//! `re`'s Unicode `\s`, and timestamps go through `datetime.fromisoformat`.
//! This module is the one place where those semantics live, one module per
//! job. The Unicode data Python 3.11 uses (14.0.0) is embedded where Rust's
//! own tables are newer (`unicode`); `tests/py_differential.rs` checks
//! every function here against a real `python3`. [`json`] is `json.dumps`,
//! both the hash chain's canonical form and the reference's stored texts.
//!
//! The functions are also re-exported here, so callers can write
//! `py::float_repr(x)` without naming the module they live in.

pub mod coerce;
pub mod float;
pub mod isoformat;
pub mod json;
pub mod repr;
pub mod text;
mod unicode;

pub use coerce::{coerce_float, coerce_int, truthy};
pub use float::{
    float_repr, format_2f, number_is_int, number_to_f64, py_max, py_min, write_float_repr,
};
pub use isoformat::iso_wall_clock;
pub use repr::py_str;
pub use text::{collapse_ws, is_space, lower, strip, PY_WS_CLASS};
