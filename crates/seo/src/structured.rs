//! JSON-LD structured data (schema.org) for products, blog posts and the site.
//!
//! Each type builds a `serde_json::Value`; [`to_script`] turns one into text that is safe
//! inside `<script type="application/ld+json">` (no `<`, `>` or `&` survives unescaped, so
//! no content can close the script element).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

const CONTEXT: &str = "https://schema.org";

/// A product's offer: its price and whether it can be bought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferLd {
    /// The price as a decimal in major units (`"499.00"`).
    pub price: String,
    /// ISO 4217 code (`INR`).
    pub currency: String,
    /// Whether it is on sale now.
    pub in_stock: bool,
    /// The product's public URL.
    pub url: String,
}

/// A published average rating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatingLd {
    /// The average, 1 to 5.
    pub average: f64,
    /// How many ratings make it (at least 1; with none there is no rating).
    pub count: u64,
}

/// A schema.org `Product` with its `Offer` and, when it has ratings, `AggregateRating`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductLd {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its id, as the SKU.
    pub sku: String,
    /// A cover image URL.
    pub image: Option<String>,
    /// The offer.
    pub offer: OfferLd,
    /// The published rating, if any.
    pub rating: Option<RatingLd>,
}

impl ProductLd {
    /// The JSON-LD object.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut product = json!({
            "@context": CONTEXT,
            "@type": "Product",
            "name": self.name,
            "description": self.description,
            "sku": self.sku,
            "offers": {
                "@type": "Offer",
                "price": self.offer.price,
                "priceCurrency": self.offer.currency,
                "availability": if self.offer.in_stock {
                    "https://schema.org/InStock"
                } else {
                    "https://schema.org/Discontinued"
                },
                "url": self.offer.url,
            },
        });
        if let Some(image) = &self.image {
            product["image"] = json!(image);
        }
        if let Some(rating) = self.rating.filter(|r| r.count > 0) {
            product["aggregateRating"] = json!({
                "@type": "AggregateRating",
                "ratingValue": (rating.average * 10.0).round() / 10.0,
                "reviewCount": rating.count,
                "bestRating": 5,
                "worstRating": 1,
            });
        }
        product
    }
}

/// A schema.org `BlogPosting`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlogPostingLd {
    /// The post's title.
    pub headline: String,
    /// Its excerpt or meta description.
    pub description: String,
    /// Its public URL.
    pub url: String,
    /// Its cover image URL.
    pub image: Option<String>,
    /// The author's name.
    pub author: Option<String>,
    /// When it was first published.
    pub published_at: DateTime<Utc>,
    /// When it last changed.
    pub modified_at: DateTime<Utc>,
    /// Its tags.
    pub keywords: Vec<String>,
}

impl BlogPostingLd {
    /// The JSON-LD object.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut post = json!({
            "@context": CONTEXT,
            "@type": "BlogPosting",
            "headline": self.headline,
            "description": self.description,
            "url": self.url,
            "mainEntityOfPage": self.url,
            "datePublished": self.published_at.to_rfc3339(),
            "dateModified": self.modified_at.to_rfc3339(),
        });
        if let Some(image) = &self.image {
            post["image"] = json!(image);
        }
        if let Some(author) = &self.author {
            post["author"] = json!({ "@type": "Person", "name": author });
        }
        if !self.keywords.is_empty() {
            post["keywords"] = json!(self.keywords.join(", "));
        }
        post
    }
}

/// The site's schema.org `Organization`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationLd {
    /// The business's name.
    pub name: String,
    /// The site's home URL.
    pub url: String,
    /// A logo URL.
    pub logo: Option<String>,
    /// Its profiles elsewhere (`sameAs`).
    pub same_as: Vec<String>,
}

impl OrganizationLd {
    /// The JSON-LD object.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut org = Map::new();
        org.insert("@context".into(), json!(CONTEXT));
        org.insert("@type".into(), json!("Organization"));
        org.insert("name".into(), json!(self.name));
        org.insert("url".into(), json!(self.url));
        if let Some(logo) = &self.logo {
            org.insert("logo".into(), json!(logo));
        }
        if !self.same_as.is_empty() {
            org.insert("sameAs".into(), json!(self.same_as));
        }
        Value::Object(org)
    }
}

/// A schema.org `WebPage` (a CMS page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebPageLd {
    /// The page's title.
    pub name: String,
    /// Its meta description, if any.
    pub description: Option<String>,
    /// Its canonical URL.
    pub url: String,
    /// Its locale (`en`, `hi`).
    pub language: String,
    /// When it was last published, if it is.
    pub modified_at: Option<DateTime<Utc>>,
}

impl WebPageLd {
    /// The JSON-LD object.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut page = Map::new();
        page.insert("@context".into(), json!(CONTEXT));
        page.insert("@type".into(), json!("WebPage"));
        page.insert("name".into(), json!(self.name));
        if let Some(description) = &self.description {
            page.insert("description".into(), json!(description));
        }
        page.insert("url".into(), json!(self.url));
        page.insert("inLanguage".into(), json!(self.language));
        if let Some(at) = self.modified_at {
            page.insert("dateModified".into(), json!(at.to_rfc3339()));
        }
        Value::Object(page)
    }
}

/// `value` as text safe inside `<script type="application/ld+json">`: JSON with `<`, `>`
/// and `&` written as `\u003c`, `\u003e` and `\u0026` (still the same JSON).
#[must_use]
pub fn to_script(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(rating: Option<RatingLd>) -> ProductLd {
        ProductLd {
            name: "Guide </script><script>alert(1)</script>".into(),
            description: "A & B".into(),
            sku: "0192".into(),
            image: Some("https://cdn.example/cover.png".into()),
            offer: OfferLd {
                price: "499.00".into(),
                currency: "INR".into(),
                in_stock: true,
                url: "https://shop.example/products/guide".into(),
            },
            rating,
        }
    }

    #[test]
    fn a_product_has_its_offer_and_a_rating_only_when_rated() {
        let rated = product(Some(RatingLd {
            average: 4.25,
            count: 8,
        }))
        .to_json();
        assert_eq!(rated["@type"], "Product");
        assert_eq!(rated["offers"]["@type"], "Offer");
        assert_eq!(rated["offers"]["price"], "499.00");
        assert_eq!(rated["offers"]["priceCurrency"], "INR");
        assert_eq!(rated["aggregateRating"]["ratingValue"], 4.3);
        assert_eq!(rated["aggregateRating"]["reviewCount"], 8);
        let unrated = product(Some(RatingLd {
            average: 0.0,
            count: 0,
        }))
        .to_json();
        assert!(unrated.get("aggregateRating").is_none());
        assert!(product(None).to_json().get("aggregateRating").is_none());
    }

    #[test]
    fn script_text_cannot_close_the_script_element_and_is_the_same_json() {
        let value = product(None).to_json();
        let script = to_script(&value);
        assert!(!script.contains('<') && !script.contains('>') && !script.contains('&'));
        let back: Value = serde_json::from_str(&script).expect("still JSON");
        assert_eq!(back, value);
    }

    #[test]
    fn a_post_and_the_organization_name_their_types() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .expect("a date")
            .with_timezone(&Utc);
        let post = BlogPostingLd {
            headline: "Hello".into(),
            description: "First post".into(),
            url: "https://shop.example/blog/hello".into(),
            image: None,
            author: Some("Eda Editor".into()),
            published_at: at,
            modified_at: at,
            keywords: vec!["news".into(), "guides".into()],
        }
        .to_json();
        assert_eq!(post["@type"], "BlogPosting");
        assert_eq!(post["author"]["name"], "Eda Editor");
        assert_eq!(post["datePublished"], "2026-12-01T10:00:00+00:00");
        assert_eq!(post["keywords"], "news, guides");
        let org = OrganizationLd {
            name: "Nexus".into(),
            url: "https://shop.example/".into(),
            logo: None,
            same_as: vec![],
        }
        .to_json();
        assert_eq!(org["@type"], "Organization");
        assert!(org.get("logo").is_none() && org.get("sameAs").is_none());
        let page = WebPageLd {
            name: "About".into(),
            description: None,
            url: "https://shop.example/about".into(),
            language: "en".into(),
            modified_at: Some(at),
        }
        .to_json();
        assert_eq!(page["@type"], "WebPage");
        assert_eq!(page["inLanguage"], "en");
        assert_eq!(page["dateModified"], "2026-12-01T10:00:00+00:00");
        assert!(page.get("description").is_none());
    }
}
