//! `pipeline ingest`: files and folders into the warehouse.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use pension::ingest::{self, FileStatus, IngestOptions, IngestReport};
use pension::status::thousands;

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

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    let mut wh = ctx.open_write()?;
    let opts = IngestOptions {
        kind: args.kind,
        skip_bad_files: args.skip_bad_files,
        progress: true,
        fail_at: None,
        command: ctx.command_line(),
        repeats_are_errors: false,
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

/// The per-file summary: read = new + changed + unchanged + quarantined, what
/// snapshots dropped, and the first reasons.
pub fn print_report(r: &IngestReport, skip_bad: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let mut total = Counts::default();
    for f in r.files.iter().filter(|f| is_read(f)) {
        total.add(f);
    }
    let grouped = r.files.len() > FILES_LISTED;
    if grouped {
        print_by_kind(r, out)?;
        writeln!(out, "\nfiles needing attention:")?;
    }
    writeln!(
        out,
        "{:<44} {:<20} {:>10} {:>9} {:>9} {:>10} {:>11}",
        "file", "kind", "read", "new", "changed", "unchanged", "quarantined"
    )?;
    for f in &r.files {
        let notable = f.quarantined > 0
            || f.changed > 0
            || f.gone > 0
            || !f.extra_columns.is_empty()
            || matches!(f.status, FileStatus::Refused(_));
        if grouped && !notable {
            continue;
        }
        print_file(f, out)?;
    }
    writeln!(
        out,
        "total: read {} = new {} + changed {} + unchanged {} + quarantined {}",
        thousands(total.read),
        thousands(total.new),
        thousands(total.changed),
        thousands(total.unchanged),
        thousands(total.quarantined)
    )?;
    if total.gone > 0 {
        writeln!(out, "snapshots no longer list {} record(s): no longer current, kept in history (pipeline history KIND KEY)", thousands(total.gone))?;
    }
    let refused = r.refused().count();
    if r.committed {
        if total.new + total.changed + total.gone + total.quarantined == 0 {
            writeln!(
                out,
                "nothing new: every row is already stored; recorded as {}",
                r.run_id
            )?;
        } else {
            writeln!(out, "committed as {}", r.run_id)?;
        }
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

fn is_read(f: &pension::ingest::FileReport) -> bool {
    matches!(f.status, FileStatus::Ingested { .. })
}

/// Row counts summed over files.
#[derive(Default)]
struct Counts {
    files: u64,
    read: u64,
    new: u64,
    changed: u64,
    unchanged: u64,
    quarantined: u64,
    flagged: u64,
    gone: u64,
    same_bytes: u64,
    refused: u64,
}

impl Counts {
    fn add(&mut self, f: &pension::ingest::FileReport) {
        self.files += 1;
        self.read += f.rows_read;
        self.new += f.new;
        self.changed += f.changed;
        self.unchanged += f.unchanged;
        self.quarantined += f.quarantined;
        self.flagged += f.flagged;
        self.gone += f.gone;
    }
}

fn print_file(f: &pension::ingest::FileReport, out: &mut dyn Write) -> std::io::Result<()> {
    let name = f.source.display().to_string();
    let kind = f.kind.clone().unwrap_or_else(|| "?".into());
    match &f.status {
        FileStatus::Ingested { .. } => {
            writeln!(
                out,
                "{name:<44} {kind:<20} {:>10} {:>9} {:>9} {:>10} {:>11}",
                thousands(f.rows_read),
                thousands(f.new),
                thousands(f.changed),
                thousands(f.unchanged),
                thousands(f.quarantined)
            )?;
            if !f.facts.is_empty() {
                writeln!(out, "    from the title block: {}", f.facts.join("; "))?;
            }
            if f.rows_read > 0 && f.unchanged == f.rows_read {
                writeln!(
                    out,
                    "    the same records as already stored (re-sent); nothing stored"
                )?;
            }
            if f.repeated > 0 {
                writeln!(out, "    {} line(s) repeat an earlier line of this file exactly: one record each, counted once", f.repeated)?;
            }
            if f.changed > 0 {
                writeln!(out, "    {} corrected record(s): the new version is current, the old one kept in history", f.changed)?;
            }
            if f.gone > 0 {
                writeln!(out, "    {} record(s) no longer in this snapshot: no longer current, kept in history", f.gone)?;
            }
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

/// One line per kind: files, rows read, new, changed, unchanged, quarantined,
/// flagged, gone, byte-identical files skipped, refused files.
fn print_by_kind(r: &IngestReport, out: &mut dyn Write) -> std::io::Result<()> {
    let mut kinds: BTreeMap<String, Counts> = BTreeMap::new();
    for f in &r.files {
        let k = kinds
            .entry(f.kind.clone().unwrap_or_else(|| "(not recognised)".into()))
            .or_default();
        match f.status {
            FileStatus::Ingested { .. } => k.add(f),
            FileStatus::Unchanged { .. } => k.same_bytes += 1,
            FileStatus::Refused(_) => k.refused += 1,
        }
    }
    writeln!(
        out,
        "{:<22} {:>5} {:>11} {:>11} {:>8} {:>10} {:>11} {:>7} {:>6} {:>9} {:>7}",
        "kind",
        "files",
        "read",
        "new",
        "changed",
        "unchanged",
        "quarantined",
        "flagged",
        "gone",
        "same file",
        "refused"
    )?;
    for (kind, k) in &kinds {
        writeln!(
            out,
            "{kind:<22} {:>5} {:>11} {:>11} {:>8} {:>10} {:>11} {:>7} {:>6} {:>9} {:>7}",
            k.files,
            thousands(k.read),
            thousands(k.new),
            thousands(k.changed),
            thousands(k.unchanged),
            thousands(k.quarantined),
            thousands(k.flagged),
            thousands(k.gone),
            k.same_bytes,
            k.refused
        )?;
    }
    Ok(())
}
