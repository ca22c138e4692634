//! Deterministic text embeddings, cosine similarity and digest (SPEC §6).

use pmm::py;
use sha1::{Digest, Sha1};

/// Slots of the bag-of-tokens vector (only the first [`EMBED_DIM`] are used).
const BOW_SLOTS: usize = 64;
/// Length of an embedding.
pub const EMBED_DIM: usize = 32;

fn l2_normalise(v: &mut [f64]) {
    let mut sq = 0.0;
    for x in v.iter() {
        sq += x * x;
    }
    let mut norm = sq.sqrt();
    if norm == 0.0 {
        norm = 1.0;
    }
    for x in v.iter_mut() {
        *x /= norm;
    }
}

/// Slot of a token: the first 8 hex digits of its SHA-1, mod 64.
fn token_slot(token: &str) -> usize {
    let d = Sha1::digest(token.as_bytes());
    let first = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
    (first % BOW_SLOTS as u32) as usize
}

/// The 32-value embedding of a text.
pub fn embed(text: &str) -> [f64; EMBED_DIM] {
    let mut bow = [0.0f64; BOW_SLOTS];
    let lowered = py::lower(text);
    for token in lowered.split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit())) {
        if !token.is_empty() {
            bow[token_slot(token)] += 1.0;
        }
    }
    l2_normalise(&mut bow);
    let sha = Sha1::digest(text.as_bytes());
    let mut out = [0.0f64; EMBED_DIM];
    for (i, slot) in out.iter_mut().enumerate() {
        let hashed = f64::from(sha[i % 20]) / 255.0;
        *slot = 0.9 * bow[i] + 0.1 * hashed;
    }
    l2_normalise(&mut out);
    out
}

/// dot / (sqrt(Σa²) × sqrt(Σb²)); 0.0 for empty or zero vectors.
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut dot, mut sa, mut sb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        sa += x * x;
        sb += y * y;
    }
    if sa == 0.0 || sb == 0.0 {
        return 0.0;
    }
    dot / (sa.sqrt() * sb.sqrt())
}

/// First 8 hex digits of the SHA-1 of the vector printed as a Python list.
pub fn digest(vector: &[f64]) -> String {
    let mut printed = String::with_capacity(vector.len() * 22 + 2);
    printed.push('[');
    for (i, x) in vector.iter().enumerate() {
        if i > 0 {
            printed.push_str(", ");
        }
        py::write_float_repr(*x, &mut printed);
    }
    printed.push(']');
    hex::encode(Sha1::digest(printed.as_bytes()))[..8].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_unit_length_and_deterministic() {
        let v = embed("Hello, hash chain!");
        let norm: f64 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-12);
        assert_eq!(v, embed("Hello, hash chain!"));
        assert_ne!(digest(&v), digest(&embed("hello, hash chain!")));
    }

    #[test]
    fn cosine_of_empty_or_zero_vectors_is_zero() {
        assert_eq!(cosine(&[], &[1.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[1.0, 0.0], &[2.0, 0.0]), 1.0);
    }
}
