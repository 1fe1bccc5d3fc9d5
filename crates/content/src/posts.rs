//! Blog posts: their validated fields, the post record with its status, the inputs of the
//! service, and the rendering port of their Markdown bodies.

use chrono::{DateTime, Utc};
use nexus_kernel::UserId;

use crate::{ContentError, FieldIssue, PageStatus, PostId, TeamMemberId, TeamPhoto};

/// Longest slug.
pub const MAX_POST_SLUG_CHARS: usize = 120;
/// Longest title.
pub const MAX_POST_TITLE_CHARS: usize = 200;
/// Longest Markdown body.
pub const MAX_POST_BODY_CHARS: usize = 100_000;
/// Longest excerpt (given or generated).
pub const MAX_EXCERPT_CHARS: usize = 300;
/// Most tags per post.
pub const MAX_TAGS: usize = 10;
/// Longest tag.
pub const MAX_TAG_CHARS: usize = 40;

/// A Markdown body made safe to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedBody {
    /// Sanitized HTML.
    pub html: String,
    /// The visible text, blocks on their own lines.
    pub text: String,
    /// How many words the text has.
    pub words: usize,
}

impl RenderedBody {
    /// Minutes to read at 200 words a minute, at least 1.
    #[must_use]
    pub fn reading_minutes(&self) -> u32 {
        u32::try_from(self.words.div_ceil(200).max(1)).unwrap_or(u32::MAX)
    }

    /// The first words of the text, cut at a word boundary to at most
    /// `MAX_EXCERPT_CHARS` (300) characters with `…` when cut.
    #[must_use]
    pub fn excerpt(&self) -> String {
        let flat = self.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.chars().count() <= MAX_EXCERPT_CHARS {
            return flat;
        }
        let mut out = String::new();
        for word in flat.split(' ') {
            if out.chars().count() + word.chars().count() + 1 > MAX_EXCERPT_CHARS - 1 {
                break;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        if out.is_empty() {
            out = flat.chars().take(MAX_EXCERPT_CHARS - 1).collect();
        }
        out.push('…');
        out
    }
}

/// Renders Markdown to sanitized HTML: no script, no event handler, no `javascript:` link,
/// external links with `rel="noopener nofollow"`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait MarkdownRenderer: Send + Sync {
    /// Renders `markdown`.
    fn render(&self, markdown: &str) -> RenderedBody;
}

/// A blog post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// Id.
    pub id: PostId,
    /// Its address, `[a-z0-9-]`, unique among posts and their old slugs.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// The excerpt as written (empty: generated from the body).
    pub excerpt: String,
    /// Tags, lower-case.
    pub tags: Vec<String>,
    /// The author, a team member.
    pub author_id: TeamMemberId,
    /// The cover image.
    pub cover: Option<TeamPhoto>,
    /// DRAFT, SCHEDULED or PUBLISHED.
    pub status: PageStatus,
    /// When the worker publishes it (SCHEDULED).
    pub publish_at: Option<DateTime<Utc>>,
    /// Its last publication.
    pub published_at: Option<DateTime<Utc>>,
    /// Optimistic version.
    pub version: i64,
    /// Who created it.
    pub created_by: UserId,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// The fields of a new post (a DRAFT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPost {
    /// Slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Excerpt (empty or absent: generated).
    pub excerpt: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Author.
    pub author_id: TeamMemberId,
}

/// A change of some of a post's fields (`None`: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostChange {
    /// Slug (the old one keeps answering with a redirect).
    pub slug: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Body.
    pub body: Option<String>,
    /// Excerpt (empty: generated).
    pub excerpt: Option<String>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Author.
    pub author_id: Option<TeamMemberId>,
}

/// Filters of the lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostFilter {
    /// Only this status (staff); the public list is PUBLISHED only.
    pub status: Option<PageStatus>,
    /// Only posts with this tag.
    pub tag: Option<String>,
    /// Only posts whose title, excerpt or body hold these words (as the public search
    /// matches them).
    pub q: Option<String>,
}

/// A public blog search. Only PUBLISHED posts ever match; every given filter must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostQuery {
    /// Words to look for in the title, excerpt and body, each as a word or a word's
    /// beginning; all of them must be there.
    pub q: Option<String>,
    /// Only posts with this tag.
    pub tag: Option<String>,
}

/// Most words of a search that reach a search backend; the rest are ignored, which bounds
/// the cost of one query.
pub const MAX_SEARCH_WORDS: usize = 16;

/// The words of a search text: lower-cased runs of letters and digits, at most
/// [`MAX_SEARCH_WORDS`]. Everything else (quotes, `*`, `%`, `&`, `|`, `!`, `:`,
/// parentheses, `-`) only separates words, so no backend can read input as query syntax.
#[must_use]
pub fn search_words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_SEARCH_WORDS)
        .map(str::to_owned)
        .collect()
}

/// Checks a slug.
///
/// # Errors
/// The issue's message.
pub fn check_post_slug(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if !s.is_empty()
        && s.len() <= MAX_POST_SLUG_CHARS
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Ok(s.to_owned())
    } else {
        Err("1 to 120 lower-case letters, digits and hyphens")
    }
}

/// Checks a tag, lower-casing it.
///
/// # Errors
/// The issue's message.
pub fn check_tag(raw: &str) -> Result<String, &'static str> {
    let t = raw.trim().to_ascii_lowercase();
    if !t.is_empty()
        && t.len() <= MAX_TAG_CHARS
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Ok(t)
    } else {
        Err("1 to 40 letters, digits and hyphens")
    }
}

/// A text field: trimmed, required to have something when `required`, and at most `max`
/// characters as sent (the OpenAPI document states the limits on the raw value).
fn text(
    issues: &mut Vec<FieldIssue>,
    field: &str,
    raw: &str,
    max: usize,
    required: bool,
) -> String {
    let value = raw.trim().to_owned();
    if raw.chars().count() > max {
        issues.push(FieldIssue::new(
            field,
            "too_long",
            format!("must be at most {max} characters"),
        ));
    } else if required && value.is_empty() {
        issues.push(FieldIssue::new(field, "required", "must not be blank"));
    }
    value
}

fn tags(issues: &mut Vec<FieldIssue>, raw: &[String]) -> Vec<String> {
    if raw.len() > MAX_TAGS {
        issues.push(FieldIssue::new(
            "tags",
            "too_many",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        match check_tag(t) {
            Ok(t) if !out.contains(&t) => out.push(t),
            Ok(_) => {}
            Err(m) => issues.push(FieldIssue::new(format!("tags[{i}]"), "invalid", m)),
        }
    }
    out
}

fn slug(issues: &mut Vec<FieldIssue>, raw: &str) -> String {
    check_post_slug(raw).unwrap_or_else(|m| {
        issues.push(FieldIssue::new("slug", "invalid", m));
        String::new()
    })
}

/// Puts `value` in `slot` when it differs, naming the field in `changed`.
fn set<T: PartialEq>(
    slot: &mut T,
    value: Option<T>,
    name: &'static str,
    changed: &mut Vec<&'static str>,
) {
    if let Some(v) = value
        && v != *slot
    {
        *slot = v;
        changed.push(name);
    }
}

impl Post {
    /// A new DRAFT post.
    ///
    /// # Errors
    /// `Invalid` listing every field that breaks its rule.
    pub fn create(input: NewPost, by: UserId, now: DateTime<Utc>) -> Result<Self, ContentError> {
        let mut issues = Vec::new();
        let slug = slug(&mut issues, &input.slug);
        let title = text(
            &mut issues,
            "title",
            &input.title,
            MAX_POST_TITLE_CHARS,
            true,
        );
        let body = text(&mut issues, "body", &input.body, MAX_POST_BODY_CHARS, false);
        let excerpt = text(
            &mut issues,
            "excerpt",
            input.excerpt.as_deref().unwrap_or_default(),
            MAX_EXCERPT_CHARS,
            false,
        );
        let tags = tags(&mut issues, &input.tags);
        if !issues.is_empty() {
            return Err(ContentError::Invalid(issues));
        }
        Ok(Self {
            id: PostId::new(),
            slug,
            title,
            body,
            excerpt,
            tags,
            author_id: input.author_id,
            cover: None,
            status: PageStatus::Draft,
            publish_at: None,
            published_at: None,
            version: 1,
            created_by: by,
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies `change`; the names of the fields whose value changed.
    ///
    /// # Errors
    /// `Invalid` listing every field that breaks its rule (nothing is changed then).
    pub fn apply(&mut self, change: PostChange) -> Result<Vec<&'static str>, ContentError> {
        let mut issues = Vec::new();
        let new_slug = change.slug.map(|s| slug(&mut issues, &s));
        let title = change
            .title
            .map(|v| text(&mut issues, "title", &v, MAX_POST_TITLE_CHARS, true));
        let body = change
            .body
            .map(|v| text(&mut issues, "body", &v, MAX_POST_BODY_CHARS, false));
        let excerpt = change
            .excerpt
            .map(|v| text(&mut issues, "excerpt", &v, MAX_EXCERPT_CHARS, false));
        let new_tags = change.tags.map(|v| tags(&mut issues, &v));
        if !issues.is_empty() {
            return Err(ContentError::Invalid(issues));
        }
        let mut changed = Vec::new();
        set(&mut self.slug, new_slug, "slug", &mut changed);
        set(&mut self.title, title, "title", &mut changed);
        set(&mut self.body, body, "body", &mut changed);
        set(&mut self.excerpt, excerpt, "excerpt", &mut changed);
        set(&mut self.tags, new_tags, "tags", &mut changed);
        set(
            &mut self.author_id,
            change.author_id,
            "authorId",
            &mut changed,
        );
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_cut_at_a_word_and_marked() {
        let body = RenderedBody {
            html: String::new(),
            text: "word ".repeat(200),
            words: 200,
        };
        let e = body.excerpt();
        assert!(e.ends_with("word…"), "{e}");
        assert!(e.chars().count() <= MAX_EXCERPT_CHARS);
        assert_eq!(body.reading_minutes(), 1);
        let short = RenderedBody {
            html: String::new(),
            text: "Hello\nworld".into(),
            words: 2,
        };
        assert_eq!(short.excerpt(), "Hello world");
    }

    #[test]
    fn search_text_is_reduced_to_words_that_cannot_be_syntax() {
        let cases: [(&str, &[&str]); 5] = [
            ("Publishing  Notes", &["publishing", "notes"]),
            ("\"'&|!:*()", &[]),
            ("a-rust OR NEAR(x)", &["a", "rust", "or", "near", "x"]),
            ("it's 50%", &["it", "s", "50"]),
            ("Ünïcode wörds", &["ünïcode", "wörds"]),
        ];
        for (raw, expected) in cases {
            assert_eq!(search_words(raw), expected, "{raw}");
        }
        let many = (0..30)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(search_words(&many).len(), MAX_SEARCH_WORDS);
    }

    #[test]
    fn a_post_lists_every_bad_field() {
        let err = Post::create(
            NewPost {
                slug: "Not A Slug".into(),
                title: String::new(),
                body: "x".into(),
                excerpt: None,
                tags: vec!["ok".into(), "no way".into()],
                author_id: TeamMemberId::new(),
            },
            UserId::new(),
            Utc::now(),
        )
        .expect_err("invalid");
        let ContentError::Invalid(issues) = err else {
            panic!("not Invalid")
        };
        let fields: Vec<_> = issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(fields, ["slug", "title", "tags[1]"]);
    }
}
