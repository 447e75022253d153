//! Which kind a file is, and which of its columns is which.

use std::collections::BTreeSet;

use crate::schema::{header_key, Catalog, Schema};

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
        .filter(|(c, i)| c.required && i.is_none())
        .map(|(c, _)| c.label())
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
