//! The synthetic county's bank statements through ingest: every printed statement
//! recognised and stored whole, its title's account number and period kept as facts,
//! the stored lines joining from file to file but at the planted gaps of the answer
//! key (synth/bank/).

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::Fixture;
use crate::synth::{generate, SynthConfig};

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.expect("record").iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn the_county_statements_ingest_with_their_title_facts_and_join_but_at_the_gaps() {
    let fx = Fixture::new();
    let dir = fx.dir.path().join("county");
    let report = generate(
        &SynthConfig {
            persons: 400,
            seed: 11,
            ..SynthConfig::default()
        },
        &dir,
    )
    .expect("synth");
    let statements: Vec<_> = report
        .files
        .iter()
        .filter(|f| f.kind == "bank_statement")
        .collect();
    assert!(statements.len() > 40, "{} statements", statements.len());
    let ingest = fx.ingest(&[
        dir.join("银行对账单"),
        dir.join("reference/bank_account.csv"),
    ]);
    assert!(ingest.committed);
    assert_eq!(ingest.files.len(), statements.len() + 1);
    for w in &statements {
        let f = ingest
            .files
            .iter()
            .find(|f| f.source == dir.join(&w.path))
            .expect("ingested");
        assert_eq!(
            f.kind.as_deref(),
            Some("bank_statement"),
            "{}",
            w.path.display()
        );
        assert_eq!(
            (f.rows_read, f.quarantined),
            (w.rows, 0),
            "{}: {:?} {:?}",
            w.path.display(),
            f.status,
            f.first_reasons
        );
    }

    // Lines per account: what the files say they hold, all under the title's number.
    let accounts = read_csv(&dir.join("reference/bank_account.csv"));
    let per_account = fx.rows(
        "SELECT a.account, count(*), count(DISTINCT s._file), count(DISTINCT s.bank_ref)
         FROM bank_statement s JOIN bank_account a USING (account_no)
         GROUP BY 1 ORDER BY 1",
    );
    assert_eq!(per_account.len(), 4, "{per_account:?}");
    assert_eq!(
        fx.one("SELECT count(*) FROM bank_statement"),
        statements.iter().map(|f| f.rows).sum::<u64>().to_string()
    );
    for row in &per_account {
        let zh = accounts
            .iter()
            .find(|a| {
                crate::synth::bank::ACCTS
                    .iter()
                    .any(|x| x.en() == row[0] && x.zh() == a["账户"])
            })
            .map(|a| a["账户"].clone())
            .expect("account listed");
        let files: Vec<_> = statements
            .iter()
            .filter(|f| f.path.to_string_lossy().contains(&format!("/{zh}_")))
            .collect();
        let lines: u64 = files.iter().map(|f| f.rows).sum();
        assert_eq!(
            row[1..],
            [
                lines.to_string(),
                files.len().to_string(),
                lines.to_string()
            ],
            "{zh}: lines, files, distinct refs"
        );
    }

    // The title block's facts: each file's period is its month, one account number.
    let facts = fx.rows(
        "SELECT _file, count(DISTINCT account_no), min(period_from), max(period_to),
                min(txn_date) >= min(period_from) AND max(txn_date) <= max(period_to)
         FROM bank_statement GROUP BY _file ORDER BY _file",
    );
    assert_eq!(facts.len(), statements.len());
    for f in &facts {
        let month = f[0]
            .rsplit('_')
            .next()
            .and_then(|s| s.get(..7))
            .expect("month in the file name");
        assert_eq!(f[1], "1", "{}", f[0]);
        assert_eq!(&f[2][..7], month, "{}", f[0]);
        assert!(f[2].ends_with("-01"), "{f:?}");
        assert_eq!(&f[3][..7], month, "{}", f[0]);
        assert_eq!(f[4], "true", "{f:?}");
    }

    // Consecutive lines of an account join but where the key plants a gap.
    let jumps = fx.rows(
        "WITH s AS (
            SELECT account_no, txn_date, balance,
                   balance - lag(balance) OVER w - coalesce(income, 0) + coalesce(expense, 0) AS jump,
                   bank_ref
            FROM bank_statement
            WINDOW w AS (PARTITION BY account_no ORDER BY txn_date, period_from, _file, _line))
         SELECT strftime(txn_date, '%Y-%m'), CAST(jump AS VARCHAR), bank_ref
         FROM s WHERE jump <> 0 ORDER BY 1, 3",
    );
    let key: Vec<_> = read_csv(&dir.join("_truth/ground_truth.csv"))
        .into_iter()
        .filter(|t| t["check_code"] == "BANK_STATEMENT")
        .collect();
    assert_eq!(jumps.len(), 3, "{jumps:?}");
    assert_eq!(jumps.len(), key.len());
    for j in &jumps {
        assert!(
            key.iter().any(|t| t["month_from"] == j[0]
                && t["amount"] == j[1]
                && t["note"].contains(&j[2])),
            "{j:?} not in {key:?}"
        );
    }
}
