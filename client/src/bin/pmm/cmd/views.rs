//! The derived views and server facts: `context`, `metrics`, `identity`,
//! `directives`, `projection`, `embed`, `verify`, `search`, `stats`.

use pmm_client::{v1, ContextOptions, MetricsOptions, ProjectionOptions, SearchOptions};

use super::Ctx;
use crate::cli::{ContextArgs, Encoding, SearchArgs};
use crate::fail::{Fail, CONFLICT};
use crate::out::Out;
use crate::{human, machine};

/// Prints `json` with --json, else `text`.
fn show(
    ctx: &Ctx,
    json: impl FnOnce() -> serde_json::Value,
    text: impl FnOnce() -> String,
) -> Result<(), Fail> {
    let mut out = Out::new();
    if ctx.json {
        out.json(&json())?;
    } else {
        out.text(&text())?;
    }
    Ok(out.flush()?)
}

pub async fn context(ctx: &Ctx, args: ContextArgs) -> Result<(), Fail> {
    let options = ContextOptions {
        compact: args.compact,
        n_reflections: args.n_reflections,
        max_commitment_chars: args.max_commitment_chars,
        max_reflection_chars: args.max_reflection_chars,
        tail: args.tail,
        as_of_id: args.as_of,
        breakdown: args.breakdown.then_some(match args.encoding {
            Encoding::O200kBase => v1::TokenEncoding::O200kBase,
            Encoding::Cl100kBase => v1::TokenEncoding::Cl100kBase,
        }),
    };
    let block = ctx.client.get_context(&options).await?;
    show(
        ctx,
        || machine::context(&block),
        || match &block.breakdown {
            Some(b) => human::breakdown(b, block.as_of_id),
            None => format!("{}\n", block.text),
        },
    )
}

pub async fn identity(ctx: &Ctx, as_of: Option<u64>) -> Result<(), Fail> {
    let view = ctx.client.get_identity(as_of).await?;
    show(
        ctx,
        || machine::identity_view(&view),
        || human::identity(&view),
    )
}

pub async fn directives(ctx: &Ctx, active_only: bool, as_of: Option<u64>) -> Result<(), Fail> {
    let d = ctx.client.get_directives(active_only, as_of).await?;
    show(ctx, || machine::directives(&d), || human::directives(&d))
}

pub async fn embed(ctx: &Ctx, text: String) -> Result<(), Fail> {
    let text = super::append::content(Some(text))?;
    let e = ctx.client.embed(text).await?;
    show(ctx, || machine::embedding(&e), || human::embedding(&e))
}

pub async fn metrics(ctx: &Ctx, diagnosis: bool, as_of: Option<u64>) -> Result<(), Fail> {
    let options = MetricsOptions {
        include_diagnosis: diagnosis,
        as_of_id: as_of,
    };
    let m = ctx.client.get_metrics(&options).await?;
    show(ctx, || machine::metrics(&m), || human::metrics(&m))
}

pub async fn projection(ctx: &Ctx, options: &ProjectionOptions) -> Result<(), Fail> {
    let p = ctx.client.get_projection(options).await?;
    show(ctx, || machine::projection(&p), || human::projection(&p))
}

pub async fn verify(ctx: &Ctx) -> Result<(), Fail> {
    let r = ctx.long_client().verify_chain().await?;
    show(ctx, || machine::verify(&r), || human::verify(&r))?;
    if r.ok {
        Ok(())
    } else {
        Err(Fail::Silent(CONFLICT))
    }
}

pub async fn search(ctx: &Ctx, args: SearchArgs) -> Result<(), Fail> {
    let options = SearchOptions {
        top_k: args.top_k,
        kinds: args.kinds,
    };
    let r = ctx.long_client().search(args.query, &options).await?;
    show(ctx, || machine::search(&r), || human::search(&r))
}

pub async fn stats(ctx: &Ctx) -> Result<(), Fail> {
    let s = ctx.client.stats().await?;
    show(ctx, || machine::stats(&s), || human::stats(&s))
}
