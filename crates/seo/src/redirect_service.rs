//! The redirect service: editors list, create, change and delete redirect rules (with
//! versions, audit entries and an event in one unit of work, checked against every rule in
//! force inside it); the public fallback reads the rules in force.

use std::sync::Arc;

use nexus_kernel::{Actor, Clock, Page, PageRequest};
use nexus_outbox::EventEnvelope;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::SeoError;
use crate::permissions::SEO_REDIRECTS;
use crate::ports::{RedirectRepository, RedirectUnitOfWork};
use crate::redirect_rules::{
    MAX_NOTE_CHARS, MAX_REDIRECT_RULES, NewRedirectRule, RedirectAudit, RedirectChanged,
    RedirectRule, RedirectRuleChange,
};
use crate::redirects::{Redirect, RedirectKind};

/// Redirect rules, for editors and for the public fallback.
pub struct RedirectService {
    repo: Arc<dyn RedirectRepository>,
    uow: Arc<dyn RedirectUnitOfWork>,
    clock: Arc<dyn Clock>,
    reserved: Vec<String>,
}

fn require(actor: &Actor) -> Result<(), SeoError> {
    if actor.can(SEO_REDIRECTS) {
        Ok(())
    } else {
        Err(SeoError::Forbidden)
    }
}

/// A trimmed note, `None` when blank.
fn note(raw: Option<String>) -> Result<Option<String>, SeoError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    if raw.chars().count() > MAX_NOTE_CHARS {
        return Err(SeoError::NoteTooLong {
            max: MAX_NOTE_CHARS,
        });
    }
    let trimmed = raw.trim();
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

fn target_of(rule: &Redirect) -> Option<String> {
    rule.to().map(|t| t.as_str().to_owned())
}

impl RedirectService {
    /// A service over these ports. `reserved` are the path prefixes the service answers
    /// itself (`/api/`, `/health`...): a rule from one of them would never apply, so it is
    /// refused.
    #[must_use]
    pub fn new(
        repo: Arc<dyn RedirectRepository>,
        uow: Arc<dyn RedirectUnitOfWork>,
        clock: Arc<dyn Clock>,
        reserved: Vec<String>,
    ) -> Self {
        Self {
            repo,
            uow,
            clock,
            reserved,
        }
    }

    /// The rule `from`, kind and target, checked on its own and against the reserved paths.
    fn rule(&self, from: &str, kind: RedirectKind, to: Option<&str>) -> Result<Redirect, SeoError> {
        let rule = Redirect::new(from, kind, to)?;
        if let Some(prefix) = self
            .reserved
            .iter()
            .find(|p| is_under(rule.from(), p.as_str()))
        {
            return Err(SeoError::ReservedSource(prefix.clone()));
        }
        Ok(rule)
    }

    fn audit(&self, actor: &Actor, id: Uuid, action: &str, changes: Value) -> RedirectAudit {
        RedirectAudit {
            id: Uuid::now_v7(),
            at: self.clock.now(),
            actor: actor.user_id().as_uuid(),
            rule_id: id,
            action: action.to_owned(),
            changes,
        }
    }

    fn event(&self, rule: &RedirectRule, deleted: bool) -> Result<EventEnvelope, SeoError> {
        Ok(EventEnvelope::new(
            &RedirectChanged {
                rule_id: rule.id,
                version: (!deleted).then_some(rule.version),
                source: rule.rule.from().to_owned(),
            },
            self.clock.now(),
        )?)
    }

    async fn load(&self, id: Uuid) -> Result<RedirectRule, SeoError> {
        self.repo.find(id).await?.ok_or(SeoError::RedirectNotFound)
    }

    /// One page of rules by source path; with `query`, those whose source or target
    /// contains it.
    ///
    /// # Errors
    /// `Forbidden` without `seo.redirects`; `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn list(
        &self,
        actor: &Actor,
        query: Option<String>,
        page: PageRequest,
    ) -> Result<Page<RedirectRule>, SeoError> {
        require(actor)?;
        self.repo.list(query, page).await
    }

    /// One rule.
    ///
    /// # Errors
    /// `Forbidden`, `RedirectNotFound`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(rule_id = %id))]
    pub async fn get(&self, actor: &Actor, id: Uuid) -> Result<RedirectRule, SeoError> {
        require(actor)?;
        self.load(id).await
    }

    /// Creates a rule (version 1), checked against every rule in force.
    ///
    /// # Errors
    /// `Forbidden`; `Redirect` (a bad source or target, a target that does not match the
    /// kind, a loop, a chain too long); `ReservedSource`; `NoteTooLong`; `SourceTaken`;
    /// `TooManyRedirects`; `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn create(
        &self,
        actor: &Actor,
        input: NewRedirectRule,
    ) -> Result<RedirectRule, SeoError> {
        require(actor)?;
        let rule = self.rule(&input.source, input.kind, input.target.as_deref())?;
        let note = note(input.note)?;
        let mut tx = self.uow.begin().await?;
        let existing = tx.redirects().all(MAX_REDIRECT_RULES + 1).await?;
        if existing.iter().any(|r| r.rule.from() == rule.from()) {
            return Err(SeoError::SourceTaken);
        }
        if existing.len() >= MAX_REDIRECT_RULES as usize {
            return Err(SeoError::TooManyRedirects {
                max: MAX_REDIRECT_RULES,
            });
        }
        let in_force: Vec<Redirect> = existing.into_iter().map(|r| r.rule).collect();
        rule.check_against(&in_force)?;
        let now = self.clock.now();
        let by = Some(actor.user_id().as_uuid());
        let saved = RedirectRule {
            id: Uuid::now_v7(),
            rule,
            note,
            version: 1,
            created_at: now,
            created_by: by,
            updated_at: now,
            updated_by: by,
        };
        tx.redirects().insert(&saved).await?;
        tx.redirects()
            .insert_audit(&self.audit(
                actor,
                saved.id,
                "created",
                json!({
                    "fields": ["source", "kind", "target", "note"],
                    "version": 1,
                    "source": saved.rule.from(),
                    "kind": saved.rule.kind().status(),
                    "target": target_of(&saved.rule),
                }),
            ))
            .await?;
        tx.record(self.event(&saved, false)?);
        tx.commit().await?;
        Ok(saved)
    }

    /// Changes some fields of a rule read at version `expected`, checked against every
    /// other rule in force.
    ///
    /// # Errors
    /// `Forbidden`, `RedirectNotFound`, `Conflict` (stale `expected`), and those of
    /// [`RedirectService::create`] but `TooManyRedirects`.
    #[tracing::instrument(skip_all, fields(rule_id = %id))]
    pub async fn update(
        &self,
        actor: &Actor,
        id: Uuid,
        expected: i64,
        change: RedirectRuleChange,
    ) -> Result<RedirectRule, SeoError> {
        require(actor)?;
        let current = self.load(id).await?;
        if current.version != expected {
            return Err(SeoError::Conflict);
        }
        let kind = change.kind.unwrap_or(current.rule.kind());
        let target = match change.target {
            Some(target) => target,
            None if kind == RedirectKind::Gone => None,
            None => target_of(&current.rule),
        };
        let source = change
            .source
            .unwrap_or_else(|| current.rule.from().to_owned());
        let rule = self.rule(&source, kind, target.as_deref())?;
        let note = match change.note {
            Some(n) => note(n)?,
            None => current.note.clone(),
        };
        let mut fields = Vec::new();
        if rule.from() != current.rule.from() {
            fields.push("source");
        }
        if rule.kind() != current.rule.kind() {
            fields.push("kind");
        }
        if rule.to() != current.rule.to() {
            fields.push("target");
        }
        if note != current.note {
            fields.push("note");
        }
        let mut tx = self.uow.begin().await?;
        let others: Vec<Redirect> = tx
            .redirects()
            .all(MAX_REDIRECT_RULES + 1)
            .await?
            .into_iter()
            .filter(|r| r.id != id)
            .map(|r| r.rule)
            .collect();
        if others.iter().any(|r| r.from() == rule.from()) {
            return Err(SeoError::SourceTaken);
        }
        rule.check_against(&others)?;
        let saved = RedirectRule {
            rule,
            note,
            version: expected.checked_add(1).ok_or(SeoError::Conflict)?,
            updated_at: self.clock.now(),
            updated_by: Some(actor.user_id().as_uuid()),
            ..current
        };
        tx.redirects().update(&saved, expected).await?;
        tx.redirects()
            .insert_audit(&self.audit(
                actor,
                id,
                "updated",
                json!({
                    "fields": fields,
                    "version": saved.version,
                    "source": saved.rule.from(),
                    "kind": saved.rule.kind().status(),
                    "target": target_of(&saved.rule),
                }),
            ))
            .await?;
        tx.record(self.event(&saved, false)?);
        tx.commit().await?;
        Ok(saved)
    }

    /// Deletes a rule read at version `expected`; its audit entries stay.
    ///
    /// # Errors
    /// `Forbidden`, `RedirectNotFound`, `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(rule_id = %id))]
    pub async fn delete(&self, actor: &Actor, id: Uuid, expected: i64) -> Result<(), SeoError> {
        require(actor)?;
        let current = self.load(id).await?;
        if current.version != expected {
            return Err(SeoError::Conflict);
        }
        let mut tx = self.uow.begin().await?;
        tx.redirects().delete(id, expected).await?;
        tx.redirects()
            .insert_audit(&self.audit(
                actor,
                id,
                "deleted",
                json!({
                    "fields": [],
                    "version": expected,
                    "source": current.rule.from(),
                    "kind": current.rule.kind().status(),
                    "target": target_of(&current.rule),
                }),
            ))
            .await?;
        tx.record(self.event(&current, true)?);
        tx.commit().await?;
        Ok(())
    }

    /// Every rule in force, for the public fallback (no caller to check: it only reads
    /// what every request may be answered with).
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn in_force(&self) -> Result<Vec<Redirect>, SeoError> {
        Ok(self
            .repo
            .all(MAX_REDIRECT_RULES)
            .await?
            .into_iter()
            .map(|r| r.rule)
            .collect())
    }
}

/// Whether `path` is `prefix` or under it (`/api/` covers `/api/x`; `/health` covers
/// `/health`, `/health/live` and `/healthz`).
fn is_under(path: &str, prefix: &str) -> bool {
    let bare = prefix.trim_end_matches('/');
    path.starts_with(prefix) || path == bare
}

#[cfg(test)]
#[path = "redirect_service_tests.rs"]
mod tests;
