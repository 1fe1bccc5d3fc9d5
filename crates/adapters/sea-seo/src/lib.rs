#![doc = include_str!("../README.md")]

pub mod entities;

mod findings;
mod redirects;
mod scans;

pub use findings::SeaFindingsStore;
pub use redirects::{SeaRedirectRepository, SeaRedirectTx, SeaRedirectUnitOfWork};
pub use scans::{AUDIT_ENTITY_SCAN, SeaScanQueue};
