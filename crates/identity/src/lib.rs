#![doc = include_str!("../README.md")]

mod erasure;
mod error;
mod events;
mod ids;
mod mailing;
mod model;
mod oauth;
pub mod permissions;
mod ports;
mod recovery;
mod service;
#[cfg(any(test, feature = "mocks"))]
pub mod testing;

#[cfg(any(test, feature = "mocks"))]
pub use erasure::MockCredentialEraser;
pub use erasure::{AccountErased, CredentialEraser, ErasureProof, erased_email, erased_names};
pub use error::{IdentityError, PasswordRule};
pub use events::{
    AccountLinkIssued, CodeIssued, EmailChangeRequested, EmailChanged, EmailVerified,
    PasswordReset, RegistrationRepeated, UserRegistered,
};
pub use ids::{SessionFamilyId, SessionId};
pub use mailing::{
    AccountExistsMailSubscriber, AccountLinkMailSubscriber, EmailChangeNoticeSubscriber,
    OtpMailSubscriber, WelcomeMailSubscriber, message_id,
};
pub use model::{
    AccessClaims, AccessGrant, AccountLink, AuthSession, IssuedAccessToken, LinkPurpose,
    LoginResult, NewStaffUser, OneTimeCode, OtpOutcome, OtpPurpose, Password, PasswordHash,
    RefreshSession, RegisterUser, UnknownLinkPurpose, UnknownOtpPurpose, UpdateProfile, UpdateUser,
    User, UserFilter,
};
pub use oauth::{
    AuthorizationStart, AuthorizeRequest, IdentityProvider, LinkedIdentity, LinkedIdentityStore,
    OAuthError, OAuthPorts, OAuthProvider, OAuthService, OAuthState, OAuthStateStore, OAuthTx,
    OAuthUnitOfWork, ProviderProfile, SignInIntent, SignInMethods, UnknownProvider,
};
#[cfg(any(test, feature = "mocks"))]
pub use oauth::{
    MockLinkedIdentityStore, MockOAuthProvider, MockOAuthStateStore, MockOAuthUnitOfWork,
};
pub use ports::{
    CodeStore, IdentityTx, IdentityUnitOfWork, LinkStore, OtpStore, PasswordHasher, SessionRevoker,
    SessionStore, TokenIssuer, UserRepository, UserStore,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{
    MockCodeStore, MockIdentityUnitOfWork, MockLinkStore, MockOtpStore, MockPasswordHasher,
    MockSessionRevoker, MockSessionStore, MockTokenIssuer, MockUserRepository, MockUserStore,
};
pub use service::{BootstrapOutcome, IdentityConfig, IdentityService};
