//! The binary as a user runs it: `ingest` exit codes and `sql --format csv`.

use crate::common::{pipeline, samples, succeeds, Fixture};

#[test]
fn sql_csv_output_is_plain_csv_with_header() {
    let fx = Fixture::new();
    let stdout = succeeds(
        &mut pipeline(&fx.wh_dir())
            .arg("ingest")
            .arg(samples().join("bad/payout_garbage_rows.csv")),
    );
    assert!(
        stdout.contains("read 12 = new 3 + changed 0 + unchanged 0 + quarantined 9"),
        "{stdout}"
    );
    let stdout = succeeds(&mut pipeline(&fx.wh_dir()).args([
        "sql",
        "--format",
        "csv",
        "SELECT _line AS line, name, total_amount, month FROM payout ORDER BY _line",
    ]));
    assert_eq!(
        stdout,
        "line,name,total_amount,month\n2,王秀英,168.67,2026-10-01\n12,徐伟,168.67,2026-10-01\n13,孙建华,1168.67,2026-10-01\n"
    );
    // Empty results still carry the header.
    let out = pipeline(&fx.wh_dir())
        .args([
            "sql",
            "--format",
            "csv",
            "SELECT name FROM payout WHERE false",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "name\n");
}

#[test]
fn refused_file_gives_exit_code_2_and_a_clear_message() {
    let fx = Fixture::new();
    let out = pipeline(&fx.wh_dir())
        .arg("ingest")
        .arg(samples().join("bad/enrollment_missing_column.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("REFUSED")
            && stdout.contains("性别 (sex)")
            && stdout.contains("nothing stored"),
        "{stdout}"
    );
    let out = pipeline(&fx.wh_dir())
        .args(["sql", "SELECT nonsense FROM payout"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nonsense"));
}
