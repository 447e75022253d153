//! The county residents' pension warehouse and reconciliation pipeline.
//!
//! Data flows one way through the stages:
//! `ingest` (files → validated Parquet) → `warehouse` (manifest + DuckDB views)
//! → `ledger`, `reconcile` (books against bank statements) and `audit`, which read the warehouse and write derived tables back
//! through the same atomic commit → `reports`, which only read (the tables, charts
//! and dashboard go to files outside the warehouse).
//!
//! `schema` holds the input kinds as data and `params` the rule parameters
//! (`parameters.toml`); `defs` is where every definition file (input kinds,
//! reports, audit checks, parameters) is read from: built into the binary, or a
//! definitions folder laid over them. The synthetic county that the tests, the demo
//! and the benchmarks run on is not part of this library: `synth/` beside
//! `pipeline/`, compiled into the binary and the tests only.

pub mod audit;
pub mod defs;
pub mod domain;
pub mod idnum;
pub mod ingest;
pub mod ledger;
pub mod mask;
pub mod oplog;
pub mod params;
pub mod query;
pub mod reconcile;
pub mod reports;
pub mod schema;
pub mod serve;
pub mod status;
pub mod warehouse;
