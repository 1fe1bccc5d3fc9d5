#![doc = include_str!("../README.md")]

mod error;
mod https;
mod local;
mod s3;

pub use error::StoreConfigError;
pub use local::LocalAssetStore;
pub use s3::{S3AssetStore, S3Config, SecretAccessKey};
