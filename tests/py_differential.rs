//! Differential test of `pmm::py` against the real `python3`.
//!
//! A few thousand deterministic inputs (xorshift bit patterns for floats, generated strings
//! for coercion/whitespace/case/timestamps, nested JSON values for `str()` and `json.dumps`, and whole-Unicode
//! tables) are sent as JSON lines to ONE python3 process, which evaluates each with the
//! Python expression that SPEC.md names; the answers are compared with the Rust functions.
//! Fails, saying what to install, when `python3` (3.11 or later) is not on PATH.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use pmm::py;
use pmm::py::json::Options;
use serde_json::{json, Map, Number, Value};

/// Evaluates one request per input line, answers `{"r": result}` per line, in order.
const PYTHON: &str = r#"
import json, re, struct, sys, unicodedata
from datetime import datetime

WS = re.compile(r"\s+")
DUMPS = {
    "dumps": {},
    "dumps_canonical": {"sort_keys": True, "separators": (",", ":"), "allow_nan": False},
    "dumps_stored": {"sort_keys": True, "separators": (",", ":")},
    "dumps_keep": {"ensure_ascii": False},
}

def as_float(a):
    return struct.unpack(">d", struct.pack(">Q", int(a, 16)))[0]

def tables():
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    space = [c for c in cps if chr(c).isspace()]
    lower = [[c, chr(c).lower()] for c in cps if chr(c).lower() != chr(c)]
    sigma = []
    for c in cps:
        x = chr(c)
        # final-sigma context: bit 0 = x is cased or case-ignorable,
        # bit 1 = x is cased and not case-ignorable
        ignorable_or_cased = ("A" + x + "\u03a3").lower()[-1] == "\u03c2"
        cased = ("A\u03a3" + x).lower()[1] == "\u03c3"
        cls = ignorable_or_cased + 2 * cased
        if cls:
            sigma.append([c, cls])
    decimal = [[c, unicodedata.decimal(chr(c))]
               for c in cps if unicodedata.decimal(chr(c), -1) >= 0]
    return {"space": space, "lower": lower, "sigma": sigma, "decimal": decimal}

def run(op, a):
    if op == "repr":
        return repr(as_float(a))
    if op == "f2":
        return format(as_float(a), ".2f")
    if op == "float":
        if a is None or isinstance(a, (dict, list)):
            return None
        try:
            return struct.pack(">d", float(a)).hex()
        except (TypeError, ValueError, OverflowError):
            return None
    if op == "int":
        try:
            return str(int(a))
        except (TypeError, ValueError, OverflowError):
            return None
    if op == "str":
        return str(a)
    if op == "strip":
        return a.strip()
    if op == "collapse":
        return WS.sub(" ", a).strip()
    if op == "lower":
        return a.lower()
    if op == "iso":
        try:
            return datetime.fromisoformat(a).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (TypeError, ValueError):
            return None
    if op == "loads":
        try:
            return json.dumps(json.loads(a), sort_keys=True, separators=(",", ":"))
        except ValueError:
            return None
    if op in DUMPS:
        try:
            return json.dumps(a, **DUMPS[op])
        except ValueError:
            return None
    if op == "tables":
        return tables()
    raise ValueError(op)

out = []
for line in sys.stdin.buffer.read().decode("utf-8").split("\n"):
    if line:
        req = json.loads(line)
        out.append(json.dumps({"r": run(req["op"], req["arg"])}))
sys.stdout.write("\n".join(out) + "\n")
"#;

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// How many random cases to generate, as a multiple of the default (env `PY_DIFF_SCALE`,
/// default 1); `PY_DIFF_SEED` picks another deterministic seed. For longer fuzzing runs.
fn scale() -> usize {
    std::env::var("PY_DIFF_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

fn num(text: &str) -> Value {
    Value::Number(text.parse::<Number>().unwrap())
}

fn float_cases(rng: &mut Rng) -> Vec<f64> {
    let mut xs = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        0.5,
        100.0,
        1e16,
        -1e16,
        1.5e16,
        1e15,
        9999999999999998.0,
        123456789012345680.0,
        1e-4,
        1e-5,
        -2.5e-7,
        0.00012345,
        5e-324,
        -5e-324,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        1e22,
        1e23,
        2f64.powi(53),
        2f64.powi(53) + 2.0,
        2f64.powi(63),
        2f64.powi(64),
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        0.9995,
        0.9995f64.powi(1000),
        2.675,
        1.005,
        0.015,
        0.025,
        0.995,
        -0.005,
        -0.001,
    ];
    // Around the repr switch points, and powers of two and ten.
    for b in [1e16f64, 1e-4, 1e-5, 1e15, 1e17] {
        xs.extend([
            b,
            f64::from_bits(b.to_bits() + 1),
            f64::from_bits(b.to_bits() - 1),
        ]);
    }
    for e in -30..=30 {
        xs.push(10f64.powi(e));
        xs.push(2f64.powi(e * 3));
    }
    // Exact ties for ".2f": n + k/8.
    for n in [0.0, 1.0, 2.0, 7.0, 100.0, 12345.0, -3.0] {
        for k in 0..8 {
            xs.push(n + f64::from(k) / 8.0);
        }
    }
    for _ in 0..1200 * scale() {
        xs.push(f64::from_bits(rng.next())); // any bit pattern, NaNs included
    }
    for _ in 0..500 * scale() {
        // 2**44..2**57 with fraction bits: where |x| can sit exactly halfway between two
        // shortest candidates (Python then picks the even one)
        let exponent = 1023 + 44 + rng.below(13) as u64;
        let bits = (rng.next() & ((1 << 52) - 1)) | (exponent << 52) | (rng.next() & (1 << 63));
        xs.push(f64::from_bits(bits));
    }
    for _ in 0..400 * scale() {
        // ordinary magnitudes, any mantissa
        let exponent = 1023 - 40 + rng.below(80) as u64;
        xs.push(f64::from_bits(
            (rng.next() & ((1 << 52) - 1)) | (exponent << 52),
        ));
    }
    for _ in 0..800 * scale() {
        // decimal-looking values of every magnitude
        let digits = rng.next() % 10u64.pow(1 + rng.below(17) as u32);
        let exp = rng.below(70) as i32 - 40;
        xs.push(format!("{digits}e{exp}").parse().unwrap());
    }
    for _ in 0..600 * scale() {
        // values near the two-decimal grid: k/1000 and k/200 with noise-free decimal text
        let k = rng.below(4_000_001) as i64 - 2_000_000;
        let scale = *rng.pick(&[200.0, 1000.0, 8.0, 100.0]);
        xs.push(k as f64 / scale);
    }
    xs
}

fn coerce_strings(rng: &mut Rng) -> Vec<String> {
    let mut out: Vec<String> = [
        "",
        " ",
        "0",
        "-0",
        "+0",
        "1",
        "-1",
        "12",
        " 12 ",
        "\t12\n",
        "1_000",
        "1__000",
        "_1",
        "1_",
        "1_0.5",
        "1.0_5",
        "1_.5",
        "1._5",
        "1e1_0",
        "1e_5",
        "1_e5",
        "1.5",
        "-2.5",
        ".5",
        "5.",
        ".",
        "-.5",
        "+.5e-3",
        "1e5",
        "1E5",
        "1e+5",
        "1e-5",
        "1e",
        "1e+",
        "e5",
        "1e400",
        "-1e400",
        "1e-400",
        "-1e-400",
        "inf",
        "-inf",
        "+inf",
        "Inf",
        "INFINITY",
        "-Infinity",
        "infinity",
        "infinit",
        "infx",
        "nan",
        "-nan",
        "+NaN",
        "NAN",
        "nan1",
        "0x10",
        "0X1F",
        "0b1",
        "0o7",
        "١٢",
        "١٢.٥",
        "٣e٢",
        "１２",
        "𝟙𝟚",
        "߀",
        "\u{a0}7\u{a0}",
        "\u{2003}8",
        "9\u{3000}",
        "\u{85}3",
        "\u{1c}1",
        "1\u{1c}",
        "1\u{1f}",
        "\u{b}1\u{c}",
        "1\u{0}",
        "\u{0}",
        "1 2",
        "- 1",
        "+-1",
        "--1",
        "++1",
        "1-",
        "12a",
        "a12",
        "²",
        "½",
        "Ⅻ",
        "\u{7f}1",
        "1.2.3",
        "00012",
        "-000",
        "007.5",
        "9007199254740993",
        "123456789012345678901234567890",
        "0.1e-3_0",
        "1_2_3",
        "1_2__3",
        "infin",
        "in f",
        "12.",
        " .5 ",
        "+",
        "-",
        "_",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    out.push("9".repeat(4300));
    out.push("9".repeat(4301));
    out.push(format!("0.{}1", "0".repeat(400)));
    out.push(format!("{}.5", "1".repeat(500)));
    let pieces = [
        "0", "1", "7", "9", "_", ".", " ", "e", "E", "+", "-", "inf", "nan", "infinity",
        "Infinity", "NaN", "\u{a0}", "\u{2003}", "\u{3000}", "\u{85}", "\u{1c}", "\t", "\n", "١",
        "٢", "𝟘", "५", "x", "\u{0}", "0x", "12", "345", "00", "e-", "e+1", "\u{2028}", "ǅ", "²",
    ];
    for _ in 0..1500 * scale() {
        let n = 1 + rng.below(6);
        out.push((0..n).map(|_| *rng.pick(&pieces)).collect());
    }
    out
}

fn random_char(rng: &mut Rng) -> char {
    const SPECIAL: &[char] = &[
        '\'',
        '"',
        '\\',
        '\n',
        '\t',
        '\r',
        '\0',
        '\u{7f}',
        '\u{1c}',
        '\u{85}',
        '\u{a0}',
        '\u{ad}',
        '\u{200b}',
        '\u{2028}',
        '\u{3000}',
        '\u{feff}',
        'Σ',
        'σ',
        'İ',
        'ß',
        'ﬃ',
        'ǅ',
        'ϴ',
        'Ω',
        'K',
        '\u{345}',
        '\u{300}',
        '\u{307}',
        '\u{a7cb}',
        '\u{10d50}',
        '\u{16ea0}',
        '\u{378}',
        '\u{e000}',
        '\u{10ffff}',
        '😀',
        'A',
        'a',
        'z',
        '.',
        ':',
        ' ',
        '1',
        '١',
        'é',
        'Ä',
        'Ⅻ',
        'ⓐ',
        'Ⓐ',
        '\u{1e9e}',
        '\u{2c2f}',
        '\u{13a0}',
        '\u{ab70}',
    ];
    const WHITESPACE: &[char] = &[
        '\t', '\n', '\u{b}', '\u{c}', '\r', '\u{1c}', '\u{1d}', '\u{1e}', '\u{1f}', ' ', '\u{85}',
        '\u{a0}', '\u{1680}', '\u{2000}', '\u{2005}', '\u{200a}', '\u{2028}', '\u{2029}',
        '\u{202f}', '\u{205f}', '\u{3000}', '\u{180e}', '\u{200b}',
    ];
    loop {
        let c = match rng.below(10) {
            0..=2 => char::from(0x20 + rng.below(0x5f) as u8),
            3 => *rng.pick(WHITESPACE),
            4 | 5 => *rng.pick(SPECIAL),
            6 => char::from_u32(0x80 + rng.below(0x780) as u32).unwrap_or('?'),
            7 => match char::from_u32(0x800 + rng.below(0xf800) as u32) {
                Some(c) => c,
                None => continue, // surrogate
            },
            8 => char::from_u32(0x10000 + rng.below(0x100000) as u32).unwrap_or('?'),
            _ => char::from_u32(0x370 + rng.below(0x100) as u32).unwrap_or('?'), // Greek, Cyrillic
        };
        return c;
    }
}

fn random_string(rng: &mut Rng, max_len: usize) -> String {
    let n = rng.below(max_len + 1);
    (0..n).map(|_| random_char(rng)).collect()
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    const NUMBERS: &[&str] = &[
        "0",
        "-0",
        "1",
        "-17",
        "1.0",
        "-0.0",
        "0.1",
        "1e2",
        "1E400",
        "-1e400",
        "1e-400",
        "2.5e-7",
        "1e16",
        "123456789012345678901234567890",
        "9007199254740993",
        "0.30000000000000004",
        "1.7976931348623157e308",
        "5e-324",
        "100",
        "3.14159",
    ];
    match rng.below(if depth >= 3 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 1),
        2 => {
            let text: &&str = rng.pick(NUMBERS);
            num(text)
        }
        3 | 4 => Value::String(random_string(rng, 8)),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.below(4) {
                map.insert(random_string(rng, 5), random_value(rng, depth + 1));
            }
            Value::Object(map)
        }
    }
}

fn iso_cases(rng: &mut Rng) -> Vec<String> {
    let templates = [
        "2025-09-29T12:00:00+00:00",
        "2025-09-29T12:34:56.123456+00:00",
        "2025-09-29T12:34:56.789+05:30",
        "2025-09-29T23:59:59.999999-05:00",
        "2025-09-29T12:00:00Z",
        "2025-09-29T12:00:00.5Z",
        "2025-09-29 12:00:00",
        "2025-09-29T12:00",
        "2025-09-29T12",
        "2025-09-29",
        "20250929",
        "20250929T120000",
        "20250929T120000.123456+0530",
        "20250929T1200Z",
        "2025-09-29T1200",
        "2025-09-29T12:30:45,123",
        "2025-09-29T12:30:45.1234567",
        "2025-09-29T12:30+05",
        "2025-09-29T12:30-0130",
        "2025-09-29T12:30+01:30:15.25",
        "2025-W40",
        "2025-W40-1",
        "2025W40",
        "2025W403",
        "2025W403T12",
        "2025-W40T12:00",
        "2025-W40-1T12:00",
        "2020-W53-7",
        "2024-02-29T00:00:00",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59.999999+23:59",
        "2025-09-29é12:00",
        "2025-09-29\u{2003}12:00",
        "2025-09-29😀12:00",
        "2025-09-29\u{0}12:00",
        "2025-09-29T12:00Z\u{0}x",
        "2025-09-29T12:30:45:12",
        "2025-09-29T12:30.5",
        "2025-09-29T12:30:45.1234567x+05:00",
    ];
    let alphabet: Vec<char> = "0123456789-:T Z+.,W\u{e9}x\u{0}😀_/".chars().collect();
    let mut out: Vec<String> = templates.iter().map(|s| s.to_string()).collect();
    for _ in 0..2500 * scale() {
        let mut chars: Vec<char> = rng.pick(&templates).chars().collect();
        for _ in 0..1 + rng.below(3) {
            let pos = rng.below(chars.len() + 1);
            match rng.below(5) {
                0 | 1 if pos < chars.len() => chars[pos] = *rng.pick(&alphabet),
                2 if pos < chars.len() => {
                    chars.remove(pos);
                }
                3 => chars.insert(pos, *rng.pick(&alphabet)),
                _ => chars.truncate(pos),
            }
        }
        out.push(chars.into_iter().collect());
    }
    for year in ["0000", "0001", "1900", "2000", "2024", "2025", "9999"] {
        for month in 0..=13 {
            for day in [0, 1, 28, 29, 30, 31, 32] {
                out.push(format!("{year}-{month:02}-{day:02}"));
            }
        }
        for week in [0, 1, 2, 51, 52, 53, 54] {
            for wd in 0..=8 {
                out.push(format!("{year}-W{week:02}-{wd}"));
                out.push(format!("{year}W{week:02}{wd}"));
            }
        }
    }
    for h in [0, 9, 23, 24, 99] {
        for m in [0, 59, 60] {
            for s in [0, 59, 60] {
                out.push(format!("2025-01-02T{h:02}:{m:02}:{s:02}"));
                out.push(format!("2025-01-02T{h:02}{m:02}{s:02}+{h:02}{m:02}"));
                out.push(format!("2025-01-02T12:00-{h:02}:{m:02}:{s:02}.999999"));
            }
        }
    }
    out
}

fn hex_bits(x: f64) -> String {
    format!("{:016x}", x.to_bits())
}

struct Case {
    op: &'static str,
    arg: Value,
    /// What the Rust side answers, in the shape Python's answer has.
    rust: Value,
}

fn case(op: &'static str, arg: Value) -> Case {
    let rust = match op {
        "repr" | "f2" => {
            let x = f64::from_bits(u64::from_str_radix(arg.as_str().unwrap(), 16).unwrap());
            Value::String(if op == "repr" {
                py::float_repr(x)
            } else {
                py::format_2f(x)
            })
        }
        "float" => py::coerce_float(&arg).map_or(Value::Null, |x| Value::String(hex_bits(x))),
        "int" => py::coerce_int(&arg).map_or(Value::Null, |n| Value::String(n.to_string())),
        "str" => Value::String(py::py_str(&arg)),
        "strip" => Value::String(py::strip(arg.as_str().unwrap()).to_string()),
        "collapse" => Value::String(py::collapse_ws(arg.as_str().unwrap())),
        "lower" => Value::String(py::lower(arg.as_str().unwrap())),
        "iso" => py::iso_wall_clock(arg.as_str().unwrap()).map_or(Value::Null, Value::String),
        "loads" => py::json::loads(arg.as_str().unwrap())
            .ok()
            .and_then(|v| py::json::dumps(&v, Options::CANONICAL_STORED).ok())
            .map_or(Value::Null, Value::String),
        "dumps" | "dumps_canonical" | "dumps_stored" | "dumps_keep" => {
            let options = match op {
                "dumps_canonical" => Options::CANONICAL,
                "dumps_stored" => Options::CANONICAL_STORED,
                "dumps_keep" => Options {
                    ensure_ascii: false,
                    ..Options::DEFAULT
                },
                _ => Options::DEFAULT,
            };
            py::json::dumps(&arg, options).map_or(Value::Null, Value::String)
        }
        _ => Value::Null,
    };
    Case { op, arg, rust }
}

/// `json.dumps` of `v` with the four sets of options PMM uses.
fn dumps_cases(cases: &mut Vec<Case>, v: &Value) {
    for op in ["dumps", "dumps_canonical", "dumps_stored", "dumps_keep"] {
        cases.push(case(op, v.clone()));
    }
}

fn all_chars() -> impl Iterator<Item = char> {
    (0..=0x10ffffu32).filter_map(char::from_u32)
}

/// Compares the whole-Unicode tables Python computed with the Rust functions.
fn check_tables(tables: &Value, failures: &mut Vec<String>) {
    let list = |key: &str| tables[key].as_array().cloned().unwrap_or_default();
    let space: Vec<u64> = list("space").iter().filter_map(Value::as_u64).collect();
    let rust_space: Vec<u64> = all_chars()
        .filter(|c| py::is_space(*c))
        .map(|c| c as u64)
        .collect();
    if space != rust_space {
        failures.push(format!(
            "isspace set: python {space:x?} rust {rust_space:x?}"
        ));
    }

    let mut lower = std::collections::BTreeMap::new();
    for item in list("lower") {
        lower.insert(
            item[0].as_u64().unwrap(),
            item[1].as_str().unwrap().to_string(),
        );
    }
    for c in all_chars() {
        let want = lower
            .get(&(c as u64))
            .cloned()
            .unwrap_or_else(|| c.to_string());
        let got = py::lower(&c.to_string());
        if got != want {
            failures.push(format!(
                "lower(U+{:04X}): python {want:?} rust {got:?}",
                c as u32
            ));
        }
    }

    let mut sigma = std::collections::BTreeMap::new();
    for item in list("sigma") {
        sigma.insert(item[0].as_u64().unwrap(), item[1].as_u64().unwrap());
    }
    for c in all_chars() {
        let want = sigma.get(&(c as u64)).copied().unwrap_or(0);
        let a = py::lower(&format!("A{c}Σ")).ends_with('ς');
        let b = py::lower(&format!("AΣ{c}")).chars().nth(1) == Some('σ');
        let got = u64::from(a) + 2 * u64::from(b);
        if got != want {
            failures.push(format!(
                "final-sigma class of U+{:04X}: python {want} rust {got}",
                c as u32
            ));
        }
    }

    let mut decimal = std::collections::BTreeMap::new();
    for item in list("decimal") {
        decimal.insert(
            item[0].as_u64().unwrap(),
            item[1].as_u64().unwrap().to_string(),
        );
    }
    for c in all_chars() {
        let want = decimal.get(&(c as u64)).cloned();
        let got = py::coerce_int(&Value::String(c.to_string())).map(|n| n.to_string());
        if got != want {
            failures.push(format!(
                "int(U+{:04X}): python {want:?} rust {got:?}",
                c as u32
            ));
        }
    }
}

/// What to do when no suitable python3 is found.
const INSTALL_PYTHON: &str = "this test compares pmm::py with Python: install python3 >= 3.11 \
     (the reference's version, e.g. `apt-get install python3.11` or `pyenv install 3.11`) \
     and put it on PATH as `python3`";

/// Fails, saying what to install, unless `python3` is Python 3.11 or later.
fn check_python3() {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys; print(sys.version_info >= (3, 11), sys.version.split()[0])",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}): {INSTALL_PYTHON}"));
    let answer = String::from_utf8_lossy(&out.stdout);
    let version = answer
        .split_whitespace()
        .nth(1)
        .unwrap_or("of an unknown version");
    assert!(
        out.status.success() && answer.starts_with("True "),
        "python3 is {version}: {INSTALL_PYTHON}"
    );
}

#[test]
fn py_matches_python3() {
    let started = std::time::Instant::now();
    let seed = std::env::var("PY_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15u64);
    let mut rng = Rng(seed | 1);
    let mut cases = Vec::new();

    for x in float_cases(&mut rng) {
        cases.push(case("repr", json!(hex_bits(x))));
        cases.push(case("f2", json!(hex_bits(x))));
    }
    for s in coerce_strings(&mut rng) {
        cases.push(case("float", json!(s)));
        cases.push(case("int", json!(s)));
    }
    let numbers = [
        "0", "-0", "7", "-7", "1.0", "-0.0", "0.5", "-2.5", "12.9", "-12.9", "1e2", "1E2", "2.5e-3",
        "1e300", "-1e300", "1E400", "-1e400", "1e-400", "9007199254740993", "9223372036854775808",
        "123456789012345678901234567890", "1.7976931348623157e308", "5e-324",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792",
    ];
    let mut others: Vec<Value> = numbers.iter().map(|t| num(t)).collect();
    others.extend([
        Value::Null,
        json!(true),
        json!(false),
        json!([]),
        json!({}),
        json!([1]),
        json!({"a": 1}),
    ]);
    for _ in 0..200 * scale() {
        let bits = rng.next();
        if f64::from_bits(bits).is_finite() {
            others.push(num(&py::float_repr(f64::from_bits(bits))));
        }
    }
    for v in &others {
        cases.push(case("float", v.clone()));
        cases.push(case("int", v.clone()));
        cases.push(case("str", v.clone()));
        dumps_cases(&mut cases, v);
    }
    for _ in 0..600 * scale() {
        cases.push(case("str", random_value(&mut rng, 0)));
    }
    // repr(str) over every code point, in chunks (surrogates cannot be a Rust string).
    let every: Vec<char> = all_chars().collect();
    for chunk in every.chunks(8192) {
        let strings = json!([chunk.iter().collect::<String>()]);
        cases.push(case("str", strings.clone()));
        dumps_cases(&mut cases, &strings);
    }
    for _ in 0..300 * scale() {
        dumps_cases(&mut cases, &random_value(&mut rng, 0));
    }
    // Python's json reads NaN, Infinity and -Infinity (and refuses lookalikes).
    for text in [
        r#"{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN"}"#,
        "[NaN]",
        "[-Infinity, 1e400, -1e400, 1e-400]",
        r#"{"NaN": NaN, "s": "\"NaN\" Infinity"}"#,
        "[-NaN]",
        "[nan]",
        "[Infinity1]",
        "[ NaN , Infinity ]",
        "{\"a\":-Infinity}",
    ] {
        cases.push(case("loads", Value::String(text.to_string())));
    }
    for _ in 0..800 * scale() {
        let s = random_string(&mut rng, 12);
        cases.push(case("strip", json!(s)));
        cases.push(case("collapse", json!(s)));
        cases.push(case("lower", json!(s)));
    }
    for s in [
        "ΟΔΟΣ",
        "ΟΔΟΣ.",
        "Σ",
        "AΣ",
        "A\u{ad}Σ",
        "AΣ\u{ad}",
        "AΣ\u{ad}B",
        "A'Σ'",
        "Σ\u{a7cb}",
        "A\u{378}Σ",
        "İSTANBUL",
    ] {
        cases.push(case("lower", json!(s)));
    }
    for s in iso_cases(&mut rng) {
        cases.push(case("iso", json!(s)));
    }

    let mut input = String::new();
    for c in &cases {
        input.push_str(&serde_json::to_string(&json!({"op": c.op, "arg": c.arg})).unwrap());
        input.push('\n');
    }
    input.push_str("{\"op\": \"tables\", \"arg\": null}\n");

    check_python3();
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(PYTHON)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start python3: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let answers: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(&line.unwrap()).unwrap()["r"].clone())
        .collect();
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success(), "python3 failed");
    assert_eq!(
        answers.len(),
        cases.len() + 1,
        "python3 answered every line"
    );

    let mut failures = Vec::new();
    for (c, want) in cases.iter().zip(&answers) {
        if &c.rust != want {
            let arg = serde_json::to_string(&c.arg).unwrap();
            let arg: String = arg.chars().take(200).collect();
            failures.push(format!("{}({arg}): python {want} rust {}", c.op, c.rust));
        }
    }
    check_tables(&answers[cases.len()], &mut failures);

    let counts = cases
        .iter()
        .fold(std::collections::BTreeMap::new(), |mut m, c| {
            *m.entry(c.op).or_insert(0) += 1;
            m
        });
    eprintln!(
        "py differential: {counts:?} + Unicode tables in {:?}",
        started.elapsed()
    );
    for f in failures.iter().take(40) {
        eprintln!("MISMATCH {f}");
    }
    assert!(
        failures.is_empty(),
        "{} mismatches with python3",
        failures.len()
    );
}
