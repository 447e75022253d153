//! Which kind a file is, and which of its columns is which.

use std::collections::BTreeSet;

use crate::schema::{header_key, Catalog, HeaderAt, Schema};

use super::layout::{title_facts, Fact};
use super::source::RawRow;

/// A file's header resolved against one schema.
#[derive(Debug, Clone)]
pub struct HeaderMap {
    /// For each schema column (in schema order), the index of the file column.
    pub index: Vec<Option<usize>>,
    /// File columns no schema column claims: kept aside in `_extra`, reported.
    pub extra: Vec<(usize, String)>,
    pub missing_required: Vec<String>,
    pub width: usize,
}

impl HeaderMap {
    pub fn matched(&self) -> usize {
        self.index.iter().filter(|i| i.is_some()).count()
    }
}

pub fn map_header(schema: &Schema, header: &[String]) -> HeaderMap {
    map_header_with(schema, header, &[])
}

/// As `map_header`, with the title block's facts: a required column a fact fills
/// need not be in the header.
pub fn map_header_with(schema: &Schema, header: &[String], facts: &[Fact]) -> HeaderMap {
    let keys: Vec<String> = header.iter().map(|h| header_key(h)).collect();
    let mut claimed = BTreeSet::new();
    let index: Vec<Option<usize>> = schema
        .columns
        .iter()
        .map(|c| {
            let names = c.header_keys();
            let found = keys
                .iter()
                .enumerate()
                .find(|(i, k)| !claimed.contains(i) && names.contains(k))
                .map(|(i, _)| i);
            if let Some(i) = found {
                claimed.insert(i);
            }
            found
        })
        .collect();
    let extra = header
        .iter()
        .enumerate()
        .filter(|(i, h)| !claimed.contains(i) && !h.trim().is_empty())
        .map(|(i, h)| (i, h.trim().to_string()))
        .collect();
    let missing_required = schema
        .columns
        .iter()
        .zip(&index)
        .enumerate()
        .filter(|(k, (c, i))| c.required && i.is_none() && !facts.iter().any(|f| f.column == *k))
        .map(|(_, (c, _))| c.label())
        .collect();
    HeaderMap {
        index,
        extra,
        missing_required,
        width: header.len(),
    }
}

/// Picks the kind whose required columns are all present and which claims the
/// most columns; the file name breaks ties. The error explains what was expected.
pub fn detect<'a>(
    catalog: &'a Catalog,
    header: &[String],
    file_name: &str,
) -> Result<(&'a Schema, HeaderMap), String> {
    let mut scored: Vec<(&Schema, HeaderMap)> = catalog
        .schemas
        .iter()
        .map(|s| (s, map_header(s, header)))
        .collect();
    // Most columns claimed first; among equals, the kind named in the file name.
    let lower = file_name.to_lowercase();
    scored.sort_by_key(|(s, m)| {
        (
            std::cmp::Reverse(m.matched()),
            !lower.contains(&s.kind),
            s.kind.clone(),
        )
    });
    let complete: Vec<&(&Schema, HeaderMap)> = scored
        .iter()
        .filter(|(_, m)| m.missing_required.is_empty() && m.matched() > 0)
        .collect();
    if let Some((schema, map)) = complete.first() {
        let tied: Vec<&str> = complete
            .iter()
            .filter(|(s, m)| m.matched() == map.matched() && s.kind != schema.kind)
            .map(|(s, _)| s.kind.as_str())
            .collect();
        if !tied.is_empty() && !lower.contains(&schema.kind) {
            return Err(format!(
                "the header fits several kinds ({}, {}); name the kind with --kind",
                schema.kind,
                tied.join(", ")
            ));
        }
        return Ok((schema, map.clone()));
    }
    let (best, map) = &scored[0];
    if map.matched() >= 2 {
        Err(format!(
            "looks like {} ({}) but required column(s) are missing: {}",
            best.kind,
            best.title,
            map.missing_required.join(", ")
        ))
    } else {
        Err(format!(
            "no recognisable header row; expected the header of one of: {}",
            catalog.kind_names().join(", ")
        ))
    }
}

/// Where a file's header is and what it is: the row of `head` taken as the header,
/// the kind and its column map, and the title block's facts (the rows above it).
pub struct Located<'a> {
    pub schema: &'a Schema,
    pub map: HeaderMap,
    pub at: usize,
    pub facts: Vec<Fact>,
}

fn cells(row: &RawRow) -> Vec<String> {
    row.cells.iter().map(str::to_string).collect()
}

/// A kind's header at row `at` of `head` (the rows above it its title block).
fn at_row<'a>(schema: &'a Schema, head: &[RawRow], at: usize) -> Located<'a> {
    let facts = title_facts(schema, &head[..at]);
    let map = map_header_with(schema, &cells(&head[at]), &facts);
    Located {
        schema,
        map,
        at,
        facts,
    }
}

fn complete(l: &Located) -> bool {
    l.map.missing_required.is_empty() && l.map.matched() > 0
}

/// Finds the header among the first rows of a file (`head`): the first row, as for
/// every kind; or, for a kind whose layout says so, the first row below a title
/// block whose cells name its required columns. The error names the row it is
/// about (an index into `head`) and what was expected.
pub fn locate<'a>(
    catalog: &'a Catalog,
    forced: Option<&'a Schema>,
    head: &[RawRow],
    file_name: &str,
) -> Result<Located<'a>, (usize, String)> {
    if let Some(schema) = forced {
        let first = at_row(schema, head, 0);
        if schema.header_at() == HeaderAt::FirstRow || complete(&first) {
            return Ok(first);
        }
        // None complete: the first row, whose missing columns the caller names.
        return Ok((1..head.len())
            .map(|at| at_row(schema, head, at))
            .find(complete)
            .unwrap_or(first));
    }
    let first_error = match detect(catalog, &cells(&head[0]), file_name) {
        Ok((schema, map)) => {
            return Ok(Located {
                schema,
                map,
                at: 0,
                facts: Vec::new(),
            })
        }
        Err(e) => e,
    };
    let lower = file_name.to_lowercase();
    let below_title: Vec<&Schema> = catalog
        .schemas
        .iter()
        .filter(|s| s.header_at() == HeaderAt::FirstMatch)
        .collect();
    let mut partial: Option<(usize, Located)> = None;
    for at in 1..head.len() {
        let mut found: Vec<Located> = below_title.iter().map(|s| at_row(s, head, at)).collect();
        found.sort_by_key(|l| {
            (
                std::cmp::Reverse(l.map.matched()),
                !lower.contains(&l.schema.kind),
                l.schema.kind.clone(),
            )
        });
        if let Some(i) = found.iter().position(complete) {
            return Ok(found.swap_remove(i));
        }
        if let Some(best) = found.into_iter().next() {
            if best.map.matched() >= 2
                && partial
                    .as_ref()
                    .is_none_or(|(_, p)| best.map.matched() > p.map.matched())
            {
                partial = Some((at, best));
            }
        }
    }
    match partial {
        Some((at, l)) if first_error.starts_with("no recognisable") => Err((
            at,
            format!(
                "looks like {} ({}) below a title block but required column(s) are missing: {}",
                l.schema.kind,
                l.schema.title,
                l.map.missing_required.join(", ")
            ),
        )),
        _ => Err((0, first_error)),
    }
}
