//! The JSON document stored per product: every field of a [`Product`], so search hits are
//! rebuilt without a database round trip, plus flat copies (`price_minor`, `currency`) and
//! timestamps as integers that filters and sorts work on.

use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_catalog::{
    AssetKey, CatalogError, Category, FileName, PreviewUrl, Product, ProductAsset,
    ProductDescription, ProductStatus, ProductTitle, Slug, StoredImage, Tags,
};
use nexus_kernel::{Currency, Money, Unexpected, UserId};
use serde::{Deserialize, Serialize};

/// A product as Meilisearch stores it. Timestamps are unix **microseconds**: exact for what
/// the database keeps, and below 2^53, so Meilisearch (which compares numbers as `f64`)
/// filters and sorts them exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ProductDocument {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub tags: Vec<String>,
    pub price_minor: i64,
    pub currency: String,
    pub status: String,
    pub asset: Option<AssetDocument>,
    pub preview_image_url: Option<String>,
    /// Absent from documents indexed before products had covers.
    #[serde(default)]
    pub cover: Option<CoverDocument>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
    pub version: i64,
}

/// A product's file inside a [`ProductDocument`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AssetDocument {
    pub key: String,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256_hex: String,
}

/// A product's cover inside a [`ProductDocument`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CoverDocument {
    pub key: String,
    pub content_type: String,
    pub size: u64,
}

impl From<&Product> for ProductDocument {
    fn from(p: &Product) -> Self {
        Self {
            id: p.id.to_string(),
            slug: p.slug.as_str().to_owned(),
            title: p.title.as_str().to_owned(),
            description: p.description.as_str().to_owned(),
            category: p.category.as_str().to_owned(),
            tags: p
                .tags
                .as_slice()
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            price_minor: p.price.amount_minor(),
            currency: p.price.currency().as_str().to_owned(),
            status: p.status.as_str().to_owned(),
            asset: p.asset.as_ref().map(|a| AssetDocument {
                key: a.key.as_str().to_owned(),
                file_name: a.file_name.as_str().to_owned(),
                content_type: a.content_type.clone(),
                size: a.size,
                sha256_hex: a.sha256_hex.clone(),
            }),
            preview_image_url: p.preview_image_url.as_ref().map(|u| u.as_str().to_owned()),
            cover: p.cover.as_ref().map(|c| CoverDocument {
                key: c.key.clone(),
                content_type: c.content_type.clone(),
                size: c.size,
            }),
            created_by: p.created_by.to_string(),
            created_at: p.created_at.timestamp_micros(),
            updated_at: p.updated_at.timestamp_micros(),
            published_at: p.published_at.map(|t| t.timestamp_micros()),
            version: p.version,
        }
    }
}

impl ProductDocument {
    /// Rebuilds the product through the catalog's constructors.
    ///
    /// # Errors
    /// `Unexpected` naming the first field that breaks a rule.
    pub(crate) fn into_product(self) -> Result<Product, CatalogError> {
        let asset = self
            .asset
            .map(|a| {
                Ok::<_, CatalogError>(ProductAsset {
                    key: AssetKey::parse(&a.key).map_err(bad("asset.key"))?,
                    file_name: FileName::parse(&a.file_name).map_err(bad("asset.file_name"))?,
                    content_type: a.content_type,
                    size: a.size,
                    sha256_hex: a.sha256_hex,
                })
            })
            .transpose()?;
        let currency = Currency::parse(&self.currency).map_err(bad("currency"))?;
        Ok(Product {
            id: self.id.parse::<ProductId>().map_err(bad("id"))?,
            slug: Slug::parse(&self.slug).map_err(bad("slug"))?,
            title: ProductTitle::parse(&self.title).map_err(bad("title"))?,
            description: ProductDescription::parse(&self.description)
                .map_err(bad("description"))?,
            price: Money::new(self.price_minor, currency).map_err(bad("price_minor"))?,
            category: Category::parse(&self.category).map_err(bad("category"))?,
            tags: tags(&self.tags)?,
            status: self
                .status
                .parse::<ProductStatus>()
                .map_err(bad("status"))?,
            asset,
            preview_image_url: self
                .preview_image_url
                .as_deref()
                .map(PreviewUrl::parse)
                .transpose()
                .map_err(bad("preview_image_url"))?,
            cover: self.cover.map(|c| StoredImage {
                key: c.key,
                content_type: c.content_type,
                size: c.size,
            }),
            created_by: self
                .created_by
                .parse::<UserId>()
                .map_err(bad("created_by"))?,
            created_at: micros(self.created_at, "created_at")?,
            updated_at: micros(self.updated_at, "updated_at")?,
            published_at: self
                .published_at
                .map(|t| micros(t, "published_at"))
                .transpose()?,
            version: self.version,
        })
    }
}

fn tags(raw: &[String]) -> Result<Tags, CatalogError> {
    Tags::parse(raw).map_err(bad("tags"))
}

fn micros(value: i64, field: &'static str) -> Result<DateTime<Utc>, CatalogError> {
    DateTime::from_timestamp_micros(value).ok_or_else(|| {
        Unexpected::msg(format!("a Meilisearch product document has a bad {field}")).into()
    })
}

/// A `map_err` closure for a field of a stored document that breaks a domain rule.
fn bad<E>(field: &'static str) -> impl FnOnce(E) -> CatalogError
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |e| {
        Unexpected::new(
            format!("a Meilisearch product document has a bad {field}"),
            e,
        )
        .into()
    }
}
