#![doc = include_str!("../README.md")]

mod config;
mod document;
mod search;

pub use config::{DEFAULT_INDEX, DEFAULT_TIMEOUT, InvalidMeiliConfig, MeiliApiKey, MeiliConfig};
pub use search::MeiliProductSearch;
