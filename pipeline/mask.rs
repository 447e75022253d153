//! Masking of ID numbers and bank accounts in what people read (lists for action in
//! the report package, finding evidence in the audit export). The rules are SQL
//! macros in `mask.sql` — one definition for every caller, documented there; the
//! report package wraps them so that `--unmasked` shows numbers whole.

use duckdb::Connection;

/// `masked_id(s)` and `masked_text(s)`.
pub const MACROS: &str = include_str!("mask.sql");

/// Defines the masking macros on a connection.
pub fn install(conn: &Connection) -> duckdb::Result<()> {
    conn.execute_batch(MACROS)
}
