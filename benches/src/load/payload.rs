//! What the load generator appends: realistic events from the session
//! [`Generator`], prepared once as protocol messages and cycled through.

use pmm_client::v1::EventInput;

use crate::Generator;

/// Pools of events to append.
#[derive(Clone, Debug)]
pub struct Payloads {
    /// The session mix (every kind, in generated order): `append`,
    /// `append-batch`, `subscribe-fanout`.
    pub mixed: Vec<EventInput>,
    /// `user` messages: the first half of an interaction.
    pub user: Vec<EventInput>,
    /// `response` messages: the second half of an interaction.
    pub response: Vec<EventInput>,
}

/// Events in each pool.
const POOL: usize = 4096;
/// Drafts generated at most while looking for user/response pairs.
const SEARCH: usize = 200_000;

fn input(d: &crate::Draft) -> EventInput {
    EventInput {
        kind: d.kind.to_string(),
        content: d.content.clone(),
        // A `Value` always serialises; `{}` keeps the event valid regardless.
        meta: serde_json::to_string(&d.meta).unwrap_or_else(|_| "{}".to_string()),
        idempotency_key: String::new(),
    }
}

impl Payloads {
    /// The pools of the session of `seed`.
    pub fn new(seed: u64) -> Payloads {
        let mut mixed = Vec::with_capacity(POOL);
        let mut user = Vec::with_capacity(POOL);
        let mut response = Vec::with_capacity(POOL);
        for d in Generator::new(seed).take(SEARCH) {
            if mixed.len() < POOL {
                mixed.push(input(&d));
            }
            match d.kind {
                "user" if user.len() < POOL => user.push(input(&d)),
                "response" if response.len() < POOL => response.push(input(&d)),
                _ => {}
            }
            if mixed.len() >= POOL && user.len() >= POOL && response.len() >= POOL {
                break;
            }
        }
        // The generator always produces chat turns; keep the pools non-empty
        // whatever happens to its mix.
        if user.is_empty() {
            user.push(plain("user", "hello"));
        }
        if response.is_empty() {
            response.push(plain("response", "hello to you"));
        }
        if mixed.is_empty() {
            mixed.push(plain("user", "hello"));
        }
        Payloads {
            mixed,
            user,
            response,
        }
    }

    /// The `i`-th event of the session mix.
    pub fn mixed(&self, i: u64) -> EventInput {
        pick(&self.mixed, i)
    }

    /// The `i`-th user message.
    pub fn user(&self, i: u64) -> EventInput {
        pick(&self.user, i)
    }

    /// The `i`-th response.
    pub fn response(&self, i: u64) -> EventInput {
        pick(&self.response, i)
    }

    /// `n` consecutive events of the mix, starting at the `i`-th.
    pub fn batch(&self, i: u64, n: usize) -> Vec<EventInput> {
        (0..n as u64)
            .map(|k| self.mixed(i.wrapping_add(k)))
            .collect()
    }
}

fn pick(pool: &[EventInput], i: u64) -> EventInput {
    pool[(i % pool.len() as u64) as usize].clone()
}

fn plain(kind: &str, content: &str) -> EventInput {
    EventInput {
        kind: kind.to_string(),
        content: content.to_string(),
        meta: "{}".to_string(),
        idempotency_key: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_full_and_of_the_right_kinds() {
        let p = Payloads::new(5);
        assert_eq!(p.mixed.len(), POOL);
        assert_eq!(p.user.len(), POOL);
        assert_eq!(p.response.len(), POOL);
        assert!(p.user.iter().all(|e| e.kind == "user"));
        assert!(p.response.iter().all(|e| e.kind == "response"));
        assert_eq!(p.batch(POOL as u64 - 1, 3).len(), 3);
    }
}
