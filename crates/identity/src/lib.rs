#![doc = include_str!("../README.md")]

mod error;
mod model;
mod ports;
mod service;

pub use error::{IdentityError, PasswordRule};
pub use model::{
    AccessClaims, AccessGrant, AuthSession, IssuedAccessToken, LoginResult, NewStaffUser, Password,
    PasswordHash, RefreshSession, RegisterUser, UpdateProfile, UpdateUser, User, UserFilter,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockPasswordHasher, MockSessionStore, MockTokenIssuer, MockUserRepository};
pub use ports::{PasswordHasher, SessionStore, TokenIssuer, UserRepository};
pub use service::{BootstrapOutcome, IdentityConfig, IdentityService};
