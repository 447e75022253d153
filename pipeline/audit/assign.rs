//! Assignment of findings to field workers (外勤核查): who is to verify a finding on
//! the spot. Append-only like the operator log — one CSV record per assignment in
//! `warehouse/finding_assignment.csv`, the latest line of a finding wins — so that
//! reassigning never rewrites the findings table. View: `finding_assignment` (every
//! line); the latest per finding is `finding_assignee`.

use std::path::Path;

use serde::Serialize;

use crate::oplog::{ASSIGNMENT_COLUMNS as COLUMNS, ASSIGNMENT_FILE};

/// The file in the warehouse (defined with the other append-only logs in
/// `crate::oplog`, which also defines the views).
pub const FILE: &str = ASSIGNMENT_FILE;

#[derive(Debug, Clone, Serialize)]
pub struct Assignment {
    /// Local time to the millisecond: the latest line of a finding wins.
    pub assigned_at: String,
    pub finding_id: String,
    pub assignee: String,
    pub assigned_by: String,
}

/// Appends the assignments of one action (synced before it returns).
pub fn append(
    warehouse: &Path,
    findings: &[String],
    assignee: &str,
    by: &str,
) -> std::io::Result<()> {
    let at = chrono::Local::now()
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string();
    let records: Vec<Assignment> = findings
        .iter()
        .map(|id| Assignment {
            assigned_at: at.clone(),
            finding_id: id.clone(),
            assignee: assignee.to_string(),
            assigned_by: by.to_string(),
        })
        .collect();
    crate::oplog::append_records(&warehouse.join(FILE), COLUMNS, &records)
}
