#![doc = include_str!("../README.md")]

pub mod entities;

mod erasure;
mod links;
mod oauth;
mod otps;
mod sessions;
mod totp;
mod uow;
mod users;

pub use nexus_sea_support::DatabaseConnection;
pub use oauth::{SeaLinkedIdentityStore, SeaOAuthStateStore, SeaOAuthTx, SeaOAuthUnitOfWork};
pub use otps::SeaOtpStore;
pub use sessions::SeaSessionStore;
pub use totp::SeaTotpStore;
pub use uow::{SeaIdentityTx, SeaIdentityUnitOfWork};
pub use users::SeaUserRepository;
