//! Python's `json.dumps` of a value from `json.loads`, byte for byte, with
//! the parameters PMM uses: the hash chain's canonical form
//! ([`Options::CANONICAL`]), the reference's stored `meta` texts
//! ([`Options::DEFAULT`]) and the fixtures' `events.jsonl` lines (the
//! defaults with `ensure_ascii=False`).
//!
//! Values come from `serde_json` built with `preserve_order` (key order as
//! read) and `arbitrary_precision` (a number keeps its text): numbers are
//! re-printed as Python re-prints what `json.loads` made of them, so an int
//! keeps its digits (`-0` becomes `0`) and a float is written with `repr`
//! (`1.0`, `1e-05`; `2.50` becomes `2.5`).

use serde_json::{Number, Value};

use super::float::{number_is_int, number_to_f64, write_float_repr};

/// `json.dumps`'s `separators`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separators {
    /// `(", ", ": ")`, the default.
    Default,
    /// `(",", ":")`.
    Compact,
}

/// The parameters of `json.dumps` that PMM varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// `sort_keys`: object keys in code point order, at every depth.
    pub sort_keys: bool,
    /// `separators`.
    pub separators: Separators,
    /// `ensure_ascii`: `True` escapes everything outside `' '..='~'` as
    /// `\uXXXX` (UTF-16 surrogate pairs above U+FFFF); `False` escapes only
    /// `"`, `\` and control characters.
    pub ensure_ascii: bool,
    /// `allow_nan`: `True` writes a non-finite float as `NaN`, `Infinity`
    /// or `-Infinity`; `False` refuses it ([`DumpError::NonFinite`]).
    pub allow_nan: bool,
}

impl Options {
    /// `json.dumps(value)`.
    pub const DEFAULT: Options = Options {
        sort_keys: false,
        separators: Separators::Default,
        ensure_ascii: true,
        allow_nan: true,
    };

    /// `json.dumps(value, sort_keys=True, separators=(",", ":"),
    /// allow_nan=False)`: the canonical JSON of a new event's hash (SPEC §1
    /// refuses NaN and Infinity on input).
    pub const CANONICAL: Options = Options {
        sort_keys: true,
        separators: Separators::Compact,
        ensure_ascii: true,
        allow_nan: false,
    };

    /// The canonical JSON of a stored row's hash as the reference computes
    /// it: `json.dumps` with its default `allow_nan=True`, so that a stored
    /// `NaN` or `Infinity` (which Python's `json` reads and writes) hashes
    /// as Python hashed it.
    pub const CANONICAL_STORED: Options = Options {
        allow_nan: true,
        ..Options::CANONICAL
    };
}

/// A value `json.dumps(..., allow_nan=False)` refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DumpError {
    #[error("number {0} is not finite (NaN and Infinity are refused)")]
    NonFinite(String),
}

/// `json.dumps(value, ...)` with `options`.
pub fn dumps(value: &Value, options: Options) -> Result<String, DumpError> {
    let mut out = String::with_capacity(128);
    write_value(value, options, &mut out)?;
    Ok(out)
}

/// Appends `json.dumps(value, ...)` to `out`; on error `out` holds a prefix.
pub fn write_value(value: &Value, options: Options, out: &mut String) -> Result<(), DumpError> {
    let (item_separator, key_separator) = match options.separators {
        Separators::Default => (", ", ": "),
        Separators::Compact => (",", ":"),
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(n, options.allow_nan, out)?,
        Value::String(s) => write_str(s, options.ensure_ascii, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_separator);
                }
                write_value(item, options, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if options.sort_keys {
                // Rust orders `str` by UTF-8 bytes, which is code point
                // order, the order Python's `sort_keys` uses.
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item_separator);
                }
                write_str(key, options.ensure_ascii, out);
                out.push_str(key_separator);
                write_value(item, options, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_number(n: &Number, allow_nan: bool, out: &mut String) -> Result<(), DumpError> {
    if number_is_int(n) {
        // Python re-prints an int from its value: "-0" becomes "0".
        let text = n.as_str();
        if text.trim_start_matches('-').bytes().all(|b| b == b'0') {
            out.push('0');
        } else {
            out.push_str(text);
        }
        return Ok(());
    }
    let x = number_to_f64(n);
    if x.is_finite() {
        write_float_repr(x, out);
    } else if !allow_nan {
        return Err(DumpError::NonFinite(n.to_string()));
    } else if x.is_nan() {
        out.push_str("NaN");
    } else if x > 0.0 {
        out.push_str("Infinity");
    } else {
        out.push_str("-Infinity");
    }
    Ok(())
}

/// Appends a JSON string literal escaped as `json.dumps` escapes it with
/// `ensure_ascii`. Runs of bytes that need no escape are copied whole.
pub fn write_str(s: &str, ensure_ascii: bool, out: &mut String) {
    // One instance per mode, so the plain-run scan has no branch on it.
    if ensure_ascii {
        write_escaped::<true>(s, out);
    } else {
        write_escaped::<false>(s, out);
    }
}

fn write_escaped<const ASCII: bool>(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut i = 0;
    loop {
        let plain = plain_prefix_len::<ASCII>(&bytes[i..]);
        out.push_str(&s[i..i + plain]);
        i += plain;
        // The byte after a plain run is never inside a UTF-8 sequence: with
        // ASCII every non-ASCII byte ends a run, without it none does.
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            // Another control character, or (ASCII only) anything outside
            // ' '..='~'.
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    push_u_escape(*unit, out);
                }
            }
        }
        i += c.len_utf8();
    }
    out.push('"');
}

fn needs_escape<const ASCII: bool>(b: u8) -> bool {
    let outside = if ASCII {
        !(b' '..=b'~').contains(&b)
    } else {
        b < b' '
    };
    outside || b == b'"' || b == b'\\'
}

/// How many leading bytes need no escape. Checks 16 bytes at a time with no
/// branch inside a block, which the compiler vectorises: most text in a
/// ledger is plain ASCII, and this runs on the hashing path of every append
/// and every verification.
fn plain_prefix_len<const ASCII: bool>(bytes: &[u8]) -> usize {
    let mut plain = 0;
    for block in bytes.chunks_exact(16) {
        if block
            .iter()
            .fold(false, |any, &b| any | needs_escape::<ASCII>(b))
        {
            break;
        }
        plain += 16;
    }
    plain
        + bytes[plain..]
            .iter()
            .position(|&b| needs_escape::<ASCII>(b))
            .unwrap_or(bytes.len() - plain)
}

/// `\\uXXXX` with lowercase hex.
fn push_u_escape(unit: u16, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(char::from(HEX[usize::from((unit >> shift) & 0xf)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn canon(text: &str) -> String {
        dumps(&parse(text), Options::CANONICAL).expect("canonical")
    }

    const KEEP: Options = Options {
        ensure_ascii: false,
        ..Options::DEFAULT
    };

    #[test]
    fn sorts_keys_at_every_depth_without_whitespace() {
        assert_eq!(
            canon(r#"{"b": 1, "a": {"d": [1, 2], "c": null}}"#),
            r#"{"a":{"c":null,"d":[1,2]},"b":1}"#
        );
    }

    #[test]
    fn escapes_like_python_ensure_ascii() {
        let v = json!("é \u{1F331} \"q\" \\ / \n\r\t\u{08}\u{0c}\u{01}\u{7f}");
        assert_eq!(
            dumps(&v, Options::CANONICAL).unwrap(),
            r#""\u00e9 \ud83c\udf31 \"q\" \\ / \n\r\t\b\f\u0001\u007f""#
        );
    }

    /// The block-wise scan finds an escape wherever it sits relative to
    /// the 16-byte blocks, with and without `ensure_ascii`.
    #[test]
    fn escapes_at_every_position_of_plain_runs() {
        let naive = |s: &str, ascii: bool| {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    ' '..='~' => out.push(c),
                    _ if !ascii && c >= ' ' => out.push(c),
                    _ => {
                        let mut units = [0u16; 2];
                        for unit in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                }
            }
            out.push('"');
            out
        };
        for ascii in [true, false] {
            for len in 0..40 {
                for at in 0..=len {
                    for special in ["\"", "\\", "\n", "\u{e9}", "\u{1F331}", "\u{7f}", "\u{1}"] {
                        let s = format!("{}{special}{}", "a".repeat(at), "b".repeat(len - at));
                        let mut out = String::new();
                        write_str(&s, ascii, &mut out);
                        assert_eq!(out, naive(&s, ascii), "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn numbers_keep_python_types() {
        assert_eq!(
            canon("[1, 1.0, 1e2, -0, 0.1, 1e-05, 123456789012345678901234567890]"),
            "[1,1.0,100.0,0,0.1,1e-05,123456789012345678901234567890]"
        );
    }

    #[test]
    fn refuses_overflowing_floats() {
        let v: Value = serde_json::from_str("[1e400]").unwrap();
        assert!(matches!(
            dumps(&v, Options::CANONICAL),
            Err(DumpError::NonFinite(_))
        ));
        // Python's default `allow_nan=True` writes what overflowed.
        assert_eq!(
            dumps(&v, Options::DEFAULT).expect("allow_nan"),
            "[Infinity]"
        );
    }

    #[test]
    fn separators_and_order_are_pythons() {
        let v = parse(r#"{"b":1,"a":[1,2.50,{"c":null}],"e":{},"f":[],"t":true,"g":false}"#);
        assert_eq!(
            dumps(&v, Options::DEFAULT).unwrap(),
            r#"{"b": 1, "a": [1, 2.5, {"c": null}], "e": {}, "f": [], "t": true, "g": false}"#
        );
    }

    #[test]
    fn numbers_python_wrote_come_back_as_written() {
        let text = "[1, 1.0, 1e-05, 3171.796, 1759147628791346098, -0.0, 1e+16]";
        assert_eq!(dumps(&parse(text), KEEP).unwrap(), text);
        // Other spellings come back as Python re-prints them.
        assert_eq!(
            dumps(&parse("[2.50, 1E2, -0, 1e5, 0.000010]"), KEEP).unwrap(),
            "[2.5, 100.0, 0, 100000.0, 1e-05]"
        );
    }

    #[test]
    fn ensure_ascii_escapes_like_python() {
        let v = Value::String("é 完 🚀 \u{7f} \u{1} \t\n\r\u{8}\u{c} \"\\ /".into());
        assert_eq!(
            dumps(&v, Options::DEFAULT).unwrap(),
            r#""\u00e9 \u5b8c \ud83d\ude80 \u007f \u0001 \t\n\r\b\f \"\\ /""#
        );
        assert_eq!(
            dumps(&v, KEEP).unwrap(),
            "\"é 完 🚀 \u{7f} \\u0001 \\t\\n\\r\\b\\f \\\"\\\\ /\""
        );
    }

    #[test]
    fn keys_are_escaped_too() {
        let v = parse(r#"{"ключ": "значение"}"#);
        assert_eq!(
            dumps(&v, Options::DEFAULT).unwrap(),
            r#"{"\u043a\u043b\u044e\u0447": "\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435"}"#
        );
        assert_eq!(dumps(&v, KEEP).unwrap(), r#"{"ключ": "значение"}"#);
    }
}

/// Python's `json.loads`: standard JSON (object key order and the spelling
/// of numbers kept), plus the constants Python's `json` writes and reads
/// for non-finite floats, `NaN`, `Infinity` and `-Infinity`. Such a
/// constant becomes a number spelled as Python spells it, which
/// [`number_to_f64`] reads as the float and [`dumps`] writes back (or
/// refuses, without `allow_nan`).
pub fn loads(text: &str) -> Result<Value, serde_json::Error> {
    // Standard JSON (nearly every meta) is read without looking for the
    // constants: text that parses cannot hold one outside its strings.
    let error = match serde_json::from_str(text) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    let constants = python_constants(text);
    if constants.is_empty() {
        return Err(error);
    }
    // Each constant is replaced by a number that does not occur in the text,
    // then put back once serde_json has parsed the rest.
    let placeholders = placeholders_absent_from(text);
    let mut standard = String::with_capacity(text.len() + 16 * constants.len());
    let mut at = 0;
    for (start, constant) in &constants {
        standard.push_str(&text[at..*start]);
        // Spaced, so that what touches the constant cannot join the
        // placeholder (`Infinity1` stays an error).
        standard.push(' ');
        standard.push_str(&placeholders[*constant as usize]);
        standard.push(' ');
        at = start + constant.text().len();
    }
    standard.push_str(&text[at..]);
    let mut value: Value = serde_json::from_str(&standard)?;
    restore_constants(&mut value, &placeholders);
    Ok(value)
}

/// A non-finite float constant of Python's `json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Constant {
    NaN = 0,
    Infinity = 1,
    NegativeInfinity = 2,
}

impl Constant {
    const ALL: [Constant; 3] = [
        Constant::NegativeInfinity,
        Constant::Infinity,
        Constant::NaN,
    ];

    fn text(self) -> &'static str {
        match self {
            Constant::NaN => "NaN",
            Constant::Infinity => "Infinity",
            Constant::NegativeInfinity => "-Infinity",
        }
    }
}

/// Where the constants stand outside strings, in order.
fn python_constants(text: &str) -> Vec<(usize, Constant)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let (mut i, mut in_string) = (0, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            // `-NaN` is not a constant; a sign belongs to `-Infinity` only.
            b'N' | b'I' | b'-' if !in_string && (i == 0 || bytes[i - 1] != b'-') => {
                if let Some(c) = Constant::ALL
                    .into_iter()
                    .find(|c| text[i..].starts_with(c.text()))
                {
                    found.push((i, c));
                    i += c.text().len();
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Three numbers, one per [`Constant`], none of which occurs in `text`.
fn placeholders_absent_from(text: &str) -> [String; 3] {
    let mut seed = 900_000_000u64;
    loop {
        let candidates = [0, 1, 2].map(|k| format!("1.5e-{}", seed + k));
        if candidates.iter().all(|c| !text.contains(c.as_str())) {
            return candidates;
        }
        seed += 3;
    }
}

fn restore_constants(value: &mut Value, placeholders: &[String; 3]) {
    match value {
        Value::Number(n) => {
            if let Some(k) = placeholders.iter().position(|p| p == n.as_str()) {
                let constant = [
                    Constant::NaN,
                    Constant::Infinity,
                    Constant::NegativeInfinity,
                ][k];
                // A number spelled as Python's `json` spells the constant;
                // serde_json keeps number texts as they are
                // (`arbitrary_precision`), so nothing else changes.
                *n = Number::from_string_unchecked(constant.text().to_string());
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| restore_constants(item, placeholders)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| restore_constants(item, placeholders)),
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

#[cfg(test)]
mod loads_tests {
    use super::*;

    #[test]
    fn python_constants_read_as_non_finite_floats_and_write_back() {
        let v = loads(r#"{"a": NaN, "b": [Infinity, -Infinity, "NaN"], "c": 1.5e-900000000}"#)
            .expect("Python's json reads this");
        let x = |v: &Value| number_to_f64(v.as_number().expect("number"));
        assert!(x(&v["a"]).is_nan());
        assert_eq!(x(&v["b"][0]), f64::INFINITY);
        assert_eq!(x(&v["b"][1]), f64::NEG_INFINITY);
        assert_eq!(v["b"][2], Value::String("NaN".into()), "strings untouched");
        assert!(!number_is_int(v["a"].as_number().expect("number")));
        // Python: json.dumps(v) / with allow_nan=False.
        assert_eq!(
            dumps(&v, Options::DEFAULT).expect("allow_nan"),
            r#"{"a": NaN, "b": [Infinity, -Infinity, "NaN"], "c": 0.0}"#
        );
        assert_eq!(
            dumps(&v, Options::CANONICAL_STORED).expect("allow_nan"),
            r#"{"a":NaN,"b":[Infinity,-Infinity,"NaN"],"c":0.0}"#
        );
        assert!(dumps(&v, Options::CANONICAL).is_err());
        // An overflowing float is Infinity to Python too.
        let big = loads("[1e400, -1e400]").expect("json");
        assert_eq!(
            dumps(&big, Options::CANONICAL_STORED).expect("allow_nan"),
            "[Infinity,-Infinity]"
        );
    }

    #[test]
    fn what_python_refuses_is_refused() {
        for text in ["{nan}", "[NaNa]", "[Infinityx]", "[-NaN]", "{\"a\": NaN"] {
            assert!(loads(text).is_err(), "{text}");
        }
        assert_eq!(loads("[1, 2.50]").expect("json").to_string(), "[1,2.50]");
    }
}
