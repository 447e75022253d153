//! `pipeline ingest`: files and folders into the warehouse.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use pension::ingest::{self, FileStatus, IngestOptions, IngestReport};
use pension::status::thousands;
use pension::warehouse::Warehouse;

/// Read CSV/TXT (UTF-8 or GB18030, detected) and XLSX files or whole folders into the warehouse.
///
/// Folders are read recursively; every row is validated. Each file's
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

/// Above this many files the summary groups by kind; files with quarantined rows,
/// refusals or extra columns are still listed one by one.
const FILES_LISTED: usize = 15;

/// The per-file summary: read = accepted + quarantined, and the first reasons.
pub fn print_report(r: &IngestReport, skip_bad: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let (mut read, mut acc, mut quar) = (0, 0, 0);
    for f in r
        .files
        .iter()
        .filter(|f| matches!(f.status, FileStatus::Ingested { .. }))
    {
        read += f.rows_read;
        acc += f.accepted;
        quar += f.quarantined;
    }
    let grouped = r.files.len() > FILES_LISTED;
    if grouped {
        print_by_kind(r, out)?;
        writeln!(out, "\nfiles needing attention:")?;
    }
    writeln!(
        out,
        "{:<44} {:<20} {:>10} {:>10} {:>11}",
        "file", "kind", "read", "accepted", "quarantined"
    )?;
    for f in &r.files {
        let notable = f.quarantined > 0
            || !f.extra_columns.is_empty()
            || !matches!(f.status, FileStatus::Ingested { .. });
        if grouped && !notable {
            continue;
        }
        print_file(f, out)?;
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

fn print_file(f: &pension::ingest::FileReport, out: &mut dyn Write) -> std::io::Result<()> {
    let name = f.source.display().to_string();
    let kind = f.kind.clone().unwrap_or_else(|| "?".into());
    match &f.status {
        FileStatus::Ingested { .. } => {
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
                writeln!(
                    out,
                    "    extra column(s) kept aside: {}",
                    f.extra_columns.join(", ")
                )?;
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
        FileStatus::Refused(reason) => writeln!(out, "{name:<44} REFUSED: {reason}")?,
    }
    Ok(())
}

/// One line per kind: files, rows read, accepted, quarantined, flagged.
fn print_by_kind(r: &IngestReport, out: &mut dyn Write) -> std::io::Result<()> {
    let mut kinds: BTreeMap<String, [u64; 7]> = BTreeMap::new();
    for f in &r.files {
        let k = kinds
            .entry(f.kind.clone().unwrap_or_else(|| "(not recognised)".into()))
            .or_default();
        match f.status {
            FileStatus::Ingested { .. } => {
                k[0] += 1;
                k[1] += f.rows_read;
                k[2] += f.accepted;
                k[3] += f.quarantined;
                k[4] += f.flagged;
            }
            FileStatus::Unchanged { .. } => k[5] += 1,
            FileStatus::Refused(_) => k[6] += 1,
        }
    }
    writeln!(
        out,
        "{:<24} {:>6} {:>12} {:>12} {:>11} {:>8} {:>10} {:>8}",
        "kind", "files", "read", "accepted", "quarantined", "flagged", "unchanged", "refused"
    )?;
    for (kind, k) in &kinds {
        writeln!(
            out,
            "{kind:<24} {:>6} {:>12} {:>12} {:>11} {:>8} {:>10} {:>8}",
            k[0],
            thousands(k[1]),
            thousands(k[2]),
            thousands(k[3]),
            thousands(k[4]),
            k[5],
            k[6]
        )?;
    }
    Ok(())
}
