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

/// `pipeline sql … | head`: the reader closes the pipe early, and the command stops
/// quietly (pipeline/main.rs): no error message, success or the SIGPIPE ending
/// every Unix filter has (status 141 in a shell) — never exit code 1 with
/// "Broken pipe" or a panic.
#[test]
fn a_closed_pipe_stops_the_output_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let fx = Fixture::new();
    for format in ["table", "csv", "json"] {
        let mut child = pipeline(&fx.wh_dir())
            .args([
                "sql",
                "--format",
                format,
                // Far more than a pipe buffer (64 KiB), so the writer meets the closed end.
                "SELECT range AS n, 'payout ' || range AS label FROM range(300000)",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pipeline starts");
        let mut head = [0u8; 64];
        child
            .stdout
            .take()
            .expect("piped stdout")
            .read_exact(&mut head)
            .expect("the first bytes arrive");
        // The reader is dropped here: the pipe is closed, as `head` does.
        let out = child.wait_with_output().expect("pipeline ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "{format}: {stderr}");
        assert!(
            out.status.success() || out.status.signal() == Some(libc::SIGPIPE),
            "{format}: {:?}",
            out.status
        );
        assert!(
            !out.status.success(),
            "{format}: the output was cut short, so it cannot have finished normally"
        );
    }
}

/// `--month` and `--through` are months typed by the command line (domain::Month):
/// a text that is not `YYYY-MM` is refused before anything opens, naming the flag
/// and the text.
#[test]
fn a_month_that_is_not_yyyy_mm_is_refused_by_the_command_line() {
    let fx = Fixture::new();
    for args in [
        &["ledger", "--through", "2026-13"][..],
        &["notice", "--month", "26-10"],
        &["audit", "--month", "2026/10"],
        &["dashboard", "--month", "2026-1", "--out", "x.html"],
    ] {
        let out = pipeline(&fx.wh_dir()).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("`{}` is not a month (expected YYYY-MM", args[2]))
                && err.contains(args[1]),
            "{args:?}: {err}"
        );
        assert!(!fx.wh_dir().join("manifest.json").exists(), "{args:?}");
    }
}
