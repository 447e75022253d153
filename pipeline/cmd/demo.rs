//! `pipeline demo`: the main job on the bundled sample county.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::synth::SynthConfig;
use anyhow::{bail, Context};
use pension::ingest::{self, IngestOptions};
use pension::warehouse::connect;

/// The main job on the bundled sample data.
///
/// On a fresh warehouse (OUT/warehouse), ingest the bundled sample county and the
/// hand-made bad files (./data-samples/ if present, else written to
/// OUT/data-samples/ from the program itself), show what the warehouse holds, replay the
/// individual accounts (ledger) with a sample statement, reconcile the fund's bank
/// accounts with the banks' statements (银行存款余额调节表 per account), run the audit (its
/// workbook and CSV go to OUT/audit/), then write the monthly report package
/// (OUT/report/) and the leadership dashboard (OUT/dashboard_YYYY-MM.html).
#[derive(clap::Args)]
pub struct Args {
    /// Where the demo writes its warehouse and outputs (replaced on each run).
    #[arg(long, default_value = "demo-out")]
    out: PathBuf,
    /// The sample data folder (default: ./data-samples, else the built-in samples
    /// written to OUT/data-samples).
    #[arg(long)]
    samples: Option<PathBuf>,
}

/// The sample data: `--samples`, else `./data-samples`, else written into
/// OUT/data-samples — the sample county is `synth --persons 2000 --seed 1` (the
/// same bytes as the project's data-samples/county) and the bad files are built in —
/// so a copied or installed binary runs the demo from any folder.
fn samples_dir(given: Option<PathBuf>, out: &Path) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p);
    }
    let here = PathBuf::from("data-samples");
    if here.is_dir() {
        return Ok(here);
    }
    let dir = out.join("data-samples");
    println!(
        "(no data-samples/ in this folder: writing the sample county — pipeline synth \
         --persons 2000 --seed 1 — and the hand-made bad files to {})",
        dir.display()
    );
    write_samples(&dir)?;
    Ok(dir)
}

/// What the demo ingests from a samples folder: its `county/` and `bad/` (the
/// province's two counties in `province/` are `pipeline province`'s), or the whole
/// folder when it has no `county/`.
fn one_county(samples: &Path) -> Vec<PathBuf> {
    let county = samples.join("county");
    if !county.is_dir() {
        return vec![samples.to_path_buf()];
    }
    let bad = samples.join("bad");
    std::iter::once(county)
        .chain(bad.is_dir().then_some(bad))
        .collect()
}

/// Writes the bundled samples to `dir` (replacing an earlier demo's copy, never a
/// folder that is not one).
fn write_samples(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let ours = dir.join("county/_truth/files.csv").is_file();
        if !ours {
            bail!(
                "{} exists and is not the demo's sample data; choose another --out",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let county = dir.join("county");
    crate::synth::generate(&SAMPLE_COUNTY, &county)
        .with_context(|| format!("writing the sample county to {}", county.display()))?;
    for (name, bytes) in pension::defs::bad_samples() {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// data-samples/county: 2,000 persons, seed 1, through 2026-10 (README).
const SAMPLE_COUNTY: SynthConfig = SynthConfig {
    persons: 2_000,
    seed: 1,
    through_year: 2026,
    through_month: 10,
    region: crate::synth::geo::COUNTY_CODE,
};

/// Removes an earlier demo warehouse, refusing to touch a folder that is not one.
fn fresh_warehouse(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let is_warehouse = dir.join("manifest.json").is_file() || dir.read_dir()?.next().is_none();
        if !is_warehouse {
            bail!(
                "{} exists and is not a warehouse; choose another --out",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let samples = samples_dir(args.samples, &args.out)?;
    let wh_dir = args.out.join("warehouse");
    fresh_warehouse(&wh_dir)?;
    let ctx = super::Ctx::new(wh_dir.clone());
    let catalog = ctx.catalog()?;
    let mut wh = ctx.open_write()?;
    println!(
        "== 1. ingest {} (bad files included on purpose) ==",
        samples.display()
    );
    let opts = IngestOptions {
        skip_bad_files: true,
        progress: true,
        command: "pipeline demo".into(),
        ..Default::default()
    };
    let report = ingest::ingest(&mut wh, &catalog, &one_county(&samples), &opts)?;
    let mut out = std::io::stdout().lock();
    super::ingest::print_report(&report, true, &mut out)?;
    println!("\n== 2. what the warehouse holds ==");
    let conn = connect(&wh, &catalog)?;
    pension::status::print(&wh, &catalog, &conn, false, &mut out)?;
    let month = pension::query::scalar(
        &conn,
        "SELECT strftime(max(month), '%Y-%m') FROM payout WHERE status = 'ok'",
    )?;
    let person = pension::query::scalar(&conn, "SELECT min(person_no) FROM benefit_approval")?;
    // The later stages run as the user would run them, each taking the lock itself.
    drop(out);
    drop(conn);
    drop(wh);
    let wh_arg = wh_dir.display().to_string();
    println!("\n== 3. individual accounts (ledger) through {month} ==");
    run_self(&["--warehouse", &wh_arg, "ledger", "--through", &month])?;
    println!("\n== 4. a sample account statement (个人账户明细表): {person} ==");
    run_self(&["--warehouse", &wh_arg, "account", &person])?;
    println!("\n== 5. bank reconciliation (银行对账) through {month} ==");
    run_self(&["--warehouse", &wh_arg, "reconcile", "--month", &month])?;
    println!("\n== 6. audit as of {month} ==");
    let audit_out = args.out.join("audit").display().to_string();
    run_self(&[
        "--warehouse",
        &wh_arg,
        "audit",
        "--month",
        &month,
        "--out",
        &audit_out,
    ])?;
    println!("\n== 7. monthly report package and dashboard for {month} ==");
    let report_out = args.out.join("report");
    let dashboard = args.out.join(format!("dashboard_{month}.html"));
    run_self(&[
        "--warehouse",
        &wh_arg,
        "report",
        "--month",
        &month,
        "--out",
        &report_out.display().to_string(),
        "--dashboard",
        &dashboard.display().to_string(),
    ])?;
    println!("\nReport package: {}", report_out.display());
    println!("Dashboard (open in a browser): {}", dashboard.display());
    println!("\nTry: pipeline --warehouse {} sql \"SELECT strftime(month, '%Y-%m') AS month, count(*) AS payouts, sum(total_amount) AS yuan FROM payout GROUP BY 1 ORDER BY 1 DESC LIMIT 12\"", wh_dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Runs this binary with the given arguments, output straight to the terminal.
pub(super) fn run_self(args: &[&str]) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("locating the pipeline binary")?;
    let status = std::process::Command::new(exe)
        .args(args)
        .status()
        .with_context(|| format!("running pipeline {}", args.join(" ")))?;
    if !status.success() {
        bail!("pipeline {} failed ({status})", args.join(" "));
    }
    Ok(())
}
