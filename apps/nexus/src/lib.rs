#![doc = include_str!("../README.md")]

pub mod access;
pub mod cache;
pub mod cli;
pub mod feedback;
pub mod healthcheck;
pub mod http;
pub mod observability;
pub mod proxy;
pub mod rate_limit;
pub mod readiness;
pub mod secrets;
pub mod seed;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod worker;

pub use startup::{Application, StartupError};

/// Installs the process-wide TLS crypto provider (ring) once. The workspace builds rustls
/// without a default provider (to avoid a second, C-built one), so any TLS client that does
/// not bring its own configuration needs this before it is built. Idempotent.
pub fn install_crypto_provider() {
    // An `Err` means a provider is already installed, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
