//! User endpoints.

pub mod dto;
pub mod handlers;
pub mod privacy;

pub use handlers::configure;
