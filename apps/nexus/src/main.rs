//! The `nexus` binary: loads settings, starts logging, runs the command.

use clap::Parser;
use nexus::cli::{Cli, run};
use nexus::settings::Settings;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nexus::install_crypto_provider();
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            nexus::telemetry::init(nexus::settings::LogFormat::Pretty);
            tracing::error!(error = %e, "invalid configuration");
            return std::process::ExitCode::FAILURE;
        }
    };
    nexus::telemetry::init(settings.log_format);
    match run(cli, settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "nexus failed");
            std::process::ExitCode::FAILURE
        }
    }
}
