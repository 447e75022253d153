//! Where definition files come from: the one place that yields a definition's text,
//! and the one loader of definitions written as a SQL file with its metadata beside
//! it ([`DefSource::pairs`], [`parse_toml`]): report tables, charts, audit checks.
//!
//! Definitions are the files that say what the program does with the data rather
//! than the data itself: the input kinds (`schemas/*.toml`), the report package
//! (`reports/*.sql|toml`, `reports/_prelude.sql`, `reports/charts/`), the audit checks
//! (`checks/<CODE>.sql` + `checks/<CODE>.toml`, and the shared `checks/prelude.sql`,
//! `checks/death.sql`, `checks/fund_flows.sql`) and the rule parameters
//! (`parameters.toml`). All of them are built into the binary (build.rs), so a copied
//! or installed `pipeline` runs anywhere.
//!
//! A definitions folder (`--definitions DIR`, `$PIPELINE_DEFINITIONS`) lays its files
//! over the built-in ones, by relative path:
//! - a file there replaces the built-in file of the same name
//!   (`DIR/reports/05_cancellations.toml` replaces that report's metadata);
//! - a new file in `schemas/` or `reports/` adds an input kind or a report;
//! - a new `checks/CODE.sql` with its `checks/CODE.toml` adds an audit check (code in
//!   capitals); a new `.sql` there without its metadata, or a new lower-case name
//!   (the shared SQL files are fixed), is refused rather than silently ignored;
//! - a `.sql` or `.toml` file anywhere else in the folder is refused by name (a
//!   misplaced override would otherwise change nothing without a word);
//! - other files (README.md, notes) are ignored.
//!
//! A built-in file cannot be removed through the folder.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

#[derive(Debug, thiserror::Error)]
pub enum DefsError {
    #[error("the definitions folder {0} does not exist or is not a folder")]
    NoFolder(PathBuf),
    #[error("cannot read the definition file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the definition file {0} is not UTF-8 text (save it as UTF-8)")]
    NotText(PathBuf),
    #[error("no definition file {name}: it is not built into this program{searched}")]
    Missing { name: String, searched: String },
    #[error("{path}: {message}")]
    Misplaced { path: PathBuf, message: String },
    #[error("definition file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A definition written as a SQL file with a TOML file of metadata beside it
/// (`reports/05_cancellations.sql` + `.toml`, `checks/DUP_ID.sql` + `.toml`).
#[derive(Debug, Clone)]
pub struct Pair {
    /// The file name without folder and ending (`05_cancellations`, `DUP_ID`).
    pub name: String,
    /// The SQL file, when there is one.
    pub sql: Option<DefFile>,
    /// The metadata file, when there is one.
    pub meta: Option<DefFile>,
}

/// A TOML definition file read into `T`; an error names the file.
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &DefFile) -> Result<T, DefsError> {
    toml::from_str(&file.text).map_err(|e| DefsError::Invalid {
        path: file.path.clone(),
        message: e.to_string(),
    })
}

/// The file name without folder and ending (`reports/05_x.sql` → `05_x`).
pub fn stem(name: &str) -> String {
    let file = name.rsplit('/').next().unwrap_or(name);
    file.rsplit_once('.').map_or(file, |(s, _)| s).to_string()
}

/// Where one definition file came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    BuiltIn,
    /// From the definitions folder; `replaces` when a built-in file has its name.
    Folder {
        replaces: bool,
    },
}

/// One definition file: its name in the definitions (`reports/_prelude.sql`), the
/// path to show in messages (the real file for a folder's file), and its text.
#[derive(Debug, Clone)]
pub struct DefFile {
    pub name: String,
    pub path: PathBuf,
    pub origin: Origin,
    pub text: String,
}

/// The built-in definitions, optionally overlaid by a folder.
#[derive(Debug, Clone, Default)]
pub struct DefSource {
    folder: Option<PathBuf>,
}

/// The built-in file of this name.
pub fn builtin(name: &str) -> Option<&'static [u8]> {
    embedded::DEFINITIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
}

/// The hand-made bad sample files (data-samples/bad), named `bad/FILE`, for the demo.
pub fn bad_samples() -> &'static [(&'static str, &'static [u8])] {
    embedded::SAMPLES
}

impl DefSource {
    /// Only what is built into the binary.
    pub fn builtin() -> DefSource {
        DefSource { folder: None }
    }

    /// The built-in definitions with `dir`'s files laid over them; refuses a folder
    /// with a definition file where none can go (see the module notes).
    pub fn with_folder(dir: &Path) -> Result<DefSource, DefsError> {
        if !dir.is_dir() {
            return Err(DefsError::NoFolder(dir.to_path_buf()));
        }
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let source = DefSource { folder: Some(dir) };
        source.folder_files()?;
        Ok(source)
    }

    pub fn folder(&self) -> Option<&Path> {
        self.folder.as_deref()
    }

    /// The file `name` (`/`-separated, relative to the definitions): the folder's if
    /// it has one, else the built-in one.
    pub fn file(&self, name: &str) -> Result<DefFile, DefsError> {
        let builtin_bytes = builtin(name);
        if let Some(dir) = &self.folder {
            let path = dir.join(name);
            if path.is_file() {
                let bytes = std::fs::read(&path).map_err(|source| DefsError::Io {
                    path: path.clone(),
                    source,
                })?;
                return Ok(DefFile {
                    name: name.to_string(),
                    text: String::from_utf8(bytes).map_err(|_| DefsError::NotText(path.clone()))?,
                    path,
                    origin: Origin::Folder {
                        replaces: builtin_bytes.is_some(),
                    },
                });
            }
        }
        let bytes = builtin_bytes.ok_or_else(|| DefsError::Missing {
            name: name.to_string(),
            searched: match &self.folder {
                Some(d) => format!(" and is not in the definitions folder {}", d.display()),
                None => String::new(),
            },
        })?;
        Ok(DefFile {
            name: name.to_string(),
            path: PathBuf::from(name),
            origin: Origin::BuiltIn,
            text: String::from_utf8(bytes.to_vec())
                .map_err(|_| DefsError::NotText(PathBuf::from(name)))?,
        })
    }

    /// The text of the file `name`.
    pub fn text(&self, name: &str) -> Result<String, DefsError> {
        self.file(name).map(|f| f.text)
    }

    /// The names of the files directly in `folder` (e.g. "reports/charts") ending in
    /// `.ending`, built-in and the folder's together, sorted.
    pub fn list(&self, folder: &str, ending: &str) -> Result<Vec<String>, DefsError> {
        let mut names: Vec<String> = embedded::DEFINITIONS
            .iter()
            .map(|(n, _)| n.to_string())
            .chain(self.folder_files()?.into_keys())
            .filter(|n| {
                n.rsplit_once('/').is_some_and(|(parent, file)| {
                    parent == folder && file.ends_with(&format!(".{ending}"))
                })
            })
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Every definition in `folder` made of `NAME.sql` and `NAME.toml` (either may be
    /// missing: the caller decides what a lone file means), built-in and the
    /// folder's together, in name order; names for which `pair` is false (shared SQL
    /// such as `_prelude`) are left out.
    pub fn pairs(&self, folder: &str, pair: impl Fn(&str) -> bool) -> Result<Vec<Pair>, DefsError> {
        let mut names: Vec<String> = self
            .list(folder, "sql")?
            .into_iter()
            .chain(self.list(folder, "toml")?)
            .map(|n| stem(&n))
            .filter(|n| pair(n.as_str()))
            .collect();
        names.sort();
        names.dedup();
        let listed_sql = self.list(folder, "sql")?;
        let listed_toml = self.list(folder, "toml")?;
        let mut pairs = Vec::new();
        for name in names {
            let sql = format!("{folder}/{name}.sql");
            let toml = format!("{folder}/{name}.toml");
            pairs.push(Pair {
                sql: listed_sql
                    .contains(&sql)
                    .then(|| self.file(&sql))
                    .transpose()?,
                meta: listed_toml
                    .contains(&toml)
                    .then(|| self.file(&toml))
                    .transpose()?,
                name,
            });
        }
        Ok(pairs)
    }

    /// The folder's definition files, by name, with where each comes from.
    pub fn overrides(&self) -> Result<Vec<(String, Origin)>, DefsError> {
        Ok(self
            .folder_files()?
            .into_keys()
            .map(|name| {
                let replaces = builtin(&name).is_some();
                (name, Origin::Folder { replaces })
            })
            .collect())
    }

    /// Where the definitions come from, for `status`.
    pub fn describe(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let Some(dir) = &self.folder else {
            return writeln!(
                out,
                "Definitions: built into this program (no --definitions folder)"
            );
        };
        let overrides = self.overrides().map_err(std::io::Error::other)?;
        writeln!(
            out,
            "Definitions: built into this program, with {} file(s) from the folder {}",
            overrides.len(),
            dir.display()
        )?;
        for (name, origin) in overrides {
            let what = match origin {
                Origin::Folder { replaces: true } => "replaces the built-in file",
                _ => "added",
            };
            writeln!(out, "  {name:<40} {what}")?;
        }
        Ok(())
    }

    /// Every definition file in the folder (name → path), refusing misplaced ones.
    fn folder_files(&self) -> Result<BTreeMap<String, PathBuf>, DefsError> {
        let mut files = BTreeMap::new();
        let Some(dir) = &self.folder else {
            return Ok(files);
        };
        let places = [
            ("schemas", &["toml"][..]),
            ("reports", &["sql", "toml"][..]),
            ("reports/charts", &["sql", "toml"][..]),
            ("checks", &["sql", "toml"][..]),
        ];
        if dir.join("parameters.toml").is_file() {
            files.insert("parameters.toml".to_string(), dir.join("parameters.toml"));
        }
        for (place, endings) in places {
            for path in definition_like(&dir.join(place))? {
                let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
                let file = file.unwrap_or_default();
                let name = format!("{place}/{file}");
                let ending = path.extension().map(|x| x.to_string_lossy().into_owned());
                if !endings.contains(&ending.as_deref().unwrap_or("")) {
                    return Err(misplaced(
                        &path,
                        &format!("only .{} files go in {place}/", endings.join(" and .")),
                    ));
                }
                if place == "checks" && builtin(&name).is_none() {
                    self.new_check_file(&path, &file)?;
                }
                files.insert(name, path);
            }
        }
        let known = ["schemas", "reports", "checks", "parameters.toml"];
        if !known.iter().any(|k| dir.join(k).exists()) {
            if let Some(stray) = definition_like(dir)?.first() {
                return Err(misplaced(
                    stray,
                    &format!(
                    "a definitions folder holds schemas/, reports/, checks/ or parameters.toml; \
                     to override reports, put this file in {}",
                    dir.join("reports").display()
                ),
                ));
            }
        }
        Ok(files)
    }

    /// A file in `checks/` that no built-in file has the name of: a new check when
    /// its name is a code (capitals, digits, `_`) and its other half (`.sql` or
    /// `.toml`) is there too; otherwise it would change nothing, so it is refused.
    fn new_check_file(&self, path: &Path, file: &str) -> Result<(), DefsError> {
        let code = stem(file);
        let is_code = !code.is_empty()
            && code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        let other = if file.ends_with(".sql") {
            format!("{code}.toml")
        } else {
            format!("{code}.sql")
        };
        let has_other =
            path.with_file_name(&other).is_file() || builtin(&format!("checks/{other}")).is_some();
        if is_code && has_other {
            return Ok(());
        }
        let why = if is_code {
            format!(
                "a new audit check needs both files, {code}.sql (its query) and {code}.toml \
                 (title, severity, …: see checks/README.md), and {other} is missing"
            )
        } else {
            "no audit check or audit SQL file has this name, so it would change nothing \
             (a new check is CODE.sql + CODE.toml, the code in capitals)"
                .to_string()
        };
        Err(misplaced(
            path,
            &format!(
                "{why}; the built-in files that can be replaced are: {}",
                self.builtin_names("checks/").join(", ")
            ),
        ))
    }

    fn builtin_names(&self, prefix: &str) -> Vec<String> {
        embedded::DEFINITIONS
            .iter()
            .filter_map(|(n, _)| n.strip_prefix(prefix).map(str::to_string))
            .collect()
    }
}

fn misplaced(path: &Path, message: &str) -> DefsError {
    DefsError::Misplaced {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// The `.sql`/`.toml` files directly in `dir` (none when it does not exist), sorted;
/// `reports/` also counts its `charts/` folder's place separately, so sub-folders
/// are skipped here and listed by the caller.
fn definition_like(dir: &Path) -> Result<Vec<PathBuf>, DefsError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(DefsError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| p.extension().is_some_and(|x| x == "sql" || x == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

static ACTIVE: OnceLock<DefSource> = OnceLock::new();

/// Chooses the definitions for this process (the CLI does, once, from
/// `--definitions`); without a call, the built-in ones are used.
pub fn select(source: DefSource) {
    // A second call (tests in one process) keeps the first choice.
    let _ = ACTIVE.set(source);
}

/// The definitions this process uses.
pub fn active() -> &'static DefSource {
    ACTIVE.get_or_init(DefSource::builtin)
}

/// The text of a definition file of this process's definitions, e.g.
/// `defs::text("parameters.toml")`.
pub fn text(name: &str) -> Result<String, DefsError> {
    active().text(name)
}

/// A person's death (table `a_death`), the one definition the ledger, the audit's
/// checks and screening share (`checks/death.sql`, source `pipeline/audit/death.sql`);
/// it needs the macro `as_of_end()`.
pub fn death_sql() -> Result<String, DefsError> {
    text("checks/death.sql")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_report_and_check_is_built_in() {
        let d = DefSource::builtin();
        assert!(d.list("schemas", "toml").unwrap().len() >= 20);
        assert!(d.text("reports/_prelude.sql").unwrap().contains("CREATE"));
        assert!(!d.list("reports/charts", "sql").unwrap().is_empty());
        // Every catalogue check's files: audit::catalogue's tests and tests/portable.rs.
        assert!(builtin("checks/prelude.sql").is_some());
        assert!(builtin("checks/fund_flows.sql").is_some());
        assert!(bad_samples().iter().any(|(n, _)| *n == "bad/README.md"));
    }

    #[test]
    fn a_folder_replaces_adds_and_refuses_by_name() {
        let tmp = std::env::temp_dir().join(format!("defs-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("reports")).unwrap();
        std::fs::write(tmp.join("reports/_prelude.sql"), "SELECT 1;").unwrap();
        std::fs::write(tmp.join("reports/99_new.sql"), "SELECT 2;").unwrap();
        std::fs::write(tmp.join("reports/README.md"), "notes").unwrap();
        let d = DefSource::with_folder(&tmp).unwrap();
        let prelude = d.file("reports/_prelude.sql").unwrap();
        assert_eq!(prelude.text, "SELECT 1;");
        assert_eq!(prelude.origin, Origin::Folder { replaces: true });
        assert_eq!(prelude.path, tmp.join("reports/_prelude.sql"));
        let reports = d.list("reports", "sql").unwrap();
        assert!(reports.contains(&"reports/99_new.sql".to_string()));
        assert!(reports.contains(&"reports/00_summary.sql".to_string()));
        assert_eq!(d.overrides().unwrap().len(), 2);
        let missing = d.text("parameters-nowhere.toml").unwrap_err().to_string();
        assert!(
            missing.contains("parameters-nowhere.toml")
                && missing.contains(&tmp.display().to_string())
        );

        std::fs::create_dir_all(tmp.join("checks")).unwrap();
        std::fs::write(tmp.join("checks/DUP_IDS.sql"), "SELECT 1").unwrap();
        let err = DefSource::with_folder(&tmp).unwrap_err().to_string();
        assert!(
            err.contains("DUP_IDS.sql") && err.contains("DUP_ID.sql"),
            "{err}"
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn a_reports_folder_given_as_the_definitions_folder_is_refused() {
        let tmp = std::env::temp_dir().join(format!("defs-unit-r-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::write(tmp.join("05_cancellations.toml"), "title = 'x'").unwrap();
        let err = DefSource::with_folder(&tmp).unwrap_err().to_string();
        assert!(
            err.contains("05_cancellations.toml") && err.contains("reports"),
            "{err}"
        );
        std::fs::remove_dir_all(&tmp).unwrap();
        assert!(DefSource::with_folder(&tmp).is_err());
    }
}
