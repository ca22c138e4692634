//! One module per group of subcommands; [`run`] connects and dispatches.

mod append;
mod completions;
mod history;
mod minds;
mod read;
mod tail;
mod token;
mod transfer;
mod views;
mod watch;

use std::time::Duration;

use pmm_client::{Client, ConnectOptions, ProjectionOptions, TlsOptions, Token};

use crate::cli::{Cli, Command};
use crate::fail::Fail;

/// What every command needs.
pub struct Ctx {
    pub client: Client,
    /// The server address, as given.
    pub addr: String,
    pub json: bool,
    /// The `--timeout` given, if any.
    pub timeout: Option<Duration>,
}

impl Ctx {
    /// The client for a call that may take long (O(ledger) scans, bulk
    /// transfers): no timeout unless `--timeout` was given.
    pub fn long_client(&self) -> Client {
        self.client.with_request_timeout(self.timeout)
    }
}

fn seconds(flag: &str, secs: f64) -> Result<Duration, Fail> {
    if secs <= 0.0 {
        return Err(Fail::usage(format!(
            "{flag}: must be positive (got {secs})"
        )));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| Fail::usage(format!("{flag}: {e}")))
}

pub async fn run(cli: Cli) -> Result<(), Fail> {
    // Commands that need no server.
    match cli.command {
        Command::Token(command) => return token::run(command, cli.json),
        Command::Completions { shell } => return completions::run(shell, cli.json),
        _ => {}
    }
    let timeout = cli.timeout.map(|s| seconds("--timeout", s)).transpose()?;
    let token = match cli.token.as_deref() {
        Some(text) => Some(Token::new(text.trim())?),
        None => None,
    };
    let options = ConnectOptions {
        connect_timeout: seconds("--connect-timeout", cli.connect_timeout)?,
        request_timeout: Some(timeout.unwrap_or(Duration::from_secs(30))),
        tls: TlsOptions {
            ca_file: cli.ca,
            cert_file: cli.cert,
            key_file: cli.cert_key,
            domain: None,
        },
        token,
        ..Default::default()
    };
    let client = Client::connect_with(&cli.addr, options).await?;
    let client = match cli.mind.as_deref() {
        Some(name) => client.mind(name)?,
        None => client,
    };
    let ctx = Ctx {
        client,
        addr: cli.addr.clone(),
        json: cli.json,
        timeout,
    };
    match cli.command {
        Command::Append(args) => append::run(&ctx, args).await,
        Command::Read(args) => read::read(&ctx, args).await,
        Command::Tail(args) => tail::run(&ctx, args).await,
        Command::Get { id } => read::get(&ctx, id).await,
        Command::Head => read::head(&ctx).await,
        Command::Context(args) => views::context(&ctx, args).await,
        Command::Metrics(args) if args.wants_history() => history::run(&ctx, args).await,
        Command::Metrics(args) => views::metrics(&ctx, args.diagnosis, args.as_of).await,
        Command::Identity { as_of } => views::identity(&ctx, as_of).await,
        Command::Directives { active, as_of } => views::directives(&ctx, active, as_of).await,
        Command::Embed { text } => views::embed(&ctx, text).await,
        Command::Watch(args) => watch::run(&ctx, args).await,
        Command::Completions { .. } => Ok(()),
        Command::Projection {
            strict,
            as_of,
            expired,
            warnings,
        } => {
            let options = ProjectionOptions {
                strict,
                as_of_id: as_of,
                expired_limit: expired,
                warnings_limit: warnings,
                ..Default::default()
            };
            views::projection(&ctx, &options).await
        }
        Command::Verify => views::verify(&ctx).await,
        Command::Search(args) => views::search(&ctx, args).await,
        Command::Stats => views::stats(&ctx).await,
        Command::Import(args) => transfer::import(&ctx, args).await,
        Command::Export(args) => transfer::export(&ctx, args).await,
        Command::Token(command) => token::run(command, ctx.json),
        Command::Minds(command) => minds::run(&ctx, command).await,
    }
}
