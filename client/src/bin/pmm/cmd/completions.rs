//! `pmm completions SHELL`: the shell completion script, made from the
//! command-line definition itself (no server needed).

use clap::CommandFactory;
use clap_complete::Shell;
use serde_json::json;

use crate::cli::Cli;
use crate::fail::Fail;
use crate::out::Out;

pub fn run(shell: Shell, json: bool) -> Result<(), Fail> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "pmm", &mut script);
    let script = String::from_utf8(script)
        .map_err(|e| Fail::server(format!("completion script is not UTF-8: {e}")))?;
    let mut out = Out::new();
    if json {
        out.json(&json!({ "shell": shell.to_string(), "script": script }))?;
    } else {
        out.text(&script)?;
    }
    Ok(out.flush()?)
}
