#![doc = include_str!("../README.md")]

mod error;
mod mailing;
mod model;
mod ports;
mod service;

pub use error::{IdentityError, PasswordRule};
pub use mailing::{AccountExistsMailHandler, OtpMailHandler, WelcomeMailHandler, message_id};
pub use model::{
    AccessClaims, AccessGrant, AuthSession, IssuedAccessToken, LoginResult, NewStaffUser,
    OneTimeCode, OtpOutcome, OtpPurpose, Password, PasswordHash, RefreshSession, RegisterUser,
    UnknownOtpPurpose, UpdateProfile, UpdateUser, User, UserFilter,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{
    MockOtpStore, MockPasswordHasher, MockSessionStore, MockTokenIssuer, MockUserRepository,
};
pub use ports::{OtpStore, PasswordHasher, SessionStore, TokenIssuer, UserRepository};
pub use service::{BootstrapOutcome, IdentityConfig, IdentityService};
