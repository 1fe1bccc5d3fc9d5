//! What the rules look at: one public item of the site, whatever context it comes from.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::block::given;
use crate::meta::{generated_description, generated_title};

/// The kind of public item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubjectKind {
    /// A catalog product.
    Product,
    /// A CMS page.
    Page,
    /// A blog post.
    Post,
}

impl SubjectKind {
    /// The stable name (`PRODUCT`, `PAGE`, `POST`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Product => "PRODUCT",
            Self::Page => "PAGE",
            Self::Post => "POST",
        }
    }

    /// The fewest words of body text below which the item is thin content: a product
    /// page carries less prose than an article.
    #[must_use]
    pub const fn thin_below_words(self) -> usize {
        match self {
            Self::Product => 50,
            Self::Page | Self::Post => 300,
        }
    }
}

/// An image of an item, with its alternative text when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeoImage {
    /// Where the image is.
    pub src: String,
    /// Its alternative text; `None` or blank when it has none.
    pub alt: Option<String>,
}

/// One public item as the rules see it. The contexts that own the items (catalog, content)
/// build it from their published state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeoSubject {
    /// What it is.
    pub kind: SubjectKind,
    /// Its id in its own context.
    pub id: Uuid,
    /// Its public path on the site (`/products/guide`, `/about`, `/blog/hello`).
    pub path: String,
    /// Its slug, the last part of the path that editors choose.
    pub slug: String,
    /// Its title as shown on the page.
    pub title: String,
    /// The `<title>` when an editor (or the generator) set one; else the title is used.
    pub meta_title: Option<String>,
    /// The meta description, if any.
    pub meta_description: Option<String>,
    /// The canonical URL, if any.
    pub canonical: Option<String>,
    /// The visible body text, as plain text.
    pub text: String,
    /// The images shown.
    pub images: Vec<SeoImage>,
    /// Every link target in the content, as written (`/pricing`, `https://...`, `#top`).
    pub links: Vec<String>,
}

impl SeoSubject {
    /// The title search engines get: the meta title when set and not blank, else the title.
    #[must_use]
    pub fn effective_title(&self) -> &str {
        self.meta_title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| self.title.trim())
    }

    /// This subject as its public answer serves it on the site named `site_name`: a blank
    /// meta title becomes the generated one (`title | site_name`, or the title alone when
    /// that would pass 60 characters), and a blank meta description the one generated from
    /// the text (none when the text is too short), as [`SeoBlock::build`] does. The rules
    /// then judge what search engines are given, not the fields an editor left empty.
    ///
    /// [`SeoBlock::build`]: crate::SeoBlock::build
    #[must_use]
    pub fn served(&self, site_name: &str) -> Self {
        let mut served = self.clone();
        if given(self.meta_title.as_deref()).is_none() {
            served.meta_title = Some(generated_title(&self.title, site_name));
        }
        if given(self.meta_description.as_deref()).is_none() {
            served.meta_description = generated_description(&self.text);
        }
        served
    }

    /// The meta description when set and not blank.
    #[must_use]
    pub fn effective_description(&self) -> Option<&str> {
        self.meta_description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(meta_title: Option<&str>, meta_description: Option<&str>) -> SeoSubject {
        SeoSubject {
            kind: SubjectKind::Product,
            id: Uuid::nil(),
            path: "/products/kit".into(),
            slug: "kit".into(),
            title: "Budget planner kit".into(),
            meta_title: meta_title.map(str::to_owned),
            meta_description: meta_description.map(str::to_owned),
            canonical: None,
            text: "A planner for every month of the year, with envelopes, goals and a \
                   yearly review that shows where the money went."
                .into(),
            images: Vec::new(),
            links: Vec::new(),
        }
    }

    #[test]
    fn served_fills_only_what_the_editor_left_empty() {
        let served = subject(None, Some("  ")).served("Northwind");
        assert_eq!(served.effective_title(), "Budget planner kit | Northwind");
        assert!(
            served
                .effective_description()
                .is_some_and(|d| d.starts_with("A planner for every month")),
            "{served:?}"
        );
        let written = subject(Some("Plan a year"), Some("By hand.")).served("Northwind");
        assert_eq!(written.effective_title(), "Plan a year");
        assert_eq!(written.effective_description(), Some("By hand."));
        // Without a site name, the title alone, as the public answer serves it.
        assert_eq!(
            subject(None, None).served("").effective_title(),
            "Budget planner kit"
        );
    }
}
