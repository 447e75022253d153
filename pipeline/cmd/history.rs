//! `pipeline history`: every version of one record.

use std::process::ExitCode;

use anyhow::Context;
use pension::ingest::identity::key_from_user;
use pension::query::{self, Format};
use pension::warehouse::history_sql;

/// Show every version of one record: the current one, the ones corrected since
/// (系统保留处理前的记录) and, for snapshots, whether a later export no longer lists it.
///
/// A record is named by its kind and natural key (see `[identity]` in the kind's
/// schema file): `pipeline history payout FF2026100001`, `pipeline history
/// benefit_approval P0001 2024-03`, `pipeline history enrollment P0001`. Each
/// version shows its values, the file and line it came from, and, when it is no
/// longer current, why (replaced / gone) and by which run and file.
#[derive(clap::Args)]
pub struct Args {
    /// Output: an aligned table, CSV with a header, or JSON.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// The kind (payout, contribution, enrollment, …).
    kind: String,
    /// The key's values in the order of the kind's `[identity] key` (or joined by `|`).
    #[arg(required = true)]
    key: Vec<String>,
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    let schema = catalog.get(&args.kind)?;
    let key = key_from_user(schema, &args.key).map_err(anyhow::Error::msg)?;
    let (_wh, conn) = ctx.query(&catalog)?;
    let (arrow_schema, batches) =
        query::query(&conn, &history_sql(schema, &key)).context("reading the record's versions")?;
    if batches.iter().all(|b| b.num_rows() == 0) {
        eprintln!(
            "no {} record with key {key} (key columns: {}); check the value, or list keys with: pipeline sql \"SELECT DISTINCT _key FROM {}_all LIMIT 20\"",
            schema.kind,
            schema.identity.key.join(", "),
            schema.kind
        );
        return Ok(ExitCode::from(3));
    }
    let mut out = std::io::stdout().lock();
    query::write(arrow_schema, &batches, args.format, &mut out)?;
    Ok(ExitCode::SUCCESS)
}
