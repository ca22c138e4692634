//! `pmm token new NAME --role ROLE`: a fresh random token, shown once, and
//! the tokens-file line that admits it (its SHA-256, never the token).

use pmm::token::{check_name, file_line, generate, Role};

use crate::cli::TokenCommand;
use crate::fail::Fail;
use crate::out::Out;

pub fn run(command: TokenCommand, json: bool) -> Result<(), Fail> {
    match command {
        TokenCommand::New { name, role } => new(&name, role, json),
    }
}

fn new(name: &str, role: Role, json: bool) -> Result<(), Fail> {
    check_name(name).map_err(|reason| Fail::usage(format!("token name {name:?}: {reason}")))?;
    let token =
        generate().map_err(|e| Fail::server(format!("no random numbers from the system: {e}")))?;
    let line = file_line(name, role, &token);
    let mut out = Out::new();
    if json {
        out.json(&serde_json::json!({
            "name": name,
            "role": role.name(),
            "token": token,
            "line": line,
        }))?;
    } else {
        out.text(&format!(
            "Token {name} ({role}), shown only now; give it to its user as PMM_TOKEN:\n  {token}\n\
             Add this line to the server's tokens file, then reload it (SIGHUP):\n  {line}\n"
        ))?;
    }
    Ok(out.flush()?)
}
