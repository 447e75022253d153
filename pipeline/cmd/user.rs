//! `pipeline user`: the workbench's accounts (pipeline/serve/auth.rs).

use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use pension::serve::auth;

/// Accounts of the workbench (`pipeline serve`): add one, or list them.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Add an account (or replace the password and role of an existing one). The
    /// password is asked for twice, or read from the first line of standard input
    /// with --password-stdin (for scripts).
    Add {
        name: String,
        /// leader (aggregates only) | statistician (report package, lists masked) |
        /// auditor (findings and personal data) | admin (accounts, operator log)
        #[arg(long)]
        role: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts and their roles.
    List,
}

impl Args {
    /// The account this command writes (None: it only reads).
    pub fn written(&self) -> Option<String> {
        match &self.action {
            Action::Add { name, .. } => Some(name.clone()),
            Action::List => None,
        }
    }
}

/// Reads a line from the terminal without showing it.
fn prompt(text: &str) -> anyhow::Result<String> {
    eprint!("{text}");
    // SAFETY: termios calls on standard input with a zeroed struct that tcgetattr fills.
    let saved = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut t) == 0 {
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &t);
            Some(saved)
        } else {
            None
        }
    };
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if let Some(t) = saved {
        // SAFETY: restores the settings read above.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
    }
    eprintln!();
    read.context("reading the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub fn run(wh_dir: &Path, args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Add {
            name,
            role,
            password_stdin,
        } => {
            let role = auth::Role::parse(&role)?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the password from standard input")?;
                line.trim_end_matches(['\r', '\n']).to_string()
            } else {
                let a = prompt(&format!("password for {name}: "))?;
                let b = prompt("again: ")?;
                anyhow::ensure!(a == b, "the two passwords differ; nothing was saved");
                a
            };
            let by = pension::oplog::current_user();
            let existed = auth::add_user(wh_dir, &name, role, &password, &by)
                .with_context(|| format!("adding the account {name}"))?;
            println!(
                "account {name} ({} {}) {} in {}",
                role.name(),
                role.zh(),
                if existed { "updated" } else { "added" },
                wh_dir.join(auth::USERS_FILE).display()
            );
        }
        Action::List => {
            for u in auth::load_users(wh_dir)? {
                println!(
                    "{}\t{} {}\tadded {} by {}",
                    u.name,
                    u.role.name(),
                    u.role.zh(),
                    u.created_at,
                    u.created_by
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
