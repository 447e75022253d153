//! `pipeline account` (issue 3, in progress).

use std::path::Path;
use std::process::ExitCode;

/// Not built yet.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_wh_dir: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`account` is not built yet (issue 3)")
}
