//! The content's published pages as the SEO rules see them, and the `audit_page_seo`
//! subscriber that audits a page again whenever it is published or unpublished.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};
use nexus_seo::{SeoError, SeoImage, SeoService, SeoSource, SeoSubject, SubjectKind};
use uuid::Uuid;

use crate::events::{PagePublished, PageUnpublished};
use crate::{Block, Locale, Page, PageContent, PageId, PageRepository, PageStatus};

/// A page's storefront path: `/{slug}` in the default locale, `/{locale}/{slug}` in others.
#[must_use]
pub fn page_path(content: &PageContent) -> String {
    if content.locale == Locale::english() {
        format!("/{}", content.slug.as_str())
    } else {
        format!("/{}/{}", content.locale.as_str(), content.slug.as_str())
    }
}

/// The subject of a published snapshot: its title and SEO fields as the editor wrote them,
/// the text, images and links of its blocks (links inside rich text too: Markdown
/// `](target)` and HTML `href="target"`).
#[must_use]
pub fn page_subject(id: PageId, content: &PageContent) -> SeoSubject {
    let mut text = Vec::new();
    let mut images = Vec::new();
    let mut links = Vec::new();
    for block in &content.blocks {
        match block {
            Block::Hero {
                heading,
                subheading,
                image,
                cta,
            } => {
                text.push(heading.clone());
                text.extend(subheading.clone());
                if let Some(image) = image {
                    images.push(SeoImage {
                        src: image.url.clone(),
                        alt: Some(image.alt.clone()),
                    });
                }
                if let Some(cta) = cta {
                    text.push(cta.label.clone());
                    links.push(cta.href.clone());
                }
            }
            Block::RichText { text: source } => {
                text.push(source.clone());
                links.extend(rich_text_links(source));
            }
            Block::ProductGrid { .. } => {}
            Block::Faq { items } => {
                for item in items {
                    text.push(item.question.clone());
                    text.push(item.answer.clone());
                }
            }
            Block::CallToAction { label, href, .. } => {
                text.push(label.clone());
                links.push(href.clone());
            }
            Block::Image { url, alt, caption } => {
                images.push(SeoImage {
                    src: url.clone(),
                    alt: Some(alt.clone()),
                });
                text.extend(caption.clone());
            }
        }
    }
    SeoSubject {
        kind: SubjectKind::Page,
        id: id.as_uuid(),
        path: page_path(content),
        slug: content.slug.as_str().to_owned(),
        title: content.title.as_str().to_owned(),
        meta_title: content.seo.meta_title.clone(),
        meta_description: content.seo.meta_description.clone(),
        canonical: content.seo.canonical.clone(),
        text: text.join("\n"),
        images,
        links,
    }
}

/// Link targets written in Markdown (`[label](target "title")`) or HTML (`href="target"`).
fn rich_text_links(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (start, _) in source.match_indices("](") {
        let rest = &source[start + 2..];
        if let Some(end) = rest.find(')') {
            let target = rest[..end].split_whitespace().next().unwrap_or_default();
            if !target.is_empty() {
                found.push(target.trim_matches(['<', '>']).to_owned());
            }
        }
    }
    for quote in ['"', '\''] {
        let marker = format!("href={quote}");
        for (start, _) in source.match_indices(&marker) {
            let rest = &source[start + marker.len()..];
            if let Some(end) = rest.find(quote) {
                found.push(rest[..end].to_owned());
            }
        }
    }
    found
}

fn public_subject(page: &Page) -> Option<SeoSubject> {
    if page.status != PageStatus::Published {
        return None;
    }
    page.published
        .as_ref()
        .map(|published| page_subject(page.id, &published.content))
}

fn unexpected(err: crate::ContentError) -> SeoError {
    SeoError::Unexpected(nexus_kernel::Unexpected::new("reading pages for SEO", err))
}

/// The content's PUBLISHED pages (their published snapshots), for the SEO service.
pub struct ContentSeoSource {
    pages: Arc<dyn PageRepository>,
}

impl ContentSeoSource {
    /// Reads from `pages`.
    #[must_use]
    pub fn new(pages: Arc<dyn PageRepository>) -> Self {
        Self { pages }
    }
}

#[async_trait]
impl SeoSource for ContentSeoSource {
    fn kind(&self) -> SubjectKind {
        SubjectKind::Page
    }

    async fn published_after(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<SeoSubject>, SeoError> {
        let batch = self
            .pages
            .published_after(after.map(PageId::from_uuid), limit)
            .await
            .map_err(unexpected)?;
        Ok(batch.iter().filter_map(public_subject).collect())
    }

    async fn published(&self, id: Uuid) -> Result<Option<SeoSubject>, SeoError> {
        let found = self
            .pages
            .find(PageId::from_uuid(id))
            .await
            .map_err(unexpected)?;
        Ok(found.as_ref().and_then(public_subject))
    }
}

/// Audits a page again when it is published (its new snapshot) or unpublished (its stored
/// findings are dropped). It re-reads the page, so it is idempotent and order-independent.
pub struct AuditPageSeo {
    seo: Arc<SeoService>,
}

impl AuditPageSeo {
    /// The subscriber's name, also its job kind.
    pub const NAME: &'static str = "audit_page_seo";

    /// Audits with `seo`.
    #[must_use]
    pub fn new(seo: Arc<SeoService>) -> Self {
        Self { seo }
    }
}

#[async_trait]
impl Subscriber for AuditPageSeo {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![
            Subscription::to::<PagePublished>(),
            Subscription::to::<PageUnpublished>(),
        ]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let event = &delivery.event;
        let id = if event.is::<PagePublished>() {
            event.decode::<PagePublished>()?.page_id
        } else if event.is::<PageUnpublished>() {
            event.decode::<PageUnpublished>()?.page_id
        } else {
            return Err(DeliveryError::Permanent(format!(
                "{} does not handle {}",
                Self::NAME,
                event.name
            )));
        };
        self.seo
            .refresh(SubjectKind::Page, id.as_uuid())
            .await
            .map_err(|e| DeliveryError::Retryable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::rich_text_links;

    #[test]
    fn links_are_found_in_markdown_and_html() {
        let links = rich_text_links(
            "See [pricing](/pricing \"Prices\") and <a href=\"/about\">us</a> or [x](<https://e.com>)",
        );
        assert_eq!(links, ["/pricing", "https://e.com", "/about"]);
    }
}
