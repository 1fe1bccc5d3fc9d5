#![doc = include_str!("../README.md")]

pub mod entities;

mod products;
mod sales;
mod uow;

pub use nexus_sea_support::DatabaseConnection;
pub use products::{SeaProductRepository, product_search_setup, product_search_statement};
pub use sales::SeaSalesLedger;
pub use uow::{SeaCatalogTx, SeaCatalogUnitOfWork};
