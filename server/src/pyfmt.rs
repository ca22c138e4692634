//! Python 3.11 semantics that the PMM rules lean on, reproduced bit for bit.
//!
//! SPEC.md is written against Python: floats are printed with `repr` and
//! `format(x, ".2f")`, values are coerced with `float()`/`int()`, shown with
//! `str()`, trimmed/lower-cased with `str.strip`/`str.lower`, whitespace is
//! `re`'s Unicode `\s`, and timestamps go through `datetime.fromisoformat`.
//! This module is the one place where those semantics live. The Unicode data
//! Python 3.11 uses (14.0.0) is embedded where Rust's own tables are newer
//! (printability, decimal digits); `tests/pyfmt_differential.rs` checks every
//! function here against a real `python3`.

use serde_json::{Number, Value};

// ---------------------------------------------------------------------------
// Floats
// ---------------------------------------------------------------------------

/// Python `repr(float)` (short repr, `float_repr_style == 'short'`), appended to `out`.
///
/// Shortest round-trip digits as Python's `_Py_dg_dtoa` mode 0 picks them (Rust's `{:e}`, with
/// Python's half-to-even choice on exact ties); fixed notation when 1e-4 <= |x| < 1e16 with at
/// least one digit after the point, else exponent notation with a sign and at least two
/// exponent digits.
/// Non-finite values print as Python does: `inf`, `-inf`, `nan` (the sign of a NaN is dropped).
pub fn write_float_repr(x: f64, out: &mut String) {
    if x.is_nan() {
        out.push_str("nan");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x < 0.0 { "-inf" } else { "inf" });
        return;
    }
    let (digits, exp) = shortest_digits(x.abs());
    let n = digits.len() as i32;
    // Python's `decpt`: the value is 0.DIGITS x 10^decpt.
    let decpt = exp + 1;
    if x.is_sign_negative() {
        out.push('-');
    }
    let push_digits = |out: &mut String, d: &[u8]| d.iter().for_each(|b| out.push(char::from(*b)));
    if -4 < decpt && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            (0..-decpt).for_each(|_| out.push('0'));
            push_digits(out, &digits);
        } else if decpt >= n {
            push_digits(out, &digits);
            (0..decpt - n).for_each(|_| out.push('0'));
            out.push_str(".0");
        } else {
            let (int_part, frac_part) = digits.split_at(decpt as usize);
            push_digits(out, int_part);
            out.push('.');
            push_digits(out, frac_part);
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        push_digits(out, first);
        if !rest.is_empty() {
            out.push('.');
            push_digits(out, rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let mag = exp.unsigned_abs();
        if mag < 10 {
            out.push('0');
        }
        out.push_str(&mag.to_string());
    }
}

/// The digits and decimal exponent of a `{:e}`-style rendering ("1.25e-3" -> b"125", -3).
fn sci_parts(sci: &str) -> (Vec<u8>, i32) {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    (digits, exp.parse().unwrap_or(0))
}

/// Shortest round-trip digits of a finite `a >= 0` and the exponent of the first digit, chosen
/// as `_Py_dg_dtoa` mode 0 chooses them.
///
/// Rust's `{:e}` finds the same shortest length and the closest digits, except on an exact tie
/// (|x| exactly halfway between two shortest candidates, e.g. 1580200842851299.25): Rust rounds
/// up, Python rounds half to even ("…299.2"). A tie needs the exact decimal expansion of `a` to
/// be one digit longer than the shortest form and to end in 5, which [`exact_decimal`] tells
/// cheaply.
fn shortest_digits(a: f64) -> (Vec<u8>, i32) {
    let (digits, exp) = sci_parts(&format!("{a:e}"));
    let n = digits.len();
    if a == 0.0 || n > 17 {
        return (digits, exp);
    }
    let Some((exact, exact_exp)) = exact_decimal(a) else {
        return (digits, exp); // more than 38 significant digits: no tie possible
    };
    if exact % 10 != 5 || exact.checked_ilog10() != Some(n as u32) {
        return (digits, exp);
    }
    let lo = exact / 10;
    let even = if lo % 2 == 0 { lo } else { lo + 1 };
    let scale = exact_exp + 1;
    if format!("{even}e{scale}").parse::<f64>() != Ok(a) {
        return (digits, exp); // the even neighbour does not round-trip
    }
    let text = even.to_string();
    let even_exp = scale + text.len() as i32 - 1;
    let even_digits: Vec<u8> = text.trim_end_matches('0').bytes().collect();
    if even_digits.is_empty() {
        return (digits, exp);
    }
    (even_digits, even_exp)
}

/// The exact value of a finite `a > 0` as `digits × 10^exp` with no trailing zero in `digits`,
/// when it has at most 38 significant digits (else `None`).
fn exact_decimal(a: f64) -> Option<(u128, i32)> {
    let bits = a.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mut m, mut e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    if m == 0 {
        return None;
    }
    let zeros = m.trailing_zeros();
    m >>= zeros;
    e += zeros as i32;
    if e >= 0 {
        // An odd multiple of 2^e has no trailing decimal zero.
        let shifted = u128::from(m).checked_shl(e as u32)?;
        (shifted >> e == u128::from(m)).then_some((shifted, 0))
    } else {
        // m × 2^-k = m × 5^k / 10^k, and m × 5^k is odd.
        let k = e.unsigned_abs();
        let five_k = 5u128.checked_pow(k)?;
        Some((u128::from(m).checked_mul(five_k)?, e))
    }
}

/// Python `repr(float)` as a new string; see [`write_float_repr`].
pub fn float_repr(x: f64) -> String {
    let mut out = String::new();
    write_float_repr(x, &mut out);
    out
}

/// Python `format(x, ".2f")`: correctly rounded from the exact binary value, ties to even.
///
/// Rust's `{:.2}` is exact (Dragon4-style) with ties-to-even and keeps the sign of values that
/// round to zero (`-0.00`), like Python; only NaN is spelled differently (`nan`).
pub fn format_2f(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    format!("{x:.2}")
}

/// The float value of a JSON number as Python's `json.loads` sees it.
///
/// Integers convert like `float(int)` (exact, rounded half-even to the nearest f64; an integer
/// of 2**1024 - 2**970 or more, where Python raises OverflowError, gives ±inf here), and float
/// texts parse like `float(str)` (so "1e400" is inf). Used for arithmetic.
pub fn number_to_f64(n: &Number) -> f64 {
    // Rust's decimal parser is correctly rounded for any length, like CPython's.
    let x = n.as_str().parse::<f64>().unwrap_or(f64::NAN);
    if x == 0.0 && number_is_int(n) {
        0.0 // the integer -0 is 0, and float(0) is +0.0
    } else {
        x
    }
}

/// True when Python's `json.loads` would produce an `int` for this number text (no fraction and
/// no exponent).
pub fn number_is_int(n: &Number) -> bool {
    !n.as_str().bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

// ---------------------------------------------------------------------------
// Whitespace and case
// ---------------------------------------------------------------------------

/// Python `str.isspace()` for one char, which is also what `re`'s `\s` matches in a str pattern
/// (`Py_UNICODE_ISSPACE`: bidi classes WS/B/S and category Zs).
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{d}'
            | '\u{1c}'..='\u{20}'
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// Python `str.strip()` with no argument (strips [`is_space`] characters at both ends).
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python `re.sub(r"\s+", " ", s).strip()`: trim, and collapse every whitespace run to one space.
pub fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(is_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Python 3.11 `str.lower()`: full Unicode lower-casing (SpecialCasing) with the final-sigma rule.
///
/// Each character is lower-cased with Rust's `char::to_lowercase` (same algorithm, newer Unicode
/// data than Python 3.11's 14.0.0); characters Python 3.11 does not know (unassigned in 14.0.0)
/// are kept as they are, and U+03A3 follows CPython's `handle_capital_sigma` with Unicode 14.0.0
/// cased/case-ignorable properties.
pub fn lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if c == '\u{3a3}' {
            out.push(if is_final_sigma(s, i) {
                '\u{3c2}'
            } else {
                '\u{3c3}'
            });
        } else if is_case_inert(c) {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// CPython `handle_capital_sigma`: the Σ at byte `i` is final when a cased letter precedes it
/// and none follows it, skipping case-ignorable characters both ways.
fn is_final_sigma(s: &str, i: usize) -> bool {
    let before = s[..i].chars().rev().find(|c| !is_case_ignorable(*c));
    if !before.is_some_and(is_cased) {
        return false;
    }
    let after = s[i + '\u{3a3}'.len_utf8()..]
        .chars()
        .find(|c| !is_case_ignorable(*c));
    !after.is_some_and(is_cased)
}

/// Non-ASCII characters that are neither printable nor format characters (Cf) for Python 3.11:
/// controls, separators, private use and everything unassigned in Unicode 14.0.0. They are
/// neither cased nor case-ignorable and lower-case to themselves there.
fn is_case_inert(c: char) -> bool {
    !c.is_ascii() && !is_printable(c) && !in_ranges(FORMAT_CF, c)
}

/// Unicode 14.0.0 `Cased`, for a character that is not case-ignorable (the only case the
/// final-sigma scan asks about). Rust's own tables are probed through `str::to_lowercase`: in
/// "AΣc" the Σ stays σ exactly when c is cased and not case-ignorable.
fn is_cased(c: char) -> bool {
    match c {
        // Properties that differ between Unicode 14.0.0 and Rust's newer tables:
        // U+0295 ʕ is Ll (cased), U+1171E AHOM CONSONANT SIGN MEDIAL RA is Mn (case-ignorable).
        '\u{295}' => true,
        '\u{1171e}' => false,
        _ if is_case_inert(c) => false,
        _ => {
            ['A', '\u{3a3}', c]
                .iter()
                .collect::<String>()
                .to_lowercase()
                .chars()
                .nth(1)
                == Some('\u{3c3}')
        }
    }
}

/// Unicode 14.0.0 `Case_Ignorable`, probed like [`is_cased`]: in "AcΣ" the Σ becomes ς when c is
/// case-ignorable (skipped, so the cased A precedes Σ) or cased.
fn is_case_ignorable(c: char) -> bool {
    match c {
        '\u{295}' => false,
        '\u{1171e}' => true,
        _ if is_case_inert(c) => false,
        _ => {
            !is_cased(c)
                && ['A', c, '\u{3a3}']
                    .iter()
                    .collect::<String>()
                    .to_lowercase()
                    .ends_with('\u{3c2}')
        }
    }
}

/// Python 3.11 `str.isprintable()` for one char (Unicode 14.0.0), as used by `repr(str)`.
fn is_printable(c: char) -> bool {
    in_ranges(PRINTABLE, c)
}

fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
    let c = c as u32;
    let i = ranges.partition_point(|&(_, hi)| hi < c);
    ranges.get(i).is_some_and(|&(lo, _)| lo <= c)
}

/// Python `unicodedata.decimal(c)`: the value 0-9 of a Unicode decimal digit (category Nd).
fn decimal_value(c: char) -> Option<u8> {
    let c = c as u32;
    let i = DECIMAL_ZEROS.partition_point(|&zero| zero <= c);
    let zero = *DECIMAL_ZEROS.get(i.checked_sub(1)?)?;
    let d = c - zero;
    (d < 10).then_some(d as u8)
}

// ---------------------------------------------------------------------------
// float() / int() coercion
// ---------------------------------------------------------------------------

/// Python `float(x)` as SPEC's "coerce to float"; `None` is a coercion failure.
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
fn normalise_int_text(text: &str) -> Option<String> {
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

// ---------------------------------------------------------------------------
// str() of a JSON value
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// datetime.fromisoformat
// ---------------------------------------------------------------------------

/// Python 3.11 `datetime.fromisoformat(ts).strftime("%Y-%m-%dT%H:%M:%SZ")`; `None` when
/// `fromisoformat` raises.
///
/// A port of CPython 3.11's C parser (`Modules/_datetimemodule.c`), quirks included: it works on
/// the UTF-8 bytes, the date/time separator may be any character, week dates (`2025-W01-3`),
/// basic formats (`20250929T120000`), hours only (`T12`), a fraction after minutes or seconds
/// (`.` or `,`, digits past 6 ignored), offsets `Z`/`±HH[:MM[:SS[.f]]]` (any minutes, total
/// below 24 h). The result is the ts's own wall clock, no time-zone conversion; `%Y` is not
/// zero-padded (glibc: year 1 prints as `1`).
pub fn iso_wall_clock(ts: &str) -> Option<String> {
    if ts.chars().count() < 7 {
        return None;
    }
    let b = ts.as_bytes();
    let len = b.len();
    let sep = find_isoformat_datetime_separator(b)?;
    let (year, month, day) = parse_isoformat_date(b, sep)?;
    let mut time = IsoTime::default();
    if len > sep {
        // Skip the separator: one UTF-8 encoded character.
        let lead = at(b, sep);
        let skip = if lead & 0x80 == 0 {
            1
        } else {
            match lead & 0xf0 {
                0xe0 => 3,
                0xf0 => 4,
                _ => 2,
            }
        };
        time = parse_isoformat_time(b, (sep + skip).min(len))?;
    }
    let valid_date = (1..=9999).contains(&year)
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month);
    let valid_time = time.hour <= 23 && time.minute <= 59 && time.second <= 59;
    // A UTC offset must be strictly between -24 h and +24 h.
    let valid_offset = time.offset_us.abs() < 86_400_000_000;
    if !(valid_date && valid_time && valid_offset) {
        return None;
    }
    Some(format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        time.hour, time.minute, time.second
    ))
}

/// The byte at `i`, or 0 past the end: the C parser reads a NUL-terminated buffer.
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// `parse_digits`: exactly `n` ASCII digits at `*p`, accumulated into `*value`.
fn parse_digits(b: &[u8], p: &mut usize, n: usize, value: &mut i64) -> Option<()> {
    for _ in 0..n {
        let d = at(b, *p).wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        *value = *value * 10 + i64::from(d);
        *p += 1;
    }
    Some(())
}

/// `_find_isoformat_datetime_separator`: where the date ends (a byte index).
fn find_isoformat_datetime_separator(b: &[u8]) -> Option<usize> {
    let len = b.len();
    if len == 7 {
        return Some(7);
    }
    if at(b, 4) == b'-' {
        if at(b, 5) == b'W' {
            if len > 8 && at(b, 8) == b'-' {
                if len == 9 {
                    return None;
                }
                if len > 10 && at(b, 10).is_ascii_digit() {
                    return Some(8);
                }
                return Some(10);
            }
            return Some(8);
        }
        return Some(10);
    }
    if at(b, 4) == b'W' {
        let mut idx = 7;
        while idx < len && b[idx].is_ascii_digit() {
            idx += 1;
        }
        if idx < 9 {
            return Some(idx);
        }
        return Some(if idx % 2 == 0 { 7 } else { 8 });
    }
    Some(8)
}

/// `parse_isoformat_date`: `YYYY-MM-DD`, `YYYYMMDD`, `YYYY-Www[-D]`, `YYYYWww[D]`.
fn parse_isoformat_date(b: &[u8], len: usize) -> Option<(i64, i64, i64)> {
    let mut p = 0;
    let mut year = 0;
    parse_digits(b, &mut p, 4, &mut year)?;
    let uses_separator = at(b, p) == b'-';
    if uses_separator {
        p += 1;
    }
    if at(b, p) == b'W' {
        p += 1;
        let (mut week, mut weekday) = (0, 0);
        parse_digits(b, &mut p, 2, &mut week)?;
        if p < len {
            if uses_separator {
                if at(b, p) != b'-' {
                    return None;
                }
                p += 1;
            }
            parse_digits(b, &mut p, 1, &mut weekday)?;
        } else {
            weekday = 1;
        }
        return iso_to_ymd(year, week, weekday);
    }
    let (mut month, mut day) = (0, 0);
    parse_digits(b, &mut p, 2, &mut month)?;
    if uses_separator {
        if at(b, p) != b'-' {
            return None;
        }
        p += 1;
    }
    parse_digits(b, &mut p, 2, &mut day)?;
    Some((year, month, day))
}

#[derive(Default)]
struct IsoTime {
    hour: i64,
    minute: i64,
    second: i64,
    /// The UTC offset in microseconds (only its range matters here).
    offset_us: i64,
}

/// `parse_hh_mm_ss_ff` on `b[start..end]`: `HH[:?MM[:?SS]][{.,}ffffff…]`. Returns the four fields
/// and whether it stopped before a NUL (C's "1: not the end of the string").
fn parse_hh_mm_ss_ff(b: &[u8], start: usize, end: usize) -> Option<([i64; 4], bool)> {
    let mut vals = [0i64; 4];
    let mut p = start;
    let mut has_separator = true;
    for (i, val) in vals.iter_mut().take(3).enumerate() {
        parse_digits(b, &mut p, 2, val)?;
        let c = at(b, p);
        p += 1;
        if i == 0 {
            has_separator = c == b':';
        }
        if p >= end {
            return Some((vals, c != 0));
        } else if has_separator && c == b':' {
            continue;
        } else if c == b'.' || c == b',' {
            break;
        } else if !has_separator {
            p -= 1;
        } else {
            return None; // malformed time separator
        }
    }
    let to_parse = end.saturating_sub(p).min(6);
    let mut micro = 0;
    parse_digits(b, &mut p, to_parse, &mut micro)?;
    if let Some(scale) = [1_000_000, 100_000, 10_000, 1_000, 100, 10].get(to_parse) {
        micro *= scale;
    }
    while at(b, p).is_ascii_digit() {
        p += 1; // digits past the sixth are ignored
    }
    vals[3] = micro;
    Some((vals, at(b, p) != 0))
}

/// `parse_isoformat_time` on `b[start..]`: a time, then optionally `Z` or `±` and an offset.
fn parse_isoformat_time(b: &[u8], start: usize) -> Option<IsoTime> {
    let end = b.len();
    let mut tz = start;
    loop {
        if matches!(at(b, tz), b'Z' | b'+' | b'-') {
            break;
        }
        tz += 1;
        if tz >= end {
            break;
        }
    }
    let ([hour, minute, second, _], trailing) = parse_hh_mm_ss_ff(b, start, tz)?;
    let mut time = IsoTime {
        hour,
        minute,
        second,
        offset_us: 0,
    };
    if tz == end {
        return (!trailing).then_some(time);
    }
    if at(b, tz) == b'Z' {
        return (at(b, tz + 1) == 0).then_some(time);
    }
    let sign = if at(b, tz) == b'-' { -1 } else { 1 };
    let ([h, m, s, us], trailing) = parse_hh_mm_ss_ff(b, tz + 1, end)?;
    if trailing {
        return None;
    }
    time.offset_us = sign * ((h * 3600 + m * 60 + s) * 1_000_000 + us);
    Some(time)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    const DAYS: [i64; 13] = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if month == 2 && is_leap(year) {
        29
    } else {
        DAYS.get(month as usize).copied().unwrap_or(0)
    }
}

/// `ymd_to_ord`: days since 0001-01-01 (which is day 1).
fn ymd_to_ord(year: i64, month: i64, day: i64) -> i64 {
    const BEFORE: [i64; 13] = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let y = year - 1;
    let leap_day = i64::from(month > 2 && is_leap(year));
    let before = BEFORE.get(month as usize).copied().unwrap_or(0);
    y * 365 + y / 4 - y / 100 + y / 400 + before + leap_day + day
}

/// `ord_to_ymd`: the inverse of [`ymd_to_ord`] for ordinals >= 1.
fn ord_to_ymd(ordinal: i64) -> (i64, i64, i64) {
    const DI400Y: i64 = 146_097;
    const DI100Y: i64 = 36_524;
    const DI4Y: i64 = 1_461;
    let mut n = ordinal - 1;
    let n400 = n / DI400Y;
    n %= DI400Y;
    let mut year = n400 * 400 + 1;
    let n100 = n / DI100Y;
    n %= DI100Y;
    let n4 = n / DI4Y;
    n %= DI4Y;
    let n1 = n / 365;
    n %= 365;
    year += n100 * 100 + n4 * 4 + n1;
    if n1 == 4 || n100 == 4 {
        return (year - 1, 12, 31);
    }
    let mut month = 1;
    while month < 12 && ymd_to_ord(year, month + 1, 1) - ymd_to_ord(year, 1, 1) <= n {
        month += 1;
    }
    let day = n - (ymd_to_ord(year, month, 1) - ymd_to_ord(year, 1, 1)) + 1;
    (year, month, day)
}

/// `iso_to_ymd`: ISO year, week (1-52, or 53 in long years) and weekday (1-7) to a date.
fn iso_to_ymd(year: i64, week: i64, weekday: i64) -> Option<(i64, i64, i64)> {
    if !(1..=9999).contains(&year) {
        return None;
    }
    let jan1 = ymd_to_ord(year, 1, 1);
    let first_weekday = (jan1 + 6) % 7; // 0 = Monday
    if !(1..53).contains(&week) {
        let long_year = first_weekday == 3 || (first_weekday == 2 && is_leap(year));
        if !(week == 53 && long_year) {
            return None;
        }
    }
    if !(1..8).contains(&weekday) {
        return None;
    }
    let mut week1_monday = jan1 - first_weekday;
    if first_weekday > 3 {
        week1_monday += 7;
    }
    Some(ord_to_ymd(week1_monday + (week - 1) * 7 + weekday - 1))
}

// ---------------------------------------------------------------------------
// Unicode 14.0.0 data (Python 3.11)
// ---------------------------------------------------------------------------

/// Inclusive ranges of the code points for which Python 3.11 `str.isprintable()` is true
/// (Unicode 14.0.0), generated with `unicodedata`; checked over all code points by the
/// differential test.
#[rustfmt::skip]
const PRINTABLE: &[(u32, u32)] = &[
    (0x0020, 0x007E), (0x00A1, 0x00AC), (0x00AE, 0x0377), (0x037A, 0x037F), (0x0384, 0x038A),
    (0x038C, 0x038C), (0x038E, 0x03A1), (0x03A3, 0x052F), (0x0531, 0x0556), (0x0559, 0x058A),
    (0x058D, 0x058F), (0x0591, 0x05C7), (0x05D0, 0x05EA), (0x05EF, 0x05F4), (0x0606, 0x061B),
    (0x061D, 0x06DC), (0x06DE, 0x070D), (0x0710, 0x074A), (0x074D, 0x07B1), (0x07C0, 0x07FA),
    (0x07FD, 0x082D), (0x0830, 0x083E), (0x0840, 0x085B), (0x085E, 0x085E), (0x0860, 0x086A),
    (0x0870, 0x088E), (0x0898, 0x08E1), (0x08E3, 0x0983), (0x0985, 0x098C), (0x098F, 0x0990),
    (0x0993, 0x09A8), (0x09AA, 0x09B0), (0x09B2, 0x09B2), (0x09B6, 0x09B9), (0x09BC, 0x09C4),
    (0x09C7, 0x09C8), (0x09CB, 0x09CE), (0x09D7, 0x09D7), (0x09DC, 0x09DD), (0x09DF, 0x09E3),
    (0x09E6, 0x09FE), (0x0A01, 0x0A03), (0x0A05, 0x0A0A), (0x0A0F, 0x0A10), (0x0A13, 0x0A28),
    (0x0A2A, 0x0A30), (0x0A32, 0x0A33), (0x0A35, 0x0A36), (0x0A38, 0x0A39), (0x0A3C, 0x0A3C),
    (0x0A3E, 0x0A42), (0x0A47, 0x0A48), (0x0A4B, 0x0A4D), (0x0A51, 0x0A51), (0x0A59, 0x0A5C),
    (0x0A5E, 0x0A5E), (0x0A66, 0x0A76), (0x0A81, 0x0A83), (0x0A85, 0x0A8D), (0x0A8F, 0x0A91),
    (0x0A93, 0x0AA8), (0x0AAA, 0x0AB0), (0x0AB2, 0x0AB3), (0x0AB5, 0x0AB9), (0x0ABC, 0x0AC5),
    (0x0AC7, 0x0AC9), (0x0ACB, 0x0ACD), (0x0AD0, 0x0AD0), (0x0AE0, 0x0AE3), (0x0AE6, 0x0AF1),
    (0x0AF9, 0x0AFF), (0x0B01, 0x0B03), (0x0B05, 0x0B0C), (0x0B0F, 0x0B10), (0x0B13, 0x0B28),
    (0x0B2A, 0x0B30), (0x0B32, 0x0B33), (0x0B35, 0x0B39), (0x0B3C, 0x0B44), (0x0B47, 0x0B48),
    (0x0B4B, 0x0B4D), (0x0B55, 0x0B57), (0x0B5C, 0x0B5D), (0x0B5F, 0x0B63), (0x0B66, 0x0B77),
    (0x0B82, 0x0B83), (0x0B85, 0x0B8A), (0x0B8E, 0x0B90), (0x0B92, 0x0B95), (0x0B99, 0x0B9A),
    (0x0B9C, 0x0B9C), (0x0B9E, 0x0B9F), (0x0BA3, 0x0BA4), (0x0BA8, 0x0BAA), (0x0BAE, 0x0BB9),
    (0x0BBE, 0x0BC2), (0x0BC6, 0x0BC8), (0x0BCA, 0x0BCD), (0x0BD0, 0x0BD0), (0x0BD7, 0x0BD7),
    (0x0BE6, 0x0BFA), (0x0C00, 0x0C0C), (0x0C0E, 0x0C10), (0x0C12, 0x0C28), (0x0C2A, 0x0C39),
    (0x0C3C, 0x0C44), (0x0C46, 0x0C48), (0x0C4A, 0x0C4D), (0x0C55, 0x0C56), (0x0C58, 0x0C5A),
    (0x0C5D, 0x0C5D), (0x0C60, 0x0C63), (0x0C66, 0x0C6F), (0x0C77, 0x0C8C), (0x0C8E, 0x0C90),
    (0x0C92, 0x0CA8), (0x0CAA, 0x0CB3), (0x0CB5, 0x0CB9), (0x0CBC, 0x0CC4), (0x0CC6, 0x0CC8),
    (0x0CCA, 0x0CCD), (0x0CD5, 0x0CD6), (0x0CDD, 0x0CDE), (0x0CE0, 0x0CE3), (0x0CE6, 0x0CEF),
    (0x0CF1, 0x0CF2), (0x0D00, 0x0D0C), (0x0D0E, 0x0D10), (0x0D12, 0x0D44), (0x0D46, 0x0D48),
    (0x0D4A, 0x0D4F), (0x0D54, 0x0D63), (0x0D66, 0x0D7F), (0x0D81, 0x0D83), (0x0D85, 0x0D96),
    (0x0D9A, 0x0DB1), (0x0DB3, 0x0DBB), (0x0DBD, 0x0DBD), (0x0DC0, 0x0DC6), (0x0DCA, 0x0DCA),
    (0x0DCF, 0x0DD4), (0x0DD6, 0x0DD6), (0x0DD8, 0x0DDF), (0x0DE6, 0x0DEF), (0x0DF2, 0x0DF4),
    (0x0E01, 0x0E3A), (0x0E3F, 0x0E5B), (0x0E81, 0x0E82), (0x0E84, 0x0E84), (0x0E86, 0x0E8A),
    (0x0E8C, 0x0EA3), (0x0EA5, 0x0EA5), (0x0EA7, 0x0EBD), (0x0EC0, 0x0EC4), (0x0EC6, 0x0EC6),
    (0x0EC8, 0x0ECD), (0x0ED0, 0x0ED9), (0x0EDC, 0x0EDF), (0x0F00, 0x0F47), (0x0F49, 0x0F6C),
    (0x0F71, 0x0F97), (0x0F99, 0x0FBC), (0x0FBE, 0x0FCC), (0x0FCE, 0x0FDA), (0x1000, 0x10C5),
    (0x10C7, 0x10C7), (0x10CD, 0x10CD), (0x10D0, 0x1248), (0x124A, 0x124D), (0x1250, 0x1256),
    (0x1258, 0x1258), (0x125A, 0x125D), (0x1260, 0x1288), (0x128A, 0x128D), (0x1290, 0x12B0),
    (0x12B2, 0x12B5), (0x12B8, 0x12BE), (0x12C0, 0x12C0), (0x12C2, 0x12C5), (0x12C8, 0x12D6),
    (0x12D8, 0x1310), (0x1312, 0x1315), (0x1318, 0x135A), (0x135D, 0x137C), (0x1380, 0x1399),
    (0x13A0, 0x13F5), (0x13F8, 0x13FD), (0x1400, 0x167F), (0x1681, 0x169C), (0x16A0, 0x16F8),
    (0x1700, 0x1715), (0x171F, 0x1736), (0x1740, 0x1753), (0x1760, 0x176C), (0x176E, 0x1770),
    (0x1772, 0x1773), (0x1780, 0x17DD), (0x17E0, 0x17E9), (0x17F0, 0x17F9), (0x1800, 0x180D),
    (0x180F, 0x1819), (0x1820, 0x1878), (0x1880, 0x18AA), (0x18B0, 0x18F5), (0x1900, 0x191E),
    (0x1920, 0x192B), (0x1930, 0x193B), (0x1940, 0x1940), (0x1944, 0x196D), (0x1970, 0x1974),
    (0x1980, 0x19AB), (0x19B0, 0x19C9), (0x19D0, 0x19DA), (0x19DE, 0x1A1B), (0x1A1E, 0x1A5E),
    (0x1A60, 0x1A7C), (0x1A7F, 0x1A89), (0x1A90, 0x1A99), (0x1AA0, 0x1AAD), (0x1AB0, 0x1ACE),
    (0x1B00, 0x1B4C), (0x1B50, 0x1B7E), (0x1B80, 0x1BF3), (0x1BFC, 0x1C37), (0x1C3B, 0x1C49),
    (0x1C4D, 0x1C88), (0x1C90, 0x1CBA), (0x1CBD, 0x1CC7), (0x1CD0, 0x1CFA), (0x1D00, 0x1F15),
    (0x1F18, 0x1F1D), (0x1F20, 0x1F45), (0x1F48, 0x1F4D), (0x1F50, 0x1F57), (0x1F59, 0x1F59),
    (0x1F5B, 0x1F5B), (0x1F5D, 0x1F5D), (0x1F5F, 0x1F7D), (0x1F80, 0x1FB4), (0x1FB6, 0x1FC4),
    (0x1FC6, 0x1FD3), (0x1FD6, 0x1FDB), (0x1FDD, 0x1FEF), (0x1FF2, 0x1FF4), (0x1FF6, 0x1FFE),
    (0x2010, 0x2027), (0x2030, 0x205E), (0x2070, 0x2071), (0x2074, 0x208E), (0x2090, 0x209C),
    (0x20A0, 0x20C0), (0x20D0, 0x20F0), (0x2100, 0x218B), (0x2190, 0x2426), (0x2440, 0x244A),
    (0x2460, 0x2B73), (0x2B76, 0x2B95), (0x2B97, 0x2CF3), (0x2CF9, 0x2D25), (0x2D27, 0x2D27),
    (0x2D2D, 0x2D2D), (0x2D30, 0x2D67), (0x2D6F, 0x2D70), (0x2D7F, 0x2D96), (0x2DA0, 0x2DA6),
    (0x2DA8, 0x2DAE), (0x2DB0, 0x2DB6), (0x2DB8, 0x2DBE), (0x2DC0, 0x2DC6), (0x2DC8, 0x2DCE),
    (0x2DD0, 0x2DD6), (0x2DD8, 0x2DDE), (0x2DE0, 0x2E5D), (0x2E80, 0x2E99), (0x2E9B, 0x2EF3),
    (0x2F00, 0x2FD5), (0x2FF0, 0x2FFB), (0x3001, 0x303F), (0x3041, 0x3096), (0x3099, 0x30FF),
    (0x3105, 0x312F), (0x3131, 0x318E), (0x3190, 0x31E3), (0x31F0, 0x321E), (0x3220, 0xA48C),
    (0xA490, 0xA4C6), (0xA4D0, 0xA62B), (0xA640, 0xA6F7), (0xA700, 0xA7CA), (0xA7D0, 0xA7D1),
    (0xA7D3, 0xA7D3), (0xA7D5, 0xA7D9), (0xA7F2, 0xA82C), (0xA830, 0xA839), (0xA840, 0xA877),
    (0xA880, 0xA8C5), (0xA8CE, 0xA8D9), (0xA8E0, 0xA953), (0xA95F, 0xA97C), (0xA980, 0xA9CD),
    (0xA9CF, 0xA9D9), (0xA9DE, 0xA9FE), (0xAA00, 0xAA36), (0xAA40, 0xAA4D), (0xAA50, 0xAA59),
    (0xAA5C, 0xAAC2), (0xAADB, 0xAAF6), (0xAB01, 0xAB06), (0xAB09, 0xAB0E), (0xAB11, 0xAB16),
    (0xAB20, 0xAB26), (0xAB28, 0xAB2E), (0xAB30, 0xAB6B), (0xAB70, 0xABED), (0xABF0, 0xABF9),
    (0xAC00, 0xD7A3), (0xD7B0, 0xD7C6), (0xD7CB, 0xD7FB), (0xF900, 0xFA6D), (0xFA70, 0xFAD9),
    (0xFB00, 0xFB06), (0xFB13, 0xFB17), (0xFB1D, 0xFB36), (0xFB38, 0xFB3C), (0xFB3E, 0xFB3E),
    (0xFB40, 0xFB41), (0xFB43, 0xFB44), (0xFB46, 0xFBC2), (0xFBD3, 0xFD8F), (0xFD92, 0xFDC7),
    (0xFDCF, 0xFDCF), (0xFDF0, 0xFE19), (0xFE20, 0xFE52), (0xFE54, 0xFE66), (0xFE68, 0xFE6B),
    (0xFE70, 0xFE74), (0xFE76, 0xFEFC), (0xFF01, 0xFFBE), (0xFFC2, 0xFFC7), (0xFFCA, 0xFFCF),
    (0xFFD2, 0xFFD7), (0xFFDA, 0xFFDC), (0xFFE0, 0xFFE6), (0xFFE8, 0xFFEE), (0xFFFC, 0xFFFD),
    (0x10000, 0x1000B), (0x1000D, 0x10026), (0x10028, 0x1003A), (0x1003C, 0x1003D),
    (0x1003F, 0x1004D), (0x10050, 0x1005D), (0x10080, 0x100FA), (0x10100, 0x10102),
    (0x10107, 0x10133), (0x10137, 0x1018E), (0x10190, 0x1019C), (0x101A0, 0x101A0),
    (0x101D0, 0x101FD), (0x10280, 0x1029C), (0x102A0, 0x102D0), (0x102E0, 0x102FB),
    (0x10300, 0x10323), (0x1032D, 0x1034A), (0x10350, 0x1037A), (0x10380, 0x1039D),
    (0x1039F, 0x103C3), (0x103C8, 0x103D5), (0x10400, 0x1049D), (0x104A0, 0x104A9),
    (0x104B0, 0x104D3), (0x104D8, 0x104FB), (0x10500, 0x10527), (0x10530, 0x10563),
    (0x1056F, 0x1057A), (0x1057C, 0x1058A), (0x1058C, 0x10592), (0x10594, 0x10595),
    (0x10597, 0x105A1), (0x105A3, 0x105B1), (0x105B3, 0x105B9), (0x105BB, 0x105BC),
    (0x10600, 0x10736), (0x10740, 0x10755), (0x10760, 0x10767), (0x10780, 0x10785),
    (0x10787, 0x107B0), (0x107B2, 0x107BA), (0x10800, 0x10805), (0x10808, 0x10808),
    (0x1080A, 0x10835), (0x10837, 0x10838), (0x1083C, 0x1083C), (0x1083F, 0x10855),
    (0x10857, 0x1089E), (0x108A7, 0x108AF), (0x108E0, 0x108F2), (0x108F4, 0x108F5),
    (0x108FB, 0x1091B), (0x1091F, 0x10939), (0x1093F, 0x1093F), (0x10980, 0x109B7),
    (0x109BC, 0x109CF), (0x109D2, 0x10A03), (0x10A05, 0x10A06), (0x10A0C, 0x10A13),
    (0x10A15, 0x10A17), (0x10A19, 0x10A35), (0x10A38, 0x10A3A), (0x10A3F, 0x10A48),
    (0x10A50, 0x10A58), (0x10A60, 0x10A9F), (0x10AC0, 0x10AE6), (0x10AEB, 0x10AF6),
    (0x10B00, 0x10B35), (0x10B39, 0x10B55), (0x10B58, 0x10B72), (0x10B78, 0x10B91),
    (0x10B99, 0x10B9C), (0x10BA9, 0x10BAF), (0x10C00, 0x10C48), (0x10C80, 0x10CB2),
    (0x10CC0, 0x10CF2), (0x10CFA, 0x10D27), (0x10D30, 0x10D39), (0x10E60, 0x10E7E),
    (0x10E80, 0x10EA9), (0x10EAB, 0x10EAD), (0x10EB0, 0x10EB1), (0x10F00, 0x10F27),
    (0x10F30, 0x10F59), (0x10F70, 0x10F89), (0x10FB0, 0x10FCB), (0x10FE0, 0x10FF6),
    (0x11000, 0x1104D), (0x11052, 0x11075), (0x1107F, 0x110BC), (0x110BE, 0x110C2),
    (0x110D0, 0x110E8), (0x110F0, 0x110F9), (0x11100, 0x11134), (0x11136, 0x11147),
    (0x11150, 0x11176), (0x11180, 0x111DF), (0x111E1, 0x111F4), (0x11200, 0x11211),
    (0x11213, 0x1123E), (0x11280, 0x11286), (0x11288, 0x11288), (0x1128A, 0x1128D),
    (0x1128F, 0x1129D), (0x1129F, 0x112A9), (0x112B0, 0x112EA), (0x112F0, 0x112F9),
    (0x11300, 0x11303), (0x11305, 0x1130C), (0x1130F, 0x11310), (0x11313, 0x11328),
    (0x1132A, 0x11330), (0x11332, 0x11333), (0x11335, 0x11339), (0x1133B, 0x11344),
    (0x11347, 0x11348), (0x1134B, 0x1134D), (0x11350, 0x11350), (0x11357, 0x11357),
    (0x1135D, 0x11363), (0x11366, 0x1136C), (0x11370, 0x11374), (0x11400, 0x1145B),
    (0x1145D, 0x11461), (0x11480, 0x114C7), (0x114D0, 0x114D9), (0x11580, 0x115B5),
    (0x115B8, 0x115DD), (0x11600, 0x11644), (0x11650, 0x11659), (0x11660, 0x1166C),
    (0x11680, 0x116B9), (0x116C0, 0x116C9), (0x11700, 0x1171A), (0x1171D, 0x1172B),
    (0x11730, 0x11746), (0x11800, 0x1183B), (0x118A0, 0x118F2), (0x118FF, 0x11906),
    (0x11909, 0x11909), (0x1190C, 0x11913), (0x11915, 0x11916), (0x11918, 0x11935),
    (0x11937, 0x11938), (0x1193B, 0x11946), (0x11950, 0x11959), (0x119A0, 0x119A7),
    (0x119AA, 0x119D7), (0x119DA, 0x119E4), (0x11A00, 0x11A47), (0x11A50, 0x11AA2),
    (0x11AB0, 0x11AF8), (0x11C00, 0x11C08), (0x11C0A, 0x11C36), (0x11C38, 0x11C45),
    (0x11C50, 0x11C6C), (0x11C70, 0x11C8F), (0x11C92, 0x11CA7), (0x11CA9, 0x11CB6),
    (0x11D00, 0x11D06), (0x11D08, 0x11D09), (0x11D0B, 0x11D36), (0x11D3A, 0x11D3A),
    (0x11D3C, 0x11D3D), (0x11D3F, 0x11D47), (0x11D50, 0x11D59), (0x11D60, 0x11D65),
    (0x11D67, 0x11D68), (0x11D6A, 0x11D8E), (0x11D90, 0x11D91), (0x11D93, 0x11D98),
    (0x11DA0, 0x11DA9), (0x11EE0, 0x11EF8), (0x11FB0, 0x11FB0), (0x11FC0, 0x11FF1),
    (0x11FFF, 0x12399), (0x12400, 0x1246E), (0x12470, 0x12474), (0x12480, 0x12543),
    (0x12F90, 0x12FF2), (0x13000, 0x1342E), (0x14400, 0x14646), (0x16800, 0x16A38),
    (0x16A40, 0x16A5E), (0x16A60, 0x16A69), (0x16A6E, 0x16ABE), (0x16AC0, 0x16AC9),
    (0x16AD0, 0x16AED), (0x16AF0, 0x16AF5), (0x16B00, 0x16B45), (0x16B50, 0x16B59),
    (0x16B5B, 0x16B61), (0x16B63, 0x16B77), (0x16B7D, 0x16B8F), (0x16E40, 0x16E9A),
    (0x16F00, 0x16F4A), (0x16F4F, 0x16F87), (0x16F8F, 0x16F9F), (0x16FE0, 0x16FE4),
    (0x16FF0, 0x16FF1), (0x17000, 0x187F7), (0x18800, 0x18CD5), (0x18D00, 0x18D08),
    (0x1AFF0, 0x1AFF3), (0x1AFF5, 0x1AFFB), (0x1AFFD, 0x1AFFE), (0x1B000, 0x1B122),
    (0x1B150, 0x1B152), (0x1B164, 0x1B167), (0x1B170, 0x1B2FB), (0x1BC00, 0x1BC6A),
    (0x1BC70, 0x1BC7C), (0x1BC80, 0x1BC88), (0x1BC90, 0x1BC99), (0x1BC9C, 0x1BC9F),
    (0x1CF00, 0x1CF2D), (0x1CF30, 0x1CF46), (0x1CF50, 0x1CFC3), (0x1D000, 0x1D0F5),
    (0x1D100, 0x1D126), (0x1D129, 0x1D172), (0x1D17B, 0x1D1EA), (0x1D200, 0x1D245),
    (0x1D2E0, 0x1D2F3), (0x1D300, 0x1D356), (0x1D360, 0x1D378), (0x1D400, 0x1D454),
    (0x1D456, 0x1D49C), (0x1D49E, 0x1D49F), (0x1D4A2, 0x1D4A2), (0x1D4A5, 0x1D4A6),
    (0x1D4A9, 0x1D4AC), (0x1D4AE, 0x1D4B9), (0x1D4BB, 0x1D4BB), (0x1D4BD, 0x1D4C3),
    (0x1D4C5, 0x1D505), (0x1D507, 0x1D50A), (0x1D50D, 0x1D514), (0x1D516, 0x1D51C),
    (0x1D51E, 0x1D539), (0x1D53B, 0x1D53E), (0x1D540, 0x1D544), (0x1D546, 0x1D546),
    (0x1D54A, 0x1D550), (0x1D552, 0x1D6A5), (0x1D6A8, 0x1D7CB), (0x1D7CE, 0x1DA8B),
    (0x1DA9B, 0x1DA9F), (0x1DAA1, 0x1DAAF), (0x1DF00, 0x1DF1E), (0x1E000, 0x1E006),
    (0x1E008, 0x1E018), (0x1E01B, 0x1E021), (0x1E023, 0x1E024), (0x1E026, 0x1E02A),
    (0x1E100, 0x1E12C), (0x1E130, 0x1E13D), (0x1E140, 0x1E149), (0x1E14E, 0x1E14F),
    (0x1E290, 0x1E2AE), (0x1E2C0, 0x1E2F9), (0x1E2FF, 0x1E2FF), (0x1E7E0, 0x1E7E6),
    (0x1E7E8, 0x1E7EB), (0x1E7ED, 0x1E7EE), (0x1E7F0, 0x1E7FE), (0x1E800, 0x1E8C4),
    (0x1E8C7, 0x1E8D6), (0x1E900, 0x1E94B), (0x1E950, 0x1E959), (0x1E95E, 0x1E95F),
    (0x1EC71, 0x1ECB4), (0x1ED01, 0x1ED3D), (0x1EE00, 0x1EE03), (0x1EE05, 0x1EE1F),
    (0x1EE21, 0x1EE22), (0x1EE24, 0x1EE24), (0x1EE27, 0x1EE27), (0x1EE29, 0x1EE32),
    (0x1EE34, 0x1EE37), (0x1EE39, 0x1EE39), (0x1EE3B, 0x1EE3B), (0x1EE42, 0x1EE42),
    (0x1EE47, 0x1EE47), (0x1EE49, 0x1EE49), (0x1EE4B, 0x1EE4B), (0x1EE4D, 0x1EE4F),
    (0x1EE51, 0x1EE52), (0x1EE54, 0x1EE54), (0x1EE57, 0x1EE57), (0x1EE59, 0x1EE59),
    (0x1EE5B, 0x1EE5B), (0x1EE5D, 0x1EE5D), (0x1EE5F, 0x1EE5F), (0x1EE61, 0x1EE62),
    (0x1EE64, 0x1EE64), (0x1EE67, 0x1EE6A), (0x1EE6C, 0x1EE72), (0x1EE74, 0x1EE77),
    (0x1EE79, 0x1EE7C), (0x1EE7E, 0x1EE7E), (0x1EE80, 0x1EE89), (0x1EE8B, 0x1EE9B),
    (0x1EEA1, 0x1EEA3), (0x1EEA5, 0x1EEA9), (0x1EEAB, 0x1EEBB), (0x1EEF0, 0x1EEF1),
    (0x1F000, 0x1F02B), (0x1F030, 0x1F093), (0x1F0A0, 0x1F0AE), (0x1F0B1, 0x1F0BF),
    (0x1F0C1, 0x1F0CF), (0x1F0D1, 0x1F0F5), (0x1F100, 0x1F1AD), (0x1F1E6, 0x1F202),
    (0x1F210, 0x1F23B), (0x1F240, 0x1F248), (0x1F250, 0x1F251), (0x1F260, 0x1F265),
    (0x1F300, 0x1F6D7), (0x1F6DD, 0x1F6EC), (0x1F6F0, 0x1F6FC), (0x1F700, 0x1F773),
    (0x1F780, 0x1F7D8), (0x1F7E0, 0x1F7EB), (0x1F7F0, 0x1F7F0), (0x1F800, 0x1F80B),
    (0x1F810, 0x1F847), (0x1F850, 0x1F859), (0x1F860, 0x1F887), (0x1F890, 0x1F8AD),
    (0x1F8B0, 0x1F8B1), (0x1F900, 0x1FA53), (0x1FA60, 0x1FA6D), (0x1FA70, 0x1FA74),
    (0x1FA78, 0x1FA7C), (0x1FA80, 0x1FA86), (0x1FA90, 0x1FAAC), (0x1FAB0, 0x1FABA),
    (0x1FAC0, 0x1FAC5), (0x1FAD0, 0x1FAD9), (0x1FAE0, 0x1FAE7), (0x1FAF0, 0x1FAF6),
    (0x1FB00, 0x1FB92), (0x1FB94, 0x1FBCA), (0x1FBF0, 0x1FBF9), (0x20000, 0x2A6DF),
    (0x2A700, 0x2B738), (0x2B740, 0x2B81D), (0x2B820, 0x2CEA1), (0x2CEB0, 0x2EBE0),
    (0x2F800, 0x2FA1D), (0x30000, 0x3134A), (0xE0100, 0xE01EF),
];

/// Inclusive ranges of general category Cf (format characters) in Unicode 14.0.0: non-printable
/// for Python but case-ignorable, so they take part in the final-sigma context of `lower`.
#[rustfmt::skip]
const FORMAT_CF: &[(u32, u32)] = &[
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F),
];

/// The digit zero of every run of ten Unicode decimal digits (`unicodedata.decimal`, Unicode
/// 14.0.0): Python's `int()`/`float()` accept any of them as 0-9.
#[rustfmt::skip]
const DECIMAL_ZEROS: &[u32] = &[
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

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
    fn float_repr_cases() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (0.5, "0.5"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (1e-5, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (1e22, "1e+22"),
            (1e100, "1e+100"),
            (0.3, "0.3"),
            (0.1 + 0.2, "0.30000000000000004"),
            (2.0 / 3.0, "0.6666666666666666"),
            (123.456, "123.456"),
            (1580200842851299.0 + 0.25, "1580200842851299.2"), // exact ties: half to even
            (1580200842851299.0 + 0.75, "1580200842851299.8"),
            (-(15250161904730.0 + 0.8125), "-15250161904730.812"),
            (-1234.5, "-1234.5"),
            (1.0 / 3.0, "0.3333333333333333"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-f64::NAN, "nan"),
        ];
        for &(x, want) in cases {
            assert_eq!(float_repr(x), want, "repr of {x:?}");
        }
        let mut out = String::from("[");
        write_float_repr(0.25, &mut out);
        assert_eq!(out, "[0.25");
    }

    #[test]
    fn format_2f_cases() {
        let cases: &[(f64, &str)] = &[
            (0.5, "0.50"),
            (0.625, "0.62"),
            (0.375, "0.38"),
            (0.125, "0.12"),
            (0.875, "0.88"),
            (2.675, "2.67"),
            (1.005, "1.00"),
            (0.005, "0.01"),
            (0.015, "0.01"),
            (-0.0, "-0.00"),
            (-0.001, "-0.00"),
            (-0.625, "-0.62"),
            (0.0, "0.00"),
            (1.0, "1.00"),
            (0.999, "1.00"),
            (0.995, "0.99"),
            (1e16, "10000000000000000.00"),
            (f64::NAN, "nan"),
            (-f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for &(x, want) in cases {
            assert_eq!(format_2f(x), want, "format({x:?}, '.2f')");
        }
        assert_eq!(format_2f(1e300).len(), 301 + 3);
        assert_eq!(
            format_2f(1e300),
            format!("{}.00", int_text(&num("1e300")).unwrap())
        );
    }

    #[test]
    fn whitespace_and_case() {
        for c in [
            '\t', '\n', '\u{b}', '\u{c}', '\r', '\u{1c}', '\u{1f}', ' ', '\u{85}', '\u{a0}',
        ] {
            assert!(is_space(c), "{c:?}");
        }
        for c in [
            '\u{1680}', '\u{2000}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}',
        ] {
            assert!(is_space(c), "{c:?}");
        }
        for c in [
            '\u{0}', 'a', '\u{8}', '\u{7f}', '\u{180e}', '\u{200b}', '\u{feff}', '\u{3001}',
        ] {
            assert!(!is_space(c), "{c:?}");
        }
        assert!(is_space('\u{3000}'));
        assert_eq!(strip("\u{a0}\u{3000} a b\u{1c}\n"), "a b");
        assert_eq!(strip(" \u{200b}x "), "\u{200b}x");
        assert_eq!(strip(""), "");
        assert_eq!(collapse_ws("  a \t\n b\u{2003}\u{2003}c  "), "a b c");
        assert_eq!(collapse_ws(" \u{85} "), "");
        assert_eq!(collapse_ws("x"), "x");
        assert_eq!(lower("HeLLo ÀÉ"), "hello àé");
        assert_eq!(lower("\u{130}"), "i\u{307}");
        assert_eq!(lower("ΟΔΟΣ"), "οδος");
        assert_eq!(lower("ΟΔΟΣ ΣΑ Σ"), "οδος σα σ");
        assert_eq!(
            lower("A\u{ad}Σ"),
            "a\u{ad}ς",
            "a format char is case-ignorable"
        );
        // Unicode 16 capitals Python 3.11 does not know are kept as they are.
        assert_eq!(
            lower("\u{a7cb}\u{10d50}\u{16ea0}Z"),
            "\u{a7cb}\u{10d50}\u{16ea0}z"
        );
        assert_eq!(
            lower("A\u{378}Σ"),
            "a\u{378}σ",
            "an unassigned char ends the word"
        );
        assert_eq!(
            lower("\u{295}Σ"),
            "\u{295}ς",
            "ʕ is cased in Unicode 14.0.0"
        );
        assert_eq!(
            lower("A\u{1171e}Σ"),
            "a\u{1171e}ς",
            "U+1171E is case-ignorable in 14.0.0"
        );
        assert_eq!(lower("AΣ\u{300}"), "aς\u{300}");
        assert_eq!(lower("AΣ\u{300}B"), "aσ\u{300}b");
        assert_eq!(lower("ΣΑ"), "σα");
    }

    #[test]
    fn tables_are_sorted() {
        assert!(PRINTABLE.windows(2).all(|w| w[0].1 + 1 < w[1].0));
        assert!(PRINTABLE.iter().all(|&(lo, hi)| lo <= hi));
        assert!(FORMAT_CF.windows(2).all(|w| w[0].1 < w[1].0));
        assert!(DECIMAL_ZEROS.windows(2).all(|w| w[0] + 10 <= w[1]));
        assert!(is_printable(' ') && is_printable('~') && is_printable('é') && is_printable('😀'));
        assert!(!is_printable('\u{7f}') && !is_printable('\u{a0}') && !is_printable('\u{378}'));
        assert_eq!(decimal_value('٣'), Some(3));
        assert_eq!(decimal_value('𝟡'), Some(9));
        assert_eq!(decimal_value('/'), None);
        assert_eq!(decimal_value('²'), None);
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

    #[test]
    fn number_helpers() {
        let n = |t: &str| t.parse::<Number>().unwrap();
        assert!(number_is_int(&n("12")));
        assert!(number_is_int(&n("-0")));
        assert!(!number_is_int(&n("1.0")));
        assert!(!number_is_int(&n("1e2")));
        assert!(!number_is_int(&n("1E2")));
        assert_eq!(number_to_f64(&n("12")), 12.0);
        assert_eq!(number_to_f64(&n("1e2")), 100.0);
        assert_eq!(number_to_f64(&n("-0.0")).to_bits(), (-0.0f64).to_bits());
        assert_eq!(number_to_f64(&n("9007199254740993")), 9007199254740992.0);
        assert_eq!(number_to_f64(&n("9007199254740995")), 9007199254740996.0);
        assert_eq!(number_to_f64(&n("1e400")), f64::INFINITY);
        assert_eq!(number_to_f64(&n("-0")).to_bits(), 0);
    }

    #[test]
    fn iso_wall_clock_cases() {
        let ok: &[(&str, &str)] = &[
            ("2025-09-29T12:00:00+00:00", "2025-09-29T12:00:00Z"),
            ("2025-09-29T12:34:56.123456+00:00", "2025-09-29T12:34:56Z"),
            ("2025-09-29T23:59:59.999999-05:00", "2025-09-29T23:59:59Z"),
            ("2025-09-29T12:00:00Z", "2025-09-29T12:00:00Z"),
            ("2025-09-29", "2025-09-29T00:00:00Z"),
            ("20250929", "2025-09-29T00:00:00Z"),
            ("20250929T120000", "2025-09-29T12:00:00Z"),
            ("2025-09-29 12:00", "2025-09-29T12:00:00Z"),
            ("2025-09-29T12", "2025-09-29T12:00:00Z"),
            ("2025-09-29x12:30", "2025-09-29T12:30:00Z"),
            ("2025-09-29é12:30", "2025-09-29T12:30:00Z"),
            ("2025-09-29T12:30:45,5", "2025-09-29T12:30:45Z"),
            ("2025-09-29T12:30:45.1234567", "2025-09-29T12:30:45Z"),
            ("2025-09-29T12:30+05:99", "2025-09-29T12:30:00Z"),
            ("2025-09-29T12:30+23:59:59.999999", "2025-09-29T12:30:00Z"),
            ("2024-02-29T00:00", "2024-02-29T00:00:00Z"),
            ("2000-02-29", "2000-02-29T00:00:00Z"),
            ("2025-W01-1", "2024-12-30T00:00:00Z"),
            ("2025W013", "2025-01-01T00:00:00Z"),
            ("2025-W01", "2024-12-30T00:00:00Z"),
            ("2020-W53-7", "2021-01-03T00:00:00Z"),
            ("0001-01-01T00:00:00", "1-01-01T00:00:00Z"),
            ("0999-12-31", "999-12-31T00:00:00Z"),
            ("9999-12-31T23:59:59", "9999-12-31T23:59:59Z"),
        ];
        for &(ts, want) in ok {
            assert_eq!(iso_wall_clock(ts).as_deref(), Some(want), "{ts:?}");
        }
        let bad = [
            "",
            "2025",
            "2025-1",
            "2025-09",
            "not a date",
            "2025-13-01",
            "2025-00-10",
            "2025-02-29",
            "1900-02-29",
            "2025-04-31",
            "0000-01-01",
            "2025-09-29T24:00",
            "2025-09-29T12:60",
            "2025-09-29T12:00:60",
            "2025-09-29T",
            "2025-09-29T1",
            "2025-09-29T123",
            "2025-09-29T12:00+24:00",
            "2025-09-29T12:00-24:00",
            "2025-09-29T12:00Zx",
            "2025-09-29T12:00+05:0",
            "2025-09-29T12:00:00.",
            "2025-0929",
            "202509-29",
            "2025-W54-1",
            "2025-W53-1",
            "2025-W01-8",
            "2025-W00-1",
            "9999-W52-6",
            "2025/09/29",
            "29-09-2025",
            "2025-09-29T12:3O",
        ];
        for ts in bad {
            assert_eq!(iso_wall_clock(ts), None, "{ts:?}");
        }
    }
}
