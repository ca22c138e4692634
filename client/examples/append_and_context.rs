//! One interaction of an agent: append the user's message and get the
//! context block for the reply in the same round trip, then append the
//! reply with an idempotency key (safe to retry) and show the metrics.
//!
//! ```sh
//! cargo run -p pmm-client --example append_and_context -- http://127.0.0.1:50051
//! ```

use pmm_client::{AppendOptions, Client, ClientError, ContextOptions, MetricsOptions, NewEvent};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), ClientError> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| pmm_client::DEFAULT_ADDR.to_string());
    let client = Client::connect(&addr).await?;

    let user = NewEvent::new("user", "What should we work on next?")
        .with_meta(&json!({"source": "example"}))?;
    let outcome = client
        .append_batch(
            vec![user],
            AppendOptions {
                context: Some(ContextOptions::default()),
                ..Default::default()
            },
        )
        .await?;
    let user_id = outcome.events.first().map_or(0, |e| e.id);
    println!("appended user message #{user_id}");
    if let Some(context) = &outcome.context {
        println!(
            "--- context as of #{} ---\n{}\n---",
            context.as_of_id, context.text
        );
    }

    // The reply, keyed so that a retry after a timeout writes nothing twice.
    let reply = NewEvent::new("response", "Let's write the tests first.")
        .with_meta(&json!({"source": "example", "reply_to": user_id}))?
        .with_key(format!("reply-to-{user_id}"));
    let appended = client.append(reply.clone()).await?;
    let again = client.append(reply).await?;
    let retry = if again.deduplicated {
        "was deduplicated"
    } else {
        "wrote a new row"
    };
    println!(
        "appended reply #{}; the retry {retry} (#{})",
        appended.id, again.id
    );

    let metrics = client.get_metrics(&MetricsOptions::default()).await?;
    let stage = metrics.stage.map(|s| s.name).unwrap_or_default();
    println!(
        "IAS {:?}  GAS {:?}  stage {stage}  (as of #{})",
        metrics.ias, metrics.gas, metrics.as_of_id
    );
    Ok(())
}
