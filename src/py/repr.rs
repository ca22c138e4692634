//! Python's `str()` of a value from `json.loads`: how SPEC shows a value
//! "as text" (`None`, `True`, `1.0`, `{'a': [1, 'x']}`).

use serde_json::Value;

use super::coerce::normalise_int_text;
use super::float::{number_is_int, number_to_f64, write_float_repr};
use super::unicode::is_printable;

/// Python `str(x)` of a value from `json.loads` (SPEC's "as text").
///
/// Strings as they are; integers in decimal; floats as `repr`; `True`/`False`/`None`; lists and
/// dicts as Python prints them (`{'a': [1, 2.0, 'x', None, True]}`), nested strings quoted
/// like `repr(str)` with Python 3.11's (Unicode 14.0.0) notion of printable characters.
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        _ => {
            let mut out = String::new();
            write_py_repr(v, &mut out);
            out
        }
    }
}

fn write_py_repr(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => {
            if number_is_int(n) {
                match normalise_int_text(n.as_str()) {
                    Some(text) => out.push_str(&text),
                    None => out.push_str(n.as_str()),
                }
            } else {
                write_float_repr(number_to_f64(n), out);
            }
        }
        Value::String(s) => write_str_repr(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py_repr(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str_repr(key, out);
                out.push_str(": ");
                write_py_repr(item, out);
            }
            out.push('}');
        }
    }
}

/// Python `repr(str)` (`unicode_repr`): single quotes unless the text has `'` and no `"`.
fn write_str_repr(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let push_hex = |out: &mut String, prefix: &str, value: u32, width: u32| {
        out.push_str(prefix);
        for shift in (0..width).rev() {
            out.push(char::from(HEX[((value >> (4 * shift)) & 0xf) as usize]));
        }
    };
    out.push(quote);
    for c in s.chars() {
        let code = c as u32;
        if c == quote || c == '\\' {
            out.push('\\');
            out.push(c);
        } else if c == '\t' {
            out.push_str("\\t");
        } else if c == '\n' {
            out.push_str("\\n");
        } else if c == '\r' {
            out.push_str("\\r");
        } else if code < 0x20 || code == 0x7f {
            push_hex(out, "\\x", code, 2);
        } else if code < 0x7f || is_printable(c) {
            out.push(c);
        } else if code <= 0xff {
            push_hex(out, "\\x", code, 2);
        } else if code <= 0xffff {
            push_hex(out, "\\u", code, 4);
        } else {
            push_hex(out, "\\U", code, 8);
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Number};

    fn num(text: &str) -> Value {
        Value::Number(text.parse::<Number>().unwrap())
    }

    #[test]
    fn py_str_cases() {
        assert_eq!(py_str(&json!("x y")), "x y");
        assert_eq!(py_str(&Value::Null), "None");
        assert_eq!(py_str(&json!(true)), "True");
        assert_eq!(py_str(&json!(false)), "False");
        assert_eq!(py_str(&num("-0")), "0");
        assert_eq!(py_str(&num("1.0")), "1.0");
        assert_eq!(py_str(&num("1e2")), "100.0");
        assert_eq!(py_str(&num("1E400")), "inf");
        assert_eq!(py_str(&num("12345678901234567890")), "12345678901234567890");
        let v: Value =
            serde_json::from_str(r#"{"a": [1, 2.0, "x", null, true], "b": {}}"#).unwrap();
        assert_eq!(py_str(&v), "{'a': [1, 2.0, 'x', None, True], 'b': {}}");
        assert_eq!(py_str(&json!([])), "[]");
        assert_eq!(py_str(&json!(["it's"])), r#"["it's"]"#);
        assert_eq!(py_str(&json!(["it's \"q\""])), r#"['it\'s "q"']"#);
        assert_eq!(py_str(&json!(["\"q\""])), r#"['"q"']"#);
        assert_eq!(
            py_str(&json!(["a\\b\n\r\t\u{0}\u{7f}"])),
            r"['a\\b\n\r\t\x00\x7f']"
        );
        assert_eq!(
            py_str(&json!([
                "é\u{a0}\u{ad}\u{200b}\u{2028}😀\u{e000}\u{10ffff}"
            ])),
            r"['é\xa0\xad\u200b\u2028😀\ue000\U0010ffff']"
        );
    }
}
