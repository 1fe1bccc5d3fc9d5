//! Black-box tests of the HTTP API: one module per area, each test on its own app and database.

mod auth;
mod catalog;
mod customers;
mod enquiries;
mod jobs;
mod money;
mod otp;
mod platform;
mod purchase;
mod responses;
mod users;
