//! Catalog endpoints.

pub mod dto;
pub mod handlers;
pub mod upload;

pub use handlers::configure;
