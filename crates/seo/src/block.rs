//! What a public answer tells search engines and social cards about its item: the meta
//! title and description (the editor's, or generated from the content and flagged so),
//! the absolute canonical URL, the robots directive, the social image and the JSON-LD.
//!
//! Built at read time from the stored content, so it is deterministic: the same content
//! and settings always give the same block, and the answers carrying it are cached.

use serde_json::Value;

use crate::meta::{generated_description, generated_title};

/// The robots directive of an item that sets none.
pub const DEFAULT_ROBOTS: &str = "index,follow";

/// The site the items belong to: its name (in generated titles) and public base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeoSite {
    name: String,
    base_url: String,
}

impl SeoSite {
    /// The site `name` served at `base_url` (a trailing `/` is dropped).
    #[must_use]
    pub fn new(name: &str, base_url: &str) -> Self {
        Self {
            name: name.trim().to_owned(),
            base_url: base_url.trim().trim_end_matches('/').to_owned(),
        }
    }

    /// The site's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public base URL, without a trailing `/`.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `target` as an absolute URL: a path of this site (`/x`) is joined to the base URL;
    /// anything else (an absolute URL) is kept as written.
    #[must_use]
    pub fn absolute(&self, target: &str) -> String {
        let target = target.trim();
        if target.starts_with('/') && !target.starts_with("//") {
            format!("{}{target}", self.base_url)
        } else {
            target.to_owned()
        }
    }
}

/// What the editor set and what the content says, for one public item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeoInput<'a> {
    /// The item's title as shown.
    pub title: &'a str,
    /// The editor's meta title, if any (blank counts as none).
    pub meta_title: Option<&'a str>,
    /// The editor's meta description, if any (blank counts as none).
    pub meta_description: Option<&'a str>,
    /// The visible text the description is generated from when the editor set none.
    pub text: &'a str,
    /// The editor's canonical URL or path, if any.
    pub canonical: Option<&'a str>,
    /// The item's public path (`/products/guide`).
    pub path: &'a str,
    /// The editor's robots directive, if any.
    pub robots: Option<&'a str>,
    /// The social card image, a path of this site or an absolute URL.
    pub social_image: Option<&'a str>,
}

/// The SEO block of one public answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SeoBlock {
    /// The `<title>`: the editor's, or generated from the title and the site's name.
    pub meta_title: String,
    /// Whether `meta_title` was generated.
    pub meta_title_generated: bool,
    /// The meta description: the editor's, or generated from the text; `None` when the
    /// editor set none and the text is too short to describe anything.
    pub meta_description: Option<String>,
    /// Whether `meta_description` was generated.
    pub meta_description_generated: bool,
    /// The absolute canonical URL: the editor's, else the base URL and the item's path.
    pub canonical: String,
    /// The robots directive: the editor's, else [`DEFAULT_ROBOTS`].
    pub robots: String,
    /// The absolute social image URL, when there is one.
    pub social_image: Option<String>,
    /// The JSON-LD object, when the kind of item has one.
    pub structured_data: Option<Value>,
}

pub(crate) fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

impl SeoBlock {
    /// The block of `input` on `site`, without structured data (see
    /// [`SeoBlock::with_structured_data`]). Editor text is kept as written; only an empty
    /// field is generated.
    #[must_use]
    pub fn build(input: &SeoInput<'_>, site: &SeoSite) -> Self {
        let (meta_title, meta_title_generated) = match given(input.meta_title) {
            Some(title) => (title.to_owned(), false),
            None => (generated_title(input.title, site.name()), true),
        };
        let (meta_description, meta_description_generated) = match given(input.meta_description) {
            Some(description) => (Some(description.to_owned()), false),
            None => {
                let generated = generated_description(input.text);
                let flagged = generated.is_some();
                (generated, flagged)
            }
        };
        let canonical =
            given(input.canonical).map_or_else(|| site.absolute(input.path), |c| site.absolute(c));
        Self {
            meta_title,
            meta_title_generated,
            meta_description,
            meta_description_generated,
            canonical,
            robots: given(input.robots).unwrap_or(DEFAULT_ROBOTS).to_owned(),
            social_image: given(input.social_image).map(|i| site.absolute(i)),
            structured_data: None,
        }
    }

    /// This block carrying `data` as its JSON-LD.
    #[must_use]
    pub fn with_structured_data(mut self, data: Value) -> Self {
        self.structured_data = Some(data);
        self
    }
}

/// `amount_minor` in major units with two decimals (`49900` → `"499.00"`), as schema.org
/// offers want it. Every currency the store sells in has two decimals.
#[must_use]
pub fn major_units(amount_minor: i64) -> String {
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> SeoSite {
        SeoSite::new("Nexus", "https://shop.example/")
    }

    fn input<'a>() -> SeoInput<'a> {
        SeoInput {
            title: "Pricing",
            text: "Plans for teams of every size, billed monthly or yearly with no surprises.",
            path: "/pricing",
            ..SeoInput::default()
        }
    }

    #[test]
    fn empty_fields_are_generated_and_flagged() {
        let block = SeoBlock::build(&input(), &site());
        assert_eq!(block.meta_title, "Pricing | Nexus");
        assert!(block.meta_title_generated);
        assert_eq!(
            block.meta_description.as_deref(),
            Some("Plans for teams of every size, billed monthly or yearly with no surprises.")
        );
        assert!(block.meta_description_generated);
        assert_eq!(block.canonical, "https://shop.example/pricing");
        assert_eq!(block.robots, "index,follow");
        assert_eq!(block.social_image, None);
        assert_eq!(block.structured_data, None);
    }

    #[test]
    fn editor_text_is_kept_and_not_flagged() {
        let block = SeoBlock::build(
            &SeoInput {
                meta_title: Some(" Our prices "),
                meta_description: Some("What each plan costs."),
                canonical: Some("/prices"),
                robots: Some("noindex,follow"),
                social_image: Some("https://cdn.example/card.png"),
                ..input()
            },
            &site(),
        );
        assert_eq!(block.meta_title, "Our prices");
        assert!(!block.meta_title_generated);
        assert_eq!(
            block.meta_description.as_deref(),
            Some("What each plan costs.")
        );
        assert!(!block.meta_description_generated);
        assert_eq!(block.canonical, "https://shop.example/prices");
        assert_eq!(block.robots, "noindex,follow");
        assert_eq!(
            block.social_image.as_deref(),
            Some("https://cdn.example/card.png")
        );
    }

    #[test]
    fn blank_editor_fields_count_as_empty_and_short_text_gives_no_description() {
        let block = SeoBlock::build(
            &SeoInput {
                meta_title: Some("  "),
                meta_description: Some(""),
                canonical: Some("https://other.example/pricing"),
                text: "Too short.",
                social_image: Some("/media/card.png"),
                ..input()
            },
            &site(),
        );
        assert!(block.meta_title_generated);
        assert_eq!(block.meta_description, None);
        assert!(!block.meta_description_generated);
        assert_eq!(block.canonical, "https://other.example/pricing");
        assert_eq!(
            block.social_image.as_deref(),
            Some("https://shop.example/media/card.png")
        );
    }

    #[test]
    fn prices_are_major_units_with_two_decimals() {
        assert_eq!(major_units(49_900), "499.00");
        assert_eq!(major_units(5), "0.05");
        assert_eq!(major_units(0), "0.00");
        assert_eq!(major_units(123_456), "1234.56");
    }
}
