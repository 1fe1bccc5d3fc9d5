//! SeaORM mappings of the tables this crate reads and writes, as the migrations create them.
//! They are storage shapes only: repositories turn them into domain values with the domain
//! constructors, and they never leave this crate's public repository API.

pub mod account_link;
pub mod mfa_challenge;
pub mod oauth_state;
pub mod one_time_code;
pub mod refresh_token;
pub mod totp_recovery_code;
pub mod user;
pub mod user_identity;
pub mod user_totp;
