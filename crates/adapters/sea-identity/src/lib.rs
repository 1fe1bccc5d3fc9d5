#![doc = include_str!("../README.md")]

pub mod entities;

mod links;
mod otps;
mod sessions;
mod uow;
mod users;

pub use nexus_sea_support::DatabaseConnection;
pub use otps::SeaOtpStore;
pub use sessions::SeaSessionStore;
pub use uow::{SeaIdentityTx, SeaIdentityUnitOfWork};
pub use users::SeaUserRepository;
