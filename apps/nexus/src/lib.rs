#![doc = include_str!("../README.md")]

pub mod cli;
pub mod http;
pub mod rate_limit;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod worker;

pub use startup::{Application, StartupError};
