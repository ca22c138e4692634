//! `pmm read`, `pmm get ID`, `pmm head`.

use futures_util::{StreamExt, TryStreamExt};
use pmm_client::{jsonl, ReadOptions};

use super::Ctx;
use crate::cli::ReadArgs;
use crate::fail::Fail;
use crate::out::Out;
use crate::table::{events_table, CONTENT_CHARS};
use crate::{human, machine};

/// Largest page asked for.
const MAX_PAGE: u64 = 1000;

/// The page size for showing at most `limit` events (0 = all).
pub fn page_size(limit: u64) -> u32 {
    let size = if limit == 0 {
        MAX_PAGE
    } else {
        limit.min(MAX_PAGE)
    };
    u32::try_from(size).unwrap_or(1000)
}

pub async fn read(ctx: &Ctx, args: ReadArgs) -> Result<(), Fail> {
    let options = ReadOptions {
        start_id: args.from,
        end_id: args.to,
        backward: args.backward,
        kinds: args.kinds,
        page_size: page_size(args.limit),
    };
    let content_max = (!args.wide).then_some(CONTENT_CHARS);
    let mut left = if args.limit == 0 {
        u64::MAX
    } else {
        args.limit
    };
    let mut pages = ctx.client.pages(options).boxed();
    let mut out = Out::new();
    let mut shown = 0u64;
    while left > 0 {
        let Some(page) = pages.try_next().await? else {
            break;
        };
        let take = usize::try_from(left)
            .unwrap_or(usize::MAX)
            .min(page.events.len());
        let events = &page.events[..take];
        left -= take as u64;
        if ctx.json {
            for ev in events {
                out.line(&jsonl::format_event(ev))?;
            }
        } else if !events.is_empty() {
            let table = events_table(events, content_max).render();
            // The header only once, above the first page.
            let body = if shown == 0 {
                table.as_str()
            } else {
                table.split_once('\n').map_or("", |(_, rest)| rest)
            };
            out.text(body)?;
        }
        shown += take as u64;
    }
    if shown == 0 && !ctx.json {
        out.line("(no events)")?;
    }
    Ok(out.flush()?)
}

pub async fn get(ctx: &Ctx, id: u64) -> Result<(), Fail> {
    let ev = ctx.client.get_event(id).await?;
    let mut out = Out::new();
    if ctx.json {
        out.line(&jsonl::format_event(&ev))?;
    } else {
        out.text(&human::pairs(&[
            ("id", ev.id.to_string()),
            ("ts", ev.ts.clone()),
            ("kind", ev.kind.clone()),
            ("meta", ev.meta.to_string()),
            (
                "prev hash",
                ev.prev_hash.clone().unwrap_or_else(|| "-".into()),
            ),
            ("hash", ev.hash.clone().unwrap_or_else(|| "-".into())),
        ]))?;
        out.line("content")?;
        out.line(&ev.content)?;
    }
    Ok(out.flush()?)
}

pub async fn head(ctx: &Ctx) -> Result<(), Fail> {
    let head = ctx.client.head().await?;
    let mut out = Out::new();
    if ctx.json {
        out.json(&machine::head(&head))?;
    } else {
        out.text(&human::head(&head))?;
    }
    Ok(out.flush()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_no_bigger_than_needed() {
        assert_eq!(page_size(0), 1000);
        assert_eq!(page_size(20), 20);
        assert_eq!(page_size(50_000), 1000);
    }
}
