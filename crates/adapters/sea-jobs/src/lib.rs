#![doc = include_str!("../README.md")]

pub mod entities;

mod jobs;

pub use jobs::SeaJobStore;
pub use nexus_sea_support::DatabaseConnection;
