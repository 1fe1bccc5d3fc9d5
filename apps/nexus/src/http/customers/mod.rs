//! Customer endpoints.

pub mod dto;
pub mod handlers;
pub mod notes;

pub use handlers::configure;
