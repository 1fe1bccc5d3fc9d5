#![doc = include_str!("../README.md")]

pub mod entities;

mod enquiry_lookup;
mod responses;
mod staff;
mod uow;

pub use enquiry_lookup::SeaEnquiryLookup;
pub use nexus_sea_support::DatabaseConnection;
pub use responses::SeaResponseRepository;
pub use staff::SeaStaffContacts;
pub use uow::{SeaApprovalsTx, SeaApprovalsUnitOfWork};
