//! SeaORM mappings of the tables this crate reads and writes, as the migrations create them.
//! They are storage shapes only: repositories turn them into domain values with the domain
//! constructors, and they never leave this crate's public repository API.

pub mod cart;
pub mod credit_note;
pub mod credit_note_counter;
pub mod entitlement;
pub mod invoice_counter;
pub mod order;
pub mod order_line;
pub mod order_refund;
pub mod payment_event;
pub mod product;
pub mod unapplied_payment;
pub mod user;
