//! What every context writes to the audit log: one [`AuditRecord`] per staff action that
//! changes data, stored in the same transaction as the change (the adapters stamp the
//! request id), and [`summarize`], the before/after summary with secrets left out.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{Actor, Role, UserId};

/// Longest text shown from → to in a summary; longer values (and objects, lists) are only
/// named.
pub const SMALL_SCALAR_CHARS: usize = 200;

/// What is written instead of a secret-looking value.
pub const REDACTED: &str = "[redacted]";

/// Who acted: a signed-in user with the role they had at the time; `None` in a record is
/// the system (a worker, a scheduler, a webhook).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditActor {
    /// The user.
    pub user_id: UserId,
    /// Their role when they acted.
    pub role: Role,
}

impl From<&Actor> for AuditActor {
    fn from(actor: &Actor) -> Self {
        Self {
            user_id: actor.user_id(),
            role: actor.role(),
        }
    }
}

/// One recorded action. Append-only: nothing updates or deletes a record once written.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Its id (UUID v7, so ids follow time).
    pub id: Uuid,
    /// Who; `None` for the system.
    pub actor: Option<AuditActor>,
    /// `<context>.<verb>`: `users.role_changed`, `customers.assigned`...
    pub action: String,
    /// The kind of record acted on: `user`, `customer`, `response`, `product`...
    pub target_kind: String,
    /// Its id.
    pub target_id: String,
    /// What changed ([`summarize`]) and whatever the action adds; never a secret.
    pub summary: Value,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

impl AuditRecord {
    /// A record of `action` by `actor` (`None`: the system) on `target_kind` `target_id`
    /// at `at`. The summary is [`redact`]ed here, so no caller can store a secret by
    /// mistake.
    #[must_use]
    pub fn new(
        actor: Option<&Actor>,
        action: impl Into<String>,
        target_kind: impl Into<String>,
        target_id: impl ToString,
        summary: Value,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            actor: actor.map(AuditActor::from),
            action: action.into(),
            target_kind: target_kind.into(),
            target_id: target_id.to_string(),
            summary: redact(summary),
            occurred_at: at,
        }
    }
}

/// Whether a field name looks like it holds a secret (a password, a hash, a token, a
/// one-time code, a TOTP secret): such values are never written to the log.
#[must_use]
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "hash", "secret", "token", "totp", "otp"]
        .iter()
        .any(|w| k.contains(w))
        || k.ends_with("code")
}

/// `value` with the value of every secret-looking key ([`is_secret_key`]), at any depth,
/// replaced by [`REDACTED`].
#[must_use]
pub fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    if is_secret_key(&k) {
                        (k, Value::String(REDACTED.to_owned()))
                    } else {
                        (k, redact(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

/// Names of the top-level fields of `new` (a JSON object) that differ from `old`, sorted;
/// every field when `old` is `None`.
#[must_use]
pub fn changed_fields(old: Option<&Value>, new: &Value) -> Vec<String> {
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

/// The summary of going from `old` to `new` (`None`: created): `{"fields": [names
/// changed], "values": {name: {"from", "to"}}}`, values only for small scalars and never
/// for a secret-looking field (which is named, its values left out).
#[must_use]
pub fn summarize<T: Serialize + ?Sized>(old: Option<&T>, new: &T) -> Value {
    let new_value = serde_json::to_value(new).unwrap_or(Value::Null);
    let old_value = old.and_then(|o| serde_json::to_value(o).ok());
    summarize_values(old_value.as_ref(), &new_value)
}

/// [`summarize`] over JSON values already at hand.
#[must_use]
pub fn summarize_values(old: Option<&Value>, new: &Value) -> Value {
    let fields = changed_fields(old, new);
    let mut values = Map::new();
    for f in &fields {
        if is_secret_key(f) {
            continue;
        }
        let to = new.get(f).cloned().unwrap_or(Value::Null);
        let from = old.and_then(|o| o.get(f).cloned()).unwrap_or(Value::Null);
        if small(&from) && small(&to) {
            values.insert(f.clone(), json!({ "from": from, "to": to }));
        }
    }
    json!({ "fields": fields, "values": values })
}

/// The summary of one field going from `from` to `to`.
#[must_use]
pub fn field_change(field: &str, from: impl Serialize, to: impl Serialize) -> Value {
    let from = serde_json::to_value(from).unwrap_or(Value::Null);
    let to = serde_json::to_value(to).unwrap_or(Value::Null);
    summarize_values(Some(&json!({ field: from })), &json!({ field: to }))
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

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Account {
        name: String,
        role: &'static str,
        password_hash: String,
        bio: String,
        tags: Vec<&'static str>,
    }

    fn account(name: &str, role: &'static str, hash: &str) -> Account {
        Account {
            name: name.to_owned(),
            role,
            password_hash: hash.to_owned(),
            bio: "b".repeat(SMALL_SCALAR_CHARS + 1),
            tags: vec!["a"],
        }
    }

    #[test]
    fn a_summary_names_changed_fields_and_shows_small_scalars() {
        let summary = summarize(
            Some(&account("Ann", "CSO", "h1")),
            &account("Ann", "MANAGER", "h1"),
        );

        assert_eq!(summary["fields"], json!(["role"]));
        assert_eq!(
            summary["values"],
            json!({"role": {"from": "CSO", "to": "MANAGER"}})
        );
    }

    #[test]
    fn a_created_record_names_every_field_and_hides_big_values() {
        let summary = summarize(None, &account("Ann", "CSO", "h1"));

        assert_eq!(
            summary["fields"],
            json!(["bio", "name", "passwordHash", "role", "tags"])
        );
        assert!(summary["values"].get("bio").is_none());
        assert!(summary["values"].get("tags").is_none());
        assert_eq!(
            summary["values"]["name"],
            json!({"from": null, "to": "Ann"})
        );
    }

    #[test]
    fn a_changed_secret_is_named_but_its_values_never_appear() {
        let summary = summarize(
            Some(&account("Ann", "CSO", "old-hash")),
            &account("Ann", "CSO", "new-hash"),
        );

        assert_eq!(summary["fields"], json!(["passwordHash"]));
        let text = summary.to_string();
        assert!(
            !text.contains("old-hash") && !text.contains("new-hash"),
            "{text}"
        );
    }

    #[test]
    fn redaction_reaches_every_depth_and_every_secret_word() {
        let raw = json!({
            "email": "a@example.com",
            "password": "p",
            "nested": {"refreshToken": "t", "list": [{"totpSecret": "s", "code": "123456"}]},
            "otpCode": "9",
            "passwordHash": "h",
        });

        let clean = redact(raw);

        assert_eq!(clean["email"], "a@example.com");
        for path in [
            "/password",
            "/nested/refreshToken",
            "/nested/list/0/totpSecret",
            "/nested/list/0/code",
            "/otpCode",
            "/passwordHash",
        ] {
            assert_eq!(clean.pointer(path), Some(&json!(REDACTED)), "{path}");
        }
    }

    #[test]
    fn a_record_redacts_its_summary_and_keeps_the_actor_role() {
        let actor = Actor::new(UserId::new(), Role::Admin, &[]);
        let at = Utc::now();

        let record = AuditRecord::new(
            Some(&actor),
            "users.created",
            "user",
            actor.user_id(),
            json!({"password": "hunter2"}),
            at,
        );

        assert_eq!(record.summary["password"], REDACTED);
        assert_eq!(
            record.actor,
            Some(AuditActor {
                user_id: actor.user_id(),
                role: Role::Admin
            })
        );
        assert_eq!(record.target_id, actor.user_id().to_string());
        assert_eq!(record.id.get_version_num(), 7);
    }

    #[test]
    fn one_field_change_shows_from_and_to() {
        let summary = field_change("priceMinor", 100, 250);

        assert_eq!(summary["fields"], json!(["priceMinor"]));
        assert_eq!(
            summary["values"]["priceMinor"],
            json!({"from": 100, "to": 250})
        );
    }
}
