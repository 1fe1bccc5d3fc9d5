#![doc = include_str!("../README.md")]

pub mod entities;

mod customers;
mod enquiries;
mod notes;
mod staff;
mod timeline;

pub use customers::{SeaCustomerRepository, customer_page_statement};
pub use enquiries::SeaEnquiryRepository;
pub use nexus_sea_support::DatabaseConnection;
pub use notes::SeaNoteRepository;
pub use staff::SeaStaffDirectory;
pub use timeline::{SeaTimelineReader, timeline_query_statement};
