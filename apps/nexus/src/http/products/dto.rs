//! Bodies of the product endpoints.

use chrono::{DateTime, Utc};
use nexus_catalog::{
    Category, NewProduct, PreviewUrl, PriceRange, Product, ProductDescription, ProductFilter,
    ProductQuery, ProductSort, ProductStatus, ProductTitle, SearchText, Slug, Tags, UpdateProduct,
};
use nexus_kernel::{Currency, Money};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::error::{ApiError, FieldErrors};
use crate::http::orders::dto::MoneyDto;
use crate::http::posts::dto::CoverResponse;
use crate::http::seo::dto::SeoBlockResponse;
use nexus_feedback::RatingSummary;
use nexus_seo::{OfferLd, ProductLd, RatingLd, SeoBlock, SeoInput, SeoSite, major_units};

/// The sold file, as staff see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetDto {
    /// Download name.
    pub file_name: String,
    /// MIME type.
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 (hex) of the stored object.
    pub sha256: String,
}

/// A product.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductResponse {
    /// Id.
    pub id: Uuid,
    /// URL slug (unique).
    pub slug: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Price.
    pub price: MoneyDto,
    /// Category.
    pub category: String,
    /// Tags.
    pub tags: Vec<String>,
    /// DRAFT, PUBLISHED or ARCHIVED.
    #[schema(value_type = crate::http::schema::ProductStatusDto)]
    pub status: String,
    /// The file sold (null until uploaded); details for staff only.
    pub asset: Option<AssetDto>,
    /// Whether a file is attached.
    pub has_asset: bool,
    /// Preview image, an absolute URL kept elsewhere.
    pub preview_image_url: Option<String>,
    /// The uploaded cover image (null until one is uploaded).
    pub cover: Option<CoverResponse>,
    /// The staff member who created the product; in staff views only (the public and
    /// customers never see staff ids).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Uuid>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Published at.
    pub published_at: Option<DateTime<Utc>>,
    /// Version, for `If-Match`.
    pub version: i64,
    /// The published reviews' mean and count; in the public list and detail only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<crate::http::feedback::dto::RatingDto>,
    /// What search engines and social cards are told; in the public detail only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seo: Option<SeoBlockResponse>,
}

/// Where the public gets a product's cover.
fn cover_url(id: nexus_catalog::ProductId) -> String {
    format!("/api/v1/products/{id}/cover")
}

/// The SEO block of a published product: a title and description generated from its
/// title and description (a product has no meta fields of its own), its canonical
/// `/products/<slug>`, its cover (else its preview image URL), and a schema.org `Product` whose `Offer` has the
/// price in major units, with an `AggregateRating` only once it has published ratings.
#[must_use]
pub fn product_seo(p: &Product, rating: &RatingSummary, site: &SeoSite) -> SeoBlock {
    let path = nexus_catalog::product_path(p);
    let image = p.cover.as_ref().map_or_else(
        || p.preview_image_url.as_ref().map(|u| u.as_str().to_owned()),
        |_| Some(cover_url(p.id)),
    );
    let block = SeoBlock::build(
        &SeoInput {
            title: p.title.as_str(),
            text: p.description.as_str(),
            path: &path,
            social_image: image.as_deref(),
            ..SeoInput::default()
        },
        site,
    );
    let data = ProductLd {
        name: p.title.as_str().to_owned(),
        description: block
            .meta_description
            .clone()
            .unwrap_or_else(|| p.description.as_str().to_owned()),
        sku: p.id.as_uuid().to_string(),
        image: block.social_image.clone(),
        offer: OfferLd {
            price: major_units(p.price.amount_minor()),
            currency: p.price.currency().as_str().to_owned(),
            in_stock: p.is_public(),
            url: block.canonical.clone(),
        },
        rating: (rating.count > 0).then(|| RatingLd {
            average: rating.average(),
            count: rating.count,
        }),
    }
    .to_json();
    block.with_structured_data(data)
}

impl ProductResponse {
    /// This view with the product's published rating.
    #[must_use]
    pub fn rated(mut self, rating: nexus_feedback::RatingSummary) -> Self {
        self.rating = Some(rating.into());
        self
    }

    /// This view with its SEO block.
    #[must_use]
    pub fn described(mut self, seo: SeoBlock) -> Self {
        self.seo = Some(seo.into());
        self
    }

    /// The staff view (with file details and the creator).
    #[must_use]
    pub fn staff(p: Product) -> Self {
        let mut out = Self::public(p.clone());
        out.created_by = Some(p.created_by.as_uuid());
        out.asset = p.asset.map(|a| AssetDto {
            file_name: a.file_name.as_str().to_owned(),
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256_hex,
        });
        out
    }

    /// The public view (no file details, no staff id).
    #[must_use]
    pub fn public(p: Product) -> Self {
        Self {
            id: p.id.as_uuid(),
            slug: p.slug.as_str().to_owned(),
            title: p.title.as_str().to_owned(),
            description: p.description.as_str().to_owned(),
            price: p.price.into(),
            category: p.category.as_str().to_owned(),
            tags: p
                .tags
                .as_slice()
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            status: p.status.as_str().to_owned(),
            has_asset: p.asset.is_some(),
            asset: None,
            preview_image_url: p.preview_image_url.map(|u| u.as_str().to_owned()),
            cover: p.cover.map(|c| CoverResponse {
                content_type: c.content_type,
                size: c.size,
                url: cover_url(p.id),
            }),
            created_by: None,
            created_at: p.created_at,
            updated_at: p.updated_at,
            published_at: p.published_at,
            version: p.version,
            rating: None,
            seo: None,
        }
    }
}

/// A new product (DRAFT until published).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateProductRequest {
    /// URL slug: lower-case letters, digits and hyphens.
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub slug: String,
    /// Title.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,198}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub title: String,
    /// Description.
    #[validate(length(max = 100_000))]
    #[schema(
        max_length = 20000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub description: Option<String>,
    /// Price in minor units (paise).
    #[serde(deserialize_with = "crate::http::extract::whole")]
    #[schema(minimum = 0)]
    pub price_minor: i64,
    /// Currency, one of `STORE_CURRENCIES` (default: the store currency, INR unless configured).
    #[schema(pattern = r"^\s*[A-Za-z]{3}\s*$")]
    pub currency: Option<String>,
    /// Category.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,58}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub category: String,
    /// Tags.
    #[validate(length(max = 100))]
    #[schema(max_items = 20, value_type = Option<Vec<crate::http::schema::TagText>>)]
    pub tags: Option<Vec<String>>,
    /// Preview image URL.
    #[validate(length(max = 4096))]
    #[schema(
        max_length = 500,
        pattern = r#"^[hH][tT][tT][pP][sS]?://[^/?#@\s"<>\\\u0000-\u001f\u007f-\u009f][^\s"<>\\\u0000-\u001f\u007f-\u009f]*$"#
    )]
    pub preview_image_url: Option<String>,
}

/// A partial change; carry the version read here or in `If-Match`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProductRequest {
    /// New slug.
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub slug: Option<String>,
    /// New title.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,198}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub title: Option<String>,
    /// New description.
    #[validate(length(max = 100_000))]
    #[schema(
        max_length = 20000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub description: Option<String>,
    /// New price in minor units.
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(minimum = 0)]
    pub price_minor: Option<i64>,
    /// Currency of the new price, one of `STORE_CURRENCIES` (default: the store currency).
    #[schema(pattern = r"^\s*[A-Za-z]{3}\s*$")]
    pub currency: Option<String>,
    /// New category.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,58}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub category: Option<String>,
    /// Replacement tags.
    #[validate(length(max = 100))]
    #[schema(max_items = 20, value_type = Option<Vec<crate::http::schema::TagText>>)]
    pub tags: Option<Vec<String>>,
    /// New preview URL, or null to clear.
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, nullable, max_length = 500, pattern = r#"^[hH][tT][tT][pP][sS]?://[^/?#@\s"<>\\\u0000-\u001f\u007f-\u009f][^\s"<>\\\u0000-\u001f\u007f-\u009f]*$"#)]
    pub preview_image_url: Option<Option<String>>,
    /// The version read.
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    pub version: Option<i64>,
}

/// Asks for a presigned upload link.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadLinkRequest {
    /// File name to store.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f/\\]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f/\\][^\u0000-\u001f\u007f-\u009f/\\]{0,253}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f/\\])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub file_name: String,
    /// MIME type the upload will send.
    #[validate(length(max = 255))]
    pub content_type: String,
}

/// A presigned upload link.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadLinkResponse {
    /// Key to confirm afterwards.
    pub key: String,
    /// PUT the file here with the same Content-Type.
    pub url: String,
    /// Until.
    pub expires_at: DateTime<Utc>,
}

/// Confirms a presigned upload.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmUploadRequest {
    /// The key from the upload link.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 512,
        pattern = r"^(?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-][A-Za-z0-9_.\-]*|\.{3,})(?:/(?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-][A-Za-z0-9_.\-]*|\.{3,}))*$"
    )]
    pub key: String,
}

/// Public catalog query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListProductsQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// Full-text search (typo-tolerant on PostgreSQL).
    #[param(
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u001f\u007f-\u009f]{0,198}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])?)?[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub q: Option<String>,
    /// Category.
    #[param(
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f]{0,58}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])?)?[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub category: Option<String>,
    /// Comma-separated tags; all must match.
    #[param(pattern = r"^\s*(?:[\w-]{1,32}\s*)?(?:,\s*(?:[\w-]{1,32}\s*)?)*$")]
    pub tags: Option<String>,
    /// Minimum price, minor units.
    #[param(minimum = 0)]
    pub min_price: Option<i64>,
    /// Maximum price, minor units.
    #[param(minimum = 0)]
    pub max_price: Option<i64>,
    /// relevance (default), price, -price or newest.
    #[param(pattern = r"^\s*(?:relevance|newest|price|price:asc|-price|price:desc)?\s*$")]
    pub sort: Option<String>,
}

/// Staff catalog query (all statuses).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AdminProductsQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// Text.
    #[param(
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u001f\u007f-\u009f]{0,198}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])?)?[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub q: Option<String>,
    /// DRAFT, PUBLISHED or ARCHIVED.
    #[param(value_type = Option<crate::http::schema::ProductStatusDto>)]
    pub status: Option<String>,
    /// Category.
    #[param(
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f]{0,58}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])?)?[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub category: Option<String>,
}

/// The price's currency: the one sent, else the store's.
fn currency(raw: Option<&str>, store: Currency) -> Result<Currency, String> {
    raw.map_or(Ok(store), |c| Currency::parse(c).map_err(|e| e.to_string()))
}

impl CreateProductRequest {
    /// The command, completed by the store currency a price without a currency is in.
    pub fn into_domain(self, store: Currency) -> Result<NewProduct, ApiError> {
        let r = self;
        let mut e = FieldErrors::default();
        let slug = e.check("slug", "invalid", Slug::parse(&r.slug));
        let title = e.check("title", "invalid", ProductTitle::parse(&r.title));
        let description = e.check(
            "description",
            "invalid",
            ProductDescription::parse(r.description.as_deref().unwrap_or_default()),
        );
        let price = e.check(
            "priceMinor",
            "invalid",
            currency(r.currency.as_deref(), store)
                .and_then(|c| Money::new(r.price_minor, c).map_err(|e| e.to_string())),
        );
        let category = e.check("category", "invalid", Category::parse(&r.category));
        let tags = e.check(
            "tags",
            "invalid",
            Tags::parse(r.tags.as_deref().unwrap_or_default()),
        );
        let preview = e.check_opt(
            "previewImageUrl",
            "url",
            r.preview_image_url.as_deref().map(PreviewUrl::parse),
        );
        let (
            Some(slug),
            Some(title),
            Some(description),
            Some(price),
            Some(category),
            Some(tags),
            Some(preview_image_url),
        ) = (slug, title, description, price, category, tags, preview)
        else {
            return Err(e.into_error());
        };
        Ok(NewProduct {
            slug,
            title,
            description,
            price,
            category,
            tags,
            preview_image_url,
        })
    }
}

impl UpdateProductRequest {
    /// The command, completed by the store currency a price without a currency is in.
    pub fn into_domain(self, store: Currency) -> Result<UpdateProduct, ApiError> {
        let r = self;
        let mut e = FieldErrors::default();
        let slug = e.check_opt("slug", "invalid", r.slug.as_deref().map(Slug::parse));
        let title = e.check_opt(
            "title",
            "invalid",
            r.title.as_deref().map(ProductTitle::parse),
        );
        let description = e.check_opt(
            "description",
            "invalid",
            r.description.as_deref().map(ProductDescription::parse),
        );
        let price = e.check_opt(
            "priceMinor",
            "invalid",
            r.price_minor.map(|m| {
                currency(r.currency.as_deref(), store)
                    .and_then(|c| Money::new(m, c).map_err(|e| e.to_string()))
            }),
        );
        let category = e.check_opt(
            "category",
            "invalid",
            r.category.as_deref().map(Category::parse),
        );
        let tags = e.check_opt("tags", "invalid", r.tags.as_deref().map(Tags::parse));
        let preview_image_url = match r.preview_image_url {
            None => Some(None),
            Some(None) => Some(Some(None)),
            Some(Some(u)) => e
                .check("previewImageUrl", "url", PreviewUrl::parse(&u))
                .map(|u| Some(Some(u))),
        };
        let (
            Some(slug),
            Some(title),
            Some(description),
            Some(price),
            Some(category),
            Some(tags),
            Some(preview_image_url),
        ) = (
            slug,
            title,
            description,
            price,
            category,
            tags,
            preview_image_url,
        )
        else {
            return Err(e.into_error());
        };
        Ok(UpdateProduct {
            slug,
            title,
            description,
            price,
            category,
            tags,
            preview_image_url,
        })
    }
}

impl ListProductsQuery {
    /// The filter, completed by the store currency price bounds are in.
    pub fn to_domain(&self, store: Currency) -> Result<ProductQuery, ApiError> {
        let q = self;
        let blank = crate::http::extract::non_blank;
        let mut e = FieldErrors::default();
        let text = e.check_opt("q", "invalid", blank(&q.q).map(|s| SearchText::parse(&s)));
        let category = e.check_opt(
            "category",
            "invalid",
            blank(&q.category).map(|s| Category::parse(&s)),
        );
        let tag_list: Vec<String> = blank(&q.tags)
            .map(|t| {
                t.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let tags = e.check("tags", "invalid", Tags::parse(&tag_list));
        let price = if q.min_price.is_some() || q.max_price.is_some() {
            e.check(
                "price",
                "invalid",
                PriceRange::new(store, q.min_price, q.max_price),
            )
            .map(Some)
        } else {
            Some(None)
        };
        let sort = e.check(
            "sort",
            "invalid",
            blank(&q.sort).map_or(Ok(ProductSort::default()), |s| s.parse::<ProductSort>()),
        );
        let (Some(text), Some(category), Some(tags), Some(price), Some(sort)) =
            (text, category, tags, price, sort)
        else {
            return Err(e.into_error());
        };
        Ok(ProductQuery {
            q: text,
            category,
            tags,
            price,
            sort,
        })
    }
}

impl TryFrom<&AdminProductsQuery> for ProductFilter {
    type Error = ApiError;

    fn try_from(q: &AdminProductsQuery) -> Result<Self, ApiError> {
        let blank = crate::http::extract::non_blank;
        let mut e = FieldErrors::default();
        let text = e.check_opt("q", "invalid", blank(&q.q).map(|s| SearchText::parse(&s)));
        let status = e.check_opt(
            "status",
            "invalid",
            blank(&q.status).map(|s| s.parse::<ProductStatus>()),
        );
        let category = e.check_opt(
            "category",
            "invalid",
            blank(&q.category).map(|s| Category::parse(&s)),
        );
        let (Some(q), Some(status), Some(category)) = (text, status, category) else {
            return Err(e.into_error());
        };
        Ok(Self {
            q,
            status,
            category,
        })
    }
}
