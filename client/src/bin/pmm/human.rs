//! Human-readable renderings of the views (pure functions returning text
//! that ends with a newline).

use std::fmt::Write as _;

use pmm_client::import::ImportProgress;
use pmm_client::v1;
use pmm_client::{AppendOutcome, Head, IdentityView, Projection};
use serde_json::Value;

use crate::fail::short_hash;
use crate::machine::{durability_name, encoding_name, fault_name, section_name};
use crate::table::{one_line, Table};

/// `key  value` lines with the keys aligned.
pub fn pairs(rows: &[(&str, String)]) -> String {
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        let line = format!("{k:<width$}  {v}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn head(h: &Head) -> String {
    pairs(&[
        ("last id", h.last_id.to_string()),
        (
            "last hash",
            h.last_hash.clone().unwrap_or_else(|| "-".into()),
        ),
        ("count", h.count.to_string()),
        ("last ts", h.last_ts.clone().unwrap_or_else(|| "-".into())),
    ])
}

pub fn appended(outcome: &AppendOutcome) -> String {
    let mut out = String::new();
    for e in &outcome.events {
        if e.deduplicated {
            let _ = writeln!(
                out,
                "already appended as #{} (same idempotency key), hash {}",
                e.id,
                short_hash(&e.hash)
            );
        } else {
            let _ = writeln!(
                out,
                "appended #{} at {}, hash {}",
                e.id,
                e.ts,
                short_hash(&e.hash)
            );
        }
    }
    out
}

pub fn verify(r: &v1::VerifyChainResponse) -> String {
    if r.ok {
        format!(
            "chain OK: {} rows verified (as of #{})\n",
            r.checked, r.as_of_id
        )
    } else {
        let at = r
            .first_bad_id
            .map_or_else(|| "?".to_string(), |id| id.to_string());
        format!(
            "chain BROKEN at #{at} ({}): {}\n{} rows checked (as of #{})\n",
            fault_name(r.fault),
            r.reason,
            r.checked,
            r.as_of_id
        )
    }
}

fn traits_line(t: &v1::Traits) -> String {
    format!(
        "O={:?} C={:?} E={:?} A={:?} N={:?}",
        t.openness, t.conscientiousness, t.extraversion, t.agreeableness, t.neuroticism
    )
}

/// A commitment's text: its `text` field, else its JSON.
fn commitment_text(entry: &Value) -> String {
    match entry.get("text") {
        Some(Value::String(s)) => one_line(s, Some(100)),
        _ => one_line(&entry.to_string(), Some(100)),
    }
}

pub fn projection(p: &Projection) -> String {
    let mut out = String::new();
    if let Some(err) = &p.strict_error {
        let _ = writeln!(out, "strict mode failed: {err}");
    }
    if let Some(m) = &p.self_model {
        out.push_str(&pairs(&[
            (
                "name",
                m.identity.name.clone().unwrap_or_else(|| "(none)".into()),
            ),
            ("traits", traits_line(&m.identity.traits)),
        ]));
        let _ = writeln!(out, "open commitments ({})", m.open.len());
        for (cid, entry) in &m.open {
            let snoozed = entry
                .get("snoozed_until")
                .map(|s| format!("  [snoozed until {s}]"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {cid}  {}{snoozed}", commitment_text(entry));
        }
        let _ = writeln!(
            out,
            "expired commitments ({}{})",
            p.expired_total,
            shown_of(m.expired.len(), p.expired_total)
        );
        for (cid, entry) in &m.expired {
            let at = entry
                .get("expired_at")
                .map(Value::to_string)
                .unwrap_or_default();
            let reason = match entry.get("reason") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "  {cid}  {}  (expired at #{at}: {reason})",
                commitment_text(entry)
            );
        }
    }
    if p.warnings_total > 0 {
        let _ = writeln!(
            out,
            "warnings ({}{})",
            p.warnings_total,
            shown_of(p.warnings.len(), p.warnings_total)
        );
        for w in &p.warnings {
            let _ = writeln!(out, "  #{}  {} ({})", w.eid, w.content, w.reason);
        }
    }
    let _ = writeln!(
        out,
        "as of #{}{}",
        p.as_of_id,
        if p.strict { " (strict)" } else { "" }
    );
    out
}

/// ", the latest 20 shown" when only some are listed.
fn shown_of(shown: usize, total: u64) -> String {
    if shown as u64 >= total {
        String::new()
    } else {
        format!(", the latest {shown} shown")
    }
}

pub fn metrics(m: &v1::GetMetricsResponse) -> String {
    let stage = m.stage.clone().unwrap_or_default();
    let snap = stage.snapshot.unwrap_or_default();
    let mut rows = vec![
        ("IAS", format!("{:?}", m.ias)),
        ("GAS", format!("{:?}", m.gas)),
        ("stage", format!("{} (level {})", stage.name, stage.level)),
        (
            "window",
            format!(
                "{}/{} telemetry points, IAS mean {:?}, GAS mean {:?}",
                snap.count, snap.window, snap.ias_mean, snap.gas_mean
            ),
        ),
        ("as of", format!("#{}", m.as_of_id)),
    ];
    if let Some(d) = &m.diagnosis {
        let adopts = |list: &[v1::AdoptionDetail]| {
            list.iter()
                .map(|a| match a.confidence {
                    Some(c) => format!(
                        "#{} {:?} at tick {} (confidence {c:?})",
                        a.event_id, a.name, a.tick
                    ),
                    None => format!("#{} {:?} at tick {}", a.event_id, a.name, a.tick),
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        rows.extend([
            (
                "identity adopts",
                format!("{} valid of {}", d.identity_adopts, d.identity_adopts_total),
            ),
            ("valid adopts", adopts(&d.identity_adopt_details)),
            ("all adopts", adopts(&d.identity_adopt_details_all)),
            ("autonomy ticks", d.autonomy_ticks.to_string()),
            ("invariant violations", d.invariant_violations.to_string()),
            ("identity reflections", d.identity_reflections.to_string()),
            ("ticks since adopt", d.ticks_since_last_adopt.to_string()),
            (
                "stability bonuses",
                d.expected_stability_bonuses.to_string(),
            ),
            (
                "flip-flop penalties",
                d.expected_flip_flop_penalties.to_string(),
            ),
            ("decay factor", format!("{:?}", d.decay_factor)),
            (
                "IAS before decay",
                format!("{:?}", d.expected_ias_before_decay),
            ),
        ]);
    }
    pairs(&rows)
}

pub fn identity(v: &IdentityView) -> String {
    pairs(&[
        (
            "name",
            v.identity.name.clone().unwrap_or_else(|| "(none)".into()),
        ),
        ("traits", traits_line(&v.identity.traits)),
        ("as of", format!("#{}", v.as_of_id)),
    ])
}

pub fn directives(d: &v1::GetDirectivesResponse) -> String {
    let mut out = String::new();
    if !d.directives.is_empty() {
        let mut t = Table::new(
            &["FIRST", "LAST", "SEEN", "SOURCES", "DIRECTIVE"],
            &[true, true, true, false, false],
        );
        for r in &d.directives {
            t.push(vec![
                format!("#{}", r.first_seen_id),
                format!("#{}", r.last_seen_id),
                r.seen_count.to_string(),
                r.sources.join(","),
                one_line(&r.content, Some(80)),
            ]);
        }
        out.push_str(&t.render());
        out.push('\n');
    }
    let _ = writeln!(out, "active ({})", d.active.len());
    let mut t = Table::new(
        &["SCORE", "SEEN", "RECENT", "DIRECTIVE"],
        &[true, true, true, false],
    );
    for r in &d.active {
        t.push(vec![
            format!("{:?}", r.score),
            r.seen_count.to_string(),
            r.recent_hits.to_string(),
            one_line(&r.content, Some(80)),
        ]);
    }
    if !t.is_empty() {
        out.push_str(&t.render());
    }
    let _ = writeln!(out, "as of #{}", d.as_of_id);
    out
}

pub fn embedding(e: &v1::EmbedResponse) -> String {
    let values: Vec<String> = e.vector.iter().map(|x| format!("{x:?}")).collect();
    let mut out = pairs(&[("digest", e.digest.clone())]);
    for (i, chunk) in values.chunks(4).enumerate() {
        let _ = writeln!(out, "[{:>2}]  {}", i * 4, chunk.join("  "));
    }
    out
}

/// Width of the bars of a breakdown, in characters.
const BAR_WIDTH: usize = 24;

/// A bar of `share` (0..=1) of `width` characters, in eighths.
pub fn bar(share: f64, width: usize) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (share.clamp(0.0, 1.0) * (width * 8) as f64).round() as usize;
    let mut out = "█".repeat(eighths / 8);
    if eighths % 8 > 0 {
        out.push(EIGHTHS[eighths % 8]);
    }
    out
}

/// The size of a context block section by section, with a bar per
/// section for its share of the tokens.
pub fn breakdown(b: &v1::ContextBreakdown, as_of_id: u64) -> String {
    let mut t = Table::new(
        &["SECTION", "LINES", "BYTES", "CHARS", "TOKENS", "SHARE", ""],
        &[false, true, true, true, true, true, false],
    );
    let share = |tokens: u64| {
        if b.tokens == 0 {
            0.0
        } else {
            tokens as f64 / b.tokens as f64
        }
    };
    for s in &b.sections {
        t.push(vec![
            section_name(s.section),
            s.lines.to_string(),
            s.bytes.to_string(),
            s.chars.to_string(),
            s.tokens.to_string(),
            format!("{:.1}%", share(s.tokens) * 100.0),
            bar(share(s.tokens), BAR_WIDTH),
        ]);
    }
    let lines: u32 = b.sections.iter().map(|s| s.lines).sum();
    t.push(vec![
        "total".into(),
        lines.to_string(),
        b.bytes.to_string(),
        b.chars.to_string(),
        b.tokens.to_string(),
        "100.0%".into(),
        String::new(),
    ]);
    let mut out = t.render();
    let _ = writeln!(
        out,
        "tokens: {}; context block as of #{as_of_id}",
        encoding_name(b.encoding)
    );
    out
}

pub fn search(r: &v1::SearchResponse) -> String {
    let mut table = Table::new(
        &["SCORE", "ID", "KIND", "EXCERPT"],
        &[true, true, false, false],
    );
    for h in &r.hits {
        table.push(vec![
            format!("{:.4}", h.score),
            h.event_id.to_string(),
            h.kind.clone(),
            one_line(&h.excerpt, Some(90)),
        ]);
    }
    let mut out = if table.is_empty() {
        "no matching events\n".to_string()
    } else {
        table.render()
    };
    let _ = writeln!(out, "({} events scanned, as of #{})", r.scanned, r.as_of_id);
    out
}

pub fn stats(s: &v1::StatsResponse) -> String {
    let limits = s.limits.unwrap_or_default();
    let mut out = pairs(&[
        ("server version", s.server_version.clone()),
        ("mind", s.mind.clone()),
        ("events", format!("{} (last id #{})", s.event_count, s.as_of_id)),
        ("database", format!("{} bytes (+{} WAL)", s.db_bytes, s.wal_bytes)),
        ("durability", durability_name(s.durability)),
        ("uptime", format!("{} s", s.uptime_seconds)),
        ("start-up rebuild", format!("{} events in {} µs", s.rebuild_events, s.rebuild_micros)),
        ("appended", format!("{} events in {} commits", s.appended_events, s.commits)),
        ("subscribers", s.subscribers.to_string()),
        (
            "open minds",
            format!(
                "{} of at most {}, {} of {} bytes of memory; {} opened, {} closed to make room",
                s.open_minds,
                s.max_open_minds,
                s.open_minds_memory_bytes,
                s.max_open_minds_memory_bytes,
                s.minds_opened,
                s.minds_closed
            ),
        ),
        (
            "limits",
            format!(
                "event {} B, batch {}, message {} B, page {}, subscribers {}, top_k {}, reflections {}, streams/connection {}",
                limits.max_event_bytes,
                limits.max_batch_events,
                limits.max_message_bytes,
                limits.max_page_size,
                limits.max_subscribers,
                limits.max_search_top_k,
                limits.max_n_reflections,
                limits.max_concurrent_streams
            ),
        ),
    ]);
    if !s.caches.is_empty() {
        let mut t = Table::new(
            &["CACHE", "HITS", "MISSES", "HIT RATE", "ENTRIES", "CAPACITY"],
            &[false, true, true, true, true, true],
        );
        for c in &s.caches {
            t.push(vec![
                c.name.clone(),
                c.hits.to_string(),
                c.misses.to_string(),
                format!("{:.1}%", c.hit_rate * 100.0),
                c.entries.to_string(),
                c.capacity.to_string(),
            ]);
        }
        out.push('\n');
        out.push_str(&t.render());
    }
    if !s.events_by_kind.is_empty() {
        let mut kinds: Vec<_> = s.events_by_kind.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let mut t = Table::new(&["KIND", "EVENTS"], &[false, true]);
        for (k, n) in kinds {
            t.push(vec![k.clone(), n.to_string()]);
        }
        out.push('\n');
        out.push_str(&t.render());
    }
    out
}

pub fn import(p: &ImportProgress) -> String {
    let mut out = format!(
        "imported {} rows, skipped {} already stored",
        p.imported, p.skipped
    );
    if p.passed_over > 0 {
        let _ = write!(out, ", {} not resent (--resume)", p.passed_over);
    }
    let _ = writeln!(
        out,
        " ({} batches); ledger head #{}",
        p.batches, p.head.last_id
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_align_keys() {
        assert_eq!(
            pairs(&[
                ("IAS", "0.5".into()),
                ("stage", "S1".into()),
                ("x", String::new())
            ]),
            "IAS    0.5\nstage  S1\nx\n"
        );
    }

    #[test]
    fn verify_says_where_the_chain_breaks() {
        let bad = v1::VerifyChainResponse {
            ok: false,
            first_bad_id: Some(7),
            fault: v1::ChainFault::HashMismatch as i32,
            reason: "hash mismatch at id 7".into(),
            checked: 7,
            as_of_id: 20,
        };
        assert_eq!(
            verify(&bad),
            "chain BROKEN at #7 (HASH_MISMATCH): hash mismatch at id 7\n7 rows checked (as of #20)\n"
        );
    }

    #[test]
    fn bars_grow_in_eighths() {
        assert_eq!(bar(0.0, 4), "");
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.5, 4), "██");
        assert_eq!(bar(1.0 / 32.0, 4), "▏");
        assert_eq!(bar(2.0, 2), "██");
    }

    #[test]
    fn a_breakdown_is_a_table_with_a_bar_per_section() {
        let section = |s: v1::ContextSection, tokens| v1::ContextSectionSize {
            section: s as i32,
            bytes: tokens * 4,
            chars: tokens * 4,
            tokens,
            lines: 1,
        };
        let b = v1::ContextBreakdown {
            encoding: v1::TokenEncoding::O200kBase as i32,
            sections: vec![
                section(v1::ContextSection::Header, 10),
                section(v1::ContextSection::Footer, 30),
            ],
            bytes: 160,
            chars: 160,
            tokens: 40,
        };
        let text = breakdown(&b, 7);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "SECTION  LINES  BYTES  CHARS  TOKENS   SHARE");
        assert_eq!(
            lines[1],
            format!(
                "header       1     40     40      10   25.0%  {}",
                "█".repeat(6)
            )
        );
        assert_eq!(
            lines[2],
            format!(
                "footer       1    120    120      30   75.0%  {}",
                "█".repeat(18)
            )
        );
        assert_eq!(lines[3], "total        2    160    160      40  100.0%");
        assert_eq!(lines[4], "tokens: o200k_base; context block as of #7");
    }

    #[test]
    fn metrics_print_floats_exactly() {
        let m = v1::GetMetricsResponse {
            ias: 0.8499999999999999,
            gas: 1.0,
            stage: Some(v1::Stage {
                name: "S2".into(),
                level: 2,
                snapshot: None,
            }),
            diagnosis: None,
            as_of_id: 12,
        };
        let text = metrics(&m);
        assert!(
            text.starts_with("IAS     0.8499999999999999\nGAS     1.0\nstage   S2 (level 2)\n"),
            "{text}"
        );
    }
}
