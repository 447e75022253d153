//! Input kinds as data: one TOML file per kind in `schemas/`.
//!
//! The ingestion code is generic over these definitions; adding a kind is adding a
//! file here (and its tests), not a new code path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::idnum::fold_width;

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("cannot read the schema folder {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("schema file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(transparent)]
    Definitions(#[from] crate::defs::DefsError),
    #[error("unknown kind `{0}`; known kinds: {1}")]
    UnknownKind(String, String),
}

/// What a kind is for: operational records may carry malformed ID numbers (they are
/// flagged, not hidden); registries are authoritative, so such rows are quarantined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Operational,
    Registry,
    Reference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColType {
    /// Free text, trimmed.
    String,
    /// Person name: trimmed; interior spacing kept as written (matching is the audit's job).
    Name,
    /// Code-like text (accounts, phone, voucher numbers): full-width folded, spaces removed.
    Code,
    IdNumber,
    Date,
    /// Stored as the first day of the month.
    Month,
    /// Yuan, DECIMAL(18,2).
    Money,
    /// Percent, DECIMAL(9,4).
    Rate,
    Integer,
    Bool,
    Enum,
    /// One of another kind's column names (Chinese or English), stored as the English name.
    ColumnOf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    pub zh: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(rename = "type")]
    pub ty: ColType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    pub of: Option<String>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// Money that may be negative (none of the current kinds).
    #[serde(default)]
    pub signed: bool,
}

/// A rule across columns of one row.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `sum = "total"`, `of = ["a", "b"]`: total must equal a + b exactly.
    pub sum: Option<String>,
    #[serde(default)]
    pub of: Vec<String>,
    /// `required_if = "x"`, `when = "y"`, `equals = "code"`.
    pub required_if: Option<String>,
    pub when: Option<String>,
    pub equals: Option<String>,
    /// `not_before = "end"`, `other = "start"`: when both are present, end ≥ start.
    pub not_before: Option<String>,
    pub other: Option<String>,
    /// `one_of = ["income", "expense"]`: exactly one of these amounts is > 0, the
    /// others empty or 0 (a bank line moves money one way).
    #[serde(default)]
    pub one_of: Vec<String>,
}

/// How a file of a kind is laid out when it is a printed report rather than a plain
/// table (docs/rules.md § Printed bank statements). Absent: the header is the first
/// row and every later row is a record.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Where the header row is.
    #[serde(default)]
    pub header: HeaderAt,
    /// Facts of the file read from the title block (the rows above the header).
    #[serde(default)]
    pub facts: Vec<FactSpec>,
    /// Labels (in the first non-empty cell) of total lines that cover the record
    /// lines since the previous such line: 本页合计.
    #[serde(default)]
    pub page_totals: Vec<String>,
    /// Labels of total lines that cover every record line above them: 合计, 总计.
    #[serde(default)]
    pub file_totals: Vec<String>,
    /// The money columns a total line states (each must equal the sum above it).
    #[serde(default)]
    pub totals: Vec<String>,
    /// A running balance: each line's `balance` = the previous line's + `plus` − `minus`.
    pub running: Option<Running>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderAt {
    /// The first non-empty row (every kind without a layout).
    #[default]
    FirstRow,
    /// The first row whose cells name the kind's required columns (those a fact of
    /// the title block gives excepted); the rows above it are the title block.
    FirstMatch,
}

/// One fact of the title block: `账号：622848…` fills `account_no`; a period
/// `2026-09-01 至 2026-09-30` fills two columns (from, to).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactSpec {
    pub column: FactColumns,
    /// The labels the title block may use (`账号`, `账户号码`, …), followed by `:`
    /// or `：` in the same cell, or with the value in the next cell.
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FactColumns {
    One(String),
    /// A period: its first and last day.
    Range([String; 2]),
}

impl FactColumns {
    pub fn names(&self) -> Vec<&str> {
        match self {
            FactColumns::One(c) => vec![c.as_str()],
            FactColumns::Range([a, b]) => vec![a.as_str(), b.as_str()],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Running {
    pub balance: String,
    pub plus: String,
    pub minus: String,
}

impl Layout {
    /// Every column the layout names, for the schema check.
    fn named(&self) -> Vec<&str> {
        let mut n: Vec<&str> = self.facts.iter().flat_map(|f| f.column.names()).collect();
        n.extend(self.totals.iter().map(String::as_str));
        if let Some(r) = &self.running {
            n.extend([r.balance.as_str(), r.plus.as_str(), r.minus.as_str()]);
        }
        n
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub kind: String,
    pub title: String,
    pub class: Class,
    /// The column whose range `status` shows.
    pub period: Option<String>,
    /// Partition column (a month or a year column).
    pub partition: Option<String>,
    /// What identifies a record and how a file relates to what is stored.
    pub identity: Identity,
    pub columns: Vec<Column>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// A printed report's layout (title block, total lines, running balance).
    pub layout: Option<Layout>,
    /// SHA-256 of the definition's text: a file stored under the same definition
    /// and byte-identical to the one given is not read again (pipeline/ingest/plan.rs).
    #[serde(skip)]
    pub digest: String,
}

/// How a file of a kind relates to what the warehouse already holds
/// (docs/rules.md § Record identity and corrections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Load {
    /// A file is the whole current set (within its scope): a record it no longer
    /// lists is gone from the current set (its versions stay in history).
    Snapshot,
    /// Rows keyed by their number: later files add records and correct them.
    Events,
}

/// A kind's natural key and load mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Columns whose values identify a record; a row with the same key and other
    /// values is a correction (a new version) of that record.
    pub key: Vec<String>,
    pub load: Load,
    /// Snapshots: columns whose values delimit what one file replaces (a cremation
    /// list replaces the cremation records only). Empty: the whole kind.
    #[serde(default)]
    pub scope: Vec<String>,
    /// Why these columns identify a row, where the contract names no number.
    pub why: Option<String>,
    /// Snapshots: a file with no row at all (a header only) says the set is now
    /// empty, and clears it. Only where that is what such a file means (the
    /// province sending a county no more cross-county cases); for a registry an
    /// empty list is likelier a failed export than a month without deaths, so by
    /// default an empty snapshot replaces nothing.
    #[serde(default)]
    pub empty_file_clears: bool,
}

/// Headers and enumeration values are compared after this: full-width folded,
/// whitespace removed, lowercase.
pub fn header_key(s: &str) -> String {
    fold_width(s).to_lowercase()
}

impl Column {
    /// Every header text that names this column, normalised.
    pub fn header_keys(&self) -> Vec<String> {
        let mut keys = vec![header_key(&self.name), header_key(&self.zh)];
        keys.extend(self.aliases.iter().map(|a| header_key(a)));
        keys
    }

    /// The stored code for an enumeration value given in Chinese or as the code.
    pub fn enum_code(&self, raw: &str) -> Option<&str> {
        let key = header_key(raw);
        self.values
            .iter()
            .find(|(zh, code)| header_key(zh) == key || header_key(code) == key)
            .map(|(_, code)| code.as_str())
    }

    pub fn label(&self) -> String {
        format!("{} ({})", self.zh, self.name)
    }
}

impl Schema {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Where the header row is: the first row, or below a title block.
    pub fn header_at(&self) -> HeaderAt {
        self.layout
            .as_ref()
            .map_or(HeaderAt::FirstRow, |l| l.header)
    }

    /// Positions of the columns a title-block fact fills: facts of the file, not of
    /// a line, so not part of a line's content (a quarterly export re-sending
    /// September's lines does not correct them).
    pub fn fact_columns(&self) -> Vec<usize> {
        let Some(layout) = &self.layout else {
            return Vec::new();
        };
        layout
            .facts
            .iter()
            .flat_map(|f| f.column.names())
            .filter_map(|n| self.columns.iter().position(|c| c.name == n))
            .collect()
    }

    fn check_layout(&self, layout: &Layout) -> Result<(), String> {
        if let Some(n) = layout
            .named()
            .into_iter()
            .find(|n| self.column(n).is_none())
        {
            return Err(format!("[layout] names unknown column {n}"));
        }
        for f in &layout.facts {
            if f.labels.is_empty() {
                return Err("[[layout.facts]] needs labels".into());
            }
            for n in f.column.names() {
                let ty = self.column(n).map(|c| c.ty);
                if matches!(ty, Some(ColType::IdNumber)) {
                    return Err(format!("[[layout.facts]] cannot fill the ID column {n}"));
                }
                if matches!(f.column, FactColumns::Range(_)) && ty != Some(ColType::Date) {
                    return Err(format!("a period fact fills date columns; {n} is not one"));
                }
            }
        }
        let money = |n: &str| self.column(n).is_some_and(|c| c.ty == ColType::Money);
        if let Some(n) = layout.totals.iter().find(|n| !money(n)) {
            return Err(format!("[layout] totals: {n} is not a money column"));
        }
        if let Some(r) = &layout.running {
            if let Some(n) = [&r.balance, &r.plus, &r.minus]
                .into_iter()
                .find(|n| !money(n))
            {
                return Err(format!("[layout] running: {n} is not a money column"));
            }
        }
        Ok(())
    }

    pub fn partition_column(&self) -> Option<&Column> {
        self.partition.as_deref().and_then(|p| self.column(p))
    }

    fn check(&self, path: &Path) -> Result<(), SchemaError> {
        let bad = |message: String| SchemaError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let known = |n: &str| self.column(n).is_some();
        for c in &self.columns {
            if c.ty == ColType::Enum && c.values.is_empty() {
                return Err(bad(format!("enum column {} has no values", c.name)));
            }
            if c.ty == ColType::ColumnOf && c.of.is_none() {
                return Err(bad(format!("column {} needs `of`", c.name)));
            }
        }
        for r in &self.rules {
            let named: Vec<&String> = r
                .sum
                .iter()
                .chain(&r.of)
                .chain(&r.required_if)
                .chain(&r.when)
                .chain(&r.not_before)
                .chain(&r.other)
                .chain(&r.one_of)
                .collect();
            if let Some(n) = named.iter().find(|n| !known(n)) {
                return Err(bad(format!("rule names unknown column {n}")));
            }
        }
        if let Some(layout) = &self.layout {
            self.check_layout(layout).map_err(bad)?;
        }
        if self.identity.key.is_empty() {
            return Err(bad("[identity] key names no column".into()));
        }
        if self.identity.load == Load::Events && !self.identity.scope.is_empty() {
            return Err(bad("[identity] scope applies to snapshots only".into()));
        }
        for n in self
            .period
            .iter()
            .chain(&self.partition)
            .chain(&self.identity.key)
            .chain(&self.identity.scope)
        {
            if !known(n) {
                return Err(bad(format!("unknown column {n}")));
            }
        }
        Ok(())
    }
}

/// All kinds, in a stable order (by kind name).
#[derive(Debug, Clone)]
pub struct Catalog {
    pub schemas: Vec<Schema>,
}

impl Catalog {
    /// The input kinds this process uses: `schemas/*.toml` built in, or with a
    /// definitions folder's files over them (pipeline/defs.rs).
    pub fn load_default() -> Result<Catalog, SchemaError> {
        Catalog::from_source(crate::defs::active())
    }

    /// `schemas/*.toml` of `src`.
    pub fn from_source(src: &crate::defs::DefSource) -> Result<Catalog, SchemaError> {
        let mut files = Vec::new();
        for name in src.list("schemas", "toml")? {
            let file = src.file(&name)?;
            files.push((file.path, file.text));
        }
        Catalog::parse(files)
    }

    /// Every `*.toml` of the folder `dir`, on its own.
    pub fn load(dir: &Path) -> Result<Catalog, SchemaError> {
        let io = |source| SchemaError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| SchemaError::Io {
                path: path.clone(),
                source,
            })?;
            files.push((path, text));
        }
        Catalog::parse(files)
    }

    /// Schema files given as (path to name in messages, text).
    fn parse(files: Vec<(PathBuf, String)>) -> Result<Catalog, SchemaError> {
        let mut schemas = Vec::new();
        for (path, text) in files {
            let mut schema: Schema = toml::from_str(&text).map_err(|e| SchemaError::Invalid {
                path: path.clone(),
                message: e.to_string(),
            })?;
            schema.digest = {
                use sha2::{Digest, Sha256};
                format!("{:x}", Sha256::digest(text.as_bytes()))
            };
            schema.check(&path)?;
            schemas.push(schema);
        }
        schemas.sort_by(|a, b| a.kind.cmp(&b.kind));
        Ok(Catalog { schemas })
    }

    pub fn get(&self, kind: &str) -> Result<&Schema, SchemaError> {
        self.schemas
            .iter()
            .find(|s| s.kind == kind)
            .ok_or_else(|| SchemaError::UnknownKind(kind.to_string(), self.kind_names().join(", ")))
    }

    pub fn kind_names(&self) -> Vec<&str> {
        self.schemas.iter().map(|s| s.kind.as_str()).collect()
    }
}

// ---------------------------------------------------------------------------
// The stored layout of a kind: what ingest writes and the warehouse views read.

/// The stored columns beyond the schema's own: for each ID column its original
/// legacy 15-digit text, then the row's flags and extra (unknown) columns.
pub const FLAGS_COLUMN: &str = "_flags";
pub const EXTRA_COLUMN: &str = "_extra";

/// Output column names in stored order.
pub fn output_columns(schema: &Schema) -> Vec<(String, OutType)> {
    let mut out: Vec<(String, OutType)> = schema
        .columns
        .iter()
        .map(|c| (c.name.clone(), OutType::of(c.ty)))
        .collect();
    for c in schema.columns.iter().filter(|c| c.ty == ColType::IdNumber) {
        out.push((format!("{}_legacy15", c.name), OutType::Text));
    }
    out.push((FLAGS_COLUMN.to_string(), OutType::Text));
    out.push((EXTRA_COLUMN.to_string(), OutType::Text));
    out
}

/// Storage types (Parquet / DuckDB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutType {
    Text,
    Int,
    Date,
    Money,
    Rate,
    Bool,
}

impl OutType {
    pub fn of(t: ColType) -> OutType {
        match t {
            ColType::String
            | ColType::Name
            | ColType::Code
            | ColType::IdNumber
            | ColType::Enum
            | ColType::ColumnOf => OutType::Text,
            ColType::Date | ColType::Month => OutType::Date,
            ColType::Money => OutType::Money,
            ColType::Rate => OutType::Rate,
            ColType::Integer => OutType::Int,
            ColType::Bool => OutType::Bool,
        }
    }
    pub fn sql(self) -> &'static str {
        match self {
            OutType::Text => "VARCHAR",
            OutType::Int => "BIGINT",
            OutType::Date => "DATE",
            OutType::Money => "DECIMAL(18,2)",
            OutType::Rate => "DECIMAL(9,4)",
            OutType::Bool => "BOOLEAN",
        }
    }
}
