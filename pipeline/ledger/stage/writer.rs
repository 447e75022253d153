//! Writing: one Parquet file per table, appended chunk by chunk as row groups.

use super::*;

/// Rows per Parquet row group: chunks are gathered up to this size. About
/// DuckDB's own row group (122,880 rows), and below a chunk's rows of the two big
/// tables (account_event, expected_payout: 150–260 thousand per 4,096 persons), so
/// that their chunks are written as they come, without copying them together first.
pub(super) const ROW_GROUP: usize = 128 * 1024;

pub(super) type Batched = polars::io::parquet::write::BatchedWriter<std::fs::File>;

pub(super) struct TableWriter {
    pub(super) path: std::path::PathBuf,
    pub(super) writer: Option<Batched>,
    pub(super) pending: Option<DataFrame>,
    pub(super) rows: u64,
}

impl TableWriter {
    pub(super) fn open(&mut self, schema: &Schema) -> Result<(), StageError> {
        if self.writer.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| StageError::io(dir, e))?;
            }
            let file =
                std::fs::File::create(&self.path).map_err(|e| StageError::io(&self.path, e))?;
            // zstd at its default level (3): level 1, as ingest writes, made
            // account_event 11 % larger (215.5 MB against 193.8) and took no less of
            // the stage's CPU (perf, 2026-12-07).
            let w = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .batched(schema)
                .map_err(|e| StageError::parquet(&self.path, e))?;
            self.writer = Some(w);
        }
        Ok(())
    }

    /// Gathers a chunk's rows; writes a row group once there are enough.
    pub(super) fn add(&mut self, df: DataFrame) -> Result<(), StageError> {
        self.rows += df.height() as u64;
        match self.pending.as_mut() {
            None => self.pending = Some(df),
            Some(p) => {
                p.vstack_mut_owned(df)
                    .map_err(|e| StageError::parquet(&self.path, e))?;
            }
        }
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.height() >= ROW_GROUP)
        {
            self.flush()?;
        }
        Ok(())
    }

    pub(super) fn flush(&mut self) -> Result<(), StageError> {
        let Some(mut df) = self.pending.take() else {
            return Ok(());
        };
        if df.height() == 0 {
            self.pending = Some(df); // keeps the schema for an empty table
            return Ok(());
        }
        df.rechunk_mut();
        self.open(df.schema())?;
        let w = self.writer.as_mut().expect("opened");
        w.write_batch(&df)
            .map_err(|e| StageError::parquet(&self.path, e))?;
        Ok(())
    }

    pub(super) fn finish(&mut self, empty: &DataFrame) -> Result<u64, StageError> {
        self.flush()?;
        let schema = self
            .pending
            .as_ref()
            .map_or_else(|| empty.schema().clone(), |p| p.schema().clone());
        self.open(&schema)?;
        let w = self.writer.take().expect("opened");
        w.finish().map_err(|e| StageError::parquet(&self.path, e))?;
        let f = std::fs::File::options()
            .write(true)
            .open(&self.path)
            .map_err(|e| StageError::io(&self.path, e))?;
        f.sync_all().map_err(|e| StageError::io(&self.path, e))?;
        Ok(self.rows)
    }
}

/// The writer thread: each chunk's frames appended to the tables' files.
/// Returns the rows per table and the seconds spent working (not waiting).
pub(super) fn write_all(
    rx: Receiver<Vec<DataFrame>>,
    paths: Vec<std::path::PathBuf>,
) -> Result<(Vec<u64>, f64), StageError> {
    let mut busy = 0.0;
    let mut writers: Vec<TableWriter> = paths
        .into_iter()
        .map(|path| TableWriter {
            path,
            writer: None,
            pending: None,
            rows: 0,
        })
        .collect();
    for frames in rx {
        let t = Instant::now();
        for (w, df) in writers.iter_mut().zip(frames) {
            w.add(df)?;
        }
        busy += t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    let empty = chunk_frames(&[]).map_err(|e| StageError::Polars(e.to_string()))?;
    let rows = writers
        .iter_mut()
        .zip(&empty)
        .map(|(w, df)| w.finish(df))
        .collect::<Result<Vec<u64>, StageError>>()?;
    Ok((rows, busy + t.elapsed().as_secs_f64()))
}
