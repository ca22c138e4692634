//! JSON text in the form Python's `json.dumps` writes it with its default
//! separators (`", "` and `": "`): the form of the reference's stored `meta`
//! texts (`ensure_ascii=True`) and of the fixtures' `events.jsonl` lines
//! (`ensure_ascii=False`).
//!
//! Values come from `serde_json` built with `preserve_order` and
//! `arbitrary_precision`, so key order and the spelling of numbers (`1` vs
//! `1.0`, `1e-05`) are written back as they were read.

use serde_json::Value;

/// How strings are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ascii {
    /// `ensure_ascii=True`: every character outside `' '..='~'` becomes a
    /// `\uXXXX` escape (UTF-16 surrogate pairs above U+FFFF). The reference's
    /// `meta` column.
    Escape,
    /// `ensure_ascii=False`: only `"`, `\` and control characters are escaped.
    /// The fixtures' `events.jsonl` lines.
    Keep,
}

/// `json.dumps(value, ensure_ascii=...)`.
pub fn dumps(value: &Value, ascii: Ascii) -> String {
    let mut out = String::new();
    write_value(&mut out, value, ascii);
    out
}

/// Appends `json.dumps(value)` to `out`.
pub fn write_value(out: &mut String, value: &Value, ascii: Ascii) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(out, s, ascii),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item, ascii);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(out, key, ascii);
                out.push_str(": ");
                write_value(out, item, ascii);
            }
            out.push('}');
        }
    }
}

/// Appends a JSON string literal, escaped as Python escapes it.
pub fn write_str(out: &mut String, s: &str, ascii: Ascii) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => push_u_escape(out, c as u32),
            c if ascii == Ascii::Escape && !(' '..='~').contains(&c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    push_u_escape(out, u32::from(*unit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_u_escape(out: &mut String, unit: u32) {
    out.push_str(&format!("\\u{unit:04x}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn separators_and_order_are_pythons() {
        let v = parse(r#"{"b":1,"a":[1,2.50,{"c":null}],"e":{},"f":[],"t":true,"g":false}"#);
        assert_eq!(
            dumps(&v, Ascii::Escape),
            r#"{"b": 1, "a": [1, 2.50, {"c": null}], "e": {}, "f": [], "t": true, "g": false}"#
        );
    }

    #[test]
    fn numbers_keep_their_spelling() {
        let v = parse(r#"[1, 1.0, 1e-05, 3171.796, 1759147628791346098, -0.0, 1e+16]"#);
        assert_eq!(
            dumps(&v, Ascii::Keep),
            "[1, 1.0, 1e-05, 3171.796, 1759147628791346098, -0.0, 1e+16]"
        );
    }

    #[test]
    fn ensure_ascii_escapes_like_python() {
        let v = Value::String("é 完 🚀 \u{7f} \u{1} \t\n\r\u{8}\u{c} \"\\ /".into());
        assert_eq!(
            dumps(&v, Ascii::Escape),
            r#""\u00e9 \u5b8c \ud83d\ude80 \u007f \u0001 \t\n\r\b\f \"\\ /""#
        );
        assert_eq!(
            dumps(&v, Ascii::Keep),
            "\"é 完 🚀 \u{7f} \\u0001 \\t\\n\\r\\b\\f \\\"\\\\ /\""
        );
    }

    #[test]
    fn keys_are_escaped_too() {
        let v = parse(r#"{"ключ": "значение"}"#);
        assert_eq!(
            dumps(&v, Ascii::Escape),
            r#"{"\u043a\u043b\u044e\u0447": "\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435"}"#
        );
        assert_eq!(dumps(&v, Ascii::Keep), r#"{"ключ": "значение"}"#);
    }
}
