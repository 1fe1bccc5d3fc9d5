//! Sign-in with Google and GitHub, and the identities linked to one's account.

pub mod dto;
pub mod handlers;

pub use handlers::configure;
