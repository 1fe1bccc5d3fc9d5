//! Site feedback, product reviews and their moderation.

pub mod dto;
pub mod handlers;

pub use handlers::configure;
