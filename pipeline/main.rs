//! `pipeline`: the command-line face of the pension warehouse. Each subcommand lives
//! in its own file under `cmd/`, with its usage text.

mod cmd;
// The synthetic county (`synth/`, beside `pipeline/`): not part of the product
// library, compiled into this binary (demo, bench, synth) and into the tests
// (tests/main.rs), each of which uses only part of it.
#[allow(dead_code)]
#[path = "../synth/mod.rs"]
mod synth;

/// mimalloc instead of the system allocator: ingest and the ledger allocate small
/// values per row on every core (see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "pipeline",
    version,
    about = "County residents' pension warehouse: ingest, check and report (城乡居民养老保险数据仓库)",
    long_about = None
)]
struct Cli {
    /// The warehouse folder (Parquet files and their manifest).
    #[arg(
        long,
        global = true,
        env = "PIPELINE_WAREHOUSE",
        default_value = "warehouse"
    )]
    warehouse: PathBuf,
    /// A definitions folder laid over the built-in definitions: its schemas/*.toml,
    /// reports/**.sql|toml, checks/<CODE>.sql|toml and parameters.toml replace the
    /// built-in files of the same name, and new files in schemas/, reports/ or checks/
    /// add a kind, a report or an audit check (`status` lists them).
    #[arg(long, global = true, env = "PIPELINE_DEFINITIONS", value_name = "DIR")]
    definitions: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Ingest(cmd::ingest::Args),
    Status(cmd::status::Args),
    Sql(cmd::sql::Args),
    History(cmd::history::Args),
    Ledger(cmd::ledger::Args),
    Account(cmd::account::Args),
    Notice(cmd::notice::Args),
    Reconcile(cmd::reconcile::Args),
    Audit(cmd::audit::Args),
    Finding(cmd::finding::Args),
    Screen(cmd::screen::Args),
    Report(cmd::report::Args),
    Plan(cmd::plan::Args),
    Province(cmd::province::Args),
    Dashboard(cmd::dashboard::Args),
    Backup(cmd::backup::Args),
    Export(cmd::export::Args),
    Restore(cmd::restore::Args),
    Serve(cmd::serve::Args),
    User(cmd::user::Args),
    Synth(cmd::synth::Args),
    Demo(cmd::demo::Args),
    Bench(cmd::bench::Args),
    #[command(hide = true)]
    BenchReference(cmd::bench::ReferenceArgs),
}

/// Variables that named definition folders before `--definitions`; they are no
/// longer read, and saying so beats silently using the built-in files.
const RETIRED_VARIABLES: &[(&str, &str)] = &[
    ("PIPELINE_SCHEMAS", "schemas"),
    ("PIPELINE_REPORTS", "reports"),
    ("PIPELINE_AUDIT_SQL_DIR", "checks"),
];

/// Chooses the definitions for this run; the folder is also handed to the commands
/// this one starts (demo, bench) through the environment.
fn select_definitions(folder: Option<PathBuf>) -> anyhow::Result<()> {
    for (var, sub) in RETIRED_VARIABLES {
        if std::env::var_os(var).is_some() {
            eprintln!(
                "warning: ${var} is no longer read; put those files in DIR/{sub}/ and pass \
                 --definitions DIR (or set PIPELINE_DEFINITIONS)"
            );
        }
    }
    if let Some(dir) = folder {
        let source = pension::defs::DefSource::with_folder(&dir)
            .map_err(|e| anyhow::anyhow!("--definitions: {e}"))?;
        // The audit checks' metadata is read here, once, so that a broken check file
        // stops every command with its path rather than the first one to list checks.
        pension::audit::catalogue::load(&source)
            .map_err(|e| anyhow::anyhow!("--definitions: {e}"))?;
        if let Some(abs) = source.folder() {
            // Still one thread: nothing else reads the environment concurrently.
            std::env::set_var("PIPELINE_DEFINITIONS", abs);
        }
        pension::defs::select(source);
    }
    Ok(())
}

/// `pipeline sql … | head`: when the reader closes the pipe, stop as every Unix
/// filter does — ended by SIGPIPE, silently (the shell's status 141) — instead of
/// Rust's default of ignoring the signal, which turns the next write into an
/// error message or a `println!` panic. A writing command stopped this way stores
/// nothing: its transaction never committed (the warehouse's lock is released
/// by the kernel).
fn stop_quietly_on_a_closed_pipe() {
    // SAFETY: called first in main, before any other thread exists; SIG_DFL is a
    // valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The commands that write to the warehouse (or, as a backup, export all of it), as
/// the operator log names them (with their subject): recorded at this one edge once
/// the command has succeeded.
fn written_by(command: &Command) -> Option<(&'static str, String)> {
    match command {
        Command::Ingest(_) => Some(("ingest", String::new())),
        Command::Ledger(_) => Some(("ledger", String::new())),
        Command::Reconcile(_) => Some(("reconcile", String::new())),
        Command::Audit(_) => Some(("audit", String::new())),
        Command::Finding(a) => a.finding_set().map(|id| ("finding_set", id)),
        Command::User(a) => a.written().map(|name| ("user_add", name)),
        Command::Backup(a) => Some(("backup", a.subject())),
        Command::Export(a) => Some(("export", a.subject())),
        Command::Restore(a) => a.restored().map(|file| ("restore", file)),
        _ => None,
    }
}

fn main() -> ExitCode {
    stop_quietly_on_a_closed_pipe();
    let cli = Cli::parse();
    if let Err(e) = select_definitions(cli.definitions) {
        eprintln!("error: {e:#}");
        return ExitCode::from(1);
    }
    let ctx = cmd::Ctx::new(cli.warehouse);
    let logged = written_by(&cli.command);
    let result = match cli.command {
        Command::Ingest(a) => cmd::ingest::run(&ctx, a),
        Command::Status(a) => cmd::status::run(&ctx, a),
        Command::Sql(a) => cmd::sql::run(&ctx, a),
        Command::History(a) => cmd::history::run(&ctx, a),
        Command::Ledger(a) => cmd::ledger::run(&ctx, a),
        Command::Account(a) => cmd::account::run(&ctx, a),
        Command::Notice(a) => cmd::notice::run(&ctx, a),
        Command::Reconcile(a) => cmd::reconcile::run(&ctx, a),
        Command::Audit(a) => cmd::audit::run(&ctx, a),
        Command::Finding(a) => cmd::finding::run(&ctx, a),
        Command::Screen(a) => cmd::screen::run(&ctx, a),
        Command::Report(a) => cmd::report::run(&ctx, a),
        Command::Plan(a) => cmd::plan::run(&ctx, a),
        Command::Province(a) => cmd::province::run(a),
        Command::Dashboard(a) => cmd::dashboard::run(&ctx, a),
        Command::Backup(a) => cmd::backup::run(&ctx, a),
        Command::Export(a) => cmd::export::run(&ctx, a),
        Command::Restore(a) => cmd::restore::run(&ctx, a),
        Command::Serve(a) => cmd::serve::run(ctx.warehouse_dir(), a),
        Command::User(a) => cmd::user::run(ctx.warehouse_dir(), a),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Bench(a) => cmd::bench::run(&ctx, a),
        Command::BenchReference(a) => cmd::bench::run_reference(a),
    };
    match result {
        Ok(code) => {
            if let Some((action, subject)) = logged {
                if let Err(e) = pension::oplog::record_cli(ctx.warehouse_dir(), action, &subject) {
                    eprintln!(
                        "warning: the command's entry in the operator log (操作日志) {} could not be written: {e}",
                        pension::oplog::path(ctx.warehouse_dir()).display()
                    );
                    return ExitCode::from(1);
                }
            }
            code
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
