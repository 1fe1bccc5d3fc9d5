#![doc = include_str!("../README.md")]

mod reader;

pub use nexus_sea_support::DatabaseConnection;
pub use reader::SeaDashboardReader;
