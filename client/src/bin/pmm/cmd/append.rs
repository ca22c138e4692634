//! `pmm append KIND [CONTENT]`.

use std::io::Read;

use pmm_client::{AppendOptions, NewEvent};
use serde_json::Value;

use super::Ctx;
use crate::cli::AppendArgs;
use crate::fail::Fail;
use crate::out::Out;
use crate::{human, machine};

/// The content argument, or standard input (without one final newline).
pub(super) fn content(arg: Option<String>) -> Result<String, Fail> {
    match arg.as_deref() {
        Some("-") | None => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| {
                Fail::usage(format!("cannot read the content from standard input: {e}"))
            })?;
            Ok(strip_final_newline(text))
        }
        Some(_) => Ok(arg.unwrap_or_default()),
    }
}

fn strip_final_newline(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

/// `--meta`: a JSON object.
pub fn parse_meta(text: &str) -> Result<Value, Fail> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Fail::usage(format!("--meta: not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Fail::usage(
            "--meta: must be a JSON object, e.g. '{\"source\":\"cli\"}'",
        ));
    }
    Ok(value)
}

pub async fn run(ctx: &Ctx, args: AppendArgs) -> Result<(), Fail> {
    let mut event = NewEvent::new(args.kind, content(args.content)?);
    if let Some(meta) = &args.meta {
        event = event.with_meta(&parse_meta(meta)?)?;
    }
    if let Some(key) = args.idempotency_key {
        event = event.with_key(key);
    }
    let options = AppendOptions {
        expected_last_id: args.expect_last_id,
        ..Default::default()
    };
    let outcome = ctx.client.append_batch(vec![event], options).await?;
    let mut out = Out::new();
    if ctx.json {
        out.json(&machine::appended(&outcome))?;
    } else {
        out.text(&human::appended(&outcome))?;
    }
    Ok(out.flush()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_must_be_an_object() {
        assert!(parse_meta(r#"{"a": 1.0}"#).is_ok());
        assert!(parse_meta("[1]").is_err());
        assert!(parse_meta("{oops").is_err());
    }

    #[test]
    fn one_final_newline_is_dropped() {
        assert_eq!(strip_final_newline("hi\n".into()), "hi");
        assert_eq!(strip_final_newline("hi\r\n".into()), "hi");
        assert_eq!(strip_final_newline("hi\n\n".into()), "hi\n");
        assert_eq!(strip_final_newline("hi".into()), "hi");
    }
}
