//! Column helpers shared by the stages that write the warehouse's Parquet files.

use polars::prelude::*;

/// A text column of a few known values as a polars Enum: a one-byte code per row,
/// and the Parquet writer takes the values as the column's dictionary. As plain
/// text, each row's value is copied into the column, then counted and hashed into
/// a dictionary again when written: about a tenth of the ledger's CPU (posting
/// kind, holding, source table, sub-balance, reason; perf, 2026-12-07), and at
/// ingest every row's file path and run. The file's column is text as before
/// (DuckDB reads VARCHAR). `codes` are positions in `values` (`None` is a null); a
/// code beyond them is an error, never a silent null.
pub fn enum_column(name: &str, values: &[&str], codes: Vec<Option<u8>>) -> PolarsResult<Column> {
    if codes.iter().flatten().any(|c| *c as usize >= values.len()) {
        polars_bail!(ComputeError: "column {name}: a value is not in its list of values");
    }
    let dtype = DataType::from_frozen_categories(FrozenCategories::new(values.iter().copied())?);
    polars_ensure!(
        dtype.cat_physical()? == CategoricalPhysical::U8,
        ComputeError: "column {name}: more values than one-byte codes"
    );
    let ids = UInt8Chunked::from_iter_options(name.into(), codes.into_iter());
    // Safety: every code was checked against the values above.
    let col = unsafe { Categorical8Chunked::from_cats_and_dtype_unchecked(ids, dtype) };
    Ok(col.into_series().into_column())
}

/// A column holding one text in each of its `n` rows (a file's path, a run).
pub fn constant_text(name: &str, value: &str, n: usize) -> PolarsResult<Column> {
    enum_column(name, &[value], vec![Some(0); n])
}
