//! `pipeline sql`: any DuckDB SQL over the warehouse.

use std::process::ExitCode;

use anyhow::Context;
use pension::query::{self, Format};

/// Run DuckDB SQL over the warehouse.
///
/// Every input kind is a view by its kind name holding its current records
/// (enrollment, payout, id_registry, …); `<kind>_all` holds every version stored
/// and `<kind>_history` the versions since corrected or dropped (see `pipeline
/// history`); plus `quarantine` and `ingest_file`.
///
/// Example: pipeline sql --format csv "SELECT month, sum(total_amount) FROM payout GROUP BY 1 ORDER BY 1"
#[derive(clap::Args)]
pub struct Args {
    /// Output: an aligned table, CSV with a header (for scripts and Excel), or JSON.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// The SQL query.
    query: String,
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    let (_wh, conn) = ctx.query(&catalog)?;
    let (schema, batches) = query::query(&conn, &args.query)
        .context("running the query (list the tables with `pipeline status`)")?;
    let mut out = std::io::stdout().lock();
    query::write(schema, &batches, args.format, &mut out)?;
    Ok(ExitCode::SUCCESS)
}
