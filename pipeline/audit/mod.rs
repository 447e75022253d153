//! The audit stage (稽核): every check of docs/rules.md § Audit checks, run over the
//! whole warehouse as of a month, written as the derived table `findings`; finding
//! statuses with their history; exports for field verification; and screening of
//! next month's payout file before it goes to the bank.
//!
//! Each check is a definition: its query `checks/<CODE>.sql`, over shared tables built
//! by `prelude.sql`, and its metadata `checks/<CODE>.toml` (title, severity, book
//! level, screening, needs; read into the catalogue by [`catalogue`], so a definitions
//! folder can replace or add one); DUP_PERSON (fuzzy matching without a shared key)
//! is Rust, in [`dup`], with only its TOML.
//!
//! Derived tables written (through the warehouse's atomic commit):
//! - `findings`: finding_id, check_code, severity, person_no, id_number, name,
//!   township, village, month_from, month_to, amount_at_risk DECIMAL(18,2), evidence,
//!   status, first_seen, last_seen (audit months), subject, evidence_hash,
//!   in_latest_audit. Rewritten by each `pipeline audit`: this run's findings, plus
//!   every earlier finding it no longer produces (`in_latest_audit = false`; an open
//!   one becomes `closed`, 已消除 — see [`store`]); never a row deleted. `pipeline
//!   finding set` rewrites it with the new status.
//! - `finding_history`: seq, finding_id, check_code, subject, status, previous_status,
//!   note, who, changed_at, evidence_hash, source (user | audit). Only appended to.
//!
//! Death, for every check, screening and the ledger, is one definition: `death.sql`
//! (docs/rules.md § Death).
//!
//! Interpretations (the rules leave them open; docs/rules.md § Audit checks states them;
//! the synthetic county's answer key reads them the same way):
//! - registry facts reach an enrollment through its ID number's 18-digit form only;
//!   a malformed ID links to nothing (and is also ID_UNKNOWN);
//! - for a month paid more than once the earliest payment (by paid date) is the
//!   payment and the others are DUP_PAYMENT; the other payment checks judge the
//!   earliest only, each independently (one payment may be PAID_AFTER_DEATH and
//!   UNCERTIFIED_PAID);
//! - a prison term covers the months from admission to release, inclusive; an
//!   employee-pension spell every month it touches (one marked ended without an end
//!   date is listed for review, with no amount); "second year of benefits" is the
//!   calendar year after the start month's; a payment is certified when that year's
//!   passed certification is dated on or before the payment;
//! - person columns come from the newest enrollment row, with village, bank account,
//!   phone and address as last changed by a change record.

pub mod assign;
pub mod catalogue;
pub mod dup;
pub mod engine;
pub mod export;
pub mod names;
pub mod screen;
pub mod store;

use std::path::PathBuf;

/// Both sides of the books-agree comparison (views `fund_detail_flow` and
/// `fund_ledger_flow`), shared with the monthly report so the two cannot drift apart:
/// the definition file `checks/fund_flows.sql` (source: pipeline/audit/fund_flows.sql).
pub fn fund_flows_sql() -> Result<String, crate::defs::DefsError> {
    crate::defs::text("checks/fund_flows.sql")
}

/// A person's death (table `a_death`: person_no, death_date, death_evidence), from
/// the register, every death_record source and cancellations for death; needs the
/// macro `as_of_end()`. The one definition the checks, screening and the ledger use.
/// (Read by `defs`, so that the ledger, earlier in the flow, need not import the audit.)
pub use crate::defs::death_sql;

pub use catalogue::{Check, CHECKS};
pub use engine::{AuditParams, Timing};
pub use store::{run_audit, set_status, show, AuditOptions, AuditReport, SetOutcome, STATUSES};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    #[error("check {check}: {source}")]
    Check {
        check: String,
        source: duckdb::Error,
    },
    #[error("query engine (DuckDB): {0}")]
    Sql(#[from] duckdb::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the workbook {path}: {message}")]
    Xlsx { path: PathBuf, message: String },
    #[error(transparent)]
    Ingest(#[from] crate::ingest::IngestError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Definitions(#[from] crate::defs::DefsError),
    #[error("the bank reconciliation: {0}")]
    Reconcile(#[from] crate::reconcile::ReconcileError),
    #[error(transparent)]
    Params(#[from] crate::params::ParamsError),
}

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) use crate::warehouse::relation_exists;
