#![doc = include_str!("../README.md")]

pub mod db;
pub mod entities;

mod customers;
mod enquiries;
mod jobs;
mod otps;
mod responses;
mod sessions;
mod staff;
mod support;
mod users;

pub use customers::{SeaCustomerRepository, customer_page_statement};
pub use enquiries::SeaEnquiryRepository;
pub use jobs::SeaJobStore;
pub use otps::SeaOtpStore;
pub use responses::SeaResponseRepository;
pub use sea_orm::{DatabaseConnection, DbBackend};
pub use sessions::SeaSessionStore;
pub use staff::SeaStaffDirectory;
pub use users::SeaUserRepository;
