#![doc = include_str!("../README.md")]

mod error;
mod mail;
mod ports;

pub use error::{MailError, NotificationsError};
pub use mail::{EmailMessage, EmailTemplate, RenderedEmail};
pub use ports::{EmailRenderer, Mailer};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockEmailRenderer, MockMailer};
