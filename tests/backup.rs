//! Backup and restore (数据备份与恢复) on the sample county after ledger and audit: a
//! restore into an empty folder gives the same `status` and the same rows in every
//! table; a truncated or damaged archive, or a folder that is not empty, is refused
//! and nothing is restored; a backup does not run while a writer holds the lock.

use std::path::{Path, PathBuf};

use pension::warehouse::backup::{self, BackupError};
use pension::warehouse::{Warehouse, WarehouseError};

use crate::common::{pipeline, succeeds, Fixture, Session};

/// A copy of the sample warehouse (ingested, ledger and audit run), with a line in
/// its operator log and a login-sessions file, in a folder of its own.
fn sample_copy() -> Fixture {
    let from = crate::reports::sample().fx.wh_dir();
    let fx = Fixture::new();
    for path in pension::warehouse::walk(&from) {
        let rel = pension::warehouse::relative(&from, &path);
        if rel == ".lock" || rel.starts_with(".staging") {
            continue;
        }
        let to = fx.wh_dir().join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&path, &to).unwrap();
    }
    pension::oplog::record_cli(&fx.wh_dir(), "ledger", "").expect("operator log");
    std::fs::write(fx.wh_dir().join("sessions.json"), "[]").unwrap();
    fx
}

/// The backup of a copy of the sample, written once for the tests that damage it.
fn archive() -> &'static Path {
    static A: std::sync::OnceLock<(Fixture, PathBuf)> = std::sync::OnceLock::new();
    let (_, path) = A.get_or_init(|| {
        let fx = sample_copy();
        let path = fx.dir.path().join("backup.tar");
        backup::backup(&fx.wh_dir(), &path).expect("backup");
        (fx, path)
    });
    path
}

fn session(dir: &Path) -> Session {
    let wh = Warehouse::open_read(dir).expect("open");
    Session {
        conn: pension::warehouse::connect(&wh, &crate::common::catalog()).expect("connect"),
    }
}

/// `status` as the command prints it, without its first line (the folder's path).
fn status(dir: &Path) -> String {
    let wh = Warehouse::open_read(dir).expect("open");
    let catalog = crate::common::catalog();
    let conn = pension::warehouse::connect(&wh, &catalog).expect("connect");
    let mut out = Vec::new();
    pension::status::print(&wh, &catalog, &conn, true, &mut out).expect("status");
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("Warehouse "), "{text}");
    text.split_once('\n').unwrap().1.to_string()
}

/// Every table and view of the session (kinds, histories, derived tables, logs).
fn tables(s: &Session) -> Vec<String> {
    s.rows("SELECT table_name FROM information_schema.tables ORDER BY 1")
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

#[test]
fn a_restored_warehouse_answers_every_query_as_the_original() {
    let fx = sample_copy();
    let file = fx.dir.path().join("backup.tar");
    // A reader keeps its session open across the backup (it is not blocked).
    let reader = session(&fx.wh_dir());
    let summary = backup::backup(&fx.wh_dir(), &file).expect("backup");
    // The sample's runs: ingest, ledger, the reconciliation the audit runs first, audit.
    assert!(summary.files > 100 && summary.runs == 4, "{summary:?}");
    // Restored into a folder that exists and is empty.
    let target = fx.dir.path().join("restored");
    std::fs::create_dir(&target).unwrap();
    let restored = backup::restore(&file, &target).expect("restore");
    assert_eq!(restored, summary);

    assert_eq!(status(&target), status(&fx.wh_dir()));
    let copy = session(&target);
    let names = tables(&copy);
    assert_eq!(names, tables(&reader));
    for must in [
        "payout",
        "contribution",
        "findings",
        "account_event",
        "operator_log",
    ] {
        assert!(
            names.iter().any(|n| n == must),
            "no table {must}: {names:?}"
        );
    }
    for name in &names {
        let sql = format!("SELECT * FROM \"{name}\" ORDER BY ALL");
        assert_eq!(
            copy.rows(&sql),
            reader.rows(&sql),
            "{name} differs after restore"
        );
    }
    // Exact money, not merely equal text: the payouts are there to the fen.
    let total = "SELECT sum(total_amount)::VARCHAR, count(*) FROM payout";
    let rows = copy.rows(total);
    assert_eq!(rows, reader.rows(total));
    assert!(rows[0][0].contains('.') && rows[0][1] != "0", "{rows:?}");
    // The operator log came along; the login sessions did not.
    assert!(target.join("operator_log.csv").is_file());
    assert!(!target.join("sessions.json").exists());
    // A restored warehouse is a working one: a writer can open it.
    drop(Warehouse::open(&target).expect("the restored warehouse opens for writing"));
}

/// Restores `bytes` as an archive into a fresh folder and returns the error, after
/// checking that nothing was left behind (no target, no hidden staging folder).
fn refused(bytes: &[u8]) -> BackupError {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("damaged.tar");
    std::fs::write(&file, bytes).unwrap();
    let target = dir.path().join("restored");
    let err = backup::restore(&file, &target).expect_err("a damaged archive is refused");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        vec!["damaged.tar".to_string()],
        "left behind after {err}"
    );
    err
}

#[test]
fn a_truncated_archive_is_refused_and_nothing_is_restored() {
    let full = std::fs::read(archive()).unwrap();
    let sums_at = full
        .windows(backup::SUMS.len())
        .rposition(|w| w == backup::SUMS.as_bytes())
        .expect("the checksum list is in the archive");
    // Where each member's data starts and ends, read from the archive's own headers so
    // that the cuts below land where they say whatever the archive's layout.
    let members: Vec<(usize, usize)> = tar::Archive::new(full.as_slice())
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.raw_file_position() as usize, e.size() as usize))
        .collect();
    // Not the first member: an archive whose first header is unreadable is no backup.
    let (data_at, size) = members
        .iter()
        .skip(1)
        .copied()
        .find(|&(_, size)| size > 2)
        .expect("the archive holds a second file of more than two bytes");
    let (pad_at, pad_size) = members
        .iter()
        .copied()
        .find(|&(_, size)| size % 512 != 0 && size % 512 < 511)
        .expect("a member is padded to its 512-byte block");
    // Cut inside a member's data, inside a header, inside a member's padding, at a
    // byte count proportional to the file (wherever that lands), and exactly before
    // the checksum list's header (a clean end of a tar archive, which a plain `tar`
    // accepts).
    for cut in [
        data_at + size / 2,
        data_at - 512 + 100,
        pad_at + pad_size + 1,
        full.len() / 2 + 7,
        full.len() / 3 / 512 * 512 + 100,
        sums_at,
    ] {
        let err = refused(&full[..cut]);
        assert!(
            matches!(err, BackupError::Truncated { .. }),
            "cut at {cut}: {err}"
        );
        assert!(err.to_string().contains("incomplete"), "{err}");
    }
    let err = refused(&full[..0]);
    assert!(err.to_string().contains("empty (0 bytes)"), "{err}");
    // Not a backup at all.
    let err = refused(b"manifest.json");
    assert!(err.to_string().contains("not a backup"), "{err}");
}

#[test]
fn a_damaged_archive_is_refused_and_nothing_is_restored() {
    let full = std::fs::read(archive()).unwrap();
    // One bit flipped in the middle of the largest Parquet file's bytes (found by reading
    // the archive's own headers, so never a header whatever the layout): its checksum fails.
    let mut members = tar::Archive::new(full.as_slice());
    let (start, size) = members
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| {
            e.path()
                .unwrap()
                .extension()
                .is_some_and(|x| x == "parquet")
        })
        .map(|e| (e.raw_file_position() as usize, e.size() as usize))
        .max_by_key(|&(_, size)| size)
        .expect("the archive holds Parquet files");
    let at = start + size / 2;
    let mut flipped = full.clone();
    flipped[at] ^= 0x01;
    let err = refused(&flipped);
    assert!(
        err.to_string().contains("does not match its checksum"),
        "{err}"
    );
    // A checksum in the list edited to match a tampered file: the list's own seal fails.
    let sums_at = full
        .windows(64 + 2)
        .rposition(|w| w[..64].iter().all(u8::is_ascii_hexdigit) && &w[64..] == b"  ")
        .unwrap();
    let mut edited = full.clone();
    edited[sums_at] = if edited[sums_at] == b'0' { b'1' } else { b'0' };
    let err = refused(&edited);
    assert!(matches!(err, BackupError::Corrupt { .. }), "{err}");
}

#[test]
fn a_restore_never_overwrites_a_warehouse() {
    let fx = sample_copy();
    let before = fx.snapshot();
    let err = backup::restore(archive(), &fx.wh_dir()).expect_err("refused");
    assert!(matches!(err, BackupError::TargetNotEmpty(_)), "{err}");
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn a_backup_waits_for_no_writer_half_way() {
    let fx = sample_copy();
    let writer = Warehouse::open(&fx.wh_dir()).expect("a writer holds the lock");
    let file = fx.dir.path().join("backup.tar");
    let err = backup::backup(&fx.wh_dir(), &file).expect_err("busy");
    assert!(
        matches!(err, BackupError::Warehouse(WarehouseError::Locked(_))),
        "{err}"
    );
    assert!(!file.exists());
    drop(writer);
    let err = backup::backup(&fx.dir.path().join("no-warehouse"), &file).expect_err("none");
    assert!(matches!(err, BackupError::NoWarehouse(_)), "{err}");
}

#[test]
fn the_commands_back_up_check_and_restore() {
    let fx = sample_copy();
    let file = fx.dir.path().join("b.tar");
    let out = succeeds(pipeline(&fx.wh_dir()).arg("backup").arg("--out").arg(&file));
    assert!(out.contains("committed runs"), "{out}");
    let out = succeeds(
        pipeline(&fx.wh_dir())
            .args(["restore", "--check"])
            .arg(&file),
    );
    assert!(out.contains("every checksum matches"), "{out}");
    let target = fx.dir.path().join("r");
    succeeds(pipeline(&target).arg("restore").arg(&file));
    // Each warehouse's operator log says what happened to it.
    let log = std::fs::read_to_string(fx.wh_dir().join("operator_log.csv")).unwrap();
    assert!(log.lines().last().unwrap().contains(",backup,"), "{log}");
    let log = std::fs::read_to_string(target.join("operator_log.csv")).unwrap();
    assert!(log.lines().last().unwrap().contains(",restore,"), "{log}");
    // A damaged copy: the command fails with the plain-language message.
    let bytes = std::fs::read(&file).unwrap();
    let cut = fx.dir.path().join("cut.tar");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let run = pipeline(&fx.dir.path().join("r2"))
        .arg("restore")
        .arg(&cut)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("备份文件不完整") && err.contains("nothing was restored"),
        "{err}"
    );
    assert!(!fx.dir.path().join("r2").exists());
}
