//! `pipeline backup`: the whole warehouse in one checksummed file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pension::warehouse::backup;

/// Back the warehouse up into one file (数据备份).
///
/// The file is a plain tar archive of every file of the warehouse (Parquet tables,
/// manifest, quarantine, derived tables, operator log, finding assignments, user
/// accounts — not the login sessions), with a SHA-256 checksum list written last.
/// While it runs no other command can commit a write (they wait or are told the
/// warehouse is busy); reports, `sql` and the workbench go on reading. The file
/// appears only when complete. Restore it with `pipeline restore FILE --warehouse
/// NEW_FOLDER`; check a copy with `pipeline restore --check FILE`.
///
/// Example: pipeline --warehouse warehouse backup --out /mnt/backup/warehouse-2026-12-06.tar
#[derive(clap::Args)]
pub struct Args {
    /// The backup file to write (an existing file of that name is replaced only
    /// once the new backup is complete).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

impl Args {
    /// The operator log's subject: the file written (a backup is an export of every
    /// person's data).
    pub fn subject(&self) -> String {
        self.out.display().to_string()
    }
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let dir = ctx.warehouse_dir();
    let summary = backup::backup(dir, &args.out).with_context(|| {
        format!(
            "backing up the warehouse {} to {}",
            dir.display(),
            args.out.display()
        )
    })?;
    println!(
        "Backup {}: {} files, {} bytes, {} committed runs, checksums in {}",
        args.out.display(),
        summary.files,
        summary.bytes,
        summary.runs,
        backup::SUMS
    );
    Ok(ExitCode::SUCCESS)
}
