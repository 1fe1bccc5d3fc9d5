#![doc = include_str!("../README.md")]

mod jwt;
mod password;
mod preview;
mod totp;
mod visitor;

pub use jwt::{InvalidJwtConfig, JwtConfig, JwtTokenIssuer};
pub use password::{BcryptPasswordHasher, InvalidCost};
pub use preview::HmacPreviewSigner;
pub use totp::TotpAuthenticator;
pub use visitor::Sha256VisitorHasher;
