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
pub mod sql;
pub mod status;
pub mod synth;

use anyhow::Context;
use pension::schema::Catalog;

pub fn catalog() -> anyhow::Result<Catalog> {
    Catalog::load_default().context("loading the input kinds (schemas/)")
}
