//! One integration-test binary (each test binary links DuckDB and polars again).

mod common;

mod atomic;
mod bad_files;
mod cli;
mod kinds;
mod ledger_golden;
mod ledger_props;
mod synth_county;
mod values;
