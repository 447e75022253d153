//! Assignment of findings to field workers (外勤核查): who is to verify a finding on
//! the spot. Append-only like the operator log — one CSV record per assignment in
//! `warehouse/finding_assignment.csv`, the latest line of a finding wins — so that
//! reassigning never rewrites the findings table. View: `finding_assignment` (every
//! line); the latest per finding is `finding_assignee`.

use std::path::Path;

use serde::Serialize;

pub const FILE: &str = "finding_assignment.csv";
pub const COLUMNS: &str =
    "assigned_at VARCHAR, finding_id VARCHAR, assignee VARCHAR, assigned_by VARCHAR";

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

/// `finding_assignment` and `finding_assignee` (the latest assignee per finding).
pub fn view_sql(warehouse: &Path) -> String {
    format!(
        "{}
         CREATE VIEW finding_assignee AS SELECT finding_id, arg_max(assignee, assigned_at) AS assignee,
                max(assigned_at) AS assigned_at FROM finding_assignment GROUP BY finding_id;",
        crate::oplog::csv_view_sql("finding_assignment", &warehouse.join(FILE), COLUMNS)
    )
}
