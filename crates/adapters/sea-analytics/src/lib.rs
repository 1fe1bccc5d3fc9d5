#![doc = include_str!("../README.md")]

mod salts;
mod sql;
mod store;

pub use nexus_sea_support::DatabaseConnection;
pub use salts::SeaSaltStore;
pub use store::SeaMetricsStore;
