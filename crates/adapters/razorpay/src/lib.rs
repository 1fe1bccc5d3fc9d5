#![doc = include_str!("../README.md")]

mod config;
mod development;
mod razorpay;
mod signature;
mod webhook;

pub use config::{DEFAULT_API_BASE, DEFAULT_TIMEOUT, InvalidRazorpayConfig, RazorpayConfig};
pub use development::{
    DEVELOPMENT_KEY_ID, DEVELOPMENT_ORDER_PREFIX, DEVELOPMENT_SIGNATURE, DevelopmentGateway,
};
pub use razorpay::RazorpayGateway;
