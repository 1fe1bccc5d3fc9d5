//! The one pagination shape: `{data, meta: {total, page, limit, totalPages}}`.

use nexus_kernel::Page;
use serde::Serialize;
use utoipa::ToSchema;

/// Counts for a page.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageMeta {
    /// Rows matching in total.
    pub total: u64,
    /// This page (1-based).
    pub page: u32,
    /// Page size (at most 100).
    pub limit: u32,
    /// Number of pages.
    pub total_pages: u64,
}

/// A page of rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageResponse<T> {
    /// The rows.
    pub data: Vec<T>,
    /// Counts.
    pub meta: PageMeta,
}

impl<T> PageResponse<T> {
    /// Converts a domain page, mapping each row.
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        let meta = PageMeta {
            total: page.total,
            page: page.request.page(),
            limit: page.request.limit(),
            total_pages: page.total_pages(),
        };
        Self {
            data: page.items.into_iter().map(f).collect(),
            meta,
        }
    }
}
