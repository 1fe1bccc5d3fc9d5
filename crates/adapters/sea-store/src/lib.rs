#![doc = include_str!("../README.md")]

pub mod db;
pub mod entities;

mod buyers;
mod carts;
mod customers;
mod enquiries;
mod jobs;
mod orders;
mod otps;
mod products;
mod responses;
mod sessions;
mod staff;
mod support;
mod users;

pub use buyers::SeaBuyerDirectory;
pub use carts::SeaCartStore;
pub use customers::{SeaCustomerRepository, customer_page_statement};
pub use enquiries::SeaEnquiryRepository;
pub use jobs::SeaJobStore;
pub use orders::{SeaEntitlementRepository, SeaOrderRepository, SeaProductCatalog};
pub use otps::SeaOtpStore;
pub use products::{SeaProductRepository, product_search_setup, product_search_statement};
pub use responses::SeaResponseRepository;
pub use sea_orm::{DatabaseConnection, DbBackend};
pub use sessions::SeaSessionStore;
pub use staff::SeaStaffDirectory;
pub use users::SeaUserRepository;
