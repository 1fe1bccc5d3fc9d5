//! What the catalog records when a product changes. Each event carries the product's id
//! only: a subscriber re-reads the product, so it always acts on the current state.

use crate::ProductId;
use nexus_outbox::DomainEvent;
use serde::{Deserialize, Serialize};

/// A product was created (as a DRAFT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductCreated {
    /// The product.
    pub product_id: ProductId,
}

impl DomainEvent for ProductCreated {
    const NAME: &'static str = "catalog.product_created";
    const VERSION: u32 = 1;
}

/// A product changed: its fields, its status (published, archived, unpublished) or its
/// file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductUpdated {
    /// The product.
    pub product_id: ProductId,
}

impl DomainEvent for ProductUpdated {
    const NAME: &'static str = "catalog.product_updated";
    const VERSION: u32 = 1;
}

/// A product was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductDeleted {
    /// The product.
    pub product_id: ProductId,
}

impl DomainEvent for ProductDeleted {
    const NAME: &'static str = "catalog.product_deleted";
    const VERSION: u32 = 1;
}
