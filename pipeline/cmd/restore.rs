//! `pipeline restore`: a backup back into a warehouse folder.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pension::warehouse::backup;

/// Restore a backup into a new warehouse folder (数据恢复).
///
/// The folder given by --warehouse must not exist or be empty: a restore never
/// overwrites a warehouse. Every file is checked against the backup's SHA-256 list
/// before the folder appears; a damaged or incomplete backup is refused and leaves
/// nothing behind. With --check, the backup is only checked.
///
/// Example: pipeline restore /mnt/backup/warehouse-2026-12-06.tar --warehouse warehouse-restored
#[derive(clap::Args)]
pub struct Args {
    /// The backup file (written by `pipeline backup`).
    #[arg(value_name = "FILE")]
    pub archive: PathBuf,
    /// Only check the backup (every checksum, the manifest's files); restore nothing.
    #[arg(long)]
    pub check: bool,
}

impl Args {
    /// Whether the command writes a warehouse (for the operator log).
    pub fn restored(&self) -> Option<String> {
        (!self.check).then(|| self.archive.display().to_string())
    }
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let archive = &args.archive;
    if args.check {
        let s = backup::verify(archive)
            .with_context(|| format!("checking the backup {}", archive.display()))?;
        println!(
            "Backup {} is complete: {} files, {} bytes, {} committed runs, every checksum matches",
            archive.display(),
            s.files,
            s.bytes,
            s.runs
        );
        return Ok(ExitCode::SUCCESS);
    }
    let target = ctx.warehouse_dir();
    let s = backup::restore(archive, target)
        .with_context(|| format!("restoring {} into {}", archive.display(), target.display()))?;
    println!(
        "Restored {} into {}: {} files, {} bytes, {} committed runs, every checksum matches",
        archive.display(),
        target.display(),
        s.files,
        s.bytes,
        s.runs
    );
    Ok(ExitCode::SUCCESS)
}
