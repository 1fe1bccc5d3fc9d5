//! The typed blocks a page is made of, and their validation. A block is a JSON object
//! whose `type` names its kind; [`parse_blocks`] reads a list of them and reports every
//! problem with its path (`blocks[2].items[0].question`), so an editor sees them all at once.
//!
//! Text is stored as given: nothing here renders Markdown or HTML. Links and image URLs are
//! either a path on this site (`/...`, never `//host`) or `https://`: `javascript:`,
//! `data:` and plain `http:` are refused.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::FieldIssue;

/// Most blocks on one page.
pub const MAX_BLOCKS: usize = 100;
/// Longest rich-text body, in characters.
pub const MAX_RICH_TEXT_CHARS: usize = 50_000;
/// Most products in a grid (listed, or the limit of a query).
pub const MAX_GRID_PRODUCTS: usize = 24;
/// Most questions in one FAQ block.
pub const MAX_FAQ_ITEMS: usize = 50;
/// Longest link or image URL.
pub const MAX_URL_CHARS: usize = 2_000;

/// One block of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Block {
    /// A heading banner, with an optional image and button.
    #[serde(rename_all = "camelCase")]
    Hero {
        /// The heading (1 to 200 characters).
        heading: String,
        /// A line under it (up to 500).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subheading: Option<String>,
        /// A picture.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image: Option<ImageRef>,
        /// A button.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cta: Option<Link>,
    },
    /// Markdown or HTML source kept as plain text (1 to 50,000 characters); the storefront
    /// renders and sanitizes it.
    #[serde(rename_all = "camelCase")]
    RichText {
        /// The source.
        text: String,
    },
    /// Products shown as a grid: either listed (`productIds`, 1 to 24) or found by a
    /// `query`, never both.
    #[serde(rename_all = "camelCase")]
    ProductGrid {
        /// The products, in order.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        product_ids: Option<Vec<Uuid>>,
        /// A catalog query.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        query: Option<GridQuery>,
    },
    /// Questions and answers (1 to 50).
    #[serde(rename_all = "camelCase")]
    Faq {
        /// The questions.
        items: Vec<FaqItem>,
    },
    /// A button.
    #[serde(rename_all = "camelCase")]
    CallToAction {
        /// Text on the button (1 to 80).
        label: String,
        /// Where it leads.
        href: String,
        /// `primary`, `secondary` or `link`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        style: Option<String>,
    },
    /// A picture.
    #[serde(rename_all = "camelCase")]
    Image {
        /// Where it is.
        url: String,
        /// Alternative text (up to 300; empty for a decorative image).
        alt: String,
        /// A caption (up to 500).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
    },
}

/// A picture inside another block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRef {
    /// Where it is.
    pub url: String,
    /// Alternative text (up to 300).
    pub alt: String,
}

/// A button inside another block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// Text on it (1 to 80).
    pub label: String,
    /// Where it leads.
    pub href: String,
}

/// The catalog query of a product grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridQuery {
    /// A category (up to 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A tag (up to 40).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// How many products (1 to 24).
    pub limit: u32,
}

/// One question of a FAQ block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaqItem {
    /// The question (1 to 300).
    pub question: String,
    /// The answer (1 to 5,000).
    pub answer: String,
}

/// Reads and checks the blocks of a page, `field` being the input's name for them
/// (`blocks`).
///
/// # Errors
/// Every problem found, each with its path.
pub fn parse_blocks(field: &str, raw: &[serde_json::Value]) -> Result<Vec<Block>, Vec<FieldIssue>> {
    let mut issues = Vec::new();
    if raw.len() > MAX_BLOCKS {
        issues.push(FieldIssue::new(
            field,
            "too_many",
            format!("a page has at most {MAX_BLOCKS} blocks"),
        ));
        return Err(issues);
    }
    let mut blocks = Vec::with_capacity(raw.len());
    for (i, value) in raw.iter().enumerate() {
        let path = format!("{field}[{i}]");
        match Block::deserialize(value) {
            Ok(block) => {
                block.check(&path, &mut issues);
                blocks.push(block);
            }
            Err(err) => issues.push(FieldIssue::new(
                path,
                "invalid",
                format!("not a valid block: {err}"),
            )),
        }
    }
    if issues.is_empty() {
        Ok(blocks)
    } else {
        Err(issues)
    }
}

impl Block {
    /// The block's `type`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Hero { .. } => "hero",
            Self::RichText { .. } => "richText",
            Self::ProductGrid { .. } => "productGrid",
            Self::Faq { .. } => "faq",
            Self::CallToAction { .. } => "callToAction",
            Self::Image { .. } => "image",
        }
    }

    fn check(&self, at: &str, issues: &mut Vec<FieldIssue>) {
        match self {
            Self::Hero {
                heading,
                subheading,
                image,
                cta,
            } => {
                text(issues, &format!("{at}.heading"), heading, 1, 200);
                if let Some(s) = subheading {
                    text(issues, &format!("{at}.subheading"), s, 0, 500);
                }
                if let Some(img) = image {
                    href(issues, &format!("{at}.image.url"), &img.url);
                    text(issues, &format!("{at}.image.alt"), &img.alt, 0, 300);
                }
                if let Some(link) = cta {
                    text(issues, &format!("{at}.cta.label"), &link.label, 1, 80);
                    href(issues, &format!("{at}.cta.href"), &link.href);
                }
            }
            Self::RichText { text: body } => {
                text(issues, &format!("{at}.text"), body, 1, MAX_RICH_TEXT_CHARS);
            }
            Self::ProductGrid { product_ids, query } => match (product_ids, query) {
                (Some(ids), None) => {
                    if ids.is_empty() || ids.len() > MAX_GRID_PRODUCTS {
                        issues.push(FieldIssue::new(
                            format!("{at}.productIds"),
                            "length",
                            format!("list 1 to {MAX_GRID_PRODUCTS} products"),
                        ));
                    }
                }
                (None, Some(q)) => {
                    if let Some(c) = &q.category {
                        text(issues, &format!("{at}.query.category"), c, 1, 60);
                    }
                    if let Some(t) = &q.tag {
                        text(issues, &format!("{at}.query.tag"), t, 1, 40);
                    }
                    if q.limit == 0 || q.limit as usize > MAX_GRID_PRODUCTS {
                        issues.push(FieldIssue::new(
                            format!("{at}.query.limit"),
                            "range",
                            format!("between 1 and {MAX_GRID_PRODUCTS}"),
                        ));
                    }
                }
                _ => issues.push(FieldIssue::new(
                    at,
                    "one_of",
                    "give either productIds or query, not both and not neither",
                )),
            },
            Self::Faq { items } => {
                if items.is_empty() || items.len() > MAX_FAQ_ITEMS {
                    issues.push(FieldIssue::new(
                        format!("{at}.items"),
                        "length",
                        format!("1 to {MAX_FAQ_ITEMS} questions"),
                    ));
                }
                for (j, item) in items.iter().enumerate() {
                    text(
                        issues,
                        &format!("{at}.items[{j}].question"),
                        &item.question,
                        1,
                        300,
                    );
                    text(
                        issues,
                        &format!("{at}.items[{j}].answer"),
                        &item.answer,
                        1,
                        5_000,
                    );
                }
            }
            Self::CallToAction {
                label,
                href: to,
                style,
            } => {
                text(issues, &format!("{at}.label"), label, 1, 80);
                href(issues, &format!("{at}.href"), to);
                if let Some(s) = style
                    && !matches!(s.as_str(), "primary" | "secondary" | "link")
                {
                    issues.push(FieldIssue::new(
                        format!("{at}.style"),
                        "invalid",
                        "primary, secondary or link",
                    ));
                }
            }
            Self::Image { url, alt, caption } => {
                href(issues, &format!("{at}.url"), url);
                text(issues, &format!("{at}.alt"), alt, 0, 300);
                if let Some(c) = caption {
                    text(issues, &format!("{at}.caption"), c, 0, 500);
                }
            }
        }
    }
}

/// Checks a text's length in characters; a required one (`min` ≥ 1) must not be blank.
fn text(issues: &mut Vec<FieldIssue>, field: &str, value: &str, min: usize, max: usize) {
    let chars = value.chars().count();
    if min > 0 && value.trim().is_empty() {
        issues.push(FieldIssue::new(field, "required", "must not be blank"));
    } else if chars > max {
        issues.push(FieldIssue::new(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
}

/// Checks a link or image URL (see the module docs).
fn href(issues: &mut Vec<FieldIssue>, field: &str, value: &str) {
    if let Err(message) = check_url(value) {
        issues.push(FieldIssue::new(field, "invalid_url", message));
    }
}

/// Whether `value` is a path on this site or an `https://` URL, without white space or
/// control characters, at most [`MAX_URL_CHARS`].
///
/// # Errors
/// Why not.
pub fn check_url(value: &str) -> Result<(), &'static str> {
    if value.is_empty() || value.chars().count() > MAX_URL_CHARS {
        return Err("must be 1 to 2000 characters");
    }
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return Err("must not contain white space, backslashes or control characters");
    }
    let relative = value.starts_with('/') && !value.starts_with("//");
    let secure = value
        .get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        && value.len() > 8;
    if relative || secure {
        Ok(())
    } else {
        Err("must be a path starting with / or an https:// URL")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_kind_of_block_reads_and_round_trips() {
        let raw = vec![
            json!({"type": "hero", "heading": "Hi", "cta": {"label": "Go", "href": "/shop"}}),
            json!({"type": "richText", "text": "# Title"}),
            json!({"type": "productGrid", "query": {"tag": "pdf", "limit": 6}}),
            json!({"type": "faq", "items": [{"question": "Q?", "answer": "A."}]}),
            json!({"type": "callToAction", "label": "Buy", "href": "https://x.example/a", "style": "primary"}),
            json!({"type": "image", "url": "/img/a.png", "alt": ""}),
        ];
        let blocks = parse_blocks("blocks", &raw).expect("valid blocks");
        assert_eq!(blocks.len(), 6);
        let again: Vec<serde_json::Value> = blocks
            .iter()
            .map(|b| serde_json::to_value(b).expect("encodes"))
            .collect();
        assert_eq!(again, raw);
    }

    #[test]
    fn problems_are_reported_with_their_paths() {
        let raw = vec![
            json!({"type": "richText", "text": "ok"}),
            json!({"type": "hero"}),
            json!({"type": "faq", "items": [{"question": " ", "answer": "A"}]}),
            json!({"type": "callToAction", "label": "x", "href": "javascript:alert(1)"}),
            json!({"type": "productGrid", "productIds": [], "query": {"limit": 3}}),
            json!({"type": "marquee"}),
        ];
        let issues = parse_blocks("blocks", &raw).expect_err("invalid");
        let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "blocks[1]",
                "blocks[2].items[0].question",
                "blocks[3].href",
                "blocks[4]",
                "blocks[5]"
            ]
        );
    }

    #[test]
    fn only_site_paths_and_https_urls_are_links() {
        for ok in ["/", "/a/b?c=d", "https://example.com", "HTTPS://x.y/z"] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "javascript:alert(1)",
            "data:text/html,x",
            "http://x.y",
            "//evil.example",
            "https://",
            "/a b",
            "relative/path",
            "/\\evil",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_page_has_at_most_a_hundred_blocks_and_a_grid_at_most_24_products() {
        let many = vec![json!({"type": "richText", "text": "x"}); MAX_BLOCKS + 1];
        assert_eq!(
            parse_blocks("blocks", &many).expect_err("too many")[0].code,
            "too_many"
        );
        let ids: Vec<String> = (0..25).map(|_| Uuid::now_v7().to_string()).collect();
        let grid = vec![json!({"type": "productGrid", "productIds": ids})];
        assert_eq!(
            parse_blocks("blocks", &grid).expect_err("too many")[0].field,
            "blocks[0].productIds"
        );
    }
}
