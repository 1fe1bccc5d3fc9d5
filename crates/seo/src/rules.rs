//! The SEO rules, an item's score and the site report.
//!
//! Each rule looks at one [`SeoSubject`] and what the [`SiteContext`] knows of the rest of
//! the site (the public paths, for broken links; how many items share a title or a
//! description, for duplicates). Rules never fail: they find.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::meta::words;
use crate::subject::{SeoSubject, SubjectKind};

/// How much a finding costs an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Worth a look; costs 2 points.
    Notice,
    /// Hurts how the item shows in search; costs 7 points.
    Warning,
    /// Breaks something (no title, a dead link, a malformed slug); costs 20 points.
    Error,
}

impl Severity {
    /// Points taken off an item's score of 100.
    #[must_use]
    pub const fn weight(self) -> u32 {
        match self {
            Self::Notice => 2,
            Self::Warning => 7,
            Self::Error => 20,
        }
    }
}

/// Which rule found something. The wire names are stable (`title_length`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    /// The title search engines get is missing, under 30 or over 60 characters.
    TitleLength,
    /// The meta description is missing.
    MetaDescriptionMissing,
    /// The meta description is under 50 or over 160 characters.
    MetaDescriptionLength,
    /// The slug is not lower-case words of `a-z0-9` joined by single hyphens, or is long.
    SlugFormat,
    /// Another item has the same title.
    DuplicateTitle,
    /// Another item has the same meta description.
    DuplicateDescription,
    /// Images without alternative text.
    ImageAlt,
    /// Links to paths of this site that nothing is published at.
    BrokenInternalLink,
    /// No canonical URL.
    CanonicalMissing,
    /// Too little body text.
    ThinContent,
}

impl RuleId {
    /// Every rule, in the order they run.
    pub const ALL: [Self; 10] = [
        Self::TitleLength,
        Self::MetaDescriptionMissing,
        Self::MetaDescriptionLength,
        Self::SlugFormat,
        Self::DuplicateTitle,
        Self::DuplicateDescription,
        Self::ImageAlt,
        Self::BrokenInternalLink,
        Self::CanonicalMissing,
        Self::ThinContent,
    ];
}

/// Something a rule found on one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule.
    pub rule: RuleId,
    /// How bad.
    pub severity: Severity,
    /// What to fix, for an editor.
    pub message: String,
}

impl Finding {
    fn new(rule: RuleId, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            rule,
            severity,
            message: message.into(),
        }
    }
}

/// What the rules know of the whole site when they look at one item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteContext {
    /// Every public path of the site (published items, fixed routes such as `/` or `/blog`).
    pub known_paths: BTreeSet<String>,
    /// How many items have each title, keyed by [`normalized`] text.
    pub title_counts: BTreeMap<String, usize>,
    /// How many items have each meta description, keyed by [`normalized`] text.
    pub description_counts: BTreeMap<String, usize>,
}

impl SiteContext {
    /// The context of a site made of exactly `subjects` plus the `fixed` paths.
    #[must_use]
    pub fn of<'a>(
        subjects: impl IntoIterator<Item = &'a SeoSubject>,
        fixed: impl IntoIterator<Item = String>,
    ) -> Self {
        let mut context = Self {
            known_paths: fixed.into_iter().collect(),
            ..Self::default()
        };
        for subject in subjects {
            context.known_paths.insert(subject.path.clone());
            *context
                .title_counts
                .entry(normalized(subject.effective_title()))
                .or_default() += 1;
            if let Some(description) = subject.effective_description() {
                *context
                    .description_counts
                    .entry(normalized(description))
                    .or_default() += 1;
            }
        }
        context
    }
}

/// Text as compared for duplicates: lower case, white space collapsed.
#[must_use]
pub fn normalized(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One item's findings and score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// The item's kind.
    pub kind: SubjectKind,
    /// The item's id.
    pub id: uuid::Uuid,
    /// The item's public path.
    pub path: String,
    /// 100 less the weight of each finding, at least 0.
    pub score: u32,
    /// What the rules found, worst first.
    pub findings: Vec<Finding>,
}

/// Runs every rule on `subject`.
#[must_use]
pub fn audit(subject: &SeoSubject, site: &SiteContext) -> Audit {
    let mut findings = Vec::new();
    title_length(subject, &mut findings);
    meta_description(subject, &mut findings);
    slug_format(subject, &mut findings);
    duplicates(subject, site, &mut findings);
    image_alt(subject, &mut findings);
    broken_links(subject, site, &mut findings);
    if subject
        .canonical
        .as_deref()
        .is_none_or(|c| c.trim().is_empty())
    {
        findings.push(Finding::new(
            RuleId::CanonicalMissing,
            Severity::Notice,
            "no canonical URL: set one so copies of this page are not indexed apart",
        ));
    }
    let count = words(&subject.text);
    let least = subject.kind.thin_below_words();
    if count < least {
        findings.push(Finding::new(
            RuleId::ThinContent,
            Severity::Warning,
            format!("thin content: {count} words of body text, fewer than {least}"),
        ));
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
    let lost: u32 = findings.iter().map(|f| f.severity.weight()).sum();
    Audit {
        kind: subject.kind,
        id: subject.id,
        path: subject.path.clone(),
        score: 100u32.saturating_sub(lost),
        findings,
    }
}

fn title_length(subject: &SeoSubject, findings: &mut Vec<Finding>) {
    let title = subject.effective_title();
    let length = title.chars().count();
    if length == 0 {
        findings.push(Finding::new(
            RuleId::TitleLength,
            Severity::Error,
            "no title",
        ));
    } else if length < 30 {
        findings.push(Finding::new(
            RuleId::TitleLength,
            Severity::Warning,
            format!("title of {length} characters: 30 to 60 say more in results"),
        ));
    } else if length > 60 {
        findings.push(Finding::new(
            RuleId::TitleLength,
            Severity::Warning,
            format!("title of {length} characters: results cut it after about 60"),
        ));
    }
}

fn meta_description(subject: &SeoSubject, findings: &mut Vec<Finding>) {
    match subject.effective_description() {
        None => findings.push(Finding::new(
            RuleId::MetaDescriptionMissing,
            Severity::Error,
            "no meta description",
        )),
        Some(description) => {
            let length = description.chars().count();
            if !(50..=160).contains(&length) {
                findings.push(Finding::new(
                    RuleId::MetaDescriptionLength,
                    Severity::Warning,
                    format!("meta description of {length} characters: keep it to 50 to 160"),
                ));
            }
        }
    }
}

fn slug_format(subject: &SeoSubject, findings: &mut Vec<Finding>) {
    let slug = subject.slug.as_str();
    let well_formed = !slug.is_empty()
        && slug.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !well_formed {
        findings.push(Finding::new(
            RuleId::SlugFormat,
            Severity::Error,
            format!(
                "slug {slug:?} is not lower-case words of a-z and 0-9 joined by single hyphens"
            ),
        ));
    } else if slug.len() > 75 {
        findings.push(Finding::new(
            RuleId::SlugFormat,
            Severity::Notice,
            format!(
                "slug of {} characters: shorter ones read better",
                slug.len()
            ),
        ));
    }
}

fn duplicates(subject: &SeoSubject, site: &SiteContext, findings: &mut Vec<Finding>) {
    let title = normalized(subject.effective_title());
    if !title.is_empty() && site.title_counts.get(&title).copied().unwrap_or(0) > 1 {
        findings.push(Finding::new(
            RuleId::DuplicateTitle,
            Severity::Warning,
            "another item has the same title",
        ));
    }
    if let Some(description) = subject.effective_description() {
        let key = normalized(description);
        if site.description_counts.get(&key).copied().unwrap_or(0) > 1 {
            findings.push(Finding::new(
                RuleId::DuplicateDescription,
                Severity::Warning,
                "another item has the same meta description",
            ));
        }
    }
}

fn image_alt(subject: &SeoSubject, findings: &mut Vec<Finding>) {
    let missing: Vec<&str> = subject
        .images
        .iter()
        .filter(|i| i.alt.as_deref().is_none_or(|a| a.trim().is_empty()))
        .map(|i| i.src.as_str())
        .collect();
    if !missing.is_empty() {
        findings.push(Finding::new(
            RuleId::ImageAlt,
            Severity::Warning,
            format!(
                "{} image(s) without alternative text: {}",
                missing.len(),
                missing.join(", ")
            ),
        ));
    }
}

/// The site path a link points at, when it points inside the site: `/a/b` of `/a/b?x#y`.
/// Links with a scheme, protocol-relative ones (`//host`), fragments and `mailto:` are not
/// internal.
pub fn internal_path(link: &str) -> Option<&str> {
    let link = link.trim();
    if !link.starts_with('/') || link.starts_with("//") {
        return None;
    }
    let end = link.find(['?', '#']).unwrap_or(link.len());
    let path = &link[..end];
    Some(if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    })
}

fn broken_links(subject: &SeoSubject, site: &SiteContext, findings: &mut Vec<Finding>) {
    let broken: BTreeSet<&str> = subject
        .links
        .iter()
        .filter_map(|l| internal_path(l))
        .filter(|p| !site.known_paths.contains(*p))
        .collect();
    if !broken.is_empty() {
        findings.push(Finding::new(
            RuleId::BrokenInternalLink,
            Severity::Error,
            format!(
                "links to paths where nothing is published: {}",
                broken.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
}

/// The whole site's audit: each item's, worst first, and the site's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteReport {
    /// The mean of the items' scores, rounded down; 100 for a site with no items.
    pub score: u32,
    /// Every item's audit, lowest score first (ties by path).
    pub items: Vec<Audit>,
}

/// Audits every item of a site made of `subjects` plus the `fixed` paths.
#[must_use]
pub fn audit_site(subjects: &[SeoSubject], fixed: impl IntoIterator<Item = String>) -> SiteReport {
    let site = SiteContext::of(subjects, fixed);
    let mut items: Vec<Audit> = subjects.iter().map(|s| audit(s, &site)).collect();
    items.sort_by(|a, b| a.score.cmp(&b.score).then_with(|| a.path.cmp(&b.path)));
    let score = if items.is_empty() {
        100
    } else {
        let total: u64 = items.iter().map(|a| u64::from(a.score)).sum();
        u32::try_from(total / items.len() as u64).unwrap_or(100)
    };
    SiteReport { score, items }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
