//! Logging set-up: pretty or JSON lines, levels from `RUST_LOG`.

use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,actix_server=warn";

/// Starts the global subscriber once; later calls do nothing.
pub fn init(format: LogFormat) {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let filter =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false);
        let result = match format {
            LogFormat::Json => builder
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .try_init(),
            LogFormat::Pretty => builder.compact().try_init(),
        };
        // Another subscriber (a test harness) may already be installed; that is fine.
        drop(result);
    });
}

/// For tests: logs only when `TEST_LOG` is set, so test output stays readable.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        init(LogFormat::Pretty);
    }
}
