#![doc = include_str!("../README.md")]

mod error;
mod message;
mod outbox;
mod sender;
mod smtp;

pub use error::InvalidMailConfig;
pub use outbox::OutboxMailer;
pub use sender::Sender;
pub use smtp::SmtpMailer;
