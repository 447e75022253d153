//! `pipeline finding`: the status of one audit finding, and its history.

use std::process::ExitCode;

use anyhow::Context;
use pension::audit;

/// Set or show the status of an audit finding. A status is one of open, confirmed,
/// dismissed, recovered; every change is appended to the history (who = $USER, when,
/// the note and the evidence it was judged on) and is never overwritten. Statuses
/// survive later audit runs; a dismissed finding stays dismissed unless its
/// evidence changes. The audit itself closes (closed, 已消除) an open finding that a
/// later run no longer produces because its records were corrected, and reopens it
/// if it comes back; both are noted in the history. FINDING_ID may be a unique
/// prefix (6 characters or more).
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Set the status: pipeline finding set FINDING_ID STATUS [--note TEXT]
    Set {
        finding_id: String,
        /// open | confirmed | dismissed | recovered
        status: String,
        /// Why (kept in the history).
        #[arg(long)]
        note: Option<String>,
    },
    /// Show the finding, its evidence and its status history.
    Show { finding_id: String },
}

impl Args {
    /// The finding whose status this command sets (None: it only shows).
    pub fn finding_set(&self) -> Option<String> {
        match &self.action {
            Action::Set { finding_id, .. } => Some(finding_id.clone()),
            Action::Show { .. } => None,
        }
    }
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    match args.action {
        Action::Set {
            finding_id,
            status,
            note,
        } => {
            let mut wh = ctx.open_write()?;
            let who = pension::oplog::current_user();
            let command = ctx.command_line();
            let o = audit::set_status(
                &mut wh,
                &catalog,
                &finding_id,
                &status,
                note.as_deref(),
                &who,
                &command,
            )
            .with_context(|| format!("setting finding {finding_id} to {status}"))?;
            println!(
                "finding {} ({}{}): {} → {} by {who} (history entry {})",
                o.finding_id,
                o.check_code,
                o.person_no
                    .map(|p| format!(", person {p}"))
                    .unwrap_or_default(),
                o.previous,
                o.status,
                o.seq
            );
        }
        Action::Show { finding_id } => {
            let wh = ctx.open_read()?;
            for line in audit::show(&wh, &catalog, &finding_id)
                .with_context(|| format!("finding {finding_id}"))?
            {
                println!("{line}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
