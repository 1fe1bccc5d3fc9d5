#![doc = include_str!("../README.md")]

pub mod entities;

mod findings;
mod scans;

pub use findings::SeaFindingsStore;
pub use scans::{AUDIT_ENTITY_SCAN, SeaScanQueue};
