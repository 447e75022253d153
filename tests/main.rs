//! One integration-test binary (each test binary links DuckDB and polars again).

mod common;
// The synthetic county generator (`synth/`): compiled into the binary and into this
// test binary, not into the product library; each uses only part of it.
#[allow(dead_code)]
#[path = "../synth/mod.rs"]
mod synth;

mod atomic;
mod audit_closed;
mod audit_county;
mod audit_death;
mod audit_dup;
mod audit_fixtures;
mod audit_status;
mod backup;
mod bad_files;
mod bank_county;
mod bank_reconcile;
mod bank_statements;
mod books_agree;
mod calendar;
mod cli;
mod forms;
mod kinds;
mod ledger_golden;
mod ledger_props;
mod ledger_stage;
mod monthly_cycle;
mod params;
mod portable;
mod province;
mod reports;
mod synth_county;
mod values;
mod web;
