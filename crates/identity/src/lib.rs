#![doc = include_str!("../README.md")]

mod error;
mod events;
mod ids;
mod mailing;
mod model;
pub mod permissions;
mod ports;
mod service;
#[cfg(any(test, feature = "mocks"))]
pub mod testing;

pub use error::{IdentityError, PasswordRule};
pub use events::{CodeIssued, EmailVerified, RegistrationRepeated, UserRegistered};
pub use ids::{SessionFamilyId, SessionId};
pub use mailing::{
    AccountExistsMailSubscriber, OtpMailSubscriber, WelcomeMailSubscriber, message_id,
};
pub use model::{
    AccessClaims, AccessGrant, AuthSession, IssuedAccessToken, LoginResult, NewStaffUser,
    OneTimeCode, OtpOutcome, OtpPurpose, Password, PasswordHash, RefreshSession, RegisterUser,
    UnknownOtpPurpose, UpdateProfile, UpdateUser, User, UserFilter,
};
pub use ports::{
    CodeStore, IdentityTx, IdentityUnitOfWork, OtpStore, PasswordHasher, SessionStore, TokenIssuer,
    UserRepository, UserStore,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{
    MockCodeStore, MockIdentityUnitOfWork, MockOtpStore, MockPasswordHasher, MockSessionStore,
    MockTokenIssuer, MockUserRepository, MockUserStore,
};
pub use service::{BootstrapOutcome, IdentityConfig, IdentityService};
