//! Black-box tests of the HTTP API: one module per area, each test on its own app and database.

mod auth;
mod catalog;
mod contract;
mod customers;
mod enquiries;
mod jobs;
mod otp;
mod platform;
mod purchase;
mod responses;
mod users;
