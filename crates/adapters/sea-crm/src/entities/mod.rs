//! SeaORM mappings of the tables this crate reads and writes, as the migrations create them.
//! They are storage shapes only: repositories turn them into domain values with the domain
//! constructors, and they never leave this crate's public repository API.

pub mod customer;
pub mod customer_count;
pub mod customer_note;
pub mod enquiry;
pub mod response;
pub mod user;
