use std::sync::Arc;

use crate::ProductId;
use chrono::Duration;
use nexus_kernel::{
    Actor, AuditRecord, Clock, Currency, Money, Page, PageRequest, Permission, Unexpected,
    summarize_values,
};
use serde_json::{Value, json};
use uuid::Uuid;

use nexus_outbox::{DomainEvent, EventEnvelope};

use crate::events::{ProductCreated, ProductDeleted, ProductUpdated};
use crate::images::{self, ImageRejection};
use crate::permissions::{PRODUCTS_MANAGE, PRODUCTS_READ_UNPUBLISHED};
use crate::{
    AssetError, AssetKey, AssetStore, CatalogConfig, CatalogError, CatalogUnitOfWork, FileName,
    NewProduct, Product, ProductAsset, ProductFilter, ProductQuery, ProductRef, ProductRepository,
    ProductSearch, ProductStatus, SalesLedger, SignedLink, StagedFile, StoredObject, UpdateProduct,
    UploadTicket,
};

/// The catalog's rules: who manages products, how they move between DRAFT, PUBLISHED and
/// ARCHIVED, what the public sees, and how product files are stored.
///
/// Every write goes through one unit of work that also records its event
/// (`catalog.product_created`, `catalog.product_updated` or `catalog.product_deleted`), so
/// what follows a write (the search index) happens after the commit, through the outbox.
pub struct ProductService {
    products: Arc<dyn ProductRepository>,
    uow: Arc<dyn CatalogUnitOfWork>,
    search: Arc<dyn ProductSearch>,
    sales: Arc<dyn SalesLedger>,
    assets: Arc<dyn AssetStore>,
    clock: Arc<dyn Clock>,
    config: CatalogConfig,
}

impl ProductService {
    /// How long a presigned upload link works.
    pub const UPLOAD_LINK_TTL: Duration = Duration::minutes(15);

    /// Builds the service from its ports and the file limits: `products` reads, `uow`
    /// writes.
    #[must_use]
    pub fn new(
        products: Arc<dyn ProductRepository>,
        uow: Arc<dyn CatalogUnitOfWork>,
        search: Arc<dyn ProductSearch>,
        sales: Arc<dyn SalesLedger>,
        assets: Arc<dyn AssetStore>,
        clock: Arc<dyn Clock>,
        config: CatalogConfig,
    ) -> Self {
        Self {
            products,
            uow,
            search,
            sales,
            assets,
            clock,
            config,
        }
    }

    /// The currency new products and price filters default to.
    #[must_use]
    pub fn store_currency(&self) -> Currency {
        self.config.store_currency()
    }

    /// The highest price accepted, in minor units.
    #[must_use]
    pub const fn max_price_minor(&self) -> i64 {
        self.config.max_price_minor
    }

    /// The currencies products may be priced in, the store currency first.
    #[must_use]
    pub fn currencies(&self) -> Vec<Currency> {
        if self.config.currencies.is_empty() {
            vec![Currency::INR]
        } else {
            self.config.currencies.clone()
        }
    }

    /// A price is in an accepted currency and below the ceiling, so carts of such
    /// products always add up.
    fn check_price(&self, price: Money) -> Result<(), CatalogError> {
        if !self.config.accepts(price.currency()) {
            let accepted = if self.config.currencies.is_empty() {
                Currency::INR.as_str().to_owned()
            } else {
                self.config
                    .currencies
                    .iter()
                    .map(Currency::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(CatalogError::CurrencyNotAccepted { accepted });
        }
        if price.amount_minor() > self.config.max_price_minor {
            return Err(CatalogError::PriceTooHigh {
                max: self.config.max_price_minor,
            });
        }
        Ok(())
    }

    /// Creates a DRAFT product, without a file, at version 1.
    ///
    /// # Errors
    /// `Forbidden`, `SlugTaken`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn create(&self, actor: &Actor, input: NewProduct) -> Result<Product, CatalogError> {
        require(actor, PRODUCTS_MANAGE)?;
        self.check_price(input.price)?;
        let now = self.clock.now();
        let product = Product {
            id: ProductId::new(),
            slug: input.slug,
            title: input.title,
            description: input.description,
            price: input.price,
            category: input.category,
            tags: input.tags,
            status: ProductStatus::Draft,
            asset: None,
            preview_image_url: input.preview_image_url,
            cover: None,
            created_by: actor.user_id(),
            created_at: now,
            updated_at: now,
            published_at: None,
            version: 1,
        };
        let mut tx = self.uow.begin().await?;
        tx.products().insert(&product).await?;
        tx.audit(AuditRecord::new(
            Some(actor),
            "products.created",
            "product",
            product.id,
            summarize_values(None, &audit_view(&product)),
            now,
        ));
        tx.record(envelope(
            &ProductCreated {
                product_id: product.id,
            },
            now,
        )?);
        tx.commit().await?;
        tracing::info!(product_id = %product.id, "product created");
        Ok(product)
    }

    /// Applies a partial change if the product is still at `expected_version`.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict` (stale version), `InvalidTransition` (ARCHIVED),
    /// `SlugTaken`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %id))]
    pub async fn update(
        &self,
        actor: &Actor,
        id: ProductId,
        expected_version: i64,
        change: UpdateProduct,
    ) -> Result<Product, CatalogError> {
        require(actor, PRODUCTS_MANAGE)?;
        let mut product = self.load(id).await?;
        if product.version != expected_version {
            return Err(CatalogError::Conflict);
        }
        product.ensure_editable("edit")?;
        let before = audit_view(&product);
        let old_price = product.price;
        if let Some(v) = change.slug {
            product.slug = v;
        }
        if let Some(v) = change.title {
            product.title = v;
        }
        if let Some(v) = change.description {
            product.description = v;
        }
        if let Some(v) = change.price {
            self.check_price(v)?;
            product.price = v;
        }
        if let Some(v) = change.category {
            product.category = v;
        }
        if let Some(v) = change.tags {
            product.tags = v;
        }
        if let Some(v) = change.preview_image_url {
            product.preview_image_url = v;
        }
        let action = if product.price == old_price {
            "products.updated"
        } else {
            "products.price_changed"
        };
        self.save(
            &mut product,
            expected_version,
            Some((actor, action, before)),
        )
        .await?;
        Ok(product)
    }

    /// Puts a DRAFT or ARCHIVED product with a file on sale. A free product (price 0) may
    /// be published.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidTransition` (already PUBLISHED), `AssetMissing`,
    /// `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %id))]
    pub async fn publish(&self, actor: &Actor, id: ProductId) -> Result<Product, CatalogError> {
        require(actor, PRODUCTS_MANAGE)?;
        let mut product = self.load(id).await?;
        let expected = product.version;
        let before = audit_view(&product);
        product.publish(self.clock.now())?;
        self.save(
            &mut product,
            expected,
            Some((actor, "products.published", before)),
        )
        .await?;
        tracing::info!("product published");
        Ok(product)
    }

    /// Retires a DRAFT or PUBLISHED product: off the public catalog, read-only, still
    /// downloadable by those who bought it.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidTransition` (already ARCHIVED), `Conflict`,
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %id))]
    pub async fn archive(&self, actor: &Actor, id: ProductId) -> Result<Product, CatalogError> {
        require(actor, PRODUCTS_MANAGE)?;
        let mut product = self.load(id).await?;
        let expected = product.version;
        let before = audit_view(&product);
        product.archive()?;
        self.save(
            &mut product,
            expected,
            Some((actor, "products.archived", before)),
        )
        .await?;
        tracing::info!("product archived");
        Ok(product)
    }

    /// Takes a PUBLISHED product that never sold back to DRAFT.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidTransition` (not PUBLISHED), `ProductSold`,
    /// `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %id))]
    pub async fn unpublish(&self, actor: &Actor, id: ProductId) -> Result<Product, CatalogError> {
        require(actor, PRODUCTS_MANAGE)?;
        let mut product = self.load(id).await?;
        let expected = product.version;
        let before = audit_view(&product);
        product.unpublish()?;
        if self.sales.has_sales(id).await? {
            return Err(CatalogError::ProductSold);
        }
        self.save(
            &mut product,
            expected,
            Some((actor, "products.unpublished", before)),
        )
        .await?;
        tracing::info!("product unpublished");
        Ok(product)
    }

    /// Deletes a product that never sold, and then its file. A sold product is never
    /// deleted: buyers keep their downloads, so it can only be archived.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `ProductSold`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %id))]
    pub async fn delete(&self, actor: &Actor, id: ProductId) -> Result<(), CatalogError> {
        require(actor, PRODUCTS_MANAGE)?;
        let product = self.load(id).await?;
        if self.sales.has_sales(id).await? {
            return Err(CatalogError::ProductSold);
        }
        let mut tx = self.uow.begin().await?;
        if !tx.products().delete(id).await? {
            return Err(CatalogError::NotFound);
        }
        tx.audit(AuditRecord::new(
            Some(actor),
            "products.deleted",
            "product",
            id,
            json!({ "before": audit_view(&product) }),
            self.clock.now(),
        ));
        tx.record(envelope(
            &ProductDeleted { product_id: id },
            self.clock.now(),
        )?);
        tx.commit().await?;
        if let Some(asset) = product.asset {
            self.discard(&asset.key).await;
        }
        if let Some(cover) = product.cover {
            images::discard_image(self.assets.as_ref(), &cover.key).await;
        }
        tracing::info!("product deleted");
        Ok(())
    }

    /// A PUBLISHED product, by id or slug, for anyone.
    ///
    /// # Errors
    /// `NotFound` when there is none or it is not PUBLISHED; `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn get_public(&self, reference: &ProductRef) -> Result<Product, CatalogError> {
        let found = match reference {
            ProductRef::Id(id) => self.products.find(*id).await?,
            ProductRef::Slug(slug) => self.products.find_by_slug(slug).await?,
        };
        found
            .filter(Product::is_public)
            .ok_or(CatalogError::NotFound)
    }

    /// One page of the public catalog (PUBLISHED products only), for anyone.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn list_public(
        &self,
        query: ProductQuery,
        page: PageRequest,
    ) -> Result<Page<Product>, CatalogError> {
        self.search.search(&query, page).await
    }

    /// How many products are PUBLISHED, for anyone (the sitemap's size).
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn count_published(&self) -> Result<u64, CatalogError> {
        self.products.count_published().await
    }

    /// Up to `limit` PUBLISHED products after `after` in id order, for anyone: a walk of
    /// the whole public catalog (the sitemap) that products published or removed meanwhile
    /// never shift.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn published_after(
        &self,
        after: Option<ProductId>,
        limit: u32,
    ) -> Result<Vec<Product>, CatalogError> {
        self.products.published_after(after, limit).await
    }

    /// A product in any status, for staff who manage the catalog.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %id))]
    pub async fn get_admin(&self, actor: &Actor, id: ProductId) -> Result<Product, CatalogError> {
        require(actor, PRODUCTS_READ_UNPUBLISHED)?;
        self.load(id).await
    }

    /// One page of products in any status, newest first, for staff who manage the catalog.
    ///
    /// # Errors
    /// `Forbidden`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn list_admin(
        &self,
        actor: &Actor,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<Product>, CatalogError> {
        require(actor, PRODUCTS_READ_UNPUBLISHED)?;
        self.products.list_admin(&filter, page).await
    }

    /// Decides, before any byte of an upload is read, whether `actor` may attach a file to
    /// product `id` now, and answers the product. Callers that receive a file call this
    /// first, so a caller who may not upload never makes the server read (or store) a body.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidTransition` (ARCHIVED), `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %id))]
    pub async fn authorize_asset_upload(
        &self,
        actor: &Actor,
        id: ProductId,
    ) -> Result<Product, CatalogError> {
        require(actor, PRODUCTS_MANAGE)?;
        let product = self.load(id).await?;
        product.ensure_editable("attach a file to")?;
        Ok(product)
    }

    /// The normalised MIME type (lower-case, no parameters) if product files of this type
    /// are accepted, so that a receiver can refuse a file before reading it.
    ///
    /// # Errors
    /// `ContentTypeNotAllowed`.
    pub fn accepted_content_type(&self, raw: &str) -> Result<String, CatalogError> {
        self.allowed_content_type(raw)
    }

    /// The largest product file accepted, in bytes.
    #[must_use]
    pub fn max_asset_bytes(&self) -> u64 {
        self.config.max_asset_bytes
    }

    /// Stores the staged `file` as the product's file (replacing the previous one, which is
    /// then deleted from the store) under `products/<id>/<uuid v7>-<sanitized name>`, and
    /// records the size and SHA-256 measured while it was staged. Every rule of
    /// [`authorize_asset_upload`](Self::authorize_asset_upload) is checked again, since the
    /// product may have changed while the file arrived.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidTransition` (ARCHIVED), `ContentTypeNotAllowed`,
    /// `AssetTooLarge`, `Conflict`, `Asset`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %id, size = file.size))]
    pub async fn attach_asset(
        &self,
        actor: &Actor,
        id: ProductId,
        file_name: FileName,
        content_type: &str,
        file: &StagedFile,
    ) -> Result<Product, CatalogError> {
        let product = self.authorize_asset_upload(actor, id).await?;
        let content_type = self.allowed_content_type(content_type)?;
        self.check_size(file.size)?;
        let key = asset_key(id, &file_name)?;
        let stored = self.assets.put_file(&key, file, &content_type).await?;
        self.record_asset(actor, product, stored, file_name, content_type)
            .await
    }

    /// A presigned PUT link for uploading the product's file straight to the store. The
    /// upload counts only once [`confirm_upload`](Self::confirm_upload) accepts it.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidTransition` (ARCHIVED), `ContentTypeNotAllowed`,
    /// `UploadLinkUnsupported` (the local store), `Asset`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %id))]
    pub async fn upload_link(
        &self,
        actor: &Actor,
        id: ProductId,
        file_name: FileName,
        content_type: &str,
    ) -> Result<UploadTicket, CatalogError> {
        require(actor, PRODUCTS_MANAGE)?;
        let product = self.load(id).await?;
        product.ensure_editable("attach a file to")?;
        let content_type = self.allowed_content_type(content_type)?;
        let key = asset_key(id, &file_name)?;
        let link = self
            .assets
            .upload_link(&key, &content_type, Self::UPLOAD_LINK_TTL, self.clock.now())
            .await?
            .ok_or(CatalogError::UploadLinkUnsupported)?;
        Ok(UploadTicket { key, link })
    }

    /// Records a file uploaded through [`upload_link`](Self::upload_link) as the product's
    /// file, after checking what the store holds (a presigned PUT cannot limit size). A file
    /// that breaks the limits is deleted from the store.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidTransition` (ARCHIVED),
    /// `Asset(AssetError::NotFound)` when nothing was uploaded or `key` is not one of this
    /// product's upload keys, `ContentTypeNotAllowed`, `AssetTooLarge`, `Conflict`,
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %id))]
    pub async fn confirm_upload(
        &self,
        actor: &Actor,
        id: ProductId,
        key: &AssetKey,
    ) -> Result<Product, CatalogError> {
        require(actor, PRODUCTS_MANAGE)?;
        let product = self.load(id).await?;
        product.ensure_editable("attach a file to")?;
        // Only a key this service handed out for this very product: anything else could
        // point at another product's file.
        let file_name =
            upload_file_name(id, key).ok_or(CatalogError::Asset(AssetError::NotFound))?;
        if product.asset.as_ref().is_some_and(|a| &a.key == key) {
            return Ok(product);
        }
        let stored = self
            .assets
            .head(key)
            .await?
            .ok_or(CatalogError::Asset(AssetError::NotFound))?;
        let checked = self
            .allowed_content_type(&stored.content_type)
            .and_then(|content_type| self.check_size(stored.size).map(|()| content_type));
        let content_type = match checked {
            Ok(content_type) => content_type,
            Err(err) => {
                self.discard(key).await;
                return Err(err);
            }
        };
        self.record_asset(actor, product, stored, file_name, content_type)
            .await
    }

    /// Checks that `actor` may change the cover of product `id` now. Callers that receive
    /// an image call this first, so a caller who may not upload never has a body read.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidTransition` (ARCHIVED), `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %id))]
    pub async fn authorize_cover(&self, actor: &Actor, id: ProductId) -> Result<(), CatalogError> {
        require(actor, PRODUCTS_MANAGE)?;
        self.load(id).await?.ensure_editable("change the cover of")
    }

    /// Stores `bytes` as the product's cover (a PNG, JPEG or WebP by its first bytes, at
    /// most [`MAX_IMAGE_BYTES`](crate::MAX_IMAGE_BYTES)) under a new key, then records it on
    /// the product read at `expected` (the current version when `None`). The cover it
    /// replaces is deleted from the store once the save commits; if the save fails, the
    /// new image is deleted instead.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidTransition` (ARCHIVED), `UnsupportedImage`,
    /// `ImageTooLarge`, `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %id))]
    pub async fn set_cover(
        &self,
        actor: &Actor,
        id: ProductId,
        expected: Option<i64>,
        bytes: Vec<u8>,
    ) -> Result<Product, CatalogError> {
        require(actor, PRODUCTS_MANAGE)?;
        let kind = images::check_image(&bytes).map_err(|rejection| match rejection {
            ImageRejection::TooLarge => CatalogError::ImageTooLarge {
                max: crate::MAX_IMAGE_BYTES,
            },
            ImageRejection::Unsupported => CatalogError::UnsupportedImage,
        })?;
        let mut product = self.load(id).await?;
        product.ensure_editable("change the cover of")?;
        let expected = expected.unwrap_or(product.version);
        if product.version != expected {
            return Err(CatalogError::Conflict);
        }
        let cover = images::store_image(
            self.assets.as_ref(),
            &format!("{}cover", key_prefix(id)),
            kind,
            bytes,
        )
        .await?;
        let new_key = cover.key.clone();
        let before = audit_view(&product);
        let previous = product.cover.replace(cover);
        let saved = self
            .save(
                &mut product,
                expected,
                Some((actor, "products.cover_changed", before)),
            )
            .await;
        images::settle_images(self.assets.as_ref(), saved.is_ok(), previous, new_key).await;
        saved.map(|()| product)
    }

    /// A short-lived link to the cover of a PUBLISHED product (by id or slug), for anyone.
    ///
    /// # Errors
    /// `NotFound` (no such published product, or it has no cover), `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn public_cover(&self, reference: &ProductRef) -> Result<SignedLink, CatalogError> {
        let cover = self
            .get_public(reference)
            .await?
            .cover
            .ok_or(CatalogError::NotFound)?;
        Ok(images::image_link(self.assets.as_ref(), &cover, self.clock.now()).await?)
    }

    /// The file of a product in any status, for serving downloads to those entitled to
    /// it (the orders crate decides who is).
    ///
    /// # Errors
    /// `NotFound`, `AssetMissing`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(product_id = %id))]
    pub async fn asset_of(&self, id: ProductId) -> Result<ProductAsset, CatalogError> {
        self.load(id).await?.asset.ok_or(CatalogError::AssetMissing)
    }

    /// A product in any status, or `None`, for other areas of the system that apply their
    /// own rules (the orders area prices carts and serves owners' downloads with it). It
    /// checks nobody's role, so it must never answer a client directly.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(product_id = %id))]
    pub async fn find_any(&self, id: ProductId) -> Result<Option<Product>, CatalogError> {
        self.products.find(id).await
    }

    async fn load(&self, id: ProductId) -> Result<Product, CatalogError> {
        self.products.find(id).await?.ok_or(CatalogError::NotFound)
    }

    /// Saves a changed product if it is still at `expected`, recording `ProductUpdated` in
    /// the same unit of work, and, given `(actor, action, view before)`, an audit record.
    async fn save(
        &self,
        product: &mut Product,
        expected: i64,
        audit: Option<(&Actor, &str, Value)>,
    ) -> Result<(), CatalogError> {
        product.version = expected + 1;
        product.updated_at = self.clock.now();
        let mut tx = self.uow.begin().await?;
        tx.products().update(product, expected).await?;
        if let Some((actor, action, before)) = audit {
            tx.audit(AuditRecord::new(
                Some(actor),
                action,
                "product",
                product.id,
                summarize_values(Some(&before), &audit_view(product)),
                product.updated_at,
            ));
        }
        tx.record(envelope(
            &ProductUpdated {
                product_id: product.id,
            },
            product.updated_at,
        )?);
        tx.commit().await
    }

    /// Saves `stored` as the product's file. If the save fails the new object is deleted;
    /// if it succeeds the replaced one is.
    async fn record_asset(
        &self,
        actor: &Actor,
        mut product: Product,
        stored: StoredObject,
        file_name: FileName,
        content_type: String,
    ) -> Result<Product, CatalogError> {
        let expected = product.version;
        let before = audit_view(&product);
        let asset = ProductAsset {
            key: stored.key,
            file_name,
            content_type,
            size: stored.size,
            sha256_hex: stored.sha256_hex,
        };
        let new_key = asset.key.clone();
        let previous = product.asset.replace(asset);
        if let Err(err) = self
            .save(
                &mut product,
                expected,
                Some((actor, "products.file_attached", before)),
            )
            .await
        {
            self.discard(&new_key).await;
            return Err(err);
        }
        if let Some(old) = previous.filter(|old| old.key != new_key) {
            self.discard(&old.key).await;
        }
        tracing::info!(key = %new_key, "product file recorded");
        Ok(product)
    }

    /// Deletes an object nobody references any more. Best effort: the product is already
    /// consistent, so a failure only leaves an orphan file, which is logged.
    async fn discard(&self, key: &AssetKey) {
        if let Err(error) = self.assets.delete(key).await {
            tracing::warn!(%key, %error, "could not delete an unreferenced product file");
        }
    }

    /// The normalised MIME type (lower-case, no parameters) if the configuration allows it.
    fn allowed_content_type(&self, raw: &str) -> Result<String, CatalogError> {
        let essence = raw
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let allowed = !essence.is_empty()
            && self
                .config
                .allowed_content_types
                .iter()
                .any(|t| t.trim().eq_ignore_ascii_case(&essence));
        if allowed {
            Ok(essence)
        } else {
            Err(CatalogError::ContentTypeNotAllowed)
        }
    }

    fn check_size(&self, size: u64) -> Result<(), CatalogError> {
        if size > self.config.max_asset_bytes {
            Err(CatalogError::AssetTooLarge {
                max: self.config.max_asset_bytes,
            })
        } else {
            Ok(())
        }
    }
}

/// `event`, which happened at `now`, ready to record.
fn envelope<E: DomainEvent>(
    event: &E,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<EventEnvelope, CatalogError> {
    Ok(EventEnvelope::new(event, now)?)
}

fn require(actor: &Actor, permission: Permission) -> Result<(), CatalogError> {
    if actor.can(permission) {
        Ok(())
    } else {
        Err(CatalogError::Forbidden)
    }
}

/// `products/<id>/`: every key of a product's files starts with it.
fn key_prefix(id: ProductId) -> String {
    format!("products/{id}/")
}

/// A fresh key for a file of product `id`: `products/<id>/<uuid v7>-<sanitized name>`. The
/// UUID keeps every upload distinct, so a replacement never overwrites a file in use.
fn asset_key(id: ProductId, file_name: &FileName) -> Result<AssetKey, CatalogError> {
    let raw = format!(
        "{}{}-{}",
        key_prefix(id),
        Uuid::now_v7(),
        file_name.sanitized()
    );
    AssetKey::parse(&raw)
        .map_err(|e| CatalogError::Unexpected(Unexpected::new("building a product file key", e)))
}

/// The file name encoded in a key [`asset_key`] made for product `id`; `None` for any
/// other key.
fn upload_file_name(id: ProductId, key: &AssetKey) -> Option<FileName> {
    let segment = key.as_str().strip_prefix(&key_prefix(id))?;
    let (uuid, name) = (segment.get(..36)?, segment.get(36..)?);
    let name = name.strip_prefix('-')?;
    if segment.contains('/') || Uuid::try_parse(uuid).is_err() {
        return None;
    }
    FileName::parse(name).ok()
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;

/// What the audit log shows of a product: its catalog fields and price, not its
/// description or files.
fn audit_view(product: &Product) -> Value {
    json!({
        "slug": product.slug,
        "title": product.title,
        "priceMinor": product.price.amount_minor(),
        "currency": product.price.currency(),
        "category": product.category,
        "tags": product.tags,
        "status": product.status.as_str(),
        "fileName": product.asset.as_ref().map(|a| a.file_name.as_str()),
        "fileSize": product.asset.as_ref().map(|a| a.size),
        "fileSha256": product.asset.as_ref().map(|a| a.sha256_hex.as_str()),
        "coverKey": product.cover.as_ref().map(|c| c.key.as_str()),
        "coverSize": product.cover.as_ref().map(|c| c.size),
    })
}
