//! `pmm minds …`: the minds a server holds (`pmm.v1.Minds`, the admin
//! role). The other commands address one mind with `--mind`.

use pmm_client::v1;
use serde_json::{json, Value};

use super::Ctx;
use crate::cli::MindsCommand;
use crate::fail::{short_hash, Fail};
use crate::human::pairs;
use crate::out::Out;
use crate::table::Table;

pub async fn run(ctx: &Ctx, command: MindsCommand) -> Result<(), Fail> {
    match command {
        MindsCommand::Create { name } => {
            let info = ctx.client.create_mind(&name).await?;
            show(ctx, info_json(&info), || {
                format!("Created mind {}.\n{}", info.name, info_text(&info))
            })
        }
        MindsCommand::List { page_size } => {
            let minds = ctx.client.list_all_minds(page_size).await?;
            show(ctx, list_json(&minds), || list_text(&minds))
        }
        MindsCommand::Show { name } => {
            let info = ctx.client.get_mind(&name).await?;
            show(ctx, info_json(&info), || info_text(&info))
        }
        MindsCommand::Delete { name, confirm, yes } => {
            // --yes confirms with the name itself; clap requires one of them.
            let confirm = match (confirm, yes) {
                (Some(confirm), _) => confirm,
                (None, true) => name.clone(),
                (None, false) => {
                    return Err(Fail::usage(format!(
                        "deleting mind {name:?} needs --confirm {name} or --yes"
                    )))
                }
            };
            let deleted = ctx.client.delete_mind(&name, confirm).await?;
            let value = json!({"name": name, "trash_path": deleted.trash_path});
            show(ctx, value, || {
                format!(
                    "Deleted mind {name}: its folder is now {} on the server.\n",
                    deleted.trash_path
                )
            })
        }
        MindsCommand::Backup { name, path } => {
            let backup = ctx.long_client().backup_mind(&name, path).await?;
            show(ctx, backup_json(&name, &backup), || {
                backup_text(&name, &backup)
            })
        }
    }
}

/// Prints `json` with --json, else `text`.
fn show(ctx: &Ctx, json: Value, text: impl FnOnce() -> String) -> Result<(), Fail> {
    let mut out = Out::new();
    if ctx.json {
        out.json(&json)?;
    } else {
        out.text(&text())?;
    }
    Ok(out.flush()?)
}

fn info_json(info: &v1::MindInfo) -> Value {
    json!({
        "name": info.name,
        "events": info.events,
        "last_id": info.last_id,
        "last_hash": (!info.last_hash.is_empty()).then_some(&info.last_hash),
        "bytes": info.bytes,
        "open": info.open,
        "memory_bytes": info.memory_bytes,
    })
}

fn info_text(info: &v1::MindInfo) -> String {
    let last = if info.last_hash.is_empty() {
        "-".to_string()
    } else {
        format!("#{} {}", info.last_id, short_hash(&info.last_hash))
    };
    let memory = if info.open {
        bytes(info.memory_bytes)
    } else {
        "-".to_string()
    };
    pairs(&[
        ("name", info.name.clone()),
        ("events", info.events.to_string()),
        ("last", last),
        ("on disk", bytes(info.bytes)),
        ("open", yes_no(info.open).to_string()),
        ("memory", memory),
    ])
}

fn list_json(minds: &[v1::MindEntry]) -> Value {
    let minds: Vec<Value> = minds
        .iter()
        .map(|m| json!({"name": m.name, "bytes": m.bytes, "open": m.open}))
        .collect();
    json!({ "minds": minds })
}

fn list_text(minds: &[v1::MindEntry]) -> String {
    if minds.is_empty() {
        return "no minds\n".to_string();
    }
    let mut table = Table::new(&["NAME", "ON DISK", "OPEN"], &[false, true, false]);
    for m in minds {
        table.push(vec![
            m.name.clone(),
            bytes(m.bytes),
            yes_no(m.open).to_string(),
        ]);
    }
    let mut text = table.render();
    let count = minds.len();
    text.push_str(&format!(
        "{count} mind{}\n",
        if count == 1 { "" } else { "s" }
    ));
    text
}

fn backup_json(name: &str, b: &v1::BackupMindResponse) -> Value {
    json!({
        "name": name,
        "path": b.path,
        "events": b.events,
        "last_id": b.last_id,
        "last_hash": (!b.last_hash.is_empty()).then_some(&b.last_hash),
        "bytes": b.bytes,
    })
}

fn backup_text(name: &str, b: &v1::BackupMindResponse) -> String {
    let last = if b.last_hash.is_empty() {
        String::new()
    } else {
        format!(", last #{} {}", b.last_id, short_hash(&b.last_hash))
    };
    format!(
        "Backed up mind {name}: {} event{}{last}, {} written to {} on the server.\n",
        b.events,
        if b.events == 1 { "" } else { "s" },
        bytes(b.bytes),
        b.path
    )
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// A size in bytes, KiB, MiB or GiB.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_the_listing_read_plainly() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
        let minds = [
            v1::MindEntry {
                name: "alice".into(),
                bytes: 8192,
                open: true,
            },
            v1::MindEntry {
                name: "default".into(),
                bytes: 100,
                open: false,
            },
        ];
        assert_eq!(
            list_text(&minds),
            "NAME     ON DISK  OPEN\nalice    8.0 KiB  yes\ndefault    100 B  no\n2 minds\n"
        );
        assert_eq!(list_text(&[]), "no minds\n");
        assert_eq!(
            list_json(&minds[..1]),
            json!({"minds": [{"name": "alice", "bytes": 8192, "open": true}]})
        );
    }
}
