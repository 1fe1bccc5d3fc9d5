#![doc = include_str!("../README.md")]

mod jwt;
mod password;
mod preview;
mod visitor;

pub use jwt::{InvalidJwtConfig, JwtConfig, JwtTokenIssuer};
pub use password::{BcryptPasswordHasher, InvalidCost};
pub use preview::HmacPreviewSigner;
pub use visitor::Sha256VisitorHasher;
