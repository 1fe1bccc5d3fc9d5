//! An item's audit as it is kept between audits, and the site report built from the kept
//! audits.

use chrono::{DateTime, Utc};
use nexus_kernel::Page;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rules::{Audit, Finding, Severity, normalized};
use crate::subject::{SeoSubject, SubjectKind};

/// One item's last audit, with what the other items' audits compare against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAudit {
    /// The item's kind.
    pub kind: SubjectKind,
    /// The item's id in its context.
    pub id: Uuid,
    /// Its public path.
    pub path: String,
    /// Its slug.
    pub slug: String,
    /// The title search engines get (the meta title, else the title).
    pub title: String,
    /// That title as the duplicate rule compares it ([`normalized`]).
    pub title_key: String,
    /// The meta description as the duplicate rule compares it, when it has one.
    pub description_key: Option<String>,
    /// 100 less the weight of each finding.
    pub score: u32,
    /// What the rules found, worst first.
    pub findings: Vec<Finding>,
    /// When it was audited.
    pub audited_at: DateTime<Utc>,
}

impl StoredAudit {
    /// The audit of `subject` as it is kept.
    #[must_use]
    pub fn of(subject: &SeoSubject, audit: Audit, at: DateTime<Utc>) -> Self {
        Self {
            kind: subject.kind,
            id: subject.id,
            path: subject.path.clone(),
            slug: subject.slug.clone(),
            title: subject.effective_title().to_owned(),
            title_key: normalized(subject.effective_title()),
            description_key: subject.effective_description().map(normalized),
            score: audit.score,
            findings: audit.findings,
            audited_at: at,
        }
    }

    /// How many findings have `severity`.
    #[must_use]
    pub fn count(&self, severity: Severity) -> u32 {
        let n = self
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

/// Totals over every kept audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditTotals {
    /// How many items are audited.
    pub items: u64,
    /// The sum of their scores.
    pub score_sum: u64,
    /// Findings of severity error.
    pub errors: u64,
    /// Findings of severity warning.
    pub warnings: u64,
    /// Findings of severity notice.
    pub notices: u64,
}

/// The site report: its score, counts by severity and one page of items, worst first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeoReport {
    /// The mean of the items' scores, rounded down; 100 when no item is audited.
    pub score: u32,
    /// The totals it is made from.
    pub totals: AuditTotals,
    /// The items, lowest score first (ties by path, then id).
    pub items: Page<StoredAudit>,
}

impl SeoReport {
    /// The report of `totals` with `items`.
    #[must_use]
    pub fn new(totals: AuditTotals, items: Page<StoredAudit>) -> Self {
        let score = totals
            .score_sum
            .checked_div(totals.items)
            .map_or(100, |mean| u32::try_from(mean).unwrap_or(100));
        Self {
            score,
            totals,
            items,
        }
    }
}

/// Whether a scan of the whole site was queued by this request or already waiting/running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ScanRequest {
    /// A scan is now queued.
    Queued,
    /// A scan was already queued or running; nothing more was queued.
    AlreadyQueued,
}
