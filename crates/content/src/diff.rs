//! Field-level differences between two versions of a page.

use serde::Serialize;
use serde_json::Value;

use crate::pages::PageContent;

/// One top-level field that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDiff {
    /// The field (`title`, `slug`, `seo`...; blocks are in [`PageDiff::blocks`]).
    pub field: String,
    /// Its value in the older version.
    pub old: Value,
    /// Its value in the newer version.
    pub new: Value,
}

/// Which blocks differ, by index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlocksDiff {
    /// Indexes (in `to`) that `from` does not have.
    pub added: Vec<usize>,
    /// Indexes (in `from`) that `to` does not have.
    pub removed: Vec<usize>,
    /// Indexes both have, with different content.
    pub changed: Vec<usize>,
}

/// What changed from version `from` to version `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageDiff {
    /// The older version number.
    pub from: i64,
    /// The newer version number.
    pub to: i64,
    /// Top-level fields (other than blocks) that differ.
    pub fields: Vec<FieldDiff>,
    /// Blocks that differ.
    pub blocks: BlocksDiff,
}

/// The difference between the contents of versions `from` and `to`. Blocks are compared by
/// position: an index both have is `changed` when its block differs; the extra indexes of
/// the longer list are `added` or `removed`.
#[must_use]
pub fn diff(from: i64, old: &PageContent, to: i64, new: &PageContent) -> PageDiff {
    let old_value = serde_json::to_value(old).unwrap_or(Value::Null);
    let new_value = serde_json::to_value(new).unwrap_or(Value::Null);
    let fields = changed_fields(Some(&old_value), &new_value)
        .into_iter()
        .filter(|f| f != "blocks")
        .map(|f| FieldDiff {
            old: old_value.get(&f).cloned().unwrap_or(Value::Null),
            new: new_value.get(&f).cloned().unwrap_or(Value::Null),
            field: f,
        })
        .collect();
    let common = old.blocks.len().min(new.blocks.len());
    let blocks = BlocksDiff {
        added: (common..new.blocks.len()).collect(),
        removed: (common..old.blocks.len()).collect(),
        changed: (0..common)
            .filter(|&i| old.blocks[i] != new.blocks[i])
            .collect(),
    };
    PageDiff {
        from,
        to,
        fields,
        blocks,
    }
}

/// Names of the top-level fields of `new` (a JSON object) that differ from `old`, sorted;
/// every field when `old` is `None`.
pub(crate) fn changed_fields(old: Option<&Value>, new: &Value) -> Vec<String> {
    let mut names: Vec<String> = new
        .as_object()
        .into_iter()
        .flat_map(|o| o.iter())
        .filter(|(k, v)| old.and_then(|o| o.get(k.as_str())) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    if let Some(Value::Object(o)) = old {
        for k in o.keys() {
            if new.get(k).is_none() {
                names.push(k.clone());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::pages::PageInput;

    fn content(title: &str, texts: &[&str]) -> PageContent {
        PageInput {
            key: "home".to_owned(),
            slug: "home".to_owned(),
            title: title.to_owned(),
            blocks: texts
                .iter()
                .map(|t| json!({"type": "richText", "text": t}))
                .collect(),
            ..PageInput::default()
        }
        .into_content()
        .expect("valid")
    }

    #[test]
    fn a_diff_lists_changed_fields_and_block_indexes() {
        let d = diff(
            1,
            &content("A", &["x", "y", "z"]),
            3,
            &content("B", &["x", "Y"]),
        );
        assert_eq!(d.fields.len(), 1);
        assert_eq!(d.fields[0].field, "title");
        assert_eq!(
            (d.fields[0].old.clone(), d.fields[0].new.clone()),
            (json!("A"), json!("B"))
        );
        assert_eq!(
            d.blocks,
            BlocksDiff {
                added: vec![],
                removed: vec![2],
                changed: vec![1]
            }
        );
        let grown = diff(1, &content("A", &["x"]), 2, &content("A", &["x", "n"]));
        assert!(grown.fields.is_empty());
        assert_eq!(grown.blocks.added, [1]);
    }
}
