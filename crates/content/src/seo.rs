//! The content's published pages and blog posts as the SEO rules see them, and the
//! `audit_page_seo` and `audit_post_seo` subscribers that audit a page or post again
//! whenever it changes.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};
use nexus_seo::{
    SeoError, SeoImage, SeoService, SeoSource, SeoSubject, SubjectKind, generated_description,
};
use uuid::Uuid;

use crate::events::{PagePublished, PageUnpublished, PostChanged};
use crate::{
    Block, Locale, MarkdownRenderer, Page, PageContent, PageId, PageRepository, PageStatus, Post,
    PostId, PostRepository, RenderedBody,
};

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
        // The public answer serves the editor's canonical, else the page's own address.
        canonical: content
            .seo
            .canonical
            .clone()
            .or_else(|| Some(page_path(content))),
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

/// A blog post's storefront path.
#[must_use]
pub fn post_path(slug: &str) -> String {
    format!("/blog/{slug}")
}

/// A post's meta description: the excerpt its editor wrote, else one generated from its
/// excerpt as served (the first words of the body); `None` when neither says enough.
#[must_use]
pub fn post_meta_description(post: &Post, served_excerpt: &str) -> Option<String> {
    let written = post.excerpt.trim();
    if written.is_empty() {
        generated_description(served_excerpt)
    } else {
        Some(written.to_owned())
    }
}

/// Images written in Markdown (`![alt](src "title")`), with their alt text.
fn markdown_images(source: &str) -> Vec<SeoImage> {
    let mut found = Vec::new();
    for (start, _) in source.match_indices("![") {
        let rest = &source[start + 2..];
        let Some(close) = rest.find("](") else {
            continue;
        };
        let alt = &rest[..close];
        if alt.contains(']') {
            continue;
        }
        let target = &rest[close + 2..];
        if let Some(end) = target.find(')') {
            let src = target[..end].split_whitespace().next().unwrap_or_default();
            if !src.is_empty() {
                found.push(SeoImage {
                    src: src.trim_matches(['<', '>']).to_owned(),
                    alt: Some(alt.trim().to_owned()),
                });
            }
        }
    }
    found
}

/// The subject of a PUBLISHED post: its title; the meta description its public answer
/// carries ([`post_meta_description`]); its own path as canonical, which its answer serves; its
/// rendered text; the images and links of its Markdown body (an image's source is not a
/// link). The cover has no alternative text of its own, so it is not checked.
#[must_use]
pub fn post_subject(post: &Post, rendered: &RenderedBody) -> SeoSubject {
    let images = markdown_images(&post.body);
    let links = rich_text_links(&post.body)
        .into_iter()
        .filter(|l| !images.iter().any(|i| &i.src == l))
        .collect();
    SeoSubject {
        kind: SubjectKind::Post,
        id: post.id.as_uuid(),
        path: post_path(&post.slug),
        slug: post.slug.clone(),
        title: post.title.clone(),
        meta_title: None,
        meta_description: post_meta_description(post, &rendered.excerpt()),
        canonical: Some(post_path(&post.slug)),
        text: rendered.text.clone(),
        images,
        links,
    }
}

fn unexpected_post(err: crate::ContentError) -> SeoError {
    SeoError::Unexpected(nexus_kernel::Unexpected::new("reading posts for SEO", err))
}

/// The content's PUBLISHED blog posts, for the SEO service.
pub struct PostSeoSource {
    posts: Arc<dyn PostRepository>,
    renderer: Arc<dyn MarkdownRenderer>,
}

impl PostSeoSource {
    /// Reads from `posts`, rendering bodies with `renderer` (as the public answer does).
    #[must_use]
    pub fn new(posts: Arc<dyn PostRepository>, renderer: Arc<dyn MarkdownRenderer>) -> Self {
        Self { posts, renderer }
    }

    fn subject(&self, post: &Post) -> SeoSubject {
        post_subject(post, &self.renderer.render(&post.body))
    }
}

#[async_trait]
impl SeoSource for PostSeoSource {
    fn kind(&self) -> SubjectKind {
        SubjectKind::Post
    }

    async fn published_after(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<SeoSubject>, SeoError> {
        let batch = self
            .posts
            .published_after(after.map(PostId::from_uuid), limit)
            .await
            .map_err(unexpected_post)?;
        Ok(batch
            .iter()
            .filter(|p| p.status == PageStatus::Published)
            .map(|p| self.subject(p))
            .collect())
    }

    async fn published(&self, id: Uuid) -> Result<Option<SeoSubject>, SeoError> {
        let found = self
            .posts
            .find(PostId::from_uuid(id))
            .await
            .map_err(unexpected_post)?;
        Ok(found
            .filter(|p| p.status == PageStatus::Published)
            .map(|p| self.subject(&p)))
    }
}

/// Audits a post again after each change (written, published, unpublished, scheduled,
/// deleted): a PUBLISHED one is audited, any other loses its stored findings. It re-reads
/// the post, so it is idempotent and order-independent.
pub struct AuditPostSeo {
    seo: Arc<SeoService>,
}

impl AuditPostSeo {
    /// The subscriber's name, also its job kind.
    pub const NAME: &'static str = "audit_post_seo";

    /// Audits with `seo`.
    #[must_use]
    pub fn new(seo: Arc<SeoService>) -> Self {
        Self { seo }
    }
}

#[async_trait]
impl Subscriber for AuditPostSeo {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<PostChanged>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let id = delivery.event.decode::<PostChanged>()?.post_id;
        self.seo
            .refresh(SubjectKind::Post, id.as_uuid())
            .await
            .map_err(|e| DeliveryError::Retryable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_in_markdown_and_html() {
        let links = rich_text_links(
            "See [pricing](/pricing \"Prices\") and <a href=\"/about\">us</a> or [x](<https://e.com>)",
        );
        assert_eq!(links, ["/pricing", "https://e.com", "/about"]);
    }

    fn post(body: &str, excerpt: &str) -> Post {
        let at = chrono::Utc::now();
        Post {
            id: PostId::new(),
            slug: "hello".into(),
            title: "Hello".into(),
            body: body.into(),
            excerpt: excerpt.into(),
            tags: vec![],
            author_id: crate::TeamMemberId::new(),
            cover: None,
            status: PageStatus::Published,
            publish_at: None,
            published_at: Some(at),
            version: 1,
            created_by: nexus_kernel::UserId::new(),
            created_at: at,
            updated_at: at,
        }
    }

    fn rendered(text: &str) -> RenderedBody {
        RenderedBody {
            html: String::new(),
            text: text.into(),
            words: nexus_seo::words(text),
        }
    }

    #[test]
    fn a_post_subject_has_its_images_apart_from_its_links() {
        let body = "See [pricing](/pricing) and ![a chart](/media/chart.png \"Chart\") \
                    and ![](https://cdn.example/x.png).";
        let subject = post_subject(&post(body, ""), &rendered("See pricing and more."));
        assert_eq!(subject.kind, SubjectKind::Post);
        assert_eq!(subject.path, "/blog/hello");
        assert_eq!(subject.links, ["/pricing"]);
        assert_eq!(subject.images.len(), 2);
        assert_eq!(subject.images[0].src, "/media/chart.png");
        assert_eq!(subject.images[0].alt.as_deref(), Some("a chart"));
        assert_eq!(subject.images[1].alt.as_deref(), Some(""));
    }

    #[test]
    fn a_written_excerpt_is_the_meta_description_else_one_is_generated() {
        let long = "Eight words or more make a description that fits here.";
        assert_eq!(
            post_meta_description(&post("", " Written by hand. "), long).as_deref(),
            Some("Written by hand.")
        );
        assert_eq!(
            post_meta_description(&post("", ""), long).as_deref(),
            Some(long)
        );
        assert_eq!(post_meta_description(&post("", ""), "Too short."), None);
    }

    #[tokio::test]
    async fn the_post_source_gives_published_posts_only_rendered_as_the_public_reads_them() {
        let published = post("Read [more](/blog/other).", "");
        let mut draft = post("Draft", "");
        draft.status = PageStatus::Draft;
        let (published_id, draft_id) = (published.id, draft.id);
        let mut repo = crate::MockPostRepository::new();
        repo.expect_find().returning(move |id| {
            Ok(Some(if id == published_id {
                published.clone()
            } else {
                draft.clone()
            }))
        });
        let mut renderer = crate::MockMarkdownRenderer::new();
        renderer
            .expect_render()
            .returning(|_| rendered("Read more about budgets."));
        let source = PostSeoSource::new(Arc::new(repo), Arc::new(renderer));

        let found = source
            .published(published_id.as_uuid())
            .await
            .expect("read")
            .expect("public");
        assert_eq!(found.kind, SubjectKind::Post);
        assert_eq!(found.text, "Read more about budgets.");
        assert_eq!(found.links, ["/blog/other"]);
        assert_eq!(found.meta_description, None, "too few words to describe");
        let hidden = source.published(draft_id.as_uuid()).await.expect("read");
        assert!(hidden.is_none());
    }
}
