//! Response (approval workflow) endpoints.

pub mod dto;
pub mod handlers;

pub use handlers::configure;
