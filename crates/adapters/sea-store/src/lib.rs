#![doc = include_str!("../README.md")]

pub mod db;
pub mod entities;

mod customers;
mod sessions;
mod staff;
mod support;
mod users;

pub use customers::{SeaCustomerRepository, customer_page_statement};
pub use sea_orm::{DatabaseConnection, DbBackend};
pub use sessions::SeaSessionStore;
pub use staff::SeaStaffDirectory;
pub use users::SeaUserRepository;
