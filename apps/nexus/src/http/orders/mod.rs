//! Marketplace endpoints: cart, checkout, orders, payments, webhooks, library, downloads.

pub mod dto;
pub mod handlers;

pub use handlers::configure;
