//! Products, their validated values, and the queries that find them.

use std::fmt;
use std::str::FromStr;

use crate::ProductId;
use chrono::{DateTime, Utc};
use nexus_kernel::{Currency, Money, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AssetKey, CatalogError, SignedLink, StoredImage};

/// A catalog value that breaks its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCatalogValue {
    /// Slugs are 1 to 120 of `a-z`, `0-9` and single inner hyphens, and never look like an
    /// id.
    #[error(
        "slug must be 1 to 120 lower-case letters, digits and single hyphens, not starting or ending with a hyphen, and not shaped like an id"
    )]
    Slug,
    /// Titles are 1 to 200 characters.
    #[error("title must be 1 to 200 characters without control characters")]
    Title,
    /// Descriptions are at most 20,000 characters.
    #[error("description must be at most 20000 characters without control characters")]
    Description,
    /// Categories are 1 to 60 characters.
    #[error("category must be 1 to 60 characters without control characters")]
    Category,
    /// Tags are 1 to 32 letters, digits, `-` or `_`.
    #[error("tags must be 1 to 32 letters, digits, '-' or '_'")]
    Tag,
    /// At most 20 tags.
    #[error("at most 20 tags")]
    TooManyTags,
    /// Preview images are absolute http(s) URLs of at most 2,000 characters.
    #[error("preview image must be an absolute http or https URL of at most 2000 characters")]
    PreviewUrl,
    /// File names are 1 to 255 characters.
    #[error("file name must be 1 to 255 characters without control characters")]
    FileName,
    /// Unknown status.
    #[error("status must be one of DRAFT, PUBLISHED, ARCHIVED")]
    Status,
    /// Unknown sort.
    #[error("sort must be one of relevance, newest, price, -price (or price:asc, price:desc)")]
    Sort,
    /// Search text is 1 to 200 characters.
    #[error("search must be 1 to 200 characters")]
    Search,
    /// A price bound is negative.
    #[error("price bounds must not be negative")]
    PriceRange,
}

/// Implements the `String` conversions serde and callers use for a validated newtype.
macro_rules! string_conversions {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = InvalidCatalogValue;
            fn try_from(v: String) -> Result<Self, Self::Error> {
                Self::parse(&v)
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

/// The URL name of a product: 1 to 120 of `a-z`, `0-9` and single hyphens, neither first
/// nor last. Input is trimmed and lower-cased. A slug never parses as a UUID, so a path
/// segment is unambiguously an id or a slug (see [`ProductRef`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Longest slug accepted.
    pub const MAX_LEN: usize = 120;

    /// Parses a slug.
    ///
    /// # Errors
    /// `InvalidCatalogValue::Slug`.
    pub fn parse(raw: &str) -> Result<Self, InvalidCatalogValue> {
        let s = raw.trim().to_ascii_lowercase();
        let ok = (1..=Self::MAX_LEN).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--")
            && Uuid::try_parse(&s).is_err();
        if ok {
            Ok(Self(s))
        } else {
            Err(InvalidCatalogValue::Slug)
        }
    }

    /// The slug.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(Slug);

/// A product's title: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProductTitle(String);

impl ProductTitle {
    /// Longest title accepted, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Parses a title.
    ///
    /// # Errors
    /// `InvalidCatalogValue::Title`.
    pub fn parse(raw: &str) -> Result<Self, InvalidCatalogValue> {
        nexus_kernel::parse_text(raw, Self::MAX_CHARS)
            .map(Self)
            .map_err(|_| InvalidCatalogValue::Title)
    }

    /// The title.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(ProductTitle);

/// A product's description: trimmed, at most 20,000 characters (empty is fine); line
/// breaks and tabs are the only control characters allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProductDescription(String);

impl ProductDescription {
    /// Longest description accepted, in characters.
    pub const MAX_CHARS: usize = 20_000;

    /// Parses a description.
    ///
    /// # Errors
    /// `InvalidCatalogValue::Description`.
    pub fn parse(raw: &str) -> Result<Self, InvalidCatalogValue> {
        let s = raw.trim();
        let ok = s.chars().count() <= Self::MAX_CHARS
            && !s
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidCatalogValue::Description)
        }
    }

    /// The empty description.
    #[must_use]
    pub fn empty() -> Self {
        Self(String::new())
    }

    /// The description.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(ProductDescription);

/// A product category: trimmed, lower-cased, inner white space collapsed to one space,
/// 1 to 60 characters, no control characters. `"  Web   Design "` is `"web design"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Category(String);

impl Category {
    /// Longest category accepted, in characters.
    pub const MAX_CHARS: usize = 60;

    /// Parses and normalises a category.
    ///
    /// # Errors
    /// `InvalidCatalogValue::Category`.
    pub fn parse(raw: &str) -> Result<Self, InvalidCatalogValue> {
        let s = raw
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let ok =
            (1..=Self::MAX_CHARS).contains(&s.chars().count()) && !s.chars().any(char::is_control);
        if ok {
            Ok(Self(s))
        } else {
            Err(InvalidCatalogValue::Category)
        }
    }

    /// The normalised category.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(Category);

/// A label on a product: 1 to 32 ASCII letters, digits, `-` and `_`, stored lower-cased (the
/// same rule as customer tags; the documented pattern is `[\w-]{1,32}` in JSON Schema's ASCII
/// regex).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    /// Parses a tag.
    ///
    /// # Errors
    /// `InvalidCatalogValue::Tag`.
    pub fn parse(raw: &str) -> Result<Self, InvalidCatalogValue> {
        // Checked before lower-casing: some non-ASCII letters lower-case to ASCII ones (the
        // Kelvin sign to `k`).
        let s = raw.trim();
        let ok = (1..=32).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(InvalidCatalogValue::Tag)
        }
    }

    /// The tag.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(Tag);

/// A product's tags: at most 20, unique, sorted. Also the "must carry all of these"
/// filter of a [`ProductQuery`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Tags(Vec<Tag>);

impl Tags {
    /// Most tags a product may carry.
    pub const MAX: usize = 20;

    /// Parses, de-duplicates and sorts tags.
    ///
    /// # Errors
    /// `Tag` for a bad tag, `TooManyTags` for more than 20 distinct ones.
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, InvalidCatalogValue> {
        let mut tags = raw
            .iter()
            .map(|s| Tag::parse(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        tags.sort();
        tags.dedup();
        if tags.len() > Self::MAX {
            return Err(InvalidCatalogValue::TooManyTags);
        }
        Ok(Self(tags))
    }

    /// The tags, sorted.
    #[must_use]
    pub fn as_slice(&self) -> &[Tag] {
        &self.0
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An absolute `http` or `https` URL of a preview image, at most 2,000 characters, with a
/// host and no white space, control characters, quotes, angle brackets or backslashes
/// (so it is safe inside an HTML attribute once escaped as usual).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PreviewUrl(String);

impl PreviewUrl {
    /// Longest URL accepted, in bytes.
    pub const MAX_LEN: usize = 2000;

    /// Parses a URL.
    ///
    /// # Errors
    /// `InvalidCatalogValue::PreviewUrl`.
    pub fn parse(raw: &str) -> Result<Self, InvalidCatalogValue> {
        let s = raw.trim();
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        let rest = if lower.starts_with("https://") {
            &s[8..]
        } else if lower.starts_with("http://") {
            &s[7..]
        } else {
            return Err(InvalidCatalogValue::PreviewUrl);
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let ok = s.len() <= Self::MAX_LEN
            && !host.is_empty()
            && !host.starts_with('@')
            && !s.chars().any(|c| {
                c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\')
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidCatalogValue::PreviewUrl)
        }
    }

    /// The URL.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(PreviewUrl);

/// The name a product file is offered under: the last path component of what the uploader
/// sent (so `C:\docs\a.pdf` is `a.pdf`), trimmed, 1 to 255 characters, no control
/// characters, never `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FileName(String);

impl FileName {
    /// Longest name accepted, in characters.
    pub const MAX_CHARS: usize = 255;

    /// Longest sanitized form used in storage keys, in bytes.
    const MAX_KEY_LEN: usize = 100;

    /// Parses a file name.
    ///
    /// # Errors
    /// `InvalidCatalogValue::FileName`.
    pub fn parse(raw: &str) -> Result<Self, InvalidCatalogValue> {
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
        let ok = (1..=Self::MAX_CHARS).contains(&last.chars().count())
            && !last.chars().any(char::is_control)
            && last != "."
            && last != "..";
        if ok {
            Ok(Self(last.to_owned()))
        } else {
            Err(InvalidCatalogValue::FileName)
        }
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An ASCII form safe inside an [`AssetKey`] segment: letters, digits, `.`, `_` and
    /// `-` kept, runs of anything else turned into one `-`, no leading `.` or `-`, at most
    /// 100 bytes; `file` if nothing is left.
    #[must_use]
    pub fn sanitized(&self) -> String {
        let mut out = String::with_capacity(self.0.len().min(Self::MAX_KEY_LEN));
        for c in self.0.chars() {
            let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            };
            if c == '-' && out.ends_with('-') {
                continue;
            }
            if matches!(c, '.' | '-') && out.is_empty() {
                continue;
            }
            if out.len() == Self::MAX_KEY_LEN {
                break;
            }
            out.push(c);
        }
        if out.is_empty() {
            "file".to_owned()
        } else {
            out
        }
    }
}

string_conversions!(FileName);

/// Where a product is in its life.
///
/// DRAFT -> PUBLISHED (needs a file) -> ARCHIVED; a DRAFT may be archived, an ARCHIVED
/// product published again, and a PUBLISHED product that never sold unpublished back to
/// DRAFT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    /// Being prepared; only staff see it.
    Draft,
    /// On sale in the public catalog.
    Published,
    /// Retired: off the public catalog, read-only, still downloadable by buyers.
    Archived,
}

impl ProductStatus {
    /// Every status.
    pub const ALL: [Self; 3] = [Self::Draft, Self::Published, Self::Archived];

    /// The stable wire and storage name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Published => "PUBLISHED",
            Self::Archived => "ARCHIVED",
        }
    }
}

impl fmt::Display for ProductStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProductStatus {
    type Err = InvalidCatalogValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(InvalidCatalogValue::Status)
    }
}

/// The file a buyer downloads, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductAsset {
    /// Where the asset store keeps it: `products/<product id>/<uuid v7>-<sanitized name>`.
    pub key: AssetKey,
    /// The name it is offered under.
    pub file_name: FileName,
    /// MIME type, lower-cased, without parameters.
    pub content_type: String,
    /// Size in bytes, as the store reported it.
    pub size: u64,
    /// SHA-256 of the bytes, lower-case hex, as the store reported it.
    pub sha256_hex: String,
}

/// A digital product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Identity.
    pub id: ProductId,
    /// URL name, unique.
    pub slug: Slug,
    /// Title.
    pub title: ProductTitle,
    /// Description (may be empty).
    pub description: ProductDescription,
    /// Price; zero is a free product.
    pub price: Money,
    /// Category.
    pub category: Category,
    /// Labels.
    pub tags: Tags,
    /// Life-cycle status; changed only through [`Product::publish`], [`Product::archive`]
    /// and [`Product::unpublish`].
    pub status: ProductStatus,
    /// The file buyers download; required to publish.
    pub asset: Option<ProductAsset>,
    /// An image shown in listings, as an absolute URL kept elsewhere.
    pub preview_image_url: Option<PreviewUrl>,
    /// The cover image uploaded to the asset store, served at `/products/{id}/cover`.
    pub cover: Option<StoredImage>,
    /// Who created it.
    pub created_by: UserId,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// When it was last published; cleared when unpublished, kept when archived.
    pub published_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version, bumped on every change.
    pub version: i64,
}

impl Product {
    /// Puts a DRAFT or ARCHIVED product on sale at `at`.
    ///
    /// # Errors
    /// `InvalidTransition` when it is already PUBLISHED; `AssetMissing` when it has no
    /// file to sell.
    pub fn publish(&mut self, at: DateTime<Utc>) -> Result<(), CatalogError> {
        self.ensure_status(&[ProductStatus::Draft, ProductStatus::Archived], "publish")?;
        if self.asset.is_none() {
            return Err(CatalogError::AssetMissing);
        }
        self.status = ProductStatus::Published;
        self.published_at = Some(at);
        Ok(())
    }

    /// Retires a DRAFT or PUBLISHED product.
    ///
    /// # Errors
    /// `InvalidTransition` when it is already ARCHIVED.
    pub fn archive(&mut self) -> Result<(), CatalogError> {
        self.ensure_status(&[ProductStatus::Draft, ProductStatus::Published], "archive")?;
        self.status = ProductStatus::Archived;
        Ok(())
    }

    /// Takes a PUBLISHED product back to DRAFT. Whether it ever sold (then it must be
    /// archived instead) is the service's check, which needs the sales ledger.
    ///
    /// # Errors
    /// `InvalidTransition` unless it is PUBLISHED.
    pub fn unpublish(&mut self) -> Result<(), CatalogError> {
        self.ensure_status(&[ProductStatus::Published], "unpublish")?;
        self.status = ProductStatus::Draft;
        self.published_at = None;
        Ok(())
    }

    /// Checks that the product may be edited or given a file: anything but ARCHIVED.
    ///
    /// # Errors
    /// `InvalidTransition` naming `action` when it is ARCHIVED.
    pub fn ensure_editable(&self, action: &'static str) -> Result<(), CatalogError> {
        self.ensure_status(&[ProductStatus::Draft, ProductStatus::Published], action)
    }

    /// Whether the public may see it.
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.status == ProductStatus::Published
    }

    fn ensure_status(
        &self,
        allowed: &[ProductStatus],
        action: &'static str,
    ) -> Result<(), CatalogError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(CatalogError::InvalidTransition {
                from: self.status,
                action,
            })
        }
    }
}

/// Input to create a product (always as a DRAFT without a file).
#[derive(Debug, Clone)]
pub struct NewProduct {
    /// URL name.
    pub slug: Slug,
    /// Title.
    pub title: ProductTitle,
    /// Description.
    pub description: ProductDescription,
    /// Price (the HTTP layer defaults the currency to INR).
    pub price: Money,
    /// Category.
    pub category: Category,
    /// Labels.
    pub tags: Tags,
    /// Listing image.
    pub preview_image_url: Option<PreviewUrl>,
}

/// A partial change to a product. `Some(None)` clears the preview image.
#[derive(Debug, Clone, Default)]
pub struct UpdateProduct {
    /// New URL name.
    pub slug: Option<Slug>,
    /// New title.
    pub title: Option<ProductTitle>,
    /// New description.
    pub description: Option<ProductDescription>,
    /// New price.
    pub price: Option<Money>,
    /// New category.
    pub category: Option<Category>,
    /// Replacement tags.
    pub tags: Option<Tags>,
    /// New or cleared listing image.
    pub preview_image_url: Option<Option<PreviewUrl>>,
}

/// How a client names a product: its id or its slug. Slugs never parse as ids, so the two
/// cannot be confused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRef {
    /// By id.
    Id(ProductId),
    /// By slug.
    Slug(Slug),
}

impl ProductRef {
    /// An id if `raw` parses as one, else a slug.
    ///
    /// # Errors
    /// `InvalidCatalogValue::Slug` when it is neither.
    pub fn parse(raw: &str) -> Result<Self, InvalidCatalogValue> {
        match raw.trim().parse::<ProductId>() {
            Ok(id) => Ok(Self::Id(id)),
            Err(_) => Slug::parse(raw).map(Self::Slug),
        }
    }
}

/// Free text to search the catalog for: trimmed, 1 to 200 characters, no control
/// characters. Backends treat it as words, never as query syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    /// Longest search accepted, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Parses search text.
    ///
    /// # Errors
    /// `InvalidCatalogValue::Search`.
    pub fn parse(raw: &str) -> Result<Self, InvalidCatalogValue> {
        nexus_kernel::parse_text(raw, Self::MAX_CHARS)
            .map(Self)
            .map_err(|_| InvalidCatalogValue::Search)
    }

    /// The text as entered (trimmed).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Prices to keep: in one currency, from `min` to `max` minor units inclusive (either
/// bound optional). Products priced in another currency never match, and neither does any
/// product when `min > max`: an empty range is a valid question with no answers, so a
/// well-formed search is never refused for the order of its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceRange {
    currency: Currency,
    min_minor: Option<i64>,
    max_minor: Option<i64>,
}

impl PriceRange {
    /// A range in `currency`.
    ///
    /// # Errors
    /// `InvalidCatalogValue::PriceRange` for a negative bound.
    pub fn new(
        currency: Currency,
        min_minor: Option<i64>,
        max_minor: Option<i64>,
    ) -> Result<Self, InvalidCatalogValue> {
        let negative = min_minor.is_some_and(|v| v < 0) || max_minor.is_some_and(|v| v < 0);
        if negative {
            return Err(InvalidCatalogValue::PriceRange);
        }
        Ok(Self {
            currency,
            min_minor,
            max_minor,
        })
    }

    /// Currency.
    #[must_use]
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// Lowest price kept, in minor units.
    #[must_use]
    pub const fn min_minor(&self) -> Option<i64> {
        self.min_minor
    }

    /// Highest price kept, in minor units.
    #[must_use]
    pub const fn max_minor(&self) -> Option<i64> {
        self.max_minor
    }
}

/// The order of a public catalog search. Ties break by id (price orders) or by newest,
/// then id (the others), so pages are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProductSort {
    /// Best match first; the same as `Newest` when there is no search text.
    #[default]
    Relevance,
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
    /// Most recently created first.
    Newest,
}

impl FromStr for ProductSort {
    type Err = InvalidCatalogValue;

    /// Accepts `relevance`, `newest`, `price` / `price:asc` and `-price` / `price:desc`.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "relevance" => Ok(Self::Relevance),
            "newest" => Ok(Self::Newest),
            "price" | "price:asc" => Ok(Self::PriceAsc),
            "-price" | "price:desc" => Ok(Self::PriceDesc),
            _ => Err(InvalidCatalogValue::Sort),
        }
    }
}

/// A public catalog search. Only PUBLISHED products ever match; every given filter must
/// hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductQuery {
    /// Words to look for in title, description and tags.
    pub q: Option<SearchText>,
    /// Only this category.
    pub category: Option<Category>,
    /// Only products carrying every one of these tags.
    pub tags: Tags,
    /// Only prices in this range (and currency).
    pub price: Option<PriceRange>,
    /// Order.
    pub sort: ProductSort,
}

/// A staff list of products in any status, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Words to look for, as in the public search.
    pub q: Option<SearchText>,
    /// Only this status.
    pub status: Option<ProductStatus>,
    /// Only this category.
    pub category: Option<Category>,
}

/// Limits on product files, from settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogConfig {
    /// Largest file accepted, in bytes.
    pub max_asset_bytes: u64,
    /// MIME types accepted (compared case-insensitively, without parameters), such as
    /// `application/pdf` or `application/zip`.
    pub allowed_content_types: Vec<String>,
    /// Currencies products may be priced in; the first is the store currency (the default
    /// of a new product and of price filters). Never empty in a working configuration: an
    /// empty list accepts only INR.
    pub currencies: Vec<Currency>,
    /// Highest price accepted, in minor units.
    pub max_price_minor: i64,
}

impl CatalogConfig {
    /// The default price ceiling: 10,000,000,000 minor units (INR 10 crore). A cart of a
    /// hundred such products still adds up far below `i64::MAX`.
    pub const DEFAULT_MAX_PRICE_MINOR: i64 = 10_000_000_000;

    /// The store currency: the first accepted one (INR when none is configured).
    #[must_use]
    pub fn store_currency(&self) -> Currency {
        self.currencies.first().copied().unwrap_or(Currency::INR)
    }

    /// Whether products may be priced in `currency`.
    #[must_use]
    pub fn accepts(&self, currency: Currency) -> bool {
        if self.currencies.is_empty() {
            currency == Currency::INR
        } else {
            self.currencies.contains(&currency)
        }
    }
}

/// A direct-upload slot: the client PUTs the file to `link` (with the content type it
/// asked for), then confirms `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadTicket {
    /// Where the file will be stored; pass it back to confirm the upload.
    pub key: AssetKey,
    /// The presigned PUT link.
    pub link: SignedLink,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        let cases = [
            ("invoice-template", Some("invoice-template")),
            ("  Invoice-Template2 ", Some("invoice-template2")),
            ("a", Some("a")),
            ("-lead", None),
            ("trail-", None),
            ("double--hyphen", None),
            ("under_score", None),
            ("space d", None),
            ("ümlaut", None),
            ("", None),
            ("0190a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b", None),
            ("0190a3b45c6d7e8f9a0b1c2d3e4f5a6b", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                Slug::parse(raw).ok().as_ref().map(Slug::as_str),
                expected,
                "{raw}"
            );
        }
        assert!(Slug::parse(&"a".repeat(120)).is_ok());
        assert_eq!(
            Slug::parse(&"a".repeat(121)),
            Err(InvalidCatalogValue::Slug)
        );
    }

    #[test]
    fn titles_descriptions_and_categories() {
        assert_eq!(
            ProductTitle::parse("  Invoice template ").map(String::from),
            Ok("Invoice template".to_owned())
        );
        assert!(ProductTitle::parse(" ").is_err());
        assert!(ProductTitle::parse(&"t".repeat(200)).is_ok());
        assert!(ProductTitle::parse(&"t".repeat(201)).is_err());
        assert!(ProductTitle::parse("a\u{7}b").is_err());

        assert_eq!(
            ProductDescription::parse("  ").map(String::from),
            Ok(String::new())
        );
        assert!(ProductDescription::parse("line one\nline\ttwo\r\n").is_ok());
        assert!(ProductDescription::parse(&"d".repeat(20_000)).is_ok());
        assert!(ProductDescription::parse(&"d".repeat(20_001)).is_err());
        assert!(ProductDescription::parse("bell\u{7}").is_err());

        assert_eq!(
            Category::parse("  Web \t  Design ").map(String::from),
            Ok("web design".to_owned())
        );
        assert!(Category::parse("").is_err());
        assert!(Category::parse(&"c".repeat(60)).is_ok());
        assert!(Category::parse(&"c".repeat(61)).is_err());
        assert!(Category::parse("a\u{0}b").is_err());
    }

    #[test]
    fn tags_are_normalised_deduplicated_and_bounded() {
        let tags = Tags::parse(&["GST", "gst", "invoice"]).expect("valid");
        let names: Vec<_> = tags.as_slice().iter().map(Tag::as_str).collect();
        assert_eq!(names, ["gst", "invoice"]);
        assert_eq!(Tags::parse(&["has space"]), Err(InvalidCatalogValue::Tag));
        assert_eq!(Tags::parse(&[""]), Err(InvalidCatalogValue::Tag));
        for not_ascii in ["ßu0", "\u{212a}", "café", "日本"] {
            assert_eq!(
                Tags::parse(&[not_ascii]),
                Err(InvalidCatalogValue::Tag),
                "{not_ascii}"
            );
        }
        assert!(Tags::parse(&["a".repeat(32)]).is_ok());
        assert_eq!(
            Tags::parse(&["a".repeat(33)]),
            Err(InvalidCatalogValue::Tag)
        );
        let twenty: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&twenty).is_ok());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(Tags::parse(&many), Err(InvalidCatalogValue::TooManyTags));
    }

    #[test]
    fn preview_urls() {
        for ok in [
            "https://cdn.example.com/a.png",
            "HTTP://example.com",
            "https://example.com:8443/p?q=1#x",
        ] {
            assert!(PreviewUrl::parse(ok).is_ok(), "{ok}");
        }
        let long = format!("https://example.com/{}", "a".repeat(2000));
        for bad in [
            "ftp://example.com/a.png",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://exa mple.com",
            "https://example.com/\"onerror=",
            "https://example.com/<script>",
            "//example.com/a.png",
            "https://@example.com",
            long.as_str(),
        ] {
            assert_eq!(
                PreviewUrl::parse(bad),
                Err(InvalidCatalogValue::PreviewUrl),
                "{bad}"
            );
        }
    }

    #[test]
    fn file_names_keep_the_last_component_and_sanitize_for_keys() {
        let cases = [
            ("report.pdf", "report.pdf", "report.pdf"),
            ("C:\\docs\\Q1 report.pdf", "Q1 report.pdf", "Q1-report.pdf"),
            ("../../etc/passwd", "passwd", "passwd"),
            (".hidden", ".hidden", "hidden"),
            (
                "Résumé (final).docx",
                "Résumé (final).docx",
                "R-sum-final-.docx",
            ),
            ("日本語", "日本語", "file"),
        ];
        for (raw, name, sanitized) in cases {
            let parsed = FileName::parse(raw).expect("valid name");
            assert_eq!(parsed.as_str(), name, "{raw}");
            assert_eq!(parsed.sanitized(), sanitized, "{raw}");
            assert!(
                AssetKey::parse(&format!("products/x/{}", parsed.sanitized())).is_ok(),
                "{raw}"
            );
        }
        for bad in ["", "dir/", "..", ".", "a\u{0}b"] {
            assert_eq!(
                FileName::parse(bad),
                Err(InvalidCatalogValue::FileName),
                "{bad}"
            );
        }
        let long = FileName::parse(&"x".repeat(255)).expect("valid");
        assert_eq!(long.sanitized().len(), 100);
    }

    #[test]
    fn product_refs_are_ids_or_slugs() {
        let id = ProductId::new();
        assert_eq!(ProductRef::parse(&id.to_string()), Ok(ProductRef::Id(id)));
        assert_eq!(
            ProductRef::parse("invoice-template"),
            Ok(ProductRef::Slug(
                Slug::parse("invoice-template").expect("slug")
            ))
        );
        assert_eq!(
            ProductRef::parse("not a slug"),
            Err(InvalidCatalogValue::Slug)
        );
    }

    #[test]
    fn statuses_sorts_and_searches() {
        assert_eq!(
            "published".parse::<ProductStatus>(),
            Ok(ProductStatus::Published)
        );
        assert!("LIVE".parse::<ProductStatus>().is_err());
        let sorts = [
            ("relevance", Some(ProductSort::Relevance)),
            ("NEWEST", Some(ProductSort::Newest)),
            ("price", Some(ProductSort::PriceAsc)),
            ("price:asc", Some(ProductSort::PriceAsc)),
            ("-price", Some(ProductSort::PriceDesc)),
            ("price:desc", Some(ProductSort::PriceDesc)),
            ("title", None),
        ];
        for (raw, expected) in sorts {
            assert_eq!(raw.parse::<ProductSort>().ok(), expected, "{raw}");
        }
        assert_eq!(
            SearchText::parse("  invoice \"OR\" * ").map(|s| s.0),
            Ok("invoice \"OR\" *".to_owned())
        );
        assert!(SearchText::parse("   ").is_err());
        assert!(SearchText::parse(&"s".repeat(201)).is_err());
    }

    #[test]
    fn price_ranges() {
        assert!(PriceRange::new(Currency::INR, None, None).is_ok());
        assert!(PriceRange::new(Currency::INR, Some(0), Some(0)).is_ok());
        // An inverted range is empty, not malformed.
        assert!(PriceRange::new(Currency::INR, Some(100), Some(50)).is_ok());
        assert!(PriceRange::new(Currency::INR, Some(-1), None).is_err());
        assert!(PriceRange::new(Currency::INR, None, Some(-1)).is_err());
        let range = PriceRange::new(Currency::INR, Some(10), Some(20)).expect("valid");
        assert_eq!(
            (range.currency(), range.min_minor(), range.max_minor()),
            (Currency::INR, Some(10), Some(20))
        );
    }
}
