#![doc = include_str!("../README.md")]

pub mod entities;

mod ownership;
mod reader;
mod rows;
mod store;
mod uow;

pub use ownership::SeaOwnershipCheck;
pub use reader::SeaFeedbackReader;
pub use uow::{SeaFeedbackTx, SeaFeedbackUnitOfWork};
