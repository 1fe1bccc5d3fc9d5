//! Pages: their validated values, their editable content (what a version snapshots), the
//! page record with its status and published snapshot, and the inputs of the service.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use nexus_kernel::UserId;
use serde::{Deserialize, Serialize};

use crate::blocks::{Block, check_url, parse_blocks};
use crate::{ContentError, FieldIssue, PageId};

/// A value that breaks its rule; the message says which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidContentValue(pub &'static str);

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The value.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidContentValue;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> Self {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_newtype!(
    /// A page's stable machine name: `[a-z0-9-]`, 1 to 64, unique.
    PageKey
);
text_newtype!(
    /// A page's URL path: lower-case `[a-z0-9-]` segments separated by `/`, at most 200,
    /// unique per locale.
    PageSlug
);
text_newtype!(
    /// A BCP-47-like locale: a 2–3 letter language, optionally `-` and a 2-letter region or
    /// 4-letter script (`en`, `en-IN`, `zh-Hant`), normalised to `xx-YY`.
    Locale
);
text_newtype!(
    /// A page's title: 1 to 200 characters, trimmed.
    PageTitle
);

fn lower_alnum_dash(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl PageKey {
    /// Checks a key.
    ///
    /// # Errors
    /// When it is not `[a-z0-9-]{1,64}`.
    pub fn parse(raw: &str) -> Result<Self, InvalidContentValue> {
        if raw.len() <= 64 && lower_alnum_dash(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidContentValue(
                "1 to 64 lower-case letters, digits and hyphens",
            ))
        }
    }
}

impl PageSlug {
    /// Checks a slug.
    ///
    /// # Errors
    /// When a segment is empty or has other characters, or it is longer than 200.
    pub fn parse(raw: &str) -> Result<Self, InvalidContentValue> {
        if raw.len() <= 200 && raw.split('/').all(lower_alnum_dash) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidContentValue(
                "segments of lower-case letters, digits and hyphens separated by /, at most 200 characters",
            ))
        }
    }
}

impl Locale {
    /// The default locale, `en`.
    #[must_use]
    pub fn english() -> Self {
        Self("en".to_owned())
    }

    /// Checks and normalises a locale (`EN-in` → `en-IN`).
    ///
    /// # Errors
    /// When it is not a language with an optional region or script.
    pub fn parse(raw: &str) -> Result<Self, InvalidContentValue> {
        let bad = InvalidContentValue("a locale such as en or en-IN");
        let mut parts = raw.split('-');
        let lang = parts.next().unwrap_or_default();
        if !(2..=3).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(bad);
        }
        let mut out = lang.to_ascii_lowercase();
        if let Some(sub) = parts.next() {
            if !sub.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(bad);
            }
            match sub.len() {
                2 if sub.bytes().all(|b| b.is_ascii_alphabetic()) => {
                    out.push('-');
                    out.push_str(&sub.to_ascii_uppercase());
                }
                3 if sub.bytes().all(|b| b.is_ascii_digit()) => {
                    out.push('-');
                    out.push_str(sub);
                }
                4 if sub.bytes().all(|b| b.is_ascii_alphabetic()) => {
                    out.push('-');
                    out.push_str(&sub[..1].to_ascii_uppercase());
                    out.push_str(&sub[1..].to_ascii_lowercase());
                }
                _ => return Err(bad),
            }
        }
        if parts.next().is_some() {
            return Err(bad);
        }
        Ok(Self(out))
    }
}

impl PageTitle {
    /// Checks a title.
    ///
    /// # Errors
    /// When it is blank or longer than 200 characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidContentValue> {
        let t = raw.trim();
        if t.is_empty() || t.chars().count() > 200 {
            Err(InvalidContentValue("1 to 200 characters"))
        } else {
            Ok(Self(t.to_owned()))
        }
    }
}

/// Search-engine fields of a page; every one optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seo {
    /// `<title>` for search engines (up to 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_title: Option<String>,
    /// Description for search engines (up to 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_description: Option<String>,
    /// Canonical URL: a path on this site or an https URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical: Option<String>,
    /// Image for social cards: a path on this site or an https URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_image: Option<String>,
    /// Robots directive: `index,follow` (the default), `noindex,follow`, `index,nofollow`
    /// or `noindex,nofollow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robots: Option<String>,
}

impl Seo {
    /// The robots directive, or the default.
    #[must_use]
    pub fn robots(&self) -> &str {
        self.robots.as_deref().unwrap_or("index,follow")
    }

    fn check(mut self, issues: &mut Vec<FieldIssue>) -> Self {
        let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        self.meta_title = blank(self.meta_title);
        self.meta_description = blank(self.meta_description);
        self.canonical = blank(self.canonical);
        self.social_image = blank(self.social_image);
        self.robots = blank(self.robots).map(|r| r.to_ascii_lowercase().replace(' ', ""));
        if self
            .meta_title
            .as_ref()
            .is_some_and(|t| t.chars().count() > 200)
        {
            issues.push(FieldIssue::new(
                "seo.metaTitle",
                "too_long",
                "at most 200 characters",
            ));
        }
        if self
            .meta_description
            .as_ref()
            .is_some_and(|t| t.chars().count() > 500)
        {
            issues.push(FieldIssue::new(
                "seo.metaDescription",
                "too_long",
                "at most 500 characters",
            ));
        }
        for (field, value) in [
            ("seo.canonical", &self.canonical),
            ("seo.socialImage", &self.social_image),
        ] {
            if let Some(v) = value
                && let Err(m) = check_url(v)
            {
                issues.push(FieldIssue::new(field, "invalid_url", m));
            }
        }
        if let Some(r) = &self.robots
            && !matches!(
                r.as_str(),
                "index,follow"
                    | "noindex,follow"
                    | "index,nofollow"
                    | "noindex,nofollow"
                    | "noindex"
                    | "nofollow"
            )
        {
            issues.push(FieldIssue::new(
                "seo.robots",
                "invalid",
                "index,follow, noindex,follow, index,nofollow or noindex,nofollow",
            ));
        }
        self
    }
}

/// Everything an editor edits on a page: what a version snapshots and what publishing
/// copies for the public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageContent {
    /// Stable machine name.
    pub key: PageKey,
    /// URL path.
    pub slug: PageSlug,
    /// Locale.
    pub locale: Locale,
    /// Title.
    pub title: PageTitle,
    /// Ordered blocks.
    pub blocks: Vec<Block>,
    /// Search-engine fields.
    #[serde(default)]
    pub seo: Seo,
}

/// Where a page is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PageStatus {
    /// Not public (never published, or unpublished).
    Draft,
    /// Not public yet: the worker publishes it at `publish_at`.
    Scheduled,
    /// Public: its published snapshot is served.
    Published,
}

impl PageStatus {
    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Scheduled => "SCHEDULED",
            Self::Published => "PUBLISHED",
        }
    }
}

impl fmt::Display for PageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PageStatus {
    type Err = InvalidContentValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "DRAFT" => Ok(Self::Draft),
            "SCHEDULED" => Ok(Self::Scheduled),
            "PUBLISHED" => Ok(Self::Published),
            _ => Err(InvalidContentValue("DRAFT, SCHEDULED or PUBLISHED")),
        }
    }
}

/// What the public sees of a published page: the snapshot copied at its last publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The snapshot.
    pub content: PageContent,
    /// The page version it was copied from.
    pub version: i64,
    /// When.
    pub at: DateTime<Utc>,
}

/// A CMS page: its current draft, its status and schedule, and its published snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Id.
    pub id: PageId,
    /// The current draft (what editors edit; equals the published one right after
    /// publishing).
    pub draft: PageContent,
    /// Status.
    pub status: PageStatus,
    /// When the worker publishes it (SCHEDULED only).
    pub publish_at: Option<DateTime<Utc>>,
    /// When the worker unpublishes it.
    pub unpublish_at: Option<DateTime<Utc>>,
    /// What the public sees (PUBLISHED only).
    pub published: Option<Published>,
    /// Optimistic-concurrency version, also the number of the latest version row.
    pub version: i64,
    /// Creator.
    pub created_by: UserId,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One saved version of a page: the content as of its `number`-th write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageVersion {
    /// The page.
    pub page_id: PageId,
    /// The page's `version` after that write (1 = created).
    pub number: i64,
    /// The content then.
    pub content: PageContent,
    /// Who wrote it (`None`: the scheduler).
    pub author: Option<UserId>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Filters of the staff page list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageFilter {
    /// Only this status.
    pub status: Option<PageStatus>,
    /// Only this locale.
    pub locale: Option<Locale>,
    /// Title, key or slug containing this text (case-insensitive).
    pub q: Option<String>,
}

/// A new page as the client sent it, checked by [`PageInput::into_content`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageInput {
    /// Key.
    pub key: String,
    /// Slug.
    pub slug: String,
    /// Locale (`en` when `None`).
    pub locale: Option<String>,
    /// Title.
    pub title: String,
    /// Blocks as JSON objects.
    pub blocks: Vec<serde_json::Value>,
    /// SEO fields.
    pub seo: Seo,
}

impl PageInput {
    /// Checks every field, reporting every problem with its path.
    ///
    /// # Errors
    /// `Invalid`.
    pub fn into_content(self) -> Result<PageContent, ContentError> {
        let mut issues = Vec::new();
        let key = field(&mut issues, "key", PageKey::parse(&self.key));
        let slug = field(&mut issues, "slug", PageSlug::parse(&self.slug));
        let locale = match self.locale.as_deref() {
            None => Some(Locale::english()),
            Some(raw) => field(&mut issues, "locale", Locale::parse(raw)),
        };
        let title = field(&mut issues, "title", PageTitle::parse(&self.title));
        let blocks = parse_blocks("blocks", &self.blocks)
            .map_err(|mut found| issues.append(&mut found))
            .ok();
        let seo = self.seo.check(&mut issues);
        match (key, slug, locale, title, blocks) {
            (Some(key), Some(slug), Some(locale), Some(title), Some(blocks))
                if issues.is_empty() =>
            {
                Ok(PageContent {
                    key,
                    slug,
                    locale,
                    title,
                    blocks,
                    seo,
                })
            }
            _ => Err(ContentError::Invalid(issues)),
        }
    }
}

fn field<T>(
    issues: &mut Vec<FieldIssue>,
    name: &str,
    parsed: Result<T, InvalidContentValue>,
) -> Option<T> {
    parsed
        .map_err(|e| issues.push(FieldIssue::new(name, "invalid", e.0)))
        .ok()
}

/// A PATCH of a page's draft: each field given replaces the current one (`seo` as a
/// whole object).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageChange {
    /// New key.
    pub key: Option<String>,
    /// New slug.
    pub slug: Option<String>,
    /// New locale.
    pub locale: Option<String>,
    /// New title.
    pub title: Option<String>,
    /// New blocks.
    pub blocks: Option<Vec<serde_json::Value>>,
    /// New SEO fields.
    pub seo: Option<Seo>,
}

impl PageChange {
    /// The draft `current` with this change applied, checked as a whole.
    ///
    /// # Errors
    /// `Invalid`.
    pub fn apply(self, current: &PageContent) -> Result<PageContent, ContentError> {
        let blocks = match self.blocks {
            Some(b) => b,
            None => current
                .blocks
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()
                .map_err(nexus_kernel::Unexpected::with("encoding blocks"))?,
        };
        PageInput {
            key: self.key.unwrap_or_else(|| current.key.to_string()),
            slug: self.slug.unwrap_or_else(|| current.slug.to_string()),
            locale: Some(self.locale.unwrap_or_else(|| current.locale.to_string())),
            title: self.title.unwrap_or_else(|| current.title.to_string()),
            blocks,
            seo: self.seo.unwrap_or_else(|| current.seo.clone()),
        }
        .into_content()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_slugs_and_locales_follow_their_rules() {
        assert!(PageKey::parse("about-us-2").is_ok());
        for bad in ["", "About", "a_b", &"a".repeat(65)] {
            assert!(PageKey::parse(bad).is_err(), "{bad}");
        }
        assert!(PageSlug::parse("help/getting-started").is_ok());
        for bad in ["", "/a", "a/", "a//b", "A", "a b", &"a".repeat(201)] {
            assert!(PageSlug::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Locale::parse("EN-in").expect("valid").as_str(), "en-IN");
        assert_eq!(Locale::parse("zh-hant").expect("valid").as_str(), "zh-Hant");
        for bad in ["", "e", "english", "en-", "en-IN-x", "en_IN", "12"] {
            assert!(Locale::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_input_reports_every_bad_field() {
        let input = PageInput {
            key: "Bad Key".to_owned(),
            slug: "ok".to_owned(),
            locale: Some("xx-yy-zz".to_owned()),
            title: " ".to_owned(),
            blocks: vec![serde_json::json!({"type": "image", "url": "data:x", "alt": ""})],
            seo: Seo {
                robots: Some("follow-me".to_owned()),
                canonical: Some("http://plain.example".to_owned()),
                ..Seo::default()
            },
        };
        let Err(ContentError::Invalid(issues)) = input.into_content() else {
            panic!("invalid input accepted");
        };
        let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "key",
                "locale",
                "title",
                "blocks[0].url",
                "seo.canonical",
                "seo.robots"
            ]
        );
    }
}
