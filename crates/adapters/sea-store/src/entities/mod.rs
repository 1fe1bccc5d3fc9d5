//! SeaORM mappings of the tables the migrations create. They are storage shapes only:
//! repositories turn them into domain values with the domain constructors, and they never
//! leave this crate's public repository API.

pub mod cart;
pub mod credit_note;
pub mod credit_note_counter;
pub mod customer;
pub mod customer_count;
pub mod enquiry;
pub mod entitlement;
pub mod invoice_counter;
pub mod job;
pub mod one_time_code;
pub mod order;
pub mod order_line;
pub mod order_refund;
pub mod payment_event;
pub mod product;
pub mod refresh_token;
pub mod response;
pub mod response_event;
pub mod unapplied_payment;
pub mod user;
