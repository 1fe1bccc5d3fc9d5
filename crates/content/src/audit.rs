//! The content audit trail: one [`AuditEntry`] per write, stored in the unit of work of
//! the write itself, so there is never a change without its entry nor an entry without it.

use chrono::{DateTime, Utc};
use nexus_kernel::UserId;
use serde_json::{Map, Value, json};

use crate::AuditEntryId;
use crate::diff::changed_fields;
use crate::pages::PageContent;

/// The kind of entity an entry is about (`page` now; blog posts and the rest later).
pub const ENTITY_PAGE: &str = "page";
/// The kind of a team member's entries.
pub const ENTITY_TEAM_MEMBER: &str = "team_member";
/// The kind of a blog post's entries.
pub const ENTITY_POST: &str = "post";

/// Longest text shown old → new in a summary; longer values (and blocks) are only named.
const SMALL_SCALAR_CHARS: usize = 200;

/// One recorded write.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Id.
    pub id: AuditEntryId,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (`None`: the scheduler).
    pub actor: Option<UserId>,
    /// `page`.
    pub entity_kind: String,
    /// The entity's id.
    pub entity_id: uuid::Uuid,
    /// `created`, `updated`, `restored`, `published`, `unpublished`, `scheduled`,
    /// `deleted`.
    pub action: String,
    /// `{"fields": [names changed], "values": {name: {"from", "to"}}}` for small scalars,
    /// plus whatever the action adds (`version`, `restoredFrom`, `publishAt`...).
    pub changes: Value,
}

/// Filters of the audit list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this kind.
    pub entity_kind: Option<String>,
    /// Only this entity.
    pub entity_id: Option<uuid::Uuid>,
}

/// The summary of going from `old` to `new` (`None` when created).
#[must_use]
pub fn summarize(old: Option<&PageContent>, new: &PageContent) -> Value {
    let new_value = serde_json::to_value(new).unwrap_or(Value::Null);
    let old_value = old.and_then(|o| serde_json::to_value(o).ok());
    let fields = changed_fields(old_value.as_ref(), &new_value);
    let mut values = Map::new();
    for f in &fields {
        let to = new_value.get(f).cloned().unwrap_or(Value::Null);
        let from = old_value
            .as_ref()
            .and_then(|o| o.get(f).cloned())
            .unwrap_or(Value::Null);
        if small(&from) && small(&to) {
            values.insert(f.clone(), json!({ "from": from, "to": to }));
        }
    }
    json!({ "fields": fields, "values": values })
}

fn small(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
        Value::String(s) => s.chars().count() <= SMALL_SCALAR_CHARS,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::PageInput;

    fn content(title: &str, text: &str) -> PageContent {
        PageInput {
            key: "about".to_owned(),
            slug: "about".to_owned(),
            title: title.to_owned(),
            blocks: vec![json!({"type": "richText", "text": text})],
            ..PageInput::default()
        }
        .into_content()
        .expect("valid")
    }

    #[test]
    fn a_summary_names_changed_fields_and_shows_small_scalars() {
        let summary = summarize(Some(&content("Old", "a")), &content("New", "b"));
        assert_eq!(summary["fields"], json!(["blocks", "title"]));
        assert_eq!(
            summary["values"],
            json!({"title": {"from": "Old", "to": "New"}})
        );
        let created = summarize(None, &content("New", "b"));
        assert_eq!(
            created["fields"],
            json!(["blocks", "key", "locale", "seo", "slug", "title"])
        );
    }
}
