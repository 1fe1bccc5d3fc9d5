#![doc = include_str!("../README.md")]

mod jwt;
mod password;
mod visitor;

pub use jwt::{InvalidJwtConfig, JwtConfig, JwtTokenIssuer};
pub use password::{BcryptPasswordHasher, InvalidCost};
pub use visitor::Sha256VisitorHasher;
