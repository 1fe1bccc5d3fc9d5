//! Black-box tests of the HTTP API: one module per area, each test on its own app and database.

mod auth;
mod cache;
mod carts;
mod catalog;
mod contract;
mod customers;
mod deploy;
mod enquiries;
mod faults;
mod feedback;
mod instances;
mod jobs;
mod limits;
mod matrix;
mod money;
mod oauth;
mod observability;
mod otp;
mod pages;
mod platform;
mod posts;
mod purchase;
mod reconcile;
mod recovery;
mod redirects;
mod responses;
mod seed;
mod seo;
mod shutdown;
mod site;
mod team;
mod timeline;
mod uploads;
mod users;

mod analytics;
