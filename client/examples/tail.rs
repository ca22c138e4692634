//! Follow the ledger live, surviving server restarts: the subscription
//! reconnects and resumes after the last event it delivered, so no event is
//! missed or shown twice.
//!
//! ```sh
//! cargo run -p pmm-client --example tail -- http://127.0.0.1:50051 [KIND...]
//! ```

use futures_util::StreamExt;
use pmm_client::{Client, ClientError, Start, SubItem, SubscribeSpec};

#[tokio::main]
async fn main() -> Result<(), ClientError> {
    let mut args = std::env::args().skip(1);
    let addr = args
        .next()
        .unwrap_or_else(|| pmm_client::DEFAULT_ADDR.to_string());
    let kinds: Vec<String> = args.collect();
    let client = Client::connect(&addr).await?;

    let spec = SubscribeSpec::new(Start::OnlyNew).with_kinds(kinds);
    let mut items = Box::pin(client.subscribe_resilient(spec));
    while let Some(item) = items.next().await {
        match item? {
            SubItem::Event(ev) => println!("#{} {} {}: {}", ev.id, ev.ts, ev.kind, ev.content),
            SubItem::CaughtUp(p) => eprintln!("(live from #{})", p.position),
            SubItem::Reconnecting(r) => eprintln!(
                "({}; retrying in {:?}, resuming after {:?})",
                r.reason, r.delay, r.resume_after
            ),
            _ => {}
        }
    }
    Ok(())
}
