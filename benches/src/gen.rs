//! An endless, deterministic PMM session: user/response turns, autonomy
//! ticks with telemetry, reflections, commitment lifecycles, identity
//! adoptions, trait updates, directives, invariant violations and kinds no
//! rule reads, in the mix of the reference workload generator's `session`
//! profile. Cross references in meta (`eid`, `origin_eid`, `ref`) assume the
//! events are appended in order to an empty ledger (first id 1).

use std::collections::{BTreeMap, VecDeque};

use pmm_server::rules::float_value;
use serde_json::{json, Map, Value};

use crate::pools::*;
use crate::rng::Rng;

/// 2025-09-29T12:00:00+00:00 in seconds since the Unix epoch.
const START_SECS: i64 = 1_759_147_200;
/// Share of texts drawn from the non-Latin pools.
const UNICODE_BIAS: f64 = 0.12;
const STAGE_CENTRES: [(f64, f64); 5] = [
    (0.2, 0.1),
    (0.42, 0.27),
    (0.6, 0.45),
    (0.77, 0.65),
    (0.93, 0.86),
];
const SIGNATURES: [&str; 5] = ["", "", "", "\n— {name}", "\n\n— {name}"];
const PROVIDERS: [(&str, &str); 2] = [("openai", "gpt-4o-mini"), ("ollama", "llama3")];
const TRAIT_KEYS: [&str; 14] = [
    "openness",
    "conscientiousness",
    "extraversion",
    "agreeableness",
    "neuroticism",
    "o",
    "c",
    "e",
    "a",
    "n",
    "O",
    "C",
    " Openness ",
    "humor",
];
const DELTA_KEYS: [&str; 9] = [
    "o",
    "c",
    "e",
    "a",
    "n",
    "openness",
    "conscientiousness",
    "x",
    "Extraversion",
];
const DELTAS: [f64; 16] = [
    0.125, -0.125, 0.25, -0.375, 0.0625, 0.01, -0.01, 0.02, 0.05, -0.05, 0.03, 0.1, -0.2, 0.005,
    0.5, -0.6,
];
const VIOLATION_CODES: [&str; 4] = [
    "CANDIDATE_BEFORE_CLOSE",
    "TTL_OPEN_COMMITMENTS",
    "PROJECTION_EQUIV",
    "IDENTITY_PROPOSE_BEFORE_ADOPT",
];

/// An event before it is chained: what a client appends, and when.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub ts: String,
    pub kind: &'static str,
    pub content: String,
    pub meta: Value,
}

#[derive(Clone, Copy, Debug)]
enum Block {
    Chat,
    Tick,
    CommitMaint,
    Identity,
    Trait,
    Directive,
    Invariant,
    Misc,
}

const BLOCKS: [Block; 8] = [
    Block::Chat,
    Block::Tick,
    Block::CommitMaint,
    Block::Identity,
    Block::Trait,
    Block::Directive,
    Block::Invariant,
    Block::Misc,
];
const BLOCK_WEIGHTS: [u32; 8] = [30, 40, 5, 3, 5, 4, 3, 8];

#[derive(Clone, Debug)]
struct OpenCommitment {
    tick: i64,
    evidence: bool,
    snoozed: bool,
    text: &'static str,
}

/// The session generator; an iterator that never ends (use `take(n)`).
#[derive(Clone, Debug)]
pub struct Generator {
    rng: Rng,
    clock_secs: i64,
    emitted: i64,
    queue: VecDeque<Draft>,
    tick: i64,
    ias: f64,
    gas: f64,
    target: (f64, f64),
    name: Option<String>,
    open: BTreeMap<String, OpenCommitment>,
    closed: Vec<String>,
    expired: Vec<String>,
    seq_cid: u64,
    last_response: Option<i64>,
    last_reflection: Option<i64>,
    violations: Vec<(&'static str, Option<String>)>,
}

impl Iterator for Generator {
    type Item = Draft;

    fn next(&mut self) -> Option<Draft> {
        while self.queue.is_empty() {
            // Every session starts with a user turn.
            let block = if self.emitted == 0 {
                Block::Chat
            } else {
                BLOCKS[self.rng.weighted(&BLOCK_WEIGHTS)]
            };
            self.run(block);
        }
        self.queue.pop_front()
    }
}

/// `round(x, digits)`, near enough.
fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// A float spelled as Python spells it.
fn num(x: f64) -> Value {
    float_value(x)
}

fn insert(meta: &mut Value, key: &str, value: Value) {
    if let Some(map) = meta.as_object_mut() {
        map.insert(key.to_string(), value);
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`, as Python's `isoformat()` writes a
/// UTC time (no fraction when the microseconds are 0).
pub fn iso_utc(secs: i64, micros: u32) -> String {
    let (days, secs_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60);
    let mut out = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    if micros != 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    out.push_str("+00:00");
    out
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: Rng::new(seed),
            clock_secs: START_SECS,
            emitted: 0,
            queue: VecDeque::new(),
            tick: 0,
            ias: 0.05,
            gas: 0.02,
            target: (0.3, 0.2),
            name: None,
            open: BTreeMap::new(),
            closed: Vec::new(),
            expired: Vec::new(),
            seq_cid: 0,
            last_response: None,
            last_reflection: None,
            violations: Vec::new(),
        }
    }

    fn run(&mut self, block: Block) {
        match block {
            Block::Chat => self.chat(),
            Block::Tick => self.autonomy_tick(),
            Block::CommitMaint => self.commitment_maintenance(),
            Block::Identity => self.identity(),
            Block::Trait => self.trait_update(),
            Block::Directive => self.directives(),
            Block::Invariant => self.invariant(),
            Block::Misc => self.ignored(),
        }
    }

    /// Queues an event; returns the id it will get.
    fn emit(&mut self, kind: &'static str, content: impl Into<String>, meta: Value) -> i64 {
        let micros = if self.emitted == 0 {
            0
        } else {
            self.clock_secs += self.rng.int(1, 10);
            if self.rng.chance(0.9) {
                self.rng.below(1_000_000) as u32
            } else {
                0
            }
        };
        self.emitted += 1;
        self.queue.push_back(Draft {
            ts: iso_utc(self.clock_secs, micros),
            kind,
            content: content.into(),
            meta,
        });
        self.emitted
    }

    fn uni(
        &mut self,
        plain: &'static [&'static str],
        other: &'static [&'static str],
    ) -> &'static str {
        let pool = if self.rng.chance(UNICODE_BIAS) {
            other
        } else {
            plain
        };
        pool[self.rng.below(pool.len())]
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut out = String::with_capacity(digits);
        while out.len() < digits {
            out.push_str(&format!("{:016x}", self.rng.next_u64()));
        }
        out.truncate(digits);
        out
    }

    fn new_cid(&mut self) -> String {
        self.seq_cid += 1;
        let r = self.rng.unit();
        if r < 0.85 {
            self.hex(32)
        } else if r < 0.95 {
            format!("c{}", self.seq_cid)
        } else {
            format!("identity-{:03}", self.seq_cid)
        }
    }

    /// A sorted-order pick among the open cids (some must be open).
    fn pick_open(&mut self) -> String {
        let index = self.rng.below(self.open.len());
        self.open.keys().nth(index).cloned().unwrap_or_default()
    }

    /// Telemetry-like float: full precision mostly, sometimes rounded.
    fn telemetry_value(&mut self, x: f64) -> Value {
        let r = self.rng.unit();
        num(if r < 0.6 {
            x
        } else if r < 0.9 {
            round(x, 4)
        } else {
            round(x, 2)
        })
    }

    fn telemetry(&mut self) -> Value {
        if self.rng.chance(0.01) {
            return json!({"IAS": 0, "GAS": 0});
        }
        let (ias, gas) = (self.ias, self.gas);
        json!({"IAS": self.telemetry_value(ias), "GAS": self.telemetry_value(gas)})
    }

    /// A random walk towards a stage centre, re-aimed now and then.
    fn step_telemetry(&mut self) {
        if self.rng.chance(0.04) {
            self.target = if self.rng.chance(0.8) {
                *self.rng.pick(&STAGE_CENTRES)
            } else {
                (self.rng.unit(), self.rng.unit())
            };
        }
        let (ti, tg) = self.target;
        self.ias += (ti - self.ias) * 0.25 + self.rng.gauss(0.012);
        self.gas += (tg - self.gas) * 0.25 + self.rng.gauss(0.012);
        self.ias = self.ias.clamp(0.0, 1.0);
        self.gas = self.gas.clamp(0.0, 1.0);
    }

    fn index(&mut self, eid: i64) {
        let digest = self.hex(8);
        self.emit(
            "embedding_indexed",
            "",
            json!({"eid": eid, "digest": digest}),
        );
    }

    fn metrics_update(&mut self, reason: &str) {
        let meta = json!({"IAS": num(self.ias), "GAS": num(self.gas), "reason": reason});
        self.emit("metrics_update", "", meta);
    }

    fn chat(&mut self) {
        let mut msg = self.uni(USER_MSGS, USER_MSGS_UNICODE);
        if self.rng.chance(0.04) {
            msg = *self.rng.pick(&["", "   ", "?"]);
        }
        let uid = self.emit("user", msg, json!({"source": "handle_user"}));
        if self.rng.chance(0.15) {
            self.index(uid);
        }
        if self.rng.chance(0.6) {
            let (provider, model) = *self.rng.pick(&PROVIDERS);
            let meta = json!({
                "op": "chat", "provider": provider, "model": model,
                "ms": num(round(self.rng.uniform(80.0, 4000.0), 3)),
                "ok": self.rng.unit() > 0.03, "tick": self.tick,
            });
            self.emit("llm_latency", "", meta);
        }
        let mut body = self
            .uni(RESPONSE_BODIES, RESPONSE_BODIES_UNICODE)
            .to_string();
        if self.rng.chance(0.5) {
            body = format!("{} {body}", self.rng.pick(RESPONSE_OPENERS));
        }
        if let Some(name) = self.name.clone() {
            if self.rng.chance(0.3) {
                body.push_str(&self.rng.pick(&SIGNATURES).replace("{name}", &name));
            }
        }
        let meta = json!({
            "source": "handle_user", "orientation_version": "v1",
            "orientation_hash": self.hex(16), "prompt_kind": "chat",
        });
        let rid = self.emit("response", body, meta);
        self.last_response = Some(rid);
        if self.rng.chance(0.2) {
            let meta = json!({
                "scores": {
                    "composite": num(round(self.rng.unit(), 3)),
                    "novelty": num(round(self.rng.unit(), 3)),
                },
                "response_eid": rid, "passes": self.rng.chance(0.5),
            });
            self.emit("insight_scored", "", meta);
        }
        if self.rng.chance(0.08) {
            self.open_commitment("reply", None, None);
        }
        if self.rng.chance(0.15) {
            for _ in 0..self.rng.int(1, 2) {
                self.directive("reply", Some(rid));
            }
        }
        if self.rng.chance(0.85) {
            self.index(rid);
        }
        if !self.open.is_empty() && self.rng.chance(0.06) {
            let with_evidence = self.rng.chance(0.7);
            self.close_commitment(with_evidence);
        }
    }

    fn autonomy_tick(&mut self) {
        self.tick += 1;
        self.step_telemetry();
        let mut did = false;
        let mut reason = *self
            .rng
            .pick(&["min_turns", "min_time", "cadence", "low_novelty"]);
        if self.rng.chance(0.45) {
            (did, reason) = (true, "ok");
            self.reflection();
        }
        if !self.open.is_empty() && self.rng.chance(0.25) {
            let stale: Vec<String> = self
                .open
                .iter()
                .filter(|(_, c)| self.tick - c.tick >= 10 && !c.snoozed)
                .map(|(cid, _)| cid.clone())
                .collect();
            let sweep = self.rng.int(1, 2) as usize;
            for cid in stale.into_iter().take(sweep) {
                let mut meta = json!({"cid": cid});
                let r = self.rng.unit();
                if r < 0.8 {
                    insert(
                        &mut meta,
                        "reason",
                        json!(if r < 0.6 { "timeout" } else { "ttl" }),
                    );
                }
                self.emit("commitment_expire", "", meta);
                self.open.remove(&cid);
                self.expired.push(cid);
            }
        }
        let r = self.rng.unit();
        let mut meta = if r < 0.9 {
            json!({
                "telemetry": self.telemetry(),
                "reflect": {"did": did, "reason": reason},
                "source": "AutonomyLoop",
            })
        } else if r < 0.95 {
            let ias = self.ias;
            json!({"telemetry": {"IAS": self.telemetry_value(ias)}, "source": "AutonomyLoop"})
        } else {
            json!({})
        };
        if self.rng.chance(0.3) {
            insert(
                &mut meta,
                "stage",
                json!(self.rng.pick(&["S0", "S1", "S2", "S3", "S4"])),
            );
        }
        let content = *self.rng.pick(&["autonomy heartbeat", "beat", ""]);
        self.emit("autonomy_tick", content, meta);
        if self.rng.chance(0.2) {
            let reward = match self.rng.below(4) {
                0 => round(self.rng.unit(), 4),
                1 => 0.0,
                2 => 1e-05,
                _ => self.rng.unit(),
            };
            let arm = self.rng.pick(REFLECT_STYLES);
            let meta = json!({"arm": arm, "reward": num(reward), "tick": self.tick});
            self.emit("bandit_reward", "", meta);
        }
        if self.rng.chance(0.15) {
            let reason = *self.rng.pick(&["recomputed", "live_update"]);
            self.metrics_update(reason);
        }
    }

    fn reflection(&mut self) {
        let name = self.name.clone().unwrap_or_else(|| "Unknown".to_string());
        let mut text = self
            .uni(REFLECTIONS, REFLECTIONS_UNICODE)
            .replace("{name}", &name);
        if self.rng.chance(0.05) {
            text.clear();
        }
        let mut meta = json!({
            "source": "reflect", "style": self.rng.pick(REFLECT_STYLES),
            "novelty": num(round(self.rng.unit(), 3)), "refs": [],
            "stage_level": self.rng.int(0, 4), "prompt_template": self.rng.pick(REFLECT_STYLES),
            "text": text,
        });
        if self.rng.chance(0.7) {
            insert(&mut meta, "telemetry", self.telemetry());
        }
        let ok = !text.is_empty();
        let rid = self.emit("reflection", text, meta);
        self.last_reflection = Some(rid);
        if self.rng.chance(0.7) {
            let meta = json!({"ref": rid, "ok": ok, "reason": if ok { "ok" } else { "empty" }});
            self.emit("reflection_check", "", meta);
        }
        if self.rng.chance(0.5) {
            self.index(rid);
        }
        if self.rng.chance(0.2) {
            self.directive("reflection", Some(rid));
        }
        if self.rng.chance(0.1) {
            self.open_commitment("reflection", Some("reflection"), None);
        }
    }

    fn open_commitment(&mut self, source: &str, reason: Option<&str>, cid: Option<String>) {
        let text = self.uni(COMMIT_TEXTS, COMMIT_TEXTS_UNICODE);
        let cid = cid.unwrap_or_else(|| self.new_cid());
        // A few opens lack their text: the projection ignores them.
        let malformed = self.rng.chance(0.02);
        let mut meta = json!({"cid": cid});
        if !malformed {
            insert(&mut meta, "text", json!(text));
        }
        insert(&mut meta, "source", json!(source));
        if let Some(reason) = reason {
            insert(&mut meta, "reason", json!(reason));
        }
        if self.rng.chance(0.05) {
            insert(
                &mut meta,
                "project_id",
                json!(self.rng.pick(&["ledger-viewer", "docs", "tests"])),
            );
        }
        let r = self.rng.unit();
        let content = if r < 0.7 {
            format!("Commitment opened: {text}")
        } else if r < 0.9 {
            text.to_string()
        } else {
            String::new()
        };
        self.emit("commitment_open", content, meta);
        if !malformed {
            let open = OpenCommitment {
                tick: self.tick,
                evidence: false,
                snoozed: false,
                text,
            };
            self.open.insert(cid, open);
        }
    }

    fn close_commitment(&mut self, with_evidence: bool) {
        let cid = self.pick_open();
        let (text, had_evidence) = self
            .open
            .get(&cid)
            .map_or(("", true), |c| (c.text, c.evidence));
        if with_evidence && !had_evidence {
            let evidence_type = *self.rng.pick(&[
                Some("done"),
                Some("done"),
                Some("done"),
                Some("Done "),
                None,
                Some("partial"),
            ]);
            let snippet: String = text.chars().take(60).collect();
            let score = num(round(self.rng.uniform(0.5, 1.0), 4));
            let mut meta = json!({"cid": cid, "score": score, "snippet": snippet});
            if let Some(et) = evidence_type {
                insert(&mut meta, "evidence_type", json!(et));
            }
            self.emit("evidence_candidate", "", meta);
        }
        let mut meta = json!({
            "cid": cid, "evidence_type": "done",
            "description": self.rng.pick(RESPONSE_BODIES), "clean": true,
        });
        if self.rng.chance(0.3) {
            insert(&mut meta, "source", json!("reflection"));
        }
        let content = if self.rng.chance(0.5) {
            format!("Commitment closed: {cid}")
        } else {
            String::new()
        };
        self.emit("commitment_close", content, meta);
        self.open.remove(&cid);
        self.closed.push(cid);
        if self.rng.chance(0.4) {
            self.metrics_update("live_update");
        }
    }

    fn commitment_maintenance(&mut self) {
        let r = self.rng.unit();
        let finished = self.closed.len() + self.expired.len();
        if self.open.is_empty() || r < 0.25 {
            let source = *self.rng.pick(&["reply", "reflection", "identity"]);
            self.open_commitment(source, None, None);
        } else if r < 0.55 {
            self.close_commitment(true);
        } else if r < 0.68 {
            self.close_commitment(false);
        } else if r < 0.78 {
            let cid = self.pick_open();
            let until = match self.rng.below(4) {
                0 => Some(json!(self.tick + self.rng.int(1, 20))),
                1 => Some(json!((self.tick + 5).to_string())),
                2 => None,
                _ => Some(json!("soon")),
            };
            let mut meta = json!({"cid": cid});
            if let Some(until) = until {
                insert(&mut meta, "until_tick", until);
            }
            self.emit("commitment_snooze", "", meta);
            if let Some(c) = self.open.get_mut(&cid) {
                c.snoozed = true;
            }
        } else if r < 0.84 {
            let cid = self.pick_open();
            let reason = *self.rng.pick(&["timeout", "superseded", ""]);
            self.emit(
                "commitment_expire",
                "",
                json!({"cid": cid, "reason": reason}),
            );
            self.open.remove(&cid);
            self.expired.push(cid);
        } else if r < 0.90 && finished > 0 {
            // Re-open a closed or expired cid.
            let i = self.rng.below(finished);
            let cid = match self.closed.get(i) {
                Some(cid) => cid.clone(),
                None => self.expired[i - self.closed.len()].clone(),
            };
            self.open_commitment("reply", None, Some(cid));
        } else if r < 0.95 && !self.closed.is_empty() {
            // A close for a cid that is not open: the projection ignores it.
            let cid = self.rng.pick(&self.closed).clone();
            self.emit(
                "commitment_close",
                "",
                json!({"cid": cid, "evidence_type": "done"}),
            );
        } else {
            let cid = self.pick_open();
            let meta =
                json!({"cid": cid, "evidence_type": "done", "score": num(0.9), "snippet": "done"});
            self.emit("evidence_candidate", "", meta);
            if let Some(c) = self.open.get_mut(&cid) {
                c.evidence = true;
            }
        }
    }

    fn pick_name(&mut self) -> String {
        let with_unicode = self.rng.chance(UNICODE_BIAS * 2.0);
        let count = NAMES.len() + if with_unicode { NAMES_UNICODE.len() } else { 0 };
        let i = self.rng.below(count);
        NAMES
            .get(i)
            .unwrap_or_else(|| &NAMES_UNICODE[i - NAMES.len()])
            .to_string()
    }

    fn identity(&mut self) {
        let r = self.rng.unit();
        if r < 0.72 || self.name.is_none() {
            self.adopt();
        } else if r < 0.92 {
            let name = self.pick_name();
            if self.rng.chance(0.5) {
                let mut content = format!("Name changed to: {name}");
                if self.rng.chance(0.3) {
                    content.push_str("\nReason: user request");
                }
                self.emit("identity_change", content, json!({}));
            } else {
                self.emit("identity_change", "", json!({"name": name}));
            }
            self.name = Some(name);
        } else {
            self.emit("identity_clear", "", json!({"reason": "user_request"}));
            self.name = None;
        }
    }

    fn adopt(&mut self) {
        let mut name = self.pick_name();
        if let Some(current) = self.name.clone() {
            if self.rng.chance(0.35) {
                name = current.clone(); // re-affirm
            }
            if self.rng.chance(0.05) {
                name = current.to_lowercase(); // a case-only change is no flip-flop
            }
        }
        let confidence = match self.rng.unit() {
            r if r < 0.7 => num(0.95),
            r if r < 0.8 => num(0.9),
            r if r < 0.85 => json!(1),
            r if r < 0.9 => json!("0.95"),
            _ => num(round(self.rng.uniform(0.3, 0.89), 2)),
        };
        // Now and then a field is missing, or `sanitized` differs from `name`.
        let variant = self.rng.unit();
        let mut meta = Map::new();
        if !(0.13..0.16).contains(&variant) {
            meta.insert("name".into(), json!(name));
        }
        if variant < 0.06 {
            meta.insert("sanitized".into(), json!(name.to_uppercase()));
        } else if !(0.06..0.1).contains(&variant) {
            meta.insert("sanitized".into(), json!(name));
        }
        if !(0.1..0.13).contains(&variant) {
            meta.insert("confidence".into(), confidence);
        }
        meta.insert("stable_window".into(), json!(true));
        if self.rng.chance(0.1) {
            meta.insert("bootstrap".into(), json!(true));
        }
        let content = if self.rng.chance(0.9) {
            name.clone()
        } else {
            format!("  {name}  ")
        };
        if self.rng.chance(0.3) {
            let meta = json!({"name": name, "tick": self.tick});
            self.emit("identity_propose", name.clone(), meta);
        }
        self.emit("identity_adopt", content, Value::Object(meta));
        if self.rng.chance(0.5) {
            self.emit("name_updated", "", json!({"old": null, "new": name}));
        }
        if self.rng.chance(0.25) {
            let meta = json!({"changes": {"openness": num(0.02)}, "reason": "identity_shift"});
            self.emit("trait_update", "", meta);
        }
        self.name = Some(name);
    }

    fn delta(&mut self) -> Value {
        match self.rng.below(DELTAS.len() + 3) {
            i if i < DELTAS.len() => num(DELTAS[i]),
            i if i == DELTAS.len() => json!("0.05"),
            i if i == DELTAS.len() + 1 => json!("-0.02"),
            _ => json!(0),
        }
    }

    /// Both schemas: `{trait, delta}` and `{delta: {o: .., c: ..}}`, plus
    /// the `{changes}` shape no rule reads.
    fn trait_update(&mut self) {
        let r = self.rng.unit();
        let meta = if r < 0.5 {
            let mut meta = json!({
                "trait": self.rng.pick(&TRAIT_KEYS), "delta": self.delta(),
                "reason": self.rng.pick(&["self_evolution", "close_rate_up", "test"]),
            });
            if self.rng.chance(0.2) {
                insert(&mut meta, "tick", json!(self.tick));
            }
            meta
        } else if r < 0.9 {
            let mut deltas = Map::new();
            for _ in 0..self.rng.int(1, 3) {
                let key = *self.rng.pick(&DELTA_KEYS);
                deltas.insert(key.into(), self.delta());
            }
            json!({
                "delta": deltas, "reason": "llm_suggestion",
                "confidence": num(round(self.rng.uniform(0.5, 1.0), 2)),
                "source": "llm_trait_adjuster",
            })
        } else {
            json!({"changes": {"openness": num(0.02)}, "reason": "identity_shift"})
        };
        self.emit("trait_update", "", meta);
    }

    fn directive(&mut self, source: &str, origin: Option<i64>) {
        let mut text = self.rng.pick(DIRECTIVES).to_string();
        // Whitespace and case variants that normalise to the same directive
        // (or, for the lower-cased one, to another).
        text = match self.rng.unit() {
            v if v < 0.45 => text,
            v if v < 0.55 => format!("  {text}  "),
            v if v < 0.63 => text.replacen(' ', "   ", 2),
            v if v < 0.70 => text.replacen(' ', "\t", 1) + "\n",
            v if v < 0.76 => text.replacen(' ', "\u{a0}", 1),
            v if v < 0.80 => format!("\u{3000}{}", text.replacen(' ', "\u{2003}", 1)),
            v if v < 0.86 => text.to_lowercase(),
            v if v < 0.90 => text.replacen(' ', "\n", 1),
            _ => text,
        };
        let mut meta = Map::new();
        match self.rng.unit() {
            s if s < 0.8 => meta.insert("source".into(), json!(source)),
            s if s < 0.88 => {
                meta.insert("source".into(), json!(format!(" {} ", capitalize(source))))
            }
            s if s < 0.94 => meta.insert("source".into(), json!("")),
            _ => None,
        };
        match self.rng.unit() {
            o if o < 0.75 => meta.insert("origin_eid".into(), json!(origin)),
            o if o < 0.85 => meta.insert("origin_eid".into(), Value::Null),
            o if o < 0.9 => {
                meta.insert("origin_eid".into(), json!(origin.map(|id| id.to_string())))
            }
            _ => None,
        };
        self.emit("autonomy_directive", text, Value::Object(meta));
    }

    fn directives(&mut self) {
        let from_reflection = self.rng.chance(0.5);
        let (source, origin) = if from_reflection {
            ("reflection", self.last_reflection)
        } else {
            ("reply", self.last_response)
        };
        for _ in 0..self.rng.int(1, 3) {
            self.directive(source, origin);
        }
    }

    fn invariant(&mut self) {
        let (code, cid) = if !self.violations.is_empty() && self.rng.chance(0.4) {
            self.rng.pick(&self.violations).clone() // a repeat
        } else {
            let code = *self.rng.pick(&VIOLATION_CODES);
            let pool = self.closed.len() + self.open.len();
            let cid = if pool > 0 && self.rng.chance(0.85) {
                let i = self.rng.below(pool);
                self.closed
                    .get(i)
                    .cloned()
                    .or_else(|| self.open.keys().nth(i - self.closed.len()).cloned())
            } else {
                None
            };
            self.violations.push((code, cid.clone()));
            (code, cid)
        };
        let mut meta = json!({"code": code, "message": code.to_lowercase().replace('_', " ")});
        match cid {
            Some(cid) => insert(&mut meta, "details", json!({"commitment_id": cid})),
            None if self.rng.chance(0.5) => insert(&mut meta, "details", json!({})),
            None => {}
        }
        self.emit("invariant_violation", "", meta);
    }

    /// A kind no rule reads, with a plausible meta.
    fn ignored(&mut self) {
        let kind = *self.rng.pick(IGNORED_KINDS);
        let tick = self.tick;
        let meta = match kind {
            "policy_update" => json!({
                "component": "reflection", "stage": self.rng.pick(&["S0", "S1", "S2"]),
                "params": {"min_turns": self.rng.int(1, 5), "min_time_s": self.rng.int(10, 600)},
                "source": "self_assessment",
            }),
            "stage_update" => json!({
                "from": self.rng.pick(&[None, Some("S0"), Some("S1")]),
                "to": self.rng.pick(&["S1", "S2"]),
                "snapshot": {"IAS_mean": num(self.ias), "GAS_mean": num(self.gas), "count": 10},
                "reason": "hysteresis",
            }),
            "bandit_arm_chosen" => json!({"arm": self.rng.pick(REFLECT_STYLES), "tick": tick}),
            "llm_latency" => json!({
                "op": "chat", "provider": "internal", "model": "evalsum",
                "ms": num(self.rng.uniform(1.0, 50.0)), "ok": true, "tick": tick,
            }),
            "debug" => json!({"reflect_skip": self.rng.pick(&["time", "min_turns"])}),
            "reflection_skipped" => {
                json!({"reason": self.rng.pick(&["due_to_min_turns", "due_to_cadence"])})
            }
            "evaluation_report" => json!({
                "component": "performance",
                "metrics": {
                    "completion_rate": num(round(self.rng.unit(), 3)),
                    "latency_ms_p50": self.rng.int(100, 900),
                },
                "tick": tick, "nested": [1, num(2.5), null, true, "x"],
            }),
            _ => json!({"tick": tick, "note": self.rng.pick(&["", "auto", "n/a"])}),
        };
        let content = if kind == "debug" {
            ""
        } else {
            *self.rng.pick(&["", "", "auto", "trait drift update"])
        };
        self.emit(kind, content, meta);
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_utc_matches_python_isoformat() {
        assert_eq!(iso_utc(START_SECS, 0), "2025-09-29T12:00:00+00:00");
        assert_eq!(
            iso_utc(START_SECS + 3 * 86_400 + 61, 4_014),
            "2025-10-02T12:01:01.004014+00:00"
        );
        // 2028-02-29T23:59:59 and the second after it.
        assert_eq!(
            iso_utc(1_835_481_599, 7),
            "2028-02-29T23:59:59.000007+00:00"
        );
        assert_eq!(iso_utc(1_835_481_600, 0), "2028-03-01T00:00:00+00:00");
    }

    #[test]
    fn the_mix_has_every_kind_the_rules_read() {
        let kinds: std::collections::BTreeSet<&str> =
            Generator::new(1).take(20_000).map(|d| d.kind).collect();
        for kind in [
            "user",
            "response",
            "autonomy_tick",
            "reflection",
            "commitment_open",
            "evidence_candidate",
            "commitment_close",
            "commitment_expire",
            "commitment_snooze",
            "identity_adopt",
            "identity_change",
            "identity_clear",
            "trait_update",
            "autonomy_directive",
            "invariant_violation",
            "embedding_indexed",
        ] {
            assert!(kinds.contains(kind), "no {kind} in 20k events");
        }
    }
}
