#![doc = include_str!("../README.md")]

pub mod entities;

mod pages;
mod posts;
mod team;
mod uow;

pub use nexus_sea_support::DatabaseConnection;
pub use pages::SeaPageRepository;
pub use posts::{SeaPostRepository, post_search_statement};
pub use team::SeaTeamRepository;
pub use uow::{SeaContentTx, SeaContentUnitOfWork};
