#![doc = include_str!("../README.md")]

pub mod cli;
pub mod http;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use startup::{Application, StartupError};
