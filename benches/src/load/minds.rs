//! Which mind each call names (the `pmm-mind` header): none (the mind
//! `default`), one named mind, or many minds `m00000`, `m00001`, … with the
//! calls spread uniformly at random over them, or visited in turn (the
//! `open-mind` scenario: with a server's `--max-open-minds` below their
//! number, every call finds its mind closed).

use tonic::metadata::{Ascii, MetadataValue};

use super::LoadError;
use crate::rng::Rng;

/// The minds of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Minds {
    /// No header: the mind `default`.
    #[default]
    Default,
    /// This mind on every call.
    One(String),
    /// `count` minds named by [`spread_name`].
    Spread(usize),
}

/// The name of mind `i` of a spread run: `m00000`, `m00001`, …
pub fn spread_name(i: usize) -> String {
    format!("m{i:05}")
}

/// The header value of `name`, checked against the names a server allows.
pub fn header_value(name: &str) -> Result<MetadataValue<Ascii>, LoadError> {
    pmm::mind::check_mind_name(name)
        .map_err(|why| LoadError::Scenario(format!("mind name {name:?} {why}")))?;
    MetadataValue::try_from(name)
        .map_err(|e| LoadError::Scenario(format!("mind name {name:?}: {e}")))
}

impl Minds {
    /// The minds' names (none for [`Minds::Default`]).
    pub fn names(&self) -> Vec<String> {
        match self {
            Minds::Default => Vec::new(),
            Minds::One(name) => vec![name.clone()],
            Minds::Spread(n) => (0..*n).map(spread_name).collect(),
        }
    }

    /// The mind that calls outside the spread name (Head, Stats,
    /// VerifyChain, the Subscribe scenarios): the one mind, or the first
    /// of a spread.
    pub fn control(&self) -> Option<String> {
        self.names().into_iter().next()
    }

    /// How the report shows them.
    pub fn describe(&self) -> String {
        match self {
            Minds::Default => "default (no header)".to_string(),
            Minds::One(name) => name.clone(),
            Minds::Spread(n) => format!(
                "{n} ({}..{}, spread at random)",
                spread_name(0),
                spread_name(n.saturating_sub(1))
            ),
        }
    }

    /// The header values, prepared once for the hot path.
    pub fn headers(&self) -> Result<MindHeaders, LoadError> {
        let values = self
            .names()
            .iter()
            .map(|name| header_value(name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MindHeaders { values })
    }
}

/// The header value of each mind of a run.
#[derive(Clone, Debug, Default)]
pub struct MindHeaders {
    values: Vec<MetadataValue<Ascii>>,
}

impl MindHeaders {
    /// How many minds.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// No header at all (the mind `default`).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The mind of operation `seq`: uniform at random over the minds (the
    /// same `seq` and `seed` always pick the same mind).
    pub fn random(&self, seq: u64, seed: u64) -> Option<&MetadataValue<Ascii>> {
        if self.values.is_empty() {
            return None;
        }
        let mut rng = Rng::new(seed ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        self.values.get(rng.below(self.values.len()))
    }

    /// Mind `i` modulo their number: the minds in turn.
    pub fn nth(&self, i: u64) -> Option<&MetadataValue<Ascii>> {
        match self.values.len() as u64 {
            0 => None,
            n => self.values.get((i % n) as usize),
        }
    }
}

/// `message` as a request naming `mind`, if any.
pub fn request<T>(message: T, mind: Option<&MetadataValue<Ascii>>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(mind) = mind {
        request
            .metadata_mut()
            .insert(pmm::mind::MIND_HEADER, mind.clone());
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_names_are_allowed_and_random_picks_cover_every_mind_evenly() {
        let minds = Minds::Spread(10);
        let headers = minds.headers().expect("names");
        assert_eq!(headers.len(), 10);
        assert_eq!(minds.control().as_deref(), Some("m00000"));
        let mut counts = [0u32; 10];
        for seq in 0..10_000 {
            let value = headers.random(seq, 7).expect("a mind");
            let name = value.to_str().expect("ascii");
            let i: usize = name[1..].parse().expect("number");
            counts[i] += 1;
        }
        // Uniform: each within ±20% of 1000.
        assert!(
            counts.iter().all(|&c| (800..=1200).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(
            headers.nth(13).and_then(|v| v.to_str().ok()),
            Some("m00003")
        );
    }

    #[test]
    fn no_minds_means_no_header_and_bad_names_are_refused() {
        let headers = Minds::Default.headers().expect("none");
        assert!(headers.random(1, 7).is_none() && headers.nth(1).is_none());
        assert!(request((), None).metadata().get("pmm-mind").is_none());
        let err = Minds::One("Alice".into())
            .headers()
            .expect_err("upper case");
        assert!(
            err.to_string().contains("must start with a-z or 0-9"),
            "{err}"
        );
    }
}
