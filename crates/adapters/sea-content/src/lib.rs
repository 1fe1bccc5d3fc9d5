#![doc = include_str!("../README.md")]

pub mod entities;

mod pages;
mod uow;

pub use nexus_sea_support::DatabaseConnection;
pub use pages::SeaPageRepository;
pub use uow::{SeaContentTx, SeaContentUnitOfWork};
