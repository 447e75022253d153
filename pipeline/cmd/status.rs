//! `pipeline status`: what the warehouse holds.

use std::process::ExitCode;

/// Show what the warehouse holds.
///
/// Tables (rows and date ranges), files ingested (kind, SHA-256, rows, when),
/// refused files and quarantined rows by reason; then the rule parameters in force
/// today; first, where the definitions come from (built in, or which files a
/// --definitions folder replaces or adds).
#[derive(clap::Args)]
pub struct Args {}

pub fn run(ctx: &super::Ctx, _args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    let params = ctx.parameters()?;
    let (wh, conn) = ctx.query(&catalog)?;
    let mut out = std::io::stdout().lock();
    pension::defs::active().describe(&mut out)?;
    pension::status::print(&wh, &catalog, &conn, true, &mut out)?;
    let today = chrono::Local::now().date_naive();
    pension::status::print_parameters(&params, today, &mut out)?;
    Ok(ExitCode::SUCCESS)
}
