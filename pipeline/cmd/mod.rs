//! One module per subcommand.

pub mod account;
pub mod audit;
pub mod bench;
pub mod dashboard;
pub mod demo;
pub mod finding;
pub mod history;
pub mod ingest;
pub mod ledger;
pub mod notice;
pub mod report;
pub mod screen;
pub mod serve;
pub mod sql;
pub mod status;
pub mod synth;
pub mod user;

use anyhow::Context;
use pension::schema::Catalog;

pub fn catalog() -> anyhow::Result<Catalog> {
    Catalog::load_default().context("loading the input kinds (schemas/)")
}

/// The rule parameters of this run: `$PIPELINE_DEFINITIONS/parameters.toml` or the
/// built-in file.
pub fn parameters() -> anyhow::Result<pension::params::Parameters> {
    pension::params::Parameters::load().context("loading the rule parameters (parameters.toml)")
}

/// The ledger options for a through month, with the parameters in force then; a
/// `--divisor` given on the command line overrides the file's value.
pub fn stage_options(
    month: chrono::NaiveDate,
    divisor: Option<rust_decimal::Decimal>,
) -> anyhow::Result<pension::ledger::StageOptions> {
    let p = parameters()?;
    let mut opts = pension::ledger::StageOptions::new(month);
    opts.params = p.ledger(month)?;
    opts.rules = p.benefit_rules(month)?;
    if let Some(d) = divisor {
        anyhow::ensure!(
            d > rust_decimal::Decimal::ZERO,
            "--divisor must be positive, not {d}"
        );
        opts.params.divisor = d;
    }
    Ok(opts)
}
