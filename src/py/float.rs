//! Python floats: `repr(float)`, `format(x, ".2f")`, `min`/`max` of two
//! floats, and how `json.loads` reads a JSON number (an `int` or a `float`).

use serde_json::Number;

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
    // `NaN`, `Infinity` and `-Infinity` (see `json::loads`) are floats.
    !n.as_str()
        .bytes()
        .any(|b| matches!(b, b'.' | b'e' | b'E' | b'N' | b'I'))
}

/// Python's `min(a, b)`: `b` only if it is smaller (so a NaN `b` loses).
pub fn py_min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// Python's `max(a, b)`: `b` only if it is larger (so a NaN `b` loses).
pub fn py_max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn num(text: &str) -> Value {
        Value::Number(text.parse::<Number>().unwrap())
    }

    fn int_text(v: &Value) -> Option<String> {
        crate::py::coerce::coerce_int(v).map(|n| n.as_str().to_string())
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
    fn min_max_keep_the_first_argument_against_nan() {
        assert_eq!(py_min(1.0, 2.0), 1.0);
        assert_eq!(py_min(2.0, 1.0), 1.0);
        assert_eq!(py_max(1.0, 2.0), 2.0);
        assert_eq!(py_min(1.0, f64::NAN), 1.0);
        assert_eq!(py_max(1.0, f64::NAN), 1.0);
        assert!(py_min(f64::NAN, 1.0).is_nan());
        assert!(py_max(f64::NAN, 1.0).is_nan());
    }
}
