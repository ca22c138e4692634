//! Python's `bool()`, `float()` and `int()` of a value from `json.loads`:
//! SPEC's truthiness and its "coerce to float" / "coerce to an integer".

use serde_json::{Number, Value};

use super::float::{number_is_int, number_to_f64};
use super::text::is_space;
use super::unicode::decimal_value;

/// Python-truthy (`bool(x)`): not null, false, 0/0.0, "", [] or {}.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => number_to_f64(n) != 0.0,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

///
/// Numbers as they are (a float text that overflows, "1e400", is inf as `json.loads` makes it;
/// an integer too large for a float raises OverflowError in Python and gives `None`),
/// booleans 1.0/0.0, strings as `float(str)` parses them (Python whitespace trimmed, Unicode
/// decimal digits, single underscores between digits, "inf"/"infinity"/"nan" in any case with
/// an optional sign), anything else `None`.
pub fn coerce_float(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Number(n) => {
            let x = number_to_f64(n);
            if number_is_int(n) && x.is_infinite() {
                None
            } else {
                Some(x)
            }
        }
        Value::String(s) => parse_py_float(s),
        _ => None,
    }
}

/// Python `int(x)` as SPEC's "coerced to an integer"; `None` is a coercion failure.
///
/// Integers as they are (any size), floats truncated toward zero exactly (NaN/inf fail), booleans
/// 0/1, strings as `int(str)` parses them in base 10 (Python whitespace trimmed, optional sign,
/// Unicode decimal digits, single underscores between digits, at most 4300 digits: Python
/// 3.11's `sys.get_int_max_str_digits()` default). The result's text is the normalised decimal
/// integer ("-0" -> "0", no leading zeros).
pub fn coerce_int(v: &Value) -> Option<Number> {
    let text = match v {
        Value::Bool(b) => (if *b { "1" } else { "0" }).to_string(),
        Value::Number(n) if number_is_int(n) => normalise_int_text(n.as_str())?,
        Value::Number(n) => float_to_int_text(number_to_f64(n))?,
        Value::String(s) => parse_py_int(s)?,
        _ => return None,
    };
    text.parse::<Number>().ok()
}

/// `_PyUnicode_TransformDecimalAndSpaceToASCII`, the first step of both `float(str)` and
/// `int(str)`: code points below 127 are kept, other whitespace becomes ' ', other decimal
/// digits become ASCII digits; anything else makes the string unparsable.
fn to_ascii_number_text(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        if (c as u32) < 127 {
            out.push(c as u8);
        } else if is_space(c) {
            out.push(b' ');
        } else {
            out.push(b'0' + decimal_value(c)?);
        }
    }
    Some(out)
}

/// C `Py_ISSPACE`: the ASCII whitespace that `float()`/`int()` trim after the transformation
/// above (U+001C..U+001F are *not* in it, although `str.isspace()` is true for them).
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `float(str)`: `PyFloat_FromString` -> `_Py_string_to_number_with_underscores` ->
/// `float_from_string_inner` -> `_Py_dg_strtod` / `_Py_parse_inf_or_nan`.
fn parse_py_float(s: &str) -> Option<f64> {
    let mut buf = to_ascii_number_text(s)?;
    if buf.contains(&b'_') {
        // Underscores are only allowed between digits; they are then dropped.
        let mut kept = Vec::with_capacity(buf.len());
        let mut prev = 0u8;
        for &b in &buf {
            if b == b'_' {
                if !prev.is_ascii_digit() {
                    return None;
                }
            } else {
                kept.push(b);
                if prev == b'_' && !b.is_ascii_digit() {
                    return None;
                }
            }
            prev = b;
        }
        if prev == b'_' {
            return None;
        }
        buf = kept;
    }
    let start = buf.iter().position(|b| !is_c_space(*b))?;
    let end = buf.iter().rposition(|b| !is_c_space(*b))? + 1;
    let text = &buf[start..end];

    let (negative, unsigned) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let count_digits = |from: usize| {
        unsigned[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let int_digits = count_digits(0);
    let mut pos = int_digits;
    let mut frac_digits = 0;
    if unsigned.get(pos) == Some(&b'.') {
        frac_digits = count_digits(pos + 1);
        pos += 1 + frac_digits;
    }
    if int_digits + frac_digits > 0 {
        // A decimal number; an exponent marker without digits is not consumed (and then the
        // string is not fully consumed: an error, as in Python).
        if matches!(unsigned.get(pos), Some(b'e' | b'E')) {
            let mut exp_pos = pos + 1;
            if matches!(unsigned.get(exp_pos), Some(b'+' | b'-')) {
                exp_pos += 1;
            }
            let exp_digits = count_digits(exp_pos);
            if exp_digits > 0 {
                pos = exp_pos + exp_digits;
            }
        }
        if pos != unsigned.len() {
            return None;
        }
        // ASCII by construction; Rust's parser is correctly rounded like `_Py_dg_strtod`.
        return std::str::from_utf8(text).ok()?.parse::<f64>().ok();
    }
    let value = match unsigned.to_ascii_lowercase().as_slice() {
        b"inf" | b"infinity" => f64::INFINITY,
        b"nan" => f64::NAN,
        _ => return None,
    };
    Some(if negative { -value } else { value })
}

/// Python 3.11's default `sys.get_int_max_str_digits()`: `int(str)` refuses longer digit runs.
const INT_MAX_STR_DIGITS: usize = 4300;

/// `int(str)` in base 10: `PyLong_FromUnicodeObject` -> `PyLong_FromString`.
fn parse_py_int(s: &str) -> Option<String> {
    let buf = to_ascii_number_text(s)?;
    let mut i = buf.iter().take_while(|b| is_c_space(**b)).count();
    let mut negative = false;
    match buf.get(i) {
        Some(b'+') => i += 1,
        Some(b'-') => {
            negative = true;
            i += 1;
        }
        _ => {}
    }
    if buf.get(i) == Some(&b'_') {
        return None; // may not start with an underscore
    }
    let mut digits = String::new();
    let mut prev = 0u8;
    while let Some(&b) = buf.get(i) {
        if b.is_ascii_digit() {
            digits.push(char::from(b));
        } else if b == b'_' {
            if prev == b'_' {
                return None; // only one underscore at a time
            }
        } else {
            break;
        }
        prev = b;
        i += 1;
    }
    if prev == b'_' || digits.is_empty() || digits.len() > INT_MAX_STR_DIGITS {
        return None;
    }
    i += buf[i..].iter().take_while(|b| is_c_space(**b)).count();
    if i != buf.len() {
        return None;
    }
    Some(normalised_digits(negative, &digits))
}

/// `-`? digits with leading zeros removed; zero is "0" whatever its sign.
fn normalised_digits(negative: bool, digits: &str) -> String {
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else if negative {
        format!("-{trimmed}")
    } else {
        trimmed.to_string()
    }
}

/// Normalise the text of a JSON integer as Python's `int` would print it.
pub(crate) fn normalise_int_text(text: &str) -> Option<String> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(normalised_digits(negative, digits))
}

/// Python `int(float)`: the exact integer part, any size (e.g. `int(1e300)` has 301 digits).
fn float_to_int_text(x: f64) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    let t = x.trunc();
    if t.abs() < (1u64 << 63) as f64 {
        return Some((t as i64).to_string());
    }
    // |t| >= 2**63: an integer m * 2**e with a 53-bit m and e > 0.
    let bits = t.abs().to_bits();
    let mantissa = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let mut shift = ((bits >> 52) & 0x7ff) as i64 - 1075;
    // Little-endian base-10^9 limbs.
    const BASE: u64 = 1_000_000_000;
    let mut limbs = vec![
        mantissa % BASE,
        (mantissa / BASE) % BASE,
        mantissa / (BASE * BASE),
    ];
    while shift > 0 {
        let step = shift.min(32);
        shift -= step;
        let mut carry = 0u64;
        for limb in limbs.iter_mut() {
            let v = (*limb << step) + carry;
            *limb = v % BASE;
            carry = v / BASE;
        }
        while carry > 0 {
            limbs.push(carry % BASE);
            carry /= BASE;
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut out = String::new();
    if t < 0.0 {
        out.push('-');
    }
    let mut iter = limbs.iter().rev();
    if let Some(first) = iter.next() {
        out.push_str(&first.to_string());
    }
    for limb in iter {
        out.push_str(&format!("{limb:09}"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn num(text: &str) -> Value {
        Value::Number(text.parse::<Number>().unwrap())
    }

    fn int_text(v: &Value) -> Option<String> {
        coerce_int(v).map(|n| n.as_str().to_string())
    }

    #[test]
    fn coerce_float_cases() {
        let s = |t: &str| coerce_float(&json!(t));
        assert_eq!(coerce_float(&json!(true)), Some(1.0));
        assert_eq!(coerce_float(&json!(false)), Some(0.0));
        assert_eq!(coerce_float(&Value::Null), None);
        assert_eq!(coerce_float(&json!([])), None);
        assert_eq!(coerce_float(&json!({})), None);
        assert_eq!(coerce_float(&num("3")), Some(3.0));
        assert_eq!(coerce_float(&num("-0")), Some(0.0));
        assert_eq!(coerce_float(&num("0.1")), Some(0.1));
        assert_eq!(coerce_float(&num("1e400")), Some(f64::INFINITY));
        assert_eq!(coerce_float(&num("-1E400")), Some(f64::NEG_INFINITY));
        assert_eq!(
            coerce_float(&num("9007199254740993")),
            Some(9007199254740992.0)
        );
        assert_eq!(coerce_float(&num(&format!("1{}", "0".repeat(400)))), None);
        assert_eq!(s(" 12 "), Some(12.0));
        assert_eq!(s("1_000"), Some(1000.0));
        assert_eq!(s("1e1_0"), Some(1e10));
        assert_eq!(s("1e5"), Some(1e5));
        assert_eq!(s("-.5"), Some(-0.5));
        assert_eq!(s("+5."), Some(5.0));
        assert_eq!(s("١٢"), Some(12.0));
        assert_eq!(s("\u{a0}1\u{2003}"), Some(1.0));
        assert_eq!(s("inf"), Some(f64::INFINITY));
        assert_eq!(s("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(s("1e400"), Some(f64::INFINITY));
        assert_eq!(s("-1e-400").map(f64::to_bits), Some((-0.0f64).to_bits()));
        assert!(s("nan").is_some_and(f64::is_nan));
        assert!(s("-NaN").is_some_and(|x| x.is_nan() && x.is_sign_negative()));
        for bad in [
            "",
            " ",
            ".",
            "1e",
            "1e+",
            "e5",
            "1__0",
            "_1",
            "1_",
            "1_.5",
            "1._5",
            "in_f",
            "0x10",
            "1\u{0}",
            "\u{1c}1",
            "1\u{1c}",
            "infin",
            "nana",
            "+-1",
            "1 2",
            "١x",
            "12a",
            "\u{7f}1",
            "--1",
            "1.2.3",
            "+",
            "-",
            "inf inity",
        ] {
            assert_eq!(s(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn coerce_int_cases() {
        let s = |t: &str| int_text(&json!(t));
        assert_eq!(int_text(&json!(true)).as_deref(), Some("1"));
        assert_eq!(int_text(&json!(false)).as_deref(), Some("0"));
        assert_eq!(int_text(&Value::Null), None);
        assert_eq!(int_text(&json!({"a": 1})), None);
        assert_eq!(int_text(&num("15")).as_deref(), Some("15"));
        assert_eq!(int_text(&num("-0")).as_deref(), Some("0"));
        let big = "123456789012345678901234567890";
        assert_eq!(int_text(&num(big)).as_deref(), Some(big));
        assert_eq!(int_text(&num("12.9")).as_deref(), Some("12"));
        assert_eq!(int_text(&num("-12.9")).as_deref(), Some("-12"));
        assert_eq!(int_text(&num("-0.5")).as_deref(), Some("0"));
        assert_eq!(int_text(&num("1e2")).as_deref(), Some("100"));
        assert_eq!(int_text(&num("1e400")), None);
        assert_eq!(
            int_text(&num("1e19")).as_deref(),
            Some("10000000000000000000")
        );
        assert_eq!(
            int_text(&num("-9.223372036854775808e18")).as_deref(),
            Some("-9223372036854775808")
        );
        let e300 = int_text(&num("1e300")).unwrap();
        assert_eq!(e300.len(), 301);
        assert_eq!(e300, "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160");
        assert_eq!(
            int_text(&json!(f64::MAX)).map(|t| t.len()),
            Some(309),
            "int(sys.float_info.max) has 309 digits"
        );
        assert_eq!(s("15").as_deref(), Some("15"));
        assert_eq!(s(" +12 ").as_deref(), Some("12"));
        assert_eq!(s("-007").as_deref(), Some("-7"));
        assert_eq!(s("-0").as_deref(), Some("0"));
        assert_eq!(s("1_000").as_deref(), Some("1000"));
        assert_eq!(s("0_0").as_deref(), Some("0"));
        assert_eq!(s("١٢").as_deref(), Some("12"));
        assert_eq!(s("\u{3000}42\u{85}").as_deref(), Some("42"));
        assert_eq!(s(&"9".repeat(4300)).map(|t| t.len()), Some(4300));
        assert_eq!(s(&"9".repeat(4301)), None);
        for bad in [
            "", " ", "12.5", "1e3", "_1", "1_", "1__0", "- 1", "+", "0x10", "1\u{0}", "\u{1c}1",
            "inf", "nan", "١x", "1 2", "++1",
        ] {
            assert_eq!(s(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn truthiness_follows_python() {
        for v in [
            json!(null),
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert!(!truthy(&v), "{v} should be falsy");
        }
        for v in [
            json!(true),
            json!(1),
            json!(-0.5),
            json!(" "),
            json!([0]),
            json!({"a": null}),
        ] {
            assert!(truthy(&v), "{v} should be truthy");
        }
    }
}
