#![doc = include_str!("../README.md")]

pub mod append;
pub mod entities;
mod store;

pub use append::{TaskLocalRequestId, append_events, current_request_id, scope_request_id};
pub use store::SeaDeliveryStore;
