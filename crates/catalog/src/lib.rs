#![doc = include_str!("../README.md")]

mod assets;

#[cfg(any(test, feature = "mocks"))]
pub use assets::MockAssetStore;
pub use assets::{AssetError, AssetKey, AssetStore, InvalidAssetKey, SignedLink, StoredObject};
