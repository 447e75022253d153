//! The individual-account ledger (个人账户): the pure engine and the stage that
//! replays every person from the warehouse.
//!
//! - [`engine`]: one person's events → balances, postings, approvals, refunds.
//! - [`input`]: the warehouse's rows → engine events (one query, by person).
//! - [`checks`]: the benefit rules beside the ledger (start month, approval,
//!   expected payout, refund).
//! - [`stage`]: every person in parallel → the derived tables, one commit.
//! - [`statement`]: the person's statement (附表十) and the pension-age notice (附表十一).

pub(crate) mod checks;
pub mod engine;
pub(crate) mod input;
pub(crate) mod stage;
pub mod statement;

use std::path::{Path, PathBuf};

pub use stage::{run, StageOptions, StageReport, TABLES};

/// Why the ledger stage (or a statement) could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("{0}")]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    #[error("query engine (DuckDB): {0}")]
    Sql(#[from] duckdb::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing {path}: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("building the output columns: {0}")]
    Polars(String),
    #[error("ledger input: {0}")]
    Input(String),
    #[error(
        "no interest rate (记账利率) for year(s) {}, including the through year, which every account needs: ingest the interest_rate table covering them",
        .0.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(", ")
    )]
    MissingRates(Vec<i32>),
    #[error("writing the workbook: {0}")]
    Xlsx(String),
}

impl StageError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> StageError {
        StageError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn parquet(path: &Path, e: impl std::fmt::Display) -> StageError {
        StageError::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}
