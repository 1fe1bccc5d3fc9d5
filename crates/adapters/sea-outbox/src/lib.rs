#![doc = include_str!("../README.md")]

pub mod entities;
mod store;

pub use store::SeaDeliveryStore;
