//! `pipeline serve`: the workbench in the browser (pipeline/serve/).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use pension::serve::{self, auth};

/// The centre's workbench: sign in, triage findings, look a person up, the
/// leadership dashboard, the operator log — in a browser, over this warehouse.
///
/// Accounts come from `pipeline user add`. It listens on 127.0.0.1 only unless told
/// otherwise: to reach it from other PCs, put a reverse proxy with TLS in front of
/// it (README: "The workbench"), never bind it to the open network.
#[derive(clap::Args)]
pub struct Args {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Sign a session out after this long without a request: 30m, 2h, 90s.
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// Hidden: read the accounts from this file instead of WAREHOUSE/users.json
    /// (`pipeline bench --stage serve` signs in with a throw-away account this way,
    /// so no password of its own is ever left in the warehouse).
    #[arg(long, hide = true, value_name = "FILE")]
    accounts: Option<PathBuf>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30m, 2h or 90s"))?;
    let secs = match unit {
        "s" => n,
        "m" | "" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("`{s}`: the unit is s, m or h")),
    };
    if secs == 0 {
        return Err("the idle timeout must be more than zero".into());
    }
    Ok(Duration::from_secs(secs))
}

pub fn run(wh_dir: &Path, args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        wh_dir.join("manifest.json").exists(),
        "{} is not a warehouse (no manifest.json); ingest files first or pass --warehouse",
        wh_dir.display()
    );
    let accounts = args
        .accounts
        .clone()
        .unwrap_or_else(|| auth::users_file(wh_dir));
    let users = auth::load_users_from(&accounts)?;
    if users.is_empty() {
        eprintln!(
            "note: no accounts yet; add one with: pipeline --warehouse {} user add NAME --role admin",
            wh_dir.display()
        );
    }
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "warning: listening on {}, not only this computer; the workbench speaks plain HTTP — \
             put a reverse proxy with TLS in front of it (README: The workbench)",
            args.listen
        );
    }
    let app = serve::App::new(wh_dir, super::catalog()?, args.idle_timeout, accounts)?;
    serve::run(
        app,
        &serve::Options {
            listen: args.listen,
            idle: args.idle_timeout,
        },
    )
    .with_context(|| format!("serving on {}", args.listen))?;
    Ok(ExitCode::SUCCESS)
}
