#![doc = include_str!("../README.md")]

use std::collections::HashSet;

use ammonia::Builder;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// What a Markdown body becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMarkdown {
    /// Sanitized HTML, safe to serve as is.
    pub html: String,
    /// The visible text (no markup, no image alt text), blocks on their own lines.
    pub text: String,
    /// How many words the text has.
    pub words: usize,
    /// Every link target, as written, in document order.
    pub links: Vec<String>,
    /// Every image: its source and alt text (empty when it has none).
    pub images: Vec<(String, String)>,
}

impl RenderedMarkdown {
    /// Minutes to read at 200 words a minute, at least 1.
    #[must_use]
    pub fn reading_minutes(&self) -> u32 {
        u32::try_from(self.words.div_ceil(200).max(1)).unwrap_or(u32::MAX)
    }
}

/// Renders Markdown (CommonMark with tables, strikethrough and task lists) to sanitized
/// HTML.
///
/// - Raw HTML in the Markdown is shown as text, never as markup.
/// - Links and images keep only `http`, `https` and `mailto` URLs (and relative ones): a
///   `javascript:` or `data:` link loses its target.
/// - Links to other sites get `rel="noopener nofollow"`; links within the site (relative,
///   or to the site's own host) none.
/// - What remains then passes ammonia's allow-list (no `script`, `style`, `iframe`, event
///   handler attributes or `style` attributes survive), whatever the parser let through.
#[derive(Debug, Clone)]
pub struct MarkdownRenderer {
    /// The site's own host (`shop.example`), whose absolute links are internal.
    site_host: Option<String>,
}

impl MarkdownRenderer {
    /// A renderer for the site at `site_url` (`https://shop.example`); `None` when every
    /// absolute link counts as external.
    #[must_use]
    pub fn new(site_url: Option<&str>) -> Self {
        Self {
            site_host: site_url.and_then(host_of).map(str::to_ascii_lowercase),
        }
    }

    fn is_external(&self, url: &str) -> bool {
        match host_of(url) {
            Some(host) => self
                .site_host
                .as_deref()
                .is_none_or(|own| !own.eq_ignore_ascii_case(host)),
            None => false,
        }
    }

    /// Renders `markdown`.
    #[must_use]
    pub fn render(&self, markdown: &str) -> RenderedMarkdown {
        let options =
            Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
        let mut links = Vec::new();
        let mut images: Vec<(String, String)> = Vec::new();
        let mut text = String::new();
        // For each open link, whether it was written as an external anchor.
        let mut open_links: Vec<bool> = Vec::new();
        let mut in_image = 0usize;
        let mut events = Vec::new();
        for event in Parser::new_ext(markdown, options) {
            let event = match event {
                Event::Html(raw) | Event::InlineHtml(raw) => {
                    text.push_str(&raw);
                    Event::Text(raw)
                }
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => {
                    links.push(dest_url.to_string());
                    let external = self.is_external(&dest_url);
                    open_links.push(external);
                    if external {
                        Event::InlineHtml(CowStr::from(format!(
                            "<a href=\"{}\" rel=\"noopener nofollow\">",
                            escape_attribute(&dest_url)
                        )))
                    } else {
                        Event::Start(Tag::Link {
                            link_type,
                            dest_url,
                            title,
                            id,
                        })
                    }
                }
                Event::End(TagEnd::Link) => {
                    if open_links.pop().unwrap_or(false) {
                        Event::InlineHtml(CowStr::from("</a>"))
                    } else {
                        Event::End(TagEnd::Link)
                    }
                }
                Event::Start(Tag::Image { ref dest_url, .. }) => {
                    images.push((dest_url.to_string(), String::new()));
                    in_image += 1;
                    event
                }
                Event::End(TagEnd::Image) => {
                    in_image = in_image.saturating_sub(1);
                    event
                }
                Event::Text(ref t) | Event::Code(ref t) => {
                    if in_image > 0 {
                        if let Some((_, alt)) = images.last_mut() {
                            alt.push_str(t);
                        }
                    } else {
                        text.push_str(t);
                    }
                    event
                }
                Event::SoftBreak | Event::HardBreak => {
                    text.push(' ');
                    event
                }
                Event::End(
                    TagEnd::Paragraph
                    | TagEnd::Heading(_)
                    | TagEnd::Item
                    | TagEnd::CodeBlock
                    | TagEnd::TableCell,
                ) => {
                    text.push('\n');
                    event
                }
                other => other,
            };
            events.push(event);
        }
        let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
        html::push_html(&mut unsafe_html, events.into_iter());
        let html = sanitizer().clean(&unsafe_html).to_string();
        let text = text
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let words = text
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count();
        RenderedMarkdown {
            html,
            text,
            words,
            links,
            images,
        }
    }
}

/// The content context's rendering port: the HTML, text and word count of [`Self::render`].
impl nexus_content::MarkdownRenderer for MarkdownRenderer {
    fn render(&self, markdown: &str) -> nexus_content::RenderedBody {
        let r = Self::render(self, markdown);
        nexus_content::RenderedBody {
            html: r.html,
            text: r.text,
            words: r.words,
        }
    }
}

/// The allow-list every rendering passes last.
fn sanitizer() -> Builder<'static> {
    let mut builder = Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(None)
        .add_tag_attributes("a", &["rel"])
        .attribute_filter(|element, attribute, value| {
            if element == "a" && attribute == "rel" {
                (value == "noopener nofollow").then(|| value.into())
            } else {
                Some(value.into())
            }
        });
    builder
}

/// The host of an absolute `http(s)://` or protocol-relative `//` URL.
fn host_of(url: &str) -> Option<&str> {
    let url = url.trim();
    let scheme_end = url.find("://");
    let rest = match scheme_end {
        Some(at)
            if ["http", "https"]
                .iter()
                .any(|s| url[..at].eq_ignore_ascii_case(s)) =>
        {
            &url[at + 3..]
        }
        Some(_) => return None,
        None => url.strip_prefix("//")?,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    (!host.is_empty()).then_some(host)
}

fn escape_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
