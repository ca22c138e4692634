//! `pmm tail [-f]`: the last events, then (with -f) new ones as they are
//! committed, through a subscription that resumes after a dropped
//! connection without losing or repeating an event.

use futures_util::{StreamExt, TryStreamExt};
use pmm_client::{jsonl, Event, ReadOptions, Reconnect, Start, SubItem, SubscribeSpec};

use super::read::page_size;
use super::Ctx;
use crate::cli::TailArgs;
use crate::fail::Fail;
use crate::out::Out;
use crate::table::{event_line, CONTENT_CHARS};

/// Width the kind column is padded to.
const KIND_WIDTH: usize = 14;

struct Printer {
    out: Out,
    json: bool,
    content_max: Option<usize>,
}

impl Printer {
    fn event(&mut self, ev: &Event) -> Result<(), Fail> {
        if self.json {
            self.out.line(&jsonl::format_event(ev))?;
        } else {
            self.out
                .line(&event_line(ev, self.content_max, KIND_WIDTH))?;
        }
        Ok(())
    }
}

/// The id after which to start so that the last `lines` matching events are
/// shown first (`None` = from the start of the ledger).
async fn start_after(ctx: &Ctx, args: &TailArgs) -> Result<Option<u64>, Fail> {
    if let Some(from) = args.from {
        return Ok(Some(from.saturating_sub(1)));
    }
    if args.lines == 0 {
        return Ok(Some(ctx.client.head().await?.last_id));
    }
    let options = ReadOptions {
        backward: true,
        kinds: args.kinds.clone(),
        page_size: page_size(args.lines),
        ..Default::default()
    };
    let last: Vec<Event> = ctx
        .client
        .read_all(options)
        .take(usize::try_from(args.lines).unwrap_or(usize::MAX))
        .try_collect()
        .await?;
    Ok(match last.last() {
        Some(oldest) if last.len() as u64 >= args.lines => Some(oldest.id - 1),
        _ => None,
    })
}

pub async fn run(ctx: &Ctx, args: TailArgs) -> Result<(), Fail> {
    let mut printer = Printer {
        out: Out::new(),
        json: ctx.json,
        content_max: (!args.wide).then_some(CONTENT_CHARS),
    };
    let after = start_after(ctx, &args).await?;
    if !args.follow {
        let options = ReadOptions {
            start_id: Some(after.unwrap_or(0) + 1),
            kinds: args.kinds,
            page_size: 1000,
            ..Default::default()
        };
        let mut events = ctx.client.read_all(options).boxed();
        while let Some(ev) = events.try_next().await? {
            printer.event(&ev)?;
        }
        return Ok(printer.out.flush()?);
    }
    let start = after.map_or(Start::FromStart, Start::AfterId);
    let spec = SubscribeSpec::new(start).with_kinds(args.kinds);
    let mut items = ctx.client.subscribe_resilient(spec).boxed();
    let mut notices = Notices::default();
    while let Some(item) = items.next().await {
        match item? {
            SubItem::Event(ev) => {
                printer.event(&ev)?;
                printer.out.flush()?;
            }
            SubItem::Reconnecting(r) => {
                printer.out.flush()?;
                if let Some(text) = notices.reconnecting(&r) {
                    eprintln!("pmm: {text}");
                }
            }
            SubItem::CaughtUp(p) => {
                if let Some(text) = notices.caught_up(p.position) {
                    eprintln!("pmm: {text}");
                }
            }
            _ => {}
        }
    }
    Ok(printer.out.flush()?)
}

/// What to tell the user about reconnections, without repeating the same
/// failure at every attempt.
#[derive(Debug, Default)]
struct Notices {
    /// The reason last reported, while reconnecting.
    last_reason: Option<String>,
}

impl Notices {
    fn reconnecting(&mut self, r: &Reconnect) -> Option<String> {
        if self.last_reason.as_deref() == Some(r.reason.as_str()) {
            return None;
        }
        self.last_reason = Some(r.reason.clone());
        let from = r
            .resume_after
            .map_or_else(|| "new events".to_string(), |id| format!("after #{id}"));
        Some(format!("{}; reconnecting (will resume {from})", r.reason))
    }

    fn caught_up(&mut self, position: u64) -> Option<String> {
        self.last_reason
            .take()
            .map(|_| format!("reconnected; caught up to #{position}"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn reconnect(reason: &str, attempt: u32) -> Reconnect {
        Reconnect {
            attempt,
            delay: Duration::from_millis(100),
            resume_after: Some(7),
            reason: reason.into(),
        }
    }

    #[test]
    fn each_failure_is_told_once_and_the_recovery_once() {
        let mut n = Notices::default();
        assert_eq!(n.caught_up(3), None, "the first catch-up is silent");
        assert_eq!(
            n.reconnecting(&reconnect("UNAVAILABLE: shutting down", 1))
                .as_deref(),
            Some("UNAVAILABLE: shutting down; reconnecting (will resume after #7)")
        );
        assert!(n
            .reconnecting(&reconnect("UNAVAILABLE: refused", 2))
            .is_some());
        assert!(n
            .reconnecting(&reconnect("UNAVAILABLE: refused", 3))
            .is_none());
        assert_eq!(
            n.caught_up(9).as_deref(),
            Some("reconnected; caught up to #9")
        );
        assert_eq!(n.caught_up(9), None);
    }
}
