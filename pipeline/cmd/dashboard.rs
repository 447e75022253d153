//! `pipeline dashboard`: the leadership dashboard page.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pension::domain::Month;
use pension::reports;

/// Write the leadership dashboard (领导驾驶舱) for --month: one self-contained HTML
/// file (inline CSS and SVG charts, no script, no network) with the key figures,
/// the charts and a township table. It is built from the aggregate report tables
/// only and carries no ID numbers, names or bank accounts. Open it with a
/// double-click; it reads on a laptop and on a projector.
#[derive(clap::Args)]
pub struct Args {
    /// The report month, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM")]
    month: Month,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE.html")]
    out: PathBuf,
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let run = super::report::compute(ctx, args.month, false, false)?;
    reports::dashboard::write(&run, &args.out)
        .with_context(|| format!("writing the dashboard {}", args.out.display()))?;
    println!(
        "dashboard {}: {}",
        run.month.format("%Y-%m"),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
