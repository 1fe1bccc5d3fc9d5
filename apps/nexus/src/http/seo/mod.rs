//! SEO: the site report, each item's stored findings and on-demand scans, for staff with
//! the SEO permissions.

pub mod dto;
pub mod handlers;

pub use handlers::configure;
