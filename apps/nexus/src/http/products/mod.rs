//! Catalog endpoints.

pub mod dto;
pub mod handlers;

pub use handlers::configure;
