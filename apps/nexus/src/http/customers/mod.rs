//! Customer endpoints.

pub mod dto;
pub mod handlers;
pub mod notes;
pub mod timeline;

pub use handlers::configure;
