#![doc = include_str!("../README.md")]

mod jwt;
mod password;

pub use jwt::{InvalidJwtConfig, JwtConfig, JwtTokenIssuer};
pub use password::{BcryptPasswordHasher, InvalidCost};
