#![doc = include_str!("../README.md")]

pub mod entities;

mod buyers;
mod carts;
mod counters;
mod orders;
mod uow;

pub use buyers::SeaBuyerDirectory;
pub use carts::SeaCartStore;
pub use nexus_sea_support::DatabaseConnection;
pub use orders::{SeaEntitlementRepository, SeaOrderRepository, SeaProductCatalog};
pub use uow::{SeaOrdersTx, SeaOrdersUnitOfWork};
