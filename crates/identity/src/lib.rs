#![doc = include_str!("../README.md")]

mod client;
mod erasure;
mod error;
mod events;
mod ids;
mod invites;
mod mailing;
mod model;
mod oauth;
pub mod permissions;
mod ports;
mod recovery;
mod service;
mod sessions;
#[cfg(any(test, feature = "mocks"))]
pub mod testing;
mod totp;

pub use client::{ClientInfo, device_label, ip_prefix};
#[cfg(any(test, feature = "mocks"))]
pub use erasure::MockCredentialEraser;
pub use erasure::{AccountErased, CredentialEraser, ErasureProof, erased_email, erased_names};
pub use error::{IdentityError, PasswordRule};
pub use events::{
    AccountLinkIssued, CodeIssued, EmailChangeRequested, EmailChanged, EmailVerified,
    IdentityLinked, PasswordReset, RegistrationRepeated, UserRegistered,
};
pub use ids::{SessionFamilyId, SessionId};
pub use mailing::{
    AccountExistsMailSubscriber, AccountLinkMailSubscriber, EmailChangeNoticeSubscriber,
    IdentityLinkedNoticeSubscriber, OtpMailSubscriber, WelcomeMailSubscriber, message_id,
};
pub use model::{
    AccessClaims, AccessGrant, AccountLink, AuthSession, IssuedAccessToken, LinkPurpose,
    LiveCaller, LoginResult, NewStaffUser, OneTimeCode, OtpOutcome, OtpPurpose, Password,
    PasswordHash, RefreshSession, RegisterUser, SessionSummary, StaffInvite, UnknownLinkPurpose,
    UnknownOtpPurpose, UpdateProfile, UpdateUser, User, UserFilter,
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
pub use totp::{
    Authenticator, ChallengeIssued, MfaChallenge, RECOVERY_CODES, SecondFactor, SignIn,
    TOTP_STEP_SECONDS, TOTP_WINDOW, TotpEnrolment, TotpSetup, TotpStore, TwoFactor, base32,
    is_staff, otpauth_uri, step_of,
};
#[cfg(any(test, feature = "mocks"))]
pub use totp::{MockAuthenticator, MockTotpStore};
