//! CMS pages: the public read and preview, and the staff routes under `/admin/pages` and
//! `/admin/content/audit`.

mod block_schema;
pub mod dto;
pub mod handlers;

pub use handlers::configure;
