#![doc = include_str!("../README.md")]

mod client;
mod config;
mod document;
mod posts;
mod search;

pub use config::{DEFAULT_INDEX, DEFAULT_TIMEOUT, InvalidMeiliConfig, MeiliApiKey, MeiliConfig};
pub use posts::{DEFAULT_POSTS_INDEX, MeiliPostSearch};
pub use search::MeiliProductSearch;
