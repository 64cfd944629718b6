//! `--set key=value`: change one field of a preset's TOML tree before it is deserialised, so the
//! override gets exactly the same checks as the file.

/// Keys that exclude each other: setting one removes the other, so `--set training.steps=500`
/// works on a preset that says `epochs = 3`.
const EXCLUSIVE: &[(&str, &str)] = &[("training.steps", "training.epochs")];

/// Why a `--set` assignment cannot apply (the preset it applies to is named by `SpecError`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct OverrideError(pub String);

pub fn apply_override(tree: &mut toml::Table, assignment: &str) -> Result<(), OverrideError> {
    let (key, raw) = assignment.split_once('=').ok_or_else(|| {
        OverrideError(format!(
            "`{assignment}` is not of the form key=value (e.g. duplication.rate=0.3)"
        ))
    })?;
    let key = key.trim();
    let raw = raw.trim();
    if key.is_empty() || key.split('.').any(|p| p.is_empty()) {
        return Err(OverrideError(format!(
            "`{key}` is not a dotted field path (e.g. training.epochs)"
        )));
    }
    let value = parse_value(raw);
    for (a, b) in EXCLUSIVE {
        if key == *a {
            remove_path(tree, b);
        } else if key == *b {
            remove_path(tree, a);
        }
    }
    let parts: Vec<&str> = key.split('.').collect();
    let mut table = tree;
    for part in &parts[..parts.len() - 1] {
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry.as_table_mut().ok_or_else(|| {
            OverrideError(format!(
                "`{part}` in `{key}` is a value, not a table of fields"
            ))
        })?;
    }
    table.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

/// A TOML literal if it is one (`0.3`, `true`, `[1, 2]`), else a bare string (`pgd`).
fn parse_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&doc) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or(toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.trim_matches('"').to_string()),
    }
}

fn remove_path(tree: &mut toml::Table, key: &str) {
    let parts: Vec<&str> = key.split('.').collect();
    let mut table = tree;
    for part in &parts[..parts.len() - 1] {
        match table.get_mut(*part).and_then(|v| v.as_table_mut()) {
            Some(t) => table = t,
            None => return,
        }
    }
    table.remove(parts[parts.len() - 1]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_and_bare_strings() {
        let mut t = toml::Table::new();
        apply_override(&mut t, "a.b=0.5").unwrap();
        apply_override(&mut t, "a.c=pgd").unwrap();
        apply_override(&mut t, "a.d=[1, 2]").unwrap();
        apply_override(&mut t, "e=true").unwrap();
        assert_eq!(t["a"]["b"].as_float(), Some(0.5));
        assert_eq!(t["a"]["c"].as_str(), Some("pgd"));
        assert_eq!(t["a"]["d"].as_array().unwrap().len(), 2);
        assert_eq!(t["e"].as_bool(), Some(true));
    }

    #[test]
    fn rejects_malformed_assignments() {
        let mut t = toml::Table::new();
        assert!(apply_override(&mut t, "novalue").is_err());
        assert!(apply_override(&mut t, ".x=1").is_err());
        apply_override(&mut t, "x=1").unwrap();
        assert!(
            apply_override(&mut t, "x.y=1")
                .unwrap_err()
                .0
                .contains("not a table")
        );
    }

    #[test]
    fn steps_replaces_epochs() {
        let mut t: toml::Table = toml::from_str("[training]\nepochs = 3").unwrap();
        apply_override(&mut t, "training.steps=10").unwrap();
        assert!(t["training"].get("epochs").is_none());
        assert_eq!(t["training"]["steps"].as_integer(), Some(10));
    }
}
