//! `pipeline synth`: the synthetic county.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::synth::{generate, SynthConfig};
use anyhow::Context;
use pension::domain::Month;

/// Generate a synthetic county with known injected audit cases.
///
/// Population, registries, years of contributions
/// and payouts in the mixed encodings, header languages and formats that really
/// arrive — with a known number of injected audit cases. The answer key
/// (ground truth, look-alikes, file list) is written to DIR/_truth/, which
/// `ingest` skips.
#[derive(clap::Args)]
pub struct Args {
    /// Population of the county register.
    #[arg(long, default_value_t = 2000)]
    persons: u32,
    /// Random seed: the same seed and size give byte-identical files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Last month of data, YYYY-MM.
    #[arg(long, default_value = "2026-10", value_name = "YYYY-MM")]
    through: Month,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cfg = SynthConfig {
        persons: args.persons,
        seed: args.seed,
        through_year: args.through.year(),
        through_month: args.through.month(),
    };
    let started = std::time::Instant::now();
    let report = generate(&cfg, &args.out)
        .with_context(|| format!("generating the synthetic county in {}", args.out.display()))?;
    let rows: u64 = report.files.iter().map(|f| f.rows).sum();
    println!(
        "synthetic county: {} persons, {} files, {} rows in {:.1} s → {}",
        report.persons,
        report.files.len(),
        rows,
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    println!("injected audit cases (ground-truth rows):");
    for (code, n) in &report.injected {
        println!("  {code:<22} {n}");
    }
    println!(
        "look-alikes that must not be flagged: {}",
        report.lookalikes
    );
    Ok(ExitCode::SUCCESS)
}
