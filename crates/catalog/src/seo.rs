//! The catalog's products as the SEO rules see them, and the `audit_product_seo` subscriber
//! that audits a product again whenever it changes.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};
use nexus_seo::{SeoError, SeoService, SeoSource, SeoSubject, SubjectKind, generated_description};
use uuid::Uuid;

use crate::events::{ProductDeleted, ProductUpdated};
use crate::indexing::product_of;
use crate::{Product, ProductId, ProductRepository};

/// A product's storefront path.
#[must_use]
pub fn product_path(product: &Product) -> String {
    format!("/products/{}", product.slug.as_str())
}

/// The subject of a PUBLISHED product: its title; the meta description the public answer
/// carries (generated from its description, as a product has no field of its own for it);
/// its own path as canonical (the public answer serves it, absolute); its description as text. Products have no alternative text
/// for their preview image, so no image is checked.
#[must_use]
pub fn product_subject(product: &Product) -> SeoSubject {
    SeoSubject {
        kind: SubjectKind::Product,
        id: product.id.as_uuid(),
        path: product_path(product),
        slug: product.slug.as_str().to_owned(),
        title: product.title.as_str().to_owned(),
        meta_title: None,
        meta_description: generated_description(product.description.as_str()),
        canonical: Some(product_path(product)),
        text: product.description.as_str().to_owned(),
        images: Vec::new(),
        links: Vec::new(),
    }
}

fn unexpected(err: crate::CatalogError) -> SeoError {
    SeoError::Unexpected(nexus_kernel::Unexpected::new(
        "reading products for SEO",
        err,
    ))
}

/// The catalog's PUBLISHED products, for the SEO service.
pub struct CatalogSeoSource {
    products: Arc<dyn ProductRepository>,
}

impl CatalogSeoSource {
    /// Reads from `products`.
    #[must_use]
    pub fn new(products: Arc<dyn ProductRepository>) -> Self {
        Self { products }
    }
}

#[async_trait]
impl SeoSource for CatalogSeoSource {
    fn kind(&self) -> SubjectKind {
        SubjectKind::Product
    }

    async fn published_after(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<SeoSubject>, SeoError> {
        let batch = self
            .products
            .published_after(after.map(ProductId::from_uuid), limit)
            .await
            .map_err(unexpected)?;
        Ok(batch.iter().map(product_subject).collect())
    }

    async fn published(&self, id: Uuid) -> Result<Option<SeoSubject>, SeoError> {
        let found = self
            .products
            .find(ProductId::from_uuid(id))
            .await
            .map_err(unexpected)?;
        Ok(found
            .filter(Product::is_public)
            .as_ref()
            .map(product_subject))
    }
}

/// Audits a product again after each write: its stored findings follow its current state,
/// and are dropped once it is no longer PUBLISHED or no longer exists. It re-reads the
/// product, so it is idempotent and order-independent.
pub struct AuditProductSeo {
    seo: Arc<SeoService>,
}

impl AuditProductSeo {
    /// The subscriber's name, also its job kind.
    pub const NAME: &'static str = "audit_product_seo";

    /// Audits with `seo`.
    #[must_use]
    pub fn new(seo: Arc<SeoService>) -> Self {
        Self { seo }
    }
}

#[async_trait]
impl Subscriber for AuditProductSeo {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![
            Subscription::to::<ProductUpdated>(),
            Subscription::to::<ProductDeleted>(),
        ]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let id = product_of(&delivery.event)?;
        self.seo
            .refresh(SubjectKind::Product, id.as_uuid())
            .await
            .map_err(|e| DeliveryError::Retryable(e.to_string()))
    }
}
