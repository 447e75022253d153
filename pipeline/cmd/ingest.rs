//! `pipeline ingest`: files and folders into the warehouse.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use pension::ingest::{self, FileStatus, IngestOptions, IngestReport};
use pension::status::thousands;
use pension::warehouse::Warehouse;

/// Read CSV/TXT (UTF-8 or GB18030, detected) and XLSX files — or whole folders,
/// recursively — validate every row, and store them in the warehouse. Each file's
/// kind is recognised from its header unless --kind is given. Rows that break a
/// rule go to the quarantine table with the file, line and reasons. The whole
/// command is one transaction: if any file is refused (unreadable, no known
/// header), nothing is stored unless --skip-bad-files is given.
#[derive(clap::Args)]
pub struct Args {
    /// Treat every file as this kind (e.g. payout) instead of recognising it.
    #[arg(long)]
    kind: Option<String>,
    /// Store the readable files even when some files are refused.
    #[arg(long)]
    skip_bad_files: bool,
    /// Files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

pub fn run(wh_dir: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = super::catalog()?;
    let mut wh = Warehouse::open(wh_dir)
        .with_context(|| format!("opening the warehouse {}", wh_dir.display()))?;
    let opts = IngestOptions {
        kind: args.kind,
        skip_bad_files: args.skip_bad_files,
        progress: true,
        fail_at: None,
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let report = ingest::ingest(&mut wh, &catalog, &args.paths, &opts)?;
    let mut out = std::io::stdout().lock();
    print_report(&report, opts.skip_bad_files, &mut out)?;
    Ok(if report.refused().next().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The per-file summary: read = accepted + quarantined, and the first reasons.
pub fn print_report(r: &IngestReport, skip_bad: bool, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{:<44} {:<20} {:>10} {:>10} {:>11}", "file", "kind", "read", "accepted", "quarantined")?;
    let (mut read, mut acc, mut quar) = (0, 0, 0);
    for f in &r.files {
        let name = f.source.display().to_string();
        let kind = f.kind.clone().unwrap_or_else(|| "?".into());
        match &f.status {
            FileStatus::Ingested { .. } => {
                read += f.rows_read;
                acc += f.accepted;
                quar += f.quarantined;
                writeln!(
                    out,
                    "{name:<44} {kind:<20} {:>10} {:>10} {:>11}",
                    thousands(f.rows_read),
                    thousands(f.accepted),
                    thousands(f.quarantined)
                )?;
                if f.flagged > 0 {
                    writeln!(out, "    {} accepted row(s) flagged: malformed ID number (ID_INVALID, kept for the audit)", f.flagged)?;
                }
                if !f.extra_columns.is_empty() {
                    writeln!(out, "    extra column(s) kept aside: {}", f.extra_columns.join(", "))?;
                }
                for reason in &f.first_reasons {
                    writeln!(out, "    {reason}")?;
                }
                if f.quarantined as usize > f.first_reasons.len() {
                    writeln!(out, "    … see all with: pipeline sql \"SELECT line, reasons FROM quarantine WHERE file = '{name}'\"")?;
                }
            }
            FileStatus::Unchanged { seq, ingested_at } => {
                writeln!(out, "{name:<44} {kind:<20} unchanged: identical to file #{seq} ingested {ingested_at}; skipped")?;
            }
            FileStatus::Refused(reason) => {
                writeln!(out, "{name:<44} REFUSED: {reason}")?;
            }
        }
    }
    writeln!(
        out,
        "total: read {} = accepted {} + quarantined {}",
        thousands(read),
        thousands(acc),
        thousands(quar)
    )?;
    let refused = r.refused().count();
    if r.committed {
        writeln!(out, "committed as {}", r.run_id)?;
        if refused > 0 {
            writeln!(out, "{refused} file(s) refused and not stored (--skip-bad-files); fix them and ingest them again")?;
        }
    } else if refused > 0 && !skip_bad {
        writeln!(out, "nothing stored: {refused} file(s) refused; fix them, or add --skip-bad-files to store the others")?;
    } else {
        writeln!(out, "nothing new to store")?;
    }
    Ok(())
}
