//! One module per subcommand.

pub mod account;
pub mod audit;
pub mod backup;
pub mod bench;
pub mod dashboard;
pub mod demo;
pub mod export;
pub mod finding;
pub mod history;
pub mod ingest;
pub mod ledger;
pub mod notice;
pub mod plan;
pub mod province;
pub mod reconcile;
pub mod report;
pub mod restore;
pub mod screen;
pub mod serve;
pub mod sql;
pub mod status;
pub mod synth;
pub mod user;

use std::path::{Path, PathBuf};

use anyhow::Context;
use duckdb::Connection;
use pension::schema::Catalog;
use pension::warehouse::{connect, Warehouse};

/// What every command starts from (the one place inputs open, as xsv's `config.rs`):
/// the warehouse of `--warehouse`, opened for reading or for writing with the error
/// context said once, the input kinds, and the command line the operator log keeps.
pub struct Ctx {
    warehouse: PathBuf,
}

impl Ctx {
    pub fn new(warehouse: PathBuf) -> Ctx {
        Ctx { warehouse }
    }

    /// The warehouse folder, as given.
    pub fn warehouse_dir(&self) -> &Path {
        &self.warehouse
    }

    /// The warehouse for a command that only reads (no lock taken; several may run).
    pub fn open_read(&self) -> anyhow::Result<Warehouse> {
        Warehouse::open_read(&self.warehouse)
            .with_context(|| format!("opening the warehouse {}", self.warehouse.display()))
    }

    /// The warehouse for a command that writes (takes the warehouse's lock).
    pub fn open_write(&self) -> anyhow::Result<Warehouse> {
        Warehouse::open(&self.warehouse)
            .with_context(|| format!("opening the warehouse {}", self.warehouse.display()))
    }

    /// The warehouse opened for reading, with a DuckDB session over its views.
    pub fn query(&self, catalog: &Catalog) -> anyhow::Result<(Warehouse, Connection)> {
        let wh = self.open_read()?;
        let conn = connect(&wh, catalog)?;
        Ok((wh, conn))
    }

    /// The input kinds (built in, or from the definitions folder).
    pub fn catalog(&self) -> anyhow::Result<Catalog> {
        catalog()
    }

    /// The rule parameters of this run (see `parameters`).
    pub fn parameters(&self) -> anyhow::Result<pension::params::Parameters> {
        parameters()
    }

    /// The command line as typed, for the operator log of a run that writes.
    pub fn command_line(&self) -> String {
        std::env::args().collect::<Vec<_>>().join(" ")
    }
}

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
    month: pension::domain::Month,
    divisor: Option<rust_decimal::Decimal>,
) -> anyhow::Result<pension::ledger::StageOptions> {
    let month = month.first_day();
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
