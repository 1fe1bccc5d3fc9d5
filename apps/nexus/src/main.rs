//! The `nexus` binary: loads settings, starts logging, runs the command.

use clap::Parser;
use nexus::cli::{Cli, run};
use nexus::settings::Settings;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nexus::install_crypto_provider();
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(errors) => return nexus::cli::report_invalid(&cli, &errors),
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
