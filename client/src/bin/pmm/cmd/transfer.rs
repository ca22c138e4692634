//! `pmm import FILE` and `pmm export [FILE]`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::TryStreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use pmm_client::import::{import_file, ImportError, ImportFileOptions};
use pmm_client::source::{self, Format};
use pmm_client::{jsonl, ExportOptions, ImportMode};
use serde_json::json;

use super::Ctx;
use crate::cli::{ExportArgs, ImportArgs};
use crate::fail::Fail;
use crate::out::Out;
use crate::{human, machine};

/// A progress bar on stderr (drawn only when stderr is a terminal).
fn progress_bar(total: u64, format: Format) -> ProgressBar {
    let what = match format {
        Format::Sqlite => "pmm.db",
        Format::JsonLines => "JSON lines",
    };
    let bar = ProgressBar::new(total);
    let template =
        format!("importing {what} {{bar:40}} {{pos}}/{{len}} rows ({{per_sec}}, eta {{eta}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub async fn import(ctx: &Ctx, args: ImportArgs) -> Result<(), Fail> {
    let path = args.file.clone();
    let (format, total) = tokio::task::spawn_blocking(move || {
        let format = source::detect(&path)?;
        let total = source::count_rows(&path, format)?;
        Ok::<_, ImportError>((format, total))
    })
    .await
    .map_err(|e| Fail::server(format!("reading thread failed: {e}")))??;

    let options = ImportFileOptions {
        mode: if args.verbatim {
            ImportMode::Verbatim
        } else {
            ImportMode::Verify
        },
        resume: args.resume,
        batch_rows: args.batch,
    };
    let bar = progress_bar(total, format);
    let result = import_file(&ctx.long_client(), &args.file, &options, |p| {
        bar.set_position(p.rows_done);
    })
    .await;
    bar.finish_and_clear();
    let summary = result.map_err(|err| with_hint(err, args.verbatim))?;
    let mut out = Out::new();
    if ctx.json {
        out.json(&machine::import(&summary))?;
    } else {
        out.text(&human::import(&summary))?;
    }
    Ok(out.flush()?)
}

/// The failure, with a hint when the file's own chain does not verify.
fn with_hint(err: ImportError, verbatim: bool) -> Fail {
    let broken_chain = !verbatim
        && matches!(&err, ImportError::Rejected { source, .. }
            if source.code() == Some(tonic::Code::InvalidArgument)
                && source.message().is_some_and(|m| m.contains("hash")));
    match Fail::from(err) {
        Fail::Message { code, mut message } if broken_chain => {
            message.push_str(
                "\nhint: the file's hash chain does not verify; to copy it as it is, use --verbatim",
            );
            Fail::Message { code, message }
        }
        other => other,
    }
}

/// Where the export goes: a file (written beside it, renamed when
/// complete) or standard output.
enum Sink {
    File {
        tmp: PathBuf,
        dest: PathBuf,
        w: BufWriter<File>,
    },
    Stdout(Out),
}

impl Sink {
    fn open(file: Option<&Path>) -> Result<Self, Fail> {
        match file {
            None => Ok(Sink::Stdout(Out::new())),
            Some(p) if p == Path::new("-") => Ok(Sink::Stdout(Out::new())),
            Some(dest) => {
                let mut tmp = dest.as_os_str().to_owned();
                tmp.push(".partial");
                let tmp = PathBuf::from(tmp);
                let f = File::create(&tmp)
                    .map_err(|e| Fail::usage(format!("cannot create {}: {e}", tmp.display())))?;
                Ok(Sink::File {
                    tmp,
                    dest: dest.to_path_buf(),
                    w: BufWriter::new(f),
                })
            }
        }
    }

    fn line(&mut self, s: &str) -> Result<(), Fail> {
        match self {
            Sink::Stdout(out) => out.line(s)?,
            Sink::File { tmp, w, .. } => {
                writeln!(w, "{s}").map_err(|e| write_fail(tmp, &e))?;
            }
        }
        Ok(())
    }

    /// Flushes and, for a file, moves it into place.
    fn finish(self) -> Result<Option<PathBuf>, Fail> {
        match self {
            Sink::Stdout(mut out) => {
                out.flush()?;
                Ok(None)
            }
            Sink::File { tmp, dest, w } => {
                let f = w.into_inner().map_err(|e| write_fail(&tmp, e.error()))?;
                f.sync_all().map_err(|e| write_fail(&tmp, &e))?;
                std::fs::rename(&tmp, &dest).map_err(|e| {
                    Fail::server(format!(
                        "cannot rename {} to {}: {e}",
                        tmp.display(),
                        dest.display()
                    ))
                })?;
                Ok(Some(dest))
            }
        }
    }
}

fn write_fail(path: &Path, e: &std::io::Error) -> Fail {
    Fail::server(format!("cannot write {}: {e}", path.display()))
}

pub async fn export(ctx: &Ctx, args: ExportArgs) -> Result<(), Fail> {
    let options = ExportOptions {
        start_id: args.from,
        end_id: args.to,
        chunk_size: 0,
    };
    let mut chunks = Box::pin(ctx.long_client().export(options).await?);
    let mut sink = Sink::open(args.file.as_deref())?;
    let mut rows = 0u64;
    let mut last_id = None;
    while let Some(chunk) = chunks.try_next().await? {
        for row in &chunk {
            sink.line(&jsonl::format_row(row))?;
        }
        rows += chunk.len() as u64;
        last_id = chunk.last().map(|r| r.id).or(last_id);
    }
    if let Some(dest) = sink.finish()? {
        if ctx.json {
            let mut out = Out::new();
            out.json(
                &json!({"rows": rows, "last_id": last_id, "file": dest.display().to_string()}),
            )?;
            out.flush()?;
        } else {
            eprintln!("exported {rows} rows to {}", dest.display());
        }
    }
    Ok(())
}
